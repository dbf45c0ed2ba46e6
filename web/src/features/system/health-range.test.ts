import { describe, expect, it } from 'vitest';
import { healthWindow, historyPath, readHealthRange, stepText } from './health-range';

const NOW = Date.UTC(2026, 10, 22, 10, 30, 15, 500);

describe('health chart range', () => {
  it('reads the range of the URL, an hour when missing or unknown', () => {
    expect(readHealthRange(new URLSearchParams('range=24h'))).toBe('24h');
    expect(readHealthRange(new URLSearchParams(''))).toBe('1h');
    expect(readHealthRange(new URLSearchParams('range=live'))).toBe('1h');
  });

  it('ends short ranges at the next 10 s and long ones at the next minute', () => {
    const end10s = Date.UTC(2026, 10, 22, 10, 30, 20);
    expect(healthWindow('15m', NOW)).toEqual({ key: '15m', from: end10s - 900_000, to: end10s });
    expect(healthWindow('1h', NOW)).toEqual({ key: '1h', from: end10s - 3_600_000, to: end10s });
    const endMinute = Date.UTC(2026, 10, 22, 10, 31);
    expect(healthWindow('7d', NOW)).toEqual({ key: '7d', from: endMinute - 7 * 86_400_000, to: endMinute });
    // Within the same 10 s, the same request (one cache entry).
    expect(historyPath(healthWindow('15m', NOW))).toBe(historyPath(healthWindow('15m', NOW + 4000)));
  });

  it('asks the API for the window in 300 points', () => {
    expect(historyPath({ key: '1h', from: 1000, to: 3_601_000 })).toBe(
      '/api/system_health/history?from=1000&to=3601000&points=300',
    );
  });

  it('says the step between points in words', () => {
    expect(stepText(4000)).toBe('4 s');
    expect(stepText(120_000)).toBe('2 min');
    expect(stepText(90 * 60_000)).toBe('90 min');
    expect(stepText(2 * 3_600_000)).toBe('2 h');
  });
});
