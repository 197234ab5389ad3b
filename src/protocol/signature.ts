/** The two request-signing algorithms of the Alibaba Cloud RPC APIs (pure functions). */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { percentEncode } from './encode.js';

export type ParamList = ReadonlyArray<readonly [string, string]>;

const byKey = (a: readonly [string, string], b: readonly [string, string]) =>
  a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;

/** Signature v1 (HMAC-SHA1): `METHOD&%2F&pct(sorted k=v&…)` over every param but `Signature`. */
export function v1StringToSign(method: string, params: ParamList): string {
  const canonical = params
    .filter(([k]) => k !== 'Signature')
    .slice()
    .sort(byKey)
    .map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`)
    .join('&');
  return `${method.toUpperCase()}&${percentEncode('/')}&${percentEncode(canonical)}`;
}

export function signV1(stringToSign: string, secret: string): string {
  return createHmac('sha1', `${secret}&`).update(stringToSign, 'utf8').digest('base64');
}

export interface V3CanonicalInput {
  method: string;
  /** The request path as sent (already percent-encoded), usually `/`. */
  path: string;
  query: ParamList;
  /** Lower-cased header name → value. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Lower-cased, in the order given by the client. */
  signedHeaders: readonly string[];
  /** Hex sha256 of the body. */
  payloadHash: string;
}

/** Signature v3 (ACS3-HMAC-SHA256): the canonical request. */
export function v3CanonicalRequest(input: V3CanonicalInput): string {
  const query = input.query
    .slice()
    .sort(byKey)
    .map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`)
    .join('&');
  const names = [...input.signedHeaders].sort();
  let headers = '';
  for (const name of names) {
    // Own properties only: a signed-header name such as `constructor` or `__proto__` is an
    // ordinary header name, absent here, not a property of Object.prototype.
    const raw = Object.hasOwn(input.headers, name) ? input.headers[name] : undefined;
    const values = (Array.isArray(raw) ? raw : [raw ?? '']).map((v) => v.trim()).sort();
    headers += `${name}:${values.join(',')}\n`;
  }
  return `${input.method.toUpperCase()}\n${input.path}\n${query}\n${headers}\n${names.join(';')}\n${input.payloadHash}`;
}

export const V3_ALGORITHM = 'ACS3-HMAC-SHA256';

export function v3StringToSign(canonicalRequest: string): string {
  return `${V3_ALGORITHM}\n${sha256Hex(canonicalRequest)}`;
}

export function signV3(stringToSign: string, secret: string): string {
  return createHmac('sha256', secret).update(stringToSign, 'utf8').digest('hex');
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Constant-time string comparison. */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
