/**
 * Throttling per AccessKeyId: a token bucket each, `rate` tokens a second up to `burst`; a
 * request takes one or is refused (`Throttling.User`) before it does anything. Per node: on
 * several nodes a key's rate is at most nodes × rate. Keys are the accounts' own (requests
 * are throttled after they authenticate), so the buckets are as many as the keys.
 */
export interface ThrottleSettings {
  /** Requests per second per AccessKeyId; 0 turns throttling off. */
  readonly rate: number;
  /** How many may come at once after a quiet spell. */
  readonly burst: number;
}

export const DEFAULT_THROTTLE: ThrottleSettings = { rate: 1000, burst: 2000 };

interface Bucket {
  tokens: number;
  at: number;
}

export class Throttle {
  private readonly buckets = new Map<string, Bucket>();
  /** Requests refused so far, for the metrics. */
  refused = 0;

  constructor(private readonly s: ThrottleSettings) {}

  /** Takes a token of `key` at `nowMs`; false when there is none. */
  take(key: string, nowMs: number): boolean {
    if (this.s.rate <= 0) return true;
    let b = this.buckets.get(key);
    if (b === undefined) {
      b = { tokens: this.s.burst, at: nowMs };
      this.buckets.set(key, b);
    } else if (nowMs > b.at) {
      b.tokens = Math.min(this.s.burst, b.tokens + ((nowMs - b.at) * this.s.rate) / 1000);
      b.at = nowMs;
    }
    if (b.tokens < 1) {
      this.refused++;
      return false;
    }
    b.tokens -= 1;
    return true;
  }
}
