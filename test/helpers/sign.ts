/**
 * Request-signing primitives (v1 HMAC-SHA1, v3 canonical request), written independently
 * of src/protocol so tests cross-check the server. No SDK imports: the bench uses it too.
 */
import { createHmac, randomUUID } from 'node:crypto';

const ALL_UNRESERVED = /^[A-Za-z0-9\-_.~]*$/;
/** Byte → its encoded form: unreserved bytes as themselves, the rest as `%XX`. */
const BYTE: string[] = Array.from({ length: 256 }, (_, b) => {
  const c = String.fromCharCode(b);
  return /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
});

/**
 * RFC 3986 percent-encoding byte by byte over UTF-8: only `A-Z a-z 0-9 - _ . ~` stay
 * (a table lookup per byte; deliberately not encodeURIComponent, which src uses).
 */
export function rfc3986(s: string): string {
  if (ALL_UNRESERVED.test(s)) return s;
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) out += BYTE[b];
  return out;
}

/** `YYYY-MM-DDThh:mm:ssZ` in UTC (optionally offset by `offsetMs`). */
export function isoSeconds(offsetMs = 0): string {
  return new Date(Date.now() + offsetMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const byKey = (a: [string, string], b: [string, string]) =>
  a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;

/** The v1 string to sign: `METHOD&%2F&enc(sorted enc(k)=enc(v) joined by &)`, Signature excluded. */
export function v1StringToSignRef(method: string, params: Record<string, string>): string {
  const canonical = Object.entries(params)
    .filter(([k]) => k !== 'Signature')
    .sort(byKey)
    .map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`)
    .join('&');
  return `${method.toUpperCase()}&${rfc3986('/')}&${rfc3986(canonical)}`;
}

/** base64(HMAC-SHA1(secret + "&", stringToSign)). */
export function v1SignRef(stringToSign: string, secret: string): string {
  return createHmac('sha1', `${secret}&`).update(stringToSign, 'utf8').digest('base64');
}

/** `k=v&…` with both sides RFC 3986-encoded (the wire form the tests send). */
export function encodeParams(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`)
    .join('&');
}

export interface V1Options {
  /** Default `test` (the default account's key). */
  accessKeyId?: string;
  /** Default `test`. */
  secret?: string;
  /** Default GET. */
  method?: 'GET' | 'POST';
  /**
   * POST only: business params in an `application/x-www-form-urlencoded` body, common
   * params in the query (Terraform's shape). Without it a POST carries everything in the
   * query and an empty body.
   */
  form?: boolean;
  /** Default: now (`YYYY-MM-DDThh:mm:ssZ`). */
  timestamp?: string;
  /** Default: a fresh UUID. */
  nonce?: string;
  /** `Format` param; default `JSON`; `null` leaves it out (the server then answers XML). */
  format?: string | null;
  /** Common params to leave out entirely (e.g. `['Version']`). */
  omit?: string[];
  /** Change the params after signing (to provoke SignatureDoesNotMatch). */
  tamper?: (params: Record<string, string>) => void;
  /** Overrides the computed signature. */
  signature?: string;
  headers?: Record<string, string>;
  /** Send over TLS to the same port, trusting this CA (PEM text). */
  tlsCa?: string;
}

/**
 * The complete v1 param set of a request, `Signature` included: `params` plus the common
 * params (see `V1Options`: timestamp, nonce, format, omit, signature, credentials).
 */
export function v1Params(
  method: string,
  params: Record<string, string>,
  opts: V1Options = {},
): Record<string, string> {
  const common: Record<string, string> = {
    Timestamp: opts.timestamp ?? isoSeconds(),
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureNonce: opts.nonce ?? randomUUID(),
    AccessKeyId: opts.accessKeyId ?? 'test',
  };
  const format = opts.format === undefined ? 'JSON' : opts.format;
  if (format !== null) common.Format = format;
  const all: Record<string, string> = { ...common, ...params };
  for (const k of opts.omit ?? []) delete all[k];
  all.Signature =
    opts.signature ?? v1SignRef(v1StringToSignRef(method, all), opts.secret ?? 'test');
  return all;
}

/** The v3 canonical request as the SDK builds it (lower-cased signed headers, sorted). */
export function v3CanonicalRef(
  method: string,
  query: Record<string, string>,
  headers: Record<string, string>,
  payloadHash: string,
): { canonical: string; signedHeaders: string } {
  const q = Object.entries(query)
    .sort(byKey)
    .map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`)
    .join('&');
  const signed = Object.keys(headers)
    .map((h) => h.toLowerCase())
    .filter((h) => h === 'host' || h === 'content-type' || h.startsWith('x-acs-'))
    .sort();
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const canonHeaders = signed.map((h) => `${h}:${(lower[h] ?? '').trim()}\n`).join('');
  const signedHeaders = signed.join(';');
  return {
    canonical: `${method}\n/\n${q}\n${canonHeaders}\n${signedHeaders}\n${payloadHash}`,
    signedHeaders,
  };
}
