/**
 * How the System page writes the host's figures: percentages, up time, load, rates, the resource
 * rules raised, and which sample is the newest. Pure: no clock, no DOM.
 */

import { formatBytes, formatSi } from '../../lib/format';
import type { HostSample } from './system-types';

/** At or above this a use (a file system, memory) is shown in the warning colour. */
export const WARN_PERCENT = 90;

/** Whether a use of `percent` is near full. */
export function isNearFull(percent: number): boolean {
  return percent >= WARN_PERCENT;
}

/** 42.4 -> "42%", 3.14 -> "3.1%" (a decimal below 10, where it still tells something). */
export function formatPercent(value: number): string {
  if (!Number.isFinite(value)) return '–';
  const rounded = Math.abs(value) < 10 ? Number(value.toFixed(1)) : Math.round(value);
  return `${rounded}%`;
}

/** A load average, as uptime writes it: "0.52". */
export function formatLoad(value: number): string {
  return Number.isFinite(value) ? value.toFixed(2) : '–';
}

/** Seconds of up time to the two units that matter: "45 s", "12 min", "3 h 20 min", "12 d 3 h". */
export function formatUptime(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  const whole = Math.floor(seconds);
  if (whole < 60) return `${whole} s`;
  const [d, h, m] = [
    Math.floor(whole / 86_400),
    Math.floor((whole % 86_400) / 3600),
    Math.floor((whole % 3600) / 60),
  ];
  if (d > 0) return h > 0 ? `${d} d ${h} h` : `${d} d`;
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
  return `${m} min`;
}

/** Bytes per second: "1.23 MB/s". */
export function formatByteRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** Things per second (packets, errors): "1.2 k/s", "0.5/s". */
export function formatPerSecond(value: number): string {
  return `${formatSi(value)}/s`;
}

/** "3.2 GB of 7.9 GB". */
export function usedOfTotal(usedBytes: number, totalBytes: number): string {
  return `${formatBytes(usedBytes)} of ${formatBytes(totalBytes)}`;
}

/** The rules' metrics in words: for the host as a whole, and for one subject (a disk, an interface). */
const METRIC_NAMES: Record<string, { whole: string; of?: (subject: string) => string }> = {
  cpu: { whole: 'CPU busy' },
  memory: { whole: 'Memory nearly full' },
  swap: { whole: 'Swap in heavy use' },
  disk: { whole: 'A disk nearly full', of: (s) => `Disk ${s} nearly full` },
  interface_errors: { whole: 'Interface errors and drops', of: (s) => `Errors and drops on ${s}` },
  capture_drops: { whole: 'Packets lost by capture', of: (s) => `Packets lost by capture on ${s}` },
};

/**
 * A raised resource rule as the server names it (`cpu`, `disk:/data`, `interface_errors:eth0`) in
 * words; a metric this page does not know is shown as the server wrote it.
 */
export function resourceAlertText(raised: string): string {
  const colon = raised.indexOf(':');
  const metric = colon === -1 ? raised : raised.slice(0, colon);
  const subject = colon === -1 ? '' : raised.slice(colon + 1);
  const names = METRIC_NAMES[metric];
  if (names === undefined) return raised;
  if (subject === '') return names.whole;
  return names.of ? names.of(subject) : `${names.whole} (${subject})`;
}

/** The newer of two samples (the API's and the stream's), or whichever there is. */
export function newestSample(a: HostSample | null, b: HostSample | null): HostSample | null {
  if (a === null) return b;
  if (b === null) return a;
  return b.at > a.at ? b : a;
}

/**
 * How often to ask /api/system_health again: while the stream brings each sample, only for the
 * raised rules and the service's own figures (every 15 s); without it, at the probe's pace (not
 * faster than every 2 s); when the server does not watch its host, every 60 s (it takes a restart).
 */
export function healthRefreshMs(intervalSeconds: number | null | undefined, streamOpen: boolean): number {
  if (intervalSeconds === null) return 60_000;
  if (streamOpen || intervalSeconds === undefined) return 15_000;
  return Math.max(2000, Math.round(intervalSeconds * 1000));
}

/** The highest of `pick` over the points, or null for none. */
export function peakOf<T>(points: readonly T[], pick: (point: T) => number): number | null {
  let peak: number | null = null;
  for (const p of points) {
    const v = pick(p);
    if (Number.isFinite(v) && (peak === null || v > peak)) peak = v;
  }
  return peak;
}
