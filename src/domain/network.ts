/** vSwitches and network interfaces: the endpoints security groups protect. */
import { apiError } from '../errors.js';
import { formatIpv4, ipv4Contains, ipv4Overlaps, parseIpv4, parseIpv4Cidr } from './cidr.js';
import { apiTime, type Fixed, newId } from './ids.js';
import { findRegion } from './regions.js';
import { ownGroup } from './rules.js';
import type { Tx } from './store.js';
import {
  interfaceAddresses,
  type NetworkInterface,
  type SecurityGroup,
  type Tag,
  type VSwitch,
} from './types.js';
import { ownVpc } from './vpcs.js';

export const MAX_GROUPS_PER_INTERFACE = 5;
/** Secondary private addresses an interface may hold (the public cloud's for an unattached ENI). */
export const MAX_SECONDARY_ADDRESSES = 49;

export interface NewVSwitchInput {
  ownerUid: string;
  regionId: string;
  vpcId: string;
  zoneId: string;
  cidrBlock: string;
  name: string;
  description: string;
  tags: Tag[];
}

/** A vSwitch: a zone of the region, a CIDR inside the VPC's, overlapping no other vSwitch. */
export async function createVSwitch(
  tx: Tx,
  input: NewVSwitchInput,
  now: number,
  fixed?: Fixed,
): Promise<VSwitch> {
  await tx.lock(`vpc:${input.vpcId}`); // before reading: a concurrent DeleteVpc checks after it
  const vpc = await ownVpc(tx, input.ownerUid, input.regionId, input.vpcId);
  if (!findRegion(input.regionId)?.zones.includes(input.zoneId))
    throw apiError('InvalidZoneId.NotFound');
  if (!ipv4Contains(vpc.cidrBlock, input.cidrBlock)) throw apiError('InvalidCidrBlock.NotInVpc');
  for (const other of await tx.listVSwitches(vpc.id)) {
    if (ipv4Overlaps(other.cidrBlock, input.cidrBlock))
      throw apiError('InvalidCidrBlock.Overlapped');
  }
  const vsw: VSwitch = {
    ...input,
    id: fixed?.id ?? newId('vsw'),
    resourceGroupId: vpc.resourceGroupId,
    creationTime: fixed?.time ?? apiTime(now),
  };
  await tx.insertVSwitch(vsw);
  return vsw;
}

export async function modifyVSwitch(
  tx: Tx,
  ownerUid: string,
  regionId: string | undefined,
  id: string,
  change: { name?: string; description?: string },
): Promise<void> {
  await tx.lock(`vswitch:${id}`);
  const v = await ownVSwitch(tx, ownerUid, regionId, id);
  await tx.updateVSwitch({
    ...v,
    name: change.name ?? v.name,
    description: change.description ?? v.description,
  });
}

/** The caller's vSwitch (in `regionId` when given), or InvalidVSwitchId.NotFound. */
export async function ownVSwitch(
  tx: Tx,
  ownerUid: string,
  regionId: string | undefined,
  id: string,
): Promise<VSwitch> {
  const v = await tx.getVSwitch(id);
  if (!v || v.ownerUid !== ownerUid || (regionId !== undefined && v.regionId !== regionId)) {
    throw apiError('InvalidVSwitchId.NotFound');
  }
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

/** Every address held in a vSwitch (primary and secondary), but those of `except`. */
async function addressesInUse(tx: Tx, vSwitchId: string, except?: string): Promise<Set<string>> {
  const taken = new Set<string>();
  for (const e of await tx.listInterfacesInVSwitch(vSwitchId)) {
    if (e.id !== except) for (const a of interfaceAddresses(e)) taken.add(a);
  }
  return taken;
}

/** The requested primary address, checked, or the lowest free one. */
function allocatePrimary(vsw: VSwitch, taken: Set<string>, requested: string | undefined): string {
  const { first, last } = usableRange(vsw.cidrBlock);
  if (requested !== undefined) {
    const n = parseIpv4(requested);
    if (n === undefined) throw apiError('InvalidPrivateIpAddress.Malformed', requested);
    if (n < first || n > last) throw apiError('InvalidPrivateIpAddress.Mismatch');
    if (taken.has(requested)) throw apiError('InvalidPrivateIpAddress.Duplicated');
    return requested;
  }
  return lowestFree(vsw, taken, 1)[0]!;
}

/** `count` free addresses of the vSwitch, lowest first. */
function lowestFree(vsw: VSwitch, taken: Set<string>, count: number): string[] {
  const { first, last } = usableRange(vsw.cidrBlock);
  const out: string[] = [];
  for (let n = first; n <= last && out.length < count; n++) {
    const ip = formatIpv4(n);
    if (!taken.has(ip)) out.push(ip);
  }
  if (out.length < count) throw apiError('InvalidVSwitchId.IpNotEnough');
  return out;
}

/** Secondary addresses: the ones asked for (checked), or `count` free ones. */
function allocateSecondary(
  vsw: VSwitch,
  taken: Set<string>,
  want: SecondaryRequest,
  alreadyTaken: 'InvalidPrivateIpAddress.Duplicated' | 'InvalidIp.IpAssigned',
): string[] {
  if (want.addresses.length === 0) return want.count > 0 ? lowestFree(vsw, taken, want.count) : [];
  const { first, last } = usableRange(vsw.cidrBlock);
  const out: string[] = [];
  for (const ip of want.addresses) {
    const n = parseIpv4(ip);
    if (n === undefined) throw apiError('InvalidPrivateIpAddress.Malformed', ip);
    if (n < first || n > last) throw apiError('InvalidVSwitchId.IpInvalid', ip);
    if (taken.has(ip) || out.includes(ip)) throw apiError(alreadyTaken, ip);
    out.push(ip);
  }
  return out;
}

/** Secondary addresses to assign: a list of them, or a count to pick (never both). */
export interface SecondaryRequest {
  addresses: readonly string[];
  count: number;
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
  secondary: SecondaryRequest;
  name: string;
  description: string;
  resourceGroupId: string;
  tags: Tag[];
  queueNumber: number;
  sourceDestCheck: boolean;
  deleteOnRelease: boolean;
}

export async function createInterface(
  tx: Tx,
  input: NewInterfaceInput,
  now: number,
  fixed?: Fixed,
): Promise<NetworkInterface> {
  await tx.lock(`vswitch:${input.vSwitchId}`); // addresses, and a concurrent DeleteVSwitch
  const vsw = await ownVSwitch(tx, input.ownerUid, input.regionId, input.vSwitchId);
  const base = { ownerUid: input.ownerUid, regionId: input.regionId, vpcId: vsw.vpcId };
  await checkGroups(tx, base, input.securityGroupIds);
  const taken = await addressesInUse(tx, vsw.id);
  const primary = allocatePrimary(vsw, taken, input.primaryIpAddress);
  taken.add(primary);
  const eni: NetworkInterface = {
    ...base,
    id: fixed?.id ?? newId('eni'),
    vSwitchId: vsw.id,
    zoneId: vsw.zoneId,
    primaryIpAddress: primary,
    secondaryIpAddresses: allocateSecondary(
      vsw,
      taken,
      input.secondary,
      'InvalidPrivateIpAddress.Duplicated',
    ),
    name: input.name,
    description: input.description,
    securityGroupIds: input.securityGroupIds,
    resourceGroupId: input.resourceGroupId,
    tags: input.tags,
    queueNumber: input.queueNumber,
    sourceDestCheck: input.sourceDestCheck,
    deleteOnRelease: input.deleteOnRelease,
    creationTime: fixed?.time ?? apiTime(now),
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
    throw apiError('InvalidEniId.NotFound');
  }
  return e;
}

export interface InterfaceChange {
  name?: string;
  description?: string;
  /** The whole new set of groups (ModifyNetworkInterfaceAttribute's SecurityGroupId.N). */
  securityGroupIds?: string[];
  queueNumber?: number;
  sourceDestCheck?: boolean;
  deleteOnRelease?: boolean;
}

export async function modifyInterface(
  tx: Tx,
  ownerUid: string,
  regionId: string,
  id: string,
  change: InterfaceChange,
): Promise<void> {
  const e = await ownInterface(tx, ownerUid, regionId, id, true);
  if (change.securityGroupIds !== undefined) await checkGroups(tx, e, change.securityGroupIds);
  await tx.updateInterface({
    ...e,
    name: change.name ?? e.name,
    description: change.description ?? e.description,
    securityGroupIds: change.securityGroupIds ?? e.securityGroupIds,
    queueNumber: change.queueNumber ?? e.queueNumber,
    sourceDestCheck: change.sourceDestCheck ?? e.sourceDestCheck,
    deleteOnRelease: change.deleteOnRelease ?? e.deleteOnRelease,
  });
}

/** Adds secondary addresses; returns those assigned. */
export async function assignAddresses(
  tx: Tx,
  ownerUid: string,
  regionId: string,
  id: string,
  want: SecondaryRequest,
): Promise<string[]> {
  const found = await ownInterface(tx, ownerUid, regionId, id);
  await tx.lock(`vswitch:${found.vSwitchId}`); // addresses of the vSwitch
  const e = await ownInterface(tx, ownerUid, regionId, id, true);
  const vsw = await ownVSwitch(tx, ownerUid, regionId, e.vSwitchId);
  const taken = await addressesInUse(tx, vsw.id);
  const added = allocateSecondary(vsw, taken, want, 'InvalidIp.IpAssigned');
  if (e.secondaryIpAddresses.length + added.length > MAX_SECONDARY_ADDRESSES) {
    throw apiError('QuotaExceed.PrivateIpAddress', MAX_SECONDARY_ADDRESSES);
  }
  await tx.updateInterface({ ...e, secondaryIpAddresses: [...e.secondaryIpAddresses, ...added] });
  return added;
}

/** Removes secondary addresses; every one must be a secondary address of the interface. */
export async function unassignAddresses(
  tx: Tx,
  ownerUid: string,
  regionId: string,
  id: string,
  addresses: readonly string[],
): Promise<void> {
  const e = await ownInterface(tx, ownerUid, regionId, id, true);
  for (const ip of addresses) {
    if (!e.secondaryIpAddresses.includes(ip)) throw apiError('InvalidIp.IpUnassigned', ip);
  }
  await tx.updateInterface({
    ...e,
    secondaryIpAddresses: e.secondaryIpAddresses.filter((ip) => !addresses.includes(ip)),
  });
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
