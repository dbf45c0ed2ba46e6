import { describe, expect, it } from 'vitest';
import { hostRangeOf, hostWindow } from './host-range';

describe('host ranges', () => {
  it('reads the URL, the last hour for anything else', () => {
    expect(hostRangeOf('7d').ms).toBe(7 * 86_400_000);
    expect(hostRangeOf(null).id).toBe('1h');
    expect(hostRangeOf('1y').id).toBe('1h');
  });

  it('ends the window on the next bucket boundary, as long as the range', () => {
    const now = Date.UTC(2024, 0, 10, 12, 34, 56, 789);
    expect(hostWindow(hostRangeOf('1h'), now)).toEqual({
      from: Date.UTC(2024, 0, 10, 11, 35),
      to: Date.UTC(2024, 0, 10, 12, 35),
    });
    // A week ends on the hour, so the store reads its hour totals.
    const week = hostWindow(hostRangeOf('7d'), now);
    expect(week.to).toBe(Date.UTC(2024, 0, 10, 13));
    expect(week.to - week.from).toBe(7 * 86_400_000);
    expect(hostWindow(hostRangeOf('15m'), Date.UTC(2024, 0, 10, 12, 0)).to).toBe(
      Date.UTC(2024, 0, 10, 12, 0),
    );
  });
});
