import { describe, expect, it } from 'vitest';
import { toBars } from './traffic-bars';

const bucket = (start: number, packets: number, bytes: number, flows = 1) => ({
  start,
  packets,
  bytes,
  flows,
  packetsPerSecond: packets / 60,
  bytesPerSecond: bytes / 60,
});

describe('toBars', () => {
  const window = { from: 0, to: 240_000, bucketSeconds: 60 };

  it('has a bar for every bucket of the window, empty ones as zero', () => {
    const bars = toBars(window, [bucket(60_000, 10, 1000)], undefined);
    expect(bars.map((b) => [b.start, b.end, b.total.packets])).toEqual([
      [0, 60_000, 0],
      [60_000, 120_000, 10],
      [120_000, 180_000, 0],
      [180_000, 240_000, 0],
    ]);
    expect(bars[1]!.parts).toBeNull();
  });

  it('splits each bar by protocol, a protocol left out as zero, the rest of the total as other', () => {
    const bars = toBars(window, [bucket(0, 100, 10_000, 5)], {
      tcp: [bucket(0, 60, 8000, 2)],
      udp: [bucket(0, 30, 1500, 2)],
    });
    expect(bars[0]!.parts).toEqual({
      tcp: { packets: 60, bytes: 8000, flows: 2 },
      udp: { packets: 30, bytes: 1500, flows: 2 },
      icmp: { packets: 0, bytes: 0, flows: 0 },
      other: { packets: 10, bytes: 500, flows: 1 },
    });
  });
});
