/**
 * Bounded state for detectors: a fixed-capacity hash table from a key of up to two IP addresses
 * and a 32-bit extra (a port, a protocol) to a slot, so each detector keeps its counters in typed
 * arrays indexed by slot. When full, the least recently touched entry is evicted (and counted), so
 * a spoofed flood of millions of sources cannot grow a detector's memory.
 * No allocation per lookup: fill `key` with `setKey`, then `upsert` or `find`.
 */

import { mix32 } from '../util/hash.js';

const NONE = -1;
/** Words per key: version and extra, address A (4 words), address B (4 words). */
const KEY_WORDS = 10;

export class KeyTable {
  /** Entries evicted to make room since the start. */
  evicted = 0;
  /** True when the last `upsert` created its entry. */
  created = false;
  /** The key the next lookup uses (see setKey). */
  readonly key = new Uint32Array(KEY_WORDS);
  /** Entries in use now. */
  size = 0;

  private readonly keys: Uint32Array;
  private readonly hashes: Uint32Array;
  private readonly index: Int32Array;
  private readonly mask: number;
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private head = NONE;
  private tail = NONE;
  private readonly free: Int32Array;
  private freeCount: number;

  /**
   * @param capacity entries at most
   * @param onEvict called with a slot about to be reused, while its state is still readable
   */
  constructor(
    readonly capacity: number,
    private readonly onEvict: (slot: number) => void = () => undefined,
  ) {
    this.keys = new Uint32Array(capacity * KEY_WORDS);
    this.hashes = new Uint32Array(capacity);
    let size = 1;
    while (size < capacity * 2) size <<= 1;
    this.index = new Int32Array(size);
    this.mask = size - 1;
    this.prev = new Int32Array(capacity).fill(NONE);
    this.next = new Int32Array(capacity).fill(NONE);
    this.free = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.free[i] = capacity - 1 - i;
    this.freeCount = capacity;
  }

  /**
   * Sets the lookup key: IP version, address A (4 words at aOffset), optionally address B, and
   * an extra 16-bit value (a port, a protocol number).
   */
  setKey(
    version: number,
    a: ArrayLike<number>,
    aOffset: number,
    b: ArrayLike<number> | null,
    bOffset: number,
    extra: number,
  ): void {
    const k = this.key;
    k[0] = (version << 16) | (extra & 0xffff);
    k[1] = a[aOffset]!;
    k[2] = a[aOffset + 1]!;
    k[3] = a[aOffset + 2]!;
    k[4] = a[aOffset + 3]!;
    if (b) {
      k[5] = b[bOffset]!;
      k[6] = b[bOffset + 1]!;
      k[7] = b[bOffset + 2]!;
      k[8] = b[bOffset + 3]!;
      k[9] = 1;
    } else {
      k[5] = k[6] = k[7] = k[8] = k[9] = 0;
    }
  }

  /** The slot of `key`, or -1. Does not touch the entry. */
  find(): number {
    const h = this.hashKey();
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      const e = this.index[i]!;
      if (e === 0) return NONE;
      if (this.hashes[e - 1] === h && this.keyEquals(e - 1)) return e - 1;
    }
  }

  /** The slot of `key`, created (evicting the least recently touched entry) when absent; touched. */
  upsert(): number {
    const h = this.hashKey();
    let i = h & this.mask;
    for (; ; i = (i + 1) & this.mask) {
      const e = this.index[i]!;
      if (e === 0) break;
      if (this.hashes[e - 1] === h && this.keyEquals(e - 1)) {
        this.created = false;
        this.touch(e - 1);
        return e - 1;
      }
    }
    if (this.freeCount === 0) {
      const victim = this.head;
      this.onEvict(victim);
      this.evicted++;
      this.remove(victim);
      // The index changed: find the insertion point again.
      i = h & this.mask;
      while (this.index[i] !== 0) i = (i + 1) & this.mask;
    }
    const slot = this.free[--this.freeCount]!;
    this.keys.set(this.key, slot * KEY_WORDS);
    this.hashes[slot] = h;
    this.index[i] = slot + 1;
    this.append(slot);
    this.size++;
    this.created = true;
    return slot;
  }

  /** Frees `slot`. */
  remove(slot: number): void {
    let i = this.hashes[slot]! & this.mask;
    while (this.index[i] !== slot + 1) i = (i + 1) & this.mask;
    let j = i;
    for (;;) {
      j = (j + 1) & this.mask;
      const e = this.index[j]!;
      if (e === 0) break;
      const home = this.hashes[e - 1]! & this.mask;
      const between = i <= j ? i < home && home <= j : i < home || home <= j;
      if (!between) {
        this.index[i] = e;
        i = j;
      }
    }
    this.index[i] = 0;
    this.unlink(slot);
    this.free[this.freeCount++] = slot;
    this.size--;
  }

  /** The least recently touched slot, or -1 when empty (for time-based expiry). */
  oldest(): number {
    return this.head;
  }

  /** Word `w` (0-9, see setKey) of the key stored in `slot`. */
  keyWord(slot: number, w: number): number {
    return this.keys[slot * KEY_WORDS + w]!;
  }

  /** The stored key of `slot`: IP version, extra, and the words of address A and B. */
  keyOf(slot: number): { version: number; extra: number; a: Uint32Array; b: Uint32Array | null } {
    const base = slot * KEY_WORDS;
    const k0 = this.keys[base]!;
    return {
      version: k0 >>> 16,
      extra: k0 & 0xffff,
      a: this.keys.slice(base + 1, base + 5),
      b: this.keys[base + 9] ? this.keys.slice(base + 5, base + 9) : null,
    };
  }

  private hashKey(): number {
    const k = this.key;
    let h = mix32(k[0]! ^ 0x9e3779b9);
    for (let w = 1; w < KEY_WORDS; w++) h = mix32(h ^ k[w]!);
    return h;
  }

  private keyEquals(slot: number): boolean {
    const base = slot * KEY_WORDS;
    const k = this.key;
    const keys = this.keys;
    for (let w = 0; w < KEY_WORDS; w++) if (keys[base + w] !== k[w]) return false;
    return true;
  }

  private touch(slot: number): void {
    if (this.tail === slot) return;
    this.unlink(slot);
    this.append(slot);
  }

  private append(slot: number): void {
    this.prev[slot] = this.tail;
    this.next[slot] = NONE;
    if (this.tail === NONE) this.head = slot;
    else this.next[this.tail] = slot;
    this.tail = slot;
  }

  private unlink(slot: number): void {
    const p = this.prev[slot]!;
    const n = this.next[slot]!;
    if (p === NONE) this.head = n;
    else this.next[p] = n;
    if (n === NONE) this.tail = p;
    else this.prev[n] = p;
    this.prev[slot] = NONE;
    this.next[slot] = NONE;
  }
}
