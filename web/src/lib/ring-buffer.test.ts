import { describe, expect, it } from 'vitest';
import { RingBuffer } from './ring-buffer';

describe('RingBuffer', () => {
  it('keeps items oldest first until it is full', () => {
    const ring = new RingBuffer<number>(3);
    expect(ring.toArray()).toEqual([]);
    expect(ring.latest()).toBeUndefined();
    ring.push(1);
    ring.push(2);
    expect(ring.toArray()).toEqual([1, 2]);
    expect(ring.latest()).toBe(2);
    expect(ring.length).toBe(2);
  });

  it('drops the oldest item once full, so a page open for days holds one minute', () => {
    const ring = new RingBuffer<number>(60);
    for (let second = 0; second < 86_400; second++) ring.push(second);
    expect(ring.length).toBe(60);
    expect(ring.toArray()).toEqual(Array.from({ length: 60 }, (_, i) => 86_340 + i));
    expect(ring.latest()).toBe(86_399);
  });

  it('wraps around at every position', () => {
    const ring = new RingBuffer<number>(4);
    const all: number[] = [];
    for (let i = 0; i < 11; i++) {
      ring.push(i);
      all.push(i);
      expect(ring.toArray()).toEqual(all.slice(-4));
    }
  });

  it('starts over after clear and hands out copies', () => {
    const ring = new RingBuffer<string>(2);
    ring.push('a');
    ring.push('b');
    ring.push('c');
    const copy = ring.toArray();
    ring.clear();
    expect(ring.length).toBe(0);
    expect(copy).toEqual(['b', 'c']);
    ring.push('d');
    expect(ring.toArray()).toEqual(['d']);
  });

  it('refuses a capacity that holds nothing', () => {
    expect(() => new RingBuffer(0)).toThrow(RangeError);
    expect(() => new RingBuffer(1.5)).toThrow(RangeError);
  });
});
