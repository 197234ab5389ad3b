/**
 * Compiled rule tables.
 *
 * A table holds the rules of one (direction, nicType, protocol) slot of one set of
 * security groups, sorted in decision order: priority ascending, drop before accept,
 * then seq (creation order), then id. Rule i is bit i of a bitset.
 *
 * Each match dimension (peer IPv4, peer IPv6, local IPv4, local IPv6, destination port,
 * source port) is cut into elementary intervals; each interval carries the bitset of the
 * rules that accept any value in it. A lookup is a trie walk per dimension (a binary
 * search for IPv6 addresses), an AND of a few rows, and the lowest set bit is the deciding rule (bitset order = decision order,
 * so the scan stops at the first non-zero word). A group-reference rule to a group of
 * up to the engine's fold limit of members is folded into the peer dimension as one
 * single-address interval per member address, so it costs a decision nothing extra (the
 * engine recompiles such tables when the group's member addresses change); a rule to a
 * larger group sits in a per-group row that is ORed in when the peer is a member.
 */
import type { Rule } from '../domain/types.js';
import type { Addr, Range4, Range6 } from './address.js';
import { addrToBigInt } from './address.js';
import { dim32, dim128, type Item, MAX32, MAX128 } from './intervals.js';
import type { Decision } from './packet.js';

/** Protocol index of a table slot (tcp and udp first: they have ports); `all` is not a slot. */
export const PROTO_INDEX = { tcp: 0, udp: 1, icmp: 2, icmpv6: 3, gre: 4, all: 5 } as const;
/** Protocols a packet can carry: one table slot each. */
export const PACKET_PROTOCOLS = 5;

/** A rule pre-parsed for compilation. */
export interface CompiledRule {
  readonly rule: Rule;
  readonly dirIdx: number;
  readonly nicIdx: number;
  readonly protoIdx: number;
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

/**
 * A compiled table. Its tries and bitset rows live in one array, `data`, so a decision
 * touches one array object and a few cache lines; the fields below are offsets into it.
 * A trie entry is either a row offset (>= 0) or `~offset` of a child chunk, both absolute.
 */
export interface Table {
  readonly n: number;
  /** Words per bitset row. */
  readonly W: number;
  /** The decision of each rule, in bit (= decision) order. */
  readonly decisions: readonly Decision[];
  readonly data: Int32Array;
  /** Peer IPv4 trie. */
  readonly p4: number;
  readonly p4Shift: number;
  /** Peer IPv6 interval starts (4 words each) and the offset of their first row. */
  readonly p6Starts: Uint32Array;
  readonly p6Rows: number;
  readonly hasLocal: boolean;
  readonly l4: number;
  readonly l4Shift: number;
  readonly l6Starts: Uint32Array;
  readonly l6Rows: number;
  readonly hasPorts: boolean;
  /** Destination-port trie. */
  readonly d: number;
  readonly dShift: number;
  readonly hasSport: boolean;
  /** Source-port trie. */
  readonly s: number;
  readonly sShift: number;
  /** Row of the rules that restrict the near-end address or the source port. */
  readonly fine: number;
  /** An all-ones row, for dimensions a table does not restrict. */
  readonly ones: number;
  /** Groups named by group-reference rules, folded into the peer dimension as addresses. */
  readonly folded: readonly number[];
  /** Groups named by group-reference rules and too large to fold, and their rows. */
  readonly bigGids: readonly number[];
  readonly bigRows: readonly number[];
  /** An all-zeros row. */
  readonly zeros: number;
}

/** Lays tries and rows out one after another in one Int32Array. */
class Layout {
  private readonly parts: Int32Array[] = [];
  private size = 0;

  add(a: Int32Array): number {
    const at = this.size;
    this.parts.push(a);
    this.size += a.length;
    return at;
  }

  /**
   * Adds the rows of one dimension and its trie over `starts`; returns the trie's offset
   * and root shift.
   */
  addDim(
    dim: { starts: Uint32Array; rows: Int32Array },
    bits: 16 | 32,
    W: number,
  ): { at: number; shift: number } {
    const rowsAt = this.add(dim.rows);
    const t = buildTrie(dim.starts, bits, W, this.size, rowsAt);
    return { at: this.add(t.nodes), shift: t.shift };
  }

  done(): Int32Array {
    const data = new Int32Array(this.size);
    let at = 0;
    for (const p of this.parts) {
      data.set(p, at);
      at += p.length;
    }
    return data;
  }
}

/**
 * The member addresses of a group, by interned id, for folding group-reference rules into
 * the peer dimension; null for a group too large to fold.
 */
export type MembersOf = (gid: number) => readonly Addr[] | null;

const NO_MEMBERS: MembersOf = () => [];

/** Decision order: priority, then drop before accept, then creation (seq), then id. */
export function decisionOrder(x: Rule, y: Rule): number {
  return (
    x.priority - y.priority ||
    (x.policy === y.policy ? 0 : x.policy === 'drop' ? -1 : 1) ||
    x.seq - y.seq ||
    (x.id < y.id ? -1 : x.id > y.id ? 1 : 0)
  );
}

export function compareRules(x: CompiledRule, y: CompiledRule): number {
  return decisionOrder(x.rule, y.rule);
}

const EMPTY_U32 = new Uint32Array(0);
/** Offsets of a dimension a table does not have (never looked up). */
const NO_TRIE = { at: 0, shift: 0 } as const;
/** Reused by buildTrie (grown, never shrunk); its result is a copy. */
let scratch = new Int32Array(256 * 64);

/**
 * Builds a table from rules already filtered to one slot. `ports`: a tcp/udp slot.
 * `members` gives the addresses a group-reference rule matches.
 */
export function buildTable(
  input: readonly CompiledRule[],
  ports: boolean,
  members: MembersOf = NO_MEMBERS,
): Table {
  const rules = input.filter(
    (r) =>
      (r.peer4 !== null || r.peer6 !== null || r.peerGid >= 0) &&
      (!ports || r.protoIdx === PROTO_INDEX.all || (r.dport !== null && r.sport !== null)),
  );
  rules.sort(compareRules);
  const n = rules.length;
  const W = Math.max(1, (n + 31) >>> 5);
  const p4: Item<number>[] = [];
  const p6: Item<bigint>[] = [];
  const l4: Item<number>[] = [];
  const l6: Item<bigint>[] = [];
  const dp: Item<number>[] = [];
  const sp: Item<number>[] = [];
  const folded = new Map<number, readonly Addr[]>();
  const big = new Map<number, Int32Array>();
  const fine = new Int32Array(W);
  let hasLocal = false;
  let hasSport = false;
  rules.forEach((r, bit) => {
    if (r.peer4 !== null) p4.push({ bit, lo: r.peer4.lo, hi: r.peer4.hi });
    if (r.peer6 !== null) p6.push({ bit, lo: r.peer6.lo, hi: r.peer6.hi });
    if (r.peerGid >= 0) {
      const g = r.peerGid;
      const addrs = big.has(g) ? null : (folded.get(g) ?? members(g));
      if (addrs !== null) {
        folded.set(g, addrs);
        for (const x of addrs) {
          if (x.family === 4) p4.push({ bit, lo: x.a, hi: x.a });
          else {
            const v = addrToBigInt(x);
            p6.push({ bit, lo: v, hi: v });
          }
        }
      } else {
        let row = big.get(g);
        if (row === undefined) {
          row = new Int32Array(W);
          big.set(g, row);
        }
        row[bit >>> 5]! |= 1 << (bit & 31);
      }
    }
    if (r.local4 !== null || r.local6 !== null) {
      hasLocal = true;
      fine[bit >>> 5]! |= 1 << (bit & 31);
    }
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
      if (s[0] !== 0 || s[1] !== 65535) {
        hasSport = true;
        fine[bit >>> 5]! |= 1 << (bit & 31);
      }
    }
  });
  const P4 = dim32(p4, W, MAX32);
  const P6 = dim128(p6, W);
  const L4 = hasLocal ? dim32(l4, W, MAX32) : null;
  const L6 = hasLocal ? dim128(l6, W) : null;
  const D = ports ? dim32(dp, W, 65535) : null;
  const S = hasSport ? dim32(sp, W, 65535) : null;
  // Hot parts first: peer and destination port, then the rows every table reads.
  const out = new Layout();
  const p4T = out.addDim(P4, 32, W);
  const dT = D !== null ? out.addDim(D, 16, W) : NO_TRIE;
  const fineAt = out.add(fine);
  const onesAt = out.add(new Int32Array(W).fill(-1));
  const zerosAt = out.add(new Int32Array(W));
  const bigRows = [...big.values()].map((row) => out.add(row));
  const l4T = L4 !== null ? out.addDim(L4, 32, W) : NO_TRIE;
  const l6Rows = L6 !== null ? out.add(L6.rows) : 0;
  const sT = S !== null ? out.addDim(S, 16, W) : NO_TRIE;
  const p6Rows = out.add(P6.rows);
  return {
    n,
    W,
    decisions: rules.map((r) => r.decision),
    data: out.done(),
    p4: p4T.at,
    p4Shift: p4T.shift,
    p6Starts: P6.starts,
    p6Rows,
    hasLocal,
    l4: l4T.at,
    l4Shift: l4T.shift,
    l6Starts: L6?.starts ?? EMPTY_U32,
    l6Rows,
    hasPorts: ports,
    d: dT.at,
    dShift: dT.shift,
    hasSport,
    s: sT.at,
    sShift: sT.shift,
    fine: fineAt,
    ones: onesAt,
    folded: [...folded.keys()],
    bigGids: [...big.keys()],
    bigRows,
    zeros: zerosAt,
  };
}

/**
 * A multibit trie over a 16- or 32-bit domain cut into intervals at `starts`: a flat
 * array holding a root of 2^R entries at offset 0 and chunks of 2^S entries after it.
 * An entry >= 0 is a leaf, the interval's row offset (index * W); an entry < 0 is
 * `~offset` of a child chunk. Chunks exist only where an interval boundary falls strictly
 * inside a child's span, so a lookup is at most 1 + (bits - R) / S dependent array loads.
 * Ports (16 bits): R = 4, 8 or 12 by the number of intervals and S = 4 (one cache line),
 * at most 4 loads. Addresses (32 bits): R = S = 8, at most 4 loads (boundaries of CIDRs
 * and single addresses cluster in a few small ranges, where 4-bit chunks needed up to 8).
 */
interface Trie {
  readonly nodes: Int32Array;
  /** `bits - R`: the root is indexed by `key >>> shift`. */
  readonly shift: number;
}

/**
 * Builds the trie of `starts` for a table layout: it will sit at offset `at` of the table's
 * data and its rows at `rowsAt`, so leaves and child pointers are written as absolute
 * offsets.
 */
function buildTrie(
  starts: Uint32Array,
  bits: 16 | 32,
  W: number,
  at0: number,
  rowsAt: number,
): Trie {
  const m = starts.length;
  const root = bits === 32 ? 8 : m <= 4 ? 4 : m <= 64 ? 8 : 12;
  const childStride = bits === 32 ? STRIDE32 : STRIDE16;
  let buf = scratch;
  let used = 0;
  // A chunk for [base, base + 2^rem) with 2^stride entries; `first` is the interval
  // containing `base`.
  const make = (base: number, stride: number, rem: number, first: number): number => {
    const n = 1 << stride;
    const at = used;
    used += n;
    if (used > buf.length) {
      const grown = new Int32Array(Math.max(buf.length * 2, used));
      grown.set(buf);
      buf = grown;
      scratch = grown;
    }
    const childRem = rem - stride;
    const size = 2 ** childRem;
    const end = base + n * size;
    let cur = first;
    let j = first + 1;
    let k = 0;
    while (j < m && starts[j]! < end) {
      const kb = Math.floor((starts[j]! - base) / size);
      if (kb > k) buf.fill(rowsAt + cur * W, at + k, at + kb);
      const cs = base + kb * size;
      while (j < m && starts[j]! <= cs) cur = j++;
      if (j < m && starts[j]! < cs + size) {
        const child = make(cs, childStride, childRem, cur);
        buf[at + kb] = ~(at0 + child);
        while (j < m && starts[j]! < cs + size) cur = j++;
      } else {
        buf[at + kb] = rowsAt + cur * W;
      }
      k = kb + 1;
    }
    if (k < n) buf.fill(rowsAt + cur * W, at + k, at + n);
    return at;
  };
  make(0, root, bits, 0);
  return { nodes: buf.slice(0, used), shift: bits - root };
}

/** Chunk strides: 4 bits (one cache line) for ports, 8 bits for addresses. */
const STRIDE16 = 4;
const STRIDE32 = 8;

/**
 * Row offset of a key in a 16-bit trie laid out at `at` in `t`. (Two functions rather than
 * one with a stride parameter: measured faster, the stride being a constant in each.)
 */
export function trieLookup16(t: Int32Array, at: number, shift: number, x: number): number {
  let v = t[at + (x >>> shift)]!;
  while (v < 0) {
    shift -= STRIDE16;
    v = t[~v + ((x >>> shift) & ((1 << STRIDE16) - 1))]!;
  }
  return v;
}

/** Row offset of a key in a 32-bit trie laid out at `at` in `t`. */
export function trieLookup32(t: Int32Array, at: number, shift: number, x: number): number {
  let v = t[at + (x >>> shift)]!;
  while (v < 0) {
    shift -= STRIDE32;
    v = t[~v + ((x >>> shift) & ((1 << STRIDE32) - 1))]!;
  }
  return v;
}

/** Row offset of an address in one address dimension (IPv4 trie, IPv6 starts) of a table. */
export function addressRow(
  t: Int32Array,
  at: number,
  shift: number,
  starts6: Uint32Array,
  rows6: number,
  W: number,
  x: Addr,
): number {
  return x.family === 4
    ? trieLookup32(t, at, shift, x.a)
    : rows6 + search128(starts6, x.a, x.b, x.c, x.d) * W;
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

/** The table of a slot without rules (declared last: it runs buildTable at load). */
export const EMPTY_TABLE: Table = buildTable([], false);
