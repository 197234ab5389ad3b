/**
 * Witness packets: a point of a cell turned into a packet as CheckSecurityGroupTraffic takes
 * it, and the choice of readable values inside an interval (a public peer where there is
 * one, the interface's own address as the local one, source port 49152, no zero address).
 */
import type { Direction, NicType } from '../../domain/types.js';
import { Addr, bigIntToWords, parseAddress } from '../address.js';
import type { Packet, PacketProtocol } from '../packet.js';
import type { Cell } from './leaves.js';
import { addrValue, DPORT, LOCAL, PEER, SPORT } from './model.js';
import { PUBLIC4, PUBLIC6 } from './public.js';
import { intersect, type Value } from './spans.js';
import type { Pick } from './sweep.js';

/** A packet at an interface, told from its side (as `Packet`, without the interface). */
export interface Witness {
  readonly direction: Direction;
  readonly protocol: PacketProtocol;
  readonly nicType: NicType;
  readonly peer: Addr;
  readonly local: Addr;
  /** tcp and udp only. */
  readonly peerPort?: number;
  readonly localPort?: number;
}

/** The address a value of an address dimension stands for (IPv6 when a bigint). */
export function addrOf(v: Value): Addr {
  if (typeof v === 'number') return new Addr(4, v >>> 0, 0, 0, 0);
  const [a, b, c, d] = bigIntToWords(v);
  return new Addr(6, a, b, c, d);
}

export function witnessOf({ slot, point }: Cell): Witness {
  const base = {
    direction: slot.direction,
    protocol: slot.protocol,
    nicType: slot.nicType,
    peer: addrOf(point[PEER]!),
    local: addrOf(point[LOCAL]!),
  };
  if (slot.protocol !== 'tcp' && slot.protocol !== 'udp') return base;
  const dport = Number(point[DPORT]);
  const sport = Number(point[SPORT]);
  return slot.direction === 'ingress'
    ? { ...base, localPort: dport, peerPort: sport }
    : { ...base, peerPort: dport, localPort: sport };
}

/** The witness as an engine packet at `interfaceId`. */
export function witnessPacket(w: Witness, interfaceId: string): Packet {
  return {
    interfaceId,
    direction: w.direction,
    protocol: w.protocol,
    localAddr: w.local,
    localPort: w.localPort ?? 0,
    peerAddr: w.peer,
    peerPort: w.peerPort ?? 0,
    nicType: w.nicType,
  };
}

const inside = (v: Value, lo: Value, hi: Value) => lo <= v && v <= hi;

/** lo, or lo + 1 when lo is zero (no 0.0.0.0, ::, or port 0 unless that is all there is). */
function nonZero(lo: Value, hi: Value): Value {
  if (typeof lo === 'bigint') return lo === 0n && hi !== 0n ? 1n : lo;
  return lo === 0 && hi !== 0 ? 1 : lo;
}

const SOURCE_PORT = 49152;
/** Local addresses to show when the interface's own do not fit (a VPC-ish private address). */
const TYPICAL_LOCAL = [parseAddress('10.0.0.1'), parseAddress('fd00::1')];

/** Picks witness values; `localHints`: addresses to prefer as the local one. */
export function picker(localHints: readonly Addr[]): Pick {
  const hints = [...localHints, ...TYPICAL_LOCAL].map(addrValue);
  return (lo, hi, dim) => {
    if (dim === PEER) {
      const pub = intersect({ lo, hi }, typeof lo === 'bigint' ? PUBLIC6 : PUBLIC4)[0];
      return pub !== undefined ? pub.lo : nonZero(lo, hi);
    }
    if (dim === LOCAL) {
      const hint = hints.find((h) => typeof h === typeof lo && inside(h, lo, hi));
      return hint ?? nonZero(lo, hi);
    }
    if (dim === SPORT && inside(SOURCE_PORT, lo, hi)) return SOURCE_PORT;
    return nonZero(lo, hi);
  };
}
