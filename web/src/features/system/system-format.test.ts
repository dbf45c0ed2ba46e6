import { describe, expect, it } from 'vitest';
import {
  formatByteRate,
  formatLoad,
  formatPercent,
  formatPerSecond,
  formatUptime,
  healthRefreshMs,
  isNearFull,
  newestSample,
  peakOf,
  resourceAlertText,
  usedOfTotal,
} from './system-format';
import type { HostSample } from './system-types';

describe('system figures', () => {
  it('writes percentages with a decimal only below 10', () => {
    expect(formatPercent(42.4)).toBe('42%');
    expect(formatPercent(99.6)).toBe('100%');
    expect(formatPercent(3.14)).toBe('3.1%');
    expect(formatPercent(0)).toBe('0%');
    expect(formatPercent(250)).toBe('250%');
    expect(formatPercent(Number.NaN)).toBe('–');
  });

  it('warns from 90% on', () => {
    expect(isNearFull(89.9)).toBe(false);
    expect(isNearFull(90)).toBe(true);
    expect(isNearFull(100)).toBe(true);
  });

  it('writes up time to the two units that matter', () => {
    expect(formatUptime(45.7)).toBe('45 s');
    expect(formatUptime(12 * 60 + 5)).toBe('12 min');
    expect(formatUptime(3 * 3600 + 20 * 60)).toBe('3 h 20 min');
    expect(formatUptime(2 * 3600)).toBe('2 h');
    expect(formatUptime(12 * 86_400 + 3 * 3600 + 59)).toBe('12 d 3 h');
    expect(formatUptime(86_400)).toBe('1 d');
    expect(formatUptime(-1)).toBe('–');
  });

  it('writes loads, rates and used-of-total', () => {
    expect(formatLoad(0.5)).toBe('0.50');
    expect(formatLoad(12.345)).toBe('12.35');
    expect(formatByteRate(1_234_567)).toBe('1.23 MB/s');
    expect(formatByteRate(0)).toBe('0 B/s');
    expect(formatPerSecond(0.5)).toBe('0.5/s');
    expect(formatPerSecond(1234)).toBe('1.23 k/s');
    expect(usedOfTotal(3_200_000_000, 7_900_000_000)).toBe('3.20 GB of 7.90 GB');
  });

  it('names the raised resource rules, with their disk or interface', () => {
    expect(resourceAlertText('cpu')).toBe('CPU busy');
    expect(resourceAlertText('memory')).toBe('Memory nearly full');
    expect(resourceAlertText('disk:/data')).toBe('Disk /data nearly full');
    expect(resourceAlertText('interface_errors:eth0')).toBe('Errors and drops on eth0');
    expect(resourceAlertText('capture_drops:eth1')).toBe('Packets lost by capture on eth1');
    // A mount point may hold a colon; only the first one splits.
    expect(resourceAlertText('disk:/mnt/a:b')).toBe('Disk /mnt/a:b nearly full');
    expect(resourceAlertText('cpu:node0')).toBe('CPU busy (node0)');
    expect(resourceAlertText('temperature:cpu0')).toBe('temperature:cpu0');
  });

  it('keeps the newer of the API and the stream samples', () => {
    const at = (ms: number) => ({ at: ms }) as HostSample;
    expect(newestSample(null, null)).toBeNull();
    expect(newestSample(at(1), null)?.at).toBe(1);
    expect(newestSample(null, at(2))?.at).toBe(2);
    expect(newestSample(at(5), at(3))?.at).toBe(5);
    expect(newestSample(at(5), at(7))?.at).toBe(7);
  });

  it('polls at the probe pace only while the stream is not open', () => {
    expect(healthRefreshMs(2, true)).toBe(15_000);
    expect(healthRefreshMs(2, false)).toBe(2000);
    expect(healthRefreshMs(0.5, false)).toBe(2000);
    expect(healthRefreshMs(10, false)).toBe(10_000);
    expect(healthRefreshMs(undefined, false)).toBe(15_000);
    expect(healthRefreshMs(null, false)).toBe(60_000);
  });

  it('finds the peak of a series, ignoring what is not a number', () => {
    expect(peakOf([], (v: number) => v)).toBeNull();
    expect(peakOf([3, Number.NaN, 9, 4], (v) => v)).toBe(9);
  });
});
