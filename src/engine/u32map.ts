/**
 * An open-addressing hash map from uint32 keys to values. Unlike `Map<number, V>` it
 * never boxes keys ≥ 2^30 into heap numbers, so lookups on the hot path allocate nothing.
 */
export class U32Map<V> {
  private keys = new Uint32Array(16);
  private vals: (V | undefined)[] = new Array(16).fill(undefined);
  private used = new Uint8Array(16);
  private mask = 15;
  private count = 0;
  private tombstones = 0;

  get size(): number {
    return this.count;
  }

  private slot(key: number): number {
    return (Math.imul(key, 0x9e3779b1) >>> 0) & this.mask;
  }

  get(key: number): V | undefined {
    const keys = this.keys;
    const used = this.used;
    let i = (Math.imul(key, 0x9e3779b1) >>> 0) & this.mask;
    for (;;) {
      const u = used[i]!;
      if (u === 0) return undefined;
      if (u === 1 && keys[i] === key) return this.vals[i];
      i = (i + 1) & this.mask;
    }
  }

  set(key: number, value: V): void {
    if ((this.count + this.tombstones + 1) * 2 > this.mask + 1) this.rehash();
    let i = this.slot(key);
    let free = -1;
    for (;;) {
      const u = this.used[i]!;
      if (u === 0) break;
      if (u === 1 && this.keys[i] === key) {
        this.vals[i] = value;
        return;
      }
      if (u === 2 && free < 0) free = i;
      i = (i + 1) & this.mask;
    }
    if (free >= 0) {
      i = free;
      this.tombstones--;
    }
    this.keys[i] = key;
    this.vals[i] = value;
    this.used[i] = 1;
    this.count++;
  }

  delete(key: number): boolean {
    let i = this.slot(key);
    for (;;) {
      const u = this.used[i]!;
      if (u === 0) return false;
      if (u === 1 && this.keys[i] === key) {
        this.used[i] = 2;
        this.vals[i] = undefined;
        this.count--;
        this.tombstones++;
        return true;
      }
      i = (i + 1) & this.mask;
    }
  }

  private rehash(): void {
    const { keys, vals, used } = this;
    let cap = 16;
    while (cap < (this.count + 1) * 4) cap *= 2;
    this.keys = new Uint32Array(cap);
    this.vals = new Array(cap).fill(undefined);
    this.used = new Uint8Array(cap);
    this.mask = cap - 1;
    this.count = 0;
    this.tombstones = 0;
    for (let i = 0; i < used.length; i++) if (used[i] === 1) this.set(keys[i]!, vals[i] as V);
  }
}
