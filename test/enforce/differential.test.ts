/**
 * Differential: random rule sets through the API onto a lab's interfaces, random flows
 * between them (TCP with data, UDP echo, ICMP echo; primary and secondary addresses, chosen
 * source ports), and for every flow the kernel's outcome — got through, or timed out —
 * equal to CheckSecurityGroupTraffic's (egress at the sender and ingress at the receiver).
 * ENFORCE_SEED replays a run; ENFORCE_CASES sets the number of flows (default 330).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Rng } from '../engine/gen.js';
import type { Eni, RuleSpec } from './api.js';
import { type Flow, freshPort, noNamespaces, showFlow, TestLab } from './lab.js';
import { TCP_PORTS, UDP_PORTS } from './prober.js';

const SEED = Number(process.env.ENFORCE_SEED ?? Date.now() % 2 ** 31);
const CASES = Number(process.env.ENFORCE_CASES ?? 330);
const PER_WORLD = 30;

const skip = noNamespaces();
if (skip) console.log(`# differential enforcement skipped: ${skip}`);

let lab: TestLab;
before(async () => {
  if (!skip) lab = await TestLab.start({ secondaries: [1, 1, 0, 1] });
});
after(() => lab?.stop());

const addresses = (e: Eni) => [e.ip, ...e.secondary];

const PORT_RANGES = [
  '22/22',
  '80/80',
  '443/443',
  '53/53',
  '5000/5000',
  '1/1024',
  '80/443',
  '100/200',
  '3000/9000',
  '1/65535',
];
const SOURCE_RANGES = ['20000/39999', '40000/59999', '30000/45000', '1/65535'];

/** Makes a random world through the API: groups, memberships, rules. */
async function makeWorld(rng: Rng): Promise<string> {
  const api = lab.api;
  const normal: string[] = [];
  for (let i = rng.int(1, 3); i > 0; i--) {
    normal.push(await api.group(lab.vpc, { inner: rng.bool(0.4) ? 'Accept' : 'Drop' }));
  }
  const enterprise = rng.bool(0.35) ? await api.group(lab.vpc, { type: 'enterprise' }) : undefined;
  const all = enterprise ? [...normal, enterprise] : normal;
  const described: string[] = [];
  for (const e of lab.enis) {
    const groups =
      enterprise && rng.bool(0.35)
        ? [enterprise]
        : [...new Set([rng.pick(normal), ...(rng.bool(0.4) ? [rng.pick(normal)] : [])])];
    await api.setGroups(e.id, groups);
    described.push(`${e.id}:${groups.join('+')}`);
  }
  const everyAddress = lab.enis.flatMap(addresses);
  const byTarget = new Map<string, RuleSpec[]>();
  const seen = new Set<string>();
  for (let n = rng.int(3, 14); n > 0; n--) {
    const g = rng.pick(all);
    const direction = rng.bool() ? 'ingress' : 'egress';
    const protocol = rng.pick(['tcp', 'tcp', 'udp', 'icmp', 'all'] as const);
    const ports = protocol === 'tcp' || protocol === 'udp';
    const k = rng.next();
    const groupPeer =
      g !== enterprise && k < 0.25 ? rng.pick(all.filter((x) => x !== g)) : undefined;
    const spec: RuleSpec = {
      direction,
      protocol,
      policy: rng.bool(0.6) ? 'accept' : 'drop',
      priority: rng.pick([1, 1, 2, 3, 5, 50]),
      ports: ports ? rng.pick(PORT_RANGES) : undefined,
      sourcePorts: ports && rng.bool(0.2) ? rng.pick(SOURCE_RANGES) : undefined,
      peer:
        groupPeer ??
        rng.pick([
          `${rng.pick(everyAddress)}/32`,
          `${rng.pick(everyAddress)}/31`,
          '10.0.1.0/24',
          '10.0.1.0/28',
          '10.0.1.4/30',
          '10.0.0.0/8',
          '0.0.0.0/0',
          '192.168.0.0/16',
        ]),
      local: rng.bool(0.15) ? rng.pick([`${rng.pick(everyAddress)}/32`, '10.0.1.0/29']) : undefined,
    };
    // one rule per identity (priority is not part of it)
    const identity = JSON.stringify({ ...spec, priority: 0, g });
    if (seen.has(identity)) continue;
    seen.add(identity);
    const key = `${g} ${direction}`;
    byTarget.set(key, [...(byTarget.get(key) ?? []), spec]);
    described.push(`${g} ${JSON.stringify(spec)}`);
  }
  for (const [key, specs] of byTarget) {
    const [g, direction] = key.split(' ') as [string, 'ingress' | 'egress'];
    await api.allowMany(g, direction, specs);
  }
  return described.join('\n');
}

function randomFlow(rng: Rng): Flow & { sport: number } {
  const from = rng.pick(lab.enis);
  const to = rng.pick(lab.enis.filter((e) => e !== from));
  const proto = rng.pick(['tcp', 'tcp', 'udp', 'icmp'] as const);
  return {
    from,
    to,
    proto,
    port: proto === 'tcp' ? rng.pick(TCP_PORTS) : proto === 'udp' ? rng.pick(UDP_PORTS) : undefined,
    sport: freshPort(),
    fromIp: rng.pick(addresses(from)),
    toIp: rng.pick(addresses(to)),
  };
}

test(`the kernel decides every random flow as CheckSecurityGroupTraffic does (seed ${SEED}, ENFORCE_SEED to replay)`, {
  skip,
}, async () => {
  const rng = new Rng(SEED);
  const mismatches: string[] = [];
  let cases = 0;
  let passed = 0;
  for (let w = 0; cases < CASES; w++) {
    const world = await makeWorld(rng);
    await lab.settle();
    const flows = Array.from({ length: PER_WORLD }, () => randomFlow(rng));
    const outcomes = await Promise.all(
      flows.map(async (f) => {
        const api = await lab.verdict(f);
        const kernel = await lab.kernel(f, api);
        return { f, api, kernel };
      }),
    );
    for (const o of outcomes) {
      cases++;
      if (o.kernel) passed++;
      if (o.api !== o.kernel) {
        mismatches.push(
          `world ${w}: ${showFlow(o.f)}: API ${o.api ? 'accept' : 'drop'}, kernel ${o.kernel ? 'passed' : 'dropped'}\n${world}`,
        );
      }
    }
  }
  console.log(`# ${cases} flows, ${passed} passed, ${cases - passed} dropped; seed ${SEED}`);
  assert.deepEqual(mismatches, [], `seed ${SEED} (ENFORCE_SEED=${SEED} to replay)`);
  // both outcomes must be exercised, else the comparison says little
  assert.ok(passed > cases / 10 && passed < cases - cases / 10, `${passed} of ${cases} passed`);
});
