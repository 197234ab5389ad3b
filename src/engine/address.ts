/**
 * Pre-parsed addresses and CIDR ranges for the decision engine.
 *
 * String parsing happens here, off the hot path: a packet carries `Addr` values whose
 * words are plain uint32 numbers, so matching is integer comparison only.
 */
import ipaddr from 'ipaddr.js';

export type Family = 4 | 6;

/**
 * A parsed IP address. IPv4: `a` holds the address as a uint32 and `b`, `c`, `d` are 0.
 * IPv6: `a`..`d` are the four 32-bit words, most significant first.
 * Every instance has the same shape so the engine's field reads stay monomorphic.
 */
export class Addr {
  constructor(
    readonly family: Family,
    readonly a: number,
    readonly b: number,
    readonly c: number,
    readonly d: number,
  ) {}

  toString(): string {
    return formatAddr(this);
  }
}

/** An inclusive address range `[lo, hi]` of one family (the span of a CIDR). */
export interface Range4 {
  readonly family: 4;
  readonly lo: number;
  readonly hi: number;
}

export interface Range6 {
  readonly family: 6;
  readonly lo: bigint;
  readonly hi: bigint;
}

export type AddrRange = Range4 | Range6;

const MAX128 = (1n << 128n) - 1n;

function words(bytes: readonly number[]): [number, number, number, number] {
  const w: number[] = [0, 0, 0, 0];
  for (let i = 0; i < 4; i++) {
    w[i] =
      (((bytes[i * 4] ?? 0) << 24) |
        ((bytes[i * 4 + 1] ?? 0) << 16) |
        ((bytes[i * 4 + 2] ?? 0) << 8) |
        (bytes[i * 4 + 3] ?? 0)) >>>
      0;
  }
  return w as [number, number, number, number];
}

/** Parses a dotted-quad IPv4 or an IPv6 address; throws on anything else. */
export function parseAddress(text: string): Addr {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) {
    const [a] = words([...ipaddr.IPv4.parse(text).toByteArray(), ...new Array<number>(12).fill(0)]);
    return new Addr(4, a, 0, 0, 0);
  }
  if (!text.includes('%') && ipaddr.IPv6.isValid(text)) {
    const [a, b, c, d] = words(ipaddr.IPv6.parse(text).toByteArray());
    return new Addr(6, a, b, c, d);
  }
  throw new Error(`invalid IP address: ${text}`);
}

/** Parses `addr/prefix` into the inclusive range it spans (host bits are ignored). */
export function parseCidr(text: string): AddrRange {
  const slash = text.indexOf('/');
  const addr = parseAddress(slash < 0 ? text : text.slice(0, slash));
  const maxPrefix = addr.family === 4 ? 32 : 128;
  const prefixText = slash < 0 ? String(maxPrefix) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) throw new Error(`invalid CIDR: ${text}`);
  const prefix = Number(prefixText);
  if (prefix > maxPrefix) throw new Error(`invalid CIDR: ${text}`);
  if (addr.family === 4) {
    const hostBits = 32 - prefix;
    const size = 2 ** hostBits;
    const lo = Math.floor(addr.a / size) * size;
    return { family: 4, lo, hi: lo + size - 1 };
  }
  const v = addrToBigInt(addr);
  const hostMask = (1n << BigInt(128 - prefix)) - 1n;
  const lo = v & (MAX128 ^ hostMask);
  return { family: 6, lo, hi: lo | hostMask };
}

/** The 128-bit value of an IPv6 address (or the 32-bit value of an IPv4 one). */
export function addrToBigInt(x: Addr): bigint {
  if (x.family === 4) return BigInt(x.a);
  return (BigInt(x.a) << 96n) | (BigInt(x.b) << 64n) | (BigInt(x.c) << 32n) | BigInt(x.d);
}

export function bigIntToWords(v: bigint): [number, number, number, number] {
  return [
    Number((v >> 96n) & 0xffffffffn),
    Number((v >> 64n) & 0xffffffffn),
    Number((v >> 32n) & 0xffffffffn),
    Number(v & 0xffffffffn),
  ];
}

export function addrEquals(x: Addr, y: Addr): boolean {
  return x.family === y.family && x.a === y.a && x.b === y.b && x.c === y.c && x.d === y.d;
}

export function formatAddr(x: Addr): string {
  if (x.family === 4) {
    return `${x.a >>> 24}.${(x.a >>> 16) & 255}.${(x.a >>> 8) & 255}.${x.a & 255}`;
  }
  const bytes: number[] = [];
  for (const w of [x.a, x.b, x.c, x.d])
    bytes.push(w >>> 24, (w >>> 16) & 255, (w >>> 8) & 255, w & 255);
  return ipaddr.fromByteArray(bytes).toString();
}
