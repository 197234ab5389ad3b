/**
 * Exact IPv4/IPv6 address and CIDR parsing. A plain address is a /32 (/128);
 * host bits are cleared, so every CIDR is returned as its network.
 * IPv4 is parsed strictly (four decimal octets, no leading zeros); IPv6 with ipaddr.js.
 */
import ipaddr from 'ipaddr.js';

export type Family = 4 | 6;

export interface Cidr {
  family: Family;
  /** Normalised text: `10.0.0.0/8`, `2001:db8::/32`. */
  text: string;
  prefix: number;
  /**
   * The caller's spelling, to show back: IPv4 exactly as written (`10.1.2.3/8`, `1.2.3.4`);
   * IPv6 with host bits and prefix as written, the address in RFC 5952 form.
   */
  written: string;
}

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function parseIpv4(s: string): number | undefined {
  const m = V4.exec(s);
  if (!m) return undefined;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const part = m[i]!;
    if (part.length > 1 && part[0] === '0') return undefined;
    const v = Number(part);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

export function formatIpv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function splitPrefix(
  s: string,
  max: number,
): { addr: string; prefix: number } | 'bad-prefix' | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return { addr: s, prefix: max };
  const p = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(p) || Number(p) > max || (p.length > 1 && p[0] === '0'))
    return 'bad-prefix';
  return { addr: s.slice(0, slash), prefix: Number(p) };
}

/** An IPv4 CIDR or address, normalised; undefined when malformed. */
export function parseIpv4Cidr(s: string): Cidr | undefined {
  const parts = splitPrefix(s, 32);
  if (parts === undefined || parts === 'bad-prefix') return undefined;
  const addr = parseIpv4(parts.addr);
  if (addr === undefined) return undefined;
  const mask = parts.prefix === 0 ? 0 : (0xffffffff << (32 - parts.prefix)) >>> 0;
  return {
    family: 4,
    prefix: parts.prefix,
    text: `${formatIpv4((addr & mask) >>> 0)}/${parts.prefix}`,
    written: s,
  };
}

/**
 * An embedded dotted quad (`::a.b.c.d`, `::ffff:a.b.c.d`) rewritten as two hex groups:
 * ipaddr.js reads a bare `::a.b.c.d` as `::ffff:a.b.c.d`, which is another address.
 */
function hexTail(s: string): string | undefined {
  if (!s.includes('.')) return s;
  const colon = s.lastIndexOf(':');
  const v4 = parseIpv4(s.slice(colon + 1));
  if (colon < 0 || v4 === undefined) return undefined;
  return `${s.slice(0, colon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
}

export function isIpv6(s: string): boolean {
  const hex = hexTail(s);
  return hex !== undefined && !hex.includes('%') && ipaddr.IPv6.isValid(hex);
}

/**
 * An IPv6 CIDR or address, normalised (RFC 5952 text). `'bad-prefix'` when the
 * address is IPv6 but the prefix is not 0-128; undefined when not IPv6 at all.
 */
export function parseIpv6Cidr(s: string): Cidr | 'bad-prefix' | undefined {
  const parts = splitPrefix(s, 128);
  if (parts === undefined) return undefined;
  if (parts === 'bad-prefix') return isIpv6(s.slice(0, s.indexOf('/'))) ? 'bad-prefix' : undefined;
  if (!isIpv6(parts.addr)) return undefined;
  const hex = hexTail(parts.addr)!;
  const net = ipaddr.IPv6.networkAddressFromCIDR(`${hex}/${parts.prefix}`) as ipaddr.IPv6;
  const host = ipaddr.IPv6.parse(hex).toString();
  return {
    family: 6,
    prefix: parts.prefix,
    text: `${net.toString()}/${parts.prefix}`,
    written: s.includes('/') ? `${host}/${parts.prefix}` : host,
  };
}

/** Whether IPv4 CIDR `inner` lies inside `outer` (both normalised text). */
export function ipv4Contains(outer: string, inner: string): boolean {
  const o = parseIpv4Cidr(outer)!;
  const i = parseIpv4Cidr(inner)!;
  if (i.prefix < o.prefix) return false;
  const base = (c: Cidr) => parseIpv4(c.text.slice(0, c.text.indexOf('/')))!;
  const mask = o.prefix === 0 ? 0 : (0xffffffff << (32 - o.prefix)) >>> 0;
  return (base(i) & mask) >>> 0 === base(o);
}

/** Whether two IPv4 CIDRs overlap. */
export function ipv4Overlaps(a: string, b: string): boolean {
  return ipv4Contains(a, b) || ipv4Contains(b, a);
}
