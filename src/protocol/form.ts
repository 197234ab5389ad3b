/**
 * Strict `application/x-www-form-urlencoded` decoding, for the query string and form bodies:
 * `+` is a space, `%XX` an escaped byte, and the bytes must be UTF-8. Anything else — an
 * escape that is not two hex digits, bytes that are not UTF-8, characters that may not
 * appear in a URL — is refused with InvalidParameter naming the parameter, instead of being
 * kept as written or replaced by U+FFFD (which a client signing the real bytes would see as
 * a signature mismatch).
 */
import { apiError } from '../errors.js';

const PRINTABLE = /^[\x21-\x7e]*$/;

function decode(part: string): string | undefined {
  if (!PRINTABLE.test(part)) return undefined; // raw spaces, controls or non-ASCII
  if (!part.includes('%') && !part.includes('+')) return part;
  try {
    return decodeURIComponent(part.replaceAll('+', ' '));
  } catch {
    return undefined; // a malformed escape, or escaped bytes that are not UTF-8
  }
}

/** Decodes `k=v&…` in order; keys without `=` have an empty value; empty pieces are skipped. */
export function decodeForm(encoded: string): [string, string][] {
  const out: [string, string][] = [];
  if (encoded === '') return out;
  for (const piece of encoded.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const rawKey = eq < 0 ? piece : piece.slice(0, eq);
    const key = decode(rawKey);
    if (key === undefined) throw apiError('InvalidParameter.Encoding', rawKey);
    const value = decode(eq < 0 ? '' : piece.slice(eq + 1));
    if (value === undefined) throw apiError('InvalidParameter.Encoding', key);
    out.push([key, value]);
  }
  return out;
}

/** A form body's text: its bytes must be UTF-8 (ASCII, in practice, once percent-encoded). */
export function bodyText(body: Buffer): string {
  for (let i = 0; i < body.length; i++) {
    if (body[i]! > 0x7e) return strictUtf8(body);
  }
  return body.toString('latin1');
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function strictUtf8(body: Buffer): string {
  try {
    return UTF8.decode(body);
  } catch {
    throw apiError('InvalidParameter.Encoding', 'the form body');
  }
}
