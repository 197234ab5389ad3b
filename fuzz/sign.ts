/**
 * Signed requests on the wire, built from a parameter list in which keys may repeat: v1
 * (HMAC-SHA1) as a GET query, a POST query with an empty body, a POST with a form body (common
 * parameters in the query), or all in the form body; v3 (ACS3-HMAC-SHA256) with the business
 * parameters in the query or in a form body. The signature is computed by the service's own
 * functions (src/protocol/signature.ts) over what the service will decode — the last value of a
 * repeated key for v1, every pair for v3 — so that mutated parameters pass authentication and
 * reach the actions; the wire encoding is the tests' independent one (test/helpers/sign.ts).
 */
import {
  sha256Hex,
  signV1,
  signV3,
  v1StringToSign,
  v3CanonicalRequest,
  v3StringToSign,
} from '../src/protocol/signature.js';
import { rfc3986 } from '../test/helpers/sign.js';
import type { Pairs } from './mutate.js';

export type Shape = 'v1-get' | 'v1-post' | 'v1-form' | 'v1-body' | 'v3' | 'v3-get' | 'v3-form';

export const SHAPES: readonly Shape[] = [
  'v1-get',
  'v1-post',
  'v1-form',
  'v1-body',
  'v3',
  'v3-get',
  'v3-form',
];

export interface Signer {
  accessKeyId: string;
  secret: string;
  /** `127.0.0.1:PORT`, the Host header. */
  host: string;
  /** A fresh nonce for each request. */
  nonce(): string;
}

/** The v1 common parameters that stay in the query of a form POST (as Terraform sends them). */
const V1_COMMON = new Set([
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

const SURROGATE = /[\ud800-\udfff]/;

/** What the service decodes from the UTF-8 of `s`: lone surrogates become U+FFFD. */
export function wellFormed(s: string): string {
  return SURROGATE.test(s) ? Buffer.from(s, 'utf8').toString('utf8') : s;
}

export function encodePairs(pairs: Pairs): string {
  let out = '';
  for (const [k, v] of pairs) out += `${out === '' ? '' : '&'}${rfc3986(k)}=${rfc3986(v)}`;
  return out;
}

let stampSecond = 0;
let stamp = '';

/** `YYYY-MM-DDThh:mm:ssZ` now (computed once a second). */
export function timestamp(): string {
  const s = Math.floor(Date.now() / 1000);
  if (s !== stampSecond) {
    stampSecond = s;
    stamp = new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
  return stamp;
}

export interface Built {
  bytes: Buffer;
  method: string;
}

export interface SignOptions {
  /** Extra v1 common parameters or overrides (applied before signing). */
  common?: Pairs;
  /** Changes the request after it was signed (signature-level mutations). */
  afterSigning?: (parts: { query: Pairs; body: Pairs; headers: [string, string][] }) => void;
  /** Format when the pairs give none: `null` leaves it out (XML). */
  format?: string | null;
  /** Omit `Connection: keep-alive` semantics: ask the server to close. */
  close?: boolean;
}

const EMPTY_HASH = sha256Hex('');

function http(
  method: string,
  query: Pairs,
  headers: [string, string][],
  body: string,
  host: string,
): Buffer {
  const q = encodePairs(query);
  let head = `${method} ${q === '' ? '/' : `/?${q}`} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (const [k, v] of headers) head += `${k}: ${v}\r\n`;
  if (method === 'POST' || body !== '') head += `content-length: ${Buffer.byteLength(body)}\r\n`;
  return Buffer.from(`${head}\r\n${body}`, 'utf8');
}

/** A signed request of `shape` carrying `pairs` (Action and Version among them, or not). */
export function buildSigned(
  shape: Shape,
  input: Pairs,
  signer: Signer,
  opts: SignOptions = {},
): Built {
  const pairs: Pairs = input.map(([k, v]) => [wellFormed(k), wellFormed(v)]);
  return shape.startsWith('v1') ? v1(shape, pairs, signer, opts) : v3(shape, pairs, signer, opts);
}

function v1(shape: Shape, pairs: Pairs, s: Signer, opts: SignOptions): Built {
  const common: Pairs = [
    ['Timestamp', timestamp()],
    ['SignatureMethod', 'HMAC-SHA1'],
    ['SignatureVersion', '1.0'],
    ['SignatureNonce', s.nonce()],
    ['AccessKeyId', s.accessKeyId],
  ];
  if (opts.format !== null && !pairs.some(([k]) => k === 'Format')) {
    common.push(['Format', opts.format ?? 'JSON']);
  }
  for (const [k, v] of opts.common ?? []) {
    const i = common.findIndex(([c]) => c === k);
    if (i >= 0) common[i]![1] = v;
    else common.push([k, v]);
  }
  const all: Pairs = [...common, ...pairs];
  const method = shape === 'v1-get' ? 'GET' : 'POST';
  let query: Pairs;
  let body: Pairs;
  if (shape === 'v1-form') {
    query = all.filter(([k]) => V1_COMMON.has(k));
    body = all.filter(([k]) => !V1_COMMON.has(k));
  } else if (shape === 'v1-body') {
    query = [];
    body = all;
  } else {
    query = all;
    body = [];
  }
  // The service signs what it decoded: query then body, one value per key (the last).
  const merged = new Map<string, string>();
  for (const [k, v] of [...query, ...body]) merged.set(k, v);
  merged.delete('Signature');
  const signature = signV1(v1StringToSign(method, [...merged]), s.secret);
  query.push(['Signature', signature]);
  const headers: [string, string][] = [];
  if (body.length > 0 || shape === 'v1-form' || shape === 'v1-body') {
    headers.push(['content-type', 'application/x-www-form-urlencoded']);
  }
  if (opts.close) headers.push(['connection', 'close']);
  opts.afterSigning?.({ query, body, headers });
  return { bytes: http(method, query, headers, encodePairs(body), s.host), method };
}

function v3(shape: Shape, pairs: Pairs, s: Signer, opts: SignOptions): Built {
  const take = (name: string) => {
    const i = pairs.findIndex(([k]) => k === name);
    if (i < 0) return undefined;
    const v = pairs[i]![1];
    pairs.splice(i, 1);
    return v;
  };
  const action = take('Action');
  const version = take('Version');
  const method = shape === 'v3-get' ? 'GET' : 'POST';
  const form = shape === 'v3-form';
  const query = form ? [] : pairs;
  const bodyPairs = form ? pairs : [];
  const body = encodePairs(bodyPairs);
  const payloadHash = body === '' ? EMPTY_HASH : sha256Hex(body);
  const headers: Record<string, string> = { host: s.host };
  // header values: printable ASCII only (the mutations aim at the query)
  if (action !== undefined) headers['x-acs-action'] = ascii(action);
  if (version !== undefined) headers['x-acs-version'] = ascii(version);
  headers['x-acs-date'] = timestamp();
  headers['x-acs-signature-nonce'] = s.nonce();
  headers['x-acs-content-sha256'] = payloadHash;
  if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
  const signedHeaders = Object.keys(headers).sort();
  const canonical = v3CanonicalRequest({
    method,
    path: '/',
    query,
    headers,
    signedHeaders,
    payloadHash,
  });
  const signature = signV3(v3StringToSign(canonical), s.secret);
  const list: [string, string][] = Object.entries(headers).filter(([k]) => k !== 'host');
  list.push([
    'authorization',
    `ACS3-HMAC-SHA256 Credential=${s.accessKeyId},SignedHeaders=${signedHeaders.join(';')},Signature=${signature}`,
  ]);
  if (opts.close) list.push(['connection', 'close']);
  opts.afterSigning?.({ query, body: bodyPairs, headers: list });
  return { bytes: http(method, query, list, encodePairs(bodyPairs), s.host), method };
}

/** `s` as printable ASCII without edge blanks: what a header value keeps as it is. */
function ascii(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '').trim();
}

export { EMPTY_HASH };
