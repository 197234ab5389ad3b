/** Response rendering: JSON or XML bodies and the error envelope. */
import { XMLBuilder } from 'fast-xml-parser';
import type { ApiError } from '../errors.js';

export type Format = 'json' | 'xml';

export interface Rendered {
  status: number;
  contentType: string;
  /**
   * Text, or bytes in parts when part of it was rendered before (see `reusable`): the parts
   * are written one after the other, never joined into a copy.
   */
  body: string | readonly Buffer[];
}

/** A body's size in bytes. */
export function bodyLength(body: Rendered['body']): number {
  if (typeof body === 'string') return Buffer.byteLength(body);
  let n = 0;
  for (const part of body) n += part.length;
  return n;
}

/** A rendered body as text (tests). */
export function renderedText(body: Rendered['body']): string {
  return typeof body === 'string' ? body : Buffer.concat(body).toString('utf8');
}

const JSON_TYPE = 'application/json;charset=utf-8';
const XML_TYPE = 'text/xml;charset=utf-8';
const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>';

/**
 * Characters XML 1.0 cannot carry (control characters but tab, LF and CR; U+FFFE, U+FFFF;
 * halves of surrogate pairs). Parameters carrying them are refused, so stored data has none;
 * anything that still holds one (an earlier version's data) is rendered with U+FFFD.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: it finds the control characters to refuse
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udfff]/gu;
const xmlText = (_name: string, v: unknown) =>
  typeof v === 'string' ? v.replace(NOT_XML, '\ufffd') : v;

const xml = new XMLBuilder({
  ignoreAttributes: true,
  suppressEmptyNode: false,
  tagValueProcessor: xmlText,
});

/**
 * A part of a success body whose JSON is already rendered: `prerender('Regions', value)`
 * for data that never changes (a catalogue), `rawJson('Permissions', json)` for JSON an
 * action assembled from cached pieces. It stands for `key: value`; its XML is built from
 * the value (or the parsed JSON) on first use.
 */
export class Prerendered {
  private xmlText: string | undefined;
  constructor(
    private readonly key: string,
    readonly json: string,
    private readonly value?: unknown,
  ) {}
  get xml(): string {
    this.xmlText ??= xml.build({ [this.key]: this.value ?? JSON.parse(this.json) }) as string;
    return this.xmlText;
  }
}

export function prerender(key: string, value: unknown): Prerendered {
  return new Prerendered(key, JSON.stringify(value), value);
}

export function rawJson(key: string, json: string): Prerendered {
  return new Prerendered(key, json);
}

function toJson(body: Record<string, unknown>): string {
  let out = '';
  for (const key in body) {
    const v = body[key];
    if (v === undefined) continue;
    out += `${out === '' ? '{' : ','}${JSON.stringify(key)}:${v instanceof Prerendered ? v.json : JSON.stringify(v)}`;
  }
  return out === '' ? '{}' : `${out}}`;
}

function toXml(root: string, body: Record<string, unknown>): string {
  let out = `${XML_DECL}<${root}>`;
  for (const key in body) {
    const v = body[key];
    if (v === undefined) continue;
    out += v instanceof Prerendered ? v.xml : (xml.build({ [key]: v }) as string);
  }
  return `${out}</${root}>`;
}

function render(
  status: number,
  root: string,
  body: Record<string, unknown>,
  format: Format,
): Rendered & { body: string } {
  if (format === 'json') return { status, contentType: JSON_TYPE, body: toJson(body) };
  return { status, contentType: XML_TYPE, body: toXml(root, body) };
}

/** Success bodies an action hands out more than once (see `reusable`). */
const REUSED = new WeakSet<object>();
/** What follows `RequestId` in a reused body, encoded once per format. */
const tails = new WeakMap<object, { json?: Buffer; xml?: Buffer }>();

/**
 * Marks `body` as a result an action returns again unchanged (a memoized read): its
 * rendering after `RequestId` is then kept with it, so a repeat renders only its `RequestId`.
 */
export function reusable<T extends object>(body: T): T {
  REUSED.add(body);
  return body;
}

/**
 * A success body: `RequestId` first (`requestId`, whatever `body` holds); XML root
 * `<ActionResponse>`. Never carries `Code`.
 */
export function renderSuccess(
  action: string,
  requestId: string,
  body: Record<string, unknown>,
  format: Format,
): Rendered {
  const root = `${action}Response`;
  const { RequestId: _, ...rest } = body; // a replayed answer's id is `requestId`
  if (!REUSED.has(body)) return render(200, root, { RequestId: requestId, ...rest }, format);
  let tail = tails.get(body);
  if (tail === undefined) {
    tail = {};
    tails.set(body, tail);
  }
  if (format === 'json') {
    tail.json ??= Buffer.from(toJson(rest).slice(1)); // without its '{'
    const head = Buffer.from(
      `{"RequestId":${JSON.stringify(requestId)}${tail.json.length > 1 ? ',' : ''}`,
    );
    return { status: 200, contentType: JSON_TYPE, body: [head, tail.json] };
  }
  tail.xml ??= Buffer.from(toXml(root, rest).slice(XML_DECL.length + root.length + 2));
  const head = Buffer.from(`${XML_DECL}<${root}>${xml.build({ RequestId: requestId }) as string}`);
  return { status: 200, contentType: XML_TYPE, body: [head, tail.xml] };
}

/** The documented error envelope: `{RequestId, HostId, Code, Message, Recommend}`, XML root `<Error>`. */
export function renderError(
  err: ApiError,
  requestId: string,
  hostId: string,
  format: Format,
): Rendered & { body: string } {
  const body = {
    RequestId: requestId,
    HostId: hostId,
    Code: err.code,
    Message: err.message,
    Recommend: `See the ecs-secgroup README, section "Errors", for ${err.code}.`,
  };
  return render(err.status, 'Error', body, format);
}
