/**
 * The raw-socket generator: HTTP/1.x requests built from parts and mutated — request lines
 * (methods incl. CONNECT, OPTIONS, HEAD and garbage; absolute-form, asterisk and authority
 * targets; odd versions), headers (missing, duplicate, huge, many, prototype names, invalid
 * names and bytes, obs-fold), `Expect` variants, Content-Length / Transfer-Encoding conflicts
 * and chunked garbage, bodies over the 1 MiB limit, invalid percent-encoding and UTF-8 in query
 * and body, mutated v3 `Authorization` headers; then sometimes bytes flipped, inserted, cut;
 * also pipelines, random bytes, slow and truncated sends. Each case says which requests it
 * holds and whether the server may close without answering (and why).
 */
import {
  sha256Hex,
  signV3,
  v3CanonicalRequest,
  v3StringToSign,
} from '../src/protocol/signature.js';
import { ECS, type Pairs, PROTOTYPE_NAMES } from './mutate.js';
import type { ProbeCase } from './probe.js';
import type { Rng } from './rng.js';
import { buildSigned, encodePairs, type Signer, timestamp } from './sign.js';

/** Why the server may close a connection without an HTTP answer. */
export type SilentReason =
  /** A plain connection whose first byte is 0x16: taken for a TLS handshake, which fails. */
  | 'tls-record'
  /** Nothing was sent (or empty lines only, which HTTP ignores before a request). */
  | 'no-bytes'
  /** Over TLS the client closed its side (close_notify) before the answer came. */
  | 'tls-half-close';

export const SILENT_REASONS: Record<SilentReason, string> = {
  'tls-record':
    'the first byte was 0x16, so the server took it for a TLS handshake, which failed (it may answer a TLS alert, never HTTP)',
  'no-bytes':
    'no request was sent (no byte, or empty lines only, which HTTP ignores before a request line): the server closes the connection at the end of the input or after --header-timeout',
  'tls-half-close':
    "over TLS the client sent close_notify after its request: Node's HTTPS server takes it for the end of the connection, as HTTPS servers do (half-closed TLS is not HTTP's)",
};

export interface RawCase extends ProbeCase {
  /** What it is, for the counts: `pipeline`, `random`, `slow-headers`, `mutated:method+expect`… */
  label: string;
  silent?: SilentReason;
}

interface Req {
  method: string;
  target: string;
  version: string;
  headers: [string, string][];
  body: Buffer;
  /** Add `content-length` for the body (unless the framing was mutated). */
  autoLength: boolean;
  eol: string;
}

export interface RawContext {
  signer: Signer;
  host: string;
  headerTimeoutMs: number;
  requestTimeoutMs: number;
  /** Ids that exist, for valid requests to mutate. */
  groupId: string;
}

const METHODS = [
  'GET',
  'POST',
  'HEAD',
  'PUT',
  'DELETE',
  'OPTIONS',
  'CONNECT',
  'TRACE',
  'PATCH',
  'PROPFIND',
  'PRI',
  'SEARCH',
  'get',
  'Post',
  'G\u0000T',
  'GET GET',
  'GE',
  'XYZZY',
  '',
  'M'.repeat(200),
  'GET\t',
  '\u00c7ET',
];

const VERSIONS = [
  'HTTP/1.1',
  'HTTP/1.0',
  'HTTP/0.9',
  'HTTP/2.0',
  'HTTP/1.2',
  'HTTP/9.9',
  'HTTP/3',
  'http/1.1',
  'HTTP/1',
  'HTTP/1.1x',
  'HTTP/11.1',
  'HTTP /1.1',
  'HTTPS/1.1',
  '',
];

const EXPECTS = [
  '100-continue',
  '100-Continue',
  '100-CONTINUE',
  '100-continue, foo',
  'bogus',
  '',
  '200-ok',
  '100-continue;q=1',
];

const CONTENT_LENGTHS = [
  '0',
  '5',
  '-1',
  '1e3',
  ' 5',
  '5 ',
  '0x10',
  '+5',
  '05',
  '99999999999999999999',
  '18446744073709551616',
  '1048576',
  '1048577',
  '104857600',
  '5, 5',
  '5,6',
  'abc',
  '',
];

const TRANSFER_ENCODINGS = [
  'chunked',
  'CHUNKED',
  'Chunked',
  'chunked, gzip',
  'gzip, chunked',
  'gzip',
  'identity',
  ' chunked',
  'chunked\t',
  'chunked;q=1',
  'x',
  '',
];

const TARGETS = (host: string, q: string) => [
  '*',
  `http://${host}/?${q}`,
  `https://${host}/?${q}`,
  `http://example.test/?${q}`,
  'http://',
  host,
  'example.test:443',
  '//',
  '/../../etc/passwd',
  '/%00',
  '/%',
  '/health',
  '/health?x=1',
  '/HEALTH',
  '/metrics',
  `/${'a'.repeat(10_000)}`,
  `/x?${q}`,
  `/?${q}#frag`,
  '/ /',
  '/\u0000',
  `/?${q}&\u00ff=1`,
  '/?\u00e9=\u00e9',
  '?Action=DescribeRegions',
  '',
];

/** Query strings that are not well-formed percent-encoded UTF-8, or odd otherwise. */
const BAD_QUERIES = [
  'a=%zz',
  'a=%',
  'a=%4',
  '%zz=1',
  'a=%C3%28',
  'a=%ED%A0%80',
  'a=%F4%90%80%80',
  'a=%C0%AF',
  'a=%FF%FE',
  'a=%00',
  'a=%0A%0D',
  '%00=1',
  'a=b=c',
  '=',
  '&&&',
  'a&a&a',
  '+=+',
  'a=%2B%20%25',
  `${'k'.repeat(20_000)}=1`,
  `a=${'v'.repeat(100_000)}`,
  '__proto__=1&constructor=2&hasOwnProperty=3&toString=4',
  '__proto__[x]=1',
  'Action=__proto__&Version=constructor',
  'Format=JSON&Action=DescribeRegions&Version=2014-05-26&AccessKeyId=__proto__',
  'SignatureMethod=HMAC-SHA1&Signature=x&Timestamp=x&SignatureNonce=x&AccessKeyId=constructor&Action=DescribeRegions&Version=2014-05-26',
];

const CONTENT_TYPES = [
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=utf-8',
  'APPLICATION/X-WWW-FORM-URLENCODED',
  'application/x-www-form-urlencoded; charset=latin1',
  'multipart/form-data; boundary=x',
  'application/json',
  'text/plain',
  'text/xml',
  '',
  'application/x-www-form-urlencodedx',
];

const BAD_BODIES = [
  Buffer.from('a=%zz&b=%'),
  Buffer.from([0x41, 0x3d, 0xff, 0xfe]),
  Buffer.from([0x41, 0x3d, 0xc3, 0x28]),
  Buffer.from([0x41, 0x3d, 0xed, 0xa0, 0x80]),
  Buffer.from('a=\u0000b'),
  Buffer.from('a=b\r\n\r\nGET / HTTP/1.1\r\n'),
  Buffer.from('__proto__=1&constructor=x&toString=y&valueOf=z'),
  Buffer.from('{"Action":"DescribeRegions"}'),
  Buffer.from('<xml/>'),
  Buffer.from('a=%ZZ'.repeat(1000)),
];

/** Header names the parser may take, or not. */
const HEADER_NAMES = [
  ...PROTOTYPE_NAMES,
  'x-acs-action',
  'x-acs-version',
  'x-acs-signature-nonce',
  'x-acs-date',
  'authorization',
  'Authorization',
  'content-type',
  'transfer-encoding',
  'content-length',
  'x-forwarded-for',
  'x y',
  'x:y',
  '',
  ' x',
  'x\u0000',
  '\u00e9',
  'x'.repeat(1000),
  '(x)',
  '[]',
];

function quick(rng: Rng): string {
  return rng.pick(['1', '', 'x', '\t', 'a'.repeat(100), '\u00ff', '\u0000', ' y ', 'ACS3-']);
}

function signedBase(rng: Rng, ctx: RawContext): Req {
  const actions: Pairs[] = [
    [
      ['Action', 'DescribeRegions'],
      ['Version', ECS],
    ],
    [
      ['Action', 'DescribeSecurityGroupAttribute'],
      ['Version', ECS],
      ['RegionId', 'cn-hangzhou'],
      ['SecurityGroupId', ctx.groupId],
    ],
    [
      ['Action', 'DescribeSecurityGroups'],
      ['Version', ECS],
      ['RegionId', 'cn-hangzhou'],
    ],
  ];
  const shape = rng.pick(['v1-get', 'v1-post', 'v1-form', 'v3'] as const);
  const built = buildSigned(shape, rng.pick(actions), ctx.signer, {
    format: rng.chance(0.5) ? 'JSON' : null,
  });
  return parseReq(built.bytes);
}

/** A serialized request back into parts (for the signed bases). */
function parseReq(bytes: Buffer): Req {
  const text = bytes.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const lines = text.slice(0, end).split('\r\n');
  const [method = '', target = '', version = ''] = lines[0]!.split(' ');
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    const c = line.indexOf(':');
    const name = line.slice(0, c);
    if (name.toLowerCase() === 'content-length') continue;
    headers.push([name, line.slice(c + 1).trim()]);
  }
  return {
    method,
    target,
    version,
    headers,
    body: bytes.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1')),
    autoLength: true,
    eol: '\r\n',
  };
}

function plainBase(rng: Rng, ctx: RawContext): Req {
  const q = `Action=DescribeRegions&Version=${ECS}&Format=${rng.pick(['JSON', 'XML'])}`;
  const target = rng.pick(['/', `/?${q}`, '/health', `/?${rng.pick(BAD_QUERIES)}`]);
  const post = rng.chance(0.3);
  return {
    method: post ? 'POST' : 'GET',
    target,
    version: 'HTTP/1.1',
    headers: [
      ['Host', ctx.host],
      ...(post
        ? ([['Content-Type', 'application/x-www-form-urlencoded']] as [string, string][])
        : []),
    ],
    body: post
      ? Buffer.from(rng.chance(0.5) ? q : rng.pick(BAD_BODIES).toString('latin1'), 'latin1')
      : Buffer.alloc(0),
    autoLength: true,
    eol: '\r\n',
  };
}

/** A v3 request with a mutated Authorization (or a valid one over odd SignedHeaders). */
function v3Base(rng: Rng, ctx: RawContext): Req {
  const headers: Record<string, string> = {
    host: ctx.host,
    'x-acs-action': 'DescribeRegions',
    'x-acs-version': ECS,
    'x-acs-date': timestamp(),
    'x-acs-signature-nonce': ctx.signer.nonce(),
    'x-acs-content-sha256': sha256Hex(''),
  };
  const odd = rng.pick([
    ['__proto__'],
    ['constructor', 'hasOwnProperty'],
    ['toString', 'valueOf', '__defineGetter__'],
    ['host', 'host'],
    ['HOST', 'X-ACS-ACTION'],
    ['', ''],
    ['x-absent'],
    ['authorization'],
    [' x-acs-date '],
  ]);
  const signed = [...Object.keys(headers), ...odd];
  const lowered = signed.map((h) => h.trim().toLowerCase());
  let signature = signV3(
    v3StringToSign(
      v3CanonicalRequest({
        method: 'POST',
        path: '/',
        query: [],
        headers,
        signedHeaders: lowered,
        payloadHash: sha256Hex(''),
      }),
    ),
    ctx.signer.secret,
  );
  let list = signed.join(';');
  let credential = ctx.signer.accessKeyId;
  let algorithm = 'ACS3-HMAC-SHA256';
  let sep = ',';
  switch (rng.int(10)) {
    case 0:
      signature = rng.pick(['', 'zz', '0'.repeat(64), signature.toUpperCase(), `${signature}00`]);
      break;
    case 1:
      list = rng.pick(['', ';;;', 'x-acs-action', `${list};${'a;'.repeat(5000)}`]);
      break;
    case 2:
      credential = rng.pick(['', '__proto__', 'constructor', 'x'.repeat(5000), 'test,test']);
      break;
    case 3:
      algorithm = rng.pick(['ACS3-HMAC-SM3', 'ACS3-', 'ACS3-RSA-SHA256', 'ACS3-hmac-sha256']);
      break;
    case 4:
      sep = rng.pick([', ', ' ,', ';', '']);
      break;
    default:
      break; // valid, over the odd names
  }
  const auth = rng.chance(0.1)
    ? rng.pick(['ACS3-', 'ACS3-HMAC-SHA256', 'ACS3-HMAC-SHA256 Credential=', 'ACS3-x y z'])
    : `${algorithm} Credential=${credential}${sep}SignedHeaders=${list}${sep}Signature=${signature}`;
  const out: [string, string][] = Object.entries(headers).map(([k, v]) => [k, v]);
  out.push(['authorization', auth]);
  return {
    method: 'POST',
    target: '/',
    version: 'HTTP/1.1',
    headers: out,
    body: Buffer.alloc(0),
    autoLength: true,
    eol: '\r\n',
  };
}

function chunkedBody(rng: Rng, body: Buffer): Buffer {
  const good = `${body.length.toString(16)}\r\n${body.toString('latin1')}\r\n0\r\n\r\n`;
  return Buffer.from(
    rng.pick([
      good,
      body.length === 0 ? '0\r\n\r\n' : good,
      'zz\r\nabc\r\n0\r\n\r\n',
      '5\r\nab\r\n0\r\n\r\n',
      '3\r\nabcdef\r\n0\r\n\r\n',
      'ffffffffffffffff\r\nx\r\n',
      '-1\r\nx\r\n0\r\n\r\n',
      '3;ext=1\r\nabc\r\n0\r\n\r\n',
      '3\r\nabc\r\n0\r\nTrailer: x\r\n\r\n',
      '3\nabc\n0\n\n',
      '3\r\nabc',
      '0\r\n',
      `${'0'.repeat(100)}3\r\nabc\r\n0\r\n\r\n`,
      '3 \r\nabc\r\n0\r\n\r\n',
    ]),
    'latin1',
  );
}

/** Structural mutations; returns whether the framing (what the requests are) was touched. */
function mutateReq(rng: Rng, r: Req, ctx: RawContext, ops: string[]): boolean {
  let framing = false;
  const n = rng.weighted([
    [55, 1],
    [30, 2],
    [15, 3],
  ]);
  const removeHeader = (name: string) => {
    r.headers = r.headers.filter(([k]) => k.toLowerCase() !== name);
  };
  for (let i = 0; i < n; i++) {
    const op = rng.weighted([
      [8, 'method'],
      [6, 'target'],
      [6, 'version'],
      [3, 'eol'],
      [6, 'host'],
      [2, 'header-huge'],
      [2, 'headers-many'],
      [8, 'header-name'],
      [5, 'header-value'],
      [5, 'expect'],
      [3, 'connection'],
      [6, 'content-length'],
      [6, 'transfer-encoding'],
      [4, 'body-short'],
      [3, 'body-long'],
      [2, 'body-huge'],
      [7, 'query'],
      [5, 'body'],
      [4, 'content-type'],
    ] as const);
    ops.push(op);
    switch (op) {
      case 'method':
        r.method = rng.pick(METHODS);
        if (r.method !== 'GET' && r.method !== 'POST' && r.method !== 'HEAD') framing = true;
        break;
      case 'target':
        r.target = rng.pick(TARGETS(ctx.host, r.target.split('?')[1] ?? ''));
        framing = true; // a target the parser refuses ends the connection
        break;
      case 'version':
        r.version = rng.pick(VERSIONS);
        framing = true;
        break;
      case 'eol':
        r.eol = rng.pick(['\n', '\r', '\r\r\n', '\n\r']);
        framing = true;
        break;
      case 'host': {
        const k = rng.int(4);
        if (k === 0) removeHeader('host');
        else if (k === 1) r.headers.push(['Host', 'other.example']);
        else if (k === 2) r.headers.push(['Host', '']);
        else r.headers.push(['Host', 'h'.repeat(rng.pick([300, 70_000]))]);
        break;
      }
      case 'header-huge':
        r.headers.push(['X-Big', 'b'.repeat(rng.pick([8_000, 100_000, 270_000]))]);
        framing = true;
        break;
      case 'headers-many': {
        const count = rng.pick([100, 1999, 2001, 5000]);
        for (let j = 0; j < count; j++) r.headers.push([`X-H${j}`, 'v']);
        framing = true;
        break;
      }
      case 'header-name': {
        const name = rng.pick(HEADER_NAMES);
        const k = rng.int(5);
        if (k === 0) r.headers.push([`${name}`, quick(rng)]);
        else if (k === 1) r.headers.splice(rng.int(r.headers.length + 1), 0, [name, quick(rng)]);
        else if (k === 2)
          r.headers.push([' folded', 'continuation']); // obs-fold
        else if (k === 3) r.headers.push(['NoColonHere', '\u0000']);
        else r.headers.push([rng.pick(PROTOTYPE_NAMES), rng.pick(PROTOTYPE_NAMES)]);
        if (k >= 2) framing = true;
        break;
      }
      case 'header-value': {
        const j = rng.int(r.headers.length + 1);
        const v = rng.pick(['\u0000', '\u00ff\u00fe', 'a\u0007b', '\u00e9t\u00e9', ' ', '\u007f']);
        if (j < r.headers.length) r.headers[j]![1] += v;
        else r.headers.push(['X-Odd', v]);
        framing = true;
        break;
      }
      case 'expect':
        r.headers.push(['Expect', rng.pick(EXPECTS)]);
        if (rng.chance(0.2)) r.headers.push(['Expect', rng.pick(EXPECTS)]);
        framing = true; // a refused expectation closes the connection
        break;
      case 'connection':
        r.headers.push([
          rng.pick(['Connection', 'Upgrade', 'Keep-Alive', 'Proxy-Connection']),
          rng.pick([
            'close',
            'keep-alive',
            'upgrade',
            'Upgrade',
            'websocket',
            'h2c',
            'x, close',
            '',
          ]),
        ]);
        if (rng.chance(0.3))
          r.headers.push(['Upgrade', rng.pick(['websocket', 'h2c', 'HTTP/2.0'])]);
        framing = true;
        break;
      case 'content-length':
        r.autoLength = false;
        removeHeader('content-length');
        r.headers.push(['Content-Length', rng.pick(CONTENT_LENGTHS)]);
        if (rng.chance(0.2)) r.headers.push(['Content-Length', rng.pick(CONTENT_LENGTHS)]);
        framing = true;
        break;
      case 'transfer-encoding':
        r.autoLength = rng.chance(0.2); // sometimes both Content-Length and Transfer-Encoding
        r.headers.push(['Transfer-Encoding', rng.pick(TRANSFER_ENCODINGS)]);
        if (rng.chance(0.15)) r.headers.push(['Transfer-Encoding', rng.pick(TRANSFER_ENCODINGS)]);
        r.body = chunkedBody(rng, r.body);
        framing = true;
        break;
      case 'body-short':
        r.autoLength = false;
        r.headers.push(['Content-Length', String(r.body.length + rng.range(1, 5000))]);
        framing = true;
        break;
      case 'body-long':
        r.autoLength = false;
        r.headers.push(['Content-Length', String(Math.max(0, r.body.length - rng.range(1, 10)))]);
        r.body = Buffer.concat([r.body, Buffer.from(rng.pick(['GET / HTTP/1.1\r\n\r\n', 'xyz']))]);
        framing = true;
        break;
      case 'body-huge': {
        const k = rng.int(4);
        if (k === 0) {
          // really send more than 1 MiB
          r.method = 'POST';
          r.body = Buffer.alloc((1 << 20) + rng.range(1, 4096), 0x61);
          r.autoLength = true;
        } else if (k === 1) {
          r.method = 'POST';
          r.autoLength = false;
          r.headers.push(['Transfer-Encoding', 'chunked']);
          const chunk = `10000\r\n${'a'.repeat(0x10000)}\r\n`;
          r.body = Buffer.from(`${chunk.repeat(17)}0\r\n\r\n`);
        } else {
          r.method = 'POST';
          r.autoLength = false;
          r.headers.push([
            'Content-Length',
            rng.pick(['1048577', '104857600', '9007199254740991']),
          ]);
          r.body = Buffer.from('a=b');
        }
        framing = true;
        break;
      }
      case 'query': {
        const bad = rng.pick(BAD_QUERIES);
        r.target = r.target.includes('?') ? `${r.target}&${bad}` : `/?${bad}`;
        break;
      }
      case 'body':
        if (r.method === 'GET') r.method = 'POST';
        r.body = rng.chance(0.5)
          ? rng.pick(BAD_BODIES)
          : Buffer.concat([r.body, Buffer.from(`&${rng.pick(BAD_QUERIES)}`)]);
        if (!r.headers.some(([k]) => k.toLowerCase() === 'content-type')) {
          r.headers.push(['Content-Type', 'application/x-www-form-urlencoded']);
        }
        break;
      case 'content-type':
        removeHeader('content-type');
        r.headers.push(['Content-Type', rng.pick(CONTENT_TYPES)]);
        if (r.method === 'GET' && rng.chance(0.5)) {
          r.method = 'POST';
          r.body = Buffer.from(encodePairs([['Action', 'DescribeRegions']]));
        }
        break;
    }
  }
  return framing;
}

function serialize(r: Req): Buffer {
  const line = [r.method, r.target, r.version].filter((x, i) => i < 2 || x !== '').join(' ');
  let head = line + r.eol;
  for (const [k, v] of r.headers) head += `${k}: ${v}${r.eol}`;
  if (r.autoLength && (r.body.length > 0 || r.method === 'POST')) {
    head += `Content-Length: ${r.body.length}${r.eol}`;
  }
  head += r.eol;
  return Buffer.concat([Buffer.from(head, 'latin1'), r.body]);
}

/** Byte-level damage: flips, insertions, a cut range, a truncation. */
function damage(rng: Rng, b: Buffer, ops: string[]): Buffer {
  const k = rng.int(5);
  if (b.length === 0) return b;
  if (k === 0) {
    ops.push('flip');
    const out = Buffer.from(b);
    for (let i = rng.range(1, 8); i > 0; i--) {
      const at = rng.int(out.length);
      out[at] = out[at]! ^ (1 << rng.int(8));
    }
    return out;
  }
  if (k === 1) {
    ops.push('insert');
    const at = rng.int(b.length);
    return Buffer.concat([b.subarray(0, at), rng.bytes(rng.range(1, 16)), b.subarray(at)]);
  }
  if (k === 2) {
    ops.push('cut');
    const at = rng.int(b.length);
    return Buffer.concat([
      b.subarray(0, at),
      b.subarray(Math.min(b.length, at + rng.range(1, 32))),
    ]);
  }
  if (k === 3) {
    ops.push('byte');
    const out = Buffer.from(b);
    out[rng.int(out.length)] = rng.pick([0, 0x0a, 0x0d, 0x20, 0x3a, 0x7f, 0x80, 0xff]);
    return out;
  }
  ops.push('truncate');
  return b.subarray(0, rng.int(b.length));
}

/** Splits `b` into 1–5 pieces (the parser sees it arrive in parts). */
function split(rng: Rng, b: Buffer): Buffer[] {
  if (b.length < 2 || rng.chance(0.75)) return [b];
  const cuts = new Set<number>();
  for (let i = rng.range(1, 4); i > 0; i--) cuts.add(rng.range(1, b.length - 1));
  const at = [0, ...[...cuts].sort((x, y) => x - y), b.length];
  const out: Buffer[] = [];
  for (let i = 0; i + 1 < at.length; i++) out.push(b.subarray(at[i], at[i + 1]));
  return out;
}

function closeMode(rng: Rng): RawCase['close'] {
  return rng.weighted([
    [75, 'keep'],
    [20, 'half'],
    [5, 'destroy'],
  ] as const);
}

/** One raw case (fast: answered at once). */
export function rawCase(rng: Rng, ctx: RawContext): RawCase {
  const tls = rng.chance(0.06);
  const kind = rng.weighted([
    [70, 'mutated'],
    [10, 'pipeline'],
    [8, 'random'],
    [4, 'valid'],
    [2, 'empty'],
    [6, 'v3-auth'],
  ] as const);
  let c: RawCase;
  switch (kind) {
    case 'random': {
      const n = rng.size(4096) + 1;
      let b: Buffer;
      const k = rng.int(4);
      if (k === 0) b = rng.bytes(n);
      else if (k === 1) b = Buffer.concat([Buffer.from([0x16, 0x03, rng.int(5)]), rng.bytes(n)]);
      else if (k === 2) {
        const tokens = [
          'GET',
          'POST',
          ' ',
          '/',
          '?',
          '=',
          '&',
          ':',
          '\r\n',
          'HTTP/1.1',
          'Host',
          'x',
        ];
        let s = '';
        for (let i = 0; i < n; i++) s += rng.pick(tokens);
        b = Buffer.from(s, 'latin1');
      } else b = Buffer.from(Array.from({ length: n }, () => rng.range(0x20, 0x7e)));
      c = {
        segments: split(rng, b),
        gapMs: 1,
        tls,
        close: closeMode(rng),
        methods: ['?'],
        framed: false,
        label: 'random',
      };
      break;
    }
    case 'empty':
      c = {
        segments: [],
        gapMs: 0,
        tls,
        close: rng.chance(0.5) ? 'half' : 'keep',
        methods: [],
        framed: false,
        label: 'empty',
      };
      break;
    case 'pipeline': {
      const count = rng.range(2, 5);
      const reqs: Buffer[] = [];
      const methods: string[] = [];
      let framed = true;
      for (let i = 0; i < count; i++) {
        const r = rng.chance(0.6) ? signedBase(rng, ctx) : plainBase(rng, ctx);
        if (rng.chance(0.4)) {
          const ops: string[] = [];
          if (mutateReq(rng, r, ctx, ops)) framed = false;
        }
        if (rng.chance(0.1)) r.method = 'HEAD';
        methods.push(r.method);
        reqs.push(serialize(r));
      }
      c = {
        segments: split(rng, Buffer.concat(reqs)),
        gapMs: 1,
        tls,
        close: rng.chance(0.8) ? 'keep' : 'half',
        methods,
        framed,
        label: 'pipeline',
      };
      break;
    }
    case 'valid': {
      const r = rng.chance(0.7) ? signedBase(rng, ctx) : plainBase(rng, ctx);
      c = {
        segments: split(rng, serialize(r)),
        gapMs: 1,
        tls,
        close: closeMode(rng),
        methods: [r.method],
        framed: true,
        label: 'valid',
      };
      break;
    }
    default: {
      const r =
        kind === 'v3-auth'
          ? v3Base(rng, ctx)
          : rng.chance(0.6)
            ? signedBase(rng, ctx)
            : plainBase(rng, ctx);
      const ops: string[] = [];
      const framing =
        kind === 'v3-auth'
          ? rng.chance(0.5) && mutateReq(rng, r, ctx, ops)
          : mutateReq(rng, r, ctx, ops);
      let bytes = serialize(r);
      let framed = !framing;
      if (r.method !== 'HEAD' && rng.chance(0.2)) {
        bytes = damage(rng, bytes, ops);
        framed = false;
      }
      c = {
        segments: split(rng, bytes),
        gapMs: 1,
        tls,
        close: closeMode(rng),
        methods: [r.method],
        framed,
        label: `${kind}:${ops.join('+') || 'none'}`,
      };
    }
  }
  return withSilence(c);
}

/** A slow case: headers or body held back past the timeouts, or nothing sent at all. */
export function slowCase(rng: Rng, ctx: RawContext): RawCase {
  const tls = rng.chance(0.15);
  const r = signedBase(rng, ctx);
  const bytes = serialize(r);
  const k = rng.int(4);
  let c: RawCase;
  if (k === 0) {
    const at = bytes.indexOf('\r\n') + 2 + rng.int(10);
    c = {
      segments: [bytes.subarray(0, at), bytes.subarray(at)],
      gapMs: ctx.headerTimeoutMs + 300,
      tls,
      close: 'keep',
      methods: [r.method],
      framed: false,
      label: 'slow-headers',
    };
  } else if (k === 1) {
    const post = buildSigned(
      'v1-form',
      [
        ['Action', 'DescribeRegions'],
        ['Version', ECS],
      ],
      ctx.signer,
    ).bytes;
    const at = post.length - 3;
    c = {
      segments: [post.subarray(0, at), post.subarray(at)],
      gapMs: Math.max(ctx.requestTimeoutMs, ctx.headerTimeoutMs) + 300,
      tls,
      close: 'keep',
      methods: ['POST'],
      framed: false,
      label: 'slow-body',
    };
  } else if (k === 2) {
    // trickled a few bytes at a time, well within the timeouts: served normally
    const parts: Buffer[] = [];
    const step = Math.ceil(bytes.length / 8);
    for (let i = 0; i < bytes.length; i += step) parts.push(bytes.subarray(i, i + step));
    c = {
      segments: parts,
      gapMs: Math.floor(ctx.headerTimeoutMs / 20),
      tls,
      close: 'keep',
      methods: [r.method],
      framed: true,
      label: 'slow-trickle',
    };
  } else {
    c = {
      segments: [],
      gapMs: 0,
      tls,
      close: 'keep',
      methods: [],
      framed: false,
      label: 'slow-idle',
    };
  }
  return withSilence(c);
}

const EMPTY_LINES = /^[\r\n]*$/;

function withSilence(c: RawCase): RawCase {
  const first = c.segments.find((s) => s.length > 0);
  if (!first || c.segments.every((s) => EMPTY_LINES.test(s.toString('latin1'))))
    c.silent = 'no-bytes';
  else if (!c.tls && first[0] === 0x16) c.silent = 'tls-record';
  else if (c.tls && c.close === 'half') c.silent = 'tls-half-close';
  return c;
}
