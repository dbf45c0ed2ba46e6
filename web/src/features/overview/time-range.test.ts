import { describe, expect, it } from 'vitest';
import { bucketFor, resolveRange } from './time-range';

const NOW = Date.UTC(2026, 10, 22, 10, 30, 15);
const range = (search: string) => resolveRange(new URLSearchParams(search), NOW);

describe('resolveRange', () => {
  it('is live by default', () => {
    expect(range('')).toEqual({ kind: 'live' });
  });

  it('ends a relative window at the next whole minute, with at most 120 bars', () => {
    const end = Date.UTC(2026, 10, 22, 10, 31);
    expect(range('range=15m')).toEqual({
      kind: 'window',
      key: '15m',
      from: end - 900_000,
      to: end,
      bucketSeconds: 60,
    });
    expect(range('range=24h')).toMatchObject({ from: end - 86_400_000, bucketSeconds: 900 });
    expect(range('range=7d')).toMatchObject({ bucketSeconds: 7200 });
  });

  it('takes a custom window and refuses a backwards or missing one', () => {
    expect(range('range=custom&from=1000000&to=4600000')).toMatchObject({
      kind: 'window',
      bucketSeconds: 60,
    });
    expect(range('range=custom&from=5000000&to=4600000')).toEqual({
      kind: 'invalid',
      message: 'the end of the range must come after its start',
    });
    expect(range('range=custom')).toMatchObject({ kind: 'invalid' });
    const unknown = range('range=3y');
    expect(unknown.kind === 'invalid' && unknown.message).toContain('"3y"');
  });
});

describe('bucketFor', () => {
  it('picks the smallest bucket that keeps the bars at 120 or fewer', () => {
    expect(bucketFor(2 * 3_600_000)).toBe(60);
    expect(bucketFor(2 * 3_600_000 + 1)).toBe(300);
    expect(bucketFor(365 * 86_400_000)).toBe(86_400);
  });
});
