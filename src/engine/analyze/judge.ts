/**
 * Each rule judged over the leaves: it decides the leaves it comes first in. A rule that
 * decides none is unreachable, and the leaves that hold it are all decided by earlier
 * entries: a set of earlier entries covers every packet it matches exactly when it meets
 * every one of those leaves (a hitting set, chosen greedily and then pruned). A reachable rule
 * whose leaves would all get the same verdict from the entry after it (or the default) has no
 * effect. Accept and drop rules of equal priority in one leaf that the drop decides conflict.
 */
import type { Direction, Policy } from '../../domain/types.js';
import type { Leaf } from './leaves.js';
import type { Entry } from './model.js';
import { memo } from './spans.js';

export type Defaults = Readonly<Record<Direction, Policy>>;

export interface RuleJudgement {
  readonly entry: Entry;
  /** A leaf it decides (its witness), or null: unreachable. */
  readonly decides: Leaf | null;
  /** Unreachable: earlier entries that together cover every packet it matches. */
  readonly blockedBy: readonly Entry[];
  /** Unreachable: Shadowed (its cover needs the other policy) or Redundant. */
  readonly kind: 'Shadowed' | 'Redundant' | null;
  /** Unreachable because it matches no packet at all (a group reference without members). */
  readonly matchesNothing: boolean;
  /**
   * Unreachable, and its own group's earlier rules (with inner access) do not cover it: rules
   * of the interface's other groups are needed, it is shadowed by another group's rule.
   */
  readonly byOtherGroups: boolean;
  /**
   * Reachable, and its removal would change no verdict: what would decide its packets
   * instead (null: the default). Null when removing it changes a verdict.
   */
  readonly noEffect: readonly (Entry | null)[] | null;
}

export interface Conflict {
  readonly drop: Entry;
  readonly accept: Entry;
  /** A leaf matched by both and decided by the drop. */
  readonly leaf: Leaf;
}

/**
 * A small set of candidates — entries before index `before` that `ok` allows — that meets
 * every one of `sets`: the greedy choice (the candidate meeting the most sets not met yet,
 * the earliest on ties), then pruned of choices the others make unnecessary. By index.
 */
function hittingSet(
  sets: readonly (readonly Entry[])[],
  before: number,
  ok: (e: Entry) => boolean,
): Entry[] {
  // candidates by index: the sets each meets, and how many of those are not met yet
  const within: (number[] | undefined)[] = new Array(before);
  const byIndex: Entry[] = [];
  const candidates: number[] = [];
  sets.forEach((s, i) => {
    for (const e of s) {
      if (e.index >= before) break;
      if (!ok(e)) continue;
      let list = within[e.index];
      if (list === undefined) {
        list = [];
        within[e.index] = list;
        byIndex[e.index] = e;
        candidates.push(e.index);
      }
      list.push(i);
    }
  });
  // plain arrays: small typed arrays cost more to make than they save here
  const open: number[] = [];
  for (const c of candidates) open[c] = within[c]!.length;
  candidates.sort((x, y) => x - y);
  const hits: number[] = new Array(sets.length).fill(0);
  const chosen: number[] = [];
  let left = sets.length;
  while (left > 0) {
    let best = -1;
    for (const c of candidates) if (open[c]! > (best < 0 ? 0 : open[best]!)) best = c;
    if (best < 0) throw new Error('no candidate meets a leaf');
    chosen.push(best);
    for (const i of within[best]!) {
      hits[i]!++;
      if (hits[i] !== 1) continue;
      left--;
      for (const e of sets[i]!) {
        if (e.index >= before) break;
        if (within[e.index] !== undefined) open[e.index]!--;
      }
    }
  }
  for (let k = chosen.length - 1; k >= 0; k--) {
    const list = within[chosen[k]!]!;
    if (list.every((i) => hits[i]! > 1)) {
      for (const i of list) hits[i]!--;
      chosen.splice(k, 1);
    }
  }
  return chosen.sort((x, y) => x - y).map((c) => byIndex[c]!);
}

/** The entry the most of `leaves` are decided by, among those `ok` allows. */
function mostDeciding(leaves: readonly (readonly Entry[])[], ok: (e: Entry) => boolean) {
  const count = new Map<Entry, number>();
  for (const s of leaves) if (ok(s[0]!)) count.set(s[0]!, (count.get(s[0]!) ?? 0) + 1);
  return [...count].sort((x, y) => y[1] - x[1] || x[0].index - y[0].index)[0]?.[0];
}

/** The cover of an unreachable entry from the earlier entries of each leaf that holds it. */
function blockers(e: Entry, holding: readonly (readonly Entry[])[]) {
  const before = e.index;
  /** Whether an entry before `e` in `s` satisfies `f`. */
  const earlier = (s: readonly Entry[], f: (c: Entry) => boolean) => {
    for (const c of s) {
      if (c.index >= before) return false;
      if (f(c)) return true;
    }
    return false;
  };
  const own = (c: Entry) => c.rule === null || c.rule.securityGroupId === e.rule!.securityGroupId;
  const byOtherGroups = !holding.every((s) => earlier(s, own));
  const same = (c: Entry) => c.policy === e.policy;
  if (holding.every((s) => earlier(s, same))) {
    const cover = hittingSet(holding, before, same);
    // the first entry of a leaf holding `e` comes before it
    const other = mostDeciding(holding, (c) => !same(c));
    if (other !== undefined) cover.push(other);
    const blockedBy = cover.sort((x, y) => x.index - y.index);
    return { kind: 'Redundant' as const, blockedBy, byOtherGroups };
  }
  return {
    kind: 'Shadowed' as const,
    blockedBy: hittingSet(holding, before, () => true),
    byOtherGroups,
  };
}

/** Judges every rule entry of `rules` over the leaves (entries of one model). */
export function judge(
  rules: readonly Entry[],
  leaves: readonly Leaf[],
  defaults: Defaults,
): RuleJudgement[] {
  const decides = new Map<Entry, Leaf>();
  const takeover = new Map<Entry, Set<Entry | null>>();
  const effective = new Set<Entry>();
  for (const leaf of leaves) {
    const [first, next] = leaf.entries;
    if (first === undefined) continue;
    if (!decides.has(first)) decides.set(first, leaf);
    const instead = next ?? null;
    const verdict = instead?.policy ?? defaults[leaf.slot.direction];
    if (verdict !== first.policy) effective.add(first);
    else memo(takeover, first, () => new Set()).add(instead);
  }
  // The leaves that hold an unreachable rule (its earlier entries come before it there).
  const holding: (readonly Entry[])[][] = [];
  for (const leaf of leaves) {
    const es = leaf.entries;
    for (let i = 1; i < es.length; i++) {
      const e = es[i]!;
      if (decides.has(e)) continue;
      const list = holding[e.index];
      if (list === undefined) holding[e.index] = [es];
      else list.push(es);
    }
  }
  return rules.map((entry) => {
    const leaf = decides.get(entry) ?? null;
    if (leaf !== null) {
      return {
        entry,
        decides: leaf,
        blockedBy: [],
        kind: null,
        matchesNothing: false,
        byOtherGroups: false,
        noEffect: effective.has(entry) ? null : [...(takeover.get(entry) ?? [])],
      };
    }
    const held = holding[entry.index] ?? [];
    const b =
      held.length === 0
        ? { kind: 'Redundant' as const, blockedBy: [], byOtherGroups: false }
        : blockers(entry, held);
    return { entry, decides: null, ...b, matchesNothing: held.length === 0, noEffect: null };
  });
}

/** Accept rules overlapping a drop of the same priority where that drop decides. */
export function conflicts(leaves: readonly Leaf[]): Conflict[] {
  const found = new Map<string, Conflict>();
  for (const leaf of leaves) {
    const [drop, ...rest] = leaf.entries;
    if (drop?.rule == null || drop.policy !== 'drop') continue;
    for (const e of rest) {
      if (e.rule!.priority !== drop.rule.priority) break;
      if (e.policy !== 'accept') continue;
      const key = `${drop.index}:${e.index}`;
      if (!found.has(key)) found.set(key, { drop, accept: e, leaf });
    }
  }
  return [...found.values()].sort(
    (x, y) => x.drop.index - y.drop.index || x.accept.index - y.accept.index,
  );
}
