/** Resource ids (`sg-…`, `sgr-…`, `vpc-…`) and API timestamps. */
import { randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export function newId(prefix: string, length = 20): string {
  const bytes = randomBytes(length);
  let s = '';
  for (const b of bytes) s += ALPHABET[b % 36];
  return `${prefix}-${s}`;
}

/** `YYYY-MM-DDThh:mm:ssZ` (UTC, no fraction), the API's time format. */
export function apiTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/**
 * The id and creation time a resource is created with when they are given (an import of
 * exported state), instead of new ones.
 */
export interface Fixed {
  readonly id: string;
  readonly time: string;
}
