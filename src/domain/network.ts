/** vSwitches and network interfaces: the endpoints security groups protect. */
import { apiError } from '../errors.js';
import type { Tx } from '../store/store.js';
import { formatIpv4, ipv4Contains, ipv4Overlaps, parseIpv4, parseIpv4Cidr } from './cidr.js';
import { apiTime, newId } from './ids.js';
import { findRegion } from './regions.js';
import { ownGroup } from './rules.js';
import type { NetworkInterface, SecurityGroup, VSwitch } from './types.js';
import { ownVpc } from './vpcs.js';

export const MAX_GROUPS_PER_INTERFACE = 5;

export interface NewVSwitchInput {
  ownerUid: string;
  regionId: string;
  vpcId: string;
  zoneId: string;
  cidrBlock: string;
  name: string;
  description: string;
}

/** A vSwitch: a zone of the region, a CIDR inside the VPC's, overlapping no other vSwitch. */
export async function createVSwitch(tx: Tx, input: NewVSwitchInput, now: number): Promise<VSwitch> {
  await tx.lock(`vpc:${input.vpcId}`); // before reading: a concurrent DeleteVpc checks after it
  const vpc = await ownVpc(tx, input.ownerUid, input.regionId, input.vpcId);
  if (!findRegion(input.regionId)?.zones.includes(input.zoneId))
    throw apiError('InvalidZoneId.NotFound');
  if (!ipv4Contains(vpc.cidrBlock, input.cidrBlock)) throw apiError('InvalidCidrBlock.NotInVpc');
  for (const other of await tx.listVSwitches(vpc.id)) {
    if (ipv4Overlaps(other.cidrBlock, input.cidrBlock))
      throw apiError('InvalidCidrBlock.Overlapped');
  }
  const vsw: VSwitch = { ...input, id: newId('vsw'), creationTime: apiTime(now) };
  await tx.insertVSwitch(vsw);
  return vsw;
}

export async function ownVSwitch(
  tx: Tx,
  ownerUid: string,
  regionId: string,
  id: string,
): Promise<VSwitch> {
  const v = await tx.getVSwitch(id);
  if (!v || v.ownerUid !== ownerUid || v.regionId !== regionId)
    throw apiError('InvalidVSwitchId.NotFound');
  return v;
}

export async function deleteVSwitch(
  tx: Tx,
  ownerUid: string,
  regionId: string,
  id: string,
): Promise<void> {
  await tx.lock(`vswitch:${id}`);
  const v = await ownVSwitch(tx, ownerUid, regionId, id);
  if ((await tx.listInterfacesInVSwitch(v.id)).length > 0) {
    throw apiError('DependencyViolation.NetworkInterface');
  }
  await tx.deleteVSwitch(v.id);
}

/**
 * The usable addresses of a vSwitch: the first address and the last three of its
 * block are reserved, as on the public cloud.
 */
export function usableRange(cidrBlock: string): { first: number; last: number } {
  const c = parseIpv4Cidr(cidrBlock)!;
  const base = parseIpv4(c.text.slice(0, c.text.indexOf('/')))!;
  const size = 2 ** (32 - c.prefix);
  return { first: base + 1, last: base + size - 4 };
}

export function availableAddresses(vsw: VSwitch, used: number): number {
  const { first, last } = usableRange(vsw.cidrBlock);
  return Math.max(0, last - first + 1 - used);
}

function allocate(vsw: VSwitch, taken: Set<string>, requested: string | undefined): string {
  const { first, last } = usableRange(vsw.cidrBlock);
  if (requested !== undefined) {
    const n = parseIpv4(requested);
    if (n === undefined) throw apiError('InvalidPrivateIpAddress.Malformed');
    if (n < first || n > last) throw apiError('InvalidPrivateIpAddress.Mismatch');
    if (taken.has(requested)) throw apiError('InvalidPrivateIpAddress.Duplicated');
    return requested;
  }
  for (let n = first; n <= last; n++) {
    const ip = formatIpv4(n);
    if (!taken.has(ip)) return ip;
  }
  throw apiError('InvalidVSwitchId.IpNotEnough');
}

/** The groups an interface may hold: the caller's, in its VPC, at most 5, one type. */
async function checkGroups(
  tx: Tx,
  eni: Pick<NetworkInterface, 'ownerUid' | 'regionId' | 'vpcId'>,
  groupIds: readonly string[],
): Promise<SecurityGroup[]> {
  if (groupIds.length > MAX_GROUPS_PER_INTERFACE)
    throw apiError('InstanceSecurityGroupLimitExceeded');
  const groups: SecurityGroup[] = [];
  for (const id of groupIds) {
    const g = await ownGroup(tx, eni.ownerUid, eni.regionId, id, true);
    if (g.vpcId !== eni.vpcId) throw apiError('InvalidSecurityGroupId.NotInSameVpc');
    groups.push(g);
  }
  if (new Set(groups.map((g) => g.type)).size > 1) throw apiError('InvalidSecurityGroupType.Mixed');
  return groups;
}

export interface NewInterfaceInput {
  ownerUid: string;
  regionId: string;
  vSwitchId: string;
  securityGroupIds: string[];
  primaryIpAddress?: string;
  name: string;
  description: string;
}

export async function createInterface(
  tx: Tx,
  input: NewInterfaceInput,
  now: number,
): Promise<NetworkInterface> {
  await tx.lock(`vswitch:${input.vSwitchId}`); // addresses, and a concurrent DeleteVSwitch
  const vsw = await ownVSwitch(tx, input.ownerUid, input.regionId, input.vSwitchId);
  const base = { ownerUid: input.ownerUid, regionId: input.regionId, vpcId: vsw.vpcId };
  await checkGroups(tx, base, input.securityGroupIds);
  const taken = new Set((await tx.listInterfacesInVSwitch(vsw.id)).map((e) => e.primaryIpAddress));
  const eni: NetworkInterface = {
    ...base,
    id: newId('eni'),
    vSwitchId: vsw.id,
    zoneId: vsw.zoneId,
    primaryIpAddress: allocate(vsw, taken, input.primaryIpAddress),
    name: input.name,
    description: input.description,
    securityGroupIds: input.securityGroupIds,
    creationTime: apiTime(now),
  };
  await tx.insertInterface(eni);
  return eni;
}

export async function ownInterface(
  tx: Tx,
  ownerUid: string,
  regionId: string,
  id: string,
  lock = false,
) {
  if (lock) await tx.lock(`eni:${id}`); // memberships are read, changed and written back
  const e = await tx.getInterface(id);
  if (!e || e.ownerUid !== ownerUid || e.regionId !== regionId) {
    throw apiError('InvalidNetworkInterfaceId.NotFound');
  }
  return e;
}

export async function deleteInterface(tx: Tx, ownerUid: string, regionId: string, id: string) {
  const e = await ownInterface(tx, ownerUid, regionId, id, true);
  await tx.deleteInterface(e.id);
}

export async function joinGroup(
  tx: Tx,
  ownerUid: string,
  regionId: string,
  eniId: string,
  groupId: string,
) {
  const e = await ownInterface(tx, ownerUid, regionId, eniId, true);
  await ownGroup(tx, ownerUid, regionId, groupId, true);
  if (e.securityGroupIds.includes(groupId)) throw apiError('InvalidInstanceId.AlreadyExists');
  const ids = [...e.securityGroupIds, groupId];
  await checkGroups(tx, e, ids);
  await tx.updateInterface({ ...e, securityGroupIds: ids });
}

export async function leaveGroup(
  tx: Tx,
  ownerUid: string,
  regionId: string,
  eniId: string,
  groupId: string,
) {
  const e = await ownInterface(tx, ownerUid, regionId, eniId, true);
  await ownGroup(tx, ownerUid, regionId, groupId, true);
  if (!e.securityGroupIds.includes(groupId)) throw apiError('InstanceNotInSecurityGroup');
  if (e.securityGroupIds.length === 1) throw apiError('InstanceLastSecurityGroup');
  await tx.updateInterface({
    ...e,
    securityGroupIds: e.securityGroupIds.filter((g) => g !== groupId),
  });
}
