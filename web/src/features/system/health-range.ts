/**
 * The range the System page's charts cover, kept in the URL (`/system?range=24h`), and the
 * history request for it. Short ranges end at the next 10 s and long ones at the next minute, so
 * requests made within that time share one cache entry and the charts move on as it passes. Pure.
 */

import { queryString } from '../../api/queries';

export const HEALTH_RANGES = [
  { key: '15m', label: '15 min', ms: 15 * 60_000 },
  { key: '1h', label: '1 h', ms: 3_600_000 },
  { key: '24h', label: '24 h', ms: 86_400_000 },
  { key: '7d', label: '7 d', ms: 7 * 86_400_000 },
] as const;

export type HealthRangeKey = (typeof HEALTH_RANGES)[number]['key'];

export const DEFAULT_HEALTH_RANGE: HealthRangeKey = '1h';

/** Points a chart asks for: about one a pixel of its drawing's width. */
export const HISTORY_POINTS = 300;

export interface HealthWindow {
  key: HealthRangeKey;
  /** Epoch ms. */
  from: number;
  to: number;
}

/** The range of the page's query string; a missing or unknown one is the default. */
export function readHealthRange(query: URLSearchParams): HealthRangeKey {
  const key = query.get('range');
  return HEALTH_RANGES.find((r) => r.key === key)?.key ?? DEFAULT_HEALTH_RANGE;
}

/** The window of `key` ending now, rounded up to the next 10 s (up to an hour) or minute. */
export function healthWindow(key: HealthRangeKey, now: number): HealthWindow {
  const range = HEALTH_RANGES.find((r) => r.key === key) ?? HEALTH_RANGES[1];
  const align = range.ms <= 3_600_000 ? 10_000 : 60_000;
  const to = Math.ceil(now / align) * align;
  return { key: range.key, from: to - range.ms, to };
}

/** GET path of the window's chart points. */
export function historyPath(window: HealthWindow): string {
  return `/api/system_health/history${queryString({ from: window.from, to: window.to, points: HISTORY_POINTS })}`;
}

/** A step between points in words: "4 s", "2 min", "1 h". */
export function stepText(stepMs: number): string {
  const seconds = Math.round(stepMs / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60 || minutes % 60 !== 0) return `${minutes} min`;
  return `${minutes / 60} h`;
}
