/**
 * The "nonces" section: the replay check of a single node. Claims per second, and the memory
 * a remembered nonce costs, as the structure counts it and as the process measures it
 * (heap + array buffers after a full GC, before and after remembering N nonces), beside the
 * cost of the earlier design (the whole `AccessKeyId\nnonce` string in a Set, which keeps the
 * string alive) in the same run.
 */
import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MemoryNonceCache } from '../src/nonces/memory.js';
import { TIMESTAMP_SKEW_MS } from '../src/nonces/window.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function used(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

export interface NonceBenchOptions {
  /** Nonces remembered (default 1,000,000). */
  count?: number;
}

export async function benchNonces(opts: NonceBenchOptions = {}) {
  const n = opts.count ?? 1_000_000;
  const keys = ['test', 'AKALICE', 'AKBOB', 'LTAI5tExampleKey0001'];
  // A nonce as a request carries it: a fresh 32-character string, garbage once claimed.
  const pool = randomBytes(16 * 4096);
  const nonceOf = (i: number) =>
    `${pool.toString('hex', (i & 4095) * 16, (i & 4095) * 16 + 12)}${(i >>> 12).toString(16).padStart(8, '0')}`;
  const t0 = Date.now();

  const before = used();
  const cache = new MemoryNonceCache({ maxPerKey: 1e9, maxTotal: 1e9 });
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    // a minute of spread in client clocks, ten minutes of arrivals
    const nowMs = t0 + Math.floor((i / n) * 600_000);
    const expiresAtMs = nowMs + TIMESTAMP_SKEW_MS + ((i * 7919) % 120_000) - 60_000;
    cache.claim({ accessKeyId: keys[i & 3]!, nonce: nonceOf(i), expiresAtMs, nowMs });
  }
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  const after = used();
  const stats = cache.stats();

  const beforeSet = used();
  const set = new Set<string>();
  for (let i = 0; i < n; i++) set.add(`${keys[i & 3]}\n${nonceOf(i)}`);
  const afterSet = used();

  console.log(
    `claims: ${(n / secs / 1e6).toFixed(2)} M/s (${((secs * 1e9) / n).toFixed(0)} ns each, SHA-256 included)`,
  );
  console.log(
    `memory per remembered nonce (${n.toLocaleString('en-US')} nonces): structure ${(stats.bytes / n).toFixed(1)} B, ` +
      `measured ${((after - before) / n).toFixed(1)} B (target <= 64); ` +
      `whole strings in a Set: ${((afterSet - beforeSet) / set.size).toFixed(1)} B`,
  );
  return { claimsPerSec: n / secs, bytes: stats.bytes / n, measured: (after - before) / n };
}
