/** VPC 2016-04-28: CreateVSwitch, DescribeVSwitches, DeleteVSwitch. */
import { parseIpv4Cidr } from '../domain/cidr.js';
import {
  availableAddresses,
  createVSwitch as create,
  deleteVSwitch as remove,
} from '../domain/network.js';
import type { VSwitch } from '../domain/types.js';
import { apiError } from '../errors.js';
import { type ActionDef, VPC } from './context.js';
import { parseDescription, parseName } from './fields.js';
import { mutate } from './idempotency.js';
import { numberedPage } from './paging.js';
import { Params } from './params.js';

export const createVSwitch: ActionDef = {
  version: VPC,
  name: 'CreateVSwitch',
  async run(svc, call) {
    const p = new Params(call.params);
    const regionId = p.region();
    const vpcId = p.req('VpcId');
    const zoneId = p.req('ZoneId');
    const raw = p.req('CidrBlock');
    const cidr = parseIpv4Cidr(raw);
    if (!cidr || !raw.includes('/') || cidr.prefix < 16 || cidr.prefix > 29) {
      throw apiError('InvalidCidrBlock.Malformed');
    }
    const name = parseName(p, 'VSwitchName', 'InvalidVSwitchName.Malformed') ?? '';
    const description = parseDescription(p) ?? '';
    return mutate(svc, call, p, async (tx) => {
      const v = await create(
        tx,
        {
          ownerUid: call.principal.uid,
          regionId,
          vpcId,
          zoneId,
          cidrBlock: cidr.text,
          name,
          description,
        },
        svc.now(),
      );
      return { VSwitchId: v.id };
    });
  },
};

export const describeVSwitches: ActionDef = {
  version: VPC,
  name: 'DescribeVSwitches',
  async run(svc, call) {
    const p = new Params(call.params);
    const regionId = p.region();
    const vpcId = p.opt('VpcId');
    const ids = p
      .opt('VSwitchId')
      ?.split(',')
      .map((s) => s.trim());
    const zoneId = p.opt('ZoneId');
    const name = p.opt('VSwitchName');
    return svc.store.read(async (tx) => {
      const all = (await tx.listVSwitchesOf(call.principal.uid, regionId)).filter(
        (v: VSwitch) =>
          (vpcId === undefined || v.vpcId === vpcId) &&
          (!ids || ids.includes(v.id)) &&
          (zoneId === undefined || v.zoneId === zoneId) &&
          (name === undefined || v.name === name),
      );
      const page = numberedPage(all, p);
      const vswitches = [];
      for (const v of page.items) {
        const used = (await tx.listInterfacesInVSwitch(v.id)).length;
        vswitches.push({
          VSwitchId: v.id,
          VpcId: v.vpcId,
          Status: 'Available',
          CidrBlock: v.cidrBlock,
          ZoneId: v.zoneId,
          AvailableIpAddressCount: availableAddresses(v, used),
          Description: v.description,
          VSwitchName: v.name,
          CreationTime: v.creationTime,
          IsDefault: false,
          ResourceGroupId: '',
          OwnerId: Number(v.ownerUid),
        });
      }
      return {
        TotalCount: all.length,
        PageNumber: page.pageNumber,
        PageSize: page.pageSize,
        VSwitches: { VSwitch: vswitches },
      };
    });
  },
};

export const deleteVSwitch: ActionDef = {
  version: VPC,
  name: 'DeleteVSwitch',
  async run(svc, call) {
    const p = new Params(call.params);
    const regionId = p.region();
    const id = p.req('VSwitchId');
    return mutate(svc, call, p, async (tx) => {
      await remove(tx, call.principal.uid, regionId, id);
      return {};
    });
  },
};
