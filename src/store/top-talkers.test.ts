import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SKEWED_END_US,
  SKEWED_START_US,
  random,
  randomRange,
  skewedTraffic,
  talkersByMinutes,
} from '../../test/helpers/store-suite.js';
import { DAY_US, HOUR_US, MINUTE_US } from './flow-rollup.js';
import { openStore, type Store } from './store.js';

// The property: for any range, count and measure, the top talkers are what grouping the range's
// minute rollups by host gives, row for row. Four sites: a few hosts that all make the top,
// hundreds with a heavy skew, thousands of one-off sources that tie with each other, and hosts
// alike, whose lists must be read deep.
describe.each([
  { seed: 21, flows: 1200, hosts: 12 },
  { seed: 22, flows: 3000, hosts: 300 },
  { seed: 23, flows: 6000, hosts: 3000 },
  { seed: 24, flows: 10000, hosts: 300, even: true },
])('top talkers of $flows flows among $hosts hosts', ({ seed, flows, hosts, even = false }) => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore(':memory:');
    const rows = skewedTraffic(seed, flows, hosts, even);
    for (let i = 0; i < rows.length; i += 700) await store.flows.insertFlows(rows.slice(i, i + 700));
  });
  afterAll(async () => {
    await store.close();
  });

  it('are those of grouping the minutes by host, for random ranges, counts and measures', async () => {
    const rand = random(seed * 7);
    const counts = [1, 2, 5, 10, 50, 200, 1000];
    for (let i = 0; i < 150; i++) {
      const [from, to] = randomRange(rand, SKEWED_START_US - HOUR_US, SKEWED_END_US + HOUR_US);
      const n = counts[Math.floor(rand() * counts.length)]!;
      for (const by of ['bytes', 'packets'] as const) {
        expect(await store.flows.topTalkers(from, to, n, by), `top ${n} by ${by} of ${from}..${to}`).toEqual(
          await talkersByMinutes(store, from, to, n, by),
        );
      }
    }
  });

  it('are those of grouping the minutes for the edges a range can have', async () => {
    const midnight = Math.floor(SKEWED_END_US / DAY_US) * DAY_US - DAY_US;
    const ranges: [number, number][] = [
      // Inside one minute, one hour; across an hour, a midnight; whole days and hours exactly.
      [midnight + 3 * MINUTE_US + 1, midnight + 3 * MINUTE_US + 59_000_000],
      [midnight + 10 * MINUTE_US, midnight + 50 * MINUTE_US],
      [midnight - 20 * MINUTE_US, midnight + 3 * MINUTE_US + 1],
      [midnight - 2 * HOUR_US - 7, midnight + 2 * HOUR_US + 7],
      [midnight - DAY_US, midnight + DAY_US],
      [midnight + HOUR_US, midnight + 5 * HOUR_US],
      [SKEWED_START_US - DAY_US, SKEWED_END_US + DAY_US],
      // Nothing there.
      [SKEWED_END_US + DAY_US, SKEWED_END_US + 2 * DAY_US],
    ];
    for (const [from, to] of ranges) {
      for (const n of [1, 10, 1000]) {
        for (const by of ['bytes', 'packets'] as const) {
          expect(
            await store.flows.topTalkers(from, to, n, by),
            `top ${n} by ${by} of ${from}..${to}`,
          ).toEqual(await talkersByMinutes(store, from, to, n, by));
        }
      }
    }
  });
});
