import { describe, expect, it } from 'vitest';
import { VictimMeter, admitPackets, floodSeverity } from './victim-meter.js';

const victim = new Uint32Array([0xc6336407, 0, 0, 0]);
const src = new Uint32Array(4);

describe('VictimMeter', () => {
  it('estimates distinct sources with HyperLogLog within 20% from 10 to 1,000,000', () => {
    for (const n of [10, 1000, 100_000, 1_000_000]) {
      const m = new VictimMeter({ capacity: 4, windowMicros: 1e6 });
      const slot = m.victim(4, victim, 0, 0, 0, () => undefined);
      for (let i = 0; i < n; i++) {
        src[0] = (0x0a000000 + i) >>> 0;
        m.add(slot, 0, 4, src, 60, 80, -1);
      }
      const est = m.distinctSources(slot);
      expect(Math.abs(est - n) / n, `${n} -> ${est}`).toBeLessThan(0.2);
    }
  });

  it('finds the heavy source among spoofed ones and never inflates the spoofed ones', () => {
    const m = new VictimMeter({ capacity: 4, windowMicros: 1e6 });
    const slot = m.victim(4, victim, 0, 0, 0, () => undefined);
    for (let i = 0; i < 20_000; i++) {
      src[0] = i % 3 === 0 ? 0xcb007105 : (0x0b000000 + i) >>> 0;
      m.add(slot, 0, 4, src, 60, 80, -1);
    }
    const top = m.topSources(slot);
    expect(top[0]!.address).toBe('203.0.113.5');
    expect(top[0]!.packets).toBeGreaterThan(6000);
    expect(top[1]?.packets ?? 0).toBeLessThan(10);
  });

  it('measures the rate over a sliding window on packet time', () => {
    const m = new VictimMeter({ capacity: 4, windowMicros: 1e6 });
    let slot = 0;
    // 1,000 packets a second for 3 s.
    for (let i = 0; i < 3000; i++) {
      const ts = i * 1000;
      slot = m.victim(4, victim, 0, ts, 1, () => undefined);
      m.add(slot, ts, 4, src, 100, 80, -1);
    }
    expect(m.packetRate(slot, 2_999_000)).toBeGreaterThan(950);
    expect(m.packetRate(slot, 2_999_000)).toBeLessThan(1050);
    expect(m.bitRate(slot, 2_999_000)).toBeGreaterThan(750_000);
  });

  it('admits a victim to metering only near a threshold', () => {
    const m = new VictimMeter({ capacity: 4, windowMicros: 1e6 });
    const need = admitPackets(100, 0, 1e6);
    expect(need).toBe(12);
    let admitted = 0;
    for (let i = 0; i < 11; i++) if (m.admit(victim, 0, i, 60, need)) admitted++;
    expect(admitted).toBe(0);
    expect(m.admit(victim, 0, 11, 60, need)).toBe(true);
    expect(m.table.size).toBe(0);
  });

  it('closes on the tick only the open attacks whose window went quiet, each once', () => {
    const m = new VictimMeter({ capacity: 4, windowMicros: 1e6 });
    const stopped = new Uint32Array([0xc6336408, 0, 0, 0]);
    const quiet: [number, number][] = [];
    const onQuiet = (slot: number, ts: number): void => {
      quiet.push([slot, ts]);
    };
    let a = -1;
    let b = -1;
    // `stopped` gets 500 packets a second for 0.5 s, `victim` for 3 s.
    for (let ts = 0; ts < 3e6; ts += 2000) {
      if (ts < 5e5) {
        a = m.victim(4, stopped, 0, ts, 25, onQuiet);
        m.add(a, ts, 4, src, 60, 80, -1);
      }
      b = m.victim(4, victim, 0, ts, 25, onQuiet);
      m.add(b, ts, 4, src, 60, 80, -1);
      if (ts === 100_000) {
        m.kind[a] = m.kind[b] = 1;
        m.markReported(a, ts);
        m.markReported(b, ts);
      }
    }
    expect(m.openSlots()).toEqual([a, b].sort((x, y) => x - y));
    // Ticks during the attacks: the windows holding packets closed busy.
    m.closeQuiet(1_500_000, onQuiet);
    expect(quiet).toEqual([]);
    // `stopped`'s window [1 s, 2 s) closed empty: its last report, timed a window after its last packet.
    m.closeQuiet(2_500_000, onQuiet);
    expect(quiet).toEqual([[a, 1_498_000]]);
    expect(m.reportedAt[a]).toBe(0);
    expect(m.packets[a]).toBe(250);
    m.closeQuiet(3_500_000, onQuiet);
    expect(quiet).toHaveLength(1);
    m.closeQuiet(4_500_000, onQuiet);
    expect(quiet).toEqual([
      [a, 1_498_000],
      [b, 3_998_000],
    ]);
    expect(m.openSlots()).toEqual([]);
    m.closeQuiet(9_000_000, onQuiet);
    expect(quiet).toHaveLength(2);
  });

  it('grades severity by rate and sources', () => {
    expect(floodSeverity(150, 100, 1)).toBe('medium');
    expect(floodSeverity(1500, 100, 1)).toBe('high');
    expect(floodSeverity(1500, 100, 5000)).toBe('critical');
    expect(floodSeverity(20_000, 100, 1)).toBe('critical');
  });
});
