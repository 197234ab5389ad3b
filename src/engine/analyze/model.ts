/**
 * The analyzer's model: rules (and inner access) as entries in decision order, each the set of
 * packets it matches, cut into slots the way the engine cuts its tables: one per direction ×
 * NicType × protocol. In a slot an entry is a box over four dimensions: peer address,
 * destination port, local address and source port (ports span everything for protocols
 * without them). An address dimension holds IPv4 addresses (numbers) and IPv6 addresses
 * (bigints), apart: an entry's spans there are those of either family (a group reference
 * has one for each of its members' addresses; a near end of one family, none of the other).
 */
import type { Direction, NicType, Policy, Rule } from '../../domain/types.js';
import { type Addr, addrToBigInt, parseCidr } from '../address.js';
import type { PacketProtocol } from '../packet.js';
import { decisionOrder } from '../table.js';
import { FULL4, FULL6 } from './public.js';
import { normalize, type Span } from './spans.js';

export type Family = 4 | 6;
export const FAMILIES: readonly Family[] = [4, 6];
export const PROTOCOLS: readonly PacketProtocol[] = ['tcp', 'udp', 'icmp', 'icmpv6', 'gre'];
export const NIC_TYPES: readonly NicType[] = ['intranet', 'internet'];
export const PORTS: Span = { lo: 0, hi: 65535 };

/** Dimensions of a slot, in sweep order. */
export const PEER = 0;
export const DPORT = 1;
export const LOCAL = 2;
export const SPORT = 3;

/**
 * A rule, or inner access (index 0, `rule` null: an accept before every rule, over the
 * intranet, from the peers it names), with what it matches. `index` is its place in decision
 * order. `before`/`after`: whether it is part of the rules without / with a proposed change.
 */
export interface Entry {
  readonly index: number;
  readonly rule: Rule | null;
  readonly policy: Policy;
  readonly peer: Readonly<Record<Family, readonly Span[]>>;
  /** The local addresses it matches, per family; null: none of that family. */
  readonly local: Readonly<Record<Family, Span | null>>;
  readonly dport: Span | null;
  readonly sport: Span | null;
  readonly before: boolean;
  readonly after: boolean;
}

/** One slot: the packets of one direction, NicType and protocol. */
export interface Slot {
  readonly direction: Direction;
  readonly nicType: NicType;
  readonly protocol: PacketProtocol;
  /** The entries that can match here, in decision order, with their spans per dimension. */
  readonly items: readonly SlotItem[];
}

export interface SlotItem {
  readonly entry: Entry;
  readonly spans: readonly (readonly Span[])[];
}

const hasPorts = (p: PacketProtocol | 'all') => p === 'tcp' || p === 'udp';

function portSpan(r: { from: number; to: number }): Span | null {
  const lo = Math.max(0, r.from);
  const hi = Math.min(65535, r.to);
  return lo <= hi ? { lo, hi } : null;
}

/** CIDRs parsed so far (rules share them, and analyses repeat), a bounded cache. */
const parsed = new Map<string, Span & { family: Family }>();

function cidrSpan(text: string, family: Family): Span {
  let r = parsed.get(text);
  if (r === undefined) {
    if (parsed.size >= 65536) parsed.clear();
    const c = parseCidr(text);
    r = { family: c.family, lo: c.lo, hi: c.hi };
    parsed.set(text, r);
  }
  if (r.family !== family) throw new Error(`not an IPv${family} CIDR: ${text}`);
  return r;
}

/** An address as the value of its dimension. */
export function addrValue(a: Addr): number | bigint {
  return a.family === 4 ? a.a : addrToBigInt(a);
}

/** Addresses as spans per family. */
export function addressSpans(addrs: readonly Addr[]): Record<Family, Span[]> {
  const out: Record<Family, Span[]> = { 4: [], 6: [] };
  for (const a of addrs) {
    const v = addrValue(a);
    out[a.family].push({ lo: v, hi: v });
  }
  return { 4: normalize(out[4]), 6: normalize(out[6]) };
}

/** The member addresses of a group rules name (every address of every interface in it). */
export type Members = (groupId: string) => readonly Addr[];

function ruleEntry(rule: Rule, index: number, members: Members, flags: Flags): Entry {
  const peer: Record<Family, Span[]> = { 4: [], 6: [] };
  if (rule.peerCidr !== null) peer[4].push(cidrSpan(rule.peerCidr, 4));
  if (rule.peerIpv6Cidr !== null) peer[6].push(cidrSpan(rule.peerIpv6Cidr, 6));
  if (rule.peerGroup !== null) {
    const m = addressSpans(members(rule.peerGroup.groupId));
    peer[4].push(...m[4]);
    peer[6].push(...m[6]);
  }
  const ports = hasPorts(rule.protocol);
  return {
    index,
    rule,
    policy: rule.policy,
    peer: { 4: normalize(peer[4]), 6: normalize(peer[6]) },
    local: {
      4: rule.localCidr !== null ? cidrSpan(rule.localCidr, 4) : rule.localIpv6Cidr ? null : FULL4,
      6:
        rule.localIpv6Cidr !== null
          ? cidrSpan(rule.localIpv6Cidr, 6)
          : rule.localCidr
            ? null
            : FULL6,
    },
    dport: ports ? portSpan(rule.portRange) : PORTS,
    sport: ports && rule.sourcePortRange !== null ? portSpan(rule.sourcePortRange) : PORTS,
    ...flags,
  };
}

interface Flags {
  readonly before: boolean;
  readonly after: boolean;
}

/** The rules of a model, and those a proposed change adds and removes. */
export interface RuleSet {
  readonly rules: readonly Rule[];
  readonly add?: readonly Rule[];
  readonly remove?: ReadonlySet<string>;
}

/**
 * Every entry of a model in decision order: inner access first (index 0, from `innerPeers`),
 * then the rules, the current ones and those a change adds, each flagged before/after.
 */
export function buildEntries(set: RuleSet, members: Members, innerPeers: readonly Addr[]): Entry[] {
  const remove = set.remove ?? new Set<string>();
  const flagged = [
    ...set.rules.map((rule) => ({ rule, flags: { before: true, after: !remove.has(rule.id) } })),
    ...(set.add ?? []).map((rule) => ({ rule, flags: { before: false, after: true } })),
  ].sort((x, y) => decisionOrder(x.rule, y.rule));
  const inner: Entry = {
    index: 0,
    rule: null,
    policy: 'accept',
    peer: addressSpans(innerPeers),
    local: { 4: FULL4, 6: FULL6 },
    dport: PORTS,
    sport: PORTS,
    before: true,
    after: true,
  };
  return [inner, ...flagged.map((f, i) => ruleEntry(f.rule, i + 1, members, f.flags))];
}

/** Whether an entry can match packets of this direction and NicType (any protocol). */
function matchesSlot(e: Entry, direction: Direction, nicType: NicType): boolean {
  if (e.rule === null) return nicType === 'intranet';
  const r = e.rule;
  return r.direction === direction && r.nicType === nicType && e.dport !== null && e.sport !== null;
}

/** Where a dimension is not cut, the values witnesses take from (an IPv4 address). */
export const WHOLE: readonly Span[] = [FULL4, PORTS, FULL4, PORTS];

const familySpans = (fams: Readonly<Record<Family, Span | null>>): Span[] =>
  FAMILIES.flatMap((f) => fams[f] ?? []);

/** The slots of `directions` (and of `protocols`), each with the entries that can match in it. */
export function buildSlots(
  entries: readonly Entry[],
  directions: readonly Direction[],
  protocols: readonly PacketProtocol[] = PROTOCOLS,
): Slot[] {
  const out: Slot[] = [];
  for (const direction of directions) {
    for (const nicType of NIC_TYPES) {
      const some = entries.filter((e) => matchesSlot(e, direction, nicType));
      for (const protocol of protocols) {
        const items: SlotItem[] = [];
        for (const e of some) {
          if (e.rule !== null && e.rule.protocol !== 'all' && e.rule.protocol !== protocol)
            continue;
          const peer = [...e.peer[4], ...e.peer[6]];
          if (peer.length === 0) continue;
          items.push({ entry: e, spans: [peer, [e.dport!], familySpans(e.local), [e.sport!]] });
        }
        out.push({ direction, nicType, protocol, items });
      }
    }
  }
  return out;
}
