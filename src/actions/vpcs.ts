/**
 * VPC 2016-04-28: CreateVpc, DescribeVpcs, DescribeVpcAttribute, ModifyVpcAttribute,
 * DeleteVpc, and DescribeRouteTableList (each VPC has its system route table).
 */
import { parseIpv4Cidr } from '../domain/cidr.js';
import type { Tx } from '../domain/store.js';
import { hasTags } from '../domain/tags.js';
import type { Tag, Vpc } from '../domain/types.js';
import {
  createVpc as create,
  modifyVpc,
  ownVpc,
  deleteVpc as remove,
  routerIdOf,
  routeTableIdOf,
} from '../domain/vpcs.js';
import { apiError } from '../errors.js';
import { type ActionDef, VPC } from './context.js';
import { parseResourceGroupId, parseTagFilter, parseTags, parseVpcText } from './fields.js';
import { mutate } from './idempotency.js';
import { numberedPage } from './paging.js';
import { Params } from './params.js';

/** The VPC product's tags: `Key`/`Value` (the ECS product says `TagKey`/`TagValue`). */
export const vpcTags = (tags: readonly Tag[]) => ({
  Tag: tags.map((t) => ({ Key: t.key, Value: t.value })),
});

export function vpcCidr(p: Params, name: string, fallback?: string): string | undefined {
  const raw = p.opt(name) ?? fallback;
  if (raw === undefined) return undefined;
  const cidr = parseIpv4Cidr(raw);
  if (!cidr || !raw.includes('/') || cidr.prefix < 8 || cidr.prefix > 28) {
    throw apiError('InvalidCidrBlock.Malformed');
  }
  return cidr.text;
}

export const vpcName = (p: Params) => parseVpcText(p, 'VpcName', 128, 'InvalidVpcName.Malformed');
export const vpcDescription = (p: Params) =>
  parseVpcText(p, 'Description', 256, 'InvalidVpcDiscription.Malformed');

/** Every field of the SDK's Vpc model (DescribeVpcs) and DescribeVpcAttribute body. */
function vpcView(v: Vpc, vSwitchIds: string[]) {
  return {
    VpcId: v.id,
    RegionId: v.regionId,
    Status: 'Available',
    VpcName: v.name,
    CreationTime: v.creationTime,
    CidrBlock: v.cidrBlock,
    Description: v.description,
    IsDefault: false,
    OwnerId: Number(v.ownerUid),
    VRouterId: routerIdOf(v.id),
    ResourceGroupId: v.resourceGroupId,
    CenStatus: '',
    ClassicLinkEnabled: false,
    DhcpOptionsSetId: '',
    DhcpOptionsSetStatus: '',
    DnsHostnameStatus: 'DISABLED',
    EnabledIpv6: false,
    Ipv6CidrBlock: '',
    Ipv4GatewayId: '',
    SupportIpv4Gateway: false,
    Ipv6CidrBlocks: { Ipv6CidrBlock: [] },
    NatGatewayIds: { NatGatewayIds: [] },
    RouterTableIds: { RouterTableIds: [routeTableIdOf(v.id)] },
    SecondaryCidrBlocks: { SecondaryCidrBlock: [] },
    UserCidrs: { UserCidr: [] },
    VSwitchIds: { VSwitchId: vSwitchIds },
    AssociatedCens: { AssociatedCen: [] },
    CloudResources: { CloudResourceSetType: [] },
    AssociatedPropagationSources: { AssociatedPropagationSources: [] },
    Tags: vpcTags(v.tags),
  };
}

async function vSwitchIds(tx: Tx, vpcId: string): Promise<string[]> {
  return (await tx.listVSwitches(vpcId)).map((s) => s.id);
}

export const createVpc: ActionDef = {
  version: VPC,
  name: 'CreateVpc',
  async run(svc, call) {
    const p = new Params(call.params);
    const regionId = p.region();
    const input = {
      ownerUid: call.principal.uid,
      regionId,
      cidrBlock: vpcCidr(p, 'CidrBlock', '172.16.0.0/12')!,
      name: vpcName(p) ?? '',
      description: vpcDescription(p) ?? '',
      resourceGroupId: parseResourceGroupId(p) ?? '',
      tags: parseTags(p, 'vpc'),
    };
    return mutate(svc, call, p, async (tx) => {
      const vpc = await create(tx, input, svc.now());
      return {
        VpcId: vpc.id,
        VRouterId: routerIdOf(vpc.id),
        RouteTableId: routeTableIdOf(vpc.id),
        ResourceGroupId: vpc.resourceGroupId,
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
    const resourceGroupId = p.opt('ResourceGroupId');
    const isDefault = p.bool('IsDefault');
    const tags = parseTagFilter(p);
    return svc.store.read(async (tx) => {
      const all = (await tx.listVpcs(call.principal.uid, regionId)).filter(
        (v: Vpc) =>
          (!ids || ids.includes(v.id)) &&
          (name === undefined || v.name === name) &&
          (resourceGroupId === undefined || v.resourceGroupId === resourceGroupId) &&
          isDefault !== true &&
          hasTags(v, tags),
      );
      const page = numberedPage(all, p);
      const vpcs = [];
      for (const v of page.items) vpcs.push(vpcView(v, await vSwitchIds(tx, v.id)));
      return {
        TotalCount: all.length,
        PageNumber: page.pageNumber,
        PageSize: page.pageSize,
        Vpcs: { Vpc: vpcs },
      };
    });
  },
};

export const describeVpcAttribute: ActionDef = {
  version: VPC,
  name: 'DescribeVpcAttribute',
  async run(svc, call) {
    const p = new Params(call.params);
    const regionId = p.region();
    const vpcId = p.req('VpcId');
    return svc.store.read(async (tx) => {
      const v = await ownVpc(tx, call.principal.uid, regionId, vpcId);
      return vpcView(v, await vSwitchIds(tx, v.id));
    });
  },
};

export const modifyVpcAttribute: ActionDef = {
  version: VPC,
  name: 'ModifyVpcAttribute',
  async run(svc, call) {
    const p = new Params(call.params);
    const regionId = p.region();
    const vpcId = p.req('VpcId');
    if (p.bool('EnableIPv6') === true || p.has('Ipv6CidrBlock')) {
      throw apiError(
        'UnsupportedParameter',
        'EnableIPv6/Ipv6CidrBlock: VPCs here have no IPv6 block',
      );
    }
    const change = {
      name: vpcName(p),
      description: vpcDescription(p),
      cidrBlock: vpcCidr(p, 'CidrBlock'),
    };
    return mutate(svc, call, p, async (tx) => {
      await modifyVpc(tx, call.principal.uid, regionId, vpcId, change);
      return {};
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

export const describeRouteTableList: ActionDef = {
  version: VPC,
  name: 'DescribeRouteTableList',
  async run(svc, call) {
    const p = new Params(call.params);
    const regionId = p.region();
    const f = {
      id: p.opt('RouteTableId'),
      name: p.opt('RouteTableName'),
      type: p.oneOf('RouteTableType', ['System', 'Custom'], 'InvalidParameter'),
      routerId: p.opt('RouterId'),
      routerType: p.oneOf('RouterType', ['VRouter', 'VBR'], 'InvalidParameter'),
      vpcId: p.opt('VpcId'),
      resourceGroupId: p.opt('ResourceGroupId'),
      tags: parseTagFilter(p),
    };
    return svc.store.read(async (tx) => {
      const tables = (await tx.listVpcs(call.principal.uid, regionId)).filter(
        (v) =>
          (f.id === undefined || routeTableIdOf(v.id) === f.id) &&
          (f.name === undefined || f.name === '') &&
          f.type !== 'Custom' &&
          (f.routerId === undefined || routerIdOf(v.id) === f.routerId) &&
          f.routerType !== 'VBR' &&
          (f.vpcId === undefined || v.id === f.vpcId) &&
          (f.resourceGroupId === undefined || v.resourceGroupId === f.resourceGroupId) &&
          f.tags.length === 0,
      );
      const page = numberedPage(tables, p);
      const items = [];
      for (const v of page.items) {
        items.push({
          RouteTableId: routeTableIdOf(v.id),
          RouteTableName: '',
          RouteTableType: 'System',
          RouterId: routerIdOf(v.id),
          RouterType: 'VRouter',
          VpcId: v.id,
          Description: '',
          CreationTime: v.creationTime,
          Status: 'Available',
          OwnerId: Number(v.ownerUid),
          // the system route table goes with its VPC, resource group included
          ResourceGroupId: v.resourceGroupId,
          AssociateType: 'VSwitch',
          RoutePropagationEnable: true,
          VSwitchIds: { VSwitchId: await vSwitchIds(tx, v.id) },
          GatewayIds: { GatewayIds: [] },
          Tags: { Tag: [] },
        });
      }
      return {
        TotalCount: tables.length,
        PageNumber: page.pageNumber,
        PageSize: page.pageSize,
        RouterTableList: { RouterTableListType: items },
      };
    });
  },
};
