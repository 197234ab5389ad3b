/**
 * The probe inside a lab interface's namespace (started with `lab exec eni-… -- node
 * prober.js`). Echo servers on the probe ports, and on request — one JSON object per line on
 * stdin, the answer one per line on stdout — real packets to another interface: a TCP connect
 * that sends data and waits for its echo, a UDP datagram and its echo, an ICMP echo (ping),
 * and long-lived TCP connections that send on demand. Each answers `ok` or why not.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { createInterface } from 'node:readline';

export const TCP_PORTS = [22, 80, 443, 3306, 8080];
export const UDP_PORTS = [53, 123, 5000];

export type Request =
  | {
      id: number;
      op: 'tcp' | 'udp';
      to: string;
      port: number;
      from?: string;
      sport?: number;
      timeoutMs: number;
    }
  | { id: number; op: 'ping'; to: string; from?: string; timeoutMs: number }
  | {
      id: number;
      op: 'open';
      to: string;
      port: number;
      from?: string;
      sport?: number;
      timeoutMs: number;
    }
  | { id: number; op: 'send'; handle: number; timeoutMs: number }
  | { id: number; op: 'close'; handle: number };

export interface Answer {
  id: number;
  ok: boolean;
  error?: string;
  handle?: number;
}

const held = new Map<number, { socket: Socket; pending: Buffer }>();
let handles = 0;

function reply(a: Answer): void {
  process.stdout.write(`${JSON.stringify(a)}\n`);
}

/** Resolves true when `data` comes back on `socket` within `ms`. */
function echoed(
  socket: Socket,
  box: { pending: Buffer },
  data: Buffer,
  ms: number,
): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(false), ms);
    const check = () => {
      const i = box.pending.indexOf(data);
      if (i >= 0) {
        box.pending = box.pending.subarray(i + data.length);
        done(true);
      }
    };
    const onData = (d: Buffer) => {
      box.pending = Buffer.concat([box.pending, d]);
      check();
    };
    function done(v: boolean) {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', closed);
      resolve(v);
    }
    const closed = () => done(false);
    socket.on('data', onData);
    socket.once('close', closed);
    socket.write(data);
    check();
  });
}

function openTcp(r: {
  to: string;
  port: number;
  from?: string;
  sport?: number;
  timeoutMs: number;
}): Promise<Socket | string> {
  return new Promise((resolve) => {
    const socket = tcpConnect({
      host: r.to,
      port: r.port,
      localAddress: r.from,
      localPort: r.sport,
    });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('timeout');
    }, r.timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(e.code ?? e.message);
    });
  });
}

async function handle(r: Request): Promise<Answer> {
  const payload = Buffer.from(`probe-${process.pid}-${r.id}\n`);
  if (r.op === 'tcp') {
    const s = await openTcp(r);
    if (typeof s === 'string') return { id: r.id, ok: false, error: s };
    const ok = await echoed(s, { pending: Buffer.alloc(0) }, payload, r.timeoutMs);
    s.destroy();
    return { id: r.id, ok, error: ok ? undefined : 'no echo' };
  }
  if (r.op === 'open') {
    const s = await openTcp(r);
    if (typeof s === 'string') return { id: r.id, ok: false, error: s };
    s.on('error', () => {});
    const h = ++handles;
    held.set(h, { socket: s, pending: Buffer.alloc(0) });
    return { id: r.id, ok: true, handle: h };
  }
  if (r.op === 'send') {
    const h = held.get(r.handle);
    if (!h) return { id: r.id, ok: false, error: 'no such connection' };
    const ok = await echoed(h.socket, h, payload, r.timeoutMs);
    return { id: r.id, ok, error: ok ? undefined : 'no echo' };
  }
  if (r.op === 'close') {
    held.get(r.handle)?.socket.destroy();
    held.delete(r.handle);
    return { id: r.id, ok: true };
  }
  if (r.op === 'udp') {
    return new Promise((resolve) => {
      const sock = createSocket('udp4');
      const timer = setTimeout(() => finish(false, 'timeout'), r.timeoutMs);
      function finish(ok: boolean, error?: string) {
        clearTimeout(timer);
        sock.close();
        resolve({ id: r.id, ok, error });
      }
      sock.on('error', (e) => finish(false, e.message));
      sock.on('message', (m) => {
        if (m.equals(payload)) finish(true);
      });
      sock.bind({ address: r.from, port: r.sport ?? 0 }, () => sock.send(payload, r.port, r.to));
    });
  }
  return new Promise((resolve) => {
    const args = [
      '-n',
      '-c',
      '1',
      '-W',
      String(r.timeoutMs / 1000),
      ...(r.from ? ['-I', r.from] : []),
      r.to,
    ];
    const p = spawn('ping', args, { stdio: 'ignore' });
    p.on('exit', (code) =>
      resolve({ id: r.id, ok: code === 0, error: code === 0 ? undefined : `ping exit ${code}` }),
    );
  });
}

function listen(): Promise<void> {
  const started: Promise<void>[] = [];
  for (const port of TCP_PORTS) {
    const srv = createServer((s) => {
      s.on('error', () => {});
      s.pipe(s);
    });
    started.push(new Promise((r) => srv.listen(port, '0.0.0.0', r)));
  }
  // A reply from a socket bound to 0.0.0.0 leaves from the primary address whatever address
  // the request came to: each address gets a socket of its own (the most specific one
  // receives), so an echo to a secondary address comes back from it, as conntrack expects.
  const own = Object.values(networkInterfaces())
    .flat()
    .flatMap((a) => (a && a.family === 'IPv4' && !a.internal ? [a.address] : []));
  for (const port of UDP_PORTS) {
    for (const address of ['0.0.0.0', ...own]) {
      const sock = createSocket({ type: 'udp4', reuseAddr: true });
      sock.on('message', (m, from) => sock.send(m, from.port, from.address));
      started.push(new Promise((r) => sock.bind(port, address, r)));
    }
  }
  return Promise.all(started).then(() => {});
}

if (process.argv[1]?.endsWith('prober.js')) {
  await listen();
  reply({ id: 0, ok: true });
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const r = JSON.parse(line) as Request;
    handle(r).then(reply, (e) => reply({ id: r.id, ok: false, error: String(e) }));
  });
  lines.on('close', () => process.exit(0));
}
