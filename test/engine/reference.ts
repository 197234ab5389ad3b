/**
 * Reference evaluator: the engine's semantics written plainly, a loop over every rule.
 * Used by the property test and by the benchmark. No indexing, no cleverness; only
 * parsed CIDRs / IPs are memoised (by string) so it is not dominated by string parsing.
 */
import ipaddr from 'ipaddr.js';
import {
  interfaceAddresses,
  type NetworkInterface,
  type Rule,
  type SecurityGroup,
} from '../../src/domain/types.js';
import type { Addr, Decision, Packet, PacketProtocol } from '../../src/engine/index.js';

interface Net {
  readonly family: 4 | 6;
  readonly words: readonly number[];
  readonly prefix: number;
}

const nets = new Map<string, Net>();

function toWords(bytes: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i += 4) {
    out.push(
      ((bytes[i]! << 24) | (bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!) >>> 0,
    );
  }
  return out;
}

/** A CIDR (or a plain address, as a full-length prefix), parsed once with ipaddr.js. */
function net(text: string): Net {
  let n = nets.get(text);
  if (n === undefined) {
    const [a, prefix] = text.includes('/')
      ? ipaddr.parseCIDR(text)
      : [ipaddr.parse(text), text.includes(':') ? 128 : 32];
    n = { family: a.kind() === 'ipv4' ? 4 : 6, words: toWords(a.toByteArray()), prefix };
    nets.set(text, n);
  }
  return n;
}

function addrWords(x: Addr): number[] {
  return x.family === 4 ? [x.a] : [x.a, x.b, x.c, x.d];
}

function contains(cidr: string, x: Addr): boolean {
  const n = net(cidr);
  if (n.family !== x.family) return false;
  const w = addrWords(x);
  for (let i = 0; i < w.length; i++) {
    const bits = Math.min(32, Math.max(0, n.prefix - 32 * i));
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    if ((w[i]! & mask) >>> 0 !== (n.words[i]! & mask) >>> 0) return false;
  }
  return true;
}

function sameAddr(ip: string, x: Addr): boolean {
  const n = net(ip);
  return n.family === x.family && contains(ip, x);
}

const inRange = (v: number, r: { from: number; to: number }): boolean => v >= r.from && v <= r.to;

export class Reference {
  readonly groups = new Map<string, SecurityGroup>();
  readonly rules = new Map<string, Rule>();
  readonly enis = new Map<string, NetworkInterface>();

  upsertGroup(g: SecurityGroup): void {
    this.groups.set(g.id, g);
  }
  removeGroup(id: string): void {
    this.groups.delete(id);
    for (const r of [...this.rules.values()]) if (r.securityGroupId === id) this.rules.delete(r.id);
  }
  upsertRule(r: Rule): void {
    this.rules.set(r.id, r);
  }
  removeRule(id: string): void {
    this.rules.delete(id);
  }
  upsertInterface(e: NetworkInterface): void {
    this.enis.set(e.id, e);
  }
  removeInterface(id: string): void {
    this.enis.delete(id);
  }

  private holds(e: NetworkInterface, x: Addr): boolean {
    return interfaceAddresses(e).some((ip) => sameAddr(ip, x));
  }

  private isMember(groupId: string, x: Addr): boolean {
    for (const e of this.enis.values()) {
      if (e.securityGroupIds.includes(groupId) && this.holds(e, x)) return true;
    }
    return false;
  }

  /** Another interface holding the peer address shares a normal Accept group with `eni`. */
  private innerAccess(eni: NetworkInterface, peer: Addr): boolean {
    for (const other of this.enis.values()) {
      if (other.id === eni.id || !this.holds(other, peer)) continue;
      for (const g of eni.securityGroupIds) {
        const meta = this.groups.get(g);
        if (
          meta !== undefined &&
          meta.type === 'normal' &&
          meta.innerAccessPolicy === 'Accept' &&
          other.securityGroupIds.includes(g)
        ) {
          return true;
        }
      }
    }
    return false;
  }

  matches(r: Rule, p: Packet): boolean {
    if (r.nicType !== p.nicType) return false;
    if (r.protocol !== 'all' && r.protocol !== p.protocol) return false;
    if (r.protocol === 'tcp' || r.protocol === 'udp') {
      const ingress = p.direction === 'ingress';
      const dport = ingress ? p.localPort : p.peerPort;
      const sport = ingress ? p.peerPort : p.localPort;
      if (!inRange(dport, r.portRange)) return false;
      if (r.sourcePortRange !== null && !inRange(sport, r.sourcePortRange)) return false;
    }
    const peer = p.peerAddr;
    const peerOk =
      (r.peerCidr !== null && contains(r.peerCidr, peer)) ||
      (r.peerIpv6Cidr !== null && contains(r.peerIpv6Cidr, peer)) ||
      (r.peerGroup !== null && this.isMember(r.peerGroup.groupId, peer));
    if (!peerOk) return false;
    const local = p.localAddr;
    if (local.family === 4) {
      if (r.localCidr !== null ? !contains(r.localCidr, local) : r.localIpv6Cidr !== null) {
        return false;
      }
    } else if (
      r.localIpv6Cidr !== null ? !contains(r.localIpv6Cidr, local) : r.localCidr !== null
    ) {
      return false;
    }
    return true;
  }

  decide(p: Packet): Decision {
    if (p.established === true) return { verdict: 'accept', reason: 'established' };
    const eni = this.enis.get(p.interfaceId);
    if (eni === undefined) throw new Error(`unknown network interface: ${p.interfaceId}`);
    const groupIds = new Set(eni.securityGroupIds);
    // Accept inner access comes before every rule, both ways, over the intranet.
    if (p.nicType === 'intranet' && this.innerAccess(eni, p.peerAddr)) {
      return { verdict: 'accept', reason: 'inner-access' };
    }
    const matching: Rule[] = [];
    for (const r of this.rules.values()) {
      if (groupIds.has(r.securityGroupId) && r.direction === p.direction && this.matches(r, p)) {
        matching.push(r);
      }
    }
    if (matching.length > 0) {
      const top = Math.min(...matching.map((r) => r.priority));
      const atTop = matching.filter((r) => r.priority === top);
      const drops = atTop.filter((r) => r.policy === 'drop');
      const pool = drops.length > 0 ? drops : atTop;
      let best = pool[0]!;
      for (const r of pool) {
        if (r.seq < best.seq || (r.seq === best.seq && r.id < best.id)) best = r;
      }
      return {
        verdict: best.policy,
        reason: 'rule',
        rule: {
          securityGroupId: best.securityGroupId,
          securityGroupRuleId: best.id,
          priority: best.priority,
          policy: best.policy,
        },
      };
    }
    if (p.direction === 'egress') {
      const enterprise = [...groupIds].some((g) => this.groups.get(g)?.type === 'enterprise');
      return { verdict: enterprise ? 'drop' : 'accept', reason: 'default' };
    }
    return { verdict: 'drop', reason: 'default' };
  }

  decideBetween(
    srcId: string,
    dstId: string,
    protocol: PacketProtocol,
    srcPort: number,
    dstPort: number,
    parse: (ip: string) => Addr,
  ): { verdict: 'accept' | 'drop'; egress: Decision; ingress: Decision } {
    const src = this.enis.get(srcId)!;
    const dst = this.enis.get(dstId)!;
    const sa = parse(src.primaryIpAddress);
    const da = parse(dst.primaryIpAddress);
    const egress = this.decide({
      interfaceId: srcId,
      direction: 'egress',
      protocol,
      localAddr: sa,
      localPort: srcPort,
      peerAddr: da,
      peerPort: dstPort,
      nicType: 'intranet',
    });
    const ingress = this.decide({
      interfaceId: dstId,
      direction: 'ingress',
      protocol,
      localAddr: da,
      localPort: dstPort,
      peerAddr: sa,
      peerPort: srcPort,
      nicType: 'intranet',
    });
    const verdict = egress.verdict === 'accept' && ingress.verdict === 'accept' ? 'accept' : 'drop';
    return { verdict, egress, ingress };
  }
}
