/** Paging: PageNumber/PageSize and MaxResults/NextToken (an opaque offset). */
import { apiError } from '../errors.js';
import type { Params } from './params.js';

export function encodeToken(offset: number): string {
  return Buffer.from(`o:${offset}`).toString('base64url');
}

export function decodeToken(token: string | undefined): number {
  if (token === undefined) return 0;
  const m = /^o:(\d{1,9})$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (!m) throw apiError('InvalidNextToken.Malformed');
  return Number(m[1]);
}

export interface Page<T> {
  items: T[];
  nextToken: string;
}

/**
 * A MaxResults/NextToken page of `all`; everything when MaxResults is absent and `max` is
 * undefined. With `clamp`, a MaxResults outside [clamp.min, maxLimit] is brought inside it
 * (as DescribeNetworkInterfaces documents) instead of refused.
 */
export function tokenPage<T>(
  all: readonly T[],
  p: Params,
  maxDefault?: number,
  maxLimit = 1000,
  clamp?: { min: number },
): Page<T> {
  const offset = decodeToken(p.opt('NextToken'));
  const asked = clamp ? p.int('MaxResults', -(2 ** 31), 2 ** 31) : p.int('MaxResults', 1, maxLimit);
  const size =
    asked === undefined
      ? (maxDefault ?? all.length)
      : clamp
        ? Math.min(maxLimit, Math.max(clamp.min, asked))
        : asked;
  const items = all.slice(offset, offset + size);
  const next = offset + size;
  return { items, nextToken: next < all.length ? encodeToken(next) : '' };
}

/** A PageNumber/PageSize page (PageSize at most `sizeLimit`, `sizeDefault` when absent). */
export function numberedPage<T>(all: readonly T[], p: Params, sizeLimit = 50, sizeDefault = 10) {
  const pageNumber = p.int('PageNumber', 1, 1_000_000, 'InvalidPageNumber.Malformed') ?? 1;
  const pageSize = p.int('PageSize', 1, sizeLimit, 'InvalidPageSize.Malformed') ?? sizeDefault;
  const start = (pageNumber - 1) * pageSize;
  return { items: all.slice(start, start + pageSize), pageNumber, pageSize };
}
