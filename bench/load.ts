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

/** One step of a paced run: a request, or requests sent one after the other on a connection. */
export type PacedFactory = (i: number) => RequestSpec | RequestSpec[];

export interface PacedOptions {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** Connections to spread the steps over (more are not opened). */
  connections: number;
  /** Steps started per second, on a fixed schedule whatever the answers (open loop). */
  rate: number;
  durationMs: number;
  /** Length of a reporting window (default 60 s). */
  windowMs?: number;
  request: PacedFactory;
  /** A response counts as an error unless this holds (default: status 200). */
  ok?: (status: number, body: Buffer) => boolean;
  /** Each window as it closes. */
  onWindow?: (w: PacedWindow) => void;
}

export interface PacedWindow {
  /** 0, 1, … */
  index: number;
  /** Responses that arrived in the window. */
  requests: number;
  errors: number;
  rps: number;
  /** Latency from the step's scheduled time (queueing included) for its first request. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface PacedResult {
  windows: PacedWindow[];
  requests: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  firstError?: string;
}

/**
 * Open-loop load: step i is due at i / rate seconds and is sent as soon as a connection is
 * free (a late answer delays nothing else; time spent waiting for a connection counts in the
 * latency, so a server that falls behind shows it). Reports per window.
 */
export async function runPaced(opts: PacedOptions): Promise<PacedResult> {
  const u = new URL(opts.url);
  if (u.hostname !== '127.0.0.1' && u.hostname !== 'localhost') {
    throw new Error('runPaced is for loopback targets only');
  }
  const ok = opts.ok ?? ((status) => status === 200);
  const windowMs = opts.windowMs ?? 60_000;
  const idle = Array.from(
    { length: opts.connections },
    () => new Connection(u.hostname, Number(u.port)),
  );
  await Promise.all(idle.map((c) => c.open()));
  const all = [...idle];
  const total = Math.floor((opts.rate * opts.durationMs) / 1000);
  const windows: PacedWindow[] = [];
  let current: number[] = [];
  let every: number[] = [];
  let windowIndex = 0;
  let windowErrors = 0;
  let windowRequests = 0;
  let errors = 0;
  let requests = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  const closeWindow = () => {
    const sorted = Float64Array.from(current).sort();
    // the last window may be shorter
    const span = Math.min(windowMs, performance.now() - t0 - windowIndex * windowMs);
    const w: PacedWindow = {
      index: windowIndex++,
      requests: windowRequests,
      errors: windowErrors,
      rps: (windowRequests / span) * 1000,
      p50Ms: percentile(sorted, 0.5),
      p99Ms: percentile(sorted, 0.99),
      maxMs: sorted.length > 0 ? sorted[sorted.length - 1]! : Number.NaN,
    };
    windows.push(w);
    opts.onWindow?.(w);
    every = every.concat(current);
    current = [];
    windowErrors = 0;
    windowRequests = 0;
  };
  const record = (latencyMs: number | undefined, status: number, body: Buffer, done: number) => {
    while (done - t0 >= (windowIndex + 1) * windowMs) closeWindow();
    requests++;
    windowRequests++;
    if (latencyMs !== undefined) current.push(latencyMs);
    if (!ok(status, body)) {
      errors++;
      windowErrors++;
      firstError ??= `${status} ${body.toString('utf8', 0, 300)}`;
    }
  };

  const backlog: number[] = [];
  let issued = 0;
  let running = 0;
  return new Promise<PacedResult>((resolve, reject) => {
    const finish = () => {
      if (windowRequests > 0 || current.length > 0) closeWindow();
      for (const c of all) c.close();
      const sorted = Float64Array.from(every).sort();
      resolve({
        windows,
        requests,
        errors,
        p50Ms: percentile(sorted, 0.5),
        p99Ms: percentile(sorted, 0.99),
        firstError,
      });
    };
    const step = async (c: Connection, i: number) => {
      running++;
      const due = t0 + (i * 1000) / opts.rate;
      const specs = opts.request(i);
      let first = true;
      for (const spec of Array.isArray(specs) ? specs : [specs]) {
        let r: Response;
        try {
          r = await c.send(spec);
        } catch (e) {
          // a broken connection: counted as an error, reopened for the next step
          r = { status: 0, body: Buffer.from(String(e)), close: true };
          await c.open().catch(reject);
        }
        const now = performance.now();
        record(first ? now - due : undefined, r.status, r.body, now);
        first = false;
      }
      running--;
      idle.push(c);
      dispatch();
    };
    const dispatch = () => {
      while (idle.length > 0 && backlog.length > 0) step(idle.pop()!, backlog.shift()!);
      if (issued >= total && backlog.length === 0 && running === 0) finish();
    };
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) * opts.rate) / 1000) + 1);
      while (issued < due) backlog.push(issued++);
      dispatch();
      if (issued < total) setTimeout(tick, 1);
    };
    tick();
  });
}
