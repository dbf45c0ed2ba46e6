/**
 * The host page's time ranges and the window each asks the API for. The window ends at the next
 * bucket boundary after now, so a chart's buckets line up with the store's rollups (whole hours
 * for a week, which the store then reads from its hour totals) and two visits in the same bucket
 * share the cache. Pure: the page passes its clock in.
 */

export interface HostRange {
  id: string;
  label: string;
  ms: number;
  /** The traffic chart's bucket: about 15 to 170 points a chart. */
  bucketSeconds: number;
}

export const HOST_RANGES: readonly HostRange[] = [
  { id: '15m', label: 'Last 15 minutes', ms: 15 * 60_000, bucketSeconds: 60 },
  { id: '1h', label: 'Last hour', ms: 3_600_000, bucketSeconds: 60 },
  { id: '24h', label: 'Last 24 hours', ms: 86_400_000, bucketSeconds: 900 },
  { id: '7d', label: 'Last 7 days', ms: 7 * 86_400_000, bucketSeconds: 3600 },
];

export const DEFAULT_HOST_RANGE = '1h';

/** The range a URL's `range` names; the default for anything else. */
export function hostRangeOf(id: string | null): HostRange {
  return HOST_RANGES.find((r) => r.id === id) ?? HOST_RANGES.find((r) => r.id === DEFAULT_HOST_RANGE)!;
}

/** Epoch ms of the range's window at `now`: `to` on a bucket boundary at or after now. */
export function hostWindow(range: HostRange, now: number): { from: number; to: number } {
  const bucketMs = range.bucketSeconds * 1000;
  const to = Math.ceil(now / bucketMs) * bucketMs;
  return { from: to - range.ms, to };
}
