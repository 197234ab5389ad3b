/**
 * VPC 2016-04-28: CreateVSwitch, DescribeVSwitches, DescribeVSwitchAttributes,
 * ModifyVSwitchAttribute, DeleteVSwitch.
 */
import { parseIpv4Cidr } from '../domain/cidr.js';
import {
  availableAddresses,
  createVSwitch as create,
  modifyVSwitch,
  ownVSwitch,
  deleteVSwitch as remove,
} from '../domain/network.js';
import type { Tx } from '../domain/store.js';
import { hasTags } from '../domain/tags.js';
import { interfaceAddresses, type VSwitch } from '../domain/types.js';
import { routeTableIdOf } from '../domain/vpcs.js';
import { apiError } from '../errors.js';
import { type ActionDef, VPC } from './context.js';
import { parseTagFilter, parseTags, parseVpcText } from './fields.js';
import { mutate } from './idempotency.js';
import { numberedPage } from './paging.js';
import { Params } from './params.js';
import { vpcTags } from './vpcs.js';

export const vswName = (p: Params) =>
  parseVpcText(p, 'VSwitchName', 128, 'InvalidVSwitchName.Malformed');
export const vswDescription = (p: Params) =>
  parseVpcText(p, 'Description', 256, 'InvalidDescription.Malformed');

/** `CidrBlock` of a vSwitch: a /16-/29 IPv4 block, normalised. */
export function vSwitchCidr(p: Params): string {
  const raw = p.req('CidrBlock');
  const cidr = parseIpv4Cidr(raw);
  if (!cidr || !raw.includes('/') || cidr.prefix < 16 || cidr.prefix > 29) {
    throw apiError('InvalidCidrBlock.Malformed');
  }
  return cidr.text;
}

/** Every field of the SDK's VSwitch model, as DescribeVSwitches and its Attributes show it. */
async function vswitchView(tx: Tx, v: VSwitch) {
  let used = 0;
  for (const e of await tx.listInterfacesInVSwitch(v.id)) used += interfaceAddresses(e).length;
  return {
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
    ResourceGroupId: v.resourceGroupId,
    OwnerId: Number(v.ownerUid),
    Ipv6CidrBlock: '',
    EnabledIpv6: false,
    NetworkAclId: '',
    ShareType: '',
    RouteTable: { RouteTableId: routeTableIdOf(v.vpcId), RouteTableType: 'System' },
    Tags: vpcTags(v.tags),
  };
}

export const createVSwitch: ActionDef = {
  version: VPC,
  name: 'CreateVSwitch',
  async run(svc, call) {
    const p = new Params(call.params);
    const regionId = p.region();
    const vpcId = p.req('VpcId');
    const zoneId = p.req('ZoneId');
    const cidr = vSwitchCidr(p);
    const input = {
      ownerUid: call.principal.uid,
      regionId,
      vpcId,
      zoneId,
      cidrBlock: cidr,
      name: vswName(p) ?? '',
      description: vswDescription(p) ?? '',
      tags: parseTags(p, 'vpc'),
    };
    return mutate(svc, call, p, async (tx) => {
      const v = await create(tx, input, svc.now());
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
    const resourceGroupId = p.opt('ResourceGroupId');
    const routeTableId = p.opt('RouteTableId');
    const isDefault = p.bool('IsDefault');
    const tags = parseTagFilter(p);
    return svc.store.read(async (tx) => {
      const all = (await tx.listVSwitchesOf(call.principal.uid, regionId)).filter(
        (v: VSwitch) =>
          (vpcId === undefined || v.vpcId === vpcId) &&
          (!ids || ids.includes(v.id)) &&
          (zoneId === undefined || v.zoneId === zoneId) &&
          (name === undefined || v.name === name) &&
          (resourceGroupId === undefined || v.resourceGroupId === resourceGroupId) &&
          (routeTableId === undefined || routeTableIdOf(v.vpcId) === routeTableId) &&
          isDefault !== true &&
          hasTags(v, tags),
      );
      const page = numberedPage(all, p);
      const vswitches = [];
      for (const v of page.items) vswitches.push(await vswitchView(tx, v));
      return {
        TotalCount: all.length,
        PageNumber: page.pageNumber,
        PageSize: page.pageSize,
        VSwitches: { VSwitch: vswitches },
      };
    });
  },
};

export const describeVSwitchAttributes: ActionDef = {
  version: VPC,
  name: 'DescribeVSwitchAttributes',
  async run(svc, call) {
    const p = new Params(call.params);
    const regionId = p.regionIfGiven();
    const id = p.req('VSwitchId');
    return svc.store.read(async (tx) =>
      vswitchView(tx, await ownVSwitch(tx, call.principal.uid, regionId, id)),
    );
  },
};

export const modifyVSwitchAttribute: ActionDef = {
  version: VPC,
  name: 'ModifyVSwitchAttribute',
  async run(svc, call) {
    const p = new Params(call.params);
    const regionId = p.regionIfGiven();
    const id = p.req('VSwitchId');
    if (p.bool('EnableIPv6') === true || p.has('Ipv6CidrBlock')) {
      throw apiError(
        'UnsupportedParameter',
        'EnableIPv6/Ipv6CidrBlock: vSwitches here have no IPv6 block',
      );
    }
    const change = { name: vswName(p), description: vswDescription(p) };
    return mutate(svc, call, p, async (tx) => {
      await modifyVSwitch(tx, call.principal.uid, regionId, id, change);
      return {};
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
