/**
 * Wakes long polls of the change feed: `notify()` after every commit this node sees (its own,
 * and other nodes' through the store's change notifications). A waiter notes the generation
 * before it reads, then waits for a later one: a commit between its read and its wait is not
 * missed. Bounded: at most `maxWaiters` long polls wait at once.
 */
export class ChangeSignal {
  private gen = 0;
  private readonly waiters = new Set<() => void>();
  private active = 0;
  private stopped = false;

  constructor(readonly maxWaiters: number) {}

  get generation(): number {
    return this.gen;
  }

  get closed(): boolean {
    return this.stopped;
  }

  notify(): void {
    this.gen++;
    for (const w of this.waiters) w();
    this.waiters.clear();
  }

  /** Takes a waiter's place; false when `maxWaiters` are waiting already. */
  enter(): boolean {
    if (this.active >= this.maxWaiters) return false;
    this.active++;
    return true;
  }

  leave(): void {
    this.active--;
  }

  /** Resolves once the generation is past `seen`, the signal closes, or `ms` have passed. */
  wait(seen: number, ms: number): Promise<void> {
    if (this.gen !== seen || this.stopped || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  /** Ends every wait now and every later one at once (the server is closing). */
  close(): void {
    this.stopped = true;
    this.notify();
  }
}
