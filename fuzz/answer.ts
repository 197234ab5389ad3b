/**
 * Reading and judging the server's answers: a small incremental HTTP/1.x response parser
 * (Content-Length, chunked, or until close; no body for HEAD and 1xx), and the checks every
 * answer must pass — no 5xx, the documented envelope for errors with a catalogued code and its
 * status, JSON or well-formed XML 1.0 for successes.
 */
import { XMLValidator } from 'fast-xml-parser';
import { CATALOGUE } from '../src/errors.js';

export interface Answer {
  status: number;
  /** Lower-cased names; repeated headers joined with `, `. */
  headers: Map<string, string>;
  body: Buffer;
}

export type Parsed =
  | { kind: 'answer'; answer: Answer; consumed: number }
  | { kind: 'partial' }
  | { kind: 'garbage'; reason: string };

const CRLF2 = Buffer.from('\r\n\r\n');
const STATUS = /^HTTP\/1\.[01] (\d{3})(?: [^\r\n]*)?$/;

/**
 * The first response in `buf`. `bodiless`: it answers a HEAD request. `closed`: the server
 * closed the connection after these bytes (a body without framing ends there).
 */
export function parseAnswer(buf: Buffer, bodiless: boolean, closed: boolean): Parsed {
  const end = buf.indexOf(CRLF2);
  if (end < 0) {
    if (buf.length >= 5 && buf.toString('latin1', 0, 5) !== 'HTTP/') {
      return { kind: 'garbage', reason: 'bytes that are not an HTTP response' };
    }
    return buf.length > 64 * 1024
      ? { kind: 'garbage', reason: 'response headers over 64 KiB' }
      : { kind: 'partial' };
  }
  const lines = buf.toString('latin1', 0, end).split('\r\n');
  const m = STATUS.exec(lines[0] ?? '');
  if (!m) return { kind: 'garbage', reason: `status line ${JSON.stringify(lines[0])}` };
  const status = Number(m[1]);
  const headers = new Map<string, string>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) return { kind: 'garbage', reason: `header line ${JSON.stringify(line)}` };
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    const had = headers.get(name);
    headers.set(name, had === undefined ? value : `${had}, ${value}`);
  }
  const start = end + 4;
  if (bodiless || (status >= 100 && status < 200) || status === 204 || status === 304) {
    return { kind: 'answer', answer: { status, headers, body: Buffer.alloc(0) }, consumed: start };
  }
  const te = headers.get('transfer-encoding');
  if (te !== undefined) {
    if (te.toLowerCase() !== 'chunked') {
      return { kind: 'garbage', reason: `transfer-encoding ${te}` };
    }
    return chunked(buf, start, status, headers);
  }
  const cl = headers.get('content-length');
  if (cl !== undefined) {
    if (!/^\d+$/.test(cl)) return { kind: 'garbage', reason: `content-length ${cl}` };
    const total = start + Number(cl);
    if (buf.length < total) return { kind: 'partial' };
    return {
      kind: 'answer',
      answer: { status, headers, body: buf.subarray(start, total) },
      consumed: total,
    };
  }
  if (!closed) return { kind: 'partial' };
  return {
    kind: 'answer',
    answer: { status, headers, body: buf.subarray(start) },
    consumed: buf.length,
  };
}

function chunked(buf: Buffer, from: number, status: number, headers: Map<string, string>): Parsed {
  const parts: Buffer[] = [];
  let at = from;
  for (;;) {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) return { kind: 'partial' };
    const size = Number.parseInt(buf.toString('latin1', at, eol).split(';')[0]!, 16);
    if (!Number.isFinite(size) || size < 0) return { kind: 'garbage', reason: 'chunk size' };
    if (size === 0) {
      const fin = buf.indexOf(CRLF2, eol - 2);
      if (fin < 0) return { kind: 'partial' };
      return {
        kind: 'answer',
        answer: { status, headers, body: Buffer.concat(parts) },
        consumed: fin + 4,
      };
    }
    if (buf.length < eol + 2 + size + 2) return { kind: 'partial' };
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

export type ProblemKind = '5xx' | 'non-envelope' | 'malformed-xml';

export interface Problem {
  kind: ProblemKind;
  reason: string;
}

/** Codes with the statuses the catalogue gives them. */
const CATALOGUED = new Set(Object.values(CATALOGUE).map((e) => `${e.code} ${e.status}`));

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** What XML 1.0 cannot carry (a decoded string holds no surrogate halves, only U+FFFD). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: it finds what XML 1.0 cannot carry
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;

const ENVELOPE_KEYS = 'RequestId,HostId,Code,Message,Recommend';
const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>';
const XML_ERROR = new RegExp(
  `^${XML_DECL.replace(/[?.]/g, '\\$&')}<Error><RequestId>([^<]*)</RequestId><HostId>[^<]*</HostId>` +
    '<Code>([^<]*)</Code><Message>[^<]*</Message><Recommend>[^<]*</Recommend></Error>$',
);
const XML_SUCCESS =
  /^<\?xml version="1\.0" encoding="UTF-8"\?><([A-Za-z]+Response)><RequestId>[^<]+<\/RequestId>/;
const REQUEST_ID = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;

/** What is wrong with an answer (nothing: an empty list). `head`: it answers a HEAD request. */
export function judge(a: Answer, head = false): Problem[] {
  const problems: Problem[] = [];
  const bad = (kind: ProblemKind, reason: string) => problems.push({ kind, reason });
  if (a.status >= 500 && a.status <= 599) bad('5xx', `status ${a.status}`);
  if (a.status >= 100 && a.status < 200) {
    if (a.status !== 100) bad('non-envelope', `interim status ${a.status}`);
    return problems;
  }
  const type = a.headers.get('content-type') ?? '';
  const json = type === 'application/json;charset=utf-8' || type === 'application/json';
  const xml = type === 'text/xml;charset=utf-8';
  if (!json && !xml) {
    bad('non-envelope', `content-type ${JSON.stringify(type)}`);
    return problems;
  }
  if (head) {
    // a HEAD is refused (405, or earlier 400, 413, 417) without a body: status and type only
    if (a.status < 400) bad('non-envelope', `HEAD answered ${a.status}`);
    return problems;
  }
  let text: string;
  try {
    text = UTF8.decode(a.body);
  } catch {
    bad('non-envelope', 'body that is not UTF-8');
    return problems;
  }
  if (json) judgeJson(a.status, text, bad);
  else judgeXml(a.status, text, bad);
  return problems;
}

function judgeJson(status: number, text: string, bad: (k: ProblemKind, r: string) => void) {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    bad('non-envelope', 'body that is not JSON');
    return;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    bad('non-envelope', 'JSON that is not an object');
    return;
  }
  const o = v as Record<string, unknown>;
  if (status >= 200 && status < 300) {
    if (status !== 200) bad('non-envelope', `success status ${status}`);
    if (text === '{"status":"ok"}') return; // GET /health
    if (typeof o.RequestId !== 'string' || !REQUEST_ID.test(o.RequestId)) {
      bad('non-envelope', 'success without a RequestId');
    }
    if ('Code' in o) bad('non-envelope', 'success carrying Code');
    return;
  }
  if (status < 400) {
    bad('non-envelope', `status ${status}`);
    return;
  }
  if (Object.keys(o).join(',') !== ENVELOPE_KEYS) {
    bad('non-envelope', `error keys ${Object.keys(o).join(',')}`);
    return;
  }
  for (const k of Object.keys(o)) {
    if (typeof o[k] !== 'string') bad('non-envelope', `error field ${k} not a string`);
  }
  if (!REQUEST_ID.test(String(o.RequestId))) bad('non-envelope', 'error without a RequestId');
  if (!CATALOGUED.has(`${String(o.Code)} ${status}`)) {
    bad('non-envelope', `code ${String(o.Code)} with status ${status} is not in the catalogue`);
  }
}

function judgeXml(status: number, text: string, bad: (k: ProblemKind, r: string) => void) {
  if (NOT_XML.test(text)) bad('malformed-xml', 'a character XML 1.0 cannot carry');
  const valid = XMLValidator.validate(text);
  if (valid !== true)
    bad('malformed-xml', `not well-formed: ${valid.err.msg} (line ${valid.err.line})`);
  if (status >= 200 && status < 300) {
    if (status !== 200) bad('non-envelope', `success status ${status}`);
    const m = XML_SUCCESS.exec(text);
    if (!m || !text.endsWith(`</${m[1]}>`)) bad('non-envelope', 'XML success of another shape');
    return;
  }
  if (status < 400) {
    bad('non-envelope', `status ${status}`);
    return;
  }
  const m = XML_ERROR.exec(text);
  if (!m) {
    bad('non-envelope', 'XML error that is not the <Error> envelope');
    return;
  }
  if (!REQUEST_ID.test(m[1]!)) bad('non-envelope', 'error without a RequestId');
  const code = m[2]!;
  if (!CATALOGUED.has(`${code} ${status}`)) {
    bad('non-envelope', `code ${code} with status ${status} is not in the catalogue`);
  }
}

/** The error code of an answer, or '' for a success (for the counts by code). */
export function codeOf(a: Answer): string {
  if (a.status < 400 || a.body.length > 4096) return '';
  const m = /"Code":"([^"]*)"|<Code>([^<]*)<\/Code>/.exec(a.body.toString('latin1'));
  return m ? (m[1] ?? m[2] ?? '') : '';
}
