import { describe, expect, it } from 'vitest';
import { plotPoints, roundUp } from './chart-scale';

describe('chart scales', () => {
  it('rounds a maximum up to 1, 2 or 5 times a power of ten', () => {
    expect(roundUp(0)).toBe(1);
    expect(roundUp(0.4)).toBe(1);
    expect(roundUp(1.5)).toBe(2);
    expect(roundUp(340)).toBe(500);
    expect(roundUp(600)).toBe(1000);
  });

  it('puts the end of the window at the right edge and zero at the bottom', () => {
    const box = { width: 300, height: 80, end: 10_000, windowMs: 10_000, top: 100 };
    expect(
      plotPoints(
        [
          { at: 0, value: 0 },
          { at: 5000, value: 50 },
          { at: 10_000, value: 100 },
        ],
        box,
      ),
    ).toEqual([
      ['0.0', '80.0'],
      ['150.0', '40.0'],
      ['300.0', '0.0'],
    ]);
    // A scale of zero (nothing yet) draws at the bottom rather than dividing by zero.
    expect(plotPoints([{ at: 10_000, value: 0 }], { ...box, top: 0 })).toEqual([['300.0', '80.0']]);
  });
});
