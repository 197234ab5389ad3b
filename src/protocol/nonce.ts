/** Replay protection: a signature nonce may be used once within the window. */

/** A request's timestamp may differ from the server's clock by this much, either way. */
export const TIMESTAMP_SKEW_MS = 15 * 60 * 1000;

/**
 * How long a claimed nonce must be remembered: a request claimed now may carry a timestamp
 * up to the skew ahead of the server's clock, and stays acceptable until the skew after it.
 */
export const NONCE_WINDOW_MS = 2 * TIMESTAMP_SKEW_MS;
export interface NonceCache {
  /** Records `key`; false when it was already recorded within the window. */
  claim(key: string, nowMs: number): boolean | Promise<boolean>;
}

/**
 * In-memory nonce cache for a single node: two generations, each `windowMs` long,
 * so every nonce is remembered for at least the window and at most twice it.
 */
export class MemoryNonceCache implements NonceCache {
  private current = new Set<string>();
  private previous = new Set<string>();
  private rotatedAt = 0;

  constructor(private readonly windowMs: number) {}

  claim(key: string, nowMs: number): boolean {
    if (nowMs - this.rotatedAt >= this.windowMs) {
      this.previous = nowMs - this.rotatedAt >= 2 * this.windowMs ? new Set() : this.current;
      this.current = new Set();
      this.rotatedAt = nowMs;
    }
    if (this.current.has(key) || this.previous.has(key)) return false;
    this.current.add(key);
    return true;
  }
}
