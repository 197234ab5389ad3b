/**
 * DescribeSecurityGroupChanges on the wire: a feed page as the response body, and back.
 * The server encodes, the agent decodes; values are the model's own, normalised (protocols,
 * directions and policies in lower case, CIDRs with host bits cleared), so a decoded page
 * holds exactly the objects the server holds.
 */
import { tagsView } from '../actions/views.js';
import {
  type Cursor,
  type FeedPage,
  formatCursor,
  type PeerGroup,
  parseCursor,
  type SnapshotReason,
} from '../domain/feed.js';
import type { NetworkInterface, PortRange, Rule, SecurityGroup, Tag } from '../domain/types.js';

type Obj = Record<string, unknown>;

const range = (r: PortRange | null) => (r ? `${r.from}/${r.to}` : '');

function groupView(g: SecurityGroup) {
  return {
    SecurityGroupId: g.id,
    OwnerId: g.ownerUid,
    RegionId: g.regionId,
    VpcId: g.vpcId ?? '',
    SecurityGroupName: g.name,
    Description: g.description,
    SecurityGroupType: g.type,
    InnerAccessPolicy: g.innerAccessPolicy,
    ResourceGroupId: g.resourceGroupId,
    Tags: tagsView(g.tags),
    CreationTime: g.creationTime,
  };
}

function ruleView(r: Rule) {
  return {
    SecurityGroupRuleId: r.id,
    SecurityGroupId: r.securityGroupId,
    Direction: r.direction,
    IpProtocol: r.protocol,
    PortRange: range(r.portRange),
    SourcePortRange: range(r.sourcePortRange),
    NicType: r.nicType,
    Policy: r.policy,
    Priority: r.priority,
    PeerCidrIp: r.peerCidr ?? '',
    PeerIpv6CidrIp: r.peerIpv6Cidr ?? '',
    PeerGroupId: r.peerGroup?.groupId ?? '',
    PeerGroupOwnerId: r.peerGroup?.ownerUid ?? '',
    LocalCidrIp: r.localCidr ?? '',
    LocalIpv6CidrIp: r.localIpv6Cidr ?? '',
    PeerCidrText: r.peerCidrText ?? '',
    LocalCidrText: r.localCidrText ?? '',
    Description: r.description,
    CreateTime: r.createTime,
    CreationOrder: r.seq,
  };
}

function interfaceView(e: NetworkInterface) {
  return {
    NetworkInterfaceId: e.id,
    OwnerId: e.ownerUid,
    RegionId: e.regionId,
    VpcId: e.vpcId,
    VSwitchId: e.vSwitchId,
    ZoneId: e.zoneId,
    PrimaryIpAddress: e.primaryIpAddress,
    SecondaryIpAddresses: { IpAddress: [...e.secondaryIpAddresses] },
    NetworkInterfaceName: e.name,
    Description: e.description,
    SecurityGroupIds: { SecurityGroupId: [...e.securityGroupIds] },
    ResourceGroupId: e.resourceGroupId,
    Tags: tagsView(e.tags),
    QueueNumber: e.queueNumber,
    SourceDestCheck: e.sourceDestCheck,
    DeleteOnRelease: e.deleteOnRelease,
    CreationTime: e.creationTime,
  };
}

function peerView(p: PeerGroup) {
  return {
    SecurityGroupId: p.groupId,
    OwnerId: p.ownerUid,
    IpAddresses: { IpAddress: [...p.addresses] },
  };
}

/** The response body of a page (RequestId is added by the protocol layer). */
export function encodePage(p: FeedPage): Obj {
  return {
    Cursor: formatCursor(p.cursor),
    Snapshot: p.snapshot !== null,
    SnapshotReason: p.snapshot ?? '',
    Settling: p.settling === true,
    SecurityGroups: { SecurityGroup: p.groups.map(groupView) },
    DeletedSecurityGroupIds: { SecurityGroupId: [...p.deletedGroupIds] },
    Rules: { Rule: p.rules.map(ruleView) },
    DeletedRuleIds: { SecurityGroupRuleId: [...p.deletedRuleIds] },
    NetworkInterfaces: { NetworkInterface: p.interfaces.map(interfaceView) },
    DeletedNetworkInterfaceIds: { NetworkInterfaceId: [...p.deletedInterfaceIds] },
    PeerGroups: { PeerGroup: p.peerGroups.map(peerView) },
  };
}

// ------------------------------------------------------------------------------ decoding

export class MalformedPageError extends Error {}

function fail(what: string): never {
  throw new MalformedPageError(`malformed DescribeSecurityGroupChanges answer: ${what}`);
}

function obj(v: unknown, what: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${what} is not an object`);
  return v as Obj;
}

function str(o: Obj, k: string): string {
  const v = o[k];
  if (typeof v !== 'string') fail(`${k} is not a string`);
  return v;
}

const orNull = (s: string): string | null => (s === '' ? null : s);

function num(o: Obj, k: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${k} is not a number`);
  return v;
}

function bool(o: Obj, k: string): boolean {
  const v = o[k];
  if (typeof v !== 'boolean') fail(`${k} is not a boolean`);
  return v;
}

/** `{Outer: {Inner: [...]}}`: the list (an absent or empty wrapper is an empty list). */
function list(o: Obj, outer: string, inner: string): unknown[] {
  const w = o[outer];
  if (w === undefined || w === '') return [];
  const v = obj(w, outer)[inner];
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail(`${outer}.${inner} is not a list`);
  return v;
}

function strings(o: Obj, outer: string, inner: string): string[] {
  return list(o, outer, inner).map((v) => {
    if (typeof v !== 'string') fail(`${outer}.${inner} holds a non-string`);
    return v;
  });
}

function rangeOf(text: string, what: string): PortRange {
  const m = /^(-?\d+)\/(-?\d+)$/.exec(text);
  if (!m) fail(`${what} "${text}" is not a port range`);
  return { from: Number(m[1]), to: Number(m[2]) };
}

function tagsOf(o: Obj): Tag[] {
  return list(o, 'Tags', 'Tag').map((t) => {
    const x = obj(t, 'Tag');
    return { key: str(x, 'TagKey'), value: str(x, 'TagValue') };
  });
}

function oneOf<T extends string>(o: Obj, k: string, values: readonly T[]): T {
  const v = str(o, k);
  if (!(values as readonly string[]).includes(v)) fail(`${k} "${v}" is not one of ${values}`);
  return v as T;
}

function groupOf(v: unknown): SecurityGroup {
  const o = obj(v, 'SecurityGroup');
  return {
    id: str(o, 'SecurityGroupId'),
    ownerUid: str(o, 'OwnerId'),
    regionId: str(o, 'RegionId'),
    vpcId: orNull(str(o, 'VpcId')),
    name: str(o, 'SecurityGroupName'),
    description: str(o, 'Description'),
    type: oneOf(o, 'SecurityGroupType', ['normal', 'enterprise'] as const),
    innerAccessPolicy: oneOf(o, 'InnerAccessPolicy', ['Accept', 'Drop'] as const),
    resourceGroupId: str(o, 'ResourceGroupId'),
    tags: tagsOf(o),
    creationTime: str(o, 'CreationTime'),
  };
}

function ruleOf(v: unknown): Rule {
  const o = obj(v, 'Rule');
  const peerGroupId = str(o, 'PeerGroupId');
  const sport = str(o, 'SourcePortRange');
  return {
    id: str(o, 'SecurityGroupRuleId'),
    securityGroupId: str(o, 'SecurityGroupId'),
    direction: oneOf(o, 'Direction', ['ingress', 'egress'] as const),
    protocol: oneOf(o, 'IpProtocol', ['tcp', 'udp', 'icmp', 'icmpv6', 'gre', 'all'] as const),
    portRange: rangeOf(str(o, 'PortRange'), 'PortRange'),
    sourcePortRange: sport === '' ? null : rangeOf(sport, 'SourcePortRange'),
    nicType: oneOf(o, 'NicType', ['intranet', 'internet'] as const),
    policy: oneOf(o, 'Policy', ['accept', 'drop'] as const),
    priority: num(o, 'Priority'),
    peerCidr: orNull(str(o, 'PeerCidrIp')),
    peerIpv6Cidr: orNull(str(o, 'PeerIpv6CidrIp')),
    peerGroup:
      peerGroupId === '' ? null : { groupId: peerGroupId, ownerUid: str(o, 'PeerGroupOwnerId') },
    localCidr: orNull(str(o, 'LocalCidrIp')),
    localIpv6Cidr: orNull(str(o, 'LocalIpv6CidrIp')),
    peerCidrText: orNull(str(o, 'PeerCidrText')),
    localCidrText: orNull(str(o, 'LocalCidrText')),
    description: str(o, 'Description'),
    createTime: str(o, 'CreateTime'),
    seq: num(o, 'CreationOrder'),
  };
}

function interfaceOf(v: unknown): NetworkInterface {
  const o = obj(v, 'NetworkInterface');
  return {
    id: str(o, 'NetworkInterfaceId'),
    ownerUid: str(o, 'OwnerId'),
    regionId: str(o, 'RegionId'),
    vpcId: str(o, 'VpcId'),
    vSwitchId: str(o, 'VSwitchId'),
    zoneId: str(o, 'ZoneId'),
    primaryIpAddress: str(o, 'PrimaryIpAddress'),
    secondaryIpAddresses: strings(o, 'SecondaryIpAddresses', 'IpAddress'),
    name: str(o, 'NetworkInterfaceName'),
    description: str(o, 'Description'),
    securityGroupIds: strings(o, 'SecurityGroupIds', 'SecurityGroupId'),
    resourceGroupId: str(o, 'ResourceGroupId'),
    tags: tagsOf(o),
    queueNumber: num(o, 'QueueNumber'),
    sourceDestCheck: bool(o, 'SourceDestCheck'),
    deleteOnRelease: bool(o, 'DeleteOnRelease'),
    creationTime: str(o, 'CreationTime'),
  };
}

function peerOf(v: unknown): PeerGroup {
  const o = obj(v, 'PeerGroup');
  return {
    groupId: str(o, 'SecurityGroupId'),
    ownerUid: str(o, 'OwnerId'),
    addresses: strings(o, 'IpAddresses', 'IpAddress'),
  };
}

const REASONS: readonly SnapshotReason[] = ['NoCursor', 'Expired', 'Reset'];

/** A page from a response body; MalformedPageError when it is not one. */
export function decodePage(body: unknown): FeedPage {
  const o = obj(body, 'the answer');
  let cursor: Cursor;
  try {
    cursor = parseCursor(str(o, 'Cursor'));
  } catch (e) {
    if (e instanceof MalformedPageError) throw e;
    fail('Cursor is not a cursor');
  }
  const isSnapshot = bool(o, 'Snapshot');
  const reason = str(o, 'SnapshotReason');
  if (isSnapshot && !(REASONS as readonly string[]).includes(reason)) {
    fail(`SnapshotReason "${reason}"`);
  }
  // absent from the answers of a service before it: nothing settling
  const settling = o.Settling === undefined ? false : bool(o, 'Settling');
  return {
    cursor,
    snapshot: isSnapshot ? (reason as SnapshotReason) : null,
    ...(settling ? { settling } : {}),
    groups: list(o, 'SecurityGroups', 'SecurityGroup').map(groupOf),
    deletedGroupIds: strings(o, 'DeletedSecurityGroupIds', 'SecurityGroupId'),
    rules: list(o, 'Rules', 'Rule').map(ruleOf),
    deletedRuleIds: strings(o, 'DeletedRuleIds', 'SecurityGroupRuleId'),
    interfaces: list(o, 'NetworkInterfaces', 'NetworkInterface').map(interfaceOf),
    deletedInterfaceIds: strings(o, 'DeletedNetworkInterfaceIds', 'NetworkInterfaceId'),
    peerGroups: list(o, 'PeerGroups', 'PeerGroup').map(peerOf),
  };
}
