/**
 * The rule analyzer: pure, exact, no sampling. Given the rules that apply at an interface
 * (or at an interface that is in one group alone), the addresses inner access accepts, the
 * default of egress and the members of referenced groups, it judges every rule (reachable,
 * with a packet it decides; or unreachable, with the earlier rules that cover it), finds
 * exposures, conflicts, empty references, unreachable rules and rules without effect, and —
 * given a proposed change — the regions of packets whose verdict it changes.
 */
import type { Direction, Policy, Rule } from '../../domain/types.js';
import type { Addr } from '../address.js';
import type { Decision } from '../packet.js';
import { type Change, changes } from './changes.js';
import { DEFAULT_EXPOSURE_PORTS, exposures } from './exposure.js';
import { type Finding, findings } from './findings.js';
import { conflicts, type Defaults, judge } from './judge.js';
import { afterLeaves, collectLeaves } from './leaves.js';
import { buildEntries, buildSlots, type Entry, type Members } from './model.js';
import { memo } from './spans.js';
import type { Subject } from './subject.js';
import { picker, type Witness, witnessOf } from './witness.js';

export { DEFAULT_EXPOSURE_PORTS } from './exposure.js';
export {
  FINDING_TYPES,
  type Finding,
  type FindingType,
  SEVERITIES,
  type Severity,
} from './findings.js';
export { isPublic, PUBLIC4, PUBLIC6 } from './public.js';
export { groupSubject, interfaceSubject, type Subject } from './subject.js';
export { type Witness, witnessPacket } from './witness.js';

/** What is analyzed (see `groupSubject`, `interfaceSubject`), and how. */
export interface AnalysisInput extends Subject {
  /** Only these directions (default both). */
  readonly directions?: readonly Direction[];
  /** Ports whose exposure to public addresses is reported (default DEFAULT_EXPOSURE_PORTS). */
  readonly exposurePorts?: readonly number[];
  /** A proposed change: rules added (ids of the caller's choice) and rule ids removed. */
  readonly whatIf?: { readonly add: readonly Rule[]; readonly remove: ReadonlySet<string> };
  /** Name rules with their groups in messages (several groups analyzed together). */
  readonly withGroups?: boolean;
}

export interface RuleResult {
  readonly rule: Rule;
  readonly reachable: boolean;
  /** Reachable: a packet this rule decides. */
  readonly witness: Witness | null;
  /** Unreachable: earlier rules that together cover every packet it matches. */
  readonly blockedBy: readonly Rule[];
  /** Unreachable: inner access is part of that cover. */
  readonly blockedByInnerAccess: boolean;
  readonly kind: 'Shadowed' | 'Redundant' | null;
  /** Unreachable only because of rules of the interface's other groups. */
  readonly blockedByOtherGroups: boolean;
}

export interface ChangeResult {
  readonly direction: Direction;
  readonly before: Decision;
  readonly after: Decision;
  /** A packet of the region whose verdict changes. */
  readonly witness: Witness;
}

export interface Analysis {
  /** The rules (after the proposed change, when there is one), ingress first, in decision order. */
  readonly rules: readonly RuleResult[];
  readonly findings: readonly Finding[];
  /** Empty without a proposed change, and when it changes no verdict. */
  readonly changes: readonly ChangeResult[];
}

const DIRECTIONS: readonly Direction[] = ['ingress', 'egress'];

function model(input: AnalysisInput) {
  const directions = input.directions ?? DIRECTIONS;
  const known = new Map<string, readonly Addr[]>();
  const members: Members = (id) => memo(known, id, () => input.members(id));
  const inScope = (r: Rule) => directions.includes(r.direction);
  const entries = buildEntries(
    {
      rules: input.rules.filter(inScope),
      add: input.whatIf?.add.filter(inScope),
      remove: input.whatIf?.remove,
    },
    members,
    input.innerPeers,
  );
  const pick = picker(input.localHints);
  const leaves = collectLeaves(buildSlots(entries, directions), pick);
  const defaults: Defaults = { ingress: 'drop', egress: input.egressDefault };
  const after = input.whatIf === undefined ? leaves : afterLeaves(leaves);
  const rules = entries
    .filter((e) => e.after && e.rule !== null)
    .sort((x, y) => directions.indexOf(x.rule!.direction) - directions.indexOf(y.rule!.direction));
  return { directions, members, entries, pick, leaves, after, defaults, rules };
}

function decision(entry: Entry | null, verdict: Policy): Decision {
  if (entry === null) return { verdict, reason: 'default' };
  const r = entry.rule;
  if (r === null) return { verdict, reason: 'inner-access' };
  return {
    verdict,
    reason: 'rule',
    rule: {
      securityGroupId: r.securityGroupId,
      securityGroupRuleId: r.id,
      priority: r.priority,
      policy: r.policy,
    },
  };
}

function changeResult(c: Change): ChangeResult {
  return {
    direction: c.direction,
    before: decision(c.before.entry, c.before.verdict),
    after: decision(c.after.entry, c.after.verdict),
    witness: witnessOf(c.witness),
  };
}

export function analyze(input: AnalysisInput): Analysis {
  const m = model(input);
  const judged = judge(m.rules, m.after, m.defaults);
  const afterEntries = m.entries.filter((e) => e.after);
  const found = {
    conflicts: conflicts(m.after),
    exposures: m.directions.includes('ingress')
      ? exposures(afterEntries, input.exposurePorts ?? DEFAULT_EXPOSURE_PORTS, m.pick)
      : [],
  };
  return {
    rules: judged.map((j) => ({
      rule: j.entry.rule!,
      reachable: j.decides !== null,
      witness: j.decides === null ? null : witnessOf(j.decides),
      blockedBy: j.blockedBy.flatMap((e) => (e.rule === null ? [] : [e.rule])),
      blockedByInnerAccess: j.blockedBy.some((e) => e.rule === null),
      kind: j.kind,
      blockedByOtherGroups: j.byOtherGroups,
    })),
    findings: findings(judged, found, {
      withGroups: input.withGroups ?? false,
      members: m.members,
    }),
    changes: input.whatIf === undefined ? [] : changes(m.leaves, m.defaults).map(changeResult),
  };
}
