/**
 * A small closed-loop HTTP/1.1 load generator over keep-alive connections: N connections,
 * each sending its next request as soon as the previous response has arrived, for a fixed
 * duration after a warm-up. Raw sockets (not node:http) so the generator stays cheap and the
 * server is what gets measured. Loopback use only; responses must carry Content-Length.
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export interface RequestSpec {
  method: string;
  /** Path with query, e.g. `/?Action=…`. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** Called once per request, on the connection that sends it (sign here: fresh nonce etc.). */
export type RequestFactory = (connection: number) => RequestSpec;

export interface LoadOptions {
  /** `http://127.0.0.1:PORT`, or `https://…` with `ca`. */
  url: string;
  /** The CA that signed the server's certificate (PEM), for an `https://` URL. */
  ca?: string;
  connections: number;
  /** Measured time. */
  durationMs: number;
  /** Unmeasured time before it (default 1000). */
  warmupMs?: number;
  request: RequestFactory;
  /** A response counts as an error unless this holds (default: status 200). */
  ok?: (status: number, body: Buffer) => boolean;
}

export interface LoadResult {
  connections: number;
  durationMs: number;
  /** Successful responses in the measured window. */
  requests: number;
  errors: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
  /** The first error response seen, for diagnosis. */
  firstError?: string;
}

interface Response {
  status: number;
  body: Buffer;
  close: boolean;
}

/** One keep-alive connection with a minimal response parser (Content-Length bodies only). */
class Connection {
  private socket!: Socket;
  private buf: Buffer = Buffer.alloc(0);
  private pending: { resolve(r: Response): void; reject(e: Error): void } | null = null;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly ca?: string,
  ) {}

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.buf = Buffer.alloc(0);
      const s =
        this.ca === undefined
          ? connect({ host: this.host, port: this.port, noDelay: true }, () => resolve())
          : tlsConnect(
              { host: this.host, port: this.port, ca: this.ca, servername: 'localhost' },
              () => {
                s.setNoDelay(true);
                resolve();
              },
            );
      s.on('error', (e) => {
        reject(e);
        this.fail(e);
      });
      s.on('close', () => this.fail(new Error('connection closed')));
      s.on('data', (d: Buffer) => {
        this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
        this.parse();
      });
      this.socket = s;
    });
  }

  private fail(e: Error) {
    const p = this.pending;
    this.pending = null;
    p?.reject(e);
  }

  private parse() {
    if (!this.pending) return;
    const end = this.buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = this.buf.toString('latin1', 0, end);
    const status = Number(head.slice(9, 12));
    const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!m) {
      this.fail(new Error(`response without content-length: ${head.split('\r\n')[0]}`));
      return;
    }
    const total = end + 4 + Number(m[1]);
    if (this.buf.length < total) return;
    const body = this.buf.subarray(end + 4, total);
    this.buf = this.buf.subarray(total);
    const close = /\r\nconnection:\s*close/i.test(head);
    const p = this.pending;
    this.pending = null;
    p.resolve({ status, body, close });
  }

  async send(spec: RequestSpec): Promise<Response> {
    const body =
      spec.body === undefined
        ? undefined
        : typeof spec.body === 'string'
          ? Buffer.from(spec.body)
          : spec.body;
    let head = `${spec.method} ${spec.path} HTTP/1.1\r\nhost: ${this.host}:${this.port}\r\n`;
    for (const [k, v] of Object.entries(spec.headers ?? {})) head += `${k}: ${v}\r\n`;
    if (body || spec.method === 'POST') head += `content-length: ${body?.length ?? 0}\r\n`;
    head += '\r\n';
    const r = await new Promise<Response>((resolve, reject) => {
      this.pending = { resolve, reject };
      this.socket.write(body ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : head);
    });
    if (r.close) {
      this.socket.destroy();
      await this.open();
    }
    return r;
  }

  close() {
    this.socket?.destroy();
  }
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** Runs the load and reports throughput and latency of the measured window. */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const u = new URL(opts.url);
  if (u.hostname !== '127.0.0.1' && u.hostname !== 'localhost') {
    throw new Error('runLoad is for loopback targets only');
  }
  const ok = opts.ok ?? ((status) => status === 200);
  const conns = Array.from(
    { length: opts.connections },
    () => new Connection(u.hostname, Number(u.port), u.protocol === 'https:' ? opts.ca : undefined),
  );
  await Promise.all(conns.map((c) => c.open()));

  const start = performance.now();
  const measureFrom = start + (opts.warmupMs ?? 1000);
  const measureTo = measureFrom + opts.durationMs;
  let latencies = new Float64Array(1 << 16);
  let n = 0;
  let errors = 0;
  let firstError: string | undefined;

  await Promise.all(
    conns.map(async (c, i) => {
      for (;;) {
        const t0 = performance.now();
        if (t0 >= measureTo) return;
        const spec = opts.request(i);
        const r = await c.send(spec);
        const t1 = performance.now();
        if (t0 < measureFrom || t1 > measureTo) continue;
        if (!ok(r.status, r.body)) {
          errors++;
          firstError ??= `${r.status} ${r.body.toString('utf8', 0, 300)}`;
          continue;
        }
        if (n === latencies.length) {
          const bigger = new Float64Array(latencies.length * 2);
          bigger.set(latencies);
          latencies = bigger;
        }
        latencies[n++] = t1 - t0;
      }
    }),
  );
  for (const c of conns) c.close();

  const sorted = latencies.subarray(0, n).sort();
  let sum = 0;
  for (const x of sorted) sum += x;
  return {
    connections: opts.connections,
    durationMs: opts.durationMs,
    requests: n,
    errors,
    rps: (n / opts.durationMs) * 1000,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    meanMs: n > 0 ? sum / n : Number.NaN,
    maxMs: n > 0 ? sorted[n - 1]! : Number.NaN,
    firstError,
  };
}

/** `12345 rps  p50 0.41 ms  p99 1.20 ms` */
export function formatResult(r: LoadResult): string {
  const err = r.errors > 0 ? `  errors ${r.errors} (first: ${r.firstError})` : '';
  return `${r.rps.toFixed(0).padStart(6)} rps  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms${err}`;
}
