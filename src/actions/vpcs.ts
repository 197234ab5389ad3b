/** VPC 2016-04-28: CreateVpc, DescribeVpcs, DeleteVpc. */
import { parseIpv4Cidr } from '../domain/cidr.js';
import type { Vpc } from '../domain/types.js';
import { createVpc as create, deleteVpc as remove } from '../domain/vpcs.js';
import { apiError } from '../errors.js';
import { type ActionDef, VPC } from './context.js';
import { parseDescription, parseName } from './fields.js';
import { mutate } from './idempotency.js';
import { numberedPage } from './paging.js';
import { Params } from './params.js';

export const createVpc: ActionDef = {
  version: VPC,
  name: 'CreateVpc',
  async run(svc, call) {
    const p = new Params(call.params);
    const regionId = p.region();
    const raw = p.opt('CidrBlock') ?? '172.16.0.0/12';
    const cidr = parseIpv4Cidr(raw);
    if (!cidr || !raw.includes('/') || cidr.prefix < 8 || cidr.prefix > 28) {
      throw apiError('InvalidCidrBlock.Malformed');
    }
    const name = parseName(p, 'VpcName', 'InvalidVpcName.Malformed') ?? '';
    const description = parseDescription(p) ?? '';
    return mutate(svc, call, p, async (tx) => {
      const vpc = await create(
        tx,
        { ownerUid: call.principal.uid, regionId, cidrBlock: cidr.text, name, description },
        svc.now(),
      );
      return {
        VpcId: vpc.id,
        VRouterId: vpc.id.replace(/^vpc-/, 'vrt-'),
        RouteTableId: vpc.id.replace(/^vpc-/, 'vtb-'),
        ResourceGroupId: '',
      };
    });
  },
};

export const describeVpcs: ActionDef = {
  version: VPC,
  name: 'DescribeVpcs',
  async run(svc, call) {
    const p = new Params(call.params);
    const regionId = p.region();
    const ids = p
      .opt('VpcId')
      ?.split(',')
      .map((s) => s.trim());
    const name = p.opt('VpcName');
    return svc.store.read(async (tx) => {
      const all = (await tx.listVpcs(call.principal.uid, regionId)).filter(
        (v: Vpc) => (!ids || ids.includes(v.id)) && (name === undefined || v.name === name),
      );
      const page = numberedPage(all, p);
      const vpcs = [];
      for (const v of page.items) {
        const vsw = await tx.listVSwitches(v.id);
        vpcs.push({
          VpcId: v.id,
          RegionId: v.regionId,
          Status: 'Available',
          VpcName: v.name,
          CreationTime: v.creationTime,
          CidrBlock: v.cidrBlock,
          Description: v.description,
          IsDefault: false,
          OwnerId: Number(v.ownerUid),
          VRouterId: v.id.replace(/^vpc-/, 'vrt-'),
          ResourceGroupId: '',
          VSwitchIds: { VSwitchId: vsw.map((s) => s.id) },
        });
      }
      return {
        TotalCount: all.length,
        PageNumber: page.pageNumber,
        PageSize: page.pageSize,
        Vpcs: { Vpc: vpcs },
      };
    });
  },
};

export const deleteVpc: ActionDef = {
  version: VPC,
  name: 'DeleteVpc',
  async run(svc, call) {
    const p = new Params(call.params);
    const regionId = p.region();
    const vpcId = p.req('VpcId');
    return mutate(svc, call, p, async (tx) => {
      await remove(tx, call.principal.uid, regionId, vpcId);
      return {};
    });
  },
};
