/**
 * Replay protection: how long a nonce is remembered, the bounded structure that remembers
 * it, the ceilings per AccessKeyId and overall, and that a single SQLite node remembers its
 * nonces across a restart and a SIGKILL.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { HashSet64 } from '../../src/nonces/hash-set.js';
import { MemoryNonceCache } from '../../src/nonces/memory.js';
import {
  NONCE_WINDOW_MS,
  type NonceClaim,
  nonceHash,
  TIMESTAMP_SKEW_MS,
} from '../../src/nonces/window.js';
import { createProtocol } from '../../src/protocol/handler.js';
import { SqliteNonceCache } from '../../src/store/sqlite-nonces.js';
import { ECS_VERSION, expectApiError, isoSeconds, signedV1 } from '../helpers/clients.js';
import { PG_MODE } from '../helpers/pg.js';
import { startServer, tempDir } from '../helpers/server.js';
import { encodeParams, v1Params } from '../helpers/sign.js';

const MINUTE = 60_000;
const DR = { Action: 'DescribeRegions', Version: ECS_VERSION };

/** A claim of `nonce` by `key` at `nowMs`, from a client whose clock is right. */
const at = (key: string, nonce: string, nowMs: number): NonceClaim => ({
  accessKeyId: key,
  nonce,
  expiresAtMs: nowMs + TIMESTAMP_SKEW_MS,
  nowMs,
});

describe('how long a nonce is remembered', () => {
  test('a request signed up to the skew ahead of the clock cannot be replayed while its timestamp is valid', async () => {
    let now = Date.now();
    const handle = createProtocol({
      credentials: (id) => (id === 'test' ? { secret: 'test', principal: {} } : undefined),
      nonces: new MemoryNonceCache(),
      actions: {
        hasVersion: (v) => v === ECS_VERSION,
        lookup: (_v, a) => (a === 'DescribeRegions' ? async () => ({}) : undefined),
      },
      hostId: 'test',
      now: () => now,
    });
    const send = async (params: Record<string, string>) => {
      const r = await handle({
        method: 'GET',
        path: '/',
        rawQuery: encodeParams(params),
        headers: {},
        body: Buffer.alloc(0),
      });
      return { status: r.status, code: r.status === 200 ? '' : JSON.parse(String(r.body)).Code };
    };
    const start = now;
    now = start + TIMESTAMP_SKEW_MS - MINUTE;
    // signed by a client whose clock is 14 minutes ahead
    const ahead = v1Params('GET', DR, {
      timestamp: new Date(now + TIMESTAMP_SKEW_MS - MINUTE).toISOString().replace(/\.\d+Z$/, 'Z'),
    });
    assert.equal((await send(ahead)).status, 200);
    // 2 skews after the start, its timestamp is still within the skew of the clock
    now = start + 2 * TIMESTAMP_SKEW_MS + MINUTE;
    assert.deepEqual(await send(ahead), { status: 400, code: 'SignatureNonceUsed' });
    // once its timestamp is out of the skew, it is refused for that, never accepted again
    now = start + 3 * TIMESTAMP_SKEW_MS;
    assert.deepEqual(await send(ahead), { status: 400, code: 'InvalidTimeStamp.Expired' });
  });

  test('a nonce is remembered until its timestamp plus the skew (and at most a minute more)', () => {
    const t0 = 1_700_000_000_000;
    const c = new MemoryNonceCache();
    assert.equal(c.claim(at('k', 'n', t0)), 'fresh');
    assert.equal(c.claim(at('k', 'n', t0 + TIMESTAMP_SKEW_MS)), 'used');
    assert.equal(c.claim(at('other-key', 'n', t0 + 1)), 'fresh', 'nonces are per AccessKeyId');
    assert.equal(c.claim(at('k', 'n', t0 + TIMESTAMP_SKEW_MS + MINUTE + 1)), 'fresh');
    assert.equal(c.stats().count, 1, 'the expired ones are gone');
  });
});

describe('the fingerprint structure', () => {
  test('a set holds more than 2^24 members (where a JavaScript Set throws RangeError)', () => {
    const s = new HashSet64();
    const n = 2 ** 24 + 1;
    // distinct, well-spread members without hashing: a multiplicative sequence
    let added = 0;
    for (let i = 1; i <= n; i++) if (s.add(i, Math.imul(i, 0x9e3779b1) >>> 0)) added++;
    assert.equal(added, n);
    assert.equal(s.size, n);
    assert.equal(s.has(n, Math.imul(n, 0x9e3779b1) >>> 0), true);
    assert.equal(s.has(n + 1, Math.imul(n + 1, 0x9e3779b1) >>> 0), false);
    assert.equal(s.add(7, Math.imul(7, 0x9e3779b1) >>> 0), false, 'a member is added once');
    assert.ok(s.bytes / n <= 32, `${s.bytes / n} bytes per member`);
  });

  test('at most 64 bytes per remembered nonce, whatever the spread of expiries', () => {
    const t0 = 1_700_000_000_000;
    for (const count of [1, 1000, 300_000]) {
      const fresh = new MemoryNonceCache({ maxPerKey: 1e9, maxTotal: 1e9 });
      for (let i = 0; i < count; i++) {
        // timestamps anywhere in the skew either way: expiries spread over 31 buckets
        const skewed = t0 + ((i * 7919) % (2 * TIMESTAMP_SKEW_MS)) - TIMESTAMP_SKEW_MS;
        const expiresAtMs = skewed + TIMESTAMP_SKEW_MS;
        fresh.claim({ accessKeyId: `k${i % 3}`, nonce: `n${i}`, expiresAtMs, nowMs: t0 });
      }
      const s = fresh.stats();
      assert.equal(s.count, count);
      if (count >= 1000) assert.ok(s.bytes / count <= 64, `${count}: ${s.bytes / count} B/nonce`);
    }
  });

  test('the fingerprint is of the key and the nonce, never 0/0', () => {
    assert.deepEqual(nonceHash('a', 'b'), nonceHash('a', 'b'));
    assert.notDeepEqual(nonceHash('a', 'b'), nonceHash('a\nb', ''));
    const [hi, lo] = nonceHash('test', randomUUID());
    assert.ok(hi >= 0 && hi <= 0xffffffff && lo >= 0 && lo <= 0xffffffff);
  });
});

describe('ceilings', () => {
  test('a key at its ceiling is refused, other keys go on until the overall ceiling', () => {
    const t0 = 1_700_000_000_000;
    const c = new MemoryNonceCache({ maxPerKey: 3, maxTotal: 5 });
    for (let i = 0; i < 3; i++) assert.equal(c.claim(at('a', `a${i}`, t0)), 'fresh');
    assert.equal(c.claim(at('a', 'a3', t0)), 'key-limit');
    assert.equal(c.claim(at('a', 'a0', t0)), 'used', 'a replay is a replay, ceiling or not');
    assert.equal(c.claim(at('b', 'b0', t0)), 'fresh');
    assert.equal(c.claim(at('b', 'b1', t0)), 'fresh');
    assert.equal(c.claim(at('b', 'b2', t0)), 'limit');
    assert.equal(c.claim(at('c', 'c0', t0)), 'limit');
    // once the window has passed, the key and the cache have room again
    const later = t0 + TIMESTAMP_SKEW_MS + 2 * MINUTE;
    assert.equal(c.claim(at('a', 'a3', later)), 'fresh');
    assert.equal(c.claim(at('c', 'c0', later)), 'fresh');
    assert.equal(c.stats().count, 2);
  });

  test('through the server: the key over its ceiling gets Throttling.User, another key is served', async () => {
    const srv = await startServer({
      args: ['--max-nonces-per-key', '4', '--max-nonces', '6'],
      accounts: {
        accounts: [
          { uid: '1000000000000011', name: 'a', accessKeys: [{ id: 'AKA', secret: 'sa' }] },
          { uid: '1000000000000012', name: 'b', accessKeys: [{ id: 'AKB', secret: 'sb' }] },
        ],
      },
    });
    const a = { accessKeyId: 'AKA', secret: 'sa' };
    const b = { accessKeyId: 'AKB', secret: 'sb' };
    for (let i = 0; i < 4; i++) assert.equal((await signedV1(srv, DR, a)).status, 200);
    const over = await expectApiError(signedV1(srv, DR, a), 'Throttling.User', 400);
    assert.match(over.message, /max-nonces-per-key/);
    const usedNonce = randomUUID();
    const usedAt = isoSeconds();
    assert.equal((await signedV1(srv, DR, b)).status, 200);
    const last = await signedV1(srv, DR, { ...b, nonce: usedNonce, timestamp: usedAt });
    assert.equal(last.status, 200);
    await expectApiError(signedV1(srv, DR, b), 'Throttling', 400);
    // the nonces are remembered across a restart; on SQLite so are the ceilings they fill, on
    // PostgreSQL a restarted node counts only what it records itself (as documented)
    await new Promise((r) => setTimeout(r, 300));
    await srv.stop();
    const again = await startServer({
      dataDir: srv.dataDir,
      accounts: srv.accountsFile,
      args: ['--max-nonces-per-key', '4', '--max-nonces', '7'],
    });
    if (PG_MODE) {
      const used = await signedV1(again, DR, { ...b, nonce: usedNonce, timestamp: usedAt });
      await expectApiError(Promise.resolve(used), 'SignatureNonceUsed', 400);
      for (let i = 0; i < 4; i++) assert.equal((await signedV1(again, DR, a)).status, 200);
      await expectApiError(signedV1(again, DR, a), 'Throttling.User', 400);
    } else {
      await expectApiError(signedV1(again, DR, a), 'Throttling.User', 400);
      assert.equal((await signedV1(again, DR, b)).status, 200);
    }
    await again.stop();
  });
});

describe('SQLite nonce file', () => {
  test('claims survive closing and reopening; expired ones are forgotten', () => {
    const dir = tempDir();
    const t0 = 1_700_000_000_000;
    const a = SqliteNonceCache.open(dir, { now: () => t0 });
    assert.equal(a.claim(at('k', '1', t0)), 'fresh');
    assert.equal(a.claim(at('k', '1', t0 + 1)), 'used');
    assert.equal(a.claim(at('k', '2', t0 + MINUTE)), 'fresh');
    a.close();
    const b = SqliteNonceCache.open(dir, { now: () => t0 + 2 * MINUTE });
    assert.equal(b.claim(at('k', '1', t0 + 2 * MINUTE)), 'used');
    assert.equal(b.claim(at('k', '2', t0 + 2 * MINUTE)), 'used');
    assert.equal(b.claim(at('k', '3', t0 + 2 * MINUTE)), 'fresh');
    b.flush();
    // flushed without closing (as if the process died right after): still there
    const c = SqliteNonceCache.open(dir, { now: () => t0 + 3 * MINUTE });
    assert.equal(c.claim(at('k', '3', t0 + 3 * MINUTE)), 'used');
    c.close();
    b.close();
    // past their expiry, nonces may be used again
    const later = t0 + TIMESTAMP_SKEW_MS + MINUTE;
    const d = SqliteNonceCache.open(dir, { now: () => later });
    assert.equal(d.claim(at('k', '1', later)), 'fresh');
    assert.equal(d.claim(at('k', '3', later)), 'used');
    d.close();
  });

  test('claims are written behind within the flush interval', async () => {
    const dir = tempDir();
    const a = SqliteNonceCache.open(dir, { flushMs: 20 });
    assert.equal(a.claim(at('k', 'n', Date.now())), 'fresh');
    await new Promise((r) => setTimeout(r, 100));
    const b = SqliteNonceCache.open(dir);
    assert.equal(b.claim(at('k', 'n', Date.now())), 'used');
    b.close();
    a.close();
  });

  test('a file of the earlier format (whole keys) is converted: its nonces stay used', () => {
    const dir = tempDir();
    const now = Date.now();
    const old = new Database(join(dir, 'nonces.db'));
    old.exec('CREATE TABLE nonces (key TEXT PRIMARY KEY, claimed_at INTEGER NOT NULL)');
    old.prepare('INSERT INTO nonces VALUES (?, ?)').run('test\nold-nonce', now - MINUTE);
    old.prepare('INSERT INTO nonces VALUES (?, ?)').run('test\nexpired', now - NONCE_WINDOW_MS - 1);
    old.close();
    const c = SqliteNonceCache.open(dir);
    assert.equal(c.claim(at('test', 'old-nonce', now)), 'used');
    assert.equal(c.claim(at('test', 'expired', now)), 'fresh');
    c.close();
  });
});

describe('replay after the server restarts', () => {
  test('SIGTERM, then SIGKILL: a used nonce stays used', async () => {
    const srv = await startServer();
    const nonce = randomUUID();
    const timestamp = isoSeconds();
    assert.equal((await signedV1(srv, DR, { nonce, timestamp })).status, 200);
    await srv.stop();
    const again = await startServer({ dataDir: srv.dataDir });
    const replay = await signedV1(again, DR, { nonce, timestamp });
    assert.equal(replay.status, 400, replay.text);
    assert.equal(replay.body.Code, 'SignatureNonceUsed');
    const second = randomUUID();
    assert.equal((await signedV1(again, DR, { nonce: second, timestamp })).status, 200);
    await new Promise((r) => setTimeout(r, 300)); // past the write-behind interval
    await again.kill9();
    const third = await startServer({ dataDir: srv.dataDir });
    const replay2 = await signedV1(third, DR, { nonce: second, timestamp });
    assert.equal(replay2.status, 400, replay2.text);
    assert.equal(replay2.body.Code, 'SignatureNonceUsed');
    await third.stop();
  });
});
