/**
 * The transport: one listening port for plain HTTP and HTTPS (the first byte of a connection
 * tells: a TLS handshake starts with 0x16), `/health`, body limits, and everything else
 * handed to the RPC protocol.
 */
import { createServer, type Server, type ServerResponse, STATUS_CODES } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { DEFAULT_CIPHERS } from 'node:tls';
import { type ApiError, apiError } from './errors.js';
import type { RawRequest } from './protocol/authenticate.js';
import { guessFormat } from './protocol/authenticate.js';
import { newRequestId } from './protocol/handler.js';
import { type Rendered, renderError } from './protocol/render.js';

export interface HttpOptions {
  handle(req: RawRequest): Promise<Rendered>;
  /** Largest accepted request body, in bytes. */
  bodyLimit: number;
  hostId: string;
  ready(): boolean;
  /** Once true, every response closes its connection (the server is stopping). */
  closing?(): boolean;
}

const EMPTY = Buffer.alloc(0);

function send(res: ServerResponse, r: Rendered, close: boolean): void {
  const headers: Record<string, string | number> = {
    'content-type': r.contentType,
    'content-length': Buffer.byteLength(r.body),
  };
  if (close) headers.connection = 'close';
  res.writeHead(r.status, headers);
  res.end(r.body);
}

/** Request line and headers: the v3 SDK sends every parameter in the query (100 permissions ≈ 20 KB). */
export const MAX_HEADER_BYTES = 256 * 1024;

/** A request the HTTP parser refused: answered with the JSON error envelope, never a bare status. */
function clientError(err: NodeJS.ErrnoException, socket: Duplex, hostId: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const e =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? apiError('RequestTooLarge#header', MAX_HEADER_BYTES)
      : apiError('BadRequest');
  const r = renderError(e, newRequestId(), hostId, 'json');
  socket.end(
    `HTTP/1.1 ${r.status} ${STATUS_CODES[r.status]}\r\ncontent-type: ${r.contentType}\r\n` +
      `content-length: ${Buffer.byteLength(r.body)}\r\nconnection: close\r\n\r\n${r.body}`,
  );
}

type RequestHandler = Parameters<typeof createServer>[1] & {};

function requestHandler(opts: HttpOptions): RequestHandler {
  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const head: RawRequest = {
      method: req.method ?? 'GET',
      path: q < 0 ? url : url.slice(0, q),
      rawQuery: q < 0 ? '' : url.slice(q + 1),
      headers: req.headers,
      body: EMPTY,
    };
    if (head.path === '/health' && head.method === 'GET') {
      const ok = opts.ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: ok ? 'ok' : 'starting' }));
      return;
    }
    /** An error answered before (or instead of) the protocol, in the format asked for. */
    const closing = () => opts.closing?.() === true;
    const fail = (e: ApiError, close = false) =>
      send(res, renderError(e, newRequestId(), opts.hostId, guessFormat(head)), close || closing());
    const reply = (body: Buffer) =>
      opts.handle({ ...head, body }).then(
        (r) => send(res, r, closing()),
        () => fail(apiError('InternalError')),
      );

    if (head.method !== 'GET' && head.method !== 'POST') {
      fail(apiError('UnsupportedHTTPMethod'));
      req.resume();
      return;
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > opts.bodyLimit) {
      fail(apiError('RequestTooLarge', opts.bodyLimit), true);
      req.resume(); // drain without buffering
      return;
    }
    if (declared === 0 && req.headers['transfer-encoding'] === undefined) {
      req.resume(); // no body: answer without waiting for the stream to end
      reply(EMPTY);
      return;
    }

    const chunks: Buffer[] = [];
    let size = 0;
    let aborted = false;
    req.on('data', (chunk: Buffer) => {
      if (aborted) return;
      size += chunk.length;
      if (size > opts.bodyLimit) {
        aborted = true;
        chunks.length = 0;
        fail(apiError('RequestTooLarge', opts.bodyLimit), true);
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!aborted) reply(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
  };
}

export interface FrontDoorOptions extends HttpOptions {
  /** Certificate and key for HTTPS on the same port; without them only plain HTTP. */
  tls?: { cert: string; key: string };
  /**
   * How long a connection may take to send its first byte, finish its TLS handshake, and
   * send a request's line and headers (default 10 s).
   */
  headerTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
}

/** The listening side: plain HTTP and HTTPS on one port. */
export interface FrontDoor {
  listen(host: string, port: number): Promise<AddressInfo>;
  /** Stops accepting, lets in-flight requests finish, closes idle keep-alive connections. */
  close(): Promise<void>;
  /** The inner servers (HTTP, and HTTPS when configured), for their timeouts. */
  readonly servers: readonly Server[];
}

const TLS_HANDSHAKE = 0x16;

export function createFrontDoor(opts: FrontDoorOptions): FrontDoor {
  let stopping = false;
  const headerMs = opts.headerTimeoutMs ?? 10_000;
  const handle = requestHandler({ ...opts, closing: () => stopping || opts.closing?.() === true });
  const onClientError = (err: NodeJS.ErrnoException, socket: Duplex) =>
    clientError(err, socket, opts.hostId);
  const http = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, handle);
  http.on('clientError', onClientError);
  const servers: Server[] = [http];
  let https: Server | undefined;
  if (opts.tls) {
    https = createHttpsServer(
      {
        cert: opts.tls.cert,
        key: opts.tls.key,
        maxHeaderSize: MAX_HEADER_BYTES,
        handshakeTimeout: headerMs,
        // AES-128-GCM first: as safe, and cheaper per byte than the default AES-256-GCM
        ciphers: `TLS_AES_128_GCM_SHA256:${DEFAULT_CIPHERS}`,
        honorCipherOrder: true,
      },
      handle,
    );
    https.on('clientError', onClientError);
    // A failed handshake (garbage, a timeout) ends that connection only.
    https.on('tlsClientError', (_err, socket) => socket.destroy());
    servers.push(https);
  }
  for (const s of servers) {
    s.keepAliveTimeout = opts.keepAliveTimeoutMs ?? 65_000;
    s.headersTimeout = headerMs;
    // The inner servers never listen themselves; 'listening' starts their connection
    // tracking (header and request timeouts, idle connections).
    s.emit('listening');
  }
  /** Connections that have not sent their first byte yet (no inner server has them). */
  const waiting = new Set<Socket>();
  const outer = createNetServer((socket) => {
    waiting.add(socket);
    socket.on('error', () => socket.destroy());
    socket.once('close', () => waiting.delete(socket));
    socket.setTimeout(headerMs, () => socket.destroy());
    socket.once('data', (chunk: Buffer) => {
      waiting.delete(socket);
      socket.pause();
      socket.setTimeout(0);
      socket.unshift(chunk);
      if (chunk[0] === TLS_HANDSHAKE && https) {
        https.emit('connection', socket); // the TLS socket reads what was put back
      } else {
        http.emit('connection', socket);
        socket.resume(); // the HTTP parser reads it as the socket flows
      }
    });
  });
  return {
    servers,
    listen(host, port) {
      return new Promise((resolve, reject) => {
        outer.once('error', reject);
        outer.listen(port, host, () => {
          outer.off('error', reject);
          resolve(outer.address() as AddressInfo);
        });
      });
    },
    close() {
      stopping = true;
      return new Promise((resolve) => {
        outer.close(() => resolve());
        for (const s of servers) s.close(); // stops its timers, closes idle connections
        for (const socket of waiting) socket.destroy();
      });
    },
  };
}
