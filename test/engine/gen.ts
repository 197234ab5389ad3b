/**
 * Seeded random worlds, packets and incremental changes for the engine's property test
 * (and the benchmark). Everything derives from one 32-bit seed.
 */
import {
  type GroupType,
  interfaceAddresses,
  type NetworkInterface,
  type PortRange,
  type Protocol,
  type Rule,
  type SecurityGroup,
} from '../../src/domain/types.js';
import {
  Addr,
  bigIntToWords,
  formatAddr,
  type Packet,
  type PacketProtocol,
  parseAddress,
  parseCidr,
} from '../../src/engine/index.js';
import { eni as fixtureEni, group as fixtureGroup } from './fixtures.js';

/** mulberry32: small, fast, good enough for test data. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  bool(p = 0.5): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  u32(): number {
    return Math.floor(this.next() * 4294967296) >>> 0;
  }
}

const V4_BASES = ['10.0.0.0', '10.1.2.0', '192.168.1.0', '172.16.0.0', '100.64.3.0', '8.8.8.0'];
const V6_BASES = ['2001:db8::', '2001:db8:0:1::', 'fd00::', '2400:cb00::'];

/** A random address near one of a few bases (so CIDRs and interfaces collide often). */
export function randomAddr(rng: Rng, v6: boolean): Addr {
  if (!v6) {
    if (rng.bool(0.1)) return v4(rng.u32());
    const base = parseAddress(rng.pick(V4_BASES)).a;
    return v4((base + rng.int(0, rng.bool(0.7) ? 15 : 1023)) >>> 0);
  }
  const base = parseAddress(rng.pick(V6_BASES));
  if (rng.bool(0.1)) return mk6(rng.u32(), rng.u32(), rng.u32(), rng.u32());
  return mk6(base.a, base.b, rng.bool(0.8) ? 0 : rng.u32(), rng.int(0, rng.bool(0.7) ? 15 : 1023));
}

function v4(a: number): Addr {
  return new Addr(4, a >>> 0, 0, 0, 0);
}

function mk6(a: number, b: number, c: number, d: number): Addr {
  return new Addr(6, a >>> 0, b >>> 0, c >>> 0, d >>> 0);
}

/** A normalised CIDR string around `addr` with a random prefix length. */
export function randomCidr(rng: Rng, v6: boolean): string {
  const a = randomAddr(rng, v6);
  if (!v6) {
    const prefix = rng.bool(0.3) ? rng.int(0, 32) : rng.pick([8, 16, 24, 28, 30, 32]);
    const r = parseCidr(`${formatAddr(a)}/${prefix}`);
    return `${formatAddr(v4(r.lo as number))}/${prefix}`;
  }
  const prefix = rng.bool(0.3) ? rng.int(0, 128) : rng.pick([32, 48, 64, 96, 120, 124, 128]);
  const r = parseCidr(`${formatAddr(a)}/${prefix}`);
  const [w0, w1, w2, w3] = bigIntToWords(r.lo as bigint);
  return `${formatAddr(mk6(w0, w1, w2, w3))}/${prefix}`;
}

/** A random address inside a CIDR. */
export function addrIn(rng: Rng, cidr: string): Addr {
  const r = parseCidr(cidr);
  if (r.family === 4) {
    const size = r.hi - r.lo + 1;
    const off = rng.bool(0.3) ? rng.pick([0, size - 1]) : Math.floor(rng.next() * size);
    return v4(r.lo + off);
  }
  const size = r.hi - r.lo + 1n;
  const off = rng.bool(0.3)
    ? rng.pick([0n, size - 1n])
    : (BigInt(rng.u32()) * BigInt(rng.u32()) * BigInt(rng.u32()) + BigInt(rng.u32())) % size;
  const [a, b, c, d] = bigIntToWords(r.lo + off);
  return mk6(a, b, c, d);
}

const COMMON_PORTS = [22, 80, 443, 3306, 6379, 8080, 53, 1, 65535, 1024];

function portRange(rng: Rng): PortRange {
  const k = rng.next();
  if (k < 0.4) {
    const p = rng.bool(0.6) ? rng.pick(COMMON_PORTS) : rng.int(1, 65535);
    return { from: p, to: p };
  }
  if (k < 0.7) {
    const a = rng.int(1, 65535);
    const b = rng.int(1, 65535);
    return { from: Math.min(a, b), to: Math.max(a, b) };
  }
  if (k < 0.85) {
    const a = rng.pick([1, 1000, 8000, 30000]);
    return { from: a, to: a + rng.int(0, 200) };
  }
  return { from: 1, to: 65535 };
}

export interface GenOptions {
  readonly v6Share: number;
  readonly groupRefShare: number;
  readonly localShare: number;
  readonly internetShare: number;
}

const DEFAULT_OPTS: GenOptions = {
  v6Share: 0.2,
  groupRefShare: 0.3,
  localShare: 0.3,
  internetShare: 0.2,
};

export class World {
  readonly groups: SecurityGroup[] = [];
  readonly groupIds: string[] = [];
  readonly rules = new Map<string, Rule>();
  readonly enis = new Map<string, NetworkInterface>();
  private ruleCounter = 0;
  private seq = 0;
  private eniCounter = 0;

  parse(ip: string): Addr {
    return parseAddress(ip);
  }

  constructor(
    readonly rng: Rng,
    readonly opts: GenOptions = DEFAULT_OPTS,
  ) {}

  group(id: string, type?: GroupType, inner?: 'Accept' | 'Drop'): SecurityGroup {
    const rng = this.rng;
    const t = type ?? (rng.bool(0.3) ? 'enterprise' : 'normal');
    return fixtureGroup(id, {
      type: t,
      innerAccessPolicy: inner ?? (t === 'enterprise' ? 'Drop' : rng.bool(0.6) ? 'Accept' : 'Drop'),
    });
  }

  eni(groupIds: readonly string[], ip?: string): NetworkInterface {
    const rng = this.rng;
    const id = `eni-${this.eniCounter++}`;
    const primary = ip ?? formatAddr(randomAddr(rng, rng.bool(this.opts.v6Share / 2)));
    return fixtureEni(id, primary, groupIds, { secondaryIpAddresses: this.secondaries() });
  }

  /** 0-3 secondary addresses (IPv4, near the bases: they collide with CIDRs and others). */
  secondaries(): string[] {
    const rng = this.rng;
    const n = rng.pick([0, 0, 0, 1, 1, 2, 3]);
    return Array.from({ length: n }, () => formatAddr(randomAddr(rng, false)));
  }

  /** A random rule of `groupId`; reuses `id` when given (a replacement). */
  rule(groupId: string, id?: string): Rule {
    const rng = this.rng;
    const o = this.opts;
    const protocol: Protocol = rng.pick([
      'tcp',
      'tcp',
      'tcp',
      'udp',
      'udp',
      'icmp',
      'icmpv6',
      'gre',
      'all',
    ]);
    const ports = protocol === 'tcp' || protocol === 'udp';
    const k = rng.next();
    const refGroup =
      rng.bool(0.9) && this.groupIds.length > 0 ? rng.pick(this.groupIds) : 'sg-ghost';
    const peerGroup = k < o.groupRefShare ? { groupId: refGroup, ownerUid: '1' } : null;
    const peerV6 = peerGroup === null && rng.bool(o.v6Share);
    const lk = rng.next();
    const localV4 = lk < o.localShare * 0.7;
    const localV6 = !localV4 && lk < o.localShare;
    const prio = rng.bool(0.5) ? rng.pick([1, 2, 3, 50, 100]) : rng.int(1, 100);
    this.seq += rng.bool(0.05) ? 0 : 1;
    return {
      id: id ?? `sgr-${this.ruleCounter++}`,
      securityGroupId: groupId,
      direction: rng.bool() ? 'ingress' : 'egress',
      protocol,
      portRange: ports ? portRange(rng) : { from: -1, to: -1 },
      sourcePortRange: ports && rng.bool(0.25) ? portRange(rng) : null,
      nicType: rng.bool(o.internetShare) ? 'internet' : 'intranet',
      policy: rng.bool() ? 'accept' : 'drop',
      priority: prio,
      peerCidr: peerGroup === null && !peerV6 ? randomCidr(rng, false) : null,
      peerIpv6Cidr: peerV6 ? randomCidr(rng, true) : null,
      peerGroup,
      localCidr: localV4 ? randomCidr(rng, false) : null,
      localIpv6Cidr: localV6 ? randomCidr(rng, true) : null,
      peerCidrText: null,
      localCidrText: null,
      description: '',
      createTime: '2024-01-01T00:00:00Z',
      seq: this.seq,
    };
  }

  /** A random packet at an existing interface, biased towards matching something. */
  packet(interfaceId?: string): Packet {
    const rng = this.rng;
    const enis = [...this.enis.values()];
    const eni = interfaceId !== undefined ? this.enis.get(interfaceId)! : rng.pick(enis);
    const direction = rng.bool() ? 'ingress' : 'egress';
    const rules = [...this.rules.values()].filter(
      (r) => eni.securityGroupIds.includes(r.securityGroupId) && r.direction === direction,
    );
    const rule = rules.length > 0 && rng.bool(0.85) ? rng.pick(rules) : undefined;
    // Aim at `rule` (every dimension inside it), then maybe spoil one dimension.
    const aim = rule !== undefined && rng.bool(0.7);
    const spoil = aim ? (rng.bool(0.4) ? rng.int(0, 5) : -1) : -2;
    const own = parseAddress(eni.primaryIpAddress);
    let protocol: PacketProtocol = rng.pick(['tcp', 'tcp', 'udp', 'icmp', 'icmpv6', 'gre']);
    if (rule && rule.protocol !== 'all' && (aim ? spoil !== 0 : rng.bool(0.5))) {
      protocol = rule.protocol;
    }
    let nicType: 'intranet' | 'internet' = rng.bool(0.8) ? 'intranet' : 'internet';
    if (rule && (aim ? spoil !== 1 : rng.bool(0.7))) nicType = rule.nicType;
    let local = rng.bool(0.8) ? own : randomAddr(rng, rng.bool(0.3));
    if (rule && (aim ? spoil !== 2 : rng.bool(0.5))) {
      if (rule.localCidr) local = addrIn(rng, rule.localCidr);
      else if (rule.localIpv6Cidr) local = addrIn(rng, rule.localIpv6Cidr);
    }
    let peer: Addr = rng.bool(0.4)
      ? parseAddress(rng.pick(interfaceAddresses(rng.pick(enis))))
      : randomAddr(rng, rng.bool(0.25));
    if (rule && (aim ? spoil !== 3 : rng.bool(0.5))) {
      if (rule.peerCidr) peer = addrIn(rng, rule.peerCidr);
      else if (rule.peerIpv6Cidr) peer = addrIn(rng, rule.peerIpv6Cidr);
      else if (rule.peerGroup) {
        const gid = rule.peerGroup.groupId;
        const members = enis.filter((e) => e.securityGroupIds.includes(gid));
        if (members.length > 0)
          peer = parseAddress(rng.pick(interfaceAddresses(rng.pick(members))));
      }
    }
    const portNear = (r: PortRange | null | undefined, inside: boolean): number => {
      if (r && r.from >= 0 && (inside || rng.bool(0.7))) {
        const v = inside
          ? rng.pick([r.from, r.to, rng.int(r.from, r.to)])
          : rng.pick([r.from - 1, r.to + 1, rng.int(r.from, r.to)]);
        return Math.min(65535, Math.max(0, v));
      }
      return rng.bool(0.5) ? rng.pick(COMMON_PORTS) : rng.int(0, 65535);
    };
    const dport = portNear(rule?.portRange, aim && spoil !== 4);
    const sport = portNear(rule?.sourcePortRange, aim && spoil !== 5);
    const ingress = direction === 'ingress';
    return {
      interfaceId: eni.id,
      direction,
      protocol,
      localAddr: local,
      localPort: ingress ? dport : sport,
      peerAddr: peer,
      peerPort: ingress ? sport : dport,
      nicType,
      established: rng.bool(0.02),
    };
  }

  /** A random membership list over the known groups (0..3, may mix types). */
  memberships(): string[] {
    const rng = this.rng;
    const n = rng.pick([0, 1, 1, 1, 2, 2, 3]);
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(rng.bool(0.95) ? rng.pick(this.groupIds) : 'sg-ghost');
    if (rng.bool(0.05) && out.length > 0) out.push(out[0]!);
    return out;
  }
}

/** What an engine-like target must offer for the world to drive it. */
export interface Target {
  upsertGroup(g: SecurityGroup): void;
  removeGroup(id: string): void;
  upsertRule(r: Rule): void;
  removeRule(id: string): void;
  upsertInterface(e: NetworkInterface): void;
  removeInterface(id: string): void;
}

/**
 * Builds a random world, applying it to every target. `rules`: the range of its rule
 * count (large worlds give tables of several 32-rule bitset words).
 */
export function buildWorld(
  rng: Rng,
  targets: readonly Target[],
  rules: readonly [number, number] = [10, 150],
): World {
  const w = new World(rng);
  const nGroups = rng.int(2, 6);
  for (let i = 0; i < nGroups; i++) w.groupIds.push(`sg-${i}`);
  for (const id of w.groupIds) {
    const g = w.group(id);
    w.groups.push(g);
    for (const t of targets) t.upsertGroup(g);
  }
  const nEnis = rng.int(3, 12);
  const ips: string[] = [];
  for (let i = 0; i < nEnis; i++) {
    const e = w.eni(w.memberships(), ips.length > 0 && rng.bool(0.1) ? rng.pick(ips) : undefined);
    ips.push(e.primaryIpAddress);
    w.enis.set(e.id, e);
    for (const t of targets) t.upsertInterface(e);
  }
  const nRules = rng.int(rules[0], rules[1]);
  for (let i = 0; i < nRules; i++) {
    const r = w.rule(rng.pick(w.groupIds));
    w.rules.set(r.id, r);
    for (const t of targets) t.upsertRule(r);
  }
  return w;
}

/** Applies one random incremental change to every target; returns a description. */
export function mutate(w: World, targets: readonly Target[]): string {
  const rng = w.rng;
  const k = rng.int(0, 9);
  const all = <T>(f: (t: Target) => T) => {
    for (const t of targets) f(t);
  };
  switch (k) {
    case 0:
    case 1: {
      const r = w.rule(rng.pick(w.groupIds));
      w.rules.set(r.id, r);
      all((t) => t.upsertRule(r));
      return `add rule ${r.id}`;
    }
    case 2: {
      if (w.rules.size === 0) return 'noop';
      const id = rng.pick([...w.rules.keys()]);
      w.rules.delete(id);
      all((t) => t.removeRule(id));
      return `remove rule ${id}`;
    }
    case 3: {
      if (w.rules.size === 0) return 'noop';
      const old = rng.pick([...w.rules.values()]);
      const r = w.rule(rng.bool(0.7) ? old.securityGroupId : rng.pick(w.groupIds), old.id);
      w.rules.set(r.id, r);
      all((t) => t.upsertRule(r));
      return `replace rule ${r.id}`;
    }
    case 4: {
      const old = rng.pick([...w.enis.values()]);
      const e: NetworkInterface = { ...old, securityGroupIds: w.memberships() };
      w.enis.set(e.id, e);
      all((t) => t.upsertInterface(e));
      return `membership ${e.id} -> ${e.securityGroupIds.join(',')}`;
    }
    case 5: {
      const old = rng.pick([...w.enis.values()]);
      const others = [...w.enis.values()].map((x) => x.primaryIpAddress);
      const ip = rng.bool(0.3)
        ? rng.pick(others)
        : formatAddr(randomAddr(rng, rng.bool(w.opts.v6Share / 2)));
      const e: NetworkInterface = rng.bool(0.5)
        ? { ...old, primaryIpAddress: ip }
        : { ...old, secondaryIpAddresses: rng.bool(0.3) ? [ip] : w.secondaries() };
      w.enis.set(e.id, e);
      all((t) => t.upsertInterface(e));
      return `ip ${e.id} -> ${interfaceAddresses(e).join(',')}`;
    }
    case 6: {
      if (w.enis.size > 2 && rng.bool(0.5)) {
        const id = rng.pick([...w.enis.keys()]);
        w.enis.delete(id);
        all((t) => t.removeInterface(id));
        return `remove eni ${id}`;
      }
      const e = w.eni(w.memberships());
      w.enis.set(e.id, e);
      all((t) => t.upsertInterface(e));
      return `add eni ${e.id}`;
    }
    case 7:
    case 8: {
      const id = rng.pick(w.groupIds);
      const g = w.group(id);
      all((t) => t.upsertGroup(g));
      return `group ${id} -> ${g.type}/${g.innerAccessPolicy}`;
    }
    default: {
      const id = rng.pick(w.groupIds);
      for (const r of [...w.rules.values()]) if (r.securityGroupId === id) w.rules.delete(r.id);
      all((t) => t.removeGroup(id));
      return `remove group ${id}`;
    }
  }
}
