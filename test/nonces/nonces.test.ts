/**
 * Replay protection over time: how long a nonce is remembered, and that a single SQLite
 * node remembers its nonces across a restart and a SIGKILL.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { createProtocol } from '../../src/protocol/handler.js';
import { MemoryNonceCache, NONCE_WINDOW_MS, TIMESTAMP_SKEW_MS } from '../../src/protocol/nonce.js';
import { SqliteNonceCache } from '../../src/store/sqlite-nonces.js';
import { ECS_VERSION, isoSeconds, signedV1 } from '../helpers/clients.js';
import { startServer, tempDir } from '../helpers/server.js';
import { encodeParams, v1Params } from '../helpers/sign.js';

const MINUTE = 60_000;
const DR = { Action: 'DescribeRegions', Version: ECS_VERSION };

describe('how long a nonce is remembered', () => {
  test('a request signed up to the skew ahead of the clock cannot be replayed while its timestamp is valid', async () => {
    let now = Date.now();
    const handle = createProtocol({
      credentials: (id) => (id === 'test' ? { secret: 'test', principal: {} } : undefined),
      nonces: new MemoryNonceCache(NONCE_WINDOW_MS),
      actions: {
        hasVersion: (v) => v === ECS_VERSION,
        lookup: (_v, a) => (a === 'DescribeRegions' ? async () => ({}) : undefined),
      },
      hostId: 'test',
      now: () => now,
    });
    const send = (params: Record<string, string>) =>
      handle({
        method: 'GET',
        path: '/',
        rawQuery: encodeParams(params),
        headers: {},
        body: Buffer.alloc(0),
      });
    const start = now;
    // another claim first, so the cache's generations start at `start`
    assert.equal((await send(v1Params('GET', DR))).status, 200);
    now = start + TIMESTAMP_SKEW_MS - MINUTE;
    // signed by a client whose clock is 14 minutes ahead
    const ahead = v1Params('GET', DR, {
      timestamp: new Date(now + TIMESTAMP_SKEW_MS - MINUTE).toISOString().replace(/\.\d+Z$/, 'Z'),
    });
    assert.equal((await send(ahead)).status, 200);
    // 2 skews after the first claim: the timestamp is still within the skew of the clock
    now = start + 2 * TIMESTAMP_SKEW_MS + MINUTE;
    const replay = await send(ahead);
    assert.equal(replay.status, 400);
    assert.equal(JSON.parse(replay.body).Code, 'SignatureNonceUsed');
  });
});

describe('SQLite nonce file', () => {
  test('claims survive closing and reopening; expired ones are forgotten', () => {
    const dir = tempDir();
    const t0 = 1_700_000_000_000;
    const a = SqliteNonceCache.open(dir, { now: () => t0 });
    assert.equal(a.claim('k1', t0), true);
    assert.equal(a.claim('k1', t0 + 1), false);
    assert.equal(a.claim('k2', t0 + MINUTE), true);
    a.close();
    const b = SqliteNonceCache.open(dir, { now: () => t0 + 2 * MINUTE });
    assert.equal(b.claim('k1', t0 + 2 * MINUTE), false);
    assert.equal(b.claim('k2', t0 + 2 * MINUTE), false);
    assert.equal(b.claim('k3', t0 + 2 * MINUTE), true);
    b.flush();
    // flushed without closing (as if the process died right after): still there
    const c = SqliteNonceCache.open(dir, { now: () => t0 + 3 * MINUTE });
    assert.equal(c.claim('k3', t0 + 3 * MINUTE), false);
    c.close();
    b.close();
    // past the window, a nonce may be used again
    const later = t0 + MINUTE + NONCE_WINDOW_MS + 1;
    const d = SqliteNonceCache.open(dir, { now: () => later });
    assert.equal(d.claim('k1', later), true);
    assert.equal(d.claim('k3', later), false);
    d.close();
  });

  test('claims are written behind within the flush interval', async () => {
    const dir = tempDir();
    const a = SqliteNonceCache.open(dir, { flushMs: 20 });
    assert.equal(a.claim('k', Date.now()), true);
    await new Promise((r) => setTimeout(r, 100));
    const b = SqliteNonceCache.open(dir);
    assert.equal(b.claim('k', Date.now()), false);
    b.close();
    a.close();
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
