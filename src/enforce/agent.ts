/**
 * The agent: keeps the kernel enforcing the rules of the interfaces plugged into this host.
 *
 * 1. Fail closed: before it asks the service anything, every bound port without an entry in
 *    the kernel's table gets one that drops new flows. Ports the kernel enforces already (an
 *    agent that restarts) keep their rules until the new ones are in place.
 * 2. Follow the change feed (a snapshot first, then long polls from the cursor).
 * 3. After each page: compile the desired table, diff it against the kernel's (read from the
 *    kernel at start, after any failure and every `resyncMs`; otherwise what the last
 *    transaction left), apply the difference as one `nft -f` transaction. A failed
 *    transaction changes nothing; the agent re-reads the kernel and tries again, with backoff.
 * 4. Tracked connections the new rules would not accept are deleted from conntrack, so their
 *    next packet is judged by the rules; connections still acceptable are left alone.
 *
 * Killed, it leaves the kernel enforcing the last rules it applied.
 */
import { type Cursor, formatCursor } from '../domain/feed.js';
import type { FeedState } from '../feed/state.js';
import type { Logger } from '../log.js';
import {
  type Binding,
  type CompileOptions,
  compile,
  failClosed,
  type PortPlan,
} from './compile.js';
import type { Conntrack } from './conntrack.js';
import { plan, planFailClosed } from './diff.js';
import type { PageSource } from './feed-client.js';
import { sleep } from './feed-client.js';
import { expected, type KernelState } from './kernel.js';
import { AgentModel } from './model.js';
import type { Nft } from './nft.js';

/** Plugs and unplugs ports around each transaction (the lab; a hypervisor does it itself). */
export interface Plumber {
  /** Before the table changes: what is no longer wanted goes (it is still filtered). */
  before(ports: readonly PortPlan[]): Promise<void>;
  /** After: new ports and addresses come (their rules are in force already). */
  after(ports: readonly PortPlan[]): Promise<void>;
}

export interface AgentStatus {
  readonly pid: number;
  readonly startedAt: string;
  readonly table: string;
  /** The last cursor received, and the one the kernel enforces. */
  readonly cursor: string | null;
  readonly appliedCursor: string | null;
  /** The first complete sync is done: every known port enforces its rules. */
  readonly synced: boolean;
  readonly lastError: string | null;
  readonly lastErrorAt: string | null;
  /** nft transactions applied, and the duration of the last. */
  readonly transactions: number;
  readonly lastApplyMs: number | null;
  /** Tracked connections deleted so far. */
  readonly flowsDeleted: number;
  /**
   * The cursor whose rules the tracked connections were last checked against: none that the
   * rules at this cursor drop is left (trails `appliedCursor` while a check runs).
   */
  readonly cleanedCursor: string | null;
  /** Pages received, and how many of them were snapshots (one, unless a cursor could not resume). */
  readonly pages: number;
  readonly snapshots: number;
  readonly ports: readonly PortPlan[];
  readonly rssBytes: number;
}

export interface AgentOptions extends CompileOptions {
  readonly feed: PageSource;
  readonly nft: Nft;
  readonly conntrack?: Conntrack;
  /** The ports to enforce, given what the feed shows (fixed, or a lab's every interface). */
  readonly bindings: (state: FeedState) => readonly Binding[];
  readonly plumber?: Plumber;
  readonly onStatus?: (s: AgentStatus) => void;
  readonly log: Logger;
  /** How often the kernel's table is read again to notice drift (default 30 s). */
  readonly resyncMs?: number;
}

export class Agent {
  readonly model = new AgentModel();
  private kernel: KernelState | null | undefined = undefined;
  private readonly abort = new AbortController();
  private dirty = false;
  private wake: (() => void) | null = null;
  private loops: Promise<void>[] = [];
  private applied: Cursor | null = null;
  private synced = false;
  private lastError: string | null = null;
  private lastErrorAt: string | null = null;
  private transactions = 0;
  private lastApplyMs: number | null = null;
  private flowsDeleted = 0;
  private pages = 0;
  private snapshots = 0;
  private ports: readonly PortPlan[] = [];
  private readonly startedAt = new Date().toISOString();
  private readonly syncedWaiters: (() => void)[] = [];
  private resync: NodeJS.Timeout | undefined;
  private cleaning = false;
  private cleaned: Promise<void> = Promise.resolve();
  private cleanPorts: {
    readonly ports: readonly PortPlan[];
    readonly cursor: Cursor | null;
  } | null = null;
  private cleanedTo: Cursor | null = null;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly opts: AgentOptions) {}

  /** Fails the ports closed, then follows the feed; resolves once the ports are closed. */
  async start(): Promise<void> {
    const bindings = this.opts.bindings(this.model.state);
    const kernel = await this.opts.nft.read();
    const cmds = planFailClosed(kernel, failClosed(this.opts, bindings));
    await this.opts.nft.apply(cmds);
    this.kernel = undefined; // read again before the first diff
    this.report();
    this.loops = [this.follow(), this.syncLoop()];
    this.resync = setInterval(() => {
      this.kernel = undefined;
      this.markDirty();
    }, this.opts.resyncMs ?? 30_000);
    this.resync.unref();
    // the feed's troubles (a server away) and the memory show without a change
    this.heartbeat = setInterval(() => this.report(), 1000);
    this.heartbeat.unref();
  }

  /** Resolves after the first complete sync. */
  whenSynced(): Promise<void> {
    return this.synced ? Promise.resolve() : new Promise((r) => this.syncedWaiters.push(r));
  }

  async stop(): Promise<void> {
    clearInterval(this.resync);
    clearInterval(this.heartbeat);
    this.abort.abort();
    this.wake?.();
    await Promise.allSettled([...this.loops, this.cleaned]);
  }

  /** Apply the model to the kernel now (it changed outside the feed: the lab's plumbing). */
  markDirty(): void {
    this.dirty = true;
    this.wake?.();
  }

  private async follow(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      try {
        const page = await this.opts.feed.next(this.model.state.cursor, signal);
        this.model.apply(page);
        this.pages++;
        if (page.snapshot !== null) this.snapshots++;
        this.markDirty();
      } catch (e) {
        if (signal.aborted) return;
        this.fail('applying a feed page', e);
        await sleep(1000, signal);
      }
    }
  }

  private async syncLoop(): Promise<void> {
    const signal = this.abort.signal;
    let backoff = 100;
    while (!signal.aborted) {
      if (!this.dirty) {
        await new Promise<void>((r) => {
          this.wake = r;
        });
        this.wake = null;
        continue;
      }
      this.dirty = false;
      if (this.model.state.cursor === null) continue; // nothing known yet: stay closed
      try {
        await this.syncOnce();
        backoff = 100;
      } catch (e) {
        if (signal.aborted) return;
        this.fail('applying the rules', e);
        this.kernel = undefined;
        this.dirty = true;
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }

  private async syncOnce(): Promise<void> {
    const state = this.model.state;
    const cursor = state.cursor;
    const compiled = compile(state, this.opts.bindings(state), this.opts);
    await this.opts.plumber?.before(compiled.ports);
    if (this.kernel === undefined) this.kernel = await this.opts.nft.read();
    const cmds = plan(this.kernel, compiled.ruleset);
    if (cmds.length > 0) {
      const t0 = performance.now();
      try {
        await this.opts.nft.apply(cmds);
      } catch (e) {
        this.kernel = undefined;
        throw e;
      }
      this.lastApplyMs = performance.now() - t0;
      this.transactions++;
      this.kernel = expected(compiled.ruleset);
      this.opts.log.debug(`applied ${cmds.length} nft commands at ${cursor?.pos}`);
    }
    await this.opts.plumber?.after(compiled.ports);
    const first = !this.synced;
    this.ports = compiled.ports;
    this.applied = cursor;
    this.synced = true;
    this.lastError = null;
    this.report();
    if (first) for (const w of this.syncedWaiters.splice(0)) w();
    // a check still running judges older rules: one more follows for these
    if (cmds.length > 0 || first || this.cleaning) this.scheduleClean(compiled.ports, cursor);
    else this.cleanedTo = cursor;
  }

  /**
   * Flow checks run beside the sync loop, one at a time, the latest ports winning: listing
   * and judging every tracked connection must not delay the next transaction.
   */
  private scheduleClean(ports: readonly PortPlan[], cursor: Cursor | null): void {
    this.cleanPorts = { ports, cursor };
    if (this.cleaning) return;
    this.cleaning = true;
    this.cleaned = (async () => {
      try {
        while (this.cleanPorts !== null && !this.abort.signal.aborted) {
          const next = this.cleanPorts;
          this.cleanPorts = null;
          if (await this.cleanFlows(next.ports)) {
            this.cleanedTo = next.cursor;
            this.report();
          }
        }
      } finally {
        // in the same step as the loop's last check: a request made after it starts anew
        this.cleaning = false;
      }
    })();
  }

  /** Deletes the tracked flows the rules now in force would not accept; false if it failed. */
  private async cleanFlows(ports: readonly PortPlan[]): Promise<boolean> {
    const ct = this.opts.conntrack;
    if (!ct) return true;
    try {
      const enforced = new Set(ports.filter((p) => p.state === 'enforcing').map((p) => p.eniId));
      // connections already over carry nothing more (a new one on the same ports starts anew)
      const live = (await ct.list()).filter((f) => f.state !== 'TIME_WAIT' && f.state !== 'CLOSE');
      const doomed = this.model.condemned(live, enforced);
      if (doomed.length === 0) return true;
      await ct.remove(doomed);
      this.flowsDeleted += doomed.length;
      this.opts.log.info(`deleted ${doomed.length} tracked connection(s) the rules now drop`);
      return true;
    } catch (e) {
      this.fail('deleting tracked connections', e);
      return false;
    }
  }

  private fail(what: string, e: unknown): void {
    const msg = `${what}: ${(e as Error).message ?? String(e)}`;
    if (msg !== this.lastError) this.opts.log.warn(msg);
    this.lastError = msg;
    this.lastErrorAt = new Date().toISOString();
    this.report();
  }

  status(): AgentStatus {
    const cursor = this.model.state.cursor;
    return {
      pid: process.pid,
      startedAt: this.startedAt,
      table: this.opts.table,
      cursor: cursor ? formatCursor(cursor) : null,
      appliedCursor: this.applied ? formatCursor(this.applied) : null,
      synced: this.synced,
      lastError: this.lastError ?? this.opts.feed.lastError ?? null,
      lastErrorAt: this.lastErrorAt,
      transactions: this.transactions,
      lastApplyMs: this.lastApplyMs,
      flowsDeleted: this.flowsDeleted,
      cleanedCursor: this.cleanedTo ? formatCursor(this.cleanedTo) : null,
      pages: this.pages,
      snapshots: this.snapshots,
      ports: this.ports,
      rssBytes: process.memoryUsage().rss,
    };
  }

  private report(): void {
    this.opts.onStatus?.(this.status());
  }
}
