/**
 * Clients for integration tests: the official SDKs pointed at a test server, and
 * hand-built signed requests (v1 HMAC-SHA1 and v3 ACS3-HMAC-SHA256) implemented here
 * independently of src/protocol, so the server's verification is cross-checked.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import EcsMod from '@alicloud/ecs20140526';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import RPCClient from '@alicloud/pop-core';
import VpcMod from '@alicloud/vpc20160428';
import { encodeParams, isoSeconds, type V1Options, v1Params, v3CanonicalRef } from './sign.js';

export * from './sign.js';

/** What the helpers need of a server: `url` (`http://127.0.0.1:P`) and `host` (`127.0.0.1:P`). */
export interface Endpoint {
  url: string;
  host: string;
}

export interface Credentials {
  /** Default `test` (the default account's key). */
  accessKeyId?: string;
  /** Default `test`. */
  secret?: string;
}

export const ECS_VERSION = '2014-05-26';
export const VPC_VERSION = '2016-04-28';

const Ecs = EcsMod.default;
const Vpc = VpcMod.default;
export type EcsClient = InstanceType<typeof EcsMod.default>;
export type VpcClient = InstanceType<typeof VpcMod.default>;

function sdkConfig(srv: Endpoint, opts: Credentials & { v1?: boolean; regionId?: string }) {
  return new $OpenApiUtil.Config({
    accessKeyId: opts.accessKeyId ?? 'test',
    accessKeySecret: opts.secret ?? 'test',
    regionId: opts.regionId ?? 'cn-hangzhou',
    endpoint: srv.host,
    protocol: 'http',
    ...(opts.v1 ? { signatureAlgorithm: 'v2' } : {}),
  });
}

/** `@alicloud/ecs20140526`; v3 signatures by default, v1 (`signatureAlgorithm:'v2'`) with `v1`. */
export function ecsClient(
  srv: Endpoint,
  opts: Credentials & { v1?: boolean; regionId?: string } = {},
): EcsClient {
  return new Ecs(sdkConfig(srv, opts));
}

/** `@alicloud/vpc20160428`, same options as `ecsClient`. */
export function vpcClient(
  srv: Endpoint,
  opts: Credentials & { v1?: boolean; regionId?: string } = {},
): VpcClient {
  return new Vpc(sdkConfig(srv, opts));
}

/**
 * `@alicloud/pop-core` RPCClient (v1 signatures). `client.request(action, params,
 * {method:'GET'|'POST'})`; GET is its default. API version defaults to ECS 2014-05-26.
 */
export function popClient(
  srv: Endpoint,
  opts: Credentials & { apiVersion?: string } = {},
): RPCClient {
  return new RPCClient({
    endpoint: srv.url,
    apiVersion: opts.apiVersion ?? ECS_VERSION,
    accessKeyId: opts.accessKeyId ?? 'test',
    accessKeySecret: opts.secret ?? 'test',
  });
}

// ---------------------------------------------------------------------------------------
// Raw HTTP

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Parsed JSON when the body is JSON, else the raw text. */
  // biome-ignore lint/suspicious/noExplicitAny: tests navigate arbitrary response bodies
  body: any;
  /** The raw body text. */
  text: string;
}

export interface RawRequestOptions {
  method?: string;
  /** Path and query, e.g. `/?Action=…`; default `/`. */
  path?: string;
  headers?: Record<string, string | number>;
  body?: string | Buffer;
  timeoutMs?: number;
  /** Over TLS to the same port, trusting this CA (PEM text). */
  tlsCa?: string;
}

/** One HTTP(S) request on a fresh connection (no keep-alive pooling between tests). */
export function rawRequest(srv: Endpoint, opts: RawRequestOptions = {}): Promise<RawResponse> {
  const u = new URL(srv.url);
  const send = opts.tlsCa === undefined ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      {
        host: u.hostname,
        port: Number(u.port),
        method: opts.method ?? 'GET',
        path: opts.path ?? '/',
        headers: opts.headers,
        agent: false,
        timeout: opts.timeoutMs ?? 15_000,
        ...(opts.tlsCa === undefined ? {} : { ca: opts.tlsCa, servername: 'localhost' }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(opts.body);
  });
}

// ---------------------------------------------------------------------------------------
// Signature v1 by hand

/**
 * A v1-signed request. `params` are the request params, including `Action` and `Version`
 * (e.g. `{Action:'DescribeRegions', Version:'2014-05-26'}`) and business params; the
 * other common params are added unless present in `params` or named in `opts.omit`.
 */
export function signedV1(
  srv: Endpoint,
  params: Record<string, string>,
  opts: V1Options = {},
): Promise<RawResponse> {
  const method = opts.method ?? 'GET';
  const all = v1Params(method, params, opts);
  opts.tamper?.(all);

  const headers: Record<string, string | number> = { ...opts.headers };
  let query: Record<string, string> = all;
  let body: string | undefined;
  if (method === 'POST' && opts.form) {
    const COMMON = new Set([
      'Action',
      'Version',
      'Format',
      'Timestamp',
      'SignatureMethod',
      'SignatureVersion',
      'SignatureNonce',
      'AccessKeyId',
      'Signature',
      'SecurityToken',
    ]);
    query = {};
    const business: Record<string, string> = {};
    for (const [k, v] of Object.entries(all)) (COMMON.has(k) ? query : business)[k] = v;
    body = encodeParams(business);
    headers['content-type'] = 'application/x-www-form-urlencoded';
    headers['content-length'] = Buffer.byteLength(body);
  } else if (method === 'POST') {
    headers['content-length'] = 0;
  }
  return rawRequest(srv, {
    method,
    path: `/?${encodeParams(query)}`,
    headers,
    body,
    tlsCa: opts.tlsCa,
  });
}

// ---------------------------------------------------------------------------------------
// Signature v3 by hand

export interface V3Options extends Credentials {
  /** Default POST. */
  method?: string;
  body?: string | Buffer;
  /** Extra headers; those named `x-acs-*`, `host` or `content-type` are signed. */
  headers?: Record<string, string>;
  /** `x-acs-date`; default now. */
  date?: string;
  /** `x-acs-signature-nonce`; default a fresh UUID. */
  nonce?: string;
  /** Change the query after signing. */
  tamper?: (query: Record<string, string>, headers: Record<string, string>) => void;
}

/** A v3 (ACS3-HMAC-SHA256) request: action/version in headers, `query` in the URL. */
export function signedV3(
  srv: Endpoint,
  action: string,
  version: string,
  query: Record<string, string> = {},
  opts: V3Options = {},
): Promise<RawResponse> {
  const method = opts.method ?? 'POST';
  const body = opts.body ?? '';
  const payloadHash = createHash('sha256').update(body).digest('hex');
  const headers: Record<string, string> = {
    host: srv.host,
    'x-acs-action': action,
    'x-acs-version': version,
    'x-acs-date': opts.date ?? isoSeconds(),
    'x-acs-signature-nonce': opts.nonce ?? randomUUID(),
    'x-acs-content-sha256': payloadHash,
    accept: 'application/json',
    ...opts.headers,
  };
  const q = { ...query };
  const { canonical, signedHeaders } = v3CanonicalRef(method, q, headers, payloadHash);
  const stringToSign = `ACS3-HMAC-SHA256\n${createHash('sha256').update(canonical).digest('hex')}`;
  const signature = createHmac('sha256', opts.secret ?? 'test')
    .update(stringToSign)
    .digest('hex');
  headers.authorization = `ACS3-HMAC-SHA256 Credential=${opts.accessKeyId ?? 'test'},SignedHeaders=${signedHeaders},Signature=${signature}`;
  opts.tamper?.(q, headers);
  const qs = encodeParams(q);
  return rawRequest(srv, {
    method,
    path: qs === '' ? '/' : `/?${qs}`,
    headers: { ...headers, 'content-length': Buffer.byteLength(body) },
    body,
  });
}

// ---------------------------------------------------------------------------------------
// Error assertions

export interface ApiErrorInfo {
  code: string;
  /** HTTP status, when the error shape carries it. */
  status: number | undefined;
  /** The error envelope the server sent. */
  data: Record<string, unknown> | undefined;
  message: string;
}

/** Normalises the error shapes of the v3 SDK, pop-core, and a RawResponse. */
export function apiErrorInfo(e: unknown): ApiErrorInfo {
  const err = e as {
    code?: unknown;
    statusCode?: unknown;
    data?: Record<string, unknown>;
    message?: string;
    entry?: { response?: { statusCode?: number } };
  };
  return {
    code: String(err.code),
    status: typeof err.statusCode === 'number' ? err.statusCode : err.entry?.response?.statusCode,
    data: err.data,
    message: String(err.data?.Message ?? err.message ?? ''),
  };
}

/**
 * Asserts that `p` fails with API error `code` (and HTTP `status`, when given and the
 * error shape carries one: the v3 SDK's `statusCode`, pop-core's `entry.response`).
 * `p` may also resolve to a `RawResponse` (from `signedV1`/`signedV3`/`rawRequest`), which
 * must then be a JSON error with that code and status. Returns the normalised error.
 */
export async function expectApiError(
  p: Promise<unknown>,
  code: string,
  status?: number,
): Promise<ApiErrorInfo> {
  let info: ApiErrorInfo;
  try {
    const r = await p;
    const raw = r as Partial<RawResponse>;
    if (typeof raw.status !== 'number' || raw.headers === undefined) {
      assert.fail(`expected ${code}, but the call succeeded: ${JSON.stringify(r)}`);
    }
    assert.equal(typeof raw.body, 'object', `expected a JSON error body, got: ${raw.text}`);
    const data = raw.body as Record<string, unknown>;
    info = { code: String(data.Code), status: raw.status, data, message: String(data.Message) };
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    info = apiErrorInfo(e);
  }
  assert.equal(info.code, code, `error code (message: ${info.message})`);
  if (status !== undefined && info.status !== undefined) {
    assert.equal(info.status, status, `HTTP status of ${code}`);
  }
  return info;
}
