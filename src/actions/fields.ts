/** Validation of the naming fields shared by several actions. */
import type { Tag } from '../domain/types.js';
import { apiError, type ErrorKey } from '../errors.js';
import type { Params } from './params.js';

const NAME = /^[\p{L}][\p{L}\p{N}:_.\- ]*$/u;
const HTTP = /^https?:\/\//i;

/** Names: 2-128 characters, starting with a letter; letters, digits, `:_.-`; no http(s)://. */
export function parseName(p: Params, param: string, err: ErrorKey): string | undefined {
  const v = p.opt(param);
  if (v === undefined) return undefined;
  const len = [...v].length;
  if (len < 2 || len > 128 || !NAME.test(v) || HTTP.test(v)) throw apiError(err);
  return v;
}

/** Descriptions: 2-256 characters, not starting with http(s)://. */
export function parseDescription(p: Params, param = 'Description'): string | undefined {
  const v = p.opt(param);
  if (v === undefined) return undefined;
  const len = [...v].length;
  if (len < 2 || len > 256 || HTTP.test(v)) throw apiError('InvalidDescription.Malformed');
  return v;
}

/** `Tag.N.Key` / `Tag.N.Value`, up to 20, keys unique. */
export function parseTags(p: Params, requireValue = true): Tag[] {
  const tags: Tag[] = [];
  const keys = new Set<string>();
  for (const t of p.indexed('Tag', 20).values()) {
    const key = t.opt('Key');
    const value = t.opt('Value') ?? '';
    if (key === undefined) {
      if (!requireValue && value === '') continue;
      throw apiError('InvalidTagKey.Malformed');
    }
    if ([...key].length > 128 || HTTP.test(key) || /^(aliyun|acs:)/i.test(key)) {
      throw apiError('InvalidTagKey.Malformed');
    }
    if ([...value].length > 128 || HTTP.test(value)) throw apiError('InvalidTagValue.Malformed');
    if (keys.has(key)) throw apiError('Duplicate.TagKey');
    keys.add(key);
    tags.push({ key, value });
  }
  return tags;
}
