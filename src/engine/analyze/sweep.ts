/**
 * The exact sweep of one slot: each dimension in turn is cut (with the engine's interval
 * cutting) at the boundaries of the entries still in play, and each elementary interval is
 * followed with the entries that contain it. After the last dimension, the entries in play
 * match a whole cell and nothing else matches any of it: that set is a leaf. A sub-problem
 * depends only on its dimension and its set of entries, so each is solved once.
 */
import { dim32, dim128, type Item, MAX32, MAX128 } from '../intervals.js';
import { DPORT, LOCAL, PEER, PORTS, type Slot, SPORT, WHOLE } from './model.js';
import { FULL4, FULL6 } from './public.js';
import { memo, pred, type Span, type Value } from './spans.js';

/** A choice of one value inside `[lo, hi]`, for witness packets. */
export type Pick = (lo: Value, hi: Value, dim: number) => Value;

/** A row as a string key: two characters a word. */
export function rowKey(row: Int32Array): string {
  let s = '';
  for (let w = 0; w < row.length; w++) s += String.fromCharCode(row[w]! & 0xffff, row[w]! >>> 16);
  return s;
}

/**
 * A set of rows of one width, hashed by their words: copies in one growing array, found
 * through an open-addressing table of their offsets (no object per row).
 */
export class RowSet {
  private data = new Int32Array(16);
  private size = 0;
  private table = new Int32Array(16).fill(-1);
  private count = 0;

  private static hash(row: Int32Array, from: number, W: number): number {
    let h = 0x811c9dc5;
    for (let w = 0; w < W; w++) h = Math.imul(h ^ row[from + w]!, 0x01000193);
    return (h ^ (h >>> 15)) >>> 0;
  }

  /** Adds `row`; false when an equal row is there already. */
  add(row: Int32Array): boolean {
    return this.addAt(row, 0, row.length);
  }

  /** Adds the row of `W` words at `from` in `src`; false when an equal row is there already. */
  addAt(src: Int32Array, from: number, W: number): boolean {
    const mask = this.table.length - 1;
    let i = RowSet.hash(src, from, W) & mask;
    for (let at = this.table[i]!; at >= 0; at = this.table[i]!) {
      let w = 0;
      while (w < W && this.data[at + w] === src[from + w]) w++;
      if (w === W) return false;
      i = (i + 1) & mask;
    }
    if (this.size + W > this.data.length) {
      const grown = new Int32Array(Math.max(this.data.length * 2, this.size + W));
      grown.set(this.data);
      this.data = grown;
    }
    for (let w = 0; w < W; w++) this.data[this.size + w] = src[from + w]!;
    this.table[i] = this.size;
    this.size += W;
    if (++this.count * 2 > this.table.length) this.rehash(W);
    return true;
  }

  private rehash(W: number): void {
    const table = new Int32Array(this.table.length * 2).fill(-1);
    const mask = table.length - 1;
    for (let at = 0; at < this.size; at += W) {
      let i = RowSet.hash(this.data, at, W) & mask;
      while (table[i]! >= 0) i = (i + 1) & mask;
      table[i] = at;
    }
    this.table = table;
  }
}

/** The bits set in a row, ascending. */
export function bitsOf(row: Int32Array): number[] {
  const out: number[] = [];
  for (let w = 0; w < row.length; w++) {
    let m = row[w]!;
    while (m !== 0) {
      const low = m & -m;
      out.push((w << 5) + 31 - Math.clz32(low));
      m ^= low;
    }
  }
  return out;
}

/** The lowest bit set in a row, or -1. */
export function firstBit(row: Int32Array): number {
  for (let w = 0; w < row.length; w++) {
    const m = row[w]!;
    if (m !== 0) return (w << 5) + 31 - Math.clz32(m & -m);
  }
  return -1;
}

const wideValue = (s: Uint32Array, i: number): bigint =>
  (BigInt(s[4 * i]!) << 96n) |
  (BigInt(s[4 * i + 1]!) << 64n) |
  (BigInt(s[4 * i + 2]!) << 32n) |
  BigInt(s[4 * i + 3]!);

/** The order dimensions are swept in by default: the peer, then the destination port. */
export const ORDER: readonly number[] = [PEER, DPORT, LOCAL, SPORT];

/** Elementary intervals of one dimension, each with a row. */
interface Cut {
  readonly lo: readonly Value[];
  readonly hi: readonly Value[];
  readonly rows: Int32Array;
  /** The intervals whose row no earlier interval has (one of each distinct row). */
  readonly distinct?: readonly number[];
}

/** A dimension of a slot cut once at the boundaries of all its entries. */
interface Dim extends Cut {
  /** The first IPv6 interval of an address dimension (never merged with an IPv4 one). */
  readonly split: number;
  /** The entries that restrict this dimension (the others contain every interval). */
  readonly mask: Int32Array;
  /**
   * Cuts for sets of restricting entries, by `rowKey`; null when every entry restricts the
   * dimension (each row is cut once: nothing to share).
   */
  readonly cache: Map<string, Cut> | null;
}

function intervals(
  cut: { starts: Uint32Array; rows: Int32Array },
  wide: boolean,
  max: Value,
): { lo: Value[]; hi: Value[]; rows: Int32Array } {
  const m = wide ? cut.starts.length >>> 2 : cut.starts.length;
  const start = (i: number): Value => (wide ? wideValue(cut.starts, i) : cut.starts[i]!);
  const lo: Value[] = [];
  const hi: Value[] = [];
  for (let i = 0; i < m; i++) {
    lo.push(start(i));
    hi.push(i + 1 < m ? pred(start(i + 1)) : max);
  }
  return { lo, hi, rows: cut.rows };
}

const isWhole = (spans: readonly Span[], whole: readonly Span[]) =>
  spans.length === whole.length &&
  spans.every((s, i) => s.lo === whole[i]!.lo && s.hi === whole[i]!.hi);

/**
 * One dimension of a slot cut for all its entries (null when none restricts it): a port
 * dimension by `dim32`; an address dimension by `dim32` for IPv4 and `dim128` for IPv6, the
 * IPv6 intervals after the IPv4 ones.
 */
function cutDim(slot: Slot, k: number, W: number): Dim | null {
  const address = k === PEER || k === LOCAL;
  const whole = address ? [FULL4, FULL6] : [PORTS];
  const mask = new Int32Array(W);
  const v4: Item<number>[] = [];
  const v6: Item<bigint>[] = [];
  slot.items.forEach((it, bit) => {
    if (!isWhole(it.spans[k]!, whole)) mask[bit >>> 5]! |= 1 << (bit & 31);
    for (const sp of it.spans[k]!) {
      if (typeof sp.lo === 'bigint') v6.push({ bit, lo: sp.lo, hi: sp.hi as bigint });
      else v4.push({ bit, lo: sp.lo, hi: sp.hi as number });
    }
  });
  if (mask.every((w) => w === 0)) return null;
  const everyone = slot.items.every((it) => !isWhole(it.spans[k]!, whole));
  const cache = everyone ? null : new Map<string, Cut>();
  if (!address) return { ...intervals(dim32(v4, W, 65535), false, 65535), split: -1, mask, cache };
  const a = intervals(dim32(v4, W, MAX32), false, MAX32);
  const b = intervals(dim128(v6, W), true, MAX128);
  const rows = new Int32Array(a.rows.length + b.rows.length);
  rows.set(a.rows);
  rows.set(b.rows, a.rows.length);
  return { lo: [...a.lo, ...b.lo], hi: [...a.hi, ...b.hi], rows, split: a.lo.length, mask, cache };
}

/** `d` cut for the restricting entries `rm`: its intervals merged where `rm` is the same. */
function restrictedCut(d: Dim, rm: Int32Array): Cut {
  const W = rm.length;
  const m = d.lo.length;
  const lo: Value[] = [];
  const hi: Value[] = [];
  if (cutScratch.length < m * W)
    cutScratch = new Int32Array(Math.max(m * W, cutScratch.length * 2));
  const out = cutScratch;
  let k = 0; // intervals kept
  for (let i = 0; i < m; i++) {
    let same = i !== 0 && i !== d.split;
    const at = (k - 1) * W;
    for (let w = 0; w < W && same; w++)
      if ((d.rows[i * W + w]! & rm[w]!) !== out[at + w]) same = false;
    if (same) {
      hi[k - 1] = d.hi[i]!;
      continue;
    }
    lo.push(d.lo[i]!);
    hi.push(d.hi[i]!);
    for (let w = 0; w < W; w++) out[k * W + w] = d.rows[i * W + w]! & rm[w]!;
    k++;
  }
  const rows = out.slice(0, k * W);
  return { lo, hi, rows, distinct: distinctRows(rows, k, W) };
}

/** Reused by restrictedCut (grown, never shrunk); its result is a copy. */
let cutScratch = new Int32Array(1024);

/** The first of each distinct row among `k` rows of width `W` (few: compared pairwise). */
function distinctRows(rows: Int32Array, k: number, W: number): number[] {
  const out: number[] = [];
  if (k > 16) {
    const seen = new RowSet();
    for (let j = 0; j < k; j++) if (seen.addAt(rows, j * W, W)) out.push(j);
    return out;
  }
  for (let j = 0; j < k; j++) {
    const same = out.some((i) => {
      for (let w = 0; w < W; w++) if (rows[i * W + w] !== rows[j * W + w]) return false;
      return true;
    });
    if (!same) out.push(j);
  }
  return out;
}

export class Sweep {
  /** Words per row. */
  readonly W: number;
  /** The row of every entry of the slot. */
  readonly all: Int32Array;
  /** Each dimension cut for every entry; null where no entry restricts it. */
  private readonly dims: readonly (Dim | null)[];

  constructor(readonly slot: Slot) {
    const n = slot.items.length;
    const W = Math.max(1, (n + 31) >>> 5);
    this.W = W;
    this.all = new Int32Array(W);
    for (let b = 0; b < n; b++) this.all[b >>> 5]! |= 1 << (b & 31);
    this.dims = [PEER, DPORT, LOCAL, SPORT].map((k) => cutDim(slot, k, W));
  }

  /** Whether some entry restricts the dimension (else it needs no cutting). */
  narrow(dim: number): boolean {
    return this.dims[dim] !== null;
  }

  /**
   * Dimension `dim` cut for the entries of `row`: calls `fn` for each of its elementary
   * intervals (neighbours with the same entries merged; with `distinct`, only the first
   * interval of each distinct set) with the entries of `row` that contain it. That row is
   * only valid during the call.
   */
  pieces(
    dim: number,
    row: Int32Array,
    fn: (lo: Value, hi: Value, row: Int32Array) => void,
    opts: { buffers?: readonly [Int32Array, Int32Array]; distinct?: boolean } = {},
  ): void {
    const d = this.dims[dim];
    const W = this.W;
    const [rm, out] = opts.buffers ?? [new Int32Array(W), new Int32Array(W)];
    let any = 0;
    if (d !== null && d !== undefined) {
      for (let w = 0; w < W; w++) any |= rm[w] = row[w]! & d.mask[w]!;
    }
    if (d === null || d === undefined || any === 0) {
      fn(WHOLE[dim]!.lo, WHOLE[dim]!.hi, row);
      return;
    }
    const cut =
      d.cache === null
        ? restrictedCut(d, rm)
        : memo(d.cache, rowKey(rm), () => restrictedCut(d, rm));
    const emit = (j: number) => {
      for (let w = 0; w < W; w++) out[w] = (row[w]! & ~d.mask[w]!) | cut.rows[j * W + w]!;
      fn(cut.lo[j]!, cut.hi[j]!, out);
    };
    if (opts.distinct) for (const j of cut.distinct!) emit(j);
    else for (let j = 0; j < cut.lo.length; j++) emit(j);
  }

  /**
   * Calls `visit` once for every distinct leaf under `row` (the whole slot by default), with
   * the means to make a point of one of its cells (values chosen by `pick`): the dimensions
   * of `order` are swept (those no entry restricts are skipped); the others range over
   * `within` (by default, the first interval of their domain). The row is only valid during the call.
   */
  leaves(
    pick: Pick,
    visit: (row: Int32Array, point: () => Value[]) => void,
    order: readonly number[] = ORDER,
    row: Int32Array = this.all,
    within: readonly Span[] = WHOLE,
  ): void {
    const dims = order.filter((d) => this.narrow(d));
    const lo = within.map((r) => r.lo);
    const hi = within.map((r) => r.hi);
    const point = () => lo.map((l, d) => pick(l, hi[d]!, d));
    const seen = [...dims, -1].map(() => new RowSet());
    const buffers = dims.map(() => [new Int32Array(this.W), new Int32Array(this.W)] as const);
    const go = (level: number, r: Int32Array): void => {
      if (!seen[level]!.add(r)) return;
      if (level === dims.length) {
        visit(r, point);
        return;
      }
      const dim = dims[level]!;
      this.pieces(
        dim,
        r,
        (l, h, sub) => {
          lo[dim] = l;
          hi[dim] = h;
          go(level + 1, sub);
        },
        { buffers: buffers[level], distinct: true },
      );
    };
    go(0, row);
  }
}
