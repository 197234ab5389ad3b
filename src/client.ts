/**
 * A minimal signed RPC client (signature v1, form POST, JSON) for the command line. The endpoint may be
 * given with or without a scheme (`127.0.0.1:8080`, `http://…`, `https://…`, `[::1]:8080`);
 * HTTPS trusts `ca` (the service's local CA) besides the usual roots. Errors name the
 * endpoint and the cause; the signed URL is never part of them.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import { percentEncode } from './protocol/encode.js';
import { signV1, v1StringToSign } from './protocol/signature.js';

export interface ClientOptions {
  endpoint: string;
  accessKeyId: string;
  accessKeySecret: string;
  version?: string;
  /** CA certificate file (PEM) for an https:// endpoint. */
  caFile?: string;
  timeoutMs?: number;
}

/** The API answered with an error envelope. */
export class RpcError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/** The request could not be made (bad endpoint, unreachable, not this service). */
export class ClientError extends Error {}

/** `host:port`, `http://host:port` or `https://host:port` (IPv6 in brackets) → its origin. */
export function parseEndpoint(endpoint: string): URL {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `http://${endpoint}`;
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new ClientError(
      `--endpoint ${JSON.stringify(endpoint)} is not an endpoint (host:port, http://host:port or https://host:port; IPv6 in brackets)`,
    );
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new ClientError(
      `--endpoint ${JSON.stringify(endpoint)}: only http:// and https:// are served`,
    );
  }
  if ((u.pathname !== '/' && u.pathname !== '') || u.search !== '' || u.username !== '') {
    throw new ClientError(
      `--endpoint ${JSON.stringify(endpoint)}: give the origin only (no path, query or user)`,
    );
  }
  return u;
}

/** The CA file to trust: the one given, else the service's default one when it exists. */
export function defaultCaFile(given?: string): string | undefined {
  if (given !== undefined) return given;
  const env = process.env.ECS_SECGROUP_CA_FILE;
  if (env) return env;
  return existsSync('data/tls/ca.pem') ? 'data/tls/ca.pem' : undefined;
}

function readCa(file: string | undefined): string[] | undefined {
  if (file === undefined) return undefined;
  try {
    return [...rootCertificates, readFileSync(file, 'utf8')];
  } catch (e) {
    throw new ClientError(`--ca ${file} cannot be read (${(e as NodeJS.ErrnoException).code})`);
  }
}

/** Calls `action`: a signed (v1) POST with the parameters as a form body, answered in JSON. */
export async function callRpc(
  opts: ClientOptions,
  action: string,
  params: Record<string, string>,
  signal?: AbortSignal,
): Promise<Record<string, unknown>> {
  const origin = parseEndpoint(opts.endpoint);
  const all: [string, string][] = Object.entries({
    ...params,
    Action: action,
    Version: opts.version ?? '2014-05-26',
    Format: 'JSON',
    AccessKeyId: opts.accessKeyId,
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureNonce: randomUUID(),
    Timestamp: `${new Date().toISOString().slice(0, 19)}Z`,
  });
  all.push(['Signature', signV1(v1StringToSign('POST', all), opts.accessKeySecret)]);
  const form = all.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&');
  const tls = origin.protocol === 'https:';
  const ca = tls ? readCa(opts.caFile) : undefined;
  const { status, text } = await new Promise<{ status: number; text: string }>(
    (resolve, reject) => {
      const send = tls ? httpsRequest : httpRequest;
      const req = send(
        {
          host: origin.hostname.replace(/^\[|\]$/g, ''),
          port: origin.port || (tls ? 443 : 80),
          path: '/',
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'content-length': Buffer.byteLength(form),
          },
          // a caller's signal bounds the call itself (a long poll outlasts the default)
          timeout: opts.timeoutMs ?? (signal ? 0 : 30_000),
          ...(signal ? { signal } : {}),
          ...(ca ? { ca } : {}),
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => {
            body += d;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: body }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () =>
        req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })),
      );
      req.on('error', reject);
      req.end(form);
    },
  ).catch((e: NodeJS.ErrnoException) => {
    if (signal?.aborted) throw signal.reason ?? e;
    const code = e.code ?? e.message;
    const hint = /CERT|VERIFY|SELF_SIGNED|ISSUER/.test(code)
      ? ` (its certificate is not trusted: give --ca FILE, e.g. DATA/tls/ca.pem)`
      : '';
    throw new ClientError(`cannot reach ${origin.origin}: ${code}${hint}`);
  });
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new ClientError(
      `${origin.origin} answered HTTP ${status} with no JSON: is it ecs-secgroup?`,
    );
  }
  if (status < 200 || status > 299) {
    throw new RpcError(String(body.Code), status, String(body.Message));
  }
  return body;
}
