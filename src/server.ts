/** HTTP transport: `/health`, body limits, and everything else handed to the RPC protocol. */
import { createServer, type Server, type ServerResponse, STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
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
}

const EMPTY = Buffer.alloc(0);

function send(res: ServerResponse, r: Rendered, close = false): void {
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

export function createHttpServer(opts: HttpOptions): Server {
  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (req, res) => {
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
    const fail = (e: ApiError, close = false) =>
      send(res, renderError(e, newRequestId(), opts.hostId, guessFormat(head)), close);
    const reply = (body: Buffer) =>
      opts.handle({ ...head, body }).then(
        (r) => send(res, r),
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
  });
  server.on('clientError', (err, socket) => clientError(err, socket, opts.hostId));
  return server;
}

export function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** Stops accepting, lets in-flight requests finish, closes idle keep-alive connections. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
