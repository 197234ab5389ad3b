/**
 * Sets of values of one dimension as sorted, disjoint, inclusive spans. A dimension's values
 * are numbers (IPv4 addresses, ports) or bigints (IPv6 addresses), never both in one set.
 */

export type Value = number | bigint;

export interface Span {
  readonly lo: Value;
  readonly hi: Value;
}

export const succ = (v: Value): Value => (typeof v === 'bigint' ? v + 1n : v + 1);
export const pred = (v: Value): Value => (typeof v === 'bigint' ? v - 1n : v - 1);

/** How many values a span holds. */
export function spanSize(s: Span): bigint {
  return BigInt(s.hi) - BigInt(s.lo) + 1n;
}

/** Sorts and merges overlapping or adjacent spans. */
export function normalize(input: readonly Span[]): Span[] {
  const sorted = [...input].sort((x, y) => (x.lo < y.lo ? -1 : x.lo > y.lo ? 1 : 0));
  const out: Span[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && s.lo <= succ(last.hi)) {
      if (s.hi > last.hi) out[out.length - 1] = { lo: last.lo, hi: s.hi };
    } else out.push(s);
  }
  return out;
}

/** `a` without the values of `b` (both any spans; the result is normalised). */
export function subtract(a: readonly Span[], b: readonly Span[]): Span[] {
  const cut = normalize(b);
  const out: Span[] = [];
  for (const s of normalize(a)) {
    let lo = s.lo;
    let done = false;
    for (const c of cut) {
      if (c.hi < lo || c.lo > s.hi) continue;
      if (c.lo > lo) out.push({ lo, hi: pred(c.lo) });
      if (c.hi >= s.hi) {
        done = true;
        break;
      }
      lo = succ(c.hi);
    }
    if (!done) out.push({ lo, hi: s.hi });
  }
  return out;
}

/** The part of `s` inside the sorted, disjoint `set`. */
export function intersect(s: Span, set: readonly Span[]): Span[] {
  const out: Span[] = [];
  for (const c of set) {
    if (c.hi < s.lo) continue;
    if (c.lo > s.hi) break;
    out.push({ lo: c.lo > s.lo ? c.lo : s.lo, hi: c.hi < s.hi ? c.hi : s.hi });
  }
  return out;
}

/** The total size of normalised spans. */
export function totalSize(set: readonly Span[]): bigint {
  let n = 0n;
  for (const s of set) n += spanSize(s);
  return n;
}

/** The value of `key` in `map`, made (and kept) by `make` when missing. */
export function memo<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) {
    v = make();
    map.set(key, v);
  }
  return v;
}
