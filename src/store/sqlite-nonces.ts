/**
 * Signature nonces of a single SQLite node, remembered across restarts.
 *
 * Claims are decided in memory (`MemoryNonceCache`) and written behind, in one transaction
 * per `flushMs`, to their own database file next to the store's (WAL, synchronous=NORMAL:
 * a write survives the process being killed; only the operating system crashing can lose
 * the last ones). On open, the nonces claimed within the window are loaded back, so a
 * request replayed after a restart still gets `SignatureNonceUsed`. A nonce claimed less
 * than `flushMs` before the process dies can be forgotten.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MemoryNonceCache, NONCE_WINDOW_MS, type NonceCache } from '../protocol/nonce.js';

export interface SqliteNonceOptions {
  /** How long a nonce is remembered at least (the signature timestamp window). */
  windowMs?: number;
  /** How often claimed nonces are written. */
  flushMs?: number;
  now?: () => number;
}

export class SqliteNonceCache implements NonceCache {
  private readonly memory: MemoryNonceCache;
  private readonly insert: Database.Statement<[string, number]>;
  private readonly purge: Database.Statement<[number]>;
  private readonly writeAll: (rows: readonly (readonly [string, number])[]) => void;
  private pending: [string, number][] = [];
  private timer: NodeJS.Timeout | null = null;
  private lastPurge = 0;

  private constructor(
    private readonly db: Database.Database,
    private readonly windowMs: number,
    private readonly flushMs: number,
  ) {
    this.memory = new MemoryNonceCache(windowMs);
    db.exec(
      'CREATE TABLE IF NOT EXISTS nonces (key TEXT PRIMARY KEY, claimed_at INTEGER NOT NULL) WITHOUT ROWID',
    );
    this.insert = db.prepare('INSERT OR REPLACE INTO nonces (key, claimed_at) VALUES (?, ?)');
    this.purge = db.prepare('DELETE FROM nonces WHERE claimed_at < ?');
    this.writeAll = db.transaction((rows: readonly (readonly [string, number])[]) => {
      for (const [key, at] of rows) this.insert.run(key, at);
    });
  }

  /** Opens (or creates) `nonces.db` in `dataDir` and loads the nonces still in the window. */
  static open(dataDir: string, opts: SqliteNonceOptions = {}): SqliteNonceCache {
    const db = new Database(join(dataDir, 'nonces.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    const windowMs = opts.windowMs ?? NONCE_WINDOW_MS;
    const cache = new SqliteNonceCache(db, windowMs, opts.flushMs ?? 100);
    cache.load((opts.now ?? Date.now)());
    return cache;
  }

  private load(nowMs: number): void {
    this.purge.run(nowMs - this.windowMs);
    this.lastPurge = nowMs;
    const rows = this.db
      .prepare('SELECT key, claimed_at FROM nonces ORDER BY claimed_at')
      .iterate() as IterableIterator<{ key: string; claimed_at: number }>;
    for (const r of rows) this.memory.claim(r.key, r.claimed_at);
  }

  claim(key: string, nowMs: number): boolean {
    if (!this.memory.claim(key, nowMs)) return false;
    this.pending.push([key, nowMs]);
    if (this.timer === null) {
      this.timer = setTimeout(() => this.flush(), this.flushMs);
      this.timer.unref();
    }
    return true;
  }

  /** Writes the nonces claimed since the last flush (and drops expired ones now and then). */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (!this.db.open) return;
    const rows = this.pending;
    this.pending = [];
    if (rows.length > 0) this.writeAll(rows);
    const now = rows.length > 0 ? rows[rows.length - 1]![1] : this.lastPurge;
    if (now - this.lastPurge >= 60_000) {
      this.lastPurge = now;
      this.purge.run(now - 2 * this.windowMs);
    }
  }

  close(): void {
    this.flush();
    if (this.db.open) this.db.close();
  }
}
