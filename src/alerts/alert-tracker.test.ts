import { describe, expect, it } from 'vitest';
import type { AlertReport } from './alert.js';
import { AlertTracker } from './alert-tracker.js';

const base: AlertReport = {
  type: 'port_scan',
  severity: 'medium',
  src: '192.0.2.9',
  dst: '198.51.100.1',
  at: 1_000_000,
  counters: { ports: 30 },
  summary: '192.0.2.9 probed 30 ports',
  thresholds: [{ metric: 'ports', value: 30, threshold: 20 }],
};

describe('AlertTracker', () => {
  it('merges reports of one ongoing attack into one alert whose counters, end and severity grow', () => {
    const seen: boolean[] = [];
    const t = new AlertTracker({}, (_a, isNew) => seen.push(isNew));
    t.report(base);
    t.report({ ...base, at: 5_000_000, severity: 'high', counters: { ports: 900 } });
    t.report({ ...base, at: 6_000_000, severity: 'low', counters: { ports: 950 } });
    expect(t.alerts()).toHaveLength(1);
    const [a] = t.alerts();
    expect(a).toMatchObject({
      start: 1_000_000,
      end: 6_000_000,
      severity: 'high',
      counters: { ports: 950 },
      updates: 3,
    });
    expect(seen).toEqual([true, false, false]);
  });

  it('starts a new alert after a quiet gap, or for another attacker', () => {
    const t = new AlertTracker({ mergeGapMicros: 10_000_000 });
    t.report(base);
    t.report({ ...base, at: 20_000_000 });
    t.report({ ...base, src: '192.0.2.10', at: 20_000_001 });
    expect(t.alerts().map((a) => [a.src, a.start])).toEqual([
      ['192.0.2.9', 1_000_000],
      ['192.0.2.9', 20_000_000],
      ['192.0.2.10', 20_000_001],
    ]);
  });

  it('keeps at most maxAlerts and counts the rest', () => {
    const t = new AlertTracker({ maxAlerts: 3 });
    for (let i = 0; i < 10; i++) t.report({ ...base, src: `192.0.2.${i}` });
    expect(t.alerts()).toHaveLength(3);
    expect(t.dropped).toBe(7);
  });
});
