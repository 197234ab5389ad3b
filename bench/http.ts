/**
 * The "http" section: DescribeRegions throughput of the real service versus a bare
 * `node:http` server returning a body of the same size, at 1 and 32 keep-alive connections.
 * Both are child processes; every request is a real v1-signed GET with a fresh nonce and
 * timestamp, signed in the load generator for both targets (same client cost).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeParams, v1Params } from '../test/helpers/sign.js';
import { startServer, tempDir } from '../test/helpers/spawn.js';
import { formatResult, type LoadResult, type RequestSpec, runLoad } from './load.js';

export interface HttpBenchOptions {
  durationMs?: number;
  warmupMs?: number;
  concurrencies?: number[];
}

export interface HttpBenchRow {
  connections: number;
  service: LoadResult;
  bare: LoadResult;
  ratio: number;
}

const DR = { Action: 'DescribeRegions', Version: '2014-05-26' };

/** A signed DescribeRegions GET, built afresh for every request. */
export function describeRegionsRequest(): RequestSpec {
  const params = v1Params('GET', DR, { format: 'JSON' });
  return { method: 'GET', path: `/?${encodeParams(params)}` };
}

/** Starts the bare server child; resolves with its URL and a stop function. */
export async function startBare(body: Buffer, contentType: string) {
  const dir = tempDir('ecs-sg-bench-');
  const file = join(dir, 'body');
  writeFileSync(file, body);
  const script = fileURLToPath(new URL('./bare-server.js', import.meta.url));
  const proc = spawn(process.execPath, [script, file, contentType], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    proc.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /bare listening on (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (code) => reject(new Error(`bare server exited (${code})`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
        setTimeout(() => proc.kill('SIGKILL'), 5000).unref();
      }),
  };
}

export async function benchHttp(opts: HttpBenchOptions = {}): Promise<HttpBenchRow[]> {
  const durationMs = opts.durationMs ?? 3000;
  const warmupMs = opts.warmupMs ?? 1000;
  const concurrencies = opts.concurrencies ?? [1, 32];

  // Without the access log (warn) and with it (info: a JSON line per request to /dev/null).
  const service = await startServer({ args: ['--log-level', 'warn', '--throttle-rate', '0'] });
  const logged = await startServer({
    args: ['--log-level', 'info', '--throttle-rate', '0'],
    discardStderr: true,
  });
  let bare: Awaited<ReturnType<typeof startBare>> | undefined;
  try {
    // The bare server returns a body of exactly the size (and type) of the real response.
    const probe = await fetch(`${service.url}${describeRegionsRequest().path}`);
    const body = Buffer.from(await probe.arrayBuffer());
    if (probe.status !== 200) throw new Error(`probe failed: ${probe.status} ${body}`);
    const contentType = probe.headers.get('content-type') ?? 'application/json';
    bare = await startBare(Buffer.alloc(body.length, 'x'), contentType);
    console.log(
      `DescribeRegions: response body ${body.length} bytes; ${durationMs} ms after ${warmupMs} ms warm-up`,
    );

    const rows: HttpBenchRow[] = [];
    for (const connections of concurrencies) {
      const run = (url: string) =>
        runLoad({ url, connections, durationMs, warmupMs, request: describeRegionsRequest });
      const svc = await run(service.url);
      const withLog = await run(logged.url);
      const base = await run(bare.url);
      const ratio = svc.rps / base.rps;
      rows.push({ connections, service: svc, bare: base, ratio });
      console.log(`  c=${String(connections).padStart(2)}  service ${formatResult(svc)}`);
      console.log(`        logged  ${formatResult(withLog)}  (access log at info)`);
      console.log(`        bare    ${formatResult(base)}`);
      console.log(
        `        ratio service/bare ${ratio.toFixed(2)}, logged/bare ${(withLog.rps / base.rps).toFixed(2)}, access log costs ${((1 - withLog.rps / svc.rps) * 100).toFixed(0)}%`,
      );
    }
    return rows;
  } finally {
    await Promise.all([service.stop(), logged.stop(), bare?.stop()]);
  }
}
