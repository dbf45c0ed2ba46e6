import { describe, expect, it } from 'vitest';
import { LiveRates, RATE_WINDOW_SECONDS, talkersOver } from './live-rates';

const rates = (at: number, packets: number) => ({
  type: 'rates',
  data: JSON.stringify({
    type: 'rates',
    at,
    flowsPerSecond: 1,
    packetsPerSecond: packets,
    bytesPerSecond: packets * 100,
  }),
});
const live = (at: number, packets: number) => ({
  type: 'live',
  data: JSON.stringify({
    type: 'live',
    live: { at, packetsPerSecond: packets, bytesPerSecond: packets * 60, flowsPerSecond: 3, protocols: {} },
    capture: [],
  }),
});

describe('LiveRates', () => {
  it('keeps one minute of samples from the rates events when nothing captures', () => {
    const feed = new LiveRates();
    for (let s = 0; s < 300; s++) expect(feed.accept(rates(s * 1000, s))).toBe(true);
    expect(feed.source).toBe('flows');
    const samples = feed.samples.toArray();
    expect(samples).toHaveLength(RATE_WINDOW_SECONDS);
    expect(samples[0]).toEqual({
      at: 240_000,
      packetsPerSecond: 240,
      bytesPerSecond: 24_000,
      flowsPerSecond: 1,
      protocols: null,
      talkers: [],
    });
    expect(samples.at(-1)!.at).toBe(299_000);
  });

  it('prefers live capture while it comes, and starts a fresh series when the source changes', () => {
    const feed = new LiveRates();
    feed.accept(rates(1000, 5));
    feed.accept(rates(2000, 5));
    expect(feed.accept(live(2500, 900))).toBe(true);
    expect(feed.source).toBe('capture');
    expect(feed.samples.toArray()).toEqual([
      {
        at: 2500,
        packetsPerSecond: 900,
        bytesPerSecond: 54_000,
        flowsPerSecond: 3,
        protocols: null,
        talkers: [],
      },
    ]);
    // The flows' own rates, a moment later, are not mixed into the capture's series.
    expect(feed.accept(rates(3000, 5))).toBe(false);
    expect(feed.accept(live(3500, 800))).toBe(true);
    // Capture stopped: after a quiet spell the flows' rates take over again.
    expect(feed.accept(rates(7000, 6))).toBe(true);
    expect(feed.source).toBe('flows');
    expect(feed.samples.length).toBe(1);
  });

  it('ignores alerts, broken JSON and events without numbers', () => {
    const feed = new LiveRates();
    expect(feed.accept({ type: 'alert', data: '{"id":"x"}' })).toBe(false);
    expect(feed.accept({ type: 'rates', data: '{not json' })).toBe(false);
    expect(feed.accept({ type: 'rates', data: '{"at":1,"packetsPerSecond":"3"}' })).toBe(false);
    expect(feed.accept({ type: 'live', data: '{"live":null}' })).toBe(false);
    expect(feed.samples.length).toBe(0);
    expect(feed.source).toBeNull();
  });

  it('keeps the protocol mix and the busiest hosts of each live second, and sums the hosts over the minute', () => {
    const feed = new LiveRates();
    const second = (at: number, talkers: { address: string; bytes: number; packets: number }[]) => ({
      type: 'live',
      data: JSON.stringify({
        live: {
          at,
          packetsPerSecond: 30,
          bytesPerSecond: 3000,
          flowsPerSecond: 1,
          protocols: {
            tcp: { packetsPerSecond: 20, bytesPerSecond: 2500 },
            udp: { packetsPerSecond: 8, bytesPerSecond: 400 },
            icmp: { packetsPerSecond: 2, bytesPerSecond: 100 },
            other: { packetsPerSecond: 0, bytesPerSecond: 0 },
          },
          topTalkers: [...talkers, { address: 42 }],
        },
      }),
    });
    feed.accept(second(1000, [{ address: '10.0.0.1', bytes: 100, packets: 1 }]));
    feed.accept(
      second(2000, [
        { address: '10.0.0.2', bytes: 150, packets: 2 },
        { address: '10.0.0.1', bytes: 100, packets: 3 },
      ]),
    );
    const samples = feed.samples.toArray();
    expect(samples[0]!.protocols!.udp).toEqual({ packetsPerSecond: 8, bytesPerSecond: 400 });
    expect(samples[1]!.talkers).toHaveLength(2);
    expect(talkersOver(samples)).toEqual([
      { address: '10.0.0.1', bytes: 200, packets: 4 },
      { address: '10.0.0.2', bytes: 150, packets: 2 },
    ]);
    expect(talkersOver(samples, 1)).toHaveLength(1);
  });
});
