/**
 * A proposed change for the analysis actions: `Add.N.*` (the permission fields of Authorize,
 * with `Direction`, and — at an interface in several groups — `SecurityGroupId`) and
 * `Remove.N` (rule ids). Parsed and checked as Authorize and Revoke check them; nothing is
 * stored: added rules get the ids `Add.N` and come after every rule in creation order.
 */
import { type DomainContext, type PermissionInput, plannedRules } from '../domain/rules.js';
import type { Tx } from '../domain/store.js';
import type { Rule, SecurityGroup } from '../domain/types.js';
import { apiError } from '../errors.js';
import type { Params } from './params.js';
import { parsePermission } from './permission.js';

export interface WhatIfRequest {
  readonly add: readonly { n: number; groupId: string | undefined; input: PermissionInput }[];
  readonly remove: readonly { n: number; id: string }[];
}

const MAX = 100;

/** The proposed change of a request, or undefined when it proposes none. */
export function parseWhatIf(p: Params): WhatIfRequest | undefined {
  const add = [...p.indexed('Add', MAX)].map(([n, sub]) => {
    const direction = sub.oneOf('Direction', ['ingress', 'egress'] as const, 'InvalidParameter');
    if (direction === undefined) throw apiError('MissingParameter', `${sub.prefix}Direction`);
    return { n, groupId: sub.opt('SecurityGroupId'), input: parsePermission(sub, direction) };
  });
  const remove = [...p.indexed('Remove', MAX)].flatMap(([n, sub]) => {
    const id = sub.opt('');
    return id === undefined ? [] : [{ n, id }];
  });
  return add.length === 0 && remove.length === 0 ? undefined : { add, remove };
}

/** Where an added rule goes: the group analyzed, or one of the interface's groups. */
export interface Targets {
  readonly groups: readonly SecurityGroup[];
  /** What names the analyzed thing in error messages (a group or interface id). */
  readonly subject: string;
  /** The group of `Add.N` when it names none, or undefined when it must name one. */
  readonly fallback: SecurityGroup | undefined;
  /** The error when `Add.N.SecurityGroupId` is not one of `groups`. */
  readonly notOurs: (param: string, groupId: string) => Error;
}

/**
 * The change as rules: each `Remove.N` must name one of `rules`; each `Add.N` is checked
 * against its group as Authorize would check it (with that group's removals counted).
 */
export async function resolveWhatIf(
  tx: Tx,
  ctx: DomainContext,
  req: WhatIfRequest,
  rules: readonly Rule[],
  targets: Targets,
): Promise<{ add: Rule[]; remove: Set<string> }> {
  const byId = new Map(rules.map((r) => [r.id, r]));
  for (const r of req.remove) {
    if (!byId.has(r.id)) {
      throw apiError(
        'InvalidParam.SecurityGroupRuleId#whatif',
        r.id,
        `Remove.${r.n}`,
        targets.subject,
      );
    }
  }
  const remove = new Set(req.remove.map((r) => r.id));
  const targetOf = (a: WhatIfRequest['add'][number]): SecurityGroup => {
    if (a.groupId === undefined) {
      if (targets.fallback === undefined) {
        throw apiError('MissingParameter', `Add.${a.n}.SecurityGroupId`);
      }
      return targets.fallback;
    }
    const g = targets.groups.find((x) => x.id === a.groupId);
    if (g === undefined) throw targets.notOurs(`Add.${a.n}.SecurityGroupId`, a.groupId);
    return g;
  };
  const byGroup = new Map<SecurityGroup, WhatIfRequest['add'][number][]>();
  for (const a of req.add) {
    const g = targetOf(a);
    byGroup.set(g, [...(byGroup.get(g) ?? []), a]);
  }
  const added: { n: number; rule: Omit<Rule, 'seq'> }[] = [];
  for (const [g, mine] of byGroup) {
    const removing = new Set([...remove].filter((id) => byId.get(id)!.securityGroupId === g.id));
    const planned = await plannedRules(
      tx,
      ctx,
      g,
      mine.map((a) => a.input),
      { removing, lock: false },
    );
    for (const p of planned) {
      const n = mine[p.input]!.n;
      added.push({ n, rule: { ...p.rule, id: `Add.${n}` } });
    }
  }
  // after every rule in creation order, in the order of N
  const last = Math.max(0, ...rules.map((r) => r.seq));
  const add = added.sort((x, y) => x.n - y.n).map((a, i) => ({ ...a.rule, seq: last + 1 + i }));
  return { add, remove };
}
