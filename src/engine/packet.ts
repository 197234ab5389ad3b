/** Packets and decisions: the engine's input and output. */
import type { Direction, NicType, Policy } from '../domain/types.js';
import { type Addr, parseAddress } from './address.js';

/** Protocols a packet can carry (a rule may also say `all`). */
export type PacketProtocol = 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'gre';

export type Verdict = 'accept' | 'drop';
/**
 * Why: `rule` an explicit rule decided; `default` no rule matched (ingress drop, egress
 * accept for normal groups / drop for enterprise groups); `inner-access` the peer is another
 * interface of a normal group with inner access Accept that this one is in too (decided
 * before any rule, intranet only); `established` reply traffic.
 */
export type Reason = 'rule' | 'default' | 'inner-access' | 'established';

export interface DecidingRule {
  readonly securityGroupId: string;
  readonly securityGroupRuleId: string;
  readonly priority: number;
  readonly policy: Policy;
}

export interface Decision {
  readonly verdict: Verdict;
  readonly reason: Reason;
  readonly rule?: DecidingRule;
}

/**
 * A packet seen at one interface, told from that interface's side: `local*` is the
 * interface end, `peer*` the far end. On ingress the destination port is `localPort`,
 * on egress it is `peerPort`. Ports are ignored for icmp/gre. Addresses are pre-parsed.
 */
export interface Packet {
  readonly interfaceId: string;
  readonly direction: Direction;
  readonly protocol: PacketProtocol;
  readonly localAddr: Addr;
  readonly localPort: number;
  readonly peerAddr: Addr;
  readonly peerPort: number;
  readonly nicType: NicType;
  /** A reply to traffic already accepted: always accepted (rules are stateful). */
  readonly established?: boolean;
}

/** `Packet` with textual addresses and optional ports, as a caller would write it. */
export interface PacketInput {
  readonly interfaceId: string;
  readonly direction: Direction;
  readonly protocol: PacketProtocol;
  readonly localAddr: string | Addr;
  readonly localPort?: number;
  readonly peerAddr: string | Addr;
  readonly peerPort?: number;
  readonly nicType?: NicType;
  readonly established?: boolean;
}

const PROTOCOLS: ReadonlySet<string> = new Set(['tcp', 'udp', 'icmp', 'icmpv6', 'gre']);

function checkPort(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 65535) throw new Error(`invalid ${name}: ${v}`);
  return v;
}

/** Builds a validated `Packet`; parses string addresses. nicType defaults to intranet. */
export function makePacket(input: PacketInput): Packet {
  if (input.direction !== 'ingress' && input.direction !== 'egress') {
    throw new Error(`invalid direction: ${String(input.direction)}`);
  }
  if (!PROTOCOLS.has(input.protocol)) throw new Error(`invalid protocol: ${input.protocol}`);
  const nicType = input.nicType ?? 'intranet';
  if (nicType !== 'intranet' && nicType !== 'internet') {
    throw new Error(`invalid nicType: ${String(nicType)}`);
  }
  const packet: Packet = {
    interfaceId: input.interfaceId,
    direction: input.direction,
    protocol: input.protocol,
    localAddr:
      typeof input.localAddr === 'string' ? parseAddress(input.localAddr) : input.localAddr,
    localPort: checkPort('localPort', input.localPort ?? 0),
    peerAddr: typeof input.peerAddr === 'string' ? parseAddress(input.peerAddr) : input.peerAddr,
    peerPort: checkPort('peerPort', input.peerPort ?? 0),
    nicType,
    established: input.established === true,
  };
  return packet;
}
