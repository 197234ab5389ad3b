/**
 * The fuzzer's two kinds of connection: a probe (one raw case on a fresh connection, plain or
 * TLS, written in segments, then kept open, half-closed or destroyed) and a keep-alive
 * connection for signed requests, one at a time. Both read answers with `parseAnswer` and give
 * up after a deadline: an answer that does not come while the connection stays open is a hang.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { type Answer, parseAnswer } from './answer.js';

const HOST = '127.0.0.1';
/** Received bytes kept for a finding. */
const KEEP_BYTES = 256 * 1024;

export interface Target {
  port: number;
  /** The CA of the server's certificate (PEM), for TLS connections. */
  ca: string;
}

export interface ProbeCase {
  /** Written in order, `gapMs` apart. */
  segments: Buffer[];
  gapMs: number;
  tls: boolean;
  /** After the last segment: wait, half-close (FIN), or destroy the connection. */
  close: 'keep' | 'half' | 'destroy';
  /** Methods of the requests in it, in order (a HEAD is answered without a body). */
  methods: string[];
  /** Whether `methods` is exact: the framing was not mutated, each request gets an answer. */
  framed: boolean;
}

export type Ending =
  /** Every expected answer arrived (or the first, when the framing is unknown). */
  | 'complete'
  /** The server closed the connection (possibly after some answers). */
  | 'closed'
  /** The deadline passed with the connection open and answers missing. */
  | 'hang'
  /** The fuzzer destroyed the connection on purpose; nothing is judged. */
  | 'aborted'
  /** Bytes that are not an HTTP response. */
  | 'garbage'
  /** No connection (or no TLS session) could be made. */
  | 'connect-failed';

export interface ProbeResult {
  ending: Ending;
  answers: Answer[];
  /** For each answer, whether it answers a HEAD. */
  heads: boolean[];
  received: Buffer;
  /** Bytes of an answer that had begun when the connection closed. */
  partial: boolean;
  reason?: string;
  error?: string;
}

function open(t: Target, tls: boolean, onReady: () => void): Socket {
  if (!tls) {
    const s = netConnect({ host: HOST, port: t.port, noDelay: true }, onReady);
    return s;
  }
  const s = tlsConnect({ host: HOST, port: t.port, ca: t.ca, servername: 'localhost' }, () => {
    s.setNoDelay(true);
    onReady();
  });
  return s;
}

/** Runs one raw case; `deadlineMs` counts from the last segment written. */
export function probe(t: Target, c: ProbeCase, deadlineMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const answers: Answer[] = [];
    const heads: boolean[] = [];
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let buf: Buffer = Buffer.alloc(0);
    let done = false;
    let closed = false;
    let error: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    let gapTimer: NodeJS.Timeout | undefined;
    const expected = c.framed ? Math.max(1, c.methods.length) : 1;

    const finish = (ending: Ending, reason?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(gapTimer);
      socket.destroy();
      resolve({
        ending,
        answers,
        heads,
        received: Buffer.concat(kept),
        partial: buf.length > 0,
        reason,
        error,
      });
    };

    const parse = () => {
      while (!done && buf.length > 0) {
        let head = c.methods[answers.length] === 'HEAD';
        let r = parseAnswer(buf, head, closed);
        if (
          head &&
          r.kind === 'answer' &&
          /close/i.test(r.answer.headers.get('connection') ?? '')
        ) {
          // a request the parser refused is answered in full, HEAD or not, then closed: a body
          // follows the headers, or the close does
          if (buf.length > r.consumed) {
            head = false;
            r = parseAnswer(buf, false, closed);
          } else if (!closed) return;
        }
        if (r.kind === 'partial') return;
        if (r.kind === 'garbage') {
          finish('garbage', r.reason);
          return;
        }
        buf = buf.subarray(r.consumed);
        if (r.answer.status >= 100 && r.answer.status < 200) continue; // 100 Continue
        answers.push(r.answer);
        heads.push(head);
        if (answers.length >= expected) finish('complete');
      }
    };

    const socket = open(t, c.tls, () => write(0));
    socket.on('data', (d: Buffer) => {
      if (done) return;
      if (keptBytes < KEEP_BYTES) {
        kept.push(d);
        keptBytes += d.length;
      }
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      parse();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error ??= e.code ?? e.message;
    });
    socket.on('close', () => {
      closed = true;
      parse();
      if (done) return;
      if (!connected) finish('connect-failed');
      else finish('closed');
    });
    let connected = false;

    const write = (i: number) => {
      connected = true;
      if (done || socket.destroyed) return;
      if (i < c.segments.length) {
        socket.write(c.segments[i]!);
        if (i + 1 < c.segments.length) {
          gapTimer = setTimeout(() => write(i + 1), c.gapMs);
          return;
        }
      }
      if (c.close === 'destroy') {
        finish('aborted');
        return;
      }
      if (c.close === 'half') socket.end();
      timer = setTimeout(() => finish('hang'), deadlineMs);
    };
  });
}

export type Exchange =
  | { kind: 'answer'; answer: Answer; received: Buffer }
  | { kind: 'closed'; partial: boolean; received: Buffer; error?: string }
  | { kind: 'hang'; received: Buffer }
  | { kind: 'garbage'; reason: string; received: Buffer }
  | { kind: 'connect-failed'; error?: string };

/** One keep-alive connection: a request at a time; reopened after the server closed it. */
export class KeepAlive {
  private socket: Socket | undefined;
  private buf: Buffer = Buffer.alloc(0);
  private kept: Buffer[] = [];
  private pending: ((e: Exchange) => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closeAfter = false;

  constructor(
    private readonly target: Target,
    readonly tls: boolean,
  ) {}

  private connect(): Promise<boolean> {
    return new Promise((resolve) => {
      let ready = false;
      const s = open(this.target, this.tls, () => {
        ready = true;
        resolve(true);
      });
      s.on('data', (d: Buffer) => {
        if (s !== this.socket) return;
        this.kept.push(d);
        this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
        this.parse(false);
      });
      s.on('error', () => {});
      s.on('close', () => {
        if (!ready) resolve(false);
        if (s !== this.socket) return;
        this.socket = undefined;
        this.parse(true);
        this.settle({
          kind: 'closed',
          partial: this.buf.length > 0,
          received: Buffer.concat(this.kept),
        });
      });
      this.socket = s;
      this.buf = Buffer.alloc(0);
    });
  }

  private settle(e: Exchange) {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    clearTimeout(this.timer);
    p(e);
  }

  private parse(closed: boolean) {
    if (!this.pending) return;
    for (;;) {
      const r = parseAnswer(this.buf, false, closed);
      if (r.kind === 'partial') return;
      if (r.kind === 'garbage') {
        const received = Buffer.concat(this.kept);
        this.drop();
        this.settle({ kind: 'garbage', reason: r.reason, received });
        return;
      }
      this.buf = this.buf.subarray(r.consumed);
      if (r.answer.status >= 100 && r.answer.status < 200) continue;
      const close = /close/i.test(r.answer.headers.get('connection') ?? '');
      if (close || this.buf.length > 0) this.closeAfter = true;
      this.settle({ kind: 'answer', answer: r.answer, received: Buffer.concat(this.kept) });
      return;
    }
  }

  private drop() {
    const s = this.socket;
    this.socket = undefined;
    s?.destroy();
  }

  /** Sends one request and waits for its answer, at most `deadlineMs`. */
  async send(bytes: Buffer, deadlineMs: number): Promise<Exchange> {
    if (this.closeAfter) {
      this.closeAfter = false;
      this.drop();
    }
    if (!this.socket && !(await this.connect())) return { kind: 'connect-failed' };
    this.kept = [];
    return new Promise<Exchange>((resolve) => {
      this.pending = resolve;
      this.timer = setTimeout(() => {
        const received = Buffer.concat(this.kept);
        this.drop();
        this.settle({ kind: 'hang', received });
      }, deadlineMs);
      this.socket!.write(bytes);
    });
  }

  close() {
    this.drop();
  }
}
