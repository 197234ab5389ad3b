/** The replay check of a single node, in memory: fingerprints in time buckets, with ceilings. */
import { NonceLedger } from './ledger.js';
import {
  type ClaimOutcome,
  DEFAULT_NONCE_LIMITS,
  type NonceCache,
  type NonceClaim,
  type NonceLimits,
  type NonceStats,
  nonceHash,
} from './window.js';

export class MemoryNonceCache implements NonceCache {
  private readonly ledger: NonceLedger;

  constructor(limits: NonceLimits = DEFAULT_NONCE_LIMITS, bucketMs?: number) {
    this.ledger = new NonceLedger(limits, true, bucketMs);
  }

  claim(c: NonceClaim): ClaimOutcome {
    const [hi, lo] = nonceHash(c.accessKeyId, c.nonce);
    return this.claimHash(c.accessKeyId, hi, lo, c.expiresAtMs, c.nowMs);
  }

  /** `claim` of a fingerprint already computed (and of nonces loaded back from a file). */
  claimHash(
    accessKeyId: string,
    hi: number,
    lo: number,
    expiresAtMs: number,
    nowMs: number,
  ): ClaimOutcome {
    this.ledger.expire(nowMs);
    if (this.ledger.has(hi, lo)) return 'used';
    const over = this.ledger.ceiling(accessKeyId);
    if (over !== null) return over;
    this.ledger.add(accessKeyId, hi, lo, expiresAtMs);
    return 'fresh';
  }

  /** Remembers a nonce recorded earlier (loaded back from a file): no ceiling applies. */
  restore(accessKeyId: string, hi: number, lo: number, expiresAtMs: number, nowMs: number): void {
    this.ledger.expire(nowMs);
    if (expiresAtMs > nowMs && !this.ledger.has(hi, lo)) {
      this.ledger.add(accessKeyId, hi, lo, expiresAtMs);
    }
  }

  stats(): NonceStats {
    return this.ledger.stats();
  }
}
