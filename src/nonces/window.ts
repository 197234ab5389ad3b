/**
 * Replay protection: what a signature nonce cache promises, and how long it must remember.
 *
 * A request is accepted while its signed timestamp is within `TIMESTAMP_SKEW_MS` of the
 * server's clock, so a nonce must be remembered until its request's timestamp plus the skew:
 * after that the request is refused for its timestamp anyway. That is at most twice the skew
 * after it was first used (a request signed a whole skew ahead), and the skew for a client
 * whose clock is right.
 */
import { hash } from 'node:crypto';

/** A request's timestamp may differ from the server's clock by this much, either way. */
export const TIMESTAMP_SKEW_MS = 15 * 60 * 1000;

/** The longest a nonce can need remembering after its first use. */
export const NONCE_WINDOW_MS = 2 * TIMESTAMP_SKEW_MS;

/** The longest nonce accepted (a UUID has 36 characters). */
export const MAX_NONCE_LENGTH = 128;

export interface NonceClaim {
  /** The authenticated AccessKeyId the nonce belongs to. */
  readonly accessKeyId: string;
  readonly nonce: string;
  /** Until when the nonce must be remembered: the request's timestamp plus the skew. */
  readonly expiresAtMs: number;
  readonly nowMs: number;
}

/**
 * `fresh`: recorded now. `used`: recorded before and not expired (a replay).
 * `key-limit`: the key already has its ceiling of remembered nonces.
 * `limit`: the cache holds its overall ceiling.
 */
export type ClaimOutcome = 'fresh' | 'used' | 'key-limit' | 'limit';

export interface NonceLimits {
  /** Remembered nonces per AccessKeyId at most. */
  readonly maxPerKey: number;
  /** Remembered nonces in all at most (on PostgreSQL: those this node recorded). */
  readonly maxTotal: number;
}

export const DEFAULT_NONCE_LIMITS: NonceLimits = { maxPerKey: 2_000_000, maxTotal: 4_000_000 };

export interface NonceStats {
  /** Nonces remembered now (on PostgreSQL: those this node recorded and counts). */
  readonly count: number;
  /** Memory held for them, in bytes. */
  readonly bytes: number;
}

export interface NonceCache {
  claim(c: NonceClaim): ClaimOutcome | Promise<ClaimOutcome>;
  stats(): NonceStats;
}

/**
 * The 64-bit fingerprint a nonce is remembered by: the first 8 bytes of
 * SHA-256(accessKeyId, nonce), as two uint32 halves; never 0/0 (the empty slot). Two nonces
 * of one key that collide only refuse that key's own second request; another key's future
 * nonce cannot be targeted without a second preimage.
 */
export function nonceHash(accessKeyId: string, nonce: string): [hi: number, lo: number] {
  const d = hash('sha256', `${accessKeyId}\n${nonce}`, 'buffer') as unknown as Buffer;
  const hi = d.readUInt32BE(0);
  const lo = d.readUInt32BE(4);
  return hi === 0 && lo === 0 ? [0, 1] : [hi, lo];
}
