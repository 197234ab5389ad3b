/**
 * Signature nonces of a single SQLite node, remembered across restarts.
 *
 * Claims are decided in memory (`MemoryNonceCache`) and written behind, in one transaction
 * per `flushMs`, to their own database file next to the store's (WAL, synchronous=NORMAL:
 * a write survives the process being killed; only the operating system crashing can lose
 * the last ones). A row is a fingerprint, its AccessKeyId and its expiry (about 40 bytes).
 * On open, the nonces not yet expired are loaded back, so a request replayed after a
 * restart still gets `SignatureNonceUsed`. A nonce claimed less than `flushMs` before the
 * process dies can be forgotten.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MemoryNonceCache } from '../nonces/memory.js';
import {
  type ClaimOutcome,
  DEFAULT_NONCE_LIMITS,
  NONCE_WINDOW_MS,
  type NonceCache,
  type NonceClaim,
  type NonceLimits,
  type NonceStats,
  nonceHash,
} from '../nonces/window.js';

export interface SqliteNonceOptions {
  limits?: NonceLimits;
  /** How often claimed nonces are written. */
  flushMs?: number;
  now?: () => number;
}

type Row = readonly [hash: bigint, keyId: string, expiresAt: number];

const toInt64 = (hi: number, lo: number) => BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));

export class SqliteNonceCache implements NonceCache {
  private readonly memory: MemoryNonceCache;
  private readonly insert: Database.Statement<[bigint, string, number]>;
  private readonly purge: Database.Statement<[number]>;
  private readonly writeAll: (rows: readonly Row[]) => void;
  private pending: Row[] = [];
  private timer: NodeJS.Timeout | null = null;
  private lastPurge = 0;
  /** The clock of the latest claim (the clock a flush purges by). */
  private lastNow = 0;

  private constructor(
    private readonly db: Database.Database,
    limits: NonceLimits,
    private readonly flushMs: number,
  ) {
    this.memory = new MemoryNonceCache(limits);
    db.exec(
      'CREATE TABLE IF NOT EXISTS nonce_hashes (hash INTEGER PRIMARY KEY, key_id TEXT NOT NULL, expires_at INTEGER NOT NULL)',
    );
    this.insert = db.prepare(
      'INSERT OR REPLACE INTO nonce_hashes (hash, key_id, expires_at) VALUES (?, ?, ?)',
    );
    this.purge = db.prepare('DELETE FROM nonce_hashes WHERE expires_at <= ?');
    this.writeAll = db.transaction((rows: readonly Row[]) => {
      for (const r of rows) this.insert.run(r[0], r[1], r[2]);
    });
  }

  /** Opens (or creates) `nonces.db` in `dataDir` and loads the nonces not yet expired. */
  static open(dataDir: string, opts: SqliteNonceOptions = {}): SqliteNonceCache {
    const db = new Database(join(dataDir, 'nonces.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    const cache = new SqliteNonceCache(
      db,
      opts.limits ?? DEFAULT_NONCE_LIMITS,
      opts.flushMs ?? 100,
    );
    cache.load((opts.now ?? Date.now)());
    return cache;
  }

  private load(nowMs: number): void {
    this.upgrade();
    this.purge.run(nowMs);
    this.lastPurge = nowMs;
    this.lastNow = nowMs;
    const rows = this.db
      .prepare('SELECT hash, key_id, expires_at FROM nonce_hashes')
      .safeIntegers(true)
      .raw()
      .iterate() as IterableIterator<[bigint, string, bigint]>;
    for (const [h, keyId, exp] of rows) {
      const u = BigInt.asUintN(64, h);
      this.memory.restore(keyId, Number(u >> 32n), Number(u & 0xffffffffn), Number(exp), nowMs);
    }
  }

  /** The file of an earlier version kept whole keys (`AccessKeyId\nnonce`) and claim times. */
  private upgrade(): void {
    const old = this.db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'nonces'")
      .get();
    if (old === undefined) return;
    const rows = this.db.prepare('SELECT key, claimed_at FROM nonces').raw().all() as [
      string,
      number,
    ][];
    const converted: Row[] = [];
    for (const [key, at] of rows) {
      const nl = key.indexOf('\n');
      const [hi, lo] = nonceHash(key.slice(0, nl), key.slice(nl + 1));
      converted.push([toInt64(hi, lo), key.slice(0, nl), at + NONCE_WINDOW_MS]);
    }
    this.db.transaction(() => {
      this.writeAll(converted);
      this.db.exec('DROP TABLE nonces');
    })();
  }

  claim(c: NonceClaim): ClaimOutcome {
    const [hi, lo] = nonceHash(c.accessKeyId, c.nonce);
    const outcome = this.memory.claimHash(c.accessKeyId, hi, lo, c.expiresAtMs, c.nowMs);
    if (outcome !== 'fresh') return outcome;
    this.lastNow = c.nowMs;
    this.pending.push([toInt64(hi, lo), c.accessKeyId, c.expiresAtMs]);
    if (this.timer === null) {
      this.timer = setTimeout(() => this.flush(), this.flushMs);
      this.timer.unref();
    }
    return outcome;
  }

  stats(): NonceStats {
    return this.memory.stats();
  }

  /** Writes the nonces claimed since the last flush (and drops expired rows now and then). */
  flush(nowMs = this.lastNow): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (!this.db.open) return;
    const rows = this.pending;
    this.pending = [];
    if (rows.length > 0) this.writeAll(rows);
    if (nowMs - this.lastPurge >= 60_000) {
      this.lastPurge = nowMs;
      this.purge.run(nowMs);
    }
  }

  close(): void {
    this.flush();
    if (this.db.open) this.db.close();
  }
}
