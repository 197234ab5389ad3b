/**
 * Interval cutting, shared by the compiled tables and the rule analyzer: a dimension of a
 * packet (an address, a port) is cut at every boundary of a set of items into elementary
 * intervals, each carrying the bitset row of the items that contain all of it.
 */
import { bigIntToWords } from './address.js';

/** One item's inclusive interval `[lo, hi]` in one dimension, as bit `bit` of a row. */
export interface Item<K> {
  readonly bit: number;
  readonly lo: K;
  readonly hi: K;
}

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
  for (let i = 0; i < sorted.length; i++) index.set(sorted[i]!, i);
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

/** The largest value of a 32-bit domain (IPv4 addresses). */
export const MAX32 = 0xffffffff;
/** The largest value of a 128-bit domain (IPv6 addresses). */
export const MAX128 = (1n << 128n) - 1n;

/**
 * `buildDim` for 32-bit (or narrower) domains, on typed arrays: sorted unique boundaries,
 * then each item's bit set in the rows of the intervals it spans.
 */
export function dim32(items: readonly Item<number>[], W: number, max: number) {
  const pts = new Float64Array(2 * items.length + 1);
  let k = 1; // pts[0] = 0
  for (const it of items) {
    pts[k++] = it.lo;
    if (it.hi < max) pts[k++] = it.hi + 1;
  }
  const sorted = pts.subarray(0, k).sort();
  let m = 0;
  for (let i = 0; i < k; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[m++] = sorted[i]!;
  const starts = Uint32Array.from(sorted.subarray(0, m));
  const rows = new Int32Array(m * W);
  for (const it of items) {
    const from = search32(starts, it.lo);
    const to = it.hi < max ? search32(starts, it.hi + 1) : m;
    const word = it.bit >>> 5;
    const mask = 1 << (it.bit & 31);
    for (let i = from; i < to; i++) rows[i * W + word]! |= mask;
  }
  return { starts, rows };
}

/** `buildDim` for 128-bit domains: starts as 4 uint32 words each. */
export function dim128(items: readonly Item<bigint>[], W: number) {
  return buildDim<bigint>(items, W, 0n, MAX128, (k) => k + 1n, bigIntToWords, 4);
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
