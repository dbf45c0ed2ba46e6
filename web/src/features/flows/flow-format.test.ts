import { describe, expect, it } from 'vitest';
import { alertPath, formatDuration, formatEndpoint, formatTime, hostPath } from './flow-format';

describe('flow formats', () => {
  it('write durations to the two units that matter', () => {
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(400)).toBe('< 1 ms');
    expect(formatDuration(850_000)).toBe('850 ms');
    expect(formatDuration(2_340_000)).toBe('2.3 s');
    expect(formatDuration(42_000_000)).toBe('42 s');
    expect(formatDuration(245_000_000)).toBe('4 m 05 s');
    expect(formatDuration(7_380_000_000)).toBe('2 h 03 m');
    expect(formatDuration(183_600_000_000)).toBe('2 d 3 h');
    expect(formatDuration(-1)).toBe('–');
  });

  it('write endpoints with ports only where the protocol has them, IPv6 in brackets', () => {
    expect(formatEndpoint('192.0.2.1', 443, 'tcp')).toBe('192.0.2.1:443');
    expect(formatEndpoint('2001:db8::1', 53, 'udp')).toBe('[2001:db8::1]:53');
    expect(formatEndpoint('192.0.2.1', 0, 'icmp')).toBe('192.0.2.1');
  });

  it('write flow times (µs) as local times', () => {
    expect(formatTime(new Date(2023, 10, 14, 22, 13, 20).getTime() * 1000 + 999)).toBe('2023-11-14 22:13:20');
  });

  it('link hosts and alerts with readable, safe paths', () => {
    expect(hostPath('10.0.0.5')).toBe('/hosts/10.0.0.5');
    expect(hostPath('2001:db8::1')).toBe('/hosts/2001:db8::1');
    expect(hostPath('a/b?c')).toBe('/hosts/a%2Fb%3Fc');
    expect(alertPath('port_scan-1')).toBe('/alerts/port_scan-1');
  });
});
