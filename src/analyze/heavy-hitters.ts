/**
 * Heavy hitters of an unbounded stream in fixed memory, ranked by two measures at once (bytes and
 * packets): a Count-Min sketch with conservative update (Cormode and Muthukrishnan 2005; Estan and
 * Varghese 2002) estimates every key's totals, and a small candidate set per measure keeps the
 * keys whose estimate ranks high.
 *
 * Chosen over Space-Saving for what a flood does to it: millions of one-flow sources. Here each
 * of them costs four cache lines and one comparison; Space-Saving had to replace its minimum (a
 * Map delete and insert and a heap sift) for every one, which made a 4-million-source SYN flood
 * take 14 s in `flowtrack analyze`. Estimates never undercount; they overcount by at most
 * `errorBound` (with high probability), and keys within that bound are not reported.
 */

import { mix32 } from '../util/hash.js';

export interface HeavyHitter<K> {
  key: K;
  /** Estimated total of the measure ranked by (never below the true total). */
  count: number;
  /** Estimated total of the other measure. */
  other: number;
}

const DEPTH = 4;
function hashKey(key: number | string): number {
  if (typeof key === 'number') return mix32(key);
  let h = 0x811c9dc5; // FNV-1a
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return mix32(h);
}

export class HeavyHitters<K extends number | string> {
  /** Cell c of row d holds measure 0 at 2c and measure 1 at 2c + 1 (one cache line per row). */
  private readonly cells: Float64Array;
  private readonly width: number;
  private readonly hit = new Int32Array(DEPTH);
  /** Candidate keys per measure; their totals are read from the sketch when needed. */
  private readonly candidates: [Set<K>, Set<K>] = [new Set(), new Set()];
  /** Per measure, a lower bound of the smallest candidate's estimate (estimates only grow). */
  private readonly floor = [0, 0];
  private totalFirst = 0;
  private totalSecond = 0;
  /**
   * The last two keys added, with sums not yet in the sketch. Under a flood one victim takes every
   * other addition: measured on 4M one-packet sources alternating with their victim, the victim's
   * additions cost 70 ns each through the sketch, and almost nothing here.
   */
  private recentKey: K | undefined = undefined;
  private recentFirst = 0;
  private recentSecond = 0;
  private olderKey: K | undefined = undefined;
  private olderFirst = 0;
  private olderSecond = 0;

  /**
   * @param capacity candidates kept per measure (a few times the longest top list asked for)
   * @param width cells per sketch row, a power of two. 2^14 keeps the sketch (1 MiB) in a core's
   *   L2 cache: on a 4-million-source SYN flood it ran 20-25% faster than 2^16, whose 4 MiB missed
   *   the cache on every row. The price is a 4x larger error bound (e/16384 of the total, 0.017%).
   */
  constructor(
    private readonly capacity: number,
    width = 1 << 14,
  ) {
    this.width = width;
    this.cells = new Float64Array(DEPTH * width * 2);
  }

  /** Adds `first` and `second` (e.g. bytes and packets) to `key`. */
  add(key: K, first: number, second: number): void {
    this.totalFirst += first;
    this.totalSecond += second;
    if (key === this.recentKey) {
      this.recentFirst += first;
      this.recentSecond += second;
      return;
    }
    let sumFirst = first;
    let sumSecond = second;
    if (key === this.olderKey) {
      sumFirst += this.olderFirst;
      sumSecond += this.olderSecond;
    } else if (this.olderKey !== undefined) {
      this.addToSketch(this.olderKey, this.olderFirst, this.olderSecond);
    }
    this.olderKey = this.recentKey;
    this.olderFirst = this.recentFirst;
    this.olderSecond = this.recentSecond;
    this.recentKey = key;
    this.recentFirst = sumFirst;
    this.recentSecond = sumSecond;
  }

  /** Moves the pending sums into the sketch (before anything reads it). */
  private settle(): void {
    if (this.olderKey !== undefined) this.addToSketch(this.olderKey, this.olderFirst, this.olderSecond);
    if (this.recentKey !== undefined) this.addToSketch(this.recentKey, this.recentFirst, this.recentSecond);
    this.olderKey = this.recentKey = undefined;
  }

  /**
   * The Count-Min update. Each row's cell comes from two hashes of the key (h1 + d * h2, Kirsch
   * and Mitzenmacher 2006, "Less hashing, same performance"): two mixes per key instead of five.
   */
  private addToSketch(key: K, first: number, second: number): void {
    const cells = this.cells;
    const mask = this.width - 1;
    const h1 = hashKey(key) | 0;
    const h2 = mix32(h1 ^ 0x9e3779b1) | 1;
    let min1 = Infinity;
    let min2 = Infinity;
    for (let d = 0; d < DEPTH; d++) {
      const c = (d * this.width + ((h1 + Math.imul(d, h2)) & mask)) << 1;
      this.hit[d] = c;
      if (cells[c]! < min1) min1 = cells[c]!;
      if (cells[c + 1]! < min2) min2 = cells[c + 1]!;
    }
    // Conservative update: raise each cell only as far as the key's new estimate.
    const est1 = min1 + first;
    const est2 = min2 + second;
    for (let d = 0; d < DEPTH; d++) {
      const c = this.hit[d]!;
      if (cells[c]! < est1) cells[c] = est1;
      if (cells[c + 1]! < est2) cells[c + 1] = est2;
    }
    this.offer(0, key, est1);
    this.offer(1, key, est2);
  }

  /** The sketch's estimate of `key`'s total of `measure`. */
  estimate(key: K, measure: 0 | 1): number {
    this.settle();
    return this.sketchEstimate(key, measure);
  }

  private sketchEstimate(key: K, measure: 0 | 1): number {
    const h1 = hashKey(key) | 0;
    const h2 = mix32(h1 ^ 0x9e3779b1) | 1;
    let min = Infinity;
    for (let d = 0; d < DEPTH; d++) {
      const c = ((d * this.width + ((h1 + Math.imul(d, h2)) & (this.width - 1))) << 1) + measure;
      if (this.cells[c]! < min) min = this.cells[c]!;
    }
    return min;
  }

  private offer(measure: 0 | 1, key: K, estimate: number): void {
    const set = this.candidates[measure];
    if (set.size < this.capacity) {
      set.add(key);
      return;
    }
    // The common case under a flood: a small key, not a heavy hitter. No lookup at all.
    if (estimate <= this.floor[measure]! || set.has(key)) return;
    let smallestKey: K | undefined;
    let smallest = Infinity;
    for (const k of set) {
      const e = this.sketchEstimate(k, measure);
      if (e < smallest) {
        smallest = e;
        smallestKey = k;
      }
    }
    this.floor[measure] = Math.min(smallest, estimate);
    if (estimate <= smallest || smallestKey === undefined) return;
    set.delete(smallestKey);
    set.add(key);
  }

  /**
   * How much an estimate of the measure may exceed the truth: e/width of its stream total (the
   * Count-Min bound; it holds with probability 1 - e^-depth, about 98%).
   */
  errorBound(measure: 0 | 1): number {
    return (Math.E / this.width) * (measure === 0 ? this.totalFirst : this.totalSecond);
  }

  /**
   * The `n` keys with the largest estimates of `measure`, largest first. Keys whose estimate is
   * within the error bound are left out: they cannot be told from the noise of many small keys.
   */
  top(measure: 0 | 1, n: number): HeavyHitter<K>[] {
    this.settle();
    const bound = this.errorBound(measure);
    const other = measure === 0 ? 1 : 0;
    return [...this.candidates[measure]]
      .map((key) => ({ key, count: this.estimate(key, measure), other: this.estimate(key, other) }))
      .filter((h) => h.count > bound)
      .sort((a, b) => b.count - a.count)
      .slice(0, n);
  }
}
