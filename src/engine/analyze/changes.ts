/**
 * What a proposed change does: over the leaves of the rules before and after it together,
 * each leaf is decided once by the entries before the change and once by those after; where
 * the verdicts differ, the packets of that leaf change. Leaves are grouped by direction and
 * the two deciding entries: one region of packets each, with the witness of its first leaf.
 */
import type { Direction, Policy } from '../../domain/types.js';
import type { Defaults } from './judge.js';
import type { Leaf } from './leaves.js';
import type { Entry } from './model.js';

export interface Side {
  /** The deciding entry, or null: the default. */
  readonly entry: Entry | null;
  readonly verdict: Policy;
}

export interface Change {
  readonly direction: Direction;
  readonly before: Side;
  readonly after: Side;
  readonly witness: Leaf;
}

function side(leaf: Leaf, defaults: Defaults, which: 'before' | 'after'): Side {
  const entry = leaf.entries.find((e) => e[which]) ?? null;
  return { entry, verdict: entry?.policy ?? defaults[leaf.slot.direction] };
}

export function changes(leaves: readonly Leaf[], defaults: Defaults): Change[] {
  const found = new Map<string, Change>();
  for (const leaf of leaves) {
    const before = side(leaf, defaults, 'before');
    const after = side(leaf, defaults, 'after');
    if (before.verdict === after.verdict) continue;
    const key = `${leaf.slot.direction}:${before.entry?.index}:${after.entry?.index}`;
    if (!found.has(key)) {
      found.set(key, { direction: leaf.slot.direction, before, after, witness: leaf });
    }
  }
  return [...found.values()];
}
