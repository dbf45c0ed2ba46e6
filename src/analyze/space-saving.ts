/**
 * Space-Saving heavy-hitter sketch (Metwally, Agrawal, El Abbadi, ICDT 2005) with weighted
 * updates: the top keys of an unbounded stream in memory fixed by `capacity`. A key that has to
 * replace the smallest entry inherits its count, so counts are upper bounds; `error` says by how
 * much at most. Exact while fewer than `capacity` distinct keys were seen.
 */

export interface HeavyHitter<K> {
  key: K;
  count: number;
  /** Secondary measure summed alongside (e.g. packets when ranking by bytes). */
  other: number;
  /** Overestimate bound of `count` (0 while the sketch is exact). */
  error: number;
}

export class SpaceSaving<K> {
  private readonly keys: K[] = [];
  private readonly counts: number[] = [];
  private readonly others: number[] = [];
  private readonly errors: number[] = [];
  /** key -> position in the min-heap arrays above. */
  private readonly position = new Map<K, number>();
  /** True once a key was ever replaced: counts are then estimates. */
  approximate = false;

  constructor(private readonly capacity: number) {}

  add(key: K, weight: number, other: number): void {
    const at = this.position.get(key);
    if (at !== undefined) {
      this.counts[at]! += weight;
      this.others[at]! += other;
      this.siftDown(at);
      return;
    }
    if (this.keys.length < this.capacity) {
      const i = this.keys.length;
      this.keys.push(key);
      this.counts.push(weight);
      this.others.push(other);
      this.errors.push(0);
      this.position.set(key, i);
      this.siftUp(i);
      return;
    }
    // Replace the smallest entry (the heap's root); the newcomer inherits its count as error.
    this.approximate = true;
    const min = this.counts[0]!;
    this.position.delete(this.keys[0]!);
    this.keys[0] = key;
    this.counts[0] = min + weight;
    this.others[0] = other;
    this.errors[0] = min;
    this.position.set(key, 0);
    this.siftDown(0);
  }

  /** The `n` largest entries, largest first. */
  top(n: number): HeavyHitter<K>[] {
    const order = this.keys.map((_, i) => i).sort((a, b) => this.counts[b]! - this.counts[a]!);
    return order.slice(0, n).map((i) => ({
      key: this.keys[i]!,
      count: this.counts[i]!,
      other: this.others[i]!,
      error: this.errors[i]!,
    }));
  }

  private swap(a: number, b: number): void {
    const ka = this.keys[a]!;
    const kb = this.keys[b]!;
    this.keys[a] = kb;
    this.keys[b] = ka;
    [this.counts[a], this.counts[b]] = [this.counts[b]!, this.counts[a]!];
    [this.others[a], this.others[b]] = [this.others[b]!, this.others[a]!];
    [this.errors[a], this.errors[b]] = [this.errors[b]!, this.errors[a]!];
    this.position.set(kb, a);
    this.position.set(ka, b);
  }

  private siftUp(start: number): void {
    let i = start;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.counts[parent]! <= this.counts[i]!) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(start: number): void {
    let i = start;
    const n = this.keys.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let smallest = i;
      if (l < n && this.counts[l]! < this.counts[smallest]!) smallest = l;
      if (r < n && this.counts[r]! < this.counts[smallest]!) smallest = r;
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }
}
