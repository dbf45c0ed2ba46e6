/**
 * One narrow interface for every notification channel (email, webhook, syslog): a channel is
 * handed a Notification (one alert, or a digest of the alerts a rate limit held back) and either
 * delivers it or throws a NotifyError that says whether trying again can help. Channels keep no
 * queue and no retry of their own; the dispatcher does (filters, rate limits, digests, retries
 * with backoff, the delivery log). A channel must never log or echo its secrets (SMTP password,
 * webhook URL tokens).
 */

import type { Alert } from '../alert.js';

export const CHANNEL_KINDS = ['email', 'webhook', 'syslog'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

/** A digest: what the rate limit held back, counted by alert type and severity. */
export interface DigestSummary {
  /** Alert updates held back in the period. */
  count: number;
  /** Epoch milliseconds of the period. */
  fromMs: number;
  toMs: number;
  byType: Record<string, number>;
  bySeverity: Record<string, number>;
  /** A few of them, newest first, for the body. */
  examples: Alert[];
}

export interface Notification {
  /** Unique per notification (the delivery log's key, and a webhook's idempotency key). */
  id: string;
  kind: 'alert' | 'digest' | 'test';
  /** One line: the subject of an email, the title of a chat message, the syslog MSG's start. */
  title: string;
  /** Plain text, a few lines. */
  text: string;
  /** The alert this is about (kind 'alert'); its state at the time. */
  alert?: Alert & { status?: string };
  digest?: DigestSummary;
  /** Where the dashboard shows it, when the server knows its own public URL. */
  link?: string;
  /** Epoch milliseconds the notification was made. */
  at: number;
  /** The host FlowTrack runs on (syslog HOSTNAME, email sender name). */
  host: string;
}

export interface Notifier {
  readonly kind: ChannelKind;
  /** Delivers `n`, or throws a NotifyError. */
  send(n: Notification, signal?: AbortSignal): Promise<void>;
  /** Closes pooled connections. */
  close(): Promise<void>;
}

/** A delivery that failed: `retryable` false for what trying again cannot fix (a 4xx, bad auth). */
export class NotifyError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'NotifyError';
  }
}
