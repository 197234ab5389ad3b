/**
 * Network interfaces: Create, Delete, Describe, DescribeNetworkInterfaceAttribute,
 * ModifyNetworkInterfaceAttribute, AssignPrivateIpAddresses, UnassignPrivateIpAddresses.
 */
import {
  assignAddresses,
  createInterface,
  deleteInterface,
  MAX_GROUPS_PER_INTERFACE,
  MAX_SECONDARY_ADDRESSES,
  modifyInterface,
  ownInterface,
  type SecondaryRequest,
  unassignAddresses,
} from '../domain/network.js';
import { hasTags } from '../domain/tags.js';
import { interfaceAddresses, type NetworkInterface } from '../domain/types.js';
import { apiError } from '../errors.js';
import { type ActionDef, ECS } from './context.js';
import {
  parseDescription,
  parseName,
  parseResourceGroupId,
  parseTagFilter,
  parseTags,
} from './fields.js';
import { mutate } from './idempotency.js';
import { numberedPage, tokenPage } from './paging.js';
import { Params } from './params.js';
import { tagsView } from './views.js';

/** A stable, locally administered MAC address derived from the interface id. */
function macOf(id: string): string {
  let h = 0x811c9dc5;
  for (const c of id) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  const b = [0x00, 0x16, 0x3e, (h >>> 16) & 0xff, (h >>> 8) & 0xff, h & 0xff];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

const NO_PUBLIC_IP = { PublicIpAddress: '', AllocationId: '' };

/** Every field of the SDK's NetworkInterfaceSet model; empty where nothing exists here. */
export function interfaceView(e: NetworkInterface) {
  return {
    NetworkInterfaceId: e.id,
    NetworkInterfaceName: e.name,
    Description: e.description,
    Status: 'Available',
    Type: 'Secondary',
    VpcId: e.vpcId,
    VSwitchId: e.vSwitchId,
    ZoneId: e.zoneId,
    PrivateIpAddress: e.primaryIpAddress,
    MacAddress: macOf(e.id),
    InstanceId: '',
    OwnerId: e.ownerUid,
    CreationTime: e.creationTime,
    ResourceGroupId: e.resourceGroupId,
    DeleteOnRelease: e.deleteOnRelease,
    ServiceID: 0,
    ServiceManaged: false,
    SourceDestCheck: e.sourceDestCheck,
    QueueNumber: e.queueNumber,
    QueuePairNumber: 0,
    NetworkInterfaceTrafficMode: 'Standard',
    SecurityGroupIds: { SecurityGroupId: [...e.securityGroupIds] },
    PrivateIpSets: {
      PrivateIpSet: interfaceAddresses(e).map((ip, i) => ({
        PrivateIpAddress: ip,
        Primary: i === 0,
        PrivateDnsName: '',
        AssociatedPublicIp: NO_PUBLIC_IP,
      })),
    },
    Ipv6Sets: { Ipv6Set: [] },
    Ipv4PrefixSets: { Ipv4PrefixSet: [] },
    Ipv6PrefixSets: { Ipv6PrefixSet: [] },
    AssociatedPublicIp: NO_PUBLIC_IP,
    Attachment: {
      InstanceId: '',
      TrunkNetworkInterfaceId: '',
      DeviceIndex: 0,
      NetworkCardIndex: 0,
    },
    Tags: tagsView(e.tags),
  };
}

/** `PrivateIpAddress.N` (up to `maxList`) or `SecondaryPrivateIpAddressCount`, not both. */
function secondaryRequest(p: Params, maxList: number): SecondaryRequest {
  const addresses = p.list('PrivateIpAddress', maxList);
  const count = p.int('SecondaryPrivateIpAddressCount', 1, MAX_SECONDARY_ADDRESSES) ?? 0;
  if (addresses.length > 0 && count > 0) {
    throw apiError(
      'InvalidParameter.Conflict',
      'Give PrivateIpAddress.N or SecondaryPrivateIpAddressCount, not both.',
    );
  }
  return { addresses, count };
}

/** QueueNumber, SourceDestCheck, DeleteOnRelease as given. */
function trafficSettings(p: Params) {
  return {
    queueNumber: p.int('QueueNumber', 1, 2048),
    sourceDestCheck: p.bool('SourceDestCheck'),
    deleteOnRelease: p.bool('DeleteOnRelease'),
  };
}

export const createNetworkInterface: ActionDef = {
  version: ECS,
  name: 'CreateNetworkInterface',
  async run(svc, call) {
    const p = new Params(call.params);
    const regionId = p.region();
    const vSwitchId = p.req('VSwitchId');
    const ids = p.list('SecurityGroupIds', MAX_GROUPS_PER_INTERFACE * 20);
    const single = p.opt('SecurityGroupId');
    if (single !== undefined && ids.length > 0) {
      throw apiError(
        'InvalidParameter.Conflict',
        'Give SecurityGroupId or SecurityGroupIds.N, not both.',
      );
    }
    const securityGroupIds = single !== undefined ? [single] : [...new Set(ids)];
    if (securityGroupIds.length === 0) throw apiError('MissingParameter', 'SecurityGroupId');
    const settings = trafficSettings(p);
    const input = {
      ownerUid: call.principal.uid,
      regionId,
      vSwitchId,
      securityGroupIds,
      primaryIpAddress: p.opt('PrimaryIpAddress'),
      secondary: secondaryRequest(p, 10),
      name: parseName(p, 'NetworkInterfaceName', 'InvalidNetworkInterfaceName.Malformed') ?? '',
      description: parseDescription(p) ?? '',
      resourceGroupId: parseResourceGroupId(p) ?? '',
      tags: parseTags(p),
      queueNumber: settings.queueNumber ?? 1,
      sourceDestCheck: settings.sourceDestCheck ?? false,
      deleteOnRelease: settings.deleteOnRelease ?? true,
    };
    return mutate(svc, call, p, async (tx) => {
      return interfaceView(await createInterface(tx, input, svc.now()));
    });
  },
};

export const deleteNetworkInterface: ActionDef = {
  version: ECS,
  name: 'DeleteNetworkInterface',
  async run(svc, call) {
    const p = new Params(call.params);
    const regionId = p.region();
    const id = p.req('NetworkInterfaceId');
    return mutate(svc, call, p, async (tx) => {
      await deleteInterface(tx, call.principal.uid, regionId, id);
      return {};
    });
  },
};

export const describeNetworkInterfaces: ActionDef = {
  version: ECS,
  name: 'DescribeNetworkInterfaces',
  async run(svc, call) {
    const p = new Params(call.params);
    const regionId = p.region();
    const ids = p.list('NetworkInterfaceId', 100);
    const privateIps = p.list('PrivateIpAddress', 100);
    const f = {
      vpcId: p.opt('VpcId'),
      vSwitchId: p.opt('VSwitchId'),
      primary: p.opt('PrimaryIpAddress'),
      group: p.opt('SecurityGroupId'),
      name: p.opt('NetworkInterfaceName'),
      type: p.opt('Type'),
      status: p.opt('Status'),
      resourceGroupId: p.opt('ResourceGroupId'),
      tags: parseTagFilter(p),
    };
    const byToken = p.has('MaxResults') || p.has('NextToken');
    return svc.store.read(async (tx) => {
      const all = (await tx.listInterfacesOf(call.principal.uid, regionId)).filter(
        (e) =>
          (ids.length === 0 || ids.includes(e.id)) &&
          (privateIps.length === 0 ||
            privateIps.some((ip) => e.secondaryIpAddresses.includes(ip))) &&
          (f.vpcId === undefined || e.vpcId === f.vpcId) &&
          (f.vSwitchId === undefined || e.vSwitchId === f.vSwitchId) &&
          (f.primary === undefined || e.primaryIpAddress === f.primary) &&
          (f.group === undefined || e.securityGroupIds.includes(f.group)) &&
          (f.name === undefined || e.name === f.name) &&
          (f.type === undefined || f.type === 'Secondary') &&
          (f.status === undefined || f.status === 'Available') &&
          (f.resourceGroupId === undefined || e.resourceGroupId === f.resourceGroupId) &&
          hasTags(e, f.tags),
      );
      if (byToken) {
        const page = tokenPage(all, p, 10, 500, { min: 10 });
        return {
          TotalCount: all.length,
          NextToken: page.nextToken,
          NetworkInterfaceSets: { NetworkInterfaceSet: page.items.map(interfaceView) },
        };
      }
      const page = numberedPage(all, p, 500);
      return {
        TotalCount: all.length,
        PageNumber: page.pageNumber,
        PageSize: page.pageSize,
        NextToken: '',
        NetworkInterfaceSets: { NetworkInterfaceSet: page.items.map(interfaceView) },
      };
    });
  },
};

export const describeNetworkInterfaceAttribute: ActionDef = {
  version: ECS,
  name: 'DescribeNetworkInterfaceAttribute',
  async run(svc, call) {
    const p = new Params(call.params);
    const regionId = p.region();
    const id = p.req('NetworkInterfaceId');
    return svc.store.read(async (tx) =>
      interfaceView(await ownInterface(tx, call.principal.uid, regionId, id)),
    );
  },
};

export const modifyNetworkInterfaceAttribute: ActionDef = {
  version: ECS,
  name: 'ModifyNetworkInterfaceAttribute',
  async run(svc, call) {
    const p = new Params(call.params);
    const regionId = p.region();
    const id = p.req('NetworkInterfaceId');
    const groups = p.list(
      'SecurityGroupId',
      MAX_GROUPS_PER_INTERFACE,
      'InstanceSecurityGroupLimitExceeded',
    );
    const settings = trafficSettings(p);
    const change = {
      name: parseName(p, 'NetworkInterfaceName', 'InvalidNetworkInterfaceName.Malformed'),
      description: parseDescription(p, 'Description', 255),
      securityGroupIds: groups.length > 0 ? [...new Set(groups)] : undefined,
      queueNumber: settings.queueNumber,
      sourceDestCheck: settings.sourceDestCheck,
      deleteOnRelease: settings.deleteOnRelease,
    };
    return mutate(svc, call, p, async (tx) => {
      await modifyInterface(tx, call.principal.uid, regionId, id, change);
      return {};
    });
  },
};

export const assignPrivateIpAddresses: ActionDef = {
  version: ECS,
  name: 'AssignPrivateIpAddresses',
  async run(svc, call) {
    const p = new Params(call.params);
    const regionId = p.region();
    const id = p.req('NetworkInterfaceId');
    const want = secondaryRequest(p, 32);
    if (want.addresses.length === 0 && want.count === 0) {
      throw apiError('MissingParameter', 'PrivateIpAddress.N or SecondaryPrivateIpAddressCount');
    }
    return mutate(svc, call, p, async (tx) => {
      const added = await assignAddresses(tx, call.principal.uid, regionId, id, want);
      return {
        AssignedPrivateIpAddressesSet: {
          NetworkInterfaceId: id,
          PrivateIpSet: { PrivateIpAddress: added },
          Ipv4PrefixSet: { Ipv4Prefixes: [] },
        },
      };
    });
  },
};

export const unassignPrivateIpAddresses: ActionDef = {
  version: ECS,
  name: 'UnassignPrivateIpAddresses',
  async run(svc, call) {
    const p = new Params(call.params);
    const regionId = p.region();
    const id = p.req('NetworkInterfaceId');
    const addresses = p.list('PrivateIpAddress', MAX_SECONDARY_ADDRESSES);
    if (addresses.length === 0) throw apiError('MissingParameter', 'PrivateIpAddress.1');
    return mutate(svc, call, p, async (tx) => {
      await unassignAddresses(tx, call.principal.uid, regionId, id, addresses);
      return {};
    });
  },
};
