/**
 * Exposure of listed ports: for each port, the public peer addresses from which some tcp or
 * udp packet to it is accepted at ingress (on either NicType, from any source port, to any
 * local address), exactly: in each slot the destination port is cut first; under every piece
 * holding listed ports, each elementary peer interval with an accepting leaf under it counts
 * with its public part.
 */
import type { Cell } from './leaves.js';
import { buildSlots, DPORT, type Entry, type Family, LOCAL, PEER, SPORT } from './model.js';
import { PUBLIC4, PUBLIC6 } from './public.js';
import { intersect, memo, normalize, type Span, totalSize, type Value } from './spans.js';
import { firstBit, type Pick, rowKey, Sweep } from './sweep.js';

/** The default list: remote administration, databases, caches, search, container daemons. */
export const DEFAULT_EXPOSURE_PORTS: readonly number[] = [
  20, 21, 22, 23, 25, 135, 139, 445, 1433, 1521, 2375, 3306, 3389, 5432, 5601, 5900, 6379, 9200,
  9300, 11211, 27017,
];

export interface Exposure {
  readonly port: number;
  /** An accepted packet from a public peer to the port. */
  readonly witness: Cell;
  /** Every entry that accepts such packets (inner access included), in decision order. */
  readonly acceptedBy: readonly Entry[];
  /** How many public addresses reach the port, per family. */
  readonly reach: Readonly<Record<Family, bigint>>;
}

interface Accepting {
  readonly by: readonly Entry[];
  readonly point: readonly Value[] | null;
}

/** What accepts under `row` (local address and source port left): accept deciders, a point. */
function accepting(sweep: Sweep, row: Int32Array, pick: Pick): Accepting {
  const by = new Set<Entry>();
  let point: Value[] | null = null;
  sweep.leaves(
    pick,
    (r, pt) => {
      const bit = firstBit(r);
      const first = bit < 0 ? undefined : sweep.slot.items[bit]!.entry;
      if (first?.policy !== 'accept') return;
      by.add(first);
      point ??= pt();
    },
    [LOCAL, SPORT],
    row,
  );
  return { by: [...by], point };
}

/** What one set of entries (those of a destination-port piece) exposes to public peers. */
interface Reach {
  readonly spans: Readonly<Record<Family, readonly Span[]>>;
  readonly by: ReadonlySet<Entry>;
  /** An accepted packet from a public peer (its destination port to be set). */
  readonly point: readonly Value[] | null;
}

function reach(sweep: Sweep, row: Int32Array, pick: Pick, known: Map<string, Accepting>): Reach {
  const spans: Record<Family, Span[]> = { 4: [], 6: [] };
  const by = new Set<Entry>();
  let point: Value[] | null = null;
  sweep.pieces(PEER, row, (lo, hi, sub) => {
    const fam = typeof lo === 'bigint' ? 6 : 4;
    const pub = intersect({ lo, hi }, fam === 4 ? PUBLIC4 : PUBLIC6);
    if (pub.length === 0) return;
    const acc = memo(known, rowKey(sub), () => accepting(sweep, sub, pick));
    if (acc.point === null) return;
    spans[fam].push(...pub);
    for (const e of acc.by) by.add(e);
    if (point === null) {
      point = [...acc.point];
      point[PEER] = pick(pub[0]!.lo, pub[0]!.hi, PEER);
    }
  });
  return { spans, by, point };
}

/**
 * The exposure of each port in `ports` to the rules (and inner access) `entries` hold: per
 * slot, the destination port is cut first, and each distinct set of entries of a piece that
 * holds listed ports is swept once for all of them.
 */
export function exposures(
  entries: readonly Entry[],
  ports: readonly number[],
  pick: Pick,
): Exposure[] {
  const listed = [...new Set(ports)].sort((x, y) => x - y);
  const acc = new Map<
    number,
    { spans: Record<Family, Span[]>; by: Set<Entry>; witness: Cell | null }
  >(listed.map((p) => [p, { spans: { 4: [], 6: [] }, by: new Set(), witness: null }]));
  for (const slot of buildSlots(entries, ['ingress'], ['tcp', 'udp'])) {
    if (slot.items.length === 0) continue;
    const sweep = new Sweep(slot);
    const reached = new Map<string, Reach>();
    const accepted = new Map<string, Accepting>();
    sweep.pieces(DPORT, sweep.all, (lo, hi, sub) => {
      const inside = listed.filter((p) => lo <= p && p <= hi);
      if (inside.length === 0) return;
      const r = memo(reached, rowKey(sub), () => reach(sweep, sub, pick, accepted));
      if (r.point === null) return;
      for (const port of inside) {
        const a = acc.get(port)!;
        a.spans[4].push(...r.spans[4]);
        a.spans[6].push(...r.spans[6]);
        for (const e of r.by) a.by.add(e);
        if (a.witness === null) {
          const point = [...r.point];
          point[DPORT] = port;
          a.witness = { slot, point };
        }
      }
    });
  }
  const out: Exposure[] = [];
  for (const [port, a] of acc) {
    if (a.witness === null) continue;
    out.push({
      port,
      witness: a.witness,
      acceptedBy: [...a.by].sort((x, y) => x.index - y.index),
      reach: { 4: totalSize(normalize(a.spans[4])), 6: totalSize(normalize(a.spans[6])) },
    });
  }
  return out;
}
