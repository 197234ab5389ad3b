/**
 * Rule-analysis benchmark: the time of one whole analysis (every rule judged, every finding,
 * the exposure of the default port list) of a group of 100 rules, and of an interface in 5
 * groups of 100 rules each (target < 50 ms each). Random rules of the engine benchmark's mix
 * (benchWorld: CIDRs, group references, near ends, IPv6, both NicTypes), 60 peer interfaces.
 *
 * Run alone: `node dist/bench/analyze.js`.
 */
import { pathToFileURL } from 'node:url';
import type { Rule } from '../src/domain/types.js';
import {
  type AnalysisInput,
  analyze,
  groupSubject,
  interfaceSubject,
} from '../src/engine/analyze/index.js';
import { Engine } from '../src/engine/index.js';
import { Rng } from '../test/engine/gen.js';
import { benchWorld } from './engine.js';

const RUNS = 30;
const WARMUP = 5;

function setup(seed: number) {
  const rng = new Rng(seed);
  const world = benchWorld(rng);
  const engine = new Engine();
  const ids = ['sg-a', 'sg-b', 'sg-c', 'sg-d', 'sg-e', 'sg-other'];
  world.groupIds.push(...ids);
  const groups = ids.map((id) => world.group(id, 'normal', 'Accept'));
  for (const g of groups) engine.upsertGroup(g);
  const eni = world.eni(ids.slice(0, 5), '10.0.0.10');
  engine.upsertInterface(eni);
  for (let i = 0; i < 60; i++) engine.upsertInterface(world.eni([rng.pick(ids)]));
  const rules: Rule[] = [];
  for (const g of ids.slice(0, 5)) for (let k = 0; k < 100; k++) rules.push(world.rule(g));
  for (const r of rules) engine.upsertRule(r);
  const membersOf = (id: string) => engine.membersOf(id);
  return {
    group: groupSubject(
      groups[0]!,
      rules.filter((r) => r.securityGroupId === 'sg-a'),
      membersOf,
    ),
    iface: interfaceSubject(eni, groups.slice(0, 5), rules, membersOf),
  };
}

interface Timing {
  cpuBest: number;
  cpuMedian: number;
  wallMedian: number;
  rules: number;
  findings: number;
}

/** CPU time of this process per analysis (time spent descheduled does not count), and wall time. */
function time(input: AnalysisInput): Timing {
  const cpu: number[] = [];
  const wall: number[] = [];
  let last = analyze(input);
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    last = analyze(input);
    const t = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (i < WARMUP) continue;
    cpu.push((c.user + c.system) / 1000);
    wall.push(t);
  }
  const sorted = (xs: number[]) => [...xs].sort((x, y) => x - y);
  return {
    cpuBest: sorted(cpu)[0]!,
    cpuMedian: sorted(cpu)[RUNS >> 1]!,
    wallMedian: sorted(wall)[RUNS >> 1]!,
    rules: last.rules.length,
    findings: last.findings.length,
  };
}

export async function benchAnalyze(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const s = setup(4242);
  for (const [name, input, label] of [
    ['group_100', s.group, 'a group of 100 rules'],
    ['interface_5x100', { ...s.iface, withGroups: true }, 'an interface in 5 groups of 100 rules'],
  ] as const) {
    const t = time(input);
    out[`analyze_${name}_ms`] = t.cpuMedian;
    out[`analyze_${name}_best_ms`] = t.cpuBest;
    console.log(
      `analysis of ${label}: ${t.cpuMedian.toFixed(1)} ms CPU median (best ${t.cpuBest.toFixed(1)}, ` +
        `wall median ${t.wallMedian.toFixed(1)}) over ${RUNS} runs; ${t.rules} rules judged, ` +
        `${t.findings} findings (target < 50 ms)`,
    );
  }
  return out;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchAnalyze();
}
