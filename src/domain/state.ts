/**
 * An account's whole state as one document: VPCs, vSwitches, security groups with their
 * rules in order, network interfaces, with their ids, tags and creation times. Export writes
 * it in a fixed order (region, then creation order) and fixed key order, so exporting what
 * an import made gives the same bytes. Import creates every resource through the same
 * creation functions (and checks) as the API, keeping the ids and times, in one
 * transaction: all or nothing. A resource that exists already is left as it is when it
 * agrees with the document on every field the document gives, and refused otherwise, so
 * importing a document twice changes nothing.
 */
import { apiError, located } from '../errors.js';
import { createGroup, type NewGroupInput } from './groups.js';
import type { Fixed } from './ids.js';
import {
  createInterface,
  createVSwitch,
  type NewInterfaceInput,
  type NewVSwitchInput,
} from './network.js';
import { REGIONS } from './regions.js';
import { authorize, type DomainContext, type PermissionInput } from './rules.js';
import type { Tx } from './store.js';
import type { NetworkInterface, Rule, SecurityGroup, Tag, Vpc, VSwitch } from './types.js';
import { createVpc } from './vpcs.js';

export const STATE_SCHEMA = 'ecs-secgroup/state';
export const STATE_VERSION = 1;

type Json = Record<string, unknown>;

const tagsOut = (tags: readonly Tag[]) => tags.map((t) => ({ Key: t.key, Value: t.value }));
const range = (r: { from: number; to: number } | null) => (r ? `${r.from}/${r.to}` : '');

export function vpcEntry(v: Vpc): Json {
  return {
    VpcId: v.id,
    RegionId: v.regionId,
    CidrBlock: v.cidrBlock,
    VpcName: v.name,
    Description: v.description,
    ResourceGroupId: v.resourceGroupId,
    Tags: tagsOut(v.tags),
    CreationTime: v.creationTime,
  };
}

export function vSwitchEntry(v: VSwitch): Json {
  return {
    VSwitchId: v.id,
    RegionId: v.regionId,
    VpcId: v.vpcId,
    ZoneId: v.zoneId,
    CidrBlock: v.cidrBlock,
    VSwitchName: v.name,
    Description: v.description,
    Tags: tagsOut(v.tags),
    CreationTime: v.creationTime,
  };
}

/** A rule under the API's parameter names (CIDRs as written; a group's owner by uid). */
export function ruleEntry(r: Rule, groupOwner: string): Json {
  const ingress = r.direction === 'ingress';
  const [far, near] = ingress ? ['Source', 'Dest'] : ['Dest', 'Source'];
  const out: Json = {
    SecurityGroupRuleId: r.id,
    Direction: r.direction,
    IpProtocol: r.protocol,
    PortRange: range(r.portRange),
    SourcePortRange: range(r.sourcePortRange),
    Policy: r.policy,
    Priority: String(r.priority),
    NicType: r.nicType,
  };
  if (r.peerCidr !== null) out[`${far}CidrIp`] = r.peerCidrText ?? r.peerCidr;
  if (r.peerIpv6Cidr !== null) out[`Ipv6${far}CidrIp`] = r.peerCidrText ?? r.peerIpv6Cidr;
  if (r.peerGroup !== null) {
    out[`${far}GroupId`] = r.peerGroup.groupId;
    if (r.peerGroup.ownerUid !== groupOwner) out[`${far}GroupOwnerId`] = r.peerGroup.ownerUid;
  }
  if (r.localCidr !== null) out[`${near}CidrIp`] = r.localCidrText ?? r.localCidr;
  if (r.localIpv6Cidr !== null) out[`Ipv6${near}CidrIp`] = r.localCidrText ?? r.localIpv6Cidr;
  out.Description = r.description;
  out.CreateTime = r.createTime;
  return out;
}

export function groupEntry(g: SecurityGroup, rules: readonly Rule[]): Json {
  return {
    SecurityGroupId: g.id,
    RegionId: g.regionId,
    VpcId: g.vpcId ?? '',
    SecurityGroupName: g.name,
    Description: g.description,
    SecurityGroupType: g.type,
    InnerAccessPolicy: g.innerAccessPolicy,
    ResourceGroupId: g.resourceGroupId,
    Tags: tagsOut(g.tags),
    CreationTime: g.creationTime,
    Permissions: [...rules].sort((a, b) => a.seq - b.seq).map((r) => ruleEntry(r, g.ownerUid)),
  };
}

export function interfaceEntry(e: NetworkInterface): Json {
  return {
    NetworkInterfaceId: e.id,
    RegionId: e.regionId,
    VSwitchId: e.vSwitchId,
    PrimaryIpAddress: e.primaryIpAddress,
    SecondaryIpAddresses: [...e.secondaryIpAddresses],
    NetworkInterfaceName: e.name,
    Description: e.description,
    SecurityGroupIds: [...e.securityGroupIds],
    ResourceGroupId: e.resourceGroupId,
    Tags: tagsOut(e.tags),
    QueueNumber: e.queueNumber,
    SourceDestCheck: e.sourceDestCheck,
    DeleteOnRelease: e.deleteOnRelease,
    CreationTime: e.creationTime,
  };
}

/** The account's state, every region, in a fixed order. */
export async function exportState(tx: Tx, ownerUid: string): Promise<Json> {
  const vpcs: Json[] = [];
  const vswitches: Json[] = [];
  const groups: Json[] = [];
  const interfaces: Json[] = [];
  for (const region of REGIONS) {
    for (const v of await tx.listVpcs(ownerUid, region.id)) vpcs.push(vpcEntry(v));
    for (const v of await tx.listVSwitchesOf(ownerUid, region.id)) vswitches.push(vSwitchEntry(v));
    for (const g of await tx.listGroups(ownerUid, region.id)) {
      groups.push(groupEntry(g, await tx.listRules(g.id)));
    }
    for (const e of await tx.listInterfacesOf(ownerUid, region.id))
      interfaces.push(interfaceEntry(e));
  }
  return {
    Schema: STATE_SCHEMA,
    SchemaVersion: STATE_VERSION,
    OwnerId: ownerUid,
    Vpcs: vpcs,
    VSwitches: vswitches,
    SecurityGroups: groups,
    NetworkInterfaces: interfaces,
  };
}

/** The document as text: two-space indent, a final newline (what export prints). */
export function stateText(doc: Json): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** A document's resources as typed creation inputs, in the order they are created. */
export interface StateInput {
  vpcs: { fixed: Fixed; input: Omit<Vpc, 'id' | 'creationTime'>; entry: Json }[];
  vswitches: { fixed: Fixed; input: NewVSwitchInput; entry: Json }[];
  groups: {
    fixed: Fixed;
    input: NewGroupInput;
    entry: Json;
    rules: { fixed: Fixed; input: PermissionInput }[];
  }[];
  interfaces: { fixed: Fixed; input: NewInterfaceInput; entry: Json }[];
}

/** The first field `given` gives that `existing` lacks or holds otherwise (a path), if any. */
function difference(given: unknown, existing: unknown, at = ''): string | undefined {
  if (Array.isArray(given)) {
    if (!Array.isArray(existing) || existing.length !== given.length) return at;
    for (let i = 0; i < given.length; i++) {
      const d = difference(given[i], existing[i], `${at}[${i}]`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  if (given !== null && typeof given === 'object') {
    if (existing === null || typeof existing !== 'object') return at;
    for (const [k, v] of Object.entries(given)) {
      const d = difference(v, (existing as Json)[k], at === '' ? k : `${at}.${k}`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  return given === existing ? undefined : at;
}

/** True when the resource exists already (and agrees), false when it is new. */
function present(
  found: { ownerUid: string } | undefined,
  ownerUid: string,
  entry: Json,
  view: Json | undefined,
  id: string,
): boolean {
  if (found === undefined) return false;
  if (found.ownerUid !== ownerUid) {
    throw apiError('InvalidParameter.StateConflict', `the id ${id} is taken`);
  }
  const d = difference(entry, view);
  if (d !== undefined) {
    throw apiError(
      'InvalidParameter.StateConflict',
      `${id} exists already and its ${d} differs from the document`,
    );
  }
  return true;
}

/** Creates what the document holds and the store lacks; returns how many were created and kept. */
export async function importState(
  tx: Tx,
  ctx: DomainContext,
  ownerUid: string,
  state: StateInput,
): Promise<{ created: number; unchanged: number }> {
  let created = 0;
  let unchanged = 0;
  /** Runs `fn`, naming `id` in the error it throws. */
  const importing = async (id: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (e) {
      throw located(e, `importing ${id}`);
    }
  };
  /** Creates each entry the store lacks (checking the others agree); returns those created. */
  const each = async <E extends { fixed: Fixed; entry: Json }, T extends { ownerUid: string }>(
    list: readonly E[],
    get: (id: string) => Promise<T | undefined>,
    exported: (found: T) => Promise<Json> | Json,
    create: (entry: E) => Promise<unknown>,
  ): Promise<E[]> => {
    const made: E[] = [];
    for (const x of list) {
      const found = await get(x.fixed.id);
      const view = found === undefined ? undefined : await exported(found);
      if (present(found, ownerUid, x.entry, view, x.fixed.id)) {
        unchanged++;
      } else {
        await importing(x.fixed.id, () => create(x));
        made.push(x);
        created++;
      }
    }
    return made;
  };
  await each(
    state.vpcs,
    (id) => tx.getVpc(id),
    vpcEntry,
    (v) => createVpc(tx, v.input, ctx.now, v.fixed),
  );
  await each(
    state.vswitches,
    (id) => tx.getVSwitch(id),
    vSwitchEntry,
    (v) => createVSwitch(tx, v.input, ctx.now, v.fixed),
  );
  // every group first: rules may name groups created after their own
  const fresh = await each(
    state.groups,
    (id) => tx.getGroup(id),
    async (g) => groupEntry(g, await tx.listRules(g.id)),
    (g) => createGroup(tx, ctx, g.input, g.fixed),
  );
  for (const g of fresh) {
    const group = (await tx.lockGroup(g.fixed.id))!;
    await importing(g.fixed.id, () =>
      authorize(
        tx,
        ctx,
        group,
        g.rules.map((r) => r.input),
        g.rules.map((r) => r.fixed),
      ),
    );
    created += g.rules.length;
  }
  await each(
    state.interfaces,
    (id) => tx.getInterface(id),
    interfaceEntry,
    (e) => createInterface(tx, e.input, ctx.now, e.fixed),
  );
  return { created, unchanged };
}
