/**
 * How the alerts pages show an alert's times and figures, and where its links go. Pure: the
 * time zone is a parameter (the browser's by default) so tests do not depend on the machine's.
 */

import { queryString } from '../../api/queries';
import { formatCount } from '../../lib/format';

/** Packet time (epoch microseconds, as alerts keep it) to epoch milliseconds. */
export function microsToMs(us: number): number {
  return Math.floor(us / 1000);
}

/** A span of time, to the precision a reader needs: "0.4 s", "45 s", "3 min 20 s", "2 h 5 min", "3 d 4 h". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  const seconds = ms / 1000;
  if (seconds < 10) return `${Number(seconds.toFixed(1))} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const whole = Math.round(seconds);
  const [d, h, m, s] = [
    Math.floor(whole / 86_400),
    Math.floor((whole % 86_400) / 3600),
    Math.floor((whole % 3600) / 60),
    whole % 60,
  ];
  if (d > 0) return h > 0 ? `${d} d ${h} h` : `${d} d`;
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
  return s > 0 ? `${m} min ${s} s` : `${m} min`;
}

/**
 * A counter's key as a label: "synPackets" and "syn_packets" -> "Syn packets". Detectors name
 * their counters in code style; the page shows the key too, for matching with logs and the CLI.
 */
export function counterLabel(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A figure: whole numbers with separators, fractions (ratios, rates) to two places. */
export function formatFigure(value: number): string {
  if (!Number.isFinite(value)) return '–';
  if (Number.isInteger(value)) return formatCount(value);
  return value.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

/** The dashboard's page of a host (someone else's page: only its path is known here). */
export function hostPath(address: string): string {
  return `/hosts/${encodeURIComponent(address)}`;
}

/**
 * The flows page for the alert's traffic: the attacker's flows (the victim's when there is no
 * single attacker) over the alert's time span, in whole milliseconds that cover all of it.
 */
export function flowsPath(alert: {
  src: string | null;
  dst: string | null;
  start: number;
  end: number;
}): string {
  return `/flows${queryString({
    address: alert.src ?? alert.dst,
    from: Math.floor(alert.start / 1000),
    to: Math.ceil(alert.end / 1000),
  })}`;
}

const SCAN_ALERT_ID = /^scan-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-/i;

/**
 * The Scanner's page of the scan that raised an `exposure` alert (a port found newly open), or
 * null for any other alert. The scan service names those alerts
 * `scan-<scan id>-<address>-<protocol>-<port>` (src/scan/scan-service.ts exposureAlert); an id of
 * another shape gives no link rather than a wrong one.
 */
export function exposureScanPath(alert: { type: string; id: string }): string | null {
  if (alert.type !== 'exposure') return null;
  const scanId = SCAN_ALERT_ID.exec(alert.id)?.[1];
  return scanId === undefined ? null : `/scans/${scanId}`;
}
