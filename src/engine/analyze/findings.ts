/**
 * Findings: what the judgement, the conflicts and the exposures mean for a reader, each with
 * a severity, the rules concerned, a witness packet where there is one, and a message.
 */
import type { Rule } from '../../domain/types.js';
import type { Exposure } from './exposure.js';
import type { Conflict, RuleJudgement } from './judge.js';
import type { Entry, Members } from './model.js';
import { PUBLIC_SIZE } from './public.js';
import { type Witness, witnessOf } from './witness.js';

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const FINDING_TYPES = [
  'Exposure',
  'Conflict',
  'Unreachable',
  'EmptyReference',
  'NoEffect',
] as const;
export type FindingType = (typeof FINDING_TYPES)[number];

export interface Finding {
  readonly type: FindingType;
  readonly severity: Severity;
  readonly rules: readonly Rule[];
  readonly witness: Witness | null;
  readonly message: string;
  /** Exposure: the port, and how many public addresses of each family reach it. */
  readonly port?: number;
  readonly reach?: Readonly<Record<4 | 6, bigint>>;
  /** Exposure: inner access accepts some of it; Unreachable: inner access is in the cover. */
  readonly innerAccess?: boolean;
}

/** How findings are worded: rule ids with their group when several groups are analyzed. */
export interface Wording {
  readonly withGroups: boolean;
  readonly members: Members;
}

const rulesOf = (entries: readonly Entry[]): Rule[] =>
  entries.flatMap((e) => (e.rule === null ? [] : [e.rule]));

function name(r: Rule, w: Wording): string {
  return w.withGroups ? `${r.id} of ${r.securityGroupId}` : r.id;
}

function names(entries: readonly (Entry | null)[], w: Wording): string {
  return entries
    .map((e) => (e === null ? 'the default' : e.rule === null ? 'inner access' : name(e.rule, w)))
    .join(', ');
}

/** "(sg-1 judged by its 2 member addresses now)" for the group references among `rules`. */
function references(rules: readonly Rule[], w: Wording): string {
  const groups = [...new Set(rules.flatMap((r) => (r.peerGroup ? [r.peerGroup.groupId] : [])))];
  if (groups.length === 0) return '';
  const each = groups.map((g) => {
    const n = w.members(g).length;
    return `${g} by its ${n} member address${n === 1 ? '' : 'es'}`;
  });
  return ` (group references judged by the members they have now: ${each.join('; ')})`;
}

function describe(r: Rule): string {
  const ports =
    r.protocol === 'tcp' || r.protocol === 'udp' ? ` ${r.portRange.from}/${r.portRange.to}` : '';
  return `${r.policy} ${r.protocol}${ports} at priority ${r.priority}`;
}

function unreachable(j: RuleJudgement, w: Wording): Finding {
  const rule = j.entry.rule!;
  const inner = j.blockedBy.some((e) => e.rule === null);
  const drop = rule.policy === 'drop';
  const severity = j.kind === 'Redundant' ? 'low' : drop ? 'high' : 'medium';
  const why = j.matchesNothing
    ? 'it matches no packet at all'
    : j.kind === 'Shadowed'
      ? `every packet it matches is decided first by ${names(j.blockedBy, w)}, and among them what it would ${rule.policy} is ${drop ? 'accepted' : 'dropped'}: it never has its effect`
      : `every packet it matches is decided first by ${names(j.blockedBy, w)}, to the same effect`;
  const others = j.byOtherGroups
    ? ' It is shadowed by the rules of other groups of the interface: its own group does not cover it.'
    : '';
  return {
    type: 'Unreachable',
    severity,
    rules: [rule, ...rulesOf(j.blockedBy)],
    witness: null,
    message: `${name(rule, w)} (${describe(rule)}) never decides: ${why}.${others}${references([rule, ...rulesOf(j.blockedBy)], w)}`,
    innerAccess: inner,
  };
}

function noEffect(j: RuleJudgement, w: Wording): Finding {
  const rule = j.entry.rule!;
  const instead = j.noEffect!;
  return {
    type: 'NoEffect',
    severity: 'low',
    rules: [rule, ...rulesOf(instead.filter((e): e is Entry => e !== null))],
    witness: witnessOf(j.decides!),
    message: `${name(rule, w)} (${describe(rule)}) decides some packets, but removing it would change no verdict: ${names(instead, w)} would ${rule.policy} them all the same.${references([rule], w)}`,
  };
}

function emptyReference(rule: Rule, w: Wording): Finding {
  return {
    type: 'EmptyReference',
    severity: 'medium',
    rules: [rule],
    witness: null,
    message: `${name(rule, w)} (${describe(rule)}) names ${rule.peerGroup!.groupId}, which has no members now: it matches no packet until an interface joins that group.`,
  };
}

function conflict(c: Conflict, w: Wording): Finding {
  const d = c.drop.rule!;
  const a = c.accept.rule!;
  return {
    type: 'Conflict',
    severity: 'medium',
    rules: [d, a],
    witness: witnessOf(c.leaf),
    message: `${name(d, w)} (${describe(d)}) and ${name(a, w)} (${describe(a)}) both match some packets at equal priority; the drop wins, which may not be what was meant.${references([d, a], w)}`,
  };
}

function exposureSeverity(reach: Readonly<Record<4 | 6, bigint>>): Severity {
  if (reach[4] >= 2n ** 24n || reach[6] >= 2n ** 96n) return 'critical';
  if (reach[4] >= 2n ** 16n || reach[6] >= 2n ** 80n) return 'high';
  if (reach[4] >= 2n ** 8n || reach[6] >= 2n ** 64n) return 'medium';
  return 'low';
}

function share(n: bigint, of: bigint): string {
  const pct = Number((n * 1000000n) / of) / 10000;
  return `${pct >= 0.01 || n === 0n ? pct.toFixed(2) : '< 0.01'}%`;
}

function exposure(x: Exposure, w: Wording): Finding {
  const w4 =
    x.reach[4] === 0n
      ? ''
      : `${x.reach[4]} public IPv4 addresses (${share(x.reach[4], BigInt(PUBLIC_SIZE[4]))} of them)`;
  const w6 =
    x.reach[6] === 0n ? '' : `${share(x.reach[6], PUBLIC_SIZE[6])} of the public IPv6 space`;
  const from = [w4, w6].filter((s) => s !== '').join(' and ');
  const rules = rulesOf(x.acceptedBy);
  return {
    type: 'Exposure',
    severity: exposureSeverity(x.reach),
    rules,
    witness: witnessOf(x.witness),
    message: `port ${x.port} is reachable from ${from}, accepted by ${names(x.acceptedBy, w)}.${references(rules, w)}`,
    port: x.port,
    reach: x.reach,
    innerAccess: x.acceptedBy.some((e) => e.rule === null),
  };
}

const rank = (f: Finding) => SEVERITIES.indexOf(f.severity);

/** Every finding, the most severe first. */
export function findings(
  judged: readonly RuleJudgement[],
  found: { conflicts: readonly Conflict[]; exposures: readonly Exposure[] },
  w: Wording,
): Finding[] {
  const out: Finding[] = [
    ...found.exposures.map((x) => exposure(x, w)),
    ...found.conflicts.map((c) => conflict(c, w)),
  ];
  for (const j of judged) {
    const rule = j.entry.rule!;
    if (j.decides === null) out.push(unreachable(j, w));
    else if (j.noEffect !== null) out.push(noEffect(j, w));
    if (rule.peerGroup !== null && w.members(rule.peerGroup.groupId).length === 0) {
      out.push(emptyReference(rule, w));
    }
  }
  return out
    .map((f, i) => ({ f, i }))
    .sort(
      (x, y) =>
        rank(y.f) - rank(x.f) ||
        FINDING_TYPES.indexOf(x.f.type) - FINDING_TYPES.indexOf(y.f.type) ||
        x.i - y.i,
    )
    .map((x) => x.f);
}
