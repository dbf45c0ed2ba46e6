import { describe, expect, it } from 'vitest';
import { formatBitRate, formatBytes, formatCount, formatProcess, formatSi, formatTimestamp } from './format';

describe('format', () => {
  it('shortens with SI prefixes', () => {
    expect(formatSi(0)).toBe('0');
    expect(formatSi(2.5)).toBe('2.5');
    expect(formatSi(999)).toBe('999');
    expect(formatSi(1234)).toBe('1.23 k');
    expect(formatSi(45_600)).toBe('45.6 k');
    expect(formatSi(1_234_567)).toBe('1.23 M');
    expect(formatSi(Number.NaN)).toBe('–');
  });

  it('shows bytes per second as bits per second', () => {
    expect(formatBitRate(100)).toBe('800 bit/s');
    expect(formatBitRate(1_562_500)).toBe('12.5 Mbit/s');
  });

  it('counts with separators', () => {
    expect(formatCount(1_234_567)).toBe('1,234,567');
  });

  it('shows byte counts with SI prefixes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1_234_567)).toBe('1.23 MB');
  });

  it('names a process with its pid and user', () => {
    expect(formatProcess({ pid: 4242, name: 'curl', user: 'alice' })).toBe('curl (4242, alice)');
    expect(formatProcess({ pid: 7, name: 'sshd', user: '' })).toBe('sshd (7)');
    expect(formatProcess({ pid: 7, name: '', user: 'root' })).toBe('pid 7 (root)');
    expect(formatProcess({ pid: 7, name: '', user: '' })).toBe('pid 7');
  });

  it('writes times to the minute, second or millisecond in a given time zone', () => {
    const ms = Date.UTC(2023, 10, 14, 22, 13, 20, 7);
    expect(formatTimestamp(ms, 'minute', 'UTC')).toBe('2023-11-14 22:13');
    expect(formatTimestamp(ms, 'second', 'UTC')).toBe('2023-11-14 22:13:20');
    expect(formatTimestamp(ms, 'millisecond', 'UTC')).toBe('2023-11-14 22:13:20.007');
    expect(formatTimestamp(ms, 'minute', 'Asia/Tokyo')).toBe('2023-11-15 07:13');
    expect(formatTimestamp(Number.NaN)).toBe('–');
  });
});
