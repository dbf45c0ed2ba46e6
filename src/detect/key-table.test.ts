import { describe, expect, it } from 'vitest';
import { KeyTable } from './key-table.js';

function ipv4(n: number): Uint32Array {
  return Uint32Array.of(n, 0, 0, 0);
}

describe('KeyTable', () => {
  it('finds what it stored, keyed by both addresses and the extra value', () => {
    const t = new KeyTable(16);
    t.setKey(4, ipv4(1), 0, ipv4(2), 0, 80);
    const a = t.upsert();
    expect(t.created).toBe(true);
    t.setKey(4, ipv4(1), 0, ipv4(2), 0, 443);
    const b = t.upsert();
    expect(b).not.toBe(a);
    t.setKey(4, ipv4(1), 0, ipv4(2), 0, 80);
    expect(t.upsert()).toBe(a);
    expect(t.created).toBe(false);
    t.setKey(4, ipv4(1), 0, null, 0, 80);
    expect(t.find()).toBe(-1);
    expect(t.keyOf(a)).toEqual({ version: 4, extra: 80, a: ipv4(1), b: ipv4(2) });
  });

  it('evicts the least recently touched entry when full and says so', () => {
    const evictedKeys: number[] = [];
    const t: KeyTable = new KeyTable(100, (slot) => evictedKeys.push(t.keyWord(slot, 1)));
    for (let i = 0; i < 100; i++) {
      t.setKey(4, ipv4(i), 0, null, 0, 0);
      t.upsert();
    }
    t.setKey(4, ipv4(0), 0, null, 0, 0); // touch 0: now 1 is the oldest
    t.upsert();
    for (let i = 100; i < 150; i++) {
      t.setKey(4, ipv4(i), 0, null, 0, 0);
      t.upsert();
    }
    expect(t.size).toBe(100);
    expect(t.evicted).toBe(50);
    expect(evictedKeys).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    t.setKey(4, ipv4(0), 0, null, 0, 0);
    expect(t.find()).not.toBe(-1);
  });

  it('stays consistent under heavy churn (a spoofed flood through a small table)', () => {
    const t = new KeyTable(1000);
    let seed = 1;
    for (let i = 0; i < 200_000; i++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      t.setKey(4, ipv4(seed), 0, null, 0, 0);
      t.upsert();
      if (i % 7 === 0) t.remove(t.oldest());
    }
    expect(t.size).toBeLessThanOrEqual(1000);
    t.setKey(4, ipv4(seed), 0, null, 0, 0);
    expect(t.find()).not.toBe(-1);
  });
});
