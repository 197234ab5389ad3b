/**
 * The transport: one listening port for plain HTTP and HTTPS (the first byte of a connection
 * tells: a TLS handshake starts with 0x16), `/health`, body limits, and everything else
 * handed to the RPC protocol.
 *
 * Every answer the transport gives itself is the error envelope, in the format asked for:
 * a request the HTTP parser refuses (400, 431), a header or body that arrives too slowly
 * (408), an unknown `Expect` (417), CONNECT and other methods (405), a body over the limit
 * (413, answered as soon as it is known, without `100 Continue`, and the rest of the body
 * read and dropped so that the client gets to read the answer).
 */
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import { createServer as createHttpsServer, Server as HttpsServer } from 'node:https';
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { DEFAULT_CIPHERS } from 'node:tls';
import { type ApiError, apiError } from './errors.js';
import type { RequestRecord } from './log.js';
import type { RawRequest } from './protocol/authenticate.js';
import { guessFormat } from './protocol/authenticate.js';
import { type Handled, newRequestId } from './protocol/handler.js';
import { bodyLength, type Format, type Rendered, renderError } from './protocol/render.js';

export interface HttpOptions {
  handle(req: RawRequest): Promise<Handled>;
  /** Every request answered, once its answer is written (the access log, the metrics). */
  record?(r: RequestRecord): void;
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
    'content-length': bodyLength(r.body),
  };
  if (close) headers.connection = 'close';
  res.writeHead(r.status, headers);
  if (typeof r.body === 'string') {
    res.end(r.body);
    return;
  }
  // the parts go out in one writev (the HTTP server corks the socket for the tick)
  const last = r.body.length - 1;
  for (let i = 0; i < last; i++) res.write(r.body[i]);
  res.end(r.body[last]);
}

/** Request line and headers: the v3 SDK sends every parameter in the query (100 permissions ≈ 20 KB). */
export const MAX_HEADER_BYTES = 256 * 1024;

/** How long a refused connection is read (and dropped) before it is closed: the answer arrives. */
const LINGER_MS = 2000;

/** A whole HTTP/1.1 response carrying the envelope of `e`, closing the connection. */
function rawResponse(e: ApiError, hostId: string, format: Format, requestId: string): string {
  const r = renderError(e, requestId, hostId, format);
  return (
    `HTTP/1.1 ${r.status} ${STATUS_CODES[r.status]}\r\ncontent-type: ${r.contentType}\r\n` +
    `content-length: ${Buffer.byteLength(r.body)}\r\nconnection: close\r\n\r\n${r.body}`
  );
}

/**
 * Answers on a connection the HTTP server let go of, then closes it lingering. Returns
 * whether it answered: a connection that an earlier answer is closing gets nothing more.
 */
function answerAndLinger(socket: Duplex, response: string): boolean {
  if (!socket.writable) {
    if (!socket.writableEnded) socket.destroy(); // ended: let what was written go out
    return false;
  }
  lingeringEnd(socket, response);
  return true;
}

/**
 * Ends the connection as servers must (RFC 9112, section 9.6): its write side ends (after
 * `last`), and what the client still sends is read and dropped until the client closes or
 * LINGER_MS passes. Closing with unread data would reset the connection, and a reset
 * discards an answer the client has not read yet.
 */
function lingeringEnd(socket: Duplex, last = ''): void {
  socket.on('data', () => {});
  socket.on('error', () => socket.destroy());
  if (socket.writable) socket.end(last);
  const timer = setTimeout(() => socket.destroy(), LINGER_MS).unref();
  socket.once('close', () => clearTimeout(timer));
  const closed = () => {
    if (socket.writableFinished) socket.destroy();
    else socket.once('finish', () => socket.destroy());
  };
  if (socket.readableEnded) closed();
  else socket.once('end', closed);
}

/**
 * The HTTP server ends a connection after an answer that said `Connection: close` with
 * `destroySoon`: its write side, then at once the socket, resetting a client still sending
 * (a body not read, requests behind). It lingers instead.
 */
function lingerOnClose(socket: Socket): void {
  socket.destroySoon = () => lingeringEnd(socket);
}

/** Connections the transport answers itself (or stops answering), from the first error on. */
const refused = new WeakSet<Duplex>();

/**
 * Runs `then` once the response in progress on `socket` to an earlier, complete request (a
 * pipelined one before the one refused) is out, so that answers keep the order of the requests
 * and none is cut off. A response to the request refused itself (its body timed out or is
 * malformed) is not waited for.
 */
function afterInFlight(socket: Duplex, then: () => void): void {
  // what the HTTP server is answering on the connection ('clientError' gives no request)
  const res = (socket as { _httpMessage?: InFlight | null })._httpMessage;
  if (!res || res.closed || !res.req.complete) {
    then();
    return;
  }
  // When the client half-closed, the server ends the connection after its last answer
  // (`_last`), which would leave no room for this one: it is the last now. An answer that
  // itself closes the connection (`Connection: close`) stays the last one.
  res.prependOnceListener('finish', () => {
    if (!CLOSES.test(res._header ?? '')) res._last = false;
  });
  res.once('close', () => afterInFlight(socket, then));
}

/**
 * A response in progress, with the HTTP server's mark of the last one on its connection and
 * the head it sent.
 */
type InFlight = ServerResponse & { _last?: boolean; _header?: string | null };

const CLOSES = /\r\nconnection: *close\r\n/i;

/** Connections whose current request was answered before its body had arrived. */
const answeredEarly = new WeakSet<Duplex>();

/** Notes that `req` is answered before all of it arrived: its rest gets no second answer. */
function answeringEarly(req: IncomingMessage): void {
  if (req.complete) return;
  answeredEarly.add(req.socket);
  req.once('end', () => answeredEarly.delete(req.socket));
}

/** Answers `e` on a connection refused by the transport, after what is in flight; once only. */
function refuseConnection(
  socket: Duplex,
  e: ApiError,
  opts: HttpOptions,
  remote?: string,
  format: Format = 'json',
): void {
  // Once: on TLS the parser still sees the data read while lingering and reports the same
  // error again, which must not cut off the answer on its way out.
  if (refused.has(socket)) return;
  refused.add(socket);
  afterInFlight(socket, () => {
    if (answeredEarly.has(socket)) {
      // the request refused has its answer already (a 413 as soon as its length was known)
      answerAndLinger(socket, '');
      return;
    }
    const id = newRequestId();
    if (answerAndLinger(socket, rawResponse(e, opts.hostId, format, id))) {
      opts.record?.(transportRecord(e, id, remote));
    }
  });
}

/** The record of an answer the transport gave itself. */
function transportRecord(
  e: ApiError,
  requestId: string,
  remote: string | undefined,
): RequestRecord {
  return {
    requestId,
    action: '',
    version: '',
    uid: '',
    accessKeyId: '',
    status: e.status,
    code: e.code,
    latencyMs: 0,
    remote: remote ?? '',
    bytes: 0,
  };
}

/** A request the HTTP parser refused, or one that timed out: the envelope, never a bare status. */
function clientError(err: NodeJS.ErrnoException, socket: Duplex, opts: HttpOptions): void {
  const e =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? apiError('RequestTooLarge#header', MAX_HEADER_BYTES)
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? apiError('RequestTimeout')
        : apiError('BadRequest');
  refuseConnection(socket, e, opts, (socket as Socket).remoteAddress);
}

/** The parts of a request the protocol needs, before the body is read. */
function headOf(req: IncomingMessage): RawRequest {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return {
    method: req.method ?? 'GET',
    path: q < 0 ? url : url.slice(0, q),
    rawQuery: q < 0 ? '' : url.slice(q + 1),
    headers: req.headers,
    body: EMPTY,
  };
}

type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

function requestHandler(opts: HttpOptions): RequestHandler {
  return (req, res) => {
    const head = headOf(req);
    if (head.path === '/health' && head.method === 'GET') {
      answeringEarly(req);
      const ok = opts.ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: ok ? 'ok' : 'starting' }));
      return;
    }
    const closing = () => opts.closing?.() === true;
    const started = performance.now();
    const remote = req.socket.remoteAddress ?? '';
    let bytes = 0;
    /** An error answered before (or instead of) the protocol; the body is read and dropped. */
    const fail = (e: ApiError) => {
      answeringEarly(req);
      req.resume();
      const id = newRequestId();
      send(res, renderError(e, id, opts.hostId, guessFormat(head)), closing());
      opts.record?.({
        ...transportRecord(e, id, remote),
        latencyMs: performance.now() - started,
        bytes,
      });
    };
    const reply = (body: Buffer) =>
      opts.handle({ ...head, body }).then(
        (r) => {
          send(res, r, closing());
          opts.record?.({
            requestId: r.requestId,
            action: r.action,
            version: r.version,
            uid: r.uid,
            accessKeyId: r.accessKeyId,
            status: r.status,
            code: r.code,
            latencyMs: performance.now() - started,
            remote,
            bytes: body.length,
          });
        },
        () => fail(apiError('InternalError')),
      );

    if (req.httpVersionMajor === 1 && req.httpVersionMinor >= 1 && !req.headers.host) {
      fail(apiError('BadRequest#host'));
      return;
    }
    if (head.method !== 'GET' && head.method !== 'POST') {
      fail(apiError('UnsupportedHTTPMethod'));
      return;
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > opts.bodyLimit) {
      fail(apiError('RequestTooLarge', opts.bodyLimit));
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
      bytes = size;
      if (size > opts.bodyLimit) {
        aborted = true;
        chunks.length = 0;
        fail(apiError('RequestTooLarge', opts.bodyLimit));
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
  /** How long a whole request may take to arrive, body included (default 60 s). */
  requestTimeoutMs?: number;
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

/** The transport's own answers, on either inner server. */
function guard(server: Server, opts: HttpOptions, handle: RequestHandler): void {
  server.on('clientError', (err, socket) => clientError(err, socket, opts));
  // the socket the HTTP machinery writes to: the TLS one on HTTPS
  server.on(server instanceof HttpsServer ? 'secureConnection' : 'connection', lingerOnClose);
  // `Expect: 100-continue`: go on only for a body that will be read; refuse others at once.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (Number(req.headers['content-length'] ?? 0) > opts.bodyLimit) {
      refuse(req, apiError('RequestTooLarge', opts.bodyLimit), opts);
      return;
    }
    res.writeContinue();
    handle(req, res);
  });
  server.on('checkExpectation', (req: IncomingMessage) => {
    refuse(req, apiError('ExpectationFailed'), opts);
  });
  server.on('connect', (req: IncomingMessage, socket: Duplex) => {
    refuseConnection(socket, apiError('UnsupportedHTTPMethod'), opts, req.socket.remoteAddress);
  });
  // A request asking to switch protocols (`Upgrade` with `Connection` or `Proxy-Connection:
  // upgrade`): without this the parser hands the connection over, and a body it cannot
  // parse closed it with no answer (found by the fuzzer).
  server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    refuseConnection(
      socket,
      apiError('BadRequest#upgrade'),
      opts,
      req.socket.remoteAddress,
      guessFormat(headOf(req)),
    );
  });
}

/** Answers `e` and closes the connection (the request's body is dropped). */
function refuse(req: IncomingMessage, e: ApiError, opts: HttpOptions): void {
  // The client may send the body without waiting for `100 Continue`: it is read and dropped
  // while the connection lingers, or closing with it unread would reset the connection before
  // the client read the answer.
  req.resume();
  refuseConnection(req.socket, e, opts, req.socket.remoteAddress, guessFormat(headOf(req)));
}

export function createFrontDoor(opts: FrontDoorOptions): FrontDoor {
  let stopping = false;
  const headerMs = opts.headerTimeoutMs ?? 10_000;
  const inner: HttpOptions = { ...opts, closing: () => stopping || opts.closing?.() === true };
  const handle = requestHandler(inner);
  const requestMs = Math.max(headerMs, opts.requestTimeoutMs ?? 60_000);
  const common = {
    maxHeaderSize: MAX_HEADER_BYTES,
    requireHostHeader: false,
    headersTimeout: headerMs,
    requestTimeout: requestMs,
    // how often the timeouts are checked: a tenth of the header timeout, at most 1 s
    connectionsCheckingInterval: Math.min(1000, Math.ceil(headerMs / 10)),
  };
  const http = createServer(common, handle);
  guard(http, inner, handle);
  const servers: Server[] = [http];
  let https: Server | undefined;
  if (opts.tls) {
    https = createHttpsServer(
      {
        ...common,
        cert: opts.tls.cert,
        key: opts.tls.key,
        handshakeTimeout: headerMs,
        // AES-128-GCM first: as safe, and cheaper per byte than the default AES-256-GCM
        ciphers: `TLS_AES_128_GCM_SHA256:${DEFAULT_CIPHERS}`,
        honorCipherOrder: true,
      },
      handle,
    );
    guard(https, inner, handle);
    // A failed handshake (garbage, a timeout) ends that connection only.
    https.on('tlsClientError', (_err, socket) => socket.destroy());
    servers.push(https);
  }
  for (const s of servers) {
    s.keepAliveTimeout = opts.keepAliveTimeoutMs ?? 65_000;
    // A client may half-close (FIN) once its request is sent: the answers still in the
    // works are written, then the connection ends. Node's default ends the connection at
    // the FIN, which lost every answer not ready by then.
    (s as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
    // The inner servers never listen themselves; 'listening' starts their connection
    // tracking (header and request timeouts, idle connections).
    s.emit('listening');
  }
  /** Connections that have not sent their first byte yet (no inner server has them). */
  const waiting = new Set<Socket>();
  // Half-open, so that a FIN does not end the writing side before the answers are out.
  const outer = createNetServer({ allowHalfOpen: true }, (socket) => {
    waiting.add(socket);
    socket.on('error', () => socket.destroy());
    socket.once('close', () => waiting.delete(socket));
    // closed before its first byte: nothing to answer
    socket.once('end', () => {
      if (waiting.has(socket)) socket.destroy();
    });
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
