/**
 * The "store" section: write and read throughput through the store, at 32 keep-alive
 * connections, with ONE node and with TWO nodes on the same database (connections split
 * round-robin over the nodes), next to the bare node:http baseline of bench/http.ts.
 *
 *   npm run bench -- --only store [--store sqlite|postgres]
 *
 * - AuthorizeSecurityGroup: every request adds a new, distinct rule (distinct port and
 *   CIDR), spread over groups created first, as many as a one-second probe of the rate says
 *   the run needs (three times over), so no group reaches its 100-rule limit.
 * - DescribeSecurityGroupAttribute of a group holding 100 rules.
 *
 * Every request is a real v1-signed GET with a fresh nonce. PostgreSQL: the database is
 * TEST_DATABASE_URL or DATABASE_URL (a role that may CREATE DATABASE), else a cluster
 * started with scripts/pg-cluster.sh in /tmp/ecs-secgroup-pg; each measurement gets a
 * fresh database. SQLite has no two-node figure (one process owns the file).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { encodeParams, v1Params } from '../test/helpers/sign.js';
import { startServer, type TestServer } from '../test/helpers/spawn.js';
import { startBare } from './http.js';
import { formatResult, type LoadResult, type RequestSpec, runLoad } from './load.js';

export interface StoreBenchOptions {
  store?: 'sqlite' | 'postgres';
  durationMs?: number;
  warmupMs?: number;
  connections?: number;
}

export interface StoreBenchRow {
  action: 'AuthorizeSecurityGroup' | 'DescribeSecurityGroupAttribute';
  store: 'sqlite' | 'postgres';
  /** 1 or 2 nodes on one database. */
  nodes: number;
  result: LoadResult;
  /** The bare node:http server answering a body of the same size. */
  bare: LoadResult;
  ratio: number;
}

const ECS = '2014-05-26';
const R = 'cn-hangzhou';
const CLUSTER_DIR = '/tmp/ecs-secgroup-pg';
const SCRIPT = resolve(import.meta.dirname, '../../scripts/pg-cluster.sh');
const run = promisify(execFile);

function signed(params: Record<string, string>): RequestSpec {
  const all = v1Params('GET', { Version: ECS, RegionId: R, ...params }, { format: 'JSON' });
  return { method: 'GET', path: `/?${encodeParams(all)}` };
}

/** Sends one request; its JSON body and size (the call must succeed). */
async function send(srv: TestServer, spec: RequestSpec) {
  const res = await fetch(`${srv.url}${spec.path}`);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${res.status} ${text}`);
  return { body: JSON.parse(text), bytes: Buffer.byteLength(text) };
}

const call = (srv: TestServer, params: Record<string, string>) => send(srv, signed(params));

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>) {
  let i = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (i < items.length) await fn(items[i++]!);
    }),
  );
}

/** The admin URL of the PostgreSQL server to use. */
async function postgresAdminUrl(): Promise<string> {
  const env = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (env) return env;
  const { stdout } = await run('bash', [SCRIPT, 'start', CLUSTER_DIR], { timeout: 300_000 });
  const line = stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('DATABASE_URL=')) throw new Error(`pg-cluster.sh said: ${stdout}`);
  return line.slice('DATABASE_URL='.length);
}

/** Where the nodes keep their state: a fresh PostgreSQL database per call, or SQLite. */
class Databases {
  private readonly created: string[] = [];
  private constructor(private readonly adminUrl: string | null) {}

  static async open(store: 'sqlite' | 'postgres'): Promise<Databases> {
    return new Databases(store === 'postgres' ? await postgresAdminUrl() : null);
  }

  private async admin(sql: string) {
    const c = new pg.Client({ connectionString: this.adminUrl! });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  }

  /** Starts `nodes` servers sharing one fresh database. */
  async nodes(count: number): Promise<TestServer[]> {
    const common = [
      '--log-level',
      'warn',
      '--max-groups-per-region',
      '100000',
      '--throttle-rate',
      '0',
    ];
    if (this.adminUrl === null) {
      return [await startServer({ args: ['--store', 'sqlite', ...common] })];
    }
    const name = `ecssg_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
    await this.admin(`CREATE DATABASE ${name}`);
    this.created.push(name);
    const u = new URL(this.adminUrl);
    u.pathname = `/${name}`;
    const url = u.toString();
    return Promise.all(
      Array.from({ length: count }, () => startServer({ args: ['--store', url, ...common] })),
    );
  }

  async close() {
    for (const name of this.created.splice(0)) {
      await this.admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
    }
  }
}

/** The load split over `targets` by connection (connection i → node i mod n), merged. */
async function splitLoad(
  targets: TestServer[],
  connections: number,
  durationMs: number,
  warmupMs: number,
  request: () => RequestSpec,
): Promise<LoadResult> {
  const parts = await Promise.all(
    targets.map((t, k) =>
      runLoad({
        url: t.url,
        connections:
          Math.floor(connections / targets.length) + (k < connections % targets.length ? 1 : 0),
        durationMs,
        warmupMs,
        request,
      }),
    ),
  );
  if (parts.length === 1) return parts[0]!;
  const requests = parts.reduce((s, p) => s + p.requests, 0);
  // Percentiles cannot be merged exactly: the worse node's are reported.
  return {
    connections,
    durationMs,
    requests,
    errors: parts.reduce((s, p) => s + p.errors, 0),
    rps: parts.reduce((s, p) => s + p.rps, 0),
    p50Ms: Math.max(...parts.map((p) => p.p50Ms)),
    p99Ms: Math.max(...parts.map((p) => p.p99Ms)),
    meanMs: parts.reduce((s, p) => s + p.meanMs * p.requests, 0) / Math.max(1, requests),
    maxMs: Math.max(...parts.map((p) => p.maxMs)),
    firstError: parts.find((p) => p.firstError)?.firstError,
  };
}

/** Creates `count` groups, spread over the nodes. */
async function groups(nodes: TestServer[], count: number): Promise<string[]> {
  const ids: string[] = [];
  await pool(
    Array.from({ length: count }, (_, i) => i),
    // Creates serialise on the account's quota lock: keep the queue short.
    4,
    async (i) => {
      const { body } = await call(nodes[i % nodes.length]!, { Action: 'CreateSecurityGroup' });
      ids.push(body.SecurityGroupId);
    },
  );
  return ids;
}

/** The AuthorizeSecurityGroup request of the `k`-th rule of a group (`i` makes it distinct). */
function authorizeRequest(groupId: string, i: number, k: number): RequestSpec {
  return signed({
    Action: 'AuthorizeSecurityGroup',
    SecurityGroupId: groupId,
    IpProtocol: 'tcp',
    PortRange: `${1000 + k}/${1000 + k}`,
    SourceCidrIp: `10.${(i >> 8) & 255}.${i & 255}.0/24`,
  });
}

/**
 * Distinct ingress rules as signed requests, spread over many groups (at most 100 rules
 * each, the default limit), so concurrent writes seldom wait on one group's lock. Its
 * groups are created ahead by `ensure`, sized from a measured rate: it runs anywhere.
 */
class RuleSupply {
  private readonly groups: string[] = [];
  private next = 0;

  constructor(private readonly nodes: TestServer[]) {}

  /** Requests that can still be made. */
  get left(): number {
    return this.groups.length * 100 - this.next;
  }

  /** Creates groups, WINDOW at a time, until `count` more requests can be made. */
  async ensure(count: number): Promise<void> {
    const blocks = Math.ceil((count - this.left) / (WINDOW * 100));
    if (blocks > 0) this.groups.push(...(await groups(this.nodes, blocks * WINDOW)));
  }

  /** The next rule's request: groups are filled WINDOW at a time, round robin. */
  readonly request = (): RequestSpec => {
    const i = this.next++;
    if (i >= this.groups.length * 100) {
      throw new Error(`the rule supply ran out after ${i} requests: ensure() more first`);
    }
    const block = Math.floor(i / (WINDOW * 100));
    const offset = i - block * WINDOW * 100;
    const group = this.groups[block * WINDOW + (offset % WINDOW)]!;
    return authorizeRequest(group, i, Math.floor(offset / WINDOW));
  };
}

/** Groups written at once by the Authorize run. */
const WINDOW = 64;

/** Requests shaped like the supply's, without end (for the bare server, which stores nothing). */
function authorizeLike(): () => RequestSpec {
  let i = 0;
  return () => {
    const n = i++;
    return authorizeRequest('sg-bare00000000000000', n, n % 100);
  };
}

/** Sizes `supply` for a run of warmupMs + durationMs from a one-second measurement. */
async function sizeSupply(
  supply: RuleSupply,
  nodes: TestServer[],
  connections: number,
  durationMs: number,
  warmupMs: number,
): Promise<void> {
  await supply.ensure(4 * WINDOW * 100); // the probe's own: up to 25,600 requests a second
  const probe = await splitLoad(nodes, connections, 1000, 0, supply.request);
  // three times the measured rate: a warmed-up server is faster than a cold one
  await supply.ensure(Math.ceil(((probe.rps * (durationMs + warmupMs)) / 1000) * 3) + 1000);
}

export async function benchStore(opts: StoreBenchOptions = {}): Promise<StoreBenchRow[]> {
  const store = opts.store ?? 'sqlite';
  const durationMs = opts.durationMs ?? 3000;
  const warmupMs = opts.warmupMs ?? 1000;
  const connections = opts.connections ?? 32;
  const dbs = await Databases.open(store);
  const rows: StoreBenchRow[] = [];
  const bareFor = new Map<number, LoadResult>();
  /** The bare server answering `bytes`-byte bodies, measured once per size. */
  const bare = async (bytes: number, request: () => RequestSpec) => {
    let r = bareFor.get(bytes);
    if (!r) {
      const b = await startBare(Buffer.alloc(bytes, 'x'), 'application/json;charset=utf-8');
      try {
        r = await runLoad({ url: b.url, connections, durationMs, warmupMs, request });
      } finally {
        await b.stop();
      }
      bareFor.set(bytes, r);
    }
    return r;
  };
  const report = (row: StoreBenchRow) => {
    rows.push(row);
    const label = `${row.action} ${row.store} ${row.nodes} node${row.nodes > 1 ? 's' : ''}`;
    console.log(`  ${label.padEnd(44)} ${formatResult(row.result)}`);
    console.log(`  ${''.padEnd(44)} ratio to bare ${row.ratio.toFixed(2)}`);
  };

  console.log(
    `store ${store}: c=${connections}, ${durationMs} ms after ${warmupMs} ms warm-up (two nodes: p50/p99 of the slower node)`,
  );
  const counts = store === 'postgres' ? [1, 2] : [1];
  try {
    for (const count of counts) {
      const nodes = await dbs.nodes(count);
      try {
        // Writes: a new rule per request.
        const supply = new RuleSupply(nodes);
        await sizeSupply(supply, nodes, connections, durationMs, warmupMs);
        const okBytes = (await send(nodes[0]!, supply.request())).bytes;
        const result = await splitLoad(nodes, connections, durationMs, warmupMs, supply.request);
        const base = await bare(okBytes, authorizeLike());
        report({
          action: 'AuthorizeSecurityGroup',
          store,
          nodes: count,
          result,
          bare: base,
          ratio: result.rps / base.rps,
        });

        // Reads: a group with 100 rules.
        const [target] = await groups(nodes, 1);
        for (let k = 0; k < 100; k++) {
          await send(nodes[k % count]!, authorizeRequest(target!, k, k));
        }
        const describe = () =>
          signed({ Action: 'DescribeSecurityGroupAttribute', SecurityGroupId: target! });
        const sample = await call(nodes[0]!, {
          Action: 'DescribeSecurityGroupAttribute',
          SecurityGroupId: target!,
        });
        if (sample.body.Permissions.Permission.length !== 100) {
          throw new Error('the read target does not hold 100 rules');
        }
        const read = await splitLoad(nodes, connections, durationMs, warmupMs, describe);
        const readBase = await bare(sample.bytes, describe);
        report({
          action: 'DescribeSecurityGroupAttribute',
          store,
          nodes: count,
          result: read,
          bare: readBase,
          ratio: read.rps / readBase.rps,
        });
      } finally {
        await Promise.all(nodes.map((n) => n.stop()));
      }
    }
  } finally {
    await dbs.close();
  }
  return rows;
}
