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

/** Descriptions: 2-256 characters (or up to `max`), not starting with http(s)://. */
export function parseDescription(p: Params, param = 'Description', max = 256): string | undefined {
  const v = p.opt(param);
  if (v === undefined) return undefined;
  const len = [...v].length;
  if (len < 2 || len > max || HTTP.test(v)) throw apiError('InvalidDescription.Malformed');
  return v;
}

/**
 * The VPC product's names and descriptions: 1-128 (1-256) characters, not starting with
 * http(s)://; nothing else is required of them.
 */
export function parseVpcText(
  p: Params,
  param: string,
  max: number,
  err: ErrorKey,
): string | undefined {
  const v = p.opt(param);
  if (v === undefined) return undefined;
  if ([...v].length > max || HTTP.test(v)) throw apiError(err);
  return v;
}

const RESERVED = /^(aliyun|acs:)/i;
const LINK = /https?:\/\//i;

/**
 * `Tag.N.Key` / `Tag.N.Value` of a Create or TagResources: up to 20, keys unique, a key of
 * 1-128 characters not starting with `aliyun` or `acs:`, a value of 0-128 characters; neither
 * may contain `http://` or `https://`. The VPC product also keeps values off the reserved
 * prefixes, and names its errors without `.Malformed`.
 */
export function parseTags(p: Params, product: 'ecs' | 'vpc' = 'ecs'): Tag[] {
  const [badKey, badValue] =
    product === 'ecs'
      ? (['InvalidTagKey.Malformed', 'InvalidTagValue.Malformed'] as const)
      : (['InvalidTagKey#vpc', 'InvalidTagValue#vpc'] as const);
  const tags: Tag[] = [];
  const keys = new Set<string>();
  for (const t of p.indexed('Tag', MAX_TAGS, 'NumberExceed.Tags').values()) {
    const key = t.opt('Key');
    const value = t.opt('Value') ?? '';
    if (key === undefined || [...key].length > 128 || LINK.test(key) || RESERVED.test(key)) {
      throw apiError(badKey);
    }
    if (
      [...value].length > 128 ||
      LINK.test(value) ||
      (product === 'vpc' && RESERVED.test(value))
    ) {
      throw apiError(badValue);
    }
    if (keys.has(key)) throw apiError('Duplicate.TagKey');
    keys.add(key);
    tags.push({ key, value });
  }
  return tags;
}

/**
 * `Tag.N.Key` [+ `Tag.N.Value`] filters of a Describe or List: entries without a key are
 * refused when they carry a value and skipped when empty; no value matches any value.
 */
export function parseTagFilter(p: Params): Tag[] {
  const tags: Tag[] = [];
  for (const t of p.indexed('Tag', MAX_TAGS, 'NumberExceed.Tags').values()) {
    const key = t.opt('Key');
    const value = t.opt('Value') ?? '';
    if (key === undefined) {
      if (value !== '') throw apiError('InvalidParameter', `${t.prefix}Key`);
      continue;
    }
    tags.push({ key, value });
  }
  return tags;
}

const MAX_TAGS = 20;

/** `ResourceGroupId`: `rg-` and letters or digits, or absent. */
export function parseResourceGroupId(p: Params, name = 'ResourceGroupId'): string | undefined {
  const v = p.opt(name);
  if (v === undefined) return undefined;
  if (!/^rg-[0-9A-Za-z]{1,64}$/.test(v)) throw apiError('InvalidResourceGroupId.Malformed');
  return v;
}
