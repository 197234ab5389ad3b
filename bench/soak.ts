/**
 * `npm run soak -- [--minutes 10] [--capacity-seconds 10] [--connections 32]`: a long run at a
 * steady rate, watching the server's memory.
 *
 * Starts a real server (fresh SQLite data dir, throttling off, the access log on as in
 * production, written to /dev/null), sets up a group of 100 rules, 20 more groups and a group
 * for writes, then
 *   1. measures capacity for the mix — 70% DescribeSecurityGroupAttribute of the 100-rule
 *      group, 20% DescribeSecurityGroups, 10% AuthorizeSecurityGroup + RevokeSecurityGroup
 *      pairs (a new rule, then the same rule revoked, on one connection) — closed loop, v1
 *      signed GETs over keep-alive connections (bench/load.ts);
 *   2. holds half of that rate, open loop (steps on a fixed schedule, bench/load.ts runPaced),
 *      for the given minutes, printing each minute's achieved rate, p50/p99 latency (from each
 *      step's scheduled time) and errors, and the server's RSS (VmRSS of /proc/PID/status);
 *   3. prints RSS after the warm-up (10% of the run) and at the end, the growth, the V8 heap
 *      in use then (from the server's /metrics: a leak grows it, the allocator's slack does
 *      not), and the totals; exit code 1 when RSS grew by 10% or more, or any request failed.
 *
 * Requests are signed with timestamps 14.5 minutes old (the service accepts 15 either way), so
 * each signature nonce is remembered for 30 s and the nonce store is in its steady state before
 * the warm-up ends; with current timestamps it would keep filling for the 15-minute window
 * (11–21 bytes a request, bounded by --max-nonces), which a 10-minute run would show as growth.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { encodeParams, isoSeconds, v1Params } from '../test/helpers/sign.js';
import { startServer, stopAll, type TestServer } from '../test/helpers/spawn.js';
import { type RequestSpec, runLoad, runPaced } from './load.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string' },
    'capacity-seconds': { type: 'string' },
    connections: { type: 'string' },
  },
});

function num(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!/^\d+(\.\d+)?$/.test(v) || Number(v) <= 0) {
    console.error(`--${name} expects a positive number, got "${v}"`);
    process.exit(2);
  }
  return Number(v);
}

const minutes = num('minutes', values.minutes, 10);
const capacitySeconds = num('capacity-seconds', values['capacity-seconds'], 10);
const connections = num('connections', values.connections, 32);
const durationMs = minutes * 60_000;
const warmupMs = durationMs * 0.1;
const windowMs = Math.min(60_000, durationMs / 5);

const ECS = '2014-05-26';
const R = 'cn-hangzhou';
/** How old the signed timestamps are: each nonce lives 30 s. */
const AGE_MS = -(14 * 60_000 + 30_000);

function signed(params: Record<string, string>): RequestSpec {
  const all = v1Params(
    'GET',
    { Version: ECS, RegionId: R, ...params },
    { format: 'JSON', timestamp: isoSeconds(AGE_MS) },
  );
  return { method: 'GET', path: `/?${encodeParams(all)}` };
}

async function call(srv: TestServer, params: Record<string, string>) {
  const res = await fetch(`${srv.url}${signed(params).path}`);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${params.Action}: ${res.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** VmRSS of the server, in kB, and its anonymous part (the rest maps files: code, SQLite's). */
function rssKb(pid: number): { kb: number; anon: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1]);
  return { kb: field('VmRSS'), anon: field('RssAnon') };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};
const mb = (kb: number) => `${(kb / 1024).toFixed(1)} MB`;
const n = (x: number) => Math.round(x).toLocaleString('en-US');

const srv = await startServer({
  args: ['--throttle-rate', '0', '--metrics-port', '0'],
  discardStderr: true,
});
const pid = srv.proc.pid!;
const metricsPort = Number(/metrics on port (\d+)/.exec(srv.stdout())?.[1]);

/**
 * The server's V8 heap in use and its memory outside the heap held by JavaScript objects
 * (buffers, typed arrays), from its /metrics, in kB: a leak grows one of them, the
 * allocator's slack neither.
 */
async function memoryKb(): Promise<{ heap: number; external: number }> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const read = (name: string) => {
    const m = new RegExp(`^ecs_secgroup_process_${name} (\\d+(?:\\.\\d+)?)`, 'm').exec(text);
    return m ? Number(m[1]) / 1024 : Number.NaN;
  };
  return {
    heap: read('nodejs_heap_size_used_bytes'),
    external: read('nodejs_external_memory_bytes'),
  };
}
const big = String((await call(srv, { Action: 'CreateSecurityGroup' })).SecurityGroupId);
const perms: Record<string, string> = {};
for (let i = 1; i <= 100; i++) {
  perms[`Permissions.${i}.IpProtocol`] = i % 3 === 0 ? 'udp' : 'tcp';
  perms[`Permissions.${i}.PortRange`] = `${i * 10}/${i * 10 + 5}`;
  perms[`Permissions.${i}.SourceCidrIp`] = `10.${i}.0.0/16`;
  perms[`Permissions.${i}.Priority`] = String(i);
}
await call(srv, { Action: 'AuthorizeSecurityGroup', SecurityGroupId: big, ...perms });
for (let i = 0; i < 20; i++) {
  await call(srv, { Action: 'CreateSecurityGroup', SecurityGroupName: `group-${i}` });
}
const writes = String(
  (await call(srv, { Action: 'CreateSecurityGroup', SecurityGroupName: 'writes' })).SecurityGroupId,
);

/**
 * The k-th rule of the pairs (distinct while fewer than 60,000 are in flight). The soak's
 * rules come from another address block than the capacity run's, whose last Authorize may
 * be left without its Revoke when the run ends.
 */
const rule = (k: number, phase: 'capacity' | 'soak') => ({
  SecurityGroupId: writes,
  IpProtocol: 'tcp',
  PortRange: `${(k % 60_000) + 1}/${(k % 60_000) + 1}`,
  SourceCidrIp: phase === 'capacity' ? '192.0.2.0/24' : '198.51.100.0/24',
});
const describeAttribute = () =>
  signed({ Action: 'DescribeSecurityGroupAttribute', SecurityGroupId: big });
const describeGroups = () => signed({ Action: 'DescribeSecurityGroups' });
/** Step kinds over ten steps: 7 attribute reads, 2 listings, 1 pair. */
const MIX = ['a', 'a', 'g', 'a', 'a', 'p', 'a', 'g', 'a', 'a'] as const;

// 1. capacity, closed loop: a connection in the middle of a pair sends its Revoke next
let pairs = 0;
const pending = new Map<number, number>();
const counters = new Map<number, number>();
const capacity = await runLoad({
  url: srv.url,
  connections,
  durationMs: capacitySeconds * 1000,
  warmupMs: 2000,
  request: (c) => {
    const open = pending.get(c);
    if (open !== undefined) {
      pending.delete(c);
      return signed({ Action: 'RevokeSecurityGroup', ...rule(open, 'capacity') });
    }
    const i = (counters.get(c) ?? c) + 1;
    counters.set(c, i);
    const kind = MIX[i % MIX.length];
    if (kind === 'a') return describeAttribute();
    if (kind === 'g') return describeGroups();
    const k = pairs++;
    pending.set(c, k);
    return signed({ Action: 'AuthorizeSecurityGroup', ...rule(k, 'capacity') });
  },
});
if (capacity.errors > 0) {
  console.error(`capacity run failed: ${capacity.errors} errors (first: ${capacity.firstError})`);
  await stopAll();
  process.exit(1);
}
// a step of the mix is 1.1 requests on average (a pair is two)
const requestsPerStep = 1.1;
const targetRps = capacity.rps / 2;
const stepRate = targetRps / requestsPerStep;
console.log(
  `capacity (closed loop, ${connections} connections, ${capacitySeconds} s): ${n(capacity.rps)} requests/s (p50 ${capacity.p50Ms.toFixed(1)} ms, p99 ${capacity.p99Ms.toFixed(1)} ms)`,
);
console.log(
  `soak: ${minutes} min at ${n(targetRps)} requests/s (half of capacity, open loop, ${connections} connections), warm-up ${(warmupMs / 1000).toFixed(0)} s`,
);

// 2. the soak, with RSS sampled every second
const samples: { t: number; kb: number; anon: number }[] = [];
const heap: { t: number; kb: number; external: number }[] = [];
const started = performance.now();
const sampler = setInterval(() => {
  const t = performance.now() - started;
  samples.push({ t, ...rssKb(pid) });
  if (samples.length % 5 === 0) {
    memoryKb().then(
      (m) => heap.push({ t, kb: m.heap, external: m.external }),
      () => {},
    );
  }
}, 1000);
let pairsInSoak = 0;
const result = await runPaced({
  url: srv.url,
  connections,
  rate: stepRate,
  durationMs,
  windowMs,
  request: (i) => {
    const kind = MIX[i % MIX.length];
    if (kind === 'a') return describeAttribute();
    if (kind === 'g') return describeGroups();
    const k = pairsInSoak++;
    return [
      signed({ Action: 'AuthorizeSecurityGroup', ...rule(k, 'soak') }),
      signed({ Action: 'RevokeSecurityGroup', ...rule(k, 'soak') }),
    ];
  },
  onWindow: (w) => {
    if ((w.index + 1) * windowMs > durationMs + windowMs / 2) return; // the tail after the end
    const last = samples[samples.length - 1];
    const lastHeap = heap[heap.length - 1];
    console.log(
      `  ${((w.index + 1) * (windowMs / 60_000)).toFixed(windowMs < 60_000 ? 2 : 0).padStart(5)} min  ${n(w.rps).padStart(6)} requests/s  p50 ${w.p50Ms.toFixed(2)} ms  p99 ${w.p99Ms.toFixed(2)} ms  errors ${w.errors}  RSS ${last ? `${mb(last.kb)} (anon ${mb(last.anon)})` : '?'}  heap used ${lastHeap ? mb(lastHeap.kb) : '?'}  external ${lastHeap ? mb(lastHeap.external) : '?'}`,
    );
  },
});
clearInterval(sampler);
samples.push({ t: performance.now() - started, ...rssKb(pid) });

// 3. memory and totals
const afterWarmup = samples.filter((s) => s.t >= warmupMs && s.t < warmupMs + 5000);
const start = median(afterWarmup.map((s) => s.kb));
const end = median(samples.slice(-5).map((s) => s.kb));
const growth = ((end - start) / start) * 100;
const peak = Math.max(...samples.map((s) => s.kb));
const seconds = (performance.now() - started) / 1000;
console.log(
  `RSS: ${mb(start)} after the warm-up, ${mb(end)} at the end: ${growth >= 0 ? '+' : ''}${growth.toFixed(1)}% (target < 10%); peak ${mb(peak)}`,
);
const anonStart = median(afterWarmup.map((s) => s.anon));
const anonEnd = median(samples.slice(-5).map((s) => s.anon));
console.log(
  `  of it anonymous memory: ${mb(anonStart)}, ${mb(anonEnd)}: ${anonEnd >= anonStart ? '+' : ''}${(((anonEnd - anonStart) / anonStart) * 100).toFixed(1)}%`,
);
// the heap swings with each collection: medians of the minute after the warm-up and the last
const window = (from: number, to: number) => heap.filter((h) => h.t >= from && h.t < to);
const first = window(warmupMs, warmupMs + 60_000);
const latest = window((heap[heap.length - 1]?.t ?? 0) - 60_000, Number.POSITIVE_INFINITY);
const change = (a: number, b: number) => `${b >= a ? '+' : ''}${(((b - a) / a) * 100).toFixed(1)}%`;
for (const [label, pick] of [
  ['V8 heap used', (h: (typeof heap)[number]) => h.kb],
  ['external (buffers, typed arrays)', (h: (typeof heap)[number]) => h.external],
] as const) {
  const a = median(first.map(pick));
  const b = median(latest.map(pick));
  console.log(
    `${label} (medians of the minute after the warm-up, of the last minute): ${mb(a)}, ${mb(b)}: ${change(a, b)}`,
  );
}
console.log(
  `requests: ${n(result.requests)} in ${seconds.toFixed(0)} s (${n(result.requests / seconds)}/s), p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, errors ${result.errors}${result.firstError ? ` (first: ${result.firstError})` : ''}`,
);
await srv.stop();
await stopAll();
const failed = !(growth < 10) || result.errors > 0;
console.log(`result: ${failed ? 'FAIL' : 'PASS'}`);
process.exit(failed ? 1 : 0);
