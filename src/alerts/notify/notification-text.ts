/**
 * What a notification says: the title and plain text of an alert, a digest and a test message,
 * composed once for every channel. Pure: data in, a Notification out; no clock, no I/O.
 *
 * The text must stand on its own. Email, Slack and Teams add the alert's facts and the link
 * beside it, but syslog sends only the title and the text (its lines joined with ' | '), so
 * everything a SIEM operator needs is in those few short lines. It never holds a channel's
 * settings (addresses, URLs, tokens): only the alert, the channel's name and the host.
 */

import { SEVERITIES, severityRank, type Alert, type AlertType } from '../alert.js';
import type { DigestSummary, Notification } from './notifier.js';

/** What the dispatcher knows about a notification besides its content. */
export interface NotificationContext {
  /** Unique per notification (see NotificationDispatcher for the forms). */
  id: string;
  /** Epoch milliseconds the notification is made. */
  at: number;
  /** The host FlowTrack runs on. */
  host: string;
  /** The alert's page on the dashboard, when the server knows its public URL. */
  link?: string;
}

/** Examples a digest's text lists (the digest itself keeps a few more for channels that show them). */
const DIGEST_TEXT_EXAMPLES = 3;

/** Alert types in words, for titles; a new type must be given its words here. */
const TYPE_WORDS: Readonly<Record<AlertType, string>> = {
  port_scan: 'Port scan',
  host_sweep: 'Host sweep',
  syn_flood: 'SYN flood',
  ddos: 'DDoS',
  udp_flood: 'UDP flood',
  icmp_flood: 'ICMP flood',
  amplification: 'Amplification attack',
  connection_flood: 'Connection flood',
  brute_force: 'Brute force',
  traffic_anomaly: 'Traffic anomaly',
  capture_loss: 'Capture loss',
  capture_gap: 'Capture gap',
  exposure: 'Newly exposed port',
  resource: 'Resource limit',
};

/** `port_scan` as "Port scan"; a type this build does not know (an older database's) as itself, spaced. */
export function alertTypeWords(type: string): string {
  const words = (TYPE_WORDS as Readonly<Record<string, string>>)[type];
  if (words !== undefined) return words;
  const spaced = type.replace(/_/g, ' ');
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

/** A span of time in the largest unit it is a whole number of, for "in the last 10 min". */
export function durationWords(ms: number): string {
  const hour = 3_600_000;
  if (ms >= hour && ms % hour === 0) return `${ms / hour} h`;
  if (ms >= 60_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 1000)} s`;
}

/** `[HIGH] Port scan from 10.0.0.5 to 10.0.0.9`: severity, type in words, the ends that exist. */
export function alertTitle(alert: Pick<Alert, 'severity' | 'type' | 'src' | 'dst'>): string {
  return `[${alert.severity.toUpperCase()}] ${alertTypeWords(alert.type)}${ends(alert)}`;
}

/**
 * The notification of a raised or escalated alert. The text: the escalation (if it is one), the
 * detector's summary, severity, type and addresses, the time span in UTC, the status when known
 * and the dashboard link.
 */
export function alertNotification(
  alert: Alert & { status?: string },
  reason: 'raised' | 'escalated',
  ctx: NotificationContext,
): Notification {
  const lines: string[] = [];
  if (reason === 'escalated') lines.push(`Escalated to ${alert.severity}.`);
  lines.push(alert.summary);
  const facts = [`Severity ${alert.severity}`, `type ${alert.type}`];
  if (alert.src !== null || alert.dst !== null) facts.push(`${alert.src ?? '?'} -> ${alert.dst ?? '?'}`);
  lines.push(`${facts.join(', ')}.`);
  lines.push(
    `${timeSpan(alert.start, alert.end)}${alert.status === undefined ? '' : `, status ${alert.status}`}.`,
  );
  // The id finds the alert in the dashboard or the API when there is no link.
  lines.push(ctx.link === undefined ? `Alert ${alert.id}.` : `Details: ${ctx.link}`);
  const n: Notification = {
    id: ctx.id,
    kind: 'alert',
    title: `${alertTitle(alert)}${reason === 'escalated' ? ' (escalated)' : ''}`,
    text: lines.join('\n'),
    alert: alertSnapshot(alert),
    at: ctx.at,
    host: ctx.host,
  };
  if (ctx.link !== undefined) n.link = ctx.link;
  return n;
}

/**
 * The digest of what a channel's rate limit held back: "37 more port_scan alerts in the last 10
 * min" (the minutes are the window's length), with the counts by severity and the newest examples.
 */
export function digestNotification(
  summary: DigestSummary,
  channelName: string,
  ctx: NotificationContext,
): Notification {
  const types = Object.entries(summary.byType).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const period = `in the last ${durationWords(summary.toMs - summary.fromMs)}`;
  const noun = summary.count === 1 ? 'alert' : 'alerts';
  let title: string;
  const only = types.length === 1 ? types[0] : undefined;
  if (only !== undefined) {
    title = `${summary.count} more ${only[0]} ${noun} ${period}`;
  } else if (types.length > 1) {
    title = `${summary.count} more ${noun} (${types.map(([type, count]) => `${count} ${type}`).join(', ')}) ${period}`;
  } else {
    title = `${summary.count} more ${noun} ${period}`;
  }
  const severities = Object.entries(summary.bySeverity)
    // Most severe first; a severity this build does not know sorts last.
    .sort((a, b) => rankOf(b[0]) - rankOf(a[0]) || a[0].localeCompare(b[0]))
    .map(([severity, count]) => `${severity} ${count}`);
  const lines = [
    `The rate limit of channel "${channelName}" held back ${summary.count} ${noun} from ` +
      `${isoFromMillis(summary.fromMs)} to ${isoFromMillis(summary.toMs)} (UTC).`,
  ];
  if (severities.length > 0) lines.push(`By severity: ${severities.join(', ')}.`);
  const examples = summary.examples.slice(0, DIGEST_TEXT_EXAMPLES);
  if (examples.length > 0) {
    lines.push(summary.count > examples.length ? 'Latest:' : 'They were:');
    for (const example of examples) lines.push(`${alertTitle(example)}: ${example.summary}`);
  }
  return {
    id: ctx.id,
    kind: 'digest',
    title,
    text: lines.join('\n'),
    digest: {
      ...summary,
      byType: { ...summary.byType },
      bySeverity: { ...summary.bySeverity },
      examples: summary.examples.map(alertSnapshot),
    },
    at: ctx.at,
    host: ctx.host,
  };
}

/** The message an admin sends to check a channel. */
export function testNotification(
  channelName: string,
  requestedBy: string,
  ctx: NotificationContext,
): Notification {
  return {
    id: ctx.id,
    kind: 'test',
    title: `Test notification from FlowTrack on ${ctx.host}`,
    text:
      `This is a test of the notification channel "${channelName}", sent by FlowTrack on ${ctx.host} ` +
      `at ${isoFromMillis(ctx.at)} (UTC) at the request of ${requestedBy}.\n` +
      'If you can read this, the channel works.',
    at: ctx.at,
    host: ctx.host,
  };
}

/** " from A to B", " from A", " to B" or nothing. */
function ends(alert: Pick<Alert, 'src' | 'dst'>): string {
  return `${alert.src === null ? '' : ` from ${alert.src}`}${alert.dst === null ? '' : ` to ${alert.dst}`}`;
}

/** Alert times are microseconds since the epoch. */
function timeSpan(startUs: number, endUs: number): string {
  const start = isoFromMillis(startUs / 1000);
  const end = isoFromMillis(endUs / 1000);
  return start === end ? `Seen at ${start} (UTC)` : `Seen from ${start} to ${end} (UTC)`;
}

function isoFromMillis(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? '(unknown time)' : date.toISOString();
}

function rankOf(severity: string): number {
  return (SEVERITIES as readonly string[]).includes(severity)
    ? severityRank(severity as Alert['severity'])
    : -1;
}

/**
 * The alert as it is now, and only its own fields: the queue keeps the notification for hours
 * while the tracker goes on updating the alert, and a store row's extra fields (`suppressedBy`)
 * are no channel's business.
 */
function alertSnapshot(alert: Alert & { status?: string }): Alert & { status?: string } {
  const snapshot: Alert & { status?: string } = {
    id: alert.id,
    type: alert.type,
    severity: alert.severity,
    src: alert.src,
    dst: alert.dst,
    start: alert.start,
    end: alert.end,
    counters: { ...alert.counters },
    summary: alert.summary,
    evidence: {
      thresholds: alert.evidence.thresholds.map((t) => ({ ...t })),
      sampleFlows: alert.evidence.sampleFlows.map((f) => ({ ...f })),
      topSources: alert.evidence.topSources.map((s) => ({ ...s })),
    },
    updates: alert.updates,
  };
  if (alert.status !== undefined) snapshot.status = alert.status;
  return snapshot;
}
