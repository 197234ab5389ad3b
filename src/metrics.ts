/**
 * Prometheus metrics (prom-client), served at `/metrics` on a port of their own
 * (`--metrics-port`, off by default): requests by action and code, latency, the model's size,
 * engine decisions, store commits, remembered nonces, throttled requests, and the PostgreSQL
 * pool when there is one.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { CommitInfo } from './domain/store.js';
import type { RequestRecord } from './log.js';
import type { NonceStats } from './nonces/window.js';

export interface MetricSources {
  engine(): { stats(): { groups: number; rules: number; interfaces: number }; decisions: number };
  nonces(): NonceStats;
  throttled(): number;
  pool?(): { total: number; idle: number; waiting: number };
}

export class Metrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'ecs_secgroup_requests_total',
    help: 'API requests answered, by action and error code ("" for a success)',
    labelNames: ['action', 'code'] as const,
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'ecs_secgroup_request_duration_seconds',
    help: 'Time from a request arriving to its answer being written, by action',
    labelNames: ['action'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly commitLatency = new Histogram({
    name: 'ecs_secgroup_store_commit_duration_seconds',
    help: 'Duration of store commits',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  private readonly commitBatch = new Histogram({
    name: 'ecs_secgroup_store_commit_transactions',
    help: 'Transactions made durable by one commit (SQLite group commit; 1 on PostgreSQL)',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [this.registry],
  });

  constructor(sources: MetricSources) {
    const r = this.registry;
    collectDefaultMetrics({ register: r, prefix: 'ecs_secgroup_process_' });
    new Gauge({
      name: 'ecs_secgroup_model_objects',
      help: 'Objects the decision engine holds, by kind',
      labelNames: ['kind'] as const,
      registers: [r],
      collect() {
        const s = sources.engine().stats();
        this.set({ kind: 'groups' }, s.groups);
        this.set({ kind: 'rules' }, s.rules);
        this.set({ kind: 'interfaces' }, s.interfaces);
      },
    });
    new Counter({
      name: 'ecs_secgroup_engine_decisions_total',
      help: 'Packets decided by the engine',
      registers: [r],
      collect() {
        this.reset();
        this.inc(sources.engine().decisions);
      },
    });
    new Gauge({
      name: 'ecs_secgroup_nonces',
      help: 'Signature nonces remembered (on PostgreSQL: counted by this node)',
      registers: [r],
      collect() {
        this.set(sources.nonces().count);
      },
    });
    new Gauge({
      name: 'ecs_secgroup_nonce_bytes',
      help: 'Memory held for remembered nonces',
      registers: [r],
      collect() {
        this.set(sources.nonces().bytes);
      },
    });
    new Counter({
      name: 'ecs_secgroup_throttled_requests_total',
      help: 'Requests refused by the per-key throttle (Throttling.User)',
      registers: [r],
      collect() {
        this.reset();
        this.inc(sources.throttled());
      },
    });
    const pool = sources.pool;
    if (pool) {
      new Gauge({
        name: 'ecs_secgroup_pg_pool_connections',
        help: 'PostgreSQL pool connections, by state (total, idle, waiting callers)',
        labelNames: ['state'] as const,
        registers: [r],
        collect() {
          const p = pool();
          this.set({ state: 'total' }, p.total);
          this.set({ state: 'idle' }, p.idle);
          this.set({ state: 'waiting' }, p.waiting);
        },
      });
    }
  }

  /**
   * Each request's series, looked up once (prom-client hashes a label object on every call).
   * Bounded: actions are the action table's (an unauthenticated request has none), codes the
   * catalogue's.
   */
  private readonly series = new Map<
    string,
    { count: { inc(): void }; latency: { observe(v: number): void } }
  >();

  request(rec: RequestRecord): void {
    const action = rec.action || '(none)';
    const key = `${action}\n${rec.code}`;
    let s = this.series.get(key);
    if (s === undefined) {
      s = { count: this.requests.labels(action, rec.code), latency: this.latency.labels(action) };
      this.series.set(key, s);
    }
    s.count.inc();
    s.latency.observe(rec.latencyMs / 1000);
  }

  commit(c: CommitInfo): void {
    this.commitLatency.observe(c.ms / 1000);
    this.commitBatch.observe(c.transactions);
  }

  /** Serves `/metrics` on `host:port`. */
  async serve(host: string, port: number): Promise<{ server: Server; port: number }> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('see /metrics\n');
        return;
      }
      this.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': this.registry.contentType });
          res.end(text);
        },
        () => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end('metrics failed\n');
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return { server, port: (server.address() as AddressInfo).port };
  }
}
