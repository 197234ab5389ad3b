/**
 * Results of a read action kept while the store's committed version stays the same (see
 * `Store.committedVersion`): a repeat of the same read between two writes is answered from
 * here. Bounded: the oldest entry goes first. Nothing is kept when the store cannot tell
 * its version (PostgreSQL nodes). A kept result is rendered once per format (`reusable`).
 */

import type { Store } from '../domain/store.js';
import { reusable } from '../protocol/render.js';

export class ReadMemo<T extends object> {
  private readonly entries = new Map<string, { version: number; value: T }>();

  constructor(private readonly capacity = 256) {}

  /** `read()`'s result for `key`, reused while nothing committed since it was read. */
  async get(store: Store, key: string, read: () => Promise<T>): Promise<T> {
    const version = store.committedVersion();
    if (version === undefined) return read();
    const hit = this.entries.get(key);
    if (hit !== undefined && hit.version === version) return hit.value;
    const value = reusable(await read());
    this.entries.delete(key);
    if (this.entries.size >= this.capacity) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
    // Read under `version` or later: a later commit makes the entry stale, never wrong.
    this.entries.set(key, { version, value });
    return value;
  }
}
