import { describe, expect, it } from 'vitest';
import { SpaceSaving } from './space-saving.js';

describe('SpaceSaving', () => {
  it('is exact while the keys fit', () => {
    const s = new SpaceSaving<string>(10);
    s.add('a', 5, 1);
    s.add('b', 7, 1);
    s.add('a', 4, 2);
    expect(s.top(5)).toEqual([
      { key: 'a', count: 9, other: 3, error: 0 },
      { key: 'b', count: 7, other: 1, error: 0 },
    ]);
    expect(s.approximate).toBe(false);
  });

  it('keeps the heavy hitters of a stream with far more keys than capacity', () => {
    const s = new SpaceSaving<number>(64);
    let seed = 7;
    const rand = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 4294967296;
    };
    // Three heavy keys hidden in 100,000 one-off keys.
    for (let i = 0; i < 100_000; i++) {
      s.add(1_000_000 + i, 1, 1);
      if (rand() < 0.05) s.add(1, 10, 1);
      if (rand() < 0.03) s.add(2, 10, 1);
      if (rand() < 0.02) s.add(3, 10, 1);
    }
    const top = s.top(3).map((h) => h.key);
    expect(top).toEqual([1, 2, 3]);
    expect(s.approximate).toBe(true);
  });
});
