/**
 * The embedded store: one SQLite file in WAL mode with synchronous=FULL.
 *
 * better-sqlite3 is synchronous, and a durable commit costs an fsync, so the
 * store does group commit: transactions queue up, and each batch runs them one
 * after another, each inside its own SAVEPOINT, in one BEGIN…COMMIT. A failing
 * transaction rolls back to its savepoint alone. Results are handed out only
 * after the batch's COMMIT has returned, so nothing is acknowledged before it
 * is on disk. Transaction functions must await only the Tx they are given.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Change, CommitInfo, Store, Tx } from '../domain/store.js';
import { apiError } from '../errors.js';
import type { NonceLimits } from '../nonces/window.js';
import { MIGRATIONS, renderMigration } from './migrations.js';
import {
  DEFAULT_CHANGE_LOG_RETENTION,
  type Executor,
  loadSnapshot,
  type Row,
  RuleCache,
  SqlTx,
} from './sql.js';
import { SqliteNonceCache } from './sqlite-nonces.js';

interface Job {
  fn(tx: Tx): Promise<unknown>;
  /** A read: it writes nothing, so it needs no savepoint, and alone no transaction. */
  read: boolean;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

const MAX_BATCH = 256;

class SqliteExecutor implements Executor {
  private readonly statements = new Map<string, Database.Statement>();
  readonly forUpdate = '';
  readonly changeLog = { position: 'seq', horizon: null };

  constructor(private readonly db: Database.Database) {}

  private prepare(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }
  all(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    return Promise.resolve(this.prepare(sql).all(...params) as Row[]);
  }
  run(sql: string, params: readonly unknown[] = []): Promise<void> {
    this.prepare(sql).run(...params);
    return Promise.resolve();
  }
  insertReturningSeq(sql: string, params: readonly unknown[]): Promise<number> {
    return Promise.resolve(Number(this.prepare(sql).run(...params).lastInsertRowid));
  }
  lock(): Promise<void> {
    return Promise.resolve(); // the batch holds SQLite's write lock already
  }
  isUniqueViolation(err: unknown): boolean {
    const code = (err as { code?: string }).code ?? '';
    return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  }
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly exec: SqliteExecutor;
  private readonly rules = new RuleCache();
  /** Transaction control, prepared once: it runs for every job. */
  private readonly control: Record<
    'begin' | 'commit' | 'savepoint' | 'release' | 'rollbackTo',
    Database.Statement
  >;
  private readonly listeners: ((c: readonly Change[]) => void)[] = [];
  private readonly commitListeners: ((c: CommitInfo) => void)[] = [];
  private queue: Job[] = [];
  private draining: Promise<void> | null = null;
  private closed = false;
  /** Counts committed write batches (see committedVersion). */
  private version = 0;

  constructor(
    private readonly db: Database.Database,
    readonly file: string,
    /** Signature nonces, remembered across restarts (see sqlite-nonces.ts). */
    readonly nonces: SqliteNonceCache,
    /** Change-log positions kept (older entries are deleted). */
    private readonly changeLogRetention = DEFAULT_CHANGE_LOG_RETENTION,
  ) {
    this.exec = new SqliteExecutor(db);
    this.control = {
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      savepoint: db.prepare('SAVEPOINT job'),
      release: db.prepare('RELEASE job'),
      rollbackTo: db.prepare('ROLLBACK TO job'),
    };
  }

  static open(
    dataDir: string,
    nonceLimits?: NonceLimits,
    changeLogRetention?: number,
  ): SqliteStore {
    mkdirSync(dataDir, { recursive: true });
    const file = join(dataDir, 'ecs-secgroup.db');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    const store = new SqliteStore(
      db,
      file,
      SqliteNonceCache.open(dataDir, { limits: nonceLimits }),
      changeLogRetention,
    );
    store.migrate();
    return store;
  }

  /** Applies pending migrations, each in its own transaction, recording it. */
  migrate(): number[] {
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
    );
    const done = new Set(
      (this.db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map(
        (r) => r.version,
      ),
    );
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      this.db.transaction(() => {
        for (const s of m.statements) {
          const sql = renderMigration(s, 'sqlite');
          if (sql !== null) this.db.exec(sql);
        }
        this.db
          .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
          .run(m.version, m.name, new Date().toISOString());
      })();
      applied.push(m.version);
    }
    return applied;
  }

  write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.enqueue(fn, false);
  }

  read<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.enqueue(fn, true);
  }

  committedVersion(): number {
    return this.version;
  }

  groupVersions(groupIds: readonly string[]): Promise<Map<string, number>> {
    return this.read((tx) => tx.groupVersions(groupIds));
  }

  snapshot() {
    return this.enqueue(() => loadSnapshot(this.exec), true);
  }

  subscribe(listener: (changes: readonly Change[]) => void): void {
    this.listeners.push(listener);
  }

  onCommit(listener: (commit: CommitInfo) => void): void {
    this.commitListeners.push(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.draining) await this.draining;
    if (this.db.open) this.db.close();
    this.nonces.close();
  }

  private enqueue<T>(fn: (tx: Tx) => Promise<T>, read: boolean): Promise<T> {
    if (this.closed) return Promise.reject(apiError('ServiceUnavailable'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, read, resolve: resolve as (v: unknown) => void, reject });
      this.kick();
    });
  }

  /** Starts draining unless a drain is running; a drain that ends re-checks the queue. */
  private kick(): void {
    if (this.draining || this.queue.length === 0) return;
    this.draining = this.drain().finally(() => {
      this.draining = null;
      this.kick(); // jobs enqueued by continuations of the last batch
    });
  }

  private async drain(): Promise<void> {
    // Let the requests that arrived together queue up before the first batch starts.
    await new Promise<void>((r) => setImmediate(r));
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      const outcomes: { job: Job; ok: boolean; value: unknown; changes: Change[] }[] = [];
      const started = performance.now();
      // Jobs run one after another on the one connection: reads alone need no transaction.
      const writes = batch.some((j) => !j.read);
      if (writes) this.control.begin.run();
      for (const job of batch) {
        if (!job.read) this.control.savepoint.run();
        const tx = new SqlTx(this.exec, this.rules);
        try {
          const value = await job.fn(tx);
          if (!job.read) {
            // one writer: positions follow commit order
            await tx.appendChangeLog(Date.now(), this.changeLogRetention);
            this.control.release.run();
          }
          outcomes.push({ job, ok: true, value, changes: tx.changes });
        } catch (err) {
          if (!job.read) {
            this.control.rollbackTo.run();
            this.control.release.run();
            this.rules.clear(); // the job may have cached what it wrote
          }
          outcomes.push({ job, ok: false, value: err, changes: [] });
        }
      }
      if (!writes) {
        for (const o of outcomes) (o.ok ? o.job.resolve : o.job.reject)(o.value);
        continue;
      }
      try {
        this.control.commit.run();
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        this.rules.clear(); // it may hold what the failed batch wrote
        this.version++;
        for (const o of outcomes) o.job.reject(o.ok ? err : o.value);
        continue;
      }
      this.version++;
      const commit = { ms: performance.now() - started, transactions: batch.length };
      for (const l of this.commitListeners) l(commit);
      const changes = outcomes.flatMap((o) => o.changes);
      if (changes.length > 0) for (const l of this.listeners) l(changes);
      for (const o of outcomes) (o.ok ? o.job.resolve : o.job.reject)(o.value);
    }
  }
}
