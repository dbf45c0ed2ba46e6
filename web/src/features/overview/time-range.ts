/**
 * The overview's time range, kept in the URL (`?range=1h`, or `?range=custom&from=…&to=…` in epoch
 * ms): live (the stream's last minute) or a window read from the per-minute rollups. Relative
 * windows end at the next whole minute, so one minute's requests share one cache entry.
 */

export const RANGE_CHOICES = [
  { key: 'live', label: 'Live' },
  { key: '15m', label: '15 min', ms: 15 * 60_000 },
  { key: '1h', label: '1 h', ms: 3_600_000 },
  { key: '24h', label: '24 h', ms: 86_400_000 },
  { key: '7d', label: '7 d', ms: 7 * 86_400_000 },
  { key: 'custom', label: 'Custom' },
] as const;

export type RangeKey = (typeof RANGE_CHOICES)[number]['key'];

export type TimeRange =
  | { kind: 'live' }
  | { kind: 'window'; key: RangeKey; from: number; to: number; bucketSeconds: number }
  | { kind: 'invalid'; message: string };

/** Bucket sizes the rollups serve well, smallest first. */
const BUCKETS = [60, 300, 900, 1800, 3600, 7200, 21_600, 86_400];
/** Bars a chart shows at most: enough detail, still a few pixels each on a laptop. */
const MAX_BARS = 120;

/** The smallest bucket that draws `spanMs` in at most MAX_BARS bars. */
export function bucketFor(spanMs: number): number {
  return BUCKETS.find((b) => spanMs / (b * 1000) <= MAX_BARS) ?? 86_400;
}

export function resolveRange(query: URLSearchParams, now: number): TimeRange {
  const key = query.get('range') ?? 'live';
  if (key === 'live') return { kind: 'live' };
  if (key === 'custom') {
    const from = Number(query.get('from'));
    const to = Number(query.get('to'));
    if (!Number.isFinite(from) || !Number.isFinite(to) || from <= 0 || to <= 0)
      return { kind: 'invalid', message: 'choose the start and the end of the range' };
    if (to <= from) return { kind: 'invalid', message: 'the end of the range must come after its start' };
    return { kind: 'window', key, from, to, bucketSeconds: bucketFor(to - from) };
  }
  const choice = RANGE_CHOICES.find((c) => c.key === key);
  if (choice === undefined || !('ms' in choice))
    return { kind: 'invalid', message: `"${key}" is not a time range: choose one above` };
  const to = Math.ceil(now / 60_000) * 60_000;
  return { kind: 'window', key: choice.key, from: to - choice.ms, to, bucketSeconds: bucketFor(choice.ms) };
}
