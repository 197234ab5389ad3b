/**
 * A lab for the enforcement tests: a server, a VPC with interfaces, `lab up` through the
 * command line, and a prober in each interface's namespace (started with `lab exec`) that
 * sends real packets on request. Everything lives in namespaces the lab makes; `stop()` runs
 * `lab down`.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { AgentStatus } from '../../src/enforce/agent.js';
import type { LabConfig } from '../../src/lab/names.js';
import { labDir } from '../../src/lab/names.js';
import { CLI, runCli, startServer, type TestServer } from '../helpers/server.js';
import { Api, type Eni } from './api.js';
import type { Answer, Request } from './prober.js';

const PROBER = fileURLToPath(new URL('./prober.js', import.meta.url));

/** Why network namespaces cannot be made here, or undefined when they can. */
export function noNamespaces(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to make network namespaces (CI runs as root)';
  const name = `ecssg-probe-${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', name], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'del', name], { stdio: 'pipe' });
    execFileSync('sh', ['-c', 'command -v nft && command -v conntrack && command -v ping'], {
      stdio: 'pipe',
    });
    return undefined;
  } catch (e) {
    return `cannot make network namespaces or lacks nft/conntrack/ping: ${(e as Error).message}`;
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

type Probe =
  | { op: 'tcp' | 'udp' | 'open'; to: string; port: number; from?: string; sport?: number }
  | { op: 'ping'; to: string; from?: string };

/** The prober in one interface's namespace. */
export class Prober {
  private next = 0;
  private readonly waiting = new Map<number, (a: Answer) => void>();
  readonly ready: Promise<void>;

  constructor(
    readonly eniId: string,
    private readonly proc: ChildProcess,
  ) {
    const lines = createInterface({ input: proc.stdout! });
    this.ready = new Promise((resolve) => this.waiting.set(0, () => resolve()));
    lines.on('line', (l) => {
      const a = JSON.parse(l) as Answer;
      this.waiting.get(a.id)?.(a);
      this.waiting.delete(a.id);
    });
  }

  ask(r: DistributiveOmit<Request, 'id'>): Promise<Answer> {
    const id = ++this.next;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.proc.stdin!.write(`${JSON.stringify({ ...r, id })}\n`);
    });
  }

  /**
   * Whether the probe gets through (connected and echoed, echoed, answered). With `retry`, a
   * probe that times out is tried once more with a longer wait before it counts as dropped:
   * a slow machine must not look like a drop (nothing makes a drop look like a pass).
   */
  async passes(p: Probe, timeoutMs = 300, retry = true): Promise<boolean> {
    const first = await this.ask({ ...p, timeoutMs });
    if (first.ok || !retry || !/timeout|no echo|ping exit/.test(first.error ?? '')) return first.ok;
    return (await this.ask({ ...p, timeoutMs: timeoutMs * 4 })).ok;
  }

  stop(): void {
    this.proc.stdin?.end();
    this.proc.kill();
  }
}

/** A flow between two lab interfaces, from one of the sender's addresses to one of the receiver's. */
export interface Flow {
  readonly from: Eni;
  readonly to: Eni;
  readonly proto: 'tcp' | 'udp' | 'icmp';
  /** Destination port (tcp, udp). */
  readonly port?: number;
  /** Source port (tcp, udp; default a fresh one). */
  readonly sport?: number;
  /** The sender's address (default its primary one). */
  readonly fromIp?: string;
  readonly toIp?: string;
}

let sports = 20000 + (process.pid % 1000) * 37;
/** A change-feed cursor's position (`host.POS.x`, base 36), or -1 for none. */
export function cursorPos(cursor: string | null): number {
  return cursor ? Number.parseInt(cursor.split('.')[1]!, 36) : -1;
}

/** A source port no earlier flow of this process used (so no tracked flow matches it). */
export function freshPort(): number {
  sports = sports >= 59999 ? 20000 : sports + 1;
  return sports;
}

export const showFlow = (f: Flow) =>
  `${f.proto} ${f.fromIp ?? f.from.ip}${f.sport ? `:${f.sport}` : ''} -> ${f.toIp ?? f.to.ip}${f.port ? `:${f.port}` : ''}`;

export interface LabOptions {
  /** Secondary addresses of each interface (its length is the number of interfaces). */
  readonly secondaries: readonly number[];
}

export class TestLab {
  readonly probers = new Map<string, Prober>();
  enis: Eni[] = [];
  vpc = '';
  vsw = '';
  /** A group every interface starts in (interfaces need one). */
  base = '';

  private constructor(
    readonly srv: TestServer,
    readonly api: Api,
  ) {}

  static async start(opts: LabOptions): Promise<TestLab> {
    const srv = await startServer();
    const lab = new TestLab(srv, new Api(srv));
    lab.vpc = await lab.api.vpc();
    lab.vsw = await lab.api.vswitch(lab.vpc, '10.0.1.0/24');
    lab.base = await lab.api.group(lab.vpc, { inner: 'Drop' });
    for (const n of opts.secondaries)
      lab.enis.push(await lab.api.eni(lab.vsw, [lab.base], { secondaries: n }));
    await lab.up();
    for (const e of lab.enis) await lab.probe(e.id);
    return lab;
  }

  get dir(): string {
    return labDir(this.vpc);
  }

  connectionArgs(): string[] {
    return ['--endpoint', this.srv.url];
  }

  async up(): Promise<AgentStatus> {
    const r = await runCli(['lab', 'up', '--vpc', this.vpc, ...this.connectionArgs()], {
      timeoutMs: 60_000,
    });
    assert.equal(r.code, 0, `lab up: ${r.stdout}${r.stderr}`);
    return this.status();
  }

  status(): AgentStatus {
    return JSON.parse(readFileSync(join(this.dir, 'status.json'), 'utf8')) as AgentStatus;
  }

  config(): LabConfig {
    return JSON.parse(readFileSync(join(this.dir, 'lab.json'), 'utf8')) as LabConfig;
  }

  /** Starts (or restarts) the prober of an interface. */
  async probe(eniId: string): Promise<Prober> {
    this.probers.get(eniId)?.stop();
    const proc = spawn(
      process.execPath,
      [CLI, 'lab', 'exec', eniId, '--', process.execPath, PROBER],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    const p = new Prober(eniId, proc);
    this.probers.set(eniId, p);
    await p.ready;
    return p;
  }

  prober(eniId: string): Prober {
    const p = this.probers.get(eniId);
    assert.ok(p, `a prober in ${eniId}`);
    return p;
  }

  /** Resolves once the agent enforces everything committed so far; returns how long it took. */
  async settle(timeoutMs = 5000): Promise<number> {
    const t0 = Date.now();
    const head = await this.head(timeoutMs);
    for (;;) {
      const s = this.status();
      // in force, and no tracked connection left that the rules drop (an echo of a world
      // before would pass as established)
      if (cursorPos(s.appliedCursor) >= head && cursorPos(s.cleanedCursor) >= head)
        return Date.now() - t0;
      assert.ok(
        Date.now() - t0 < timeoutMs,
        `the agent applied ${s.appliedCursor} and checked connections at ${s.cleanedCursor}, not ${head}: ${s.lastError}`,
      );
      await sleep(10);
    }
  }

  /**
   * The change feed's position of every change acknowledged so far. On PostgreSQL a head read
   * while an older transaction still runs is behind commits already acknowledged (the answer
   * says `Settling`): read again.
   */
  async head(timeoutMs = 5000): Promise<number> {
    const t0 = Date.now();
    for (;;) {
      const page = await this.api.changes({});
      if (page.settling !== true) return page.cursor.pos;
      assert.ok(
        Date.now() - t0 < timeoutMs,
        `the change feed still settling after ${timeoutMs} ms`,
      );
      await sleep(10);
    }
  }

  /** What CheckSecurityGroupTraffic says: egress at the sender and ingress at the receiver. */
  async verdict(f: Flow & { sport: number }): Promise<boolean> {
    const src = f.fromIp ?? f.from.ip;
    const dst = f.toIp ?? f.to.ip;
    const ports = f.proto !== 'icmp';
    const at = (eni: Eni, direction: string, local: string, peer: string, lp: number, pp: number) =>
      this.api.check({
        NetworkInterfaceId: eni.id,
        Direction: direction,
        IpProtocol: f.proto,
        LocalIp: local,
        PeerIp: peer,
        ...(ports ? { LocalPort: String(lp), PeerPort: String(pp) } : {}),
      });
    const egress = await at(f.from, 'egress', src, dst, f.sport, f.port ?? 0);
    const ingress = await at(f.to, 'ingress', dst, src, f.port ?? 0, f.sport);
    return egress === 'accept' && ingress === 'accept';
  }

  /**
   * What the kernel does with the flow's first packet (and the reply): passes or drops.
   * `expectPass`: a timeout is tried again with a longer wait before it counts as a drop.
   */
  kernel(f: Flow & { sport: number }, expectPass = true, timeoutMs = 300): Promise<boolean> {
    const p = this.prober(f.from.id);
    const to = f.toIp ?? f.to.ip;
    const from = f.fromIp ?? f.from.ip;
    if (f.proto === 'icmp') return p.passes({ op: 'ping', to, from }, timeoutMs, expectPass);
    const probe = { op: f.proto, to, port: f.port!, from, sport: f.sport };
    return p.passes(probe, timeoutMs, expectPass);
  }

  /** Asserts that the API and the kernel both decide `want` for each flow (all at once). */
  async expectFlows(flows: readonly (readonly [Flow, boolean])[]): Promise<void> {
    const failures = await Promise.all(
      flows.map(async ([flow, want]) => {
        const f = { ...flow, sport: flow.sport ?? freshPort() };
        const expect = want ? 'should pass' : 'should drop';
        if ((await this.verdict(f)) !== want) {
          return `CheckSecurityGroupTraffic on ${showFlow(f)}: ${expect}`;
        }
        if ((await this.kernel(f, want)) !== want) return `the kernel on ${showFlow(f)}: ${expect}`;
        return null;
      }),
    );
    assert.deepEqual(
      failures.filter((x) => x !== null),
      [],
    );
  }

  async stop(): Promise<void> {
    for (const p of this.probers.values()) p.stop();
    if (this.vpc) {
      const r = await runCli(['lab', 'down', '--vpc', this.vpc], { timeoutMs: 30_000 });
      assert.equal(r.code, 0, `lab down: ${r.stdout}${r.stderr}`);
    }
    await this.srv.stop();
  }
}
