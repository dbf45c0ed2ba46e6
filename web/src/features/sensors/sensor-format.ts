/**
 * How the Sensors page and the sensor filters word a source of flows: whether it is in contact
 * ("in contact", "silent for 3 min"), when it was last heard from, what kind it is, and what the
 * flow and alert lists call this host's own. Pure: `now` and the time zone are parameters.
 */

import type { SensorRow } from '../../api/api-types';
import { formatTimestamp } from '../../lib/format';
import { formatAgo, formatSpan } from '../firewall/firewall-format';

/** What the lists call a flow or alert without a sensor: this server's own capture. */
export const THIS_HOST = 'this host';

/** Contact with a source: the badge's words and whether it is in contact. */
export interface ContactText {
  inContact: boolean;
  /** "in contact", or "silent for 3 min". */
  badge: string;
  /** A sentence for the badge's title: since when it is silent, or how recently heard. */
  title: string;
}

/**
 * The contact badge of `row` at `now`. The server decides whether it is in contact (it knows the
 * limit and its clock made the times); the length of a silence is counted from the page's clock,
 * never below zero, so a browser clock a little behind the server's does not say "in -5 s".
 */
export function contactText(
  row: Pick<SensorRow, 'inContact' | 'lastContactMs'>,
  now: number,
  timeZone?: string,
): ContactText {
  const at = formatTimestamp(row.lastContactMs, 'second', timeZone);
  if (row.inContact) return { inContact: true, badge: 'in contact', title: `Last heard from at ${at}` };
  return {
    inContact: false,
    badge: `silent for ${formatSpan(Math.max(0, now - row.lastContactMs))}`,
    title: `Nothing heard since ${at}`,
  };
}

/** A past time both ways: "3 min ago" and "2025-06-15 11:57:00". */
export function whenText(ms: number, now: number, timeZone?: string): { relative: string; absolute: string } {
  return { relative: formatAgo(ms, now), absolute: formatTimestamp(ms, 'second', timeZone) };
}

/** The kind as the page says it; a kind a newer server adds is shown as it comes. */
export function kindText(kind: string): string {
  if (kind === 'sensor') return 'FlowTrack sensor';
  if (kind === 'exporter') return 'NetFlow/IPFIX exporter';
  return kind;
}

/** The source of a flow or alert: its sensor's name, or "this host" when it has none. */
export function sourceText(sensor: string | null | undefined): string {
  return sensor === null || sensor === undefined || sensor === '' ? THIS_HOST : sensor;
}
