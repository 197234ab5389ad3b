/**
 * Rules of the model: identity, evaluation order, and the Authorize / Revoke /
 * Modify operations, each run inside one store transaction.
 */
import { apiError, type ErrorKey } from '../errors.js';
import type { AccountDirectory } from './accounts.js';
import { apiTime, type Fixed, newId } from './ids.js';
import type { NewRule, Tx } from './store.js';
import { DuplicateRuleError } from './store.js';
import type {
  Direction,
  NicType,
  Policy,
  PortRange,
  Protocol,
  Rule,
  SecurityGroup,
} from './types.js';

/** The far end of a permission; `written` is the CIDR as the caller spelled it. */
export type FarEnd =
  | { kind: 'cidr'; cidr: string; written: string }
  | { kind: 'ipv6'; cidr: string; written: string }
  | { kind: 'group'; groupId: string; ownerAccount?: string; ownerId?: string };

/** A permission as parsed from the request: valid syntax, not yet checked against the model. */
export interface PermissionInput {
  direction: Direction;
  protocol: Protocol;
  portRange: PortRange;
  sourcePortRange: PortRange | null;
  /** Only when given explicitly; the default depends on the group and the far end. */
  nicType: NicType | undefined;
  policy: Policy;
  priority: number;
  far: FarEnd;
  localCidr: string | null;
  localIpv6Cidr: string | null;
  /** The near-end CIDR as the caller spelled it. */
  localText: string | null;
  description: string;
}

export interface DomainContext {
  accounts: AccountDirectory;
  maxRulesPerGroup: number;
  maxGroupsPerRegion: number;
  duplicateRules: 'error' | 'ignore';
  now: number;
}

const range = (r: PortRange | null) => (r ? `${r.from}/${r.to}` : '');

/**
 * A rule's identity: direction, protocol, port ranges, NicType, policy and both ends.
 * Priority and description are not part of it.
 */
export function identityOf(r: RuleDefinition): string {
  const peer = r.peerGroup
    ? `group:${r.peerGroup.ownerUid}:${r.peerGroup.groupId}`
    : r.peerIpv6Cidr
      ? `ipv6:${r.peerIpv6Cidr}`
      : `cidr:${r.peerCidr}`;
  return [
    r.direction,
    r.protocol,
    range(r.portRange),
    range(r.sourcePortRange),
    r.nicType,
    r.policy,
    peer,
    r.localCidr ?? '',
    r.localIpv6Cidr ?? '',
  ].join('|');
}

/** Evaluation order: priority, then drop before accept, then creation. */
export function evaluationOrder(a: Rule, b: Rule): number {
  if (a.priority !== b.priority) return a.priority - b.priority;
  if (a.policy !== b.policy) return a.policy === 'drop' ? -1 : 1;
  return a.seq - b.seq;
}

/** The caller's group in the region, or `InvalidSecurityGroupId.NotFound`. */
export async function ownGroup(
  tx: Tx,
  ownerUid: string,
  regionId: string,
  groupId: string,
  lock = false,
): Promise<SecurityGroup> {
  const g = lock ? await tx.lockGroup(groupId) : await tx.getGroup(groupId);
  if (!g || g.ownerUid !== ownerUid || g.regionId !== regionId) {
    throw apiError('InvalidSecurityGroupId.NotFound');
  }
  return g;
}

const REF_ERRORS: Record<Direction, Record<string, ErrorKey>> = {
  ingress: {
    notFound: 'InvalidSourceGroupId.NotFound',
    malformed: 'InvalidSourceGroup.NotFound',
    nic: 'InvalidSourceGroupId.Mismatch#nic',
    vpc: 'InvalidSourceGroupId.Mismatch#vpc',
    network: 'InvalidNetworkType.Mismatch',
    self: 'InvalidParamter.Conflict',
  },
  egress: {
    notFound: 'InvalidDestGroupId.NotFound',
    malformed: 'InvalidDestGroup.NotFound',
    nic: 'InvalidDestGroupId.Mismatch#nic',
    vpc: 'InvalidDestGroupId.Mismatch#vpc',
    network: 'InvalidNetworkType.Conflict',
    self: 'InvalidParamter.Conflict',
  },
};

/** The uid a group reference names: by uid, by account name, or the caller's. */
function ownerUidOf(
  far: Extract<FarEnd, { kind: 'group' }>,
  callerUid: string,
  accounts: AccountDirectory,
): string | undefined {
  if (far.ownerId !== undefined) return accounts.byUid(far.ownerId)?.uid;
  if (far.ownerAccount !== undefined) return accounts.byName(far.ownerAccount)?.uid;
  return callerUid;
}

/** What a rule is, without its id and creation time: enough for its identity. */
export type RuleDefinition = Omit<NewRule, 'id' | 'createTime'>;

function definition(
  group: SecurityGroup,
  input: PermissionInput,
  nicType: NicType,
  peerGroup: NewRule['peerGroup'],
): RuleDefinition {
  return {
    securityGroupId: group.id,
    direction: input.direction,
    protocol: input.protocol,
    portRange: input.portRange,
    sourcePortRange: input.sourcePortRange,
    nicType,
    policy: input.policy,
    priority: input.priority,
    peerCidr: input.far.kind === 'cidr' ? input.far.cidr : null,
    peerIpv6Cidr: input.far.kind === 'ipv6' ? input.far.cidr : null,
    peerGroup,
    localCidr: input.localCidr,
    localIpv6Cidr: input.localIpv6Cidr,
    peerCidrText: input.far.kind === 'group' ? null : input.far.written,
    localCidrText: input.localText,
    description: input.description,
  };
}

function defaultNicType(group: SecurityGroup, input: PermissionInput): NicType {
  return input.nicType ?? (group.vpcId || input.far.kind === 'group' ? 'intranet' : 'internet');
}

/**
 * Checks a permission against the model and builds the rule it defines:
 * NicType defaults, IPv6 only on VPC groups, group references (existence in
 * the owner's account, same region, same network type and VPC, not itself).
 * `lock` (default true): lock the referenced group (a write); false in a read-only
 * transaction. `fixed`: the rule's id and creation time (an import), else new ones.
 */
export async function resolvePermission(
  tx: Tx,
  ctx: DomainContext,
  group: SecurityGroup,
  input: PermissionInput,
  opts: { lock?: boolean; fixed?: Fixed } = {},
): Promise<NewRule> {
  const { lock = true, fixed } = opts;
  const errors = REF_ERRORS[input.direction];
  let peerGroup: NewRule['peerGroup'] = null;
  if (input.far.kind === 'group') {
    const far = input.far;
    if (input.nicType === 'internet') throw apiError(errors.nic!);
    if (group.type === 'enterprise') throw apiError('InvalidSecurityGroupType.NotSupportGroupAuth');
    if (!/^sg-[0-9a-z]{1,64}$/.test(far.groupId)) throw apiError(errors.malformed!);
    if (far.groupId === group.id) throw apiError(errors.self!);
    const ownerUid = ownerUidOf(far, group.ownerUid, ctx.accounts);
    // Locked: a concurrent DeleteSecurityGroup of the peer must see this reference.
    const ref = lock ? await tx.lockGroup(far.groupId) : await tx.getGroup(far.groupId);
    if (!ref || ref.ownerUid !== ownerUid || ref.regionId !== group.regionId) {
      throw apiError(errors.notFound!);
    }
    if (Boolean(ref.vpcId) !== Boolean(group.vpcId)) throw apiError(errors.network!);
    if (ref.vpcId !== group.vpcId) throw apiError(errors.vpc!);
    peerGroup = { groupId: ref.id, ownerUid: ref.ownerUid };
  }
  if (input.nicType === 'internet' && group.vpcId) throw apiError('InvalidNicType.Mismatch');
  if ((input.far.kind === 'ipv6' || input.localIpv6Cidr) && !group.vpcId) {
    throw apiError('InvalidSecurityGroup.InvalidNetworkType');
  }
  return {
    ...definition(group, input, defaultNicType(group, input), peerGroup),
    id: fixed?.id ?? newId('sgr'),
    createTime: fixed?.time ?? apiTime(ctx.now),
  };
}

/**
 * The identity a permission would have, for Revoke: the same defaults, but no
 * existence checks (a permission that names nothing simply matches nothing).
 */
function lookupIdentity(
  ctx: DomainContext,
  group: SecurityGroup,
  input: PermissionInput,
): string | null {
  let peerGroup: NewRule['peerGroup'] = null;
  if (input.far.kind === 'group') {
    const ownerUid = ownerUidOf(input.far, group.ownerUid, ctx.accounts);
    if (ownerUid === undefined) return null;
    peerGroup = { groupId: input.far.groupId, ownerUid };
  }
  return identityOf(definition(group, input, defaultNicType(group, input), peerGroup));
}

/** A rule a permission defines, checked against the model, with its identity. */
export interface PlannedRule {
  readonly rule: NewRule;
  readonly identity: string;
  /** The permission's place among the inputs. */
  readonly input: number;
}

/**
 * The rules `inputs` would add to `group`, checked as Authorize checks them (each against the
 * model, duplicates, the rule limit), writing nothing. `removing`: rules of the group that go
 * at the same time (a rule like one of them is no duplicate, and they free their places).
 * `lock`: lock referenced groups, as a write does.
 */
export async function plannedRules(
  tx: Tx,
  ctx: DomainContext,
  group: SecurityGroup,
  inputs: readonly PermissionInput[],
  opts: {
    removing?: ReadonlySet<string>;
    lock?: boolean;
    fixed?: readonly (Fixed | undefined)[];
  } = {},
): Promise<PlannedRule[]> {
  const removing = opts.removing ?? new Set<string>();
  const candidates: PlannedRule[] = [];
  for (const [i, input] of inputs.entries()) {
    const rule = await resolvePermission(tx, ctx, group, input, {
      lock: opts.lock,
      fixed: opts.fixed?.[i],
    });
    candidates.push({ rule, identity: identityOf(rule), input: i });
  }
  const fresh: PlannedRule[] = [];
  const seen = new Set<string>();
  const census = await tx.ruleCensus(group.id, [...new Set(candidates.map((c) => c.identity))]);
  for (const c of candidates) {
    const existing = seen.has(c.identity) ? undefined : census.found.get(c.identity);
    const dup = seen.has(c.identity) || (existing !== undefined && !removing.has(existing.id));
    if (dup) {
      if (ctx.duplicateRules === 'ignore') continue;
      throw apiError('InvalidPermission.Duplicate');
    }
    seen.add(c.identity);
    fresh.push(c);
  }
  const count = census.count - removing.size;
  if (count + fresh.length > ctx.maxRulesPerGroup) throw apiError('AuthorizationLimitExceed');
  return fresh;
}

/**
 * Adds every permission, or none: duplicates and the per-group limit are checked first.
 * `fixed[i]`, when given, is the id and creation time of the rule of `inputs[i]`.
 */
export async function authorize(
  tx: Tx,
  ctx: DomainContext,
  group: SecurityGroup,
  inputs: readonly PermissionInput[],
  fixed: readonly Fixed[] = [],
): Promise<Rule[]> {
  const added: Rule[] = [];
  for (const c of await plannedRules(tx, ctx, group, inputs, { fixed })) {
    try {
      added.push(await tx.insertRule(c.rule, c.identity));
    } catch (e) {
      if (e instanceof DuplicateRuleError) throw apiError('InvalidPermission.Duplicate');
      throw e;
    }
  }
  return added;
}

/** Removes the rules that match each permission; a permission matching nothing is not an error. */
export async function revokeByPermissions(
  tx: Tx,
  ctx: DomainContext,
  group: SecurityGroup,
  inputs: readonly PermissionInput[],
): Promise<number> {
  let removed = 0;
  for (const input of inputs) {
    const identity = lookupIdentity(ctx, group, input);
    const rule = identity === null ? undefined : await tx.findRuleByIdentity(group.id, identity);
    if (rule) {
      await tx.deleteRule(rule.id);
      removed++;
    }
  }
  return removed;
}

/**
 * The rule of `group` with the identity `input` defines (Modify by definition), or
 * `SecurityGroupRule.NotFound`.
 */
export async function findByDefinition(
  tx: Tx,
  ctx: DomainContext,
  group: SecurityGroup,
  input: PermissionInput,
): Promise<Rule> {
  const identity = lookupIdentity(ctx, group, input);
  const rule = identity === null ? undefined : await tx.findRuleByIdentity(group.id, identity);
  if (!rule) throw apiError('SecurityGroupRule.NotFound');
  return rule;
}

function ruleNotFound(direction: Direction) {
  return apiError(
    direction === 'ingress'
      ? 'InvalidParam.SecurityGroupRuleId'
      : 'InvalidSecurityGroupRule.RuleNotExist',
  );
}

/** A rule of `group` in `direction`, or the direction's not-found error. */
export async function ruleOf(tx: Tx, group: SecurityGroup, direction: Direction, ruleId: string) {
  const rule = await tx.getRule(ruleId);
  if (!rule || rule.securityGroupId !== group.id || rule.direction !== direction) {
    throw ruleNotFound(direction);
  }
  return rule;
}

/** Removes the named rules; every id must name a rule of the group in that direction. */
export async function revokeByIds(
  tx: Tx,
  group: SecurityGroup,
  direction: Direction,
  ruleIds: readonly string[],
): Promise<void> {
  const rules = [];
  for (const id of ruleIds) rules.push(await ruleOf(tx, group, direction, id));
  for (const r of rules) await tx.deleteRule(r.id);
}

/** Replaces a rule's definition in place (same id, seq and creation time). */
export async function modifyRule(
  tx: Tx,
  ctx: DomainContext,
  group: SecurityGroup,
  existing: Rule,
  input: PermissionInput,
): Promise<Rule> {
  if (
    input.direction === 'egress' &&
    input.far.kind === 'group' &&
    input.far.groupId === group.id
  ) {
    throw apiError('InvalidSecurityGroup.IsSame');
  }
  const built = await resolvePermission(tx, ctx, group, input);
  const updated: Rule = {
    ...built,
    id: existing.id,
    seq: existing.seq,
    createTime: existing.createTime,
  };
  const identity = identityOf(updated);
  const other = await tx.findRuleByIdentity(group.id, identity);
  if (other && other.id !== existing.id) throw apiError('InvalidPermission.Duplicate');
  try {
    await tx.updateRule(updated, identity);
  } catch (e) {
    if (e instanceof DuplicateRuleError) throw apiError('InvalidPermission.Duplicate');
    throw e;
  }
  return updated;
}
