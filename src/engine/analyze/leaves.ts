/**
 * The leaves of a model: every distinct set of entries that together match a whole cell of
 * the packet space (and nothing else matches any of it), per direction, each with a witness.
 * They partition every slot, so whatever holds for each leaf holds for every packet.
 */
import type { Direction } from '../../domain/types.js';
import type { Entry, Slot } from './model.js';
import type { Value } from './spans.js';
import { bitsOf, type Pick, Sweep } from './sweep.js';

/** A point of the packet space: a slot and a value per dimension. */
export interface Cell {
  readonly slot: Slot;
  readonly point: readonly Value[];
}

/** A leaf, with a point of one of its cells. */
export interface Leaf extends Cell {
  /** The entries that match the whole cell, in decision order. */
  readonly entries: readonly Entry[];
}

const leafKey = (direction: Direction, entries: readonly Entry[]): string =>
  `${direction}:${entries.map((e) => `${e.index},`).join('')}`;

/**
 * The leaves of `slots`, distinct in each slot (a slot without entries has none worth
 * telling). Slots of other protocols may repeat a set of entries; whatever uses the leaves
 * does not mind.
 */
export function collectLeaves(slots: readonly Slot[], pick: Pick): Leaf[] {
  const out: Leaf[] = [];
  for (const slot of slots) {
    if (slot.items.length === 0) continue;
    new Sweep(slot).leaves(pick, (row, point) => {
      out.push({ slot, point: point(), entries: bitsOf(row).map((b) => slot.items[b]!.entry) });
    });
  }
  return out;
}

/** The leaves as the rules after a proposed change see them (entries not `after` left out). */
export function afterLeaves(leaves: readonly Leaf[]): Leaf[] {
  const seen = new Set<string>();
  const out: Leaf[] = [];
  for (const l of leaves) {
    const entries = l.entries.filter((e) => e.after);
    const key = leafKey(l.slot.direction, entries);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ ...l, entries });
  }
  return out;
}
