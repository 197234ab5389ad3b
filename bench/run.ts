/**
 * `npm run bench`: runs the benchmark sections in order and prints their figures.
 *   node dist/bench/run.js [--only <section>] [--duration <ms>] [--warmup <ms>]
 * Sections: http (DescribeRegions, service vs bare node:http), store (Authorize and
 * DescribeSecurityGroupAttribute on one and two nodes; `--store sqlite|postgres`, default
 * sqlite), engine (decisions per second of the compiled engine vs the reference), nonces
 * (claims per second and memory per remembered signature nonce), tls
 * (DescribeSecurityGroupAttribute over HTTPS vs plain HTTP on the same port), analyze
 * (the time of a rule analysis of a 100-rule group and of an interface in 5 groups of 100
 * rules), and enforce (the agent: compile and apply, propagation to the kernel,
 * per-connection kernel cost, memory; root).
 */
import { parseArgs } from 'node:util';
import { stopAll } from '../test/helpers/spawn.js';
import { benchAnalyze } from './analyze.js';
import { benchEnforce } from './enforce.js';
import { benchEngine } from './engine.js';
import { benchHttp } from './http.js';
import { benchNonces } from './nonces.js';
import { benchStore } from './store.js';
import { benchTls } from './tls.js';

interface Section {
  name: string;
  run(): Promise<unknown>;
}

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    store: { type: 'string' },
  },
});
const durationMs = values.duration ? Number(values.duration) : 3000;
const warmupMs = values.warmup ? Number(values.warmup) : 1000;

if (values.store !== undefined && values.store !== 'sqlite' && values.store !== 'postgres') {
  console.error(`--store expects sqlite or postgres, got "${values.store}"`);
  process.exit(2);
}
const store = values.store as 'sqlite' | 'postgres' | undefined;

const sections: Section[] = [
  { name: 'http', run: () => benchHttp({ durationMs, warmupMs }) },
  { name: 'store', run: () => benchStore({ durationMs, warmupMs, store }) },
  { name: 'engine', run: () => benchEngine() },
  { name: 'nonces', run: () => benchNonces() },
  { name: 'tls', run: () => benchTls({ durationMs, warmupMs }) },
  { name: 'analyze', run: () => benchAnalyze() },
  { name: 'enforce', run: () => benchEnforce({ durationMs }) },
];

const chosen = values.only ? sections.filter((s) => s.name === values.only) : sections;
if (chosen.length === 0) {
  console.error(
    `unknown section "${values.only}"; sections: ${sections.map((s) => s.name).join(', ')}`,
  );
  process.exit(2);
}
let failed = false;
for (const s of chosen) {
  console.log(`== ${s.name}`);
  try {
    await s.run();
  } catch (e) {
    failed = true;
    console.error(`section ${s.name} failed:`, e);
  }
}
await stopAll();
process.exit(failed ? 1 : 0);
