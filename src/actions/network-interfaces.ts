/** CreateNetworkInterface, DeleteNetworkInterface, DescribeNetworkInterfaces. */
import { createInterface, deleteInterface, MAX_GROUPS_PER_INTERFACE } from '../domain/network.js';
import type { NetworkInterface } from '../domain/types.js';
import { apiError } from '../errors.js';
import { type ActionDef, ECS } from './context.js';
import { parseDescription, parseName } from './fields.js';
import { mutate } from './idempotency.js';
import { numberedPage, tokenPage } from './paging.js';
import { Params } from './params.js';

/** A stable, locally administered MAC address derived from the interface id. */
function macOf(id: string): string {
  let h = 0x811c9dc5;
  for (const c of id) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  const b = [0x00, 0x16, 0x3e, (h >>> 16) & 0xff, (h >>> 8) & 0xff, h & 0xff];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

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
    OwnerId: e.ownerUid,
    CreationTime: e.creationTime,
    ResourceGroupId: '',
    ServiceManaged: false,
    InstanceId: '',
    SecurityGroupIds: { SecurityGroupId: [...e.securityGroupIds] },
    PrivateIpSets: { PrivateIpSet: [{ PrivateIpAddress: e.primaryIpAddress, Primary: true }] },
    Ipv6Sets: { Ipv6Set: [] },
    Tags: { Tag: [] },
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
    const input = {
      ownerUid: call.principal.uid,
      regionId,
      vSwitchId,
      securityGroupIds,
      primaryIpAddress: p.opt('PrimaryIpAddress'),
      name: parseName(p, 'NetworkInterfaceName', 'InvalidNetworkInterfaceName.Malformed') ?? '',
      description: parseDescription(p) ?? '',
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
    };
    const byToken = p.has('MaxResults') || p.has('NextToken');
    return svc.store.read(async (tx) => {
      const all = (await tx.listInterfacesOf(call.principal.uid, regionId)).filter(
        (e) =>
          (ids.length === 0 || ids.includes(e.id)) &&
          (privateIps.length === 0 || privateIps.includes(e.primaryIpAddress)) &&
          (f.vpcId === undefined || e.vpcId === f.vpcId) &&
          (f.vSwitchId === undefined || e.vSwitchId === f.vSwitchId) &&
          (f.primary === undefined || e.primaryIpAddress === f.primary) &&
          (f.group === undefined || e.securityGroupIds.includes(f.group)) &&
          (f.name === undefined || e.name === f.name) &&
          (f.type === undefined || f.type === 'Secondary') &&
          (f.status === undefined || f.status === 'Available'),
      );
      if (byToken) {
        const page = tokenPage(all, p, 10, 500);
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
