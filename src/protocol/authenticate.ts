/**
 * Turns a raw HTTP request into an authenticated API call: which action, which
 * version, whose credentials, which business parameters. Both signature styles:
 * v3 (`Authorization: ACS3-HMAC-SHA256 …`, action in `x-acs-*` headers) and
 * v1 (`Signature`/`SignatureMethod=HMAC-SHA1` among the parameters).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { apiError } from '../errors.js';
import { MAX_NONCE_LENGTH } from '../nonces/window.js';
import { bodyText, decodeForm } from './form.js';
import type { Format } from './render.js';
import {
  type ParamList,
  safeEqual,
  sha256Hex,
  signV1,
  signV3,
  V3_ALGORITHM,
  v1StringToSign,
  v3CanonicalRequest,
  v3StringToSign,
} from './signature.js';

export interface RawRequest {
  method: string;
  /** Path without the query, as sent. */
  path: string;
  rawQuery: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** What the protocol knows of a credential: its secret and an opaque principal. */
export interface Credential<P> {
  secret: string;
  principal: P;
}

export interface Call<P> {
  action: string;
  version: string;
  format: Format;
  accessKeyId: string;
  principal: P;
  /** Business parameters (common parameters removed), in arrival order. */
  params: Map<string, string>;
  /** Signature nonce, to be claimed once authenticated. */
  nonce: string;
  /** The signed request time (ms since the epoch), within the skew of the server's clock. */
  timestampMs: number;
}

/** The v1 common parameters; they are not passed on to actions. */
const COMMON = new Set([
  'Action',
  'Version',
  'Format',
  'Timestamp',
  'SignatureNonce',
  'SignatureMethod',
  'SignatureVersion',
  'SignatureType',
  'AccessKeyId',
  'Signature',
  'SecurityToken',
]);

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function entries(encoded: string): [string, string][] {
  return decodeForm(encoded);
}

function formEntries(req: RawRequest): [string, string][] {
  return entries(formText(req));
}

function parseFormat(value: string | undefined): Format {
  if (value === undefined || value === '' || /^xml$/i.test(value)) return 'xml';
  if (/^json$/i.test(value)) return 'json';
  throw apiError('InvalidParameter.Format');
}

/** Best-effort response format of a request, for rendering errors raised before parsing ends. */
export function guessFormat(req: RawRequest): Format {
  if ((header(req.headers, 'authorization') ?? '').startsWith('ACS3-')) return 'json';
  const type = header(req.headers, 'content-type') ?? '';
  const form = /application\/x-www-form-urlencoded/i.test(type) ? req.body.toString('latin1') : '';
  for (const source of [req.rawQuery, form]) {
    const m = /(?:^|&)Format=([^&]*)/.exec(source);
    if (m) return /^json$/i.test(m[1] ?? '') ? 'json' : 'xml';
  }
  return 'xml';
}

function formText(req: RawRequest): string {
  const type = header(req.headers, 'content-type') ?? '';
  return type.toLowerCase().includes('application/x-www-form-urlencoded') ? bodyText(req.body) : '';
}

function checkTimestamp(value: string, nowMs: number, skewMs: number): number {
  const t = TIMESTAMP.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(t)) throw apiError('InvalidTimeStamp.Format');
  if (Math.abs(nowMs - t) > skewMs) throw apiError('InvalidTimeStamp.Expired');
  return t;
}

interface Unverified {
  action: string;
  version: string;
  format: Format;
  accessKeyId: string;
  timestamp: string;
  nonce: string;
  /** Where the nonce came from, for errors. */
  nonceName: string;
  params: Map<string, string>;
  verify(secret: string): boolean;
}

function parseV3(req: RawRequest, authorization: string): Unverified {
  const m = /^(\S+) Credential=([^,]*),SignedHeaders=([^,]*),Signature=([0-9a-fA-F]*)$/.exec(
    authorization.trim(),
  );
  if (!m) throw apiError('IncompleteSignature', 'The Authorization header is malformed.');
  const [, algorithm = '', accessKeyId = '', signed = '', signature = ''] = m;
  if (algorithm !== V3_ALGORITHM) {
    throw apiError('IncompleteSignature', `Unsupported signature algorithm ${algorithm}.`);
  }
  const signedHeaders = signed.split(';').map((h) => h.trim().toLowerCase());
  for (const required of ['x-acs-action', 'x-acs-version', 'x-acs-date', 'x-acs-signature-nonce']) {
    if (header(req.headers, required) === undefined) {
      throw apiError('MissingParameter', required);
    }
    if (!signedHeaders.includes(required)) {
      throw apiError('IncompleteSignature', `The header ${required} must be signed.`);
    }
  }
  const query = entries(req.rawQuery);
  const form = formEntries(req);
  const payloadHash = sha256Hex(req.body);
  const claimed = header(req.headers, 'x-acs-content-sha256');
  return {
    action: header(req.headers, 'x-acs-action') ?? '',
    version: header(req.headers, 'x-acs-version') ?? '',
    format: 'json',
    accessKeyId,
    timestamp: header(req.headers, 'x-acs-date') ?? '',
    nonce: header(req.headers, 'x-acs-signature-nonce') ?? '',
    nonceName: 'x-acs-signature-nonce',
    params: new Map([...query, ...form]),
    verify(secret) {
      if (claimed !== undefined && claimed.toLowerCase() !== payloadHash) return false;
      const canonical = v3CanonicalRequest({
        method: req.method,
        path: req.path,
        query,
        headers: req.headers,
        signedHeaders,
        payloadHash,
      });
      return safeEqual(signV3(v3StringToSign(canonical), secret), signature.toLowerCase());
    },
  };
}

function parseV1(req: RawRequest): Unverified {
  const all: ParamList = [...entries(req.rawQuery), ...formEntries(req)];
  const merged = new Map(all);
  for (const name of [
    'Action',
    'Version',
    'AccessKeyId',
    'Signature',
    'SignatureMethod',
    'Timestamp',
    'SignatureNonce',
  ]) {
    if (!merged.has(name)) throw apiError('MissingParameter', name);
  }
  const method = merged.get('SignatureMethod');
  if (method !== 'HMAC-SHA1') {
    throw apiError('IncompleteSignature', `Unsupported SignatureMethod ${method}.`);
  }
  const params = new Map<string, string>();
  for (const [k, v] of merged) if (!COMMON.has(k)) params.set(k, v);
  const signature = merged.get('Signature') ?? '';
  return {
    action: merged.get('Action') ?? '',
    version: merged.get('Version') ?? '',
    format: parseFormat(merged.get('Format')),
    accessKeyId: merged.get('AccessKeyId') ?? '',
    timestamp: merged.get('Timestamp') ?? '',
    nonce: merged.get('SignatureNonce') ?? '',
    nonceName: 'SignatureNonce',
    params,
    verify(secret) {
      // Sign what arrived: every distinct key once (the merged view), Signature excluded.
      return safeEqual(signV1(v1StringToSign(req.method, [...merged]), secret), signature);
    },
  };
}

export interface AuthOptions<P> {
  credentials(accessKeyId: string): Credential<P> | undefined;
  /** Checked before the key: unknown version or action fail before authentication. */
  checkAction(version: string, action: string): void;
  skewMs: number;
  nowMs: number;
}

/** Parses and authenticates; throws the catalogued error for any failure. */
export function authenticate<P>(req: RawRequest, opts: AuthOptions<P>): Call<P> {
  const authorization = header(req.headers, 'authorization');
  const u = authorization?.startsWith('ACS3-') ? parseV3(req, authorization) : parseV1(req);
  if (u.action === '') throw apiError('MissingParameter', 'Action');
  if (u.version === '') throw apiError('MissingParameter', 'Version');
  opts.checkAction(u.version, u.action);
  const timestampMs = checkTimestamp(u.timestamp, opts.nowMs, opts.skewMs);
  if (u.nonce === '') throw apiError('MissingParameter', 'SignatureNonce');
  if (u.nonce.length > MAX_NONCE_LENGTH) {
    throw apiError('InvalidParameter#nonce', u.nonceName, MAX_NONCE_LENGTH);
  }
  const credential = opts.credentials(u.accessKeyId);
  if (!credential) throw apiError('InvalidAccessKeyId.NotFound');
  if (!u.verify(credential.secret)) throw apiError('SignatureDoesNotMatch');
  return {
    action: u.action,
    version: u.version,
    format: u.format,
    accessKeyId: u.accessKeyId,
    principal: credential.principal,
    params: u.params,
    nonce: u.nonce,
    timestampMs,
  };
}
