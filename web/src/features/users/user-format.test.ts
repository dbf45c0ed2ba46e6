import { describe, expect, it } from 'vitest';
import { formatDateTime } from './user-format';

describe('formatDateTime', () => {
  it('shows local date and minute, zero-padded so that times sort as text', () => {
    // Built from local parts, so the test holds in any time zone.
    expect(formatDateTime(new Date(2025, 2, 7, 4, 5, 59).getTime())).toBe('2025-03-07 04:05');
    expect(formatDateTime(new Date(2024, 11, 31, 23, 59).getTime())).toBe('2024-12-31 23:59');
  });

  it('shows a dash for a time that is not one', () => {
    expect(formatDateTime(Number.NaN)).toBe('–');
    expect(formatDateTime(Number.POSITIVE_INFINITY)).toBe('–');
  });
});
