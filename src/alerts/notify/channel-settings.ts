/**
 * A notification channel's settings as an admin gives them in the dashboard: one schema per kind,
 * checked at the API's edge, the notifier each kind builds, and the public view that never
 * carries a secret (an SMTP password, a webhook URL's path and query, a header's value). An
 * update that leaves a secret out keeps the stored one, so the dashboard never needs to hold it.
 *
 * Refused with a reason: a password sent in clear to another host (`security: none` with a login
 * to anything but loopback), and a webhook URL with user info.
 */

import { isIP } from 'node:net';
import { z } from 'zod';
import { EMAIL_SECURITY, EmailNotifier } from './email-notifier.js';
import type { ChannelKind, Notifier } from './notifier.js';
import { SYSLOG_FACILITIES, SyslogNotifier } from './syslog-notifier.js';
import { WebhookNotifier } from './webhook-notifier.js';

const hostName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9.:_-]+$/, 'a host name or an IP address');
const port = z.number().int().min(1).max(65535);
const pem = z
  .string()
  .max(65_536)
  .startsWith('-----BEGIN', 'a PEM certificate (-----BEGIN CERTIFICATE-----)');
const emailAddress = z.email().max(254);

export const emailSettingsSchema = z.strictObject({
  host: hostName,
  port: port.default(587),
  security: z.enum(EMAIL_SECURITY).default('starttls'),
  username: z.string().min(1).max(256).optional(),
  /** Omitted on an update: the stored one is kept. */
  password: z.string().min(1).max(1024).optional(),
  from: emailAddress,
  to: z.array(emailAddress).min(1).max(50),
  /** False accepts any certificate (a private server you cannot give a CA for). */
  verifyCertificate: z.boolean().default(true),
  ca: pem.optional(),
});

export const webhookSettingsSchema = z.strictObject({
  /** Omitted on an update: the stored one is kept. */
  url: z
    .url({ protocol: /^https?$/ })
    .max(2048)
    .optional(),
  format: z.enum(['json', 'slack', 'teams']).default('json'),
  /** Extra headers (e.g. Authorization); values are secrets: never sent back. */
  headers: z
    .record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'a header name'), z.string().max(4096))
    .optional(),
});

export const syslogSettingsSchema = z.strictObject({
  host: hostName,
  port: port.optional(),
  transport: z.enum(['udp', 'tcp', 'tls']).default('udp'),
  facility: z.enum(Object.keys(SYSLOG_FACILITIES) as [keyof typeof SYSLOG_FACILITIES]).default('local0'),
  msgFormat: z.enum(['text', 'cef']).default('text'),
  appName: z
    .string()
    .regex(/^[!-~]{1,48}$/, 'printable ASCII without spaces, at most 48')
    .optional(),
  verifyCertificate: z.boolean().default(true),
  ca: pem.optional(),
});

export type EmailSettings = z.infer<typeof emailSettingsSchema>;
export type WebhookSettings = z.infer<typeof webhookSettingsSchema>;
export type SyslogSettings = z.infer<typeof syslogSettingsSchema>;

const SCHEMAS = { email: emailSettingsSchema, webhook: webhookSettingsSchema, syslog: syslogSettingsSchema };

/** A problem with settings: which field, and what to do. */
export class ChannelSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChannelSettingsError';
  }
}

/**
 * The settings to store: `incoming` checked against its kind's schema, with the secrets it
 * leaves out taken from `stored` (an update). Throws ChannelSettingsError naming the field.
 */
export function checkChannelSettings(
  kind: ChannelKind,
  incoming: unknown,
  stored: Record<string, unknown> | null = null,
): Record<string, unknown> {
  const parsed = SCHEMAS[kind].safeParse(incoming);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') ?? '';
    throw new ChannelSettingsError(
      `${kind} settings${field === '' ? '' : ` field ${field}`}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const settings: Record<string, unknown> = { ...parsed.data };
  for (const { field, belongsTo } of SECRET_FIELDS[kind]) {
    // A secret that belongs to another field (a password to its login) goes when that field goes.
    const kept = belongsTo === undefined || settings[belongsTo] !== undefined;
    if (kept && settings[field] === undefined && stored?.[field] !== undefined)
      settings[field] = stored[field];
  }
  if (kind === 'email') checkEmail(settings as EmailSettings);
  if (kind === 'webhook') checkWebhook(settings as WebhookSettings);
  return settings;
}

/** Fields a public view leaves out (and an update may omit to keep), and what each belongs to. */
const SECRET_FIELDS: Readonly<Record<ChannelKind, readonly { field: string; belongsTo?: string }[]>> = {
  email: [{ field: 'password', belongsTo: 'username' }],
  webhook: [{ field: 'url' }, { field: 'headers' }],
  syslog: [],
};

function checkEmail(s: EmailSettings): void {
  if ((s.username === undefined) !== (s.password === undefined)) {
    throw new ChannelSettingsError(
      'email settings: give both username and password for a server that wants a login, or neither',
    );
  }
  if (s.username !== undefined && s.security === 'none' && !isLoopback(s.host)) {
    throw new ChannelSettingsError(
      `email settings: security none would send the password in clear to ${s.host}: use starttls (port 587) or tls (port 465), or a relay on this host`,
    );
  }
}

function checkWebhook(s: WebhookSettings): void {
  if (s.url === undefined)
    throw new ChannelSettingsError('webhook settings field url: the URL to POST to is required');
  const url = new URL(s.url);
  if (url.username !== '' || url.password !== '') {
    throw new ChannelSettingsError(
      'webhook settings field url: credentials in the URL are refused: put them in a header (e.g. Authorization)',
    );
  }
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const family = isIP(host);
  return (family === 4 && host.startsWith('127.')) || (family === 6 && host === '::1');
}

/**
 * The settings as the API shows them: secrets left out, with `passwordSet`, a webhook URL cut
 * to scheme://host[:port]/… and header names without their values.
 */
export function publicChannelSettings(
  kind: ChannelKind,
  settings: Record<string, unknown>,
): Record<string, unknown> {
  const shown: Record<string, unknown> = { ...settings };
  if (kind === 'email') {
    delete shown.password;
    shown.passwordSet = typeof settings.password === 'string';
  }
  if (kind === 'webhook') {
    const url = typeof settings.url === 'string' ? settings.url : null;
    shown.url = url === null ? null : `${new URL(url).origin}/…`;
    const headers = settings.headers as Record<string, string> | undefined;
    shown.headers = headers === undefined ? [] : Object.keys(headers);
  }
  return shown;
}

/** The notifier for stored settings (checked when they were stored). */
export function notifierOf(
  kind: ChannelKind,
  settings: Record<string, unknown>,
  productVersion: string,
): Notifier {
  switch (kind) {
    case 'email': {
      const s = emailSettingsSchema.parse(settings);
      return new EmailNotifier({
        host: s.host,
        port: s.port,
        security: s.security,
        ...(s.username !== undefined &&
          s.password !== undefined && { auth: { user: s.username, password: s.password } }),
        from: s.from,
        to: s.to,
        tls: { rejectUnauthorized: s.verifyCertificate, ...(s.ca !== undefined && { ca: s.ca }) },
      });
    }
    case 'webhook': {
      const s = webhookSettingsSchema.parse(settings);
      if (s.url === undefined)
        throw new ChannelSettingsError('webhook settings field url: the URL to POST to is required');
      return new WebhookNotifier({
        url: s.url,
        format: s.format,
        ...(s.headers !== undefined && { headers: s.headers }),
        productVersion,
      });
    }
    case 'syslog': {
      const s = syslogSettingsSchema.parse(settings);
      return new SyslogNotifier({
        host: s.host,
        ...(s.port !== undefined && { port: s.port }),
        transport: s.transport,
        facility: s.facility,
        msgFormat: s.msgFormat,
        ...(s.appName !== undefined && { appName: s.appName }),
        productVersion,
        tls: { rejectUnauthorized: s.verifyCertificate, ...(s.ca !== undefined && { ca: s.ca }) },
      });
    }
  }
}
