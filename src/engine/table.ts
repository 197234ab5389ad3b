/**
 * Compiled rule tables.
 *
 * A table holds the rules of one (direction, nicType, protocol) slot of one set of
 * security groups, sorted in decision order: priority ascending, drop before accept,
 * then seq (creation order), then id. Rule i is bit i of a bitset.
 *
 * Each match dimension (peer IPv4, peer IPv6, local IPv4, local IPv6, destination port,
 * source port) is cut into elementary intervals; each interval carries the bitset of the
 * rules that accept any value in it. A lookup is a binary search per dimension, an AND of
 * a few rows, and the lowest set bit is the deciding rule (bitset order = decision order,
 * so the scan stops at the first non-zero word). Group-reference rules sit in per-group
 * rows that are ORed into the peer row when the peer address belongs to that group.
 */
import type { Rule } from '../domain/types.js';
import type { Range4, Range6 } from './address.js';
import { bigIntToWords } from './address.js';
import type { Decision } from './packet.js';

/** Protocol index of a table slot; a rule with protocol `all` has index 4. */
export const PROTO_INDEX = { tcp: 0, udp: 1, icmp: 2, gre: 3, all: 4 } as const;

/** A rule pre-parsed for compilation. */
export interface CompiledRule {
  readonly rule: Rule;
  readonly dirIdx: number;
  readonly nicIdx: number;
  readonly protoIdx: number;
  readonly policyRank: number;
  readonly peer4: Range4 | null;
  readonly peer6: Range6 | null;
  /** Interned id of `rule.peerGroup.groupId`, or -1. */
  readonly peerGid: number;
  readonly local4: Range4 | null;
  readonly local6: Range6 | null;
  /** Clamped destination-port range; null when the rule can match no port. */
  readonly dport: readonly [number, number] | null;
  /** Clamped source-port range; `[0, 65535]` when unrestricted, null when empty. */
  readonly sport: readonly [number, number] | null;
  readonly decision: Decision;
}

export interface Table {
  readonly n: number;
  /** Words per bitset row. */
  readonly W: number;
  readonly rules: readonly CompiledRule[];
  /** Peer IPv4 trie (leaf = row offset into p4Rows). */
  readonly p4Trie: Int32Array;
  readonly p4Rows: Int32Array;
  readonly p6Starts: Uint32Array;
  readonly p6Rows: Int32Array;
  readonly hasLocal: boolean;
  readonly l4Trie: Int32Array;
  readonly l4Rows: Int32Array;
  readonly l6Starts: Uint32Array;
  readonly l6Rows: Int32Array;
  readonly hasPorts: boolean;
  readonly dTrie: Int32Array;
  readonly dRows: Int32Array;
  readonly hasSport: boolean;
  readonly sTrie: Int32Array;
  readonly sRows: Int32Array;
  readonly hasRefs: boolean;
  /** OR of all refRows: the group-reference rules. */
  readonly refAny: Int32Array;
  readonly refRows: ReadonlyMap<number, Int32Array>;
  /** An all-ones row for skipped dimensions. */
  readonly ones: Int32Array;
  readonly zeros: Int32Array;
}

export function compareRules(x: CompiledRule, y: CompiledRule): number {
  return (
    x.rule.priority - y.rule.priority ||
    x.policyRank - y.policyRank ||
    x.rule.seq - y.rule.seq ||
    (x.rule.id < y.rule.id ? -1 : x.rule.id > y.rule.id ? 1 : 0)
  );
}

interface Item<K> {
  readonly bit: number;
  readonly lo: K;
  readonly hi: K;
}

const EMPTY_U32 = new Uint32Array(0);
const EMPTY_I32 = new Int32Array(0);
/** Reused by buildTrie (grown, never shrunk); the result is a copy. */
let scratch = new Int32Array(256 * 64);

/**
 * Cuts the domain [0, max] into elementary intervals and returns each interval's start
 * (as `width` uint32 words) and its bitset row (W words), rows in interval order.
 */
function buildDim<K extends number | bigint>(
  items: readonly Item<K>[],
  W: number,
  zero: K,
  max: K,
  succ: (k: K) => K,
  toWords: (k: K) => readonly number[],
  width: number,
): { starts: Uint32Array; rows: Int32Array } {
  const bounds = new Set<K>([zero]);
  for (const it of items) {
    bounds.add(it.lo);
    if (it.hi < max) bounds.add(succ(it.hi));
  }
  const sorted = [...bounds].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  const index = new Map<K, number>();
  sorted.forEach((k, i) => index.set(k, i));
  const m = sorted.length;
  const adds: number[][] = Array.from({ length: m + 1 }, () => []);
  const removes: number[][] = Array.from({ length: m + 1 }, () => []);
  for (const it of items) {
    adds[index.get(it.lo)!]!.push(it.bit);
    const end = it.hi < max ? index.get(succ(it.hi))! : m;
    removes[end]!.push(it.bit);
  }
  const starts = new Uint32Array(m * width);
  const rows = new Int32Array(m * W);
  const cur = new Int32Array(W);
  for (let i = 0; i < m; i++) {
    for (const b of removes[i]!) cur[b >>> 5]! &= ~(1 << (b & 31));
    for (const b of adds[i]!) cur[b >>> 5]! |= 1 << (b & 31);
    rows.set(cur, i * W);
    const w = toWords(sorted[i]!);
    for (let j = 0; j < width; j++) starts[i * width + j] = w[j]!;
  }
  return { starts, rows };
}

const MAX32 = 0xffffffff;
const MAX128 = (1n << 128n) - 1n;
const num1 = (k: number): readonly number[] => [k];

function dim32(items: Item<number>[], W: number, max: number) {
  return buildDim<number>(items, W, 0, max, (k) => k + 1, num1, 1);
}

function dim128(items: Item<bigint>[], W: number) {
  return buildDim<bigint>(items, W, 0n, MAX128, (k) => k + 1n, bigIntToWords, 4);
}

/** Builds a table from rules already filtered to one slot. `ports`: a tcp/udp slot. */
export function buildTable(input: readonly CompiledRule[], ports: boolean): Table {
  const rules = input.filter(
    (r) =>
      (r.peer4 !== null || r.peer6 !== null || r.peerGid >= 0) &&
      (!ports || r.protoIdx === PROTO_INDEX.all || (r.dport !== null && r.sport !== null)),
  );
  rules.sort(compareRules);
  const n = rules.length;
  const W = Math.max(1, (n + 31) >>> 5);
  const ones = new Int32Array(W).fill(-1);
  const p4: Item<number>[] = [];
  const p6: Item<bigint>[] = [];
  const l4: Item<number>[] = [];
  const l6: Item<bigint>[] = [];
  const dp: Item<number>[] = [];
  const sp: Item<number>[] = [];
  const refRows = new Map<number, Int32Array>();
  let hasLocal = false;
  let hasSport = false;
  rules.forEach((r, bit) => {
    if (r.peer4 !== null) p4.push({ bit, lo: r.peer4.lo, hi: r.peer4.hi });
    if (r.peer6 !== null) p6.push({ bit, lo: r.peer6.lo, hi: r.peer6.hi });
    if (r.peerGid >= 0) {
      let row = refRows.get(r.peerGid);
      if (row === undefined) {
        row = new Int32Array(W);
        refRows.set(r.peerGid, row);
      }
      row[bit >>> 5]! |= 1 << (bit & 31);
    }
    if (r.local4 !== null || r.local6 !== null) hasLocal = true;
    if (r.local4 !== null) l4.push({ bit, lo: r.local4.lo, hi: r.local4.hi });
    else if (r.local6 === null) l4.push({ bit, lo: 0, hi: MAX32 });
    if (r.local6 !== null) l6.push({ bit, lo: r.local6.lo, hi: r.local6.hi });
    else if (r.local4 === null) l6.push({ bit, lo: 0n, hi: MAX128 });
    if (ports) {
      const all = r.protoIdx === PROTO_INDEX.all;
      const d = all ? ([0, 65535] as const) : r.dport!;
      const s = all ? ([0, 65535] as const) : r.sport!;
      dp.push({ bit, lo: d[0], hi: d[1] });
      sp.push({ bit, lo: s[0], hi: s[1] });
      if (s[0] !== 0 || s[1] !== 65535) hasSport = true;
    }
  });
  const refAny = new Int32Array(W);
  for (const row of refRows.values()) for (let w = 0; w < W; w++) refAny[w]! |= row[w]!;
  const P4 = dim32(p4, W, MAX32);
  const P6 = dim128(p6, W);
  const L4 = hasLocal ? dim32(l4, W, MAX32) : { starts: EMPTY_U32, rows: EMPTY_I32 };
  const L6 = hasLocal ? dim128(l6, W) : { starts: EMPTY_U32, rows: EMPTY_I32 };
  const D = ports ? dim32(dp, W, 65535) : { starts: EMPTY_U32, rows: EMPTY_I32 };
  const S = hasSport ? dim32(sp, W, 65535) : { starts: EMPTY_U32, rows: EMPTY_I32 };
  return {
    n,
    W,
    rules,
    p4Trie: buildTrie(P4.starts, 32, W),
    p4Rows: P4.rows,
    p6Starts: P6.starts,
    p6Rows: P6.rows,
    hasLocal,
    l4Trie: hasLocal ? buildTrie(L4.starts, 32, W) : EMPTY_I32,
    l4Rows: L4.rows,
    l6Starts: L6.starts,
    l6Rows: L6.rows,
    hasPorts: ports,
    dTrie: ports ? buildTrie(D.starts, 16, W) : EMPTY_I32,
    dRows: D.rows,
    hasSport,
    sTrie: hasSport ? buildTrie(S.starts, 16, W) : EMPTY_I32,
    sRows: S.rows,
    hasRefs: refRows.size > 0,
    refAny,
    refRows,
    ones,
    zeros: new Int32Array(W),
  };
}

export const EMPTY_TABLE: Table = buildTable([], false);

/**
 * A multibit trie (8-bit strides) over a 16- or 32-bit domain cut into intervals at
 * `starts`: a flat array of 256-entry chunks, chunk 0 the root. An entry >= 0 is a leaf,
 * the interval's row offset (index * W); an entry < 0 is `~child` (a chunk index).
 * Chunks exist only where an interval boundary falls strictly inside a child's span,
 * so a lookup is 1-4 (IPv4) or 1-2 (ports) array loads.
 */
export function buildTrie(starts: Uint32Array, bits: 16 | 32, W: number): Int32Array {
  const m = starts.length;
  let buf = scratch;
  let chunks = 0;
  // A chunk for [base, base + 256 * 2^shift); `first` is the interval containing `base`.
  const make = (base: number, shift: number, first: number): number => {
    const id = chunks++;
    if (chunks * 256 > buf.length) {
      const grown = new Int32Array(buf.length * 2);
      grown.set(buf);
      buf = grown;
      scratch = grown;
    }
    const at = id << 8;
    const size = 2 ** shift;
    const end = base + 256 * size;
    let cur = first;
    let j = first + 1;
    let k = 0;
    while (j < m && starts[j]! < end) {
      const kb = Math.floor((starts[j]! - base) / size);
      if (kb > k) buf.fill(cur * W, at + k, at + kb);
      const cs = base + kb * size;
      while (j < m && starts[j]! <= cs) cur = j++;
      if (j < m && starts[j]! < cs + size) {
        const child = make(cs, shift - 8, cur);
        buf[at + kb] = ~child;
        while (j < m && starts[j]! < cs + size) cur = j++;
      } else {
        buf[at + kb] = cur * W;
      }
      k = kb + 1;
    }
    if (k < 256) buf.fill(cur * W, at + k, at + 256);
    return id;
  };
  make(0, bits - 8, 0);
  return buf.slice(0, chunks * 256);
}

/** Row offset of a 32-bit key in a trie from `buildTrie(…, 32, …)`. */
export function trie32(t: Int32Array, x: number): number {
  let v = t[x >>> 24]!;
  if (v >= 0) return v;
  v = t[(~v << 8) | ((x >>> 16) & 255)]!;
  if (v >= 0) return v;
  v = t[(~v << 8) | ((x >>> 8) & 255)]!;
  if (v >= 0) return v;
  return t[(~v << 8) | (x & 255)]!;
}

/** Row offset of a 16-bit key (a port) in a trie from `buildTrie(…, 16, …)`. */
export function trie16(t: Int32Array, x: number): number {
  const v = t[x >>> 8]!;
  return v >= 0 ? v : t[(~v << 8) | (x & 255)]!;
}

/** Index of the last interval whose start is <= x (starts[0] is 0). */
export function search32(starts: Uint32Array, x: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (starts[mid]! <= x) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** As `search32` over 4-word (128-bit) starts. */
export function search128(s: Uint32Array, a: number, b: number, c: number, d: number): number {
  let lo = 0;
  let hi = (s.length >>> 2) - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    const o = mid << 2;
    const sa = s[o]!;
    let le: boolean;
    if (sa !== a) le = sa < a;
    else {
      const sb = s[o + 1]!;
      if (sb !== b) le = sb < b;
      else {
        const sc = s[o + 2]!;
        le = sc !== c ? sc < c : s[o + 3]! <= d;
      }
    }
    if (le) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
