import { describe, expect, it } from 'vitest';
import {
  counterLabel,
  exposureScanPath,
  flowsPath,
  formatDuration,
  formatFigure,
  hostPath,
  microsToMs,
} from './alert-format';

describe('alert formatting', () => {
  it('turns packet times (µs) into epoch ms, rounding down', () => {
    expect(microsToMs(1_700_000_000_999_999)).toBe(1_700_000_000_999);
  });

  it('shows durations to the precision a reader needs', () => {
    expect(formatDuration(450)).toBe('0.5 s');
    expect(formatDuration(4500)).toBe('4.5 s');
    expect(formatDuration(45_000)).toBe('45 s');
    expect(formatDuration(200_000)).toBe('3 min 20 s');
    expect(formatDuration(7_500_000)).toBe('2 h 5 min');
    expect(formatDuration(3 * 86_400_000 + 4 * 3_600_000)).toBe('3 d 4 h');
    expect(formatDuration(-1)).toBe('–');
  });

  it("labels the detectors' counters in words", () => {
    expect(counterLabel('synPackets')).toBe('Syn packets');
    expect(counterLabel('half_open')).toBe('Half open');
    expect(counterLabel('ports')).toBe('Ports');
    expect(counterLabel('bytesToServer')).toBe('Bytes to server');
  });

  it('shows counts with separators and ratios to two places', () => {
    expect(formatFigure(1_234_567)).toBe('1,234,567');
    expect(formatFigure(0.93333)).toBe('0.93');
    expect(formatFigure(Number.NaN)).toBe('–');
  });

  it("links to the host's page and to the flows of the alert's span", () => {
    expect(hostPath('2001:db8::1')).toBe('/hosts/2001%3Adb8%3A%3A1');
    const alert = {
      src: '192.0.2.7',
      dst: '198.51.100.1',
      start: 1_700_000_000_000_500,
      end: 1_700_000_004_500_001,
    };
    expect(flowsPath(alert)).toBe('/flows?address=192.0.2.7&from=1700000000000&to=1700000004501');
    expect(flowsPath({ ...alert, src: null })).toBe(
      '/flows?address=198.51.100.1&from=1700000000000&to=1700000004501',
    );
    expect(flowsPath({ ...alert, src: null, dst: null })).toBe('/flows?from=1700000000000&to=1700000004501');
  });

  it('links an exposure alert to the scan that found the port, and nothing else to a scan', () => {
    const id = 'scan-0f8e2c1a-5b6d-4e7f-8a9b-0c1d2e3f4a5b-192.0.2.7-tcp-6379';
    expect(exposureScanPath({ type: 'exposure', id })).toBe('/scans/0f8e2c1a-5b6d-4e7f-8a9b-0c1d2e3f4a5b');
    expect(
      exposureScanPath({ type: 'exposure', id: 'scan-0f8e2c1a-5b6d-4e7f-8a9b-0c1d2e3f4a5b-::1-udp-53' }),
    ).toBe('/scans/0f8e2c1a-5b6d-4e7f-8a9b-0c1d2e3f4a5b');
    expect(exposureScanPath({ type: 'port_scan', id })).toBeNull();
    expect(exposureScanPath({ type: 'exposure', id: 'exposure-7' })).toBeNull();
  });
});
