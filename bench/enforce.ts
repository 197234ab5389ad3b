/**
 * The "enforce" section (root; skipped with the reason where network namespaces cannot be
 * made): the agent's compilation and nftables transactions, propagation from an API
 * acknowledgement to the kernel, the kernel's per-connection cost at 10 and 500 rules, and
 * the agent's memory with 500 interfaces. Every figure is measured in this run.
 *
 *   npm run bench -- --only enforce
 *
 * - compile + apply: one interface whose group holds N realistic rules (distinct CIDRs and
 *   ports, random priorities, a few broad rules); compile time, the whole table applied from
 *   nothing, one more rule compiled, diffed and applied (medians).
 * - propagation: 1,000 consecutive changes (Authorize, then Revoke of the same rule) to a
 *   lab; from the API's answer to the kernel's `new generation` event (nft monitor in the
 *   lab's host namespace) — the moment the transaction is in force.
 * - kernel cost: new TCP connections per second from one lab interface to another whose
 *   ingress holds 10 rules, then 500 (the accepting rule last in evaluation order), five
 *   times each, alternating, same run; medians. Beside it, new UDP flows per second (each
 *   datagram to another port: a new flow through the rules), and both with the same 500
 *   rules as a plain chain of 500 kernel rules, to show what the measurement can see.
 * - memory: an agent bound to 500 interfaces (ports named, not plugged: the kernel holds
 *   their table all the same), RSS once in sync.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { FeedPage } from '../src/domain/feed.js';
import type { AgentStatus } from '../src/enforce/agent.js';
import { compile } from '../src/enforce/compile.js';
import { plan } from '../src/enforce/diff.js';
import { expected } from '../src/enforce/kernel.js';
import { AgentModel } from '../src/enforce/model.js';
import { Nft } from '../src/enforce/nft.js';
import { script } from '../src/enforce/ruleset.js';
import { decisionOrder } from '../src/engine/table.js';
import { hostNetns, labDir } from '../src/lab/names.js';
import { Api, type Eni, type RuleSpec } from '../test/enforce/api.js';
import { Rng } from '../test/engine/gen.js';
import { CLI, runCli, startServer, type TestServer, tempDir } from '../test/helpers/spawn.js';

const CONNRATE = fileURLToPath(new URL('./connrate.js', import.meta.url));
const UDPFLOOD = fileURLToPath(new URL('./udpflood.js', import.meta.url));
const PROBER = fileURLToPath(new URL('../test/enforce/prober.js', import.meta.url));

export interface EnforceBenchOptions {
  /** Each connection-rate measurement (default 3000 ms). */
  durationMs?: number;
  /** Consecutive changes timed for propagation (default 1000). */
  changes?: number;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: readonly number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

function noNamespaces(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  try {
    execFileSync('sh', ['-c', 'command -v nft && command -v conntrack'], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'add', `ecssg-bench-probe-${process.pid}`], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'del', `ecssg-bench-probe-${process.pid}`], { stdio: 'pipe' });
    return undefined;
  } catch (e) {
    return `cannot make network namespaces: ${(e as Error).message}`;
  }
}

/** `n` rules like a real group's: distinct networks and ports, random priorities. */
function realisticRules(rng: Rng, n: number, direction: 'ingress' | 'egress'): RuleSpec[] {
  const out: RuleSpec[] = [];
  const seen = new Set<string>();
  while (out.length < n) {
    const i = out.length;
    const k = rng.next();
    const protocol = k < 0.6 ? 'tcp' : k < 0.85 ? 'udp' : k < 0.95 ? 'icmp' : 'all';
    const broad = rng.bool(0.02);
    const peer = broad
      ? rng.pick(['10.0.0.0/8', '172.16.0.0/12', '0.0.0.0/0'])
      : rng.bool(0.7)
        ? `10.${20 + (i % 200)}.${rng.int(0, 255)}.0/24`
        : `172.${16 + rng.int(0, 15)}.${rng.int(0, 255)}.${rng.int(1, 254)}/32`;
    const port = rng.pick([22, 80, 443, 3306, 5432, 6379, 8000, 8443, 9090, 27017]);
    const ports =
      protocol === 'tcp' || protocol === 'udp'
        ? rng.bool(0.8)
          ? `${port}/${port}`
          : `${port}/${port + rng.int(1, 100)}`
        : undefined;
    const spec: RuleSpec = {
      direction,
      protocol,
      ports,
      peer,
      priority: rng.int(1, 99),
      policy: rng.bool(0.85) ? 'accept' : 'drop',
    };
    const id = JSON.stringify({ ...spec, priority: 0 });
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(spec);
  }
  return out;
}

async function authorizeAll(api: Api, group: string, specs: readonly RuleSpec[]) {
  for (const dir of ['ingress', 'egress'] as const) {
    const mine = specs.filter((s) => s.direction === dir);
    for (let i = 0; i < mine.length; i += 100)
      await api.allowMany(group, dir, mine.slice(i, i + 100));
  }
}

// ------------------------------------------------------------------------------ compile

async function compileAndApply(api: Api, vpc: string, eni: Eni, rng: Rng) {
  const ns = `ecssg-bench-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  const nft = new Nft('ecssg', ns);
  const rows: Record<string, unknown>[] = [];
  try {
    for (const n of [10, 100, 500]) {
      const g = await api.group(vpc, { inner: 'Drop' });
      await authorizeAll(api, g, realisticRules(rng, n, 'ingress'));
      await api.setGroups(eni.id, [g]);
      const model = new AgentModel();
      model.apply(await api.changes());
      const bindings = [{ eniId: eni.id, ifname: 'benchport' }];
      const opts = { table: 'ecssg', strict: false };
      const compileMs: number[] = [];
      let compiled = compile(model.state, bindings, opts);
      for (let i = 0; i < 20; i++) {
        const t0 = process.hrtime.bigint();
        compiled = compile(model.state, bindings, opts);
        compileMs.push(ms(t0));
      }
      const applyMs: number[] = [];
      for (let i = 0; i < 5; i++) {
        await nft.remove();
        const t0 = process.hrtime.bigint();
        await nft.apply(script(compiled.ruleset).trimEnd().split('\n'));
        applyMs.push(ms(t0));
      }
      // one change: a rule more, through the feed, compiled, diffed, applied
      const changeMs: number[] = [];
      for (let i = 0; i < 5; i++) {
        const before = expected(compiled.ruleset);
        await api.allow(g, {
          direction: 'ingress',
          protocol: 'tcp',
          ports: `${2000 + i}/${2000 + i}`,
          peer: `10.250.${i}.0/24`,
        });
        model.apply(await api.changes({ Cursor: cursorText(model.state.cursor!) }));
        const t0 = process.hrtime.bigint();
        compiled = compile(model.state, bindings, opts);
        await nft.apply(plan(before, compiled.ruleset));
        changeMs.push(ms(t0));
      }
      const port = compiled.ports[0]!;
      const lookups = [...compiled.ruleset.chains].find(([k]) => k.startsWith('pi_'))![1].rules
        .length;
      const row = {
        rules: n,
        layers: port.layers?.ingress,
        lookups,
        compileMs: median(compileMs),
        applyMs: median(applyMs),
        changeMs: median(changeMs),
      };
      rows.push(row);
      console.log(
        `${n} rules: ${row.layers} layer(s), ${lookups} rules in the ingress chain; compile ${row.compileMs.toFixed(2)} ms, ` +
          `whole table applied ${row.applyMs.toFixed(1)} ms, one more rule (compile + diff + apply) ${row.changeMs.toFixed(1)} ms`,
      );
    }
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
  return rows;
}

const cursorText = (c: FeedPage['cursor']) =>
  `${c.epoch}.${c.pos.toString(36)}.${c.stamp.toString(36)}`;

// ------------------------------------------------------------------------------ a lab

class BenchLab {
  readonly dir: string;
  constructor(
    readonly srv: TestServer,
    readonly api: Api,
    readonly vpc: string,
  ) {
    this.dir = labDir(vpc);
  }
  status(): AgentStatus {
    return JSON.parse(readFileSync(join(this.dir, 'status.json'), 'utf8')) as AgentStatus;
  }
  async up() {
    const r = await runCli(['lab', 'up', '--vpc', this.vpc, '--endpoint', this.srv.url], {
      timeoutMs: 120_000,
    });
    if (r.code !== 0) throw new Error(`lab up: ${r.stderr}`);
  }
  async settle() {
    const head = (await this.api.changes()).cursor.pos;
    for (;;) {
      const c = this.status().appliedCursor;
      if (c && Number.parseInt(c.split('.')[1]!, 36) >= head) return;
      await sleep(5);
    }
  }
  async down() {
    await runCli(['lab', 'down', '--vpc', this.vpc]);
  }
}

/** `nft monitor` in the lab's host namespace: the arrival time of each new generation. */
class Monitor {
  private readonly proc: ChildProcess;
  private generations: number[] = [];
  private waiter: (() => void) | null = null;
  constructor(netns: string) {
    this.proc = spawn('ip', ['netns', 'exec', netns, 'nft', 'monitor'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    createInterface({ input: this.proc.stdout! }).on('line', (l) => {
      if (!l.startsWith('# new generation')) return;
      this.generations.push(performance.now());
      this.waiter?.();
    });
  }
  /** The time of the first generation after `t`. */
  async after(t: number, timeoutMs = 5000): Promise<number> {
    const end = performance.now() + timeoutMs;
    for (;;) {
      const g = this.generations.find((x) => x >= t);
      if (g !== undefined) {
        this.generations = this.generations.filter((x) => x > g);
        return g;
      }
      if (performance.now() > end) throw new Error('no kernel change seen');
      await new Promise<void>((r) => {
        this.waiter = r;
        setTimeout(r, 50);
      });
    }
  }
  stop() {
    this.proc.kill();
  }
}

async function propagation(lab: BenchLab, from: Eni, group: string, changes: number) {
  const monitor = new Monitor(hostNetns(lab.vpc));
  await sleep(300);
  const rule = {
    SecurityGroupId: group,
    IpProtocol: 'tcp',
    PortRange: '9000/9000',
    SourceCidrIp: `${from.ip}/32`,
    NicType: 'intranet',
    Policy: 'accept',
  };
  const took: number[] = [];
  try {
    for (let i = 0; i < changes; i++) {
      await lab.api.call(i % 2 === 0 ? 'AuthorizeSecurityGroup' : 'RevokeSecurityGroup', rule);
      const acked = performance.now();
      took.push((await monitor.after(acked)) - acked);
    }
  } finally {
    monitor.stop();
  }
  const row = { changes, p50: pct(took, 50), p99: pct(took, 99), max: Math.max(...took) };
  console.log(
    `propagation, API acknowledgement to kernel, ${changes} consecutive changes: p50 ${row.p50.toFixed(1)} ms, ` +
      `p99 ${row.p99.toFixed(1)} ms (target < 200), max ${row.max.toFixed(1)} ms`,
  );
  return row;
}

interface Rates {
  /** New TCP connections per second (connect, then reset). */
  tcp: number;
  /** UDP datagrams per second that reach the server, each a new flow. */
  udp: number;
}

/** One measurement of both rates through the server's ingress as the kernel holds it now. */
async function measureRates(
  lab: BenchLab,
  client: Eni,
  server: Eni,
  durationMs: number,
): Promise<Rates> {
  const exec = async (script: string, ...args: string[]) => {
    const r = await runCli(['lab', 'exec', client.id, '--', process.execPath, script, ...args], {
      timeoutMs: durationMs + 30_000,
    });
    return JSON.parse(r.stdout) as Record<string, number | string>;
  };
  const host = hostNetns(lab.vpc);
  const flush = () =>
    execFileSync('ip', ['netns', 'exec', host, 'conntrack', '-F'], { stdio: 'ignore' });
  flush(); // every datagram below is to be a new flow: none of an earlier run may be tracked
  const tcp = await exec(CONNRATE, server.ip, '8080', String(durationMs), '16');
  if (Number(tcp.failed) > 0)
    throw new Error(`${tcp.failed} connections failed: ${tcp.firstError}`);
  flush();
  const received = () => {
    const snmp = execFileSync('ip', ['netns', 'exec', server.id, 'cat', '/proc/net/snmp'], {
      encoding: 'utf8',
    });
    const [head, values] = snmp.split('\n').filter((l) => l.startsWith('Udp:'));
    const k = head!.split(/\s+/);
    const v = values!.split(/\s+/).map(Number);
    return ['InDatagrams', 'NoPorts', 'InErrors'].reduce((sum, f) => sum + v[k.indexOf(f)]!, 0);
  };
  const before = received();
  const udp = await exec(UDPFLOOD, server.ip, '20000', '60000', String(Math.min(durationMs, 1000)));
  await sleep(100);
  const got = received() - before;
  flush();
  return {
    tcp: (Number(tcp.connections) * 1000) / Number(tcp.ms),
    udp: (got * 1000) / Number(udp.ms),
  };
}

async function connectionRate(
  lab: BenchLab,
  client: Eni,
  server: Eni,
  durationMs: number,
  rng: Rng,
) {
  const accepts: RuleSpec[] = [
    {
      direction: 'ingress',
      protocol: 'tcp',
      ports: '8080/8080',
      peer: `${client.ip}/32`,
      priority: 100,
    },
    {
      direction: 'ingress',
      protocol: 'udp',
      ports: '20000/60000',
      peer: `${client.ip}/32`,
      priority: 100,
    },
  ];
  const groups = new Map<number, string>();
  for (const n of [10, 500]) {
    const g = await lab.api.group(lab.vpc, { inner: 'Drop' });
    await authorizeAll(lab.api, g, [
      ...realisticRules(rng, n - accepts.length, 'ingress'),
      ...accepts,
    ]);
    groups.set(n, g);
  }
  const echo = spawn(
    process.execPath,
    [CLI, 'lab', 'exec', server.id, '--', process.execPath, PROBER],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  await new Promise((r) => echo.stdout!.once('data', r));
  const runs = new Map<number, Rates[]>([
    [10, []],
    [500, []],
  ]);
  const layers = new Map<number, number>();
  let linear: Rates;
  try {
    for (const n of [10, 500, 10, 500, 10, 500, 10, 500, 10, 500]) {
      await lab.api.setGroups(server.id, [groups.get(n)!]);
      await lab.settle();
      await sleep(500); // the agent's check of tracked flows after the change
      layers.set(n, lab.status().ports.find((p) => p.eniId === server.id)?.layers?.ingress ?? -1);
      runs.get(n)!.push(await measureRates(lab, client, server, durationMs));
    }
    // The same 500 rules as a plain chain, one kernel rule per rule in evaluation order (the
    // agent stopped meanwhile; lab up brings it back to converge): what each measurement
    // shows of a cost that grows with the rules.
    linear = await linearChain(lab, server, groups.get(500)!, () =>
      measureRates(lab, client, server, durationMs),
    );
  } finally {
    echo.stdin!.end();
    echo.kill();
  }
  const of = (n: number, k: keyof Rates) => median(runs.get(n)!.map((r) => r[k]));
  const row = {
    tcp10: of(10, 'tcp'),
    tcp500: of(500, 'tcp'),
    udp10: of(10, 'udp'),
    udp500: of(500, 'udp'),
    tcpLinear500: linear.tcp,
    udpLinear500: linear.udp,
    layers10: layers.get(10),
    layers500: layers.get(500),
  };
  const all = (n: number, k: keyof Rates) =>
    runs
      .get(n)!
      .map((r) => r[k].toFixed(0))
      .join(', ');
  console.log(
    `kernel cost, new TCP connections/s into the interface: 10 rules ${row.tcp10.toFixed(0)}/s (${row.layers10} layer(s)), ` +
      `500 rules ${row.tcp500.toFixed(0)}/s (${row.layers500} layer(s)); 500 / 10: ${(row.tcp500 / row.tcp10).toFixed(3)} (target >= 0.9) ` +
      `[runs ${all(10, 'tcp')} | ${all(500, 'tcp')}]; the same 500 rules as a plain chain: ${row.tcpLinear500.toFixed(0)}/s ` +
      `(${(row.tcpLinear500 / row.tcp10).toFixed(3)})`,
  );
  console.log(
    `kernel cost, new UDP flows/s into the interface (one datagram each): 10 rules ${row.udp10.toFixed(0)}/s, ` +
      `500 rules ${row.udp500.toFixed(0)}/s; 500 / 10: ${(row.udp500 / row.udp10).toFixed(3)} ` +
      `[runs ${all(10, 'udp')} | ${all(500, 'udp')}]; the same 500 rules as a plain chain: ${row.udpLinear500.toFixed(0)}/s ` +
      `(${(row.udpLinear500 / row.udp10).toFixed(3)})`,
  );
  return row;
}

/** Measures with the group's ingress as a plain chain in the kernel, then restores the agent. */
async function linearChain(
  lab: BenchLab,
  server: Eni,
  group: string,
  measure: () => Promise<Rates>,
) {
  const model = new AgentModel();
  model.apply(await lab.api.changes());
  const rules = [...model.state.rules.values()]
    .filter((r) => r.securityGroupId === group && r.direction === 'ingress')
    .sort(decisionOrder);
  const host = hostNetns(lab.vpc);
  const pid = JSON.parse(readFileSync(join(lab.dir, 'lab.json'), 'utf8')).agentPid as number;
  process.kill(pid, 'SIGKILL');
  await sleep(200);
  const port = lab.status().ports.find((p) => p.eniId === server.id)!;
  const listing = execFileSync(
    'ip',
    ['netns', 'exec', host, 'nft', '-j', 'list', 'map', 'inet', 'ecssg', 'ingress_ports'],
    { encoding: 'utf8' },
  );
  const elems = JSON.parse(listing).nftables[1].map.elem as [
    string,
    { goto: { target: string } },
  ][];
  const target = elems.find((e) => e[0] === port.ifname)![1].goto.target;
  const lines = [`flush chain inet ecssg ${target}`];
  for (const r of rules) {
    const m = r.protocol === 'all' ? '' : `meta l4proto ${r.protocol} `;
    const ports =
      r.protocol === 'tcp' || r.protocol === 'udp'
        ? ` th dport ${r.portRange.from}-${r.portRange.to}`
        : '';
    lines.push(`add rule inet ecssg ${target} ${m}ip saddr ${r.peerCidr}${ports} ${r.policy}`);
  }
  lines.push(`add rule inet ecssg ${target} drop`);
  execFileSync('ip', ['netns', 'exec', host, 'nft', '-f', '-'], { input: `${lines.join('\n')}\n` });
  try {
    return await measure();
  } finally {
    await lab.up(); // a new agent: it finds the chain changed and puts its own back
  }
}

async function memory(api: Api, vpc: string, rng: Rng) {
  const vsw = await api.vswitch(vpc, '10.1.0.0/20');
  const groups: string[] = [];
  for (let i = 0; i < 5; i++) {
    const g = await api.group(vpc, { inner: i % 2 ? 'Accept' : 'Drop' });
    await authorizeAll(api, g, [
      ...realisticRules(rng, 20, 'ingress'),
      ...realisticRules(rng, 5, 'egress'),
    ]);
    groups.push(g);
  }
  const enis: Eni[] = [];
  for (let i = 0; i < 500; i++)
    enis.push(await api.eni(vsw, [groups[i % 5]!, groups[(i * 7 + 1) % 5]!]));
  const ns = `ecssg-bench-mem-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  const status = join(tempDir('ecssg-bench-'), 'status.json');
  const binds = enis.flatMap((e, i) => ['--bind', `${e.id}=p${i}`]);
  const agent = spawn(
    process.execPath,
    [CLI, 'agent', '--netns', ns, '--endpoint', api.srv.url, '--status-file', status, ...binds],
    {
      stdio: 'ignore',
    },
  );
  const t0 = performance.now();
  try {
    let s: AgentStatus | undefined;
    for (;;) {
      try {
        s = JSON.parse(readFileSync(status, 'utf8')) as AgentStatus;
      } catch {
        s = undefined;
      }
      if (s?.synced) break;
      if (performance.now() - t0 > 120_000) throw new Error('the agent did not sync');
      await sleep(20);
    }
    const syncMs = performance.now() - t0;
    await sleep(1500); // a status after the first sync's flow check, with its RSS
    const vmRss =
      Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${agent.pid}/status`, 'utf8'))![1]) * 1024;
    const tableBytes = execFileSync('ip', [
      'netns',
      'exec',
      ns,
      'nft',
      'list',
      'table',
      'inet',
      'ecssg',
    ]).length;
    console.log(
      `agent memory with 500 interfaces (5 groups of 25 rules, two groups each): RSS ${(vmRss / 2 ** 20).toFixed(1)} MiB; ` +
        `first sync ${syncMs.toFixed(0)} ms from start; the table lists ${(tableBytes / 1024).toFixed(0)} KiB`,
    );
    return { interfaces: 500, rssBytes: vmRss, syncMs };
  } finally {
    agent.kill();
    await new Promise((r) => agent.once('exit', r));
    execFileSync('ip', ['netns', 'del', ns]);
  }
}

export async function benchEnforce(opts: EnforceBenchOptions = {}) {
  const why = noNamespaces();
  if (why) {
    console.log(`enforce: skipped (${why})`);
    return { skipped: why };
  }
  const rng = new Rng(0xec55);
  const srv = await startServer({ args: ['--max-rules-per-group', '1000'] });
  const api = new Api(srv);
  const vpc = await api.vpc();
  const vsw = await api.vswitch(vpc, '10.0.1.0/24');
  const base = await api.group(vpc, { inner: 'Drop' });
  const [client, server] = [await api.eni(vsw, [base]), await api.eni(vsw, [base])];
  const lab = new BenchLab(srv, api, vpc);
  try {
    const compiled = await compileAndApply(api, vpc, server, rng);
    await api.setGroups(server.id, [base]);
    await lab.up();
    const prop = await propagation(lab, client, base, opts.changes ?? 1000);
    const kernel = await connectionRate(lab, client, server, opts.durationMs ?? 3000, rng);
    await lab.down();
    const mem = await memory(api, await api.vpc('10.1.0.0/16'), rng);
    return { compiled, propagation: prop, kernel, memory: mem };
  } finally {
    await lab.down();
    await srv.stop();
  }
}
