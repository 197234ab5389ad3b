/**
 * The clustered store: PostgreSQL through a `pg` pool.
 *
 * Each `write` is one READ COMMITTED transaction on a pool connection. The domain's
 * `lockGroup` (SELECT … FOR UPDATE) and `lockGroupQuota` (transaction-scoped advisory
 * lock) serialise the transactions that must not interleave; READ COMMITTED takes a
 * fresh snapshot per statement, so whatever is read after a lock is granted includes
 * the previous holder's commit. Deadlocks and serialization failures re-run the whole
 * transaction function a few times. `read` and `snapshot` use REPEATABLE READ READ ONLY.
 *
 * Change feed: a committing write also NOTIFYs its changes (delivered by PostgreSQL
 * only if it commits, in commit order); a dedicated LISTEN connection hands other
 * nodes' changes to subscribers. Whenever changes may have been missed (the LISTEN
 * connection was lost, a payload was too large, a COMMIT's outcome is unknown), the
 * `onReload` listeners are told to rebuild from `snapshot()`.
 *
 * Availability: while the database cannot be reached, calls fail fast with the
 * ServiceUnavailable API error; connection errors never escape as 'error' events,
 * and the store recovers by itself once the database is back.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Change, CommitInfo, Store, Tx } from '../domain/store.js';
import { apiError, isApiError } from '../errors.js';
import { NonceLedger } from '../nonces/ledger.js';
import {
  type ClaimOutcome,
  DEFAULT_NONCE_LIMITS,
  type NonceCache,
  type NonceClaim,
  type NonceLimits,
  type NonceStats,
  nonceHash,
} from '../nonces/window.js';
import { MIGRATIONS, renderMigration } from './migrations.js';
import {
  changeLogTrim,
  DEFAULT_CHANGE_LOG_RETENTION,
  type Executor,
  loadSnapshot,
  type Row,
  SqlTx,
} from './sql.js';

/** The NOTIFY channel carrying committed changes between nodes. */
export const CHANGE_CHANNEL = 'ecs_secgroup_changes';
/** PostgreSQL's NOTIFY payload limit is 8000 bytes; larger change sets send a reload marker. */
const MAX_PAYLOAD_BYTES = 7900;
const MIGRATION_LOCK_KEY = 'ecs-secgroup:migrations';

export interface PostgresStoreOptions {
  /** Pool size (default 10). */
  poolSize?: number;
  /** How long to wait for a connection, new or from the pool, before failing (default 3000 ms). */
  connectTimeoutMs?: number;
  /** Server-side statement_timeout, lock waits included (default 5000 ms). */
  statementTimeoutMs?: number;
  /** Client-side timeout for one query's answer, for a silent network (default 6000 ms). */
  queryTimeoutMs?: number;
  /** How often the LISTEN connection is checked (default 5000 ms). */
  healthCheckMs?: number;
  /** How many times a transaction is run when it hits a deadlock or serialization failure (default 5). */
  maxAttempts?: number;
  /** Client-side timeout for each migration statement, and for waiting on other nodes' (default 10 minutes). */
  migrationTimeoutMs?: number;
  /** Ceilings of the signature nonces this node records (default DEFAULT_NONCE_LIMITS). */
  nonceLimits?: NonceLimits;
  /** How often expired nonces are deleted from the shared table (default 10 s). */
  noncePurgeMs?: number;
  /** Change-log positions kept (default DEFAULT_CHANGE_LOG_RETENTION). */
  changeLogRetention?: number;
  /** This node's id in change notifications (default: random). */
  nodeId?: string;
  /** Where background problems (lost connections, listener errors) are reported. */
  log?: (message: string, err?: unknown) => void;
}

type Listener = (changes: readonly Change[]) => void;

interface Notice {
  /** the sending node */
  n: string;
  /** the changes, absent when the receiver must reload */
  c?: readonly Change[];
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
]);

/** Errors that mean "the database cannot be used right now", as opposed to bugs. */
export function isUnavailableError(err: unknown): boolean {
  if (isApiError(err) || typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  if (NETWORK_CODES.has(code)) return true;
  if (code.startsWith('08')) return true; // connection_exception
  if (['57P01', '57P02', '57P03', '53300', '57014', '40001', '40P01'].includes(code)) return true;
  const msg = typeof e.message === 'string' ? e.message : '';
  if (
    /Connection terminated|timeout exceeded when trying to connect|Query read timeout|not queryable|connect ECONNREFUSED|Cannot use a pool after calling end/i.test(
      msg,
    )
  ) {
    return true;
  }
  return e.cause !== undefined && e.cause !== err && isUnavailableError(e.cause);
}

/** True for an error the server reported (it has a SQLSTATE); false for connection trouble. */
function isServerError(err: unknown): boolean {
  return err instanceof pg.DatabaseError;
}

function sqlState(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

function unavailable(cause: unknown): Error {
  const e = apiError('ServiceUnavailable');
  (e as { cause?: unknown }).cause = cause;
  return e;
}

/** Converts `?` placeholders to `$1..$n`, leaving quoted text alone. */
export function toPositional(sql: string): string {
  let out = '';
  let n = 0;
  let quote: string | null = null;
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
    } else if (ch === '?') {
      out += `$${++n}`;
      continue;
    }
    out += ch;
  }
  return out;
}

const prepared = new Map<string, { name: string; text: string }>();
/**
 * A named prepared statement for `sql` (`?` placeholders become `$n`): PostgreSQL parses
 * and plans it once per connection instead of on every call (pg tracks which connections
 * have it).
 */
function statement(sql: string, values: readonly unknown[]): pg.QueryConfig {
  let s = prepared.get(sql);
  if (s === undefined) {
    s = { name: `ecssg_${prepared.size}`, text: toPositional(sql) };
    prepared.set(sql, s);
  }
  return { name: s.name, text: s.text, values: values as unknown[] };
}

/** Statements that may hit a unique constraint the domain expects to catch and go on from. */
const GUARDED = /^\s*UPDATE\s+rules\b/i;

class PgExecutor implements Executor {
  readonly forUpdate = ' FOR UPDATE';
  readonly changeLog = {
    position: 'txid',
    horizon: 'pg_snapshot_xmin(pg_current_snapshot())::text::bigint',
  };
  private savepoints = 0;

  constructor(private readonly client: pg.PoolClient) {}

  async all(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    const res = await this.client.query(statement(sql, params));
    return res.rows as Row[];
  }

  async run(sql: string, params: readonly unknown[] = []): Promise<void> {
    if (!GUARDED.test(sql)) {
      await this.client.query(statement(sql, params));
      return;
    }
    // In PostgreSQL a failed statement aborts the whole transaction; a savepoint keeps
    // it usable when the caller turns a unique violation into DuplicateRuleError.
    const sp = `s${++this.savepoints}`;
    await this.client.query(`SAVEPOINT ${sp}`);
    try {
      await this.client.query(statement(sql, params));
    } catch (err) {
      if (isServerError(err)) await this.client.query(`ROLLBACK TO SAVEPOINT ${sp}`);
      throw err;
    }
    await this.client.query(`RELEASE SAVEPOINT ${sp}`);
  }

  async insertReturningSeq(sql: string, params: readonly unknown[]): Promise<number> {
    // ON CONFLICT DO NOTHING reports a duplicate without aborting the transaction.
    const res = await this.client.query(
      statement(`${sql} ON CONFLICT DO NOTHING RETURNING seq`, params),
    );
    const row = res.rows[0] as Row | undefined;
    if (row === undefined) {
      throw Object.assign(new Error('duplicate key value violates unique constraint'), {
        code: '23505',
      });
    }
    return Number(row.seq);
  }

  async lock(key: string): Promise<void> {
    await this.client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [key]);
  }

  isUniqueViolation(err: unknown): boolean {
    return sqlState(err) === '23505';
  }
}

/** Expired rows deleted per statement (and per purge round): bounded work per round. */
const NONCE_PURGE_BATCH = 20_000;

/**
 * Replay protection shared by every node: a table of nonce fingerprints and expiries; a
 * nonce is fresh when absent or expired. The ceilings are this node's: it counts the nonces
 * it recorded, per AccessKeyId, in time buckets (no fingerprints kept), so the table holds
 * at most (nodes × maxTotal) unexpired rows. Expired rows are deleted every `purgeMs`.
 */
interface NonceWaiter {
  hash: string;
  expiresAtMs: number;
  nowMs: number;
  resolve(fresh: boolean): void;
  reject(err: unknown): void;
}

/** Claims recorded per statement at most. */
const NONCE_BATCH = 512;

export class PostgresNonceCache implements NonceCache {
  private readonly ledger: NonceLedger;
  private lastPurge = 0;
  private purging = false;
  /** Claims waiting for the statement in flight to return. */
  private waiting: NonceWaiter[] = [];
  private sending = false;

  constructor(
    private readonly pool: pg.Pool,
    limits: NonceLimits,
    private readonly purgeMs: number,
    private readonly log: (message: string, err?: unknown) => void = () => {},
  ) {
    this.ledger = new NonceLedger(limits, false);
  }

  async claim(c: NonceClaim): Promise<ClaimOutcome> {
    this.ledger.expire(c.nowMs);
    const over = this.ledger.ceiling(c.accessKeyId);
    if (over !== null) return over;
    const [hi, lo] = nonceHash(c.accessKeyId, c.nonce);
    const hash = BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString();
    const fresh = await new Promise<boolean>((resolve, reject) => {
      this.waiting.push({ hash, expiresAtMs: c.expiresAtMs, nowMs: c.nowMs, resolve, reject });
      if (!this.sending) this.send();
    });
    if (c.nowMs - this.lastPurge >= this.purgeMs) this.purge(c.nowMs);
    if (!fresh) return 'used';
    this.ledger.add(c.accessKeyId, hi, lo, c.expiresAtMs);
    return 'fresh';
  }

  /**
   * Records the waiting claims in one statement, and the claims that arrive meanwhile in the
   * next: one round trip for many requests under load, none of waiting when idle. A nonce
   * claimed twice in one batch is fresh once.
   */
  private send(): void {
    const batch = this.waiting.splice(0, NONCE_BATCH);
    if (batch.length === 0) {
      this.sending = false;
      return;
    }
    this.sending = true;
    const first = new Map<string, NonceWaiter>();
    const repeats: NonceWaiter[] = [];
    for (const w of batch) {
      if (first.has(w.hash)) repeats.push(w);
      else first.set(w.hash, w);
    }
    const rows = [...first.values()];
    this.pool
      .query(
        'INSERT INTO nonce_hashes (hash, expires_at) ' +
          'SELECT * FROM unnest($1::bigint[], $2::bigint[]) ' +
          'ON CONFLICT (hash) DO UPDATE SET expires_at = EXCLUDED.expires_at ' +
          'WHERE nonce_hashes.expires_at <= $3 RETURNING hash',
        [
          rows.map((w) => w.hash),
          rows.map((w) => w.expiresAtMs),
          Math.max(...rows.map((w) => w.nowMs)),
        ],
      )
      .then(
        (res) => {
          const claimed = new Set(res.rows.map((r: { hash: string }) => String(r.hash)));
          for (const w of rows) w.resolve(claimed.has(w.hash));
          for (const w of repeats) w.resolve(false);
        },
        (err) => {
          const e = isUnavailableError(err) ? unavailable(err) : err;
          for (const w of batch) w.reject(e);
        },
      )
      .finally(() => this.send());
  }

  stats(): NonceStats {
    return this.ledger.stats();
  }

  /** Deletes expired rows in batches, in the background, one round at a time. */
  private purge(nowMs: number): void {
    if (this.purging) return;
    this.purging = true;
    this.lastPurge = nowMs;
    (async () => {
      for (let round = 0; round < 50; round++) {
        const r = await this.pool.query(
          statement(
            'DELETE FROM nonce_hashes WHERE hash IN ' +
              '(SELECT hash FROM nonce_hashes WHERE expires_at <= ? LIMIT ?)',
            [nowMs, NONCE_PURGE_BATCH],
          ),
        );
        if ((r.rowCount ?? 0) < NONCE_PURGE_BATCH) break;
      }
    })()
      .catch((err) => this.log('purging expired nonces failed', err))
      .finally(() => {
        this.purging = false;
      });
  }
}

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly nodeId: string;
  readonly nonces: PostgresNonceCache;
  private readonly listeners: Listener[] = [];
  private readonly reloadListeners: (() => void)[] = [];
  private readonly commitListeners: ((c: CommitInfo) => void)[] = [];
  private readonly maxAttempts: number;
  private readonly log: (message: string, err?: unknown) => void;
  private closed = false;
  private feed: ChangeFeed | null = null;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly url: string,
    private readonly opts: PostgresStoreOptions,
  ) {
    this.nodeId = opts.nodeId ?? randomUUID();
    this.maxAttempts = opts.maxAttempts ?? 5;
    this.log = opts.log ?? (() => {});
    this.nonces = new PostgresNonceCache(
      pool,
      opts.nonceLimits ?? DEFAULT_NONCE_LIMITS,
      opts.noncePurgeMs ?? 10_000,
      this.log,
    );
  }

  static async open(url: string, opts: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const log = opts.log ?? (() => {});
    const pool = new pg.Pool({
      ...clientConfig(url, opts, true),
      max: opts.poolSize ?? 10,
      idleTimeoutMillis: 30_000,
    });
    // An idle client that loses its connection is removed by the pool, which then emits
    // 'error'; a checked-out client emits 'error' itself. Neither may crash the process.
    pool.on('error', (err) => log('idle PostgreSQL connection lost', err));
    pool.on('connect', (client) => {
      client.on('error', (err) => log('PostgreSQL connection lost', err));
    });
    const store = new PostgresStore(pool, url, opts);
    try {
      await store.migrate();
      store.feed = new ChangeFeed(url, opts, store.nodeId, log, {
        changes: (c) => store.emit(c),
        reload: () => store.emitReload(),
      });
      await store.feed.start();
    } catch (err) {
      await store.close().catch(() => {});
      throw err;
    }
    return store;
  }

  /**
   * Applies pending migrations under a session advisory lock, so that nodes starting
   * together apply each one once; each runs in its own transaction and is recorded in
   * schema_migrations. Returns the versions this call applied.
   */
  async migrate(): Promise<number[]> {
    // A connection of its own: waiting for another node's migrations, or running a long
    // one, must not hit the statement timeouts meant for API calls.
    const client = new pg.Client({
      ...clientConfig(this.url, this.opts),
      statement_timeout: 0,
      query_timeout: this.opts.migrationTimeoutMs ?? 10 * 60 * 1000,
    });
    client.on('error', (err) => this.log('migration connection lost', err));
    await client.connect();
    const applied: number[] = [];
    try {
      await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [MIGRATION_LOCK_KEY]);
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
      );
      const done = new Set(
        (await client.query('SELECT version FROM schema_migrations')).rows.map((r) =>
          Number(r.version),
        ),
      );
      for (const m of MIGRATIONS) {
        if (done.has(m.version)) continue;
        await client.query('BEGIN');
        try {
          for (const s of m.statements) {
            const sql = renderMigration(s, 'postgres');
            if (sql !== null) await client.query(sql);
          }
          await client.query(
            'INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)',
            [m.version, m.name, new Date().toISOString()],
          );
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {});
          throw err;
        }
        applied.push(m.version);
      }
    } finally {
      // Ending the session releases the advisory lock.
      await client.end().catch(() => {});
    }
    return applied;
  }

  write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.transaction('BEGIN', fn, true);
  }

  committedVersion(): undefined {
    return undefined; // other nodes commit too, and their changes arrive late
  }

  /** One statement outside a transaction: it reads one consistent view by itself. */
  async groupVersions(groupIds: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (groupIds.length === 0) return out;
    if (this.closed) throw apiError('ServiceUnavailable');
    let res: pg.QueryResult;
    try {
      res = await this.pool.query(
        statement('SELECT id, version FROM security_groups WHERE id = ANY(?)', [[...groupIds]]),
      );
    } catch (err) {
      throw isUnavailableError(err) ? unavailable(err) : err;
    }
    for (const r of res.rows as Row[]) out.set(String(r.id), Number(r.version));
    return out;
  }

  read<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.transaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', fn, false);
  }

  snapshot() {
    return this.transaction(
      'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
      (_tx, exec) => loadSnapshot(exec),
      false,
    );
  }

  subscribe(listener: Listener): void {
    this.listeners.push(listener);
  }

  onCommit(listener: (commit: CommitInfo) => void): void {
    this.commitListeners.push(listener);
  }

  /** The connection pool now: connections open, idle, and callers waiting for one. */
  poolStats(): { total: number; idle: number; waiting: number } {
    return {
      total: this.pool.totalCount,
      idle: this.pool.idleCount,
      waiting: this.pool.waitingCount,
    };
  }

  /**
   * `listener` is called when subscribers may have missed changes (the change feed was
   * interrupted, or another node's change set was too large to send): rebuild from
   * `snapshot()`. It is called only once the database is reachable again.
   */
  onReload(listener: () => void): void {
    this.reloadListeners.push(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.feed?.stop();
    await this.pool.end();
  }

  private emit(changes: readonly Change[]): void {
    for (const l of this.listeners) {
      try {
        l(changes);
      } catch (err) {
        this.log('change subscriber failed', err);
      }
    }
  }

  private emitReload(): void {
    for (const l of this.reloadListeners) {
      try {
        l();
      } catch (err) {
        this.log('reload listener failed', err);
      }
    }
  }

  private async transaction<T>(
    begin: string,
    fn: (tx: SqlTx, exec: Executor) => Promise<T>,
    writing: boolean,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw apiError('ServiceUnavailable');
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (err) {
        throw unavailable(err);
      }
      let broken: Error | undefined;
      let committing = false;
      let result: { value: T; changes: Change[] };
      try {
        // Pipelined and corked: BEGIN leaves in one write with the transaction's first
        // statement (issued as `fn` starts), and the change-log append and the notification
        // in one write with COMMIT (a connection sends queries without waiting for answers).
        const socket = streamOf(client);
        const exec = new PgExecutor(client);
        const tx = new SqlTx(exec);
        const [began, running] = corked(socket, () => {
          const b = client.query(begin);
          b.catch(() => {}); // its error is awaited below, or shows in the next statement
          return [b, fn(tx, exec)] as const;
        });
        const value = await running;
        await began;
        // no lock: the log's readers stop below the oldest transaction still running
        const row = writing ? tx.changeLogRow(Date.now()) : undefined;
        committing = true;
        const commitStarted = performance.now();
        const [appended, notified, committed] = corked(socket, () => {
          const a = row
            ? client.query(
                'INSERT INTO change_log (committed_at, entries) VALUES ($1, $2) RETURNING seq',
                row,
              )
            : undefined;
          const n =
            writing && tx.changes.length > 0
              ? client.query('SELECT pg_notify($1, $2)', [CHANGE_CHANNEL, this.payload(tx.changes)])
              : undefined;
          const c = client.query('COMMIT');
          for (const q of [a, n, c]) q?.catch(() => {});
          return [a, n, c] as const;
        });
        // a failed append or NOTIFY makes the COMMIT answer ROLLBACK: their errors first
        const seq = appended ? Number((await appended).rows[0].seq) : undefined;
        await notified;
        const res = await committed;
        if (seq !== undefined && res.command === 'COMMIT') this.trimChangeLog(seq);
        if (writing) {
          const commit = { ms: performance.now() - commitStarted, transactions: 1 };
          for (const l of this.commitListeners) l(commit);
        }
        // COMMIT of a transaction in which a statement failed answers ROLLBACK, not an error.
        if (res.command === 'ROLLBACK') {
          throw new Error('the transaction was rolled back: a statement in it had failed');
        }
        result = { value, changes: writing ? tx.changes : [] };
      } catch (err) {
        // A connection that timed out or broke is dropped from the pool; errors of the
        // transaction function itself (API errors, DuplicateRuleError) only roll back.
        if (!isServerError(err) && isUnavailableError(err)) broken = asError(err);
        if (!committing && !broken) {
          try {
            await client.query('ROLLBACK');
          } catch (e) {
            broken = asError(e);
          }
        }
        client.release(broken);
        const state = sqlState(err);
        if ((state === '40001' || state === '40P01') && attempt < this.maxAttempts) {
          await sleep(Math.random() * 20 * attempt);
          continue;
        }
        if (!isUnavailableError(err)) throw err;
        if (committing && writing && (!isServerError(err) || /^(08|57P)/.test(state))) {
          // The COMMIT may or may not have happened, and the feed skips this node's own
          // notifications: have subscribers rebuild once the database answers again.
          this.feed?.restart();
        }
        throw unavailable(err);
      }
      client.release();
      this.feed?.nudge(); // the database answers: a lost change feed need not wait its backoff
      if (result.changes.length > 0) this.emit(result.changes);
      return result.value;
    }
  }

  /** Deletes old change-log entries in the background when the append `seq` says it is time. */
  private trimChangeLog(seq: number): void {
    const upto = changeLogTrim(seq, this.opts.changeLogRetention ?? DEFAULT_CHANGE_LOG_RETENTION);
    if (upto === undefined) return;
    // positions at or before the last one deleted can no longer resume
    this.pool
      .query(
        'WITH gone AS (DELETE FROM change_log WHERE seq <= $1 RETURNING txid) ' +
          'UPDATE change_log_state SET trimmed_upto = ' +
          'GREATEST(trimmed_upto, (SELECT COALESCE(MAX(txid), 0) FROM gone))',
        [upto],
      )
      .catch((err) => this.log('trimming the change log failed', err));
  }

  private payload(changes: readonly Change[]): string {
    const full = JSON.stringify({ n: this.nodeId, c: changes } satisfies Notice);
    if (Buffer.byteLength(full) <= MAX_PAYLOAD_BYTES) return full;
    return JSON.stringify({ n: this.nodeId } satisfies Notice);
  }
}

/** `pipeline`: for the pool, whose transactions send queries ahead (see transaction()). */
function clientConfig(url: string, opts: PostgresStoreOptions, pipeline = false): pg.ClientConfig {
  return {
    connectionString: url,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 3000,
    statement_timeout: opts.statementTimeoutMs ?? 5000,
    query_timeout: opts.queryTimeoutMs ?? 6000,
    idle_in_transaction_session_timeout: 60_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    application_name: 'ecs-secgroup',
    pipeline,
  } as pg.ClientConfig;
}

/** Runs `send` with `socket` corked: the queries it issues leave in one write. */
function corked<T>(socket: { cork(): void; uncork(): void } | undefined, send: () => T): T {
  socket?.cork();
  try {
    return send();
  } finally {
    socket?.uncork();
  }
}

/** The socket under a pool client (to cork queries sent together), when there is one. */
function streamOf(client: pg.PoolClient): { cork(): void; uncork(): void } | undefined {
  const stream = (client as unknown as { connection?: { stream?: unknown } }).connection?.stream;
  const s = stream as { cork?: unknown; uncork?: unknown } | undefined;
  return typeof s?.cork === 'function' && typeof s.uncork === 'function'
    ? (s as { cork(): void; uncork(): void })
    : undefined;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * The LISTEN side of the change feed: one dedicated connection, reconnected with
 * backoff when lost (checked every `healthCheckMs`); after every reconnect the
 * store's reload listeners are told that changes may have been missed.
 */
class ChangeFeed {
  private client: pg.Client | null = null;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private healthTimer: NodeJS.Timeout | null = null;
  private backoffMs = 100;
  private connecting: Promise<void> | null = null;

  constructor(
    private readonly url: string,
    private readonly opts: PostgresStoreOptions,
    private readonly nodeId: string,
    private readonly log: (message: string, err?: unknown) => void,
    private readonly sink: { changes(c: readonly Change[]): void; reload(): void },
  ) {
    this.ownPrefix = `{"n":${JSON.stringify(nodeId)}`;
  }

  private readonly ownPrefix: string;

  /** Connects and LISTENs; rejects when the database cannot be reached. */
  async start(): Promise<void> {
    await this.connect();
    this.healthTimer = setInterval(() => this.check(), this.opts.healthCheckMs ?? 5000);
    this.healthTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.healthTimer) clearInterval(this.healthTimer);
    await this.connecting?.catch(() => {});
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => {});
  }

  /**
   * The database just answered another connection: if the feed is down and waiting out
   * its backoff, reconnect now, so other nodes' changes are followed again within moments.
   */
  nudge(): void {
    if (this.client || this.connecting || this.stopped || this.backoffMs <= 100) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.reconnect();
  }

  /** Drops the connection; the reconnect that follows triggers a reload. */
  restart(): void {
    const c = this.client;
    if (!c || this.stopped) return;
    this.client = null;
    c.end().catch(() => {});
    this.schedule(0);
  }

  private connect(): Promise<void> {
    const p = (async () => {
      const client = new pg.Client(clientConfig(this.url, this.opts));
      client.on('error', (err) => this.lost(client, err));
      client.on('end', () => this.lost(client, new Error('LISTEN connection ended')));
      client.on('notification', (msg) => {
        if (msg.channel === CHANGE_CHANNEL) this.deliver(msg.payload);
      });
      try {
        await client.connect();
        await client.query(`LISTEN ${CHANGE_CHANNEL}`);
      } catch (err) {
        client.removeAllListeners('end');
        client.on('error', () => {});
        await client.end().catch(() => {});
        throw err;
      }
      if (this.stopped) {
        await client.end().catch(() => {});
        return;
      }
      this.client = client;
    })();
    this.connecting = p;
    return p.finally(() => {
      if (this.connecting === p) this.connecting = null;
    });
  }

  private lost(client: pg.Client, err: unknown): void {
    if (this.client !== client || this.stopped) return;
    this.client = null;
    this.log('change feed connection lost; reconnecting', err);
    client.end().catch(() => {});
    this.schedule(this.backoffMs);
  }

  private schedule(delayMs: number): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.reconnect();
    }, delayMs);
    this.timer.unref();
  }

  private reconnect(): void {
    if (this.stopped || this.client || this.connecting) return;
    this.connect().then(
      () => {
        if (this.stopped) return;
        this.backoffMs = 100;
        this.log('change feed reconnected; subscribers reload');
        this.sink.reload();
      },
      (err) => {
        this.backoffMs = Math.min(this.backoffMs * 2, 1000);
        this.log('change feed reconnect failed', err);
        this.schedule(this.backoffMs);
      },
    );
  }

  /** A cheap query notices a connection that died silently. */
  private check(): void {
    const c = this.client;
    if (!c) {
      this.schedule(0);
      return;
    }
    c.query('SELECT 1').catch((err) => this.lost(c, err));
  }

  private deliver(payload: string | undefined): void {
    // this node's own (delivered locally at commit), told without parsing: `payload()` puts
    // the node first
    if (payload?.startsWith(this.ownPrefix)) return;
    let notice: Notice;
    try {
      notice = JSON.parse(payload ?? '') as Notice;
    } catch (err) {
      this.log('ignoring a malformed change notification', err);
      return;
    }
    if (notice.n === this.nodeId) return; // delivered locally at commit
    if (Array.isArray(notice.c)) this.sink.changes(notice.c);
    else this.sink.reload();
  }
}
