/**
 * The decision engine: accept/drop for a packet at a network interface.
 *
 * State is kept incrementally:
 * - rules per group; interfaces; group metadata;
 * - a "profile" per distinct set of groups an interface is in (interfaces with the same
 *   groups share one). A profile holds 16 lazily compiled tables, one per
 *   (direction, nicType, protocol) slot. Changing a rule of group G only drops the tables of
 *   that rule's slot(s) in the profiles that contain G; they recompile on next use.
 * - a group-reference rule to a group of at most `foldLimit` members is compiled as the
 *   member addresses, so a change to those (an interface joins, leaves, is created,
 *   removed or readdressed) drops the tables whose rules name that group; a rule to a
 *   larger group is matched through the peer's memberships at decision time, so changes
 *   to a large group's members recompile nothing;
 * - a map from each private address (primary and secondary) to the interfaces that hold it
 *   and the groups they are in, used by inner access and large-group references.
 *
 * Inner access comes first: between interfaces that share a normal group whose inner access
 * policy is Accept, intranet traffic is accepted whatever the rules say, both ways (the
 * public cloud documents that Accept takes precedence over user-created rules). With Drop,
 * only rules can open traffic between members.
 */
import {
  type Direction,
  interfaceAddresses,
  type NetworkInterface,
  type Policy,
  type Protocol,
  type Rule,
  type SecurityGroup,
} from '../domain/types.js';
import {
  type Addr,
  addrEquals,
  parseAddress,
  parseCidr,
  type Range4,
  type Range6,
} from './address.js';
import type { Decision, Packet, PacketProtocol } from './packet.js';
import {
  addressRow,
  buildTable,
  type CompiledRule,
  EMPTY_TABLE,
  PACKET_PROTOCOLS,
  PROTO_INDEX,
  type Table,
  trieLookup16,
} from './table.js';
import { U32Map } from './u32map.js';

export class UnknownInterfaceError extends Error {
  constructor(readonly interfaceId: string) {
    super(`unknown network interface: ${interfaceId}`);
    this.name = 'UnknownInterfaceError';
  }
}

const freeze = <T>(x: T): T => Object.freeze(x);
const ESTABLISHED: Decision = freeze({ verdict: 'accept', reason: 'established' });
const INNER_ACCEPT: Decision = freeze({ verdict: 'accept', reason: 'inner-access' });
const DEFAULT_DROP: Decision = freeze({ verdict: 'drop', reason: 'default' });
const DEFAULT_ACCEPT: Decision = freeze({ verdict: 'accept', reason: 'default' });

const SLOTS = 4 * PACKET_PROTOCOLS;
const slotOf = (dirIdx: number, nicIdx: number, protoIdx: number): number =>
  (dirIdx * 2 + nicIdx) * PACKET_PROTOCOLS + protoIdx;

interface Profile {
  readonly key: string;
  readonly groupIds: readonly string[];
  readonly gids: readonly number[];
  readonly tables: (Table | null)[];
  /** Groups named by group-reference rules of tables compiled so far (see refProfilesByGid). */
  readonly refGids: Set<number>;
  users: number;
}

interface EniState {
  readonly eni: NetworkInterface;
  /** Its private addresses, the primary first (distinct). */
  readonly addrs: readonly Addr[];
  readonly gids: readonly number[];
  readonly profile: Profile;
  /** Groups of this interface that are normal with inner access Accept. */
  acceptGids: number[];
  hasEnterprise: boolean;
}

/** Who holds one private address: the interfaces and, per group, how many of them are in it. */
interface PeerInfo {
  readonly addr: Addr;
  readonly enis: EniState[];
  readonly gidCount: Map<number, number>;
}

/** An interface in a group, as `Engine.membersOf` tells it. */
export interface GroupMember {
  readonly interfaceId: string;
  readonly addresses: readonly Addr[];
}

export interface BetweenDecision {
  readonly verdict: 'accept' | 'drop';
  readonly egress: Decision;
  readonly ingress: Decision;
}

function range(r: { from: number; to: number }): readonly [number, number] | null {
  const lo = Math.max(0, r.from);
  const hi = Math.min(65535, r.to);
  return lo <= hi ? [lo, hi] : null;
}

function cidr4(text: string | null): Range4 | null {
  if (text === null) return null;
  const r = parseCidr(text);
  if (r.family !== 4) throw new Error(`not an IPv4 CIDR: ${text}`);
  return r;
}

function cidr6(text: string | null): Range6 | null {
  if (text === null) return null;
  const r = parseCidr(text);
  if (r.family !== 6) throw new Error(`not an IPv6 CIDR: ${text}`);
  return r;
}

const v6Key = (x: Addr): number => (x.a ^ x.b ^ x.c ^ x.d) >>> 0;

function sameAddrs(x: readonly Addr[], y: readonly Addr[]): boolean {
  return x.length === y.length && x.every((a, i) => addrEquals(a, y[i]!));
}

function index<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  let s = m.get(k);
  if (s === undefined) {
    s = new Set();
    m.set(k, s);
  }
  s.add(v);
}

function unindex<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  const s = m.get(k);
  s?.delete(v);
  if (s?.size === 0) m.delete(k);
}

export interface EngineOptions {
  /**
   * The largest group whose member addresses a group-reference rule is compiled into
   * (default 256). Larger groups cost each decision a membership lookup instead of a
   * recompile per membership change.
   */
  readonly foldLimit?: number;
}

export class Engine {
  private readonly foldLimit: number;
  /** Scratch row: the peer row of the current decision with its large groups ORed in. */
  private bigScratch = new Int32Array(64);

  constructor(opts: EngineOptions = {}) {
    this.foldLimit = opts.foldLimit ?? 256;
  }

  private readonly groups = new Map<string, SecurityGroup>();
  private readonly rules = new Map<string, CompiledRule>();
  private readonly rulesByGroup = new Map<string, Map<string, CompiledRule>>();
  private readonly enis = new Map<string, EniState>();
  private readonly gidByName = new Map<string, number>();
  private readonly membersByGid = new Map<number, Set<EniState>>();
  private readonly profiles = new Map<string, Profile>();
  private readonly profilesByGid = new Map<number, Set<Profile>>();
  private readonly peers4 = new U32Map<PeerInfo>();
  private readonly peers6 = new U32Map<PeerInfo[]>();
  /** The interface of the last decision (decisions tend to come in runs per interface). */
  private lastEni: EniState | null = null;
  /** Profiles with a compiled table whose group-reference rules name the group. */
  private readonly refProfilesByGid = new Map<number, Set<Profile>>();

  // ---------------------------------------------------------------- groups

  upsertGroup(g: SecurityGroup): void {
    this.groups.set(g.id, g);
    this.refreshMembers(g.id);
  }

  /** Forgets the group's metadata and its rules (membership belongs to interfaces). */
  removeGroup(id: string): void {
    const rules = this.rulesByGroup.get(id);
    if (rules !== undefined) for (const ruleId of [...rules.keys()]) this.removeRule(ruleId);
    this.groups.delete(id);
    this.refreshMembers(id);
  }

  private refreshMembers(groupId: string): void {
    const gid = this.gidByName.get(groupId);
    if (gid === undefined) return;
    for (const e of this.membersByGid.get(gid) ?? []) this.refreshFlags(e);
  }

  private refreshFlags(e: EniState): void {
    e.acceptGids = [];
    e.hasEnterprise = false;
    for (const id of e.profile.groupIds) {
      const g = this.groups.get(id);
      if (g === undefined) continue;
      if (g.type === 'enterprise') e.hasEnterprise = true;
      else if (g.innerAccessPolicy === 'Accept') e.acceptGids.push(this.gid(id));
    }
  }

  private gid(name: string): number {
    let id = this.gidByName.get(name);
    if (id === undefined) {
      id = this.gidByName.size;
      this.gidByName.set(name, id);
    }
    return id;
  }

  // ---------------------------------------------------------------- rules

  /** Adds a rule, or replaces the rule with the same id. Throws on a malformed CIDR. */
  upsertRule(r: Rule): void {
    const c = this.compileRule(r);
    const old = this.rules.get(r.id);
    if (old !== undefined) this.detachRule(old);
    this.rules.set(r.id, c);
    let m = this.rulesByGroup.get(r.securityGroupId);
    if (m === undefined) {
      m = new Map();
      this.rulesByGroup.set(r.securityGroupId, m);
    }
    m.set(r.id, c);
    this.invalidate(c);
  }

  removeRule(ruleId: string): void {
    const old = this.rules.get(ruleId);
    if (old === undefined) return;
    this.rules.delete(ruleId);
    this.detachRule(old);
  }

  private detachRule(c: CompiledRule): void {
    const m = this.rulesByGroup.get(c.rule.securityGroupId);
    if (m !== undefined) {
      m.delete(c.rule.id);
      if (m.size === 0) this.rulesByGroup.delete(c.rule.securityGroupId);
    }
    this.invalidate(c);
  }

  private invalidate(c: CompiledRule): void {
    const gid = this.gidByName.get(c.rule.securityGroupId);
    if (gid === undefined) return;
    const profiles = this.profilesByGid.get(gid);
    if (profiles === undefined) return;
    for (const p of profiles) {
      if (c.protoIdx === PROTO_INDEX.all) {
        for (let k = 0; k < PACKET_PROTOCOLS; k++) p.tables[slotOf(c.dirIdx, c.nicIdx, k)] = null;
      } else {
        p.tables[slotOf(c.dirIdx, c.nicIdx, c.protoIdx)] = null;
      }
    }
  }

  private compileRule(r: Rule): CompiledRule {
    const rule: Rule = freeze({ ...r });
    const ports = r.protocol === 'tcp' || r.protocol === 'udp';
    return {
      rule,
      dirIdx: r.direction === 'ingress' ? 0 : 1,
      nicIdx: r.nicType === 'intranet' ? 0 : 1,
      protoIdx: PROTO_INDEX[r.protocol as Protocol],
      peer4: cidr4(r.peerCidr),
      peer6: cidr6(r.peerIpv6Cidr),
      peerGid: r.peerGroup === null ? -1 : this.gid(r.peerGroup.groupId),
      local4: cidr4(r.localCidr),
      local6: cidr6(r.localIpv6Cidr),
      dport: ports ? range(r.portRange) : [0, 65535],
      sport: ports && r.sourcePortRange !== null ? range(r.sourcePortRange) : [0, 65535],
      decision: freeze({
        verdict: r.policy,
        reason: 'rule',
        rule: freeze({
          securityGroupId: r.securityGroupId,
          securityGroupRuleId: r.id,
          priority: r.priority,
          policy: r.policy as Policy,
        }),
      }),
    };
  }

  // ---------------------------------------------------------------- interfaces

  /** Adds or replaces an interface (membership and addresses). Throws on a bad IP. */
  upsertInterface(eni: NetworkInterface): void {
    const addrs: Addr[] = [];
    for (const ip of interfaceAddresses(eni)) {
      const a = parseAddress(ip);
      if (!addrs.some((x) => addrEquals(x, a))) addrs.push(a);
    }
    const groupIds = [...new Set(eni.securityGroupIds)].sort();
    const gids = groupIds.map((g) => this.gid(g));
    const profile = this.profileFor(groupIds, gids);
    const old = this.enis.get(eni.id);
    if (old !== undefined) this.detachInterface(old);
    this.membersChanged(old, addrs, gids);
    const e: EniState = { eni, addrs, gids, profile, acceptGids: [], hasEnterprise: false };
    this.refreshFlags(e);
    this.enis.set(eni.id, e);
    this.lastEni = null;
    for (const g of gids) index(this.membersByGid, g, e);
    for (const addr of addrs) {
      const info = this.peerInfo(addr, true)!;
      info.enis.push(e);
      for (const g of gids) info.gidCount.set(g, (info.gidCount.get(g) ?? 0) + 1);
    }
  }

  removeInterface(id: string): void {
    const e = this.enis.get(id);
    if (e === undefined) return;
    this.enis.delete(id);
    this.lastEni = null;
    this.detachInterface(e);
    this.invalidateRefs(e.gids);
  }

  /** Drops the tables that depend on member addresses an interface update changes. */
  private membersChanged(
    old: EniState | undefined,
    addrs: readonly Addr[],
    gids: readonly number[],
  ): void {
    if (old === undefined) this.invalidateRefs(gids);
    else if (!sameAddrs(old.addrs, addrs)) this.invalidateRefs([...old.gids, ...gids]);
    else {
      this.invalidateRefs(old.gids.filter((g) => !gids.includes(g)));
      this.invalidateRefs(gids.filter((g) => !old.gids.includes(g)));
    }
  }

  private invalidateRefs(gids: readonly number[]): void {
    for (const g of gids) {
      const profiles = this.refProfilesByGid.get(g);
      if (profiles === undefined) continue;
      for (const p of profiles) {
        for (let s = 0; s < SLOTS; s++) {
          const t = p.tables[s];
          if (t === null || t === undefined) continue;
          // folded: its addresses changed; large: recompile when it becomes small enough
          if (t.folded.includes(g) || (t.bigGids.includes(g) && this.foldable(g)))
            p.tables[s] = null;
        }
      }
    }
  }

  hasInterface(id: string): boolean {
    return this.enis.has(id);
  }

  /**
   * The interfaces now in a group, of whichever account, with their private addresses
   * (the primary first): read-only, for the rule analyzer.
   */
  membersOf(groupId: string): GroupMember[] {
    const gid = this.gidByName.get(groupId);
    if (gid === undefined) return [];
    return [...(this.membersByGid.get(gid) ?? [])].map((e) => ({
      interfaceId: e.eni.id,
      addresses: e.addrs,
    }));
  }

  private detachInterface(e: EniState): void {
    for (const g of e.gids) unindex(this.membersByGid, g, e);
    for (const addr of e.addrs) {
      const info = this.peerInfo(addr, false);
      if (info === undefined) continue;
      const i = info.enis.indexOf(e);
      if (i >= 0) info.enis.splice(i, 1);
      for (const g of e.gids) {
        const c = (info.gidCount.get(g) ?? 0) - 1;
        if (c > 0) info.gidCount.set(g, c);
        else info.gidCount.delete(g);
      }
      if (info.enis.length === 0) this.dropPeerInfo(info);
    }
    const p = e.profile;
    if (--p.users === 0) {
      this.profiles.delete(p.key);
      for (const g of p.gids) unindex(this.profilesByGid, g, p);
      for (const g of p.refGids) unindex(this.refProfilesByGid, g, p);
    }
  }

  private profileFor(groupIds: string[], gids: number[]): Profile {
    const key = groupIds.join('\n');
    let p = this.profiles.get(key);
    if (p === undefined) {
      p = {
        key,
        groupIds,
        gids,
        tables: new Array<Table | null>(SLOTS).fill(null),
        refGids: new Set(),
        users: 0,
      };
      this.profiles.set(key, p);
      for (const g of gids) index(this.profilesByGid, g, p);
    }
    p.users++;
    return p;
  }

  private peerInfo(addr: Addr, create: boolean): PeerInfo | undefined {
    if (addr.family === 4) {
      let info = this.peers4.get(addr.a);
      if (info === undefined && create) {
        info = { addr, enis: [], gidCount: new Map() };
        this.peers4.set(addr.a, info);
      }
      return info;
    }
    const k = v6Key(addr);
    let bucket = this.peers6.get(k);
    let info = bucket?.find((i) => addrEquals(i.addr, addr));
    if (info === undefined && create) {
      info = { addr, enis: [], gidCount: new Map() };
      if (bucket === undefined) {
        bucket = [];
        this.peers6.set(k, bucket);
      }
      bucket.push(info);
    }
    return info;
  }

  private dropPeerInfo(info: PeerInfo): void {
    if (info.addr.family === 4) {
      this.peers4.delete(info.addr.a);
      return;
    }
    const k = v6Key(info.addr);
    const bucket = this.peers6.get(k);
    if (bucket === undefined) return;
    const i = bucket.indexOf(info);
    if (i >= 0) bucket.splice(i, 1);
    if (bucket.length === 0) this.peers6.delete(k);
  }

  private lookupPeer(x: Addr): PeerInfo | undefined {
    if (x.family === 4) return this.peers4.get(x.a);
    const bucket = this.peers6.get(v6Key(x));
    if (bucket === undefined) return undefined;
    for (const info of bucket) if (addrEquals(info.addr, x)) return info;
    return undefined;
  }

  // ---------------------------------------------------------------- decisions

  private foldable(gid: number): boolean {
    return (this.membersByGid.get(gid)?.size ?? 0) <= this.foldLimit;
  }

  /** The member addresses of a group to fold, or null when it has more than foldLimit. */
  private readonly memberAddrs = (gid: number): Addr[] | null =>
    this.foldable(gid) ? [...(this.membersByGid.get(gid) ?? [])].flatMap((e) => e.addrs) : null;

  private compile(p: Profile, slot: number): Table {
    const protoIdx = slot % PACKET_PROTOCOLS;
    const nicIdx = Math.floor(slot / PACKET_PROTOCOLS) & 1;
    const dirIdx = slot >= 2 * PACKET_PROTOCOLS ? 1 : 0;
    const picked: CompiledRule[] = [];
    for (const id of p.groupIds) {
      const m = this.rulesByGroup.get(id);
      if (m === undefined) continue;
      for (const c of m.values()) {
        if (
          c.dirIdx === dirIdx &&
          c.nicIdx === nicIdx &&
          (c.protoIdx === protoIdx || c.protoIdx === PROTO_INDEX.all)
        ) {
          picked.push(c);
        }
      }
    }
    const t =
      picked.length === 0 ? EMPTY_TABLE : buildTable(picked, protoIdx <= 1, this.memberAddrs);
    p.tables[slot] = t;
    if (t.W > this.bigScratch.length) this.bigScratch = new Int32Array(t.W * 2);
    for (const g of [...t.folded, ...t.bigGids]) {
      p.refGids.add(g);
      index(this.refProfilesByGid, g, p);
    }
    return t;
  }

  /** Compiles every table of every interface now instead of on first use. */
  compileAll(): void {
    for (const p of this.profiles.values()) {
      for (let s = 0; s < SLOTS; s++) if (p.tables[s] === null) this.compile(p, s);
    }
  }

  /** Decisions made so far (for the metrics). */
  decisions = 0;

  /** What the engine holds now (for the metrics). */
  stats(): { groups: number; rules: number; interfaces: number; profiles: number } {
    return {
      groups: this.groups.size,
      rules: this.rules.size,
      interfaces: this.enis.size,
      profiles: this.profiles.size,
    };
  }

  decide(p: Packet): Decision {
    this.decisions++;
    if (p.established === true) return ESTABLISHED;
    let e = this.lastEni;
    if (e === null || e.eni.id !== p.interfaceId) {
      e = this.enis.get(p.interfaceId) ?? null;
      if (e === null) throw new UnknownInterfaceError(p.interfaceId);
      this.lastEni = e;
    }
    const ingress = p.direction === 'ingress';
    const intranet = p.nicType === 'intranet';
    // Accept inner access takes precedence over every rule, both ways.
    if (intranet && e.acceptGids.length !== 0 && this.innerAccess(e, p.peerAddr)) {
      return INNER_ACCEPT;
    }
    const proto = p.protocol;
    const protoIdx =
      proto === 'tcp' ? 0 : proto === 'udp' ? 1 : proto === 'icmp' ? 2 : proto === 'icmpv6' ? 3 : 4;
    const slot = ((ingress ? 0 : 2) + (intranet ? 0 : 1)) * PACKET_PROTOCOLS + protoIdx;
    let t = e.profile.tables[slot] as Table | null;
    if (t === null) t = this.compile(e.profile, slot);
    if (t.n !== 0) {
      const r = this.match(t, p, ingress);
      if (r !== null) return r;
    }
    if (!ingress) return e.hasEnterprise ? DEFAULT_DROP : DEFAULT_ACCEPT;
    return DEFAULT_DROP;
  }

  /** Whether the peer is another interface sharing one of `e`'s Accept groups. */
  private innerAccess(e: EniState, peer: Addr): boolean {
    const info = this.lookupPeer(peer);
    if (info === undefined) return false;
    let self = 0;
    for (const a of e.addrs) if (addrEquals(a, peer)) self = 1;
    for (const g of e.acceptGids) if ((info.gidCount.get(g) ?? 0) - self > 0) return true;
    return false;
  }

  /**
   * The first rule of `t` that matches: peer address and destination port first; the
   * near-end address and source port are looked up only when the best candidate so far
   * is a rule that restricts them (most rules do not).
   */
  private match(t: Table, p: Packet, ingress: boolean): Decision | null {
    const W = t.W;
    const d = t.data;
    // The peer's row: in `d`, or in a scratch row when large groups' rows are ORed in.
    let pr = d;
    let po = addressRow(d, t.p4, t.p4Shift, t.p6Starts, t.p6Rows, W, p.peerAddr);
    if (t.bigGids.length !== 0) {
      pr = this.withBigRows(t, po, p.peerAddr);
      po = 0;
    }
    const dOff = t.hasPorts
      ? trieLookup16(d, t.d, t.dShift, ingress ? p.localPort : p.peerPort)
      : t.ones;
    const fine = t.fine;
    for (let w = 0; w < W; w++) {
      const m = pr[po + w]! & d[dOff + w]!;
      if (m === 0) continue;
      const low = m & -m;
      if ((low & d[fine + w]!) === 0) return t.decisions[(w << 5) + 31 - Math.clz32(low)]!;
      return this.matchFine(t, p, ingress, w, pr, po, dOff);
    }
    return null;
  }

  /**
   * The peer's row at `po` ORed with the rows of the table's large referenced groups that
   * the peer is a member of, in a scratch row.
   */
  private withBigRows(t: Table, po: number, peer: Addr): Int32Array {
    const out = this.bigScratch;
    const W = t.W;
    const d = t.data;
    for (let w = 0; w < W; w++) out[w] = d[po + w]!;
    const info = this.lookupPeer(peer);
    if (info === undefined) return out;
    for (let i = 0; i < t.bigGids.length; i++) {
      if (!info.gidCount.has(t.bigGids[i]!)) continue;
      const r = t.bigRows[i]!;
      for (let w = 0; w < W; w++) out[w]! |= d[r + w]!;
    }
    return out;
  }

  /** `match` from word `from` on, with the near-end address and source port. */
  private matchFine(
    t: Table,
    p: Packet,
    ingress: boolean,
    from: number,
    pr: Int32Array,
    po: number,
    dOff: number,
  ): Decision | null {
    const W = t.W;
    const d = t.data;
    const lo = t.hasLocal
      ? addressRow(d, t.l4, t.l4Shift, t.l6Starts, t.l6Rows, W, p.localAddr)
      : t.ones;
    const so = t.hasSport
      ? trieLookup16(d, t.s, t.sShift, ingress ? p.peerPort : p.localPort)
      : t.ones;
    for (let w = from; w < W; w++) {
      const m = pr[po + w]! & d[dOff + w]! & d[lo + w]! & d[so + w]!;
      if (m !== 0) return t.decisions[(w << 5) + 31 - Math.clz32(m & -m)]!;
    }
    return null;
  }

  /**
   * Interface to interface over the intranet, primary address to primary address: egress at
   * the sender and ingress at the receiver; accepted only when both accept.
   */
  decideBetween(
    srcEniId: string,
    dstEniId: string,
    protocol: PacketProtocol,
    srcPort = 0,
    dstPort = 0,
  ): BetweenDecision {
    const src = this.enis.get(srcEniId);
    if (src === undefined) throw new UnknownInterfaceError(srcEniId);
    const dst = this.enis.get(dstEniId);
    if (dst === undefined) throw new UnknownInterfaceError(dstEniId);
    for (const port of [srcPort, dstPort]) {
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new Error(`invalid port: ${port}`);
    }
    const egress = this.decide({
      interfaceId: srcEniId,
      direction: 'egress' as Direction,
      protocol,
      localAddr: src.addrs[0]!,
      localPort: srcPort,
      peerAddr: dst.addrs[0]!,
      peerPort: dstPort,
      nicType: 'intranet',
    });
    const ingress = this.decide({
      interfaceId: dstEniId,
      direction: 'ingress' as Direction,
      protocol,
      localAddr: dst.addrs[0]!,
      localPort: dstPort,
      peerAddr: src.addrs[0]!,
      peerPort: srcPort,
      nicType: 'intranet',
    });
    const verdict = egress.verdict === 'accept' && ingress.verdict === 'accept' ? 'accept' : 'drop';
    return { verdict, egress, ingress };
  }
}
