import { describe, expect, it } from 'vitest';
import { flowRow, random } from '../../test/helpers/store-suite.js';
import {
  ALL_HOSTS,
  DAY_US,
  HOUR_US,
  MINUTE_US,
  minuteShares,
  rollUpFlows,
  rollUpPeriods,
  rollUpPorts,
  splitRange,
  type RangeParts,
} from './flow-rollup.js';

const M0 = 28_333_333 * MINUTE_US;
/** A UTC midnight. */
const D0 = 19_676 * DAY_US;

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

describe('rollUpPorts', () => {
  it('sums tcp and udp flows per minute of their last packet and server port, and nothing else', () => {
    const flow = (lastSeenUs: number, protocol: string, srcPort: number, dstPort: number, bytes: number) =>
      flowRow({
        firstSeenUs: M0,
        lastSeenUs,
        protocol,
        srcPort,
        dstPort,
        packetsToServer: 1,
        packetsToClient: 2,
        bytesToServer: bytes,
        bytesToClient: 0,
      });
    const rows = rollUpPorts([
      flow(M0 + 1, 'tcp', 40000, 443, 10),
      flow(M0 + 59_999_999, 'tcp', 40001, 443, 20),
      // A long flow counts wholly in the minute of its last packet, not spread like flow_rollups.
      flow(M0 + 2 * MINUTE_US + 5, 'tcp', 40002, 443, 40),
      // Same port, other protocol: a row of its own.
      flow(M0 + 7, 'udp', 40003, 443, 80),
      flow(M0 + 8, 'udp', 53, 33000, 160),
      // No service port, or a protocol the rollups leave out.
      flow(M0 + 9, 'tcp', 40004, 0, 1000),
      flow(M0 + 9, 'icmp', 0, 0, 1000),
      flow(M0 + 9, 'sctp', 40005, 38412, 1000),
    ]);
    expect(rows).toEqual([
      { minuteUs: M0, protocol: 'tcp', port: 443, packets: 6, bytes: 30, flows: 2 },
      { minuteUs: M0 + 2 * MINUTE_US, protocol: 'tcp', port: 443, packets: 3, bytes: 40, flows: 1 },
      { minuteUs: M0, protocol: 'udp', port: 443, packets: 3, bytes: 80, flows: 1 },
      // The service is the server's port, whatever the client's: 33000 here, not 53.
      { minuteUs: M0, protocol: 'udp', port: 33000, packets: 3, bytes: 160, flows: 1 },
    ]);
  });

  it('adds up to the flows it keeps, packets, bytes and count', () => {
    const rand = random(9);
    const flows = Array.from({ length: 500 }, (_, i) =>
      flowRow({
        firstSeenUs: M0,
        lastSeenUs: M0 + Math.floor(rand() * 30 * MINUTE_US),
        protocol: i % 5 === 0 ? 'udp' : 'tcp',
        dstPort: [22, 53, 80, 443][i % 4]!,
        packetsToServer: Math.floor(rand() * 100),
        bytesToServer: Math.floor(rand() * 1e6),
      }),
    );
    const rows = rollUpPorts(flows);
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
    expect(sum(rows.map((r) => r.flows))).toBe(500);
    expect(sum(rows.map((r) => r.bytes))).toBe(sum(flows.map((f) => f.bytesToServer + f.bytesToClient)));
    expect(sum(rows.map((r) => r.packets))).toBe(
      sum(flows.map((f) => f.packetsToServer + f.packetsToClient)),
    );
    expect(new Set(rows.map((r) => `${r.minuteUs} ${r.protocol} ${r.port}`)).size).toBe(rows.length);
    expect(rows.every((r) => r.minuteUs % MINUTE_US === 0)).toBe(true);
  });
});

describe('rollUpPeriods', () => {
  it('sums minute rows per host and hour (or day) over their protocols', () => {
    const row = (minutes: number, host: string, protocol: string, bytes: number) => ({
      minuteUs: D0 + minutes * MINUTE_US,
      host,
      protocol,
      packets: 1,
      bytes,
      flows: 1,
    });
    const rows = [
      row(0, 'a', 'tcp', 10),
      row(59, 'a', 'udp', 20),
      row(60, 'a', 'tcp', 40),
      row(1, 'b', 'tcp', 5),
    ];
    expect(rollUpPeriods(rows, HOUR_US)).toEqual([
      { periodUs: D0, host: 'a', packets: 2, bytes: 30, flows: 2 },
      { periodUs: D0 + HOUR_US, host: 'a', packets: 1, bytes: 40, flows: 1 },
      { periodUs: D0, host: 'b', packets: 1, bytes: 5, flows: 1 },
    ]);
    expect(rollUpPeriods(rows, DAY_US)).toEqual([
      { periodUs: D0, host: 'a', packets: 3, bytes: 70, flows: 3 },
      { periodUs: D0, host: 'b', packets: 1, bytes: 5, flows: 1 },
    ]);
  });
});

describe('splitRange', () => {
  const span = (fromUs: number, toUs: number) => ({ fromUs, toUs });

  it('reads whole days and hours from their totals and only the minutes at the edges', () => {
    expect(splitRange(D0 - HOUR_US - 5 * MINUTE_US, D0 + DAY_US + 2 * HOUR_US + 7 * MINUTE_US)).toEqual({
      days: [span(D0, D0 + DAY_US)],
      hours: [span(D0 - HOUR_US, D0), span(D0 + DAY_US, D0 + DAY_US + 2 * HOUR_US)],
      minutes: [
        span(D0 - HOUR_US - 5 * MINUTE_US, D0 - HOUR_US),
        span(D0 + DAY_US + 2 * HOUR_US, D0 + DAY_US + 2 * HOUR_US + 7 * MINUTE_US),
      ],
    });
    expect(splitRange(D0, D0 + 2 * DAY_US)).toEqual({
      days: [span(D0, D0 + 2 * DAY_US)],
      hours: [],
      minutes: [],
    });
  });

  it('cuts minutes at the hour they cross, and keeps minutes of one hour whole', () => {
    expect(splitRange(D0 - 10 * MINUTE_US, D0 + 10 * MINUTE_US)).toEqual({
      days: [],
      hours: [],
      minutes: [span(D0 - 10 * MINUTE_US, D0), span(D0, D0 + 10 * MINUTE_US)],
    });
    expect(splitRange(D0 + 5 * MINUTE_US, D0 + 50 * MINUTE_US).minutes).toEqual([
      span(D0 + 5 * MINUTE_US, D0 + 50 * MINUTE_US),
    ]);
  });

  it('uses only the units it is given', () => {
    expect(splitRange(D0, D0 + DAY_US + HOUR_US, [HOUR_US])).toEqual({
      days: [],
      hours: [span(D0, D0 + DAY_US + HOUR_US)],
      minutes: [],
    });
    expect(splitRange(D0, D0 + DAY_US, [])).toEqual({
      days: [],
      hours: [],
      minutes: [span(D0, D0 + DAY_US)],
    });
  });

  it('covers any range exactly once, each part on its own unit and each minute span inside an hour', () => {
    const rand = random(3);
    for (let i = 0; i < 2000; i++) {
      const start = D0 + Math.floor(rand() * 5000) * MINUTE_US;
      const end = start + Math.floor(rand() ** 3 * 6000) * MINUTE_US;
      const parts: RangeParts = splitRange(start, end);
      const pieces = [
        ...parts.days.map((s) => ({ ...s, unit: DAY_US })),
        ...parts.hours.map((s) => ({ ...s, unit: HOUR_US })),
        ...parts.minutes.map((s) => ({ ...s, unit: MINUTE_US })),
      ].sort((a, b) => a.fromUs - b.fromUs);
      let at = start;
      for (const piece of pieces) {
        expect(piece.fromUs).toBe(at);
        expect(piece.toUs).toBeGreaterThan(piece.fromUs);
        expect(piece.fromUs % piece.unit).toBe(0);
        expect(piece.toUs % piece.unit).toBe(0);
        if (piece.unit === MINUTE_US)
          expect(Math.floor((piece.toUs - 1) / HOUR_US)).toBe(Math.floor(piece.fromUs / HOUR_US));
        at = piece.toUs;
      }
      expect(at).toBe(end);
      expect(parts.days.length).toBeLessThanOrEqual(1);
      expect(parts.hours.length).toBeLessThanOrEqual(2);
      expect(parts.minutes.length).toBeLessThanOrEqual(2);
    }
  });
});
