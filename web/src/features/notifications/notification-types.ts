/**
 * The notification API's answers and bodies as the Notifications page reads and sends them
 * (contract: GET/POST/PUT/DELETE /api/notification_channels, POST …/:id/test, GET
 * /api/notification_deliveries). The channel view is the routes' public shape, kept by hand here
 * as web/src/api/api-types.ts does; it never carries a secret. Types only, plus the fixed lists
 * the form offers (copied from src/alerts/notify/*: values are not imported into the dashboard).
 */

import type { Severity } from '../../api/api-types';

export const CHANNEL_KINDS = ['email', 'webhook', 'syslog'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

/** src/alerts/notify/email-notifier.ts EMAIL_SECURITY. */
export const EMAIL_SECURITY = ['starttls', 'tls', 'none'] as const;
export type EmailSecurity = (typeof EMAIL_SECURITY)[number];

export const WEBHOOK_FORMATS = ['json', 'slack', 'teams'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

export const SYSLOG_TRANSPORTS = ['udp', 'tcp', 'tls'] as const;
export type SyslogTransport = (typeof SYSLOG_TRANSPORTS)[number];

/** src/alerts/notify/syslog-notifier.ts SYSLOG_FACILITIES, by name (RFC 5424 order). */
export const SYSLOG_FACILITIES = [
  'kern',
  'user',
  'mail',
  'daemon',
  'auth',
  'syslog',
  'lpr',
  'news',
  'uucp',
  'cron',
  'authpriv',
  'ftp',
  'ntp',
  'security',
  'console',
  'clock',
  'local0',
  'local1',
  'local2',
  'local3',
  'local4',
  'local5',
  'local6',
  'local7',
] as const;
export type SyslogFacility = (typeof SYSLOG_FACILITIES)[number];

export const SYSLOG_FORMATS = ['text', 'cef'] as const;
export type SyslogFormat = (typeof SYSLOG_FORMATS)[number];

export const DELIVERY_STATUSES = ['pending', 'sent', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** An email channel's settings as the API shows them: the password only as `passwordSet`. */
export interface EmailPublicSettings {
  host: string;
  port: number;
  security: EmailSecurity;
  username?: string;
  passwordSet: boolean;
  from: string;
  to: string[];
  verifyCertificate: boolean;
  ca?: string;
}

/** A webhook's settings as the API shows them: the URL cut to "https://host/…", header names only. */
export interface WebhookPublicSettings {
  /** Null only if a stored channel somehow lost its URL. */
  url: string | null;
  format: WebhookFormat;
  headers: string[];
}

export interface SyslogPublicSettings {
  host: string;
  /** Absent: the transport's default (514, or 6514 for tls). */
  port?: number;
  transport: SyslogTransport;
  facility: SyslogFacility;
  msgFormat: SyslogFormat;
  appName?: string;
  verifyCertificate: boolean;
  ca?: string;
}

interface ChannelCommon {
  id: number;
  name: string;
  enabled: boolean;
  minSeverity: Severity;
  /** Alert types wanted; empty: all. */
  types: string[];
  maxPerWindow: number;
  windowMinutes: number;
  createdBy: string;
  /** Epoch milliseconds. */
  createdAt: number;
  updatedBy: string;
  updatedAt: number;
  deliveries: { pending: number; sent: number; failed: number };
}

/** A channel as GET /api/notification_channels lists it. */
export type ChannelView =
  | (ChannelCommon & { kind: 'email'; settings: EmailPublicSettings })
  | (ChannelCommon & { kind: 'webhook'; settings: WebhookPublicSettings })
  | (ChannelCommon & { kind: 'syslog'; settings: SyslogPublicSettings });

/** GET /api/notification_channels. */
export interface ChannelList {
  channels: ChannelView[];
}

/** Email settings as POST and PUT take them; the password left out on PUT keeps the stored one. */
export interface EmailSettingsBody {
  host: string;
  port: number;
  security: EmailSecurity;
  username?: string;
  password?: string;
  from: string;
  to: string[];
  verifyCertificate: boolean;
  ca?: string;
}

/** Webhook settings; on PUT a left-out URL or headers keep the stored ones. */
export interface WebhookSettingsBody {
  url?: string;
  format: WebhookFormat;
  headers?: Record<string, string>;
}

export interface SyslogSettingsBody {
  host: string;
  port?: number;
  transport: SyslogTransport;
  facility: SyslogFacility;
  msgFormat: SyslogFormat;
  appName?: string;
  verifyCertificate: boolean;
  ca?: string;
}

interface ChannelBodyCommon {
  name: string;
  enabled: boolean;
  minSeverity: Severity;
  types: string[];
  maxPerWindow: number;
  windowMinutes: number;
}

/** POST /api/notification_channels and PUT …/:id (the whole channel each time). */
export type ChannelBody =
  | (ChannelBodyCommon & { kind: 'email'; settings: EmailSettingsBody })
  | (ChannelBodyCommon & { kind: 'webhook'; settings: WebhookSettingsBody })
  | (ChannelBodyCommon & { kind: 'syslog'; settings: SyslogSettingsBody });

/** POST /api/notification_channels/:id/test. */
export interface ChannelTestResult {
  deliveryId: number;
  /** pending: the first attempt failed and a retry is queued. */
  status: DeliveryStatus;
  error?: string;
}

/**
 * One row of the delivery log, as src/store/notification-repository.ts DeliveryRecord. Copied
 * rather than imported: that module imports the dispatcher's queue types, and through them the
 * server's notify modules, which the dashboard's type-check should not take in.
 */
export interface DeliveryRecord {
  id: number;
  channelId: number;
  notificationId: string;
  kind: 'alert' | 'digest' | 'test';
  alertId: string | null;
  title: string;
  status: DeliveryStatus;
  attempts: number;
  /** Epoch milliseconds of the next attempt (pending), or when it was given up (failed). */
  nextAttemptAt: number;
  lastError: string | null;
  createdAt: number;
  sentAt: number | null;
}

/** GET /api/notification_deliveries. */
export interface DeliveryPage {
  items: DeliveryRecord[];
  nextCursor: string | null;
}
