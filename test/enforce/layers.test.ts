/**
 * The compilation's geometry against the reference evaluator, without a kernel: random rule
 * sets in layers (a packet gets the policy of the first layer with a box it falls in) decide
 * as the rules in order do, and the disjoint sets a layer's boxes become cover exactly those
 * boxes, pairwise disjoint within each set (what the kernel's interval sets demand).
 * ENFORCE_SEED replays a run.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Rule } from '../../src/domain/types.js';
import { type Box, disjointSets, overlaps, ruleBox, type Span } from '../../src/enforce/boxes.js';
import { layer } from '../../src/enforce/layers.js';
import { addrToBigInt, type Packet } from '../../src/engine/index.js';
import { buildWorld, Rng } from '../engine/gen.js';
import { Reference } from '../engine/reference.js';

const SEED = Number(process.env.ENFORCE_SEED ?? Date.now() % 2 ** 31);

const PROTO = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58, gre: 47 } as const;
const inSpan = (s: Span, v: bigint) => BigInt(s[0]) <= v && v <= BigInt(s[1]);

/** Whether packet `p` falls in box `b` (`member` tells a group's members). */
function inBox(b: Box, p: Packet, member: (group: string) => boolean): boolean {
  if (b.family !== p.peerAddr.family || b.family !== p.localAddr.family) return false;
  if (!inSpan(b.proto, BigInt(PROTO[p.protocol]))) return false;
  const ingress = p.direction === 'ingress';
  if (b.ports) {
    if (p.protocol !== 'tcp' && p.protocol !== 'udp') return false;
    if (!inSpan(b.dport, BigInt(ingress ? p.localPort : p.peerPort))) return false;
    if (!inSpan(b.sport, BigInt(ingress ? p.peerPort : p.localPort))) return false;
  }
  if (!inSpan(b.local, addrToBigInt(p.localAddr))) return false;
  return b.peer !== null ? inSpan(b.peer, addrToBigInt(p.peerAddr)) : member(b.group!);
}

test(`rules in layers decide as the rules in order (seed ${SEED}, ENFORCE_SEED to replay)`, () => {
  let compared = 0;
  let layered = 0;
  for (let w = 0; w < 40; w++) {
    const rng = new Rng((SEED + w * 0x9e3779b1) >>> 0);
    const ref = new Reference();
    const world = buildWorld(rng, [ref], w % 4 === 3 ? [100, 400] : [5, 60]);
    // interfaces hold IPv4 addresses only (the world makes a few IPv6 ones)
    let n = 0;
    for (const e of [...world.enis.values()]) {
      if (!e.primaryIpAddress.includes(':')) continue;
      const v4 = { ...e, primaryIpAddress: `10.250.0.${++n}` };
      world.enis.set(e.id, v4);
      ref.upsertInterface(v4);
    }
    // inner access comes before every rule and is compiled apart: leave it out here
    for (const g of world.groups) ref.upsertGroup({ ...g, innerAccessPolicy: 'Drop' });
    for (const eni of ref.enis.values()) {
      const rules = [...ref.rules.values()].filter(
        (r) => eni.securityGroupIds.includes(r.securityGroupId) && r.nicType === 'intranet',
      );
      const enterprise = eni.securityGroupIds.some((g) => ref.groups.get(g)?.type === 'enterprise');
      const byDir = {
        ingress: layer(
          rules.filter((r) => r.direction === 'ingress'),
          'drop',
        ),
        egress: layer(
          rules.filter((r) => r.direction === 'egress'),
          enterprise ? 'drop' : 'accept',
        ),
      };
      layered += byDir.ingress.length + byDir.egress.length;
      for (let i = 0; i < 150; i++) {
        const p = { ...world.packet(eni.id), nicType: 'intranet' as const, established: false };
        // a real packet has both ends of one family
        if (p.localAddr.family !== p.peerAddr.family) continue;
        const want = ref.decide(p).verdict;
        const member = (g: string) =>
          [...ref.enis.values()].some(
            (e) =>
              e.securityGroupIds.includes(g) &&
              [e.primaryIpAddress, ...e.secondaryIpAddresses].includes(String(p.peerAddr)),
          );
        const hit = byDir[p.direction].find((l) => l.boxes.some((b) => inBox(b, p, member)));
        const fallback = p.direction === 'ingress' || enterprise ? 'drop' : 'accept';
        const got = hit?.policy ?? fallback;
        assert.equal(
          got,
          want,
          `seed ${SEED} world ${w}: ${JSON.stringify({ ...p, localAddr: String(p.localAddr), peerAddr: String(p.peerAddr) })}`,
        );
        compared++;
      }
    }
  }
  assert.ok(compared > 10_000);
  console.log(`compared ${compared} decisions in ${layered} layers, seed ${SEED}`);
});

test(`a layer's boxes as disjoint sets cover the same packets (seed ${SEED})`, () => {
  const rng = new Rng(SEED ^ 0x5bd1e995);
  for (let w = 0; w < 60; w++) {
    const ref = new Reference();
    const world = buildWorld(rng, [ref], [5, 80]);
    const boxes = [...ref.rules.values()]
      .flatMap((r: Rule) => ruleBox(r) ?? [])
      .filter((b) => b.family === 4 && b.ports && b.peer !== null);
    const sets = disjointSets(boxes);
    for (const set of sets) {
      for (let i = 0; i < set.length; i++) {
        for (let j = i + 1; j < set.length; j++) {
          assert.ok(!overlaps(set[i]!, set[j]!), `seed ${SEED}: boxes of one set overlap`);
        }
      }
    }
    const flat = sets.flat();
    for (let i = 0; i < 400; i++) {
      const p = { ...world.packet(), protocol: rng.pick(['tcp', 'udp'] as const) };
      const any = (bs: readonly Box[]) => bs.some((b) => inBox(b, p, () => false));
      assert.equal(
        any(flat),
        any(boxes),
        `seed ${SEED}: the sets cover other packets than the boxes`,
      );
    }
    assert.ok(flat.length <= boxes.length, 'never more elements than boxes');
  }
});
