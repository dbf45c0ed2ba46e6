import { describe, expect, it } from 'vitest';
import { flowRow } from '../../test/helpers/store-suite.js';
import { ALL_HOSTS, MINUTE_US, minuteShares, rollUpFlows } from './flow-rollup.js';

const M0 = 28_333_333 * MINUTE_US;

describe('minuteShares', () => {
  it('puts a flow inside one minute wholly in that minute', () => {
    expect(minuteShares(M0 + 1, M0 + 59_000_000, 10, 1000)).toEqual([
      { minuteUs: M0, packets: 10, bytes: 1000, flows: 1 },
    ]);
  });

  it('splits a flow over minutes by the time it covered in each, counting it in its last minute', () => {
    // 15 s, 60 s, 45 s of 120 s: 1/8, 4/8, 3/8.
    expect(minuteShares(M0 + 45_000_000, M0 + 165_000_000, 8, 800)).toEqual([
      { minuteUs: M0, packets: 1, bytes: 100, flows: 0 },
      { minuteUs: M0 + MINUTE_US, packets: 4, bytes: 400, flows: 0 },
      { minuteUs: M0 + 2 * MINUTE_US, packets: 3, bytes: 300, flows: 1 },
    ]);
  });

  it('keeps the totals exact when they do not divide evenly', () => {
    const shares = minuteShares(M0 + 7, M0 + 29 * MINUTE_US + 13, 1001, 999_999_937);
    expect(shares.reduce((a, s) => a + s.packets, 0)).toBe(1001);
    expect(shares.reduce((a, s) => a + s.bytes, 0)).toBe(999_999_937);
    expect(shares.reduce((a, s) => a + s.flows, 0)).toBe(1);
    expect(shares.every((s) => s.packets >= 0 && s.bytes >= 0)).toBe(true);
  });

  it('spreads a flow with an absurd first-seen time over one day at most', () => {
    const shares = minuteShares(0, M0, 1440, 1440);
    expect(shares.length).toBeLessThanOrEqual(1440);
    expect(shares.reduce((a, s) => a + s.bytes, 0)).toBe(1440);
  });

  it('treats a flow whose last packet precedes its first as one instant', () => {
    expect(minuteShares(M0 + MINUTE_US, M0, 1, 60)).toEqual([
      { minuteUs: M0, packets: 1, bytes: 60, flows: 1 },
    ]);
  });
});

describe('rollUpFlows', () => {
  it('adds each flow to the total and to both hosts, once for a host talking to itself', () => {
    const rows = rollUpFlows([
      flowRow({
        firstSeenUs: M0,
        lastSeenUs: M0 + 1,
        srcAddr: 'a',
        dstAddr: 'b',
        bytesToServer: 1,
        bytesToClient: 2,
      }),
      flowRow({
        firstSeenUs: M0,
        lastSeenUs: M0 + 2,
        srcAddr: 'b',
        dstAddr: 'c',
        bytesToServer: 10,
        bytesToClient: 0,
      }),
      flowRow({
        firstSeenUs: M0,
        lastSeenUs: M0 + 3,
        srcAddr: 'd',
        dstAddr: 'd',
        bytesToServer: 5,
        bytesToClient: 0,
      }),
    ]);
    const bytes = Object.fromEntries(rows.map((r) => [r.host, r.bytes]));
    expect(bytes).toEqual({ [ALL_HOSTS]: 18, a: 3, b: 13, c: 10, d: 5 });
    expect(rows.find((r) => r.host === ALL_HOSTS)?.flows).toBe(3);
  });
});
