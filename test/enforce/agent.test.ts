/**
 * `ecs-secgroup agent --bind` in a network namespace of the test's own (ports named but not
 * plugged: the kernel state is what is checked): --dry-run, fail closed while the service is
 * away, resuming from its cursor after a server restart (and on PostgreSQL from another
 * node), a restart that changes nothing applies nothing, a failed transaction is retried
 * against the kernel's real state, and other tables stay as they were.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AgentStatus } from '../../src/enforce/agent.js';
import { databaseFor } from '../helpers/pg.js';
import { CLI, runCli, startServer, type TestServer, tempDir } from '../helpers/server.js';
import { Api, type Eni } from './api.js';
import { noNamespaces, sleep } from './lab.js';

const skip = noNamespaces();
if (skip) console.log(`# agent tests skipped: ${skip}`);

const NS = `ecssg-agent-test-${process.pid}`;
const nft = (...args: string[]) =>
  execFileSync('ip', ['netns', 'exec', NS, 'nft', ...args], { encoding: 'utf8', stdio: 'pipe' });
// biome-ignore lint/suspicious/noExplicitAny: libnftables JSON, navigated freely
const table = (t = 'ecssg') => JSON.parse(nft('-j', 'list', 'table', 'inet', t)).nftables as any[];
/** The verdict of each port in a map of the agent's table. */
function mapEntries(name: string): Record<string, string> {
  const m = table().find((x) => x.map?.name === name)?.map;
  const out: Record<string, string> = {};
  for (const [k, v] of m?.elem ?? [])
    out[k] = v.goto ? `goto ${v.goto.target}` : Object.keys(v)[0]!;
  return out;
}
const setElements = (name: string, t = 'ecssg'): string[] =>
  [...(table(t).find((x) => x.set?.name === name)?.set.elem ?? [])].sort();

class AgentProcess {
  readonly proc: ChildProcess;
  stderr = '';
  readonly statusFile: string;
  constructor(args: string[]) {
    this.statusFile = join(tempDir('ecssg-agent-'), 'status.json');
    this.proc = spawn(
      process.execPath,
      [CLI, 'agent', '--netns', NS, '--status-file', this.statusFile, ...args],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    this.proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
    });
  }
  status(): AgentStatus | undefined {
    try {
      return JSON.parse(readFileSync(this.statusFile, 'utf8')) as AgentStatus;
    } catch {
      return undefined;
    }
  }
  async until(what: string, cond: (s: AgentStatus) => boolean, ms = 5000): Promise<AgentStatus> {
    const t0 = Date.now();
    for (;;) {
      const s = this.status();
      if (s && cond(s)) return s;
      assert.ok(
        Date.now() - t0 < ms,
        `${what} (status ${JSON.stringify(s)}; stderr ${this.stderr})`,
      );
      await sleep(10);
    }
  }
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGTERM');
    await exited;
  }
}

const agents: AgentProcess[] = [];
const agent = (args: string[]) => {
  const a = new AgentProcess(args);
  agents.push(a);
  return a;
};

if (!skip) {
  before(() => execFileSync('ip', ['netns', 'add', NS]));
  after(async () => {
    for (const x of agents) await x.stop();
    execFileSync('ip', ['netns', 'del', NS]);
  });
}

describe('the agent', { skip }, () => {
  let srv: TestServer;
  let api: Api;
  let a: Eni;
  let b: Eni;
  let ga = '';
  let vpc = '';
  let binds: string[] = [];
  const listed = (t: string) => nft('list', 'table', ...t.split(' '));
  let others: string[] = [];
  const OTHER =
    'table inet other {\n\tchain c {\n\t\ttype filter hook forward priority -5; policy accept;\n\t\tip saddr 10.9.9.9 drop\n\t}\n}';
  const PREFIXED =
    'table ip ecssg_mine {\n\tset s {\n\t\ttype ipv4_addr\n\t\telements = { 10.8.8.8 }\n\t}\n}';

  before(async () => {
    execFileSync('ip', ['netns', 'exec', NS, 'nft', '-f', '-'], {
      input: `${OTHER}\n${PREFIXED}\n`,
    });
    others = ['inet other', 'ip ecssg_mine'].map(listed);
    srv = await startServer();
    api = new Api(srv);
    vpc = await api.vpc();
    const vsw = await api.vswitch(vpc, '10.0.1.0/24');
    ga = await api.group(vpc, { inner: 'Accept' });
    a = await api.eni(vsw, [ga], { secondaries: 1 });
    b = await api.eni(vsw, [ga]);
    binds = [
      '--bind',
      `${a.id}=porta`,
      '--bind',
      `${b.id}=portb`,
      '--bind',
      'eni-doesnotexist=portx',
    ];
    await api.allow(ga, {
      direction: 'ingress',
      protocol: 'tcp',
      ports: '22/22',
      peer: '10.0.0.0/8',
    });
  });

  after(() => srv?.stop());

  test('--dry-run prints the ruleset and leaves the kernel alone', async () => {
    const r = await runCli(['agent', '--netns', NS, '--dry-run', '--endpoint', srv.url, ...binds]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^add table inet ecssg$/m);
    assert.match(r.stdout, new RegExp(`"porta" : goto eg_${a.id}`));
    assert.match(r.stdout, /"portx" : drop/, 'an unknown interface fails closed');
    assert.match(r.stdout, /ct state established,related accept/);
    assert.match(
      r.stdout,
      /meta l4proto \. ip saddr \. th dport \. th sport \. ip daddr @l_[0-9a-f]+ accept/,
    );
    assert.throws(() => nft('list', 'table', 'inet', 'ecssg'), 'no table made');
  });

  test('bad arguments are refused', async () => {
    const bad = await runCli(['agent', '--table', 'mytable', ...binds]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--table must begin with ecssg/);
    assert.equal((await runCli(['agent', '--bind', 'nonsense'])).code, 2);
    assert.equal((await runCli(['agent', '--netns', 'ecssg-no-such-ns', ...binds])).code, 2);
  });

  test('fail closed while the service is away; enforcing once it is back; resuming from its cursor after a restart', async () => {
    const port = srv.port;
    await srv.stop();
    const x = agent(['--endpoint', `http://127.0.0.1:${port}`, ...binds]);
    // the ports drop before anything is known
    await x.until('the ports fail closed', (s) => s.lastError !== null);
    assert.deepEqual(mapEntries('egress_ports'), { porta: 'drop', portb: 'drop', portx: 'drop' });
    assert.deepEqual(mapEntries('ingress_ports'), { porta: 'drop', portb: 'drop', portx: 'drop' });
    assert.equal(x.status()!.synced, false);
    srv = await startServer({ dataDir: srv.dataDir, args: ['--port', String(port)] });
    api = new Api(srv);
    const s = await x.until('synced once the service is back', (st) => st.synced, 10_000);
    assert.equal(mapEntries('egress_ports').porta, `goto eg_${a.id}`);
    assert.equal(mapEntries('ingress_ports').portx, 'drop');
    assert.deepEqual(setElements(`a_${a.id}`), [a.ip, ...a.secondary].sort());
    assert.deepEqual(setElements(`g_${ga}`), [a.ip, ...a.secondary, b.ip].sort());
    // the server restarts; a change made after it comes by the same cursor, no snapshot
    await srv.stop();
    srv = await startServer({ dataDir: srv.dataDir, args: ['--port', String(port)] });
    api = new Api(srv);
    const [added] = await api.assign(b.id, 1);
    const after = await x.until(
      'the change after the restart',
      () => setElements(`g_${ga}`).includes(added!),
      10_000,
    );
    assert.equal(after.snapshots, 1, 'resumed from its cursor');
    assert.ok(after.pages > s.pages);
    await x.stop();
    assert.ok(
      nft('list', 'table', 'inet', 'ecssg').includes('egress_ports'),
      'stopped, the kernel keeps the rules',
    );
  });

  test('a restart that finds the kernel as it should be applies nothing', async () => {
    const x = agent(['--endpoint', srv.url, ...binds]);
    const s = await x.until('synced', (st) => st.synced);
    await sleep(200);
    assert.equal(x.status()!.transactions, 0, `transactions: ${s.transactions}`);
    await x.stop();
  });

  test('a failed transaction is retried against what the kernel really holds', async () => {
    const x = agent(['--endpoint', srv.url, ...binds]);
    await x.until('synced', (st) => st.synced);
    // behind the agent's back: the element it will delete next is gone already
    nft('delete', 'element', 'inet', 'ecssg', `g_${ga}`, `{ ${b.ip} }`);
    await api.setGroups(b.id, [await api.group(vpc, { inner: 'Drop' })]);
    await x.until(
      'converged',
      () => !setElements(`g_${ga}`).includes(b.ip) && x.stderr.includes('applying the rules'),
    );
    assert.match(x.stderr, /applying the rules: .*nft -f - failed/);
    const s = await x.until('in sync again', (st) => st.lastError === null);
    assert.equal(
      mapEntries('ingress_ports').portb?.startsWith('goto pi_'),
      true,
      s.lastError ?? '',
    );
    assert.deepEqual(setElements(`g_${ga}`), [a.ip, ...a.secondary].sort());
    await x.stop();
  });

  test('tables of others — and other tables with the prefix — are never touched', () => {
    assert.deepEqual(['inet other', 'ip ecssg_mine'].map(listed), others);
    assert.match(others[0]!, /ip saddr 10\.9\.9\.9 drop/);
  });
});

const DB_URL = process.env.TEST_DATABASE_URL;
describe('the agent on two PostgreSQL nodes', {
  skip: skip ?? (DB_URL ? undefined : 'TEST_DATABASE_URL is not set'),
}, () => {
  test('follows another node from the same cursor when its node goes away', async () => {
    const url = await databaseFor(tempDir());
    const [one, two] = await Promise.all([
      startServer({ args: ['--store', url] }),
      startServer({ args: ['--store', url] }),
    ]);
    try {
      const api1 = new Api(one);
      const api2 = new Api(two);
      const vpc = await api1.vpc();
      const vsw = await api1.vswitch(vpc, '10.0.1.0/24');
      const g = await api1.group(vpc, { inner: 'Accept' });
      const e = await api1.eni(vsw, [g]);
      const x = agent([
        '--table',
        'ecssgpg',
        '--endpoint',
        `${one.url},${two.url}`,
        '--bind',
        `${e.id}=portpg`,
      ]);
      await x.until('synced', (s) => s.synced);
      await one.stop();
      const [added] = await api2.assign(e.id, 1);
      const s = await x.until(
        'the change through the other node',
        () => setElements(`a_${e.id}`, 'ecssgpg').includes(added!),
        15_000,
      );
      assert.equal(s.snapshots, 1, 'resumed from its cursor on the other node');
      await x.stop();
    } finally {
      await Promise.all([one.stop(), two.stop()]);
    }
  });
});
