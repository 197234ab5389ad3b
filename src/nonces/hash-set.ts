/**
 * A set of 64-bit fingerprints in one typed array: open addressing with linear probing,
 * each slot two uint32 words (hi, lo), 0/0 meaning empty. It grows by doubling at 3/4 full,
 * so a member costs 8 bytes / load: 10.7-21.3 bytes. Members are never removed one by one:
 * a whole set is dropped when its time bucket expires.
 */
const INITIAL_SLOTS = 16;

export class HashSet64 {
  private slots: Uint32Array;
  private mask: number;
  size = 0;

  constructor(initialSlots = INITIAL_SLOTS) {
    let n = INITIAL_SLOTS;
    while (n < initialSlots) n *= 2;
    this.slots = new Uint32Array(2 * n);
    this.mask = n - 1;
  }

  get bytes(): number {
    return this.slots.byteLength;
  }

  has(hi: number, lo: number): boolean {
    const s = this.slots;
    for (let i = lo & this.mask; ; i = (i + 1) & this.mask) {
      const h = s[2 * i]!;
      const l = s[2 * i + 1]!;
      if (h === hi && l === lo) return true;
      if (h === 0 && l === 0) return false;
    }
  }

  /** Adds a member (not 0/0); false when it was there already. */
  add(hi: number, lo: number): boolean {
    if (this.size + 1 > ((this.mask + 1) * 3) / 4) this.grow();
    const s = this.slots;
    for (let i = lo & this.mask; ; i = (i + 1) & this.mask) {
      const h = s[2 * i]!;
      const l = s[2 * i + 1]!;
      if (h === hi && l === lo) return false;
      if (h === 0 && l === 0) {
        s[2 * i] = hi;
        s[2 * i + 1] = lo;
        this.size++;
        return true;
      }
    }
  }

  private grow(): void {
    const old = this.slots;
    const n = 2 * (this.mask + 1);
    this.slots = new Uint32Array(2 * n);
    this.mask = n - 1;
    this.size = 0;
    for (let i = 0; i < old.length; i += 2) {
      const h = old[i]!;
      const l = old[i + 1]!;
      if (h !== 0 || l !== 0) this.add(h, l);
    }
  }
}
