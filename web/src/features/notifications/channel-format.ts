/**
 * How the Notifications page says what a channel does: where it sends, how often at most, which
 * alerts, and what became of a delivery. Pure: `now` and the time zone are parameters.
 */

import { formatTimestamp } from '../../lib/format';
import type { ChannelKind, ChannelView, DeliveryRecord } from './notification-types';

/** "10 per 10 min", "1 per minute", "100 per hour", "500 per 6 h", "1000 per day". */
export function rateLimitText(maxPerWindow: number, windowMinutes: number): string {
  return `${maxPerWindow} per ${windowText(windowMinutes)}`;
}

function windowText(minutes: number): string {
  if (minutes === 1) return 'minute';
  if (minutes === 60) return 'hour';
  if (minutes === 1440) return 'day';
  if (minutes > 60 && minutes % 60 === 0) return `${minutes / 60} h`;
  return `${minutes} min`;
}

/** The syslog port a channel without one uses (src/alerts/notify/syslog-notifier.ts). */
export function defaultSyslogPort(transport: 'udp' | 'tcp' | 'tls'): number {
  return transport === 'tls' ? 6514 : 514;
}

/**
 * Where the channel sends, in a line: "smtp.example.com:587 (starttls) → a@x, b@y",
 * "https://hooks.slack.com/… (slack)", "udp syslog 10.0.0.1:514".
 */
export function targetSummary(channel: ChannelView): string {
  switch (channel.kind) {
    case 'email': {
      const s = channel.settings;
      return `${hostPort(s.host, s.port)} (${s.security}) → ${s.to.join(', ')}`;
    }
    case 'webhook': {
      const s = channel.settings;
      return `${s.url ?? 'no URL'} (${s.format})`;
    }
    case 'syslog': {
      const s = channel.settings;
      const port = s.port ?? defaultSyslogPort(s.transport);
      return `${s.transport} syslog ${hostPort(s.host, port)}${s.msgFormat === 'cef' ? ' (CEF)' : ''}`;
    }
  }
}

/** An IPv6 address in brackets before its port, as in a URL. */
function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The alert types a channel takes: "all types", or their names. */
export function typesText(types: readonly string[]): string {
  return types.length === 0 ? 'all types' : types.join(', ');
}

/** "high and above"; "all" for info (every alert has at least that). */
export function minSeverityText(minSeverity: string): string {
  return minSeverity === 'info'
    ? 'all'
    : minSeverity === 'critical'
      ? 'critical only'
      : `${minSeverity} and above`;
}

export const KIND_LABEL: Record<ChannelKind, string> = {
  email: 'Email',
  webhook: 'Webhook',
  syslog: 'Syslog',
};

/** A delivery log row's channel: its name, or "channel 7 (deleted)" once it is gone. */
export function channelNameOf(
  channelId: number,
  channels: readonly Pick<ChannelView, 'id' | 'name'>[],
): string {
  return channels.find((c) => c.id === channelId)?.name ?? `channel ${channelId} (deleted)`;
}

/**
 * What is next for a delivery: for a pending one its next attempt ("in 2 min", "due now"),
 * for a sent one when it went, for a failed one that it was given up.
 */
export function deliveryNextText(
  delivery: Pick<DeliveryRecord, 'status' | 'nextAttemptAt' | 'sentAt'>,
  now: number,
  timeZone?: string,
): string {
  switch (delivery.status) {
    case 'pending': {
      const wait = delivery.nextAttemptAt - now;
      if (wait <= 0) return 'due now';
      return `in ${spanText(wait)} (${formatTimestamp(delivery.nextAttemptAt, 'second', timeZone)})`;
    }
    case 'sent':
      return delivery.sentAt === null
        ? 'sent'
        : `sent ${formatTimestamp(delivery.sentAt, 'second', timeZone)}`;
    case 'failed':
      return 'given up';
  }
}

/** A wait to the second under a minute, to the minute above: "40 s", "3 min", "2 h 5 min". */
function spanText(ms: number): string {
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}

/** The answer of "Send test" as a line: "Sent", the error, or that a retry is queued. */
export function testResultText(result: { status: DeliveryRecord['status']; error?: string }): string {
  if (result.status === 'sent') return 'Sent';
  const error = result.error ?? 'no reason given';
  return result.status === 'pending' ? `Not sent yet: ${error} (a retry is queued)` : error;
}
