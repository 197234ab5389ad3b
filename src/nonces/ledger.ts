/**
 * The nonces remembered by one node, in time buckets by expiry: bucket b holds the nonces
 * that expire in [b·B, (b+1)·B) and is dropped whole once that span has passed, so a nonce
 * is remembered until its expiry and at most B longer. With `withHashes`, each bucket keeps
 * the nonces' 64-bit fingerprints (the replay check of a single node); without, only their
 * counts per AccessKeyId (the ceilings of a node whose replay check is the database's).
 */
import { HashSet64 } from './hash-set.js';
import type { ClaimOutcome, NonceLimits, NonceStats } from './window.js';

interface Bucket {
  readonly index: number;
  readonly set: HashSet64 | null;
  readonly perKey: Map<string, number>;
  count: number;
}

/** Rough heap cost of a bucket's per-key count entry (a Map entry and its key). */
const PER_KEY_ENTRY_BYTES = 64;

export class NonceLedger {
  /** Live buckets, by ascending index. */
  private buckets: Bucket[] = [];
  private readonly totals = new Map<string, number>();
  private total = 0;
  /** When the oldest bucket's span ends (it is dropped then). */
  private nextExpiry = Number.POSITIVE_INFINITY;

  constructor(
    readonly limits: NonceLimits,
    private readonly withHashes: boolean,
    private readonly bucketMs = 60_000,
  ) {}

  /** Drops the buckets whose every nonce has expired by `nowMs`. */
  expire(nowMs: number): void {
    if (nowMs < this.nextExpiry) return;
    let drop = 0;
    while (drop < this.buckets.length && (this.buckets[drop]!.index + 1) * this.bucketMs <= nowMs) {
      const b = this.buckets[drop++]!;
      this.total -= b.count;
      for (const [key, n] of b.perKey) {
        const left = (this.totals.get(key) ?? 0) - n;
        if (left > 0) this.totals.set(key, left);
        else this.totals.delete(key);
      }
    }
    if (drop > 0) this.buckets = this.buckets.slice(drop);
    const first = this.buckets[0];
    this.nextExpiry = first ? (first.index + 1) * this.bucketMs : Number.POSITIVE_INFINITY;
  }

  /** Whether recording one more nonce of `accessKeyId` would pass a ceiling. */
  ceiling(accessKeyId: string): ClaimOutcome | null {
    if ((this.totals.get(accessKeyId) ?? 0) >= this.limits.maxPerKey) return 'key-limit';
    if (this.total >= this.limits.maxTotal) return 'limit';
    return null;
  }

  /** Whether the fingerprint is remembered (only with `withHashes`). */
  has(hi: number, lo: number): boolean {
    const bs = this.buckets;
    for (let i = 0; i < bs.length; i++) if (bs[i]!.set!.has(hi, lo)) return true;
    return false;
  }

  /** Records a nonce until `expiresAtMs`; false when its fingerprint was there already. */
  add(accessKeyId: string, hi: number, lo: number, expiresAtMs: number): boolean {
    const b = this.bucketFor(Math.floor(expiresAtMs / this.bucketMs));
    if (b.set !== null && !b.set.add(hi, lo)) return false;
    b.count++;
    b.perKey.set(accessKeyId, (b.perKey.get(accessKeyId) ?? 0) + 1);
    this.totals.set(accessKeyId, (this.totals.get(accessKeyId) ?? 0) + 1);
    this.total++;
    return true;
  }

  stats(): NonceStats {
    let bytes = this.totals.size * PER_KEY_ENTRY_BYTES;
    for (const b of this.buckets)
      bytes += (b.set?.bytes ?? 0) + b.perKey.size * PER_KEY_ENTRY_BYTES;
    return { count: this.total, bytes };
  }

  private bucketFor(index: number): Bucket {
    const bs = this.buckets;
    // New expiries are mostly the latest: search from the end.
    let i = bs.length;
    while (i > 0 && bs[i - 1]!.index > index) i--;
    if (i > 0 && bs[i - 1]!.index === index) return bs[i - 1]!;
    const b: Bucket = {
      index,
      set: this.withHashes ? new HashSet64() : null,
      perKey: new Map(),
      count: 0,
    };
    bs.splice(i, 0, b);
    if (i === 0) this.nextExpiry = (index + 1) * this.bucketMs;
    return b;
  }
}
