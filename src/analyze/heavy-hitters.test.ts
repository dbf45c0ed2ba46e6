import { describe, expect, it } from 'vitest';
import { HeavyHitters } from './heavy-hitters.js';

describe('HeavyHitters', () => {
  it('counts exactly while few keys share the sketch, ranked by either measure', () => {
    const h = new HeavyHitters<string>(10);
    h.add('a', 5, 1);
    h.add('b', 7, 1);
    h.add('a', 4, 2);
    expect(h.top(0, 5)).toEqual([
      { key: 'a', count: 9, other: 3 },
      { key: 'b', count: 7, other: 1 },
    ]);
    expect(h.top(1, 1)).toEqual([{ key: 'a', count: 3, other: 9 }]);
  });

  it('finds the heavy keys hidden in a million one-off keys, never undercounting', () => {
    const h = new HeavyHitters<number>(64);
    let seed = 7;
    const rand = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 4294967296;
    };
    const heavy = [
      [1, 0.05],
      [2, 0.03],
      [3, 0.02],
    ] as const;
    const truth = new Map<number, number>(heavy.map(([key]) => [key, 0]));
    for (let i = 0; i < 1_000_000; i++) {
      h.add(1_000_000 + i, 1, 1); // a spoofed source: one small flow each
      for (const [key, p] of heavy) {
        if (rand() < p) {
          h.add(key, 10, 1);
          truth.set(key, truth.get(key)! + 10);
        }
      }
    }
    const top = h.top(0, 10);
    // Only the heavy keys stand out of the noise; the one-off keys are within the error bound.
    expect(top.map((t) => t.key)).toEqual([1, 2, 3]);
    for (const t of top) {
      expect(t.count).toBeGreaterThanOrEqual(truth.get(t.key)!);
      expect(t.count - truth.get(t.key)!).toBeLessThanOrEqual(h.errorBound(0));
    }
  });

  it('counts a victim that alternates with one-off sources, also when read mid-stream', () => {
    const h = new HeavyHitters<number>(64);
    for (let i = 0; i < 200_000; i++) {
      h.add(1_000_000 + i, 60, 1); // a spoofed source
      h.add(7, 60, 1); // its victim
      h.add(7, 0, 0); // the same key twice in a row
      if (i === 99_999) expect(h.estimate(7, 1)).toBeGreaterThanOrEqual(100_000);
    }
    h.add(7, 60, 1); // pending when top() reads
    const [victim] = h.top(1, 1);
    expect(victim?.key).toBe(7);
    expect(victim!.count).toBeGreaterThanOrEqual(200_001);
    expect(victim!.count - 200_001).toBeLessThanOrEqual(h.errorBound(1));
    expect(victim!.other).toBeGreaterThanOrEqual(200_001 * 60);
  });
});
