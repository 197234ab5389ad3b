/**
 * Answers of a read action kept while what they show cannot have changed: a repeat of the
 * same read is answered from here. Where the store sees every commit (SQLite) an answer is
 * kept until the next commit (`Store.committedVersion`); elsewhere (PostgreSQL nodes) it is
 * kept with the versions of the groups it shows, and reused after one statement finds them
 * unchanged (`Store.groupVersions`), so every node answers what is committed. Bounded: the
 * oldest entry goes first. A kept answer is rendered once per format (`reusable`).
 */
import type { Store, Tx } from '../domain/store.js';
import { reusable } from '../protocol/render.js';

/** What a read found: the answer, and the groups whose state it shows. */
export interface Found<T> {
  value: T;
  groups: readonly string[];
}

interface Entry<T> {
  value: T;
  /** The store's committed version when read (SQLite), or undefined. */
  version: number | undefined;
  /** The groups' versions read with the answer (PostgreSQL). */
  groups: ReadonlyMap<string, number>;
}

export class ReadMemo<T extends object> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(private readonly capacity = 256) {}

  /** `read`'s answer for `key`, reused while nothing it shows has changed. */
  async get(store: Store, key: string, read: (tx: Tx) => Promise<Found<T>>): Promise<T> {
    const version = store.committedVersion();
    const hit = this.entries.get(key);
    if (hit !== undefined && (await this.fresh(store, hit, version))) return hit.value;
    const entry = await store.read(async (tx): Promise<Entry<T>> => {
      const found = await read(tx);
      // versions in the same view as the answer: a later change makes it stale, never wrong
      const groups = version === undefined ? await tx.groupVersions(found.groups) : new Map();
      return { value: reusable(found.value), version, groups };
    });
    this.entries.delete(key);
    if (this.entries.size >= this.capacity) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
    this.entries.set(key, entry);
    return entry.value;
  }

  private async fresh(store: Store, hit: Entry<T>, version: number | undefined) {
    if (version !== undefined) return hit.version === version;
    if (hit.groups.size === 0) return false;
    const now = await store.groupVersions([...hit.groups.keys()]);
    for (const [id, v] of hit.groups) if (now.get(id) !== v) return false;
    return true;
  }
}
