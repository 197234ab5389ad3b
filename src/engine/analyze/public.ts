/**
 * Public addresses: everything outside the IANA special-purpose ranges (private, shared,
 * loopback, link-local, documentation, benchmarking, multicast, reserved, and the protocol
 * assignments of the IPv4 and IPv6 Special-Purpose Address Registries). For IPv6 only global
 * unicast (2000::/3) is public: IANA allocates nothing else, the rest being reserved by the
 * IETF or special (unique-local, link-local, multicast, IPv4-mapped, discard, NAT64, SRv6).
 */
import { parseCidr } from '../address.js';
import { MAX32, MAX128 } from '../intervals.js';
import { type Span, subtract, type Value } from './spans.js';

/** The IPv4 ranges that are not public, and what they are. */
export const SPECIAL_IPV4: readonly (readonly [string, string])[] = [
  ['0.0.0.0/8', 'this network'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'shared address space'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'IETF protocol assignments'],
  ['192.0.2.0/24', 'documentation'],
  ['192.31.196.0/24', 'AS112'],
  ['192.52.193.0/24', 'AMT'],
  ['192.88.99.0/24', 'deprecated 6to4 relay anycast'],
  ['192.168.0.0/16', 'private'],
  ['192.175.48.0/24', 'AS112 direct delegation'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved (and the limited broadcast address)'],
];

/** The special-purpose IPv6 ranges inside global unicast 2000::/3. */
export const SPECIAL_IPV6_IN_GLOBAL: readonly (readonly [string, string])[] = [
  ['2001::/23', 'IETF protocol assignments (TEREDO, benchmarking, AMT, ORCHID, …)'],
  ['2001:db8::/32', 'documentation'],
  ['2002::/16', '6to4'],
  ['2620:4f:8000::/48', 'AS112 direct delegation'],
  ['3fff::/20', 'documentation'],
];

function spans(cidrs: readonly (readonly [string, string])[]): Span[] {
  return cidrs.map(([c]) => {
    const r = parseCidr(c);
    return { lo: r.lo, hi: r.hi };
  });
}

const GLOBAL6 = parseCidr('2000::/3');

/** Public IPv4 addresses, as sorted disjoint spans. */
export const PUBLIC4: readonly Span[] = subtract([{ lo: 0, hi: MAX32 }], spans(SPECIAL_IPV4));
/** Public IPv6 addresses, as sorted disjoint spans. */
export const PUBLIC6: readonly Span[] = subtract(
  [{ lo: GLOBAL6.lo, hi: GLOBAL6.hi }],
  spans(SPECIAL_IPV6_IN_GLOBAL),
);

/** How many addresses of each family are public. */
export const PUBLIC_SIZE = {
  4: PUBLIC4.reduce((n, s) => n + (Number(s.hi) - Number(s.lo) + 1), 0),
  6: PUBLIC6.reduce((n, s) => n + (BigInt(s.hi) - BigInt(s.lo) + 1n), 0n),
} as const;

/** Whether a value of one family (an address as a number or bigint) is public. */
export function isPublic(family: 4 | 6, v: Value): boolean {
  const list = family === 4 ? PUBLIC4 : PUBLIC6;
  return list.some((s) => s.lo <= v && v <= s.hi);
}

export const FULL4: Span = { lo: 0, hi: MAX32 };
export const FULL6: Span = { lo: 0n, hi: MAX128 };
