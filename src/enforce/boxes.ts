/**
 * Rules as boxes: each rule of one direction matches a box of packet space — protocol,
 * far-end address (or "a member of group G"), destination port, source port, near-end
 * address — and all its packets get the rule's policy. nftables interval sets with
 * concatenations hold boxes as elements; a set lookup costs the same whatever the number of
 * elements, but the kernel refuses an element whose corner lies inside another (pipapo), so
 * the boxes of one set must not overlap. This module turns a list of boxes with one verdict
 * into the fewest sets of pairwise disjoint boxes it can: boxes inside another are dropped,
 * boxes that differ in one dimension only are merged, and the rest are packed first-fit.
 */
import type { Rule } from '../domain/types.js';
import { parseCidr } from '../engine/address.js';

export type Num = number | bigint;
/** An inclusive interval. IPv6 addresses are bigints; everything else numbers. */
export type Span = readonly [Num, Num];

export interface Box {
  readonly family: 4 | 6;
  /** tcp/udp: the box has port dimensions; other protocols match whatever the ports. */
  readonly ports: boolean;
  readonly proto: Span;
  /** The far end; null when it is the members of `group`. */
  readonly peer: Span | null;
  readonly group: string | null;
  readonly dport: Span;
  readonly sport: Span;
  readonly local: Span;
}

export const ALL_PORTS: Span = [0, 65535];
const ALL4: Span = [0, 2 ** 32 - 1];
const ALL6: Span = [0n, (1n << 128n) - 1n];
export const fullAddress = (family: 4 | 6): Span => (family === 4 ? ALL4 : ALL6);

const PROTO: Record<Rule['protocol'], Span> = {
  tcp: [6, 6],
  udp: [17, 17],
  icmp: [1, 1],
  icmpv6: [58, 58],
  gre: [47, 47],
  all: [0, 255],
};

function span(cidr: string, family: 4 | 6): Span | undefined {
  const r = parseCidr(cidr);
  return r.family === family ? [r.lo, r.hi] : undefined;
}

function clamp(r: { from: number; to: number }): Span | null {
  const lo = Math.max(0, r.from);
  const hi = Math.min(65535, r.to);
  return lo <= hi ? [lo, hi] : null;
}

/**
 * The box of a rule, or null when it can match no packet at an interface (a group rule with
 * an IPv6 near end: interfaces hold IPv4 addresses only; an empty port range; ends of two
 * families). Matching is the engine's: the far end is the CIDR or the group's members, the
 * near end restricts the interface-side address, ports apply to tcp/udp.
 */
export function ruleBox(r: Rule): Box | null {
  const family: 4 | 6 = r.peerIpv6Cidr !== null ? 6 : r.peerCidr !== null ? 4 : 4;
  const peerText = r.peerCidr ?? r.peerIpv6Cidr;
  const peer = peerText !== null ? span(peerText, family) : null;
  if (peerText !== null && peer === undefined) return null;
  if (peerText === null && r.peerGroup === null) return null;
  let local = fullAddress(family);
  const localText = family === 4 ? r.localCidr : r.localIpv6Cidr;
  if (localText !== null) {
    const s = span(localText, family);
    if (s === undefined) return null;
    local = s;
  } else if ((family === 4 ? r.localIpv6Cidr : r.localCidr) !== null) {
    return null; // a near end of the other family: no packet has both
  }
  const ports = r.protocol === 'tcp' || r.protocol === 'udp';
  const dport = ports ? clamp(r.portRange) : ALL_PORTS;
  const sport = ports && r.sourcePortRange !== null ? clamp(r.sourcePortRange) : ALL_PORTS;
  if (dport === null || sport === null) return null;
  return {
    family,
    ports,
    proto: PROTO[r.protocol],
    peer: peer ?? null,
    group: peer ? null : r.peerGroup!.groupId,
    dport,
    sport,
    local,
  };
}

const overlap = (a: Span, b: Span) => a[0] <= b[1] && b[0] <= a[1];
const within = (a: Span, b: Span) => b[0] <= a[0] && a[1] <= b[1];

/**
 * Whether some packet can fall in both boxes. A group's members can be any address (they
 * change without a recompile), so a group far end overlaps every far end of its family.
 */
export function overlaps(a: Box, b: Box): boolean {
  return (
    a.family === b.family &&
    overlap(a.proto, b.proto) &&
    overlap(a.dport, b.dport) &&
    overlap(a.sport, b.sport) &&
    overlap(a.local, b.local) &&
    (a.peer === null || b.peer === null || overlap(a.peer, b.peer))
  );
}

/** The dimensions of a box as they go into a set element (same kind: same dimensions). */
function dims(b: Box): Span[] {
  const out: Span[] = [b.proto];
  if (b.peer !== null) out.push(b.peer);
  if (b.ports) out.push(b.dport, b.sport);
  out.push(b.local);
  return out;
}

function fromDims(like: Box, d: readonly Span[]): Box {
  let i = 0;
  const proto = d[i++]!;
  const peer = like.peer !== null ? d[i++]! : null;
  const dport = like.ports ? d[i++]! : ALL_PORTS;
  const sport = like.ports ? d[i++]! : ALL_PORTS;
  return { ...like, proto, peer, dport, sport, local: d[i]! };
}

const key = (s: Span) => `${s[0]}-${s[1]}`;

/** Drops boxes inside another; merges boxes equal but in one dimension whose spans meet. */
function simplify(boxes: readonly Box[]): Box[] {
  let cur = boxes.map(dims);
  for (let changed = true; changed; ) {
    changed = false;
    // exact duplicates, then boxes inside another
    cur = [...new Map(cur.map((d) => [d.map(key).join(' '), d])).values()];
    cur = cur.filter((d, i) => !cur.some((o, j) => j !== i && d.every((s, k) => within(s, o[k]!))));
    for (let dim = 0; dim < (cur[0]?.length ?? 0); dim++) {
      const byRest = new Map<string, Span[][]>();
      for (const d of cur) {
        const rest = d.map((s, k) => (k === dim ? '' : key(s))).join(' ');
        const list = byRest.get(rest);
        if (list) list.push(d);
        else byRest.set(rest, [d]);
      }
      const next: Span[][] = [];
      for (const list of byRest.values()) {
        list.sort((x, y) => (x[dim]![0] < y[dim]![0] ? -1 : x[dim]![0] > y[dim]![0] ? 1 : 0));
        let run = list[0]!;
        for (const d of list.slice(1)) {
          const a = run[dim]!;
          const b = d[dim]!;
          // meeting spans: overlapping or adjacent (b starts right after a ends)
          const adjacent =
            typeof a[1] === 'bigint' ? b[0] === a[1] + 1n : b[0] === Number(a[1]) + 1;
          if (b[0] <= a[1] || adjacent) {
            const merged = [...run];
            merged[dim] = [a[0], b[1] > a[1] ? b[1] : a[1]];
            run = merged;
            changed = true;
          } else {
            next.push(run);
            run = d;
          }
        }
        next.push(run);
      }
      cur = next;
    }
  }
  return cur.map((d) => fromDims(boxes[0]!, d));
}

/**
 * Boxes of one verdict (same family, kind and far-end group) as sets of pairwise disjoint
 * boxes, few sets as possible, each sorted for a stable content.
 */
export function disjointSets(boxes: readonly Box[]): Box[][] {
  if (boxes.length === 0) return [];
  const bins: Box[][] = [];
  for (const b of simplify(boxes)) {
    const bin = bins.find((xs) => xs.every((x) => !overlaps(x, b)));
    if (bin) bin.push(b);
    else bins.push([b]);
  }
  return bins;
}
