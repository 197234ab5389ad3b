/**
 * Property test: the compiled engine agrees with the plain reference evaluator on random
 * worlds, random packets and random incremental changes.
 *
 * Worlds alternate the engine's fold limit (group references compiled as member addresses
 * or matched through memberships, and groups crossing between the two as they change).
 * Every fifth world holds 300-1,500 rules, so tables span several 32-rule bitset words.
 * Reproduce a failure with ENGINE_SEED=<seed printed on failure>. ENGINE_DECISIONS sets the
 * number of packet decisions compared (default 200,000).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Decision, Engine, formatAddr, type Packet } from '../../src/engine/index.js';
import { buildWorld, mutate, Rng } from './gen.js';
import { Reference } from './reference.js';

const SEED =
  process.env.ENGINE_SEED !== undefined ? Number(process.env.ENGINE_SEED) : Date.now() % 2 ** 31;
const DECISIONS = Number(process.env.ENGINE_DECISIONS ?? 200_000);
const WORLDS = 20;
const BATCHES = 20;

function same(a: Decision, b: Decision): boolean {
  return (
    a.verdict === b.verdict &&
    a.reason === b.reason &&
    a.rule?.securityGroupRuleId === b.rule?.securityGroupRuleId &&
    a.rule?.securityGroupId === b.rule?.securityGroupId &&
    a.rule?.priority === b.rule?.priority &&
    a.rule?.policy === b.rule?.policy
  );
}

function show(p: Packet): string {
  return JSON.stringify({
    ...p,
    localAddr: formatAddr(p.localAddr),
    peerAddr: formatAddr(p.peerAddr),
  });
}

test(`engine agrees with the reference (seed ${SEED}, ENGINE_SEED to reproduce)`, () => {
  const perBatch = Math.ceil(DECISIONS / (WORLDS * BATCHES));
  let compared = 0;
  const reasons = new Map<string, number>();
  for (let wi = 0; wi < WORLDS; wi++) {
    const rng = new Rng((SEED + wi * 0x9e3779b1) >>> 0);
    // group references compiled as addresses (default), never (0), or crossing over (1, 2)
    const engine = new Engine({ foldLimit: [256, 0, 1, 2][wi % 4] });
    const ref = new Reference();
    // every fifth world is large: tables of several bitset words
    const world = buildWorld(rng, [engine, ref], wi % 5 === 4 ? [300, 1500] : undefined);
    const log: string[] = [];
    for (let b = 0; b < BATCHES; b++) {
      if (b > 0) {
        const n = rng.int(1, 8);
        for (let i = 0; i < n; i++) log.push(mutate(world, [engine, ref]));
      }
      for (let i = 0; i < perBatch; i++) {
        const p = world.packet();
        const want = ref.decide(p);
        const got = engine.decide(p);
        if (!same(got, want)) {
          const rules = [...ref.rules.values()].filter((r) => ref.matches(r, p));
          assert.fail(
            `seed ${SEED} world ${wi} batch ${b} packet ${i}: engine and reference disagree\n` +
              `packet ${show(p)}\nengine    ${JSON.stringify(got)}\nreference ${JSON.stringify(want)}\n` +
              `matching rules ${JSON.stringify(rules, null, 1)}\n` +
              `interface ${JSON.stringify(ref.enis.get(p.interfaceId))}\nchanges ${log.join('; ')}`,
          );
        }
        compared++;
        const key = want.rule ? `rule-${want.verdict}` : `${want.reason}-${want.verdict}`;
        reasons.set(key, (reasons.get(key) ?? 0) + 1);
      }
      // decideBetween over random pairs
      const ids = [...world.enis.keys()];
      for (let i = 0; i < 20; i++) {
        const s = rng.pick(ids);
        const d = rng.pick(ids);
        const proto = rng.pick(['tcp', 'udp', 'icmp', 'gre'] as const);
        const sp = rng.int(0, 65535);
        const dp = rng.pick([22, 80, 443, rng.int(0, 65535)]);
        const got = engine.decideBetween(s, d, proto, sp, dp);
        const want = ref.decideBetween(s, d, proto, sp, dp, (ip) => world.parse(ip));
        assert.ok(
          got.verdict === want.verdict &&
            same(got.egress, want.egress) &&
            same(got.ingress, want.ingress),
          `seed ${SEED} world ${wi} batch ${b}: decideBetween(${s}, ${d}, ${proto}, ${sp}, ${dp}) disagrees`,
        );
      }
    }
  }
  assert.ok(compared >= DECISIONS);
  // The generator must exercise every outcome, not just default drops.
  for (const k of [
    'rule-accept',
    'rule-drop',
    'default-drop',
    'default-accept',
    'inner-access-accept',
    'established-accept',
  ]) {
    assert.ok((reasons.get(k) ?? 0) > 0, `no ${k} decisions generated (seed ${SEED})`);
  }
  console.log(`compared ${compared} decisions, seed ${SEED}:`, Object.fromEntries(reasons));
});
