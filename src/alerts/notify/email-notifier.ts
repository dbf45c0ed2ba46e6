/**
 * The email channel: one Notification becomes one multipart (plain text + HTML) message handed
 * to an SMTP server. This is the only file that touches nodemailer; the rest of FlowTrack sees
 * the Notifier interface, and this file sees nodemailer through the small SmtpTransport below.
 *
 * It must never send credentials or a message in clear when the admin asked for TLS, never put
 * an unescaped value into the HTML part, and never let the SMTP password reach an error message
 * (nor the error kept as its cause), whatever the server echoes back.
 */

import { createHash } from 'node:crypto';
import { createTransport } from 'nodemailer';
import type { Alert } from '../alert.js';
import { SEVERITIES, severityRank } from '../alert.js';
import type { DigestSummary, Notification, Notifier } from './notifier.js';
import { NotifyError } from './notifier.js';

export const EMAIL_SECURITY = ['starttls', 'tls', 'none'] as const;
/**
 * How the connection is protected: `starttls` upgrades a plain connection (port 587 or 25) and
 * fails if the server does not offer STARTTLS; `tls` is TLS from the first byte (port 465);
 * `none` never encrypts (a relay on localhost or a trusted segment only).
 */
export type EmailSecurity = (typeof EMAIL_SECURITY)[number];

/** Settings of the email channel (validated by the config schema before they get here). */
export interface EmailNotifierOptions {
  host: string;
  port: number;
  security: EmailSecurity;
  /** Omit for a relay that takes mail without a login. */
  auth?: { user: string; password: string };
  /** Sender address (a bare address; the display name is "FlowTrack (<host>)"). */
  from: string;
  /** At least one recipient address. */
  to: string[];
  /** For servers with a private CA or a self-signed certificate. */
  tls?: {
    /** Default true. False accepts any certificate: an active attacker can then read the password. */
    rejectUnauthorized?: boolean;
    /** PEM certificate(s) to trust for this server in addition to the system store. */
    ca?: string;
  };
  /** Limit on connecting, waiting for the greeting and each socket idle period. Default 10 000. */
  timeoutMs?: number;
}

/** The message this channel hands to its transport: fully composed, values as sent. */
export interface OutgoingEmail {
  from: { name: string; address: string };
  to: string[];
  subject: string;
  text: string;
  html: string;
  /** With the angle brackets, e.g. `<flowtrack.n-42@example.com>`. */
  messageId: string;
  date: Date;
  headers: Record<string, string>;
}

/**
 * The part of an SMTP client this channel uses (wrap what we do not own). `sendMail` rejects with
 * the client's own error (nodemailer's `code` / `responseCode` fields); `rejected` lists the
 * recipients the server refused while it accepted others.
 */
export interface SmtpTransport {
  sendMail(message: OutgoingEmail, signal?: AbortSignal): Promise<{ rejected: string[] }>;
  close(): void;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * The nodemailer transport for `options`.
 *
 * Not pooled, on purpose: a FlowTrack instance sends a few messages an hour (rate limits and
 * digests see to that), so a kept-open connection saves nothing worth having, while the pool
 * would requeue a message on a dropped connection (up to five times) behind the dispatcher's
 * back. The Notifier contract says the dispatcher alone retries and logs each attempt, so every
 * send opens its own connection and reports its own outcome.
 */
export function createSmtpTransport(options: EmailNotifierOptions): SmtpTransport {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const mailer = createTransport({
    host: options.host,
    port: options.port,
    secure: options.security === 'tls',
    // requireTLS sends STARTTLS even when the EHLO reply does not list it, and fails rather than
    // carrying on in clear when the upgrade is refused: a downgrade cannot expose the password.
    requireTLS: options.security === 'starttls',
    // `none` means none: an upgrade the admin did not ask for would fail on a certificate the
    // admin never configured, for a server they chose to reach in clear.
    ignoreTLS: options.security === 'none',
    auth: options.auth ? { user: options.auth.user, pass: options.auth.password } : undefined,
    tls: {
      rejectUnauthorized: options.tls?.rejectUnauthorized ?? true,
      ca: options.tls?.ca,
    },
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    dnsTimeout: timeoutMs,
    // nodemailer's logger would print the SMTP dialogue, AUTH lines included.
    logger: false,
    debug: false,
  });
  return {
    async sendMail(message, signal) {
      const info = await mailer.sendMail({ ...message, signal });
      const rejected: unknown = info.rejected;
      return { rejected: Array.isArray(rejected) ? rejected.map((r: unknown) => String(r)) : [] };
    },
    close() {
      mailer.close();
    },
  };
}

/** Sends notifications by SMTP; see the module comment. */
export class EmailNotifier implements Notifier {
  readonly kind = 'email' as const;
  readonly #options: EmailNotifierOptions;
  readonly #transport: SmtpTransport;
  readonly #secrets: string[];
  readonly #inFlight = new Set<Promise<unknown>>();
  #closed = false;

  /** `transport` is for tests; by default the nodemailer transport of `options`. */
  constructor(options: EmailNotifierOptions, transport?: SmtpTransport) {
    this.#options = options;
    this.#transport = transport ?? createSmtpTransport(options);
    this.#secrets = secretForms(options.auth);
  }

  /** Delivers `n` to every recipient, or throws a NotifyError (see `toNotifyError`). */
  async send(n: Notification, signal?: AbortSignal): Promise<void> {
    if (this.#closed) {
      throw new NotifyError('the email channel is closed (FlowTrack is shutting down)', false);
    }
    const message = composeEmail(n, this.#options);
    const attempt = this.#transport.sendMail(message, signal);
    this.#inFlight.add(attempt);
    let rejected: string[];
    try {
      ({ rejected } = await attempt);
    } catch (err) {
      throw toNotifyError(err, this.#options, this.#secrets);
    } finally {
      this.#inFlight.delete(attempt);
    }
    if (rejected.length > 0) {
      // The others already have it: a retry would send them a second copy, so this is final.
      throw new NotifyError(
        `${where(this.#options)}: the server refused ${rejected.join(', ')} (the other recipients got the message); check notify email "to"`,
        false,
      );
    }
  }

  /**
   * Lets sends under way finish (each is bounded by `timeoutMs`; a caller in a hurry aborts them
   * with the signal it passed to `send`), then releases the transport.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#inFlight]);
    this.#transport.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Composing the message

/**
 * The message for `n`: subject `[FlowTrack] <title>`, the notification's text followed by
 * labelled facts (an alert's fields, or a digest's counts), the same as escaped HTML, and a
 * Message-ID that depends only on `n.id` and the sender, so a retried delivery is recognisable.
 */
export function composeEmail(
  n: Notification,
  options: Pick<EmailNotifierOptions, 'from' | 'to'>,
): OutgoingEmail {
  const subject = `[FlowTrack] ${oneLine(n.title)}`;
  const sections = factSections(n);
  return {
    from: { name: `FlowTrack (${oneLine(n.host)})`, address: options.from },
    to: [...options.to],
    subject,
    text: plainBody(n.text, sections, n.link),
    html: htmlBody(subject, n.text, sections, n.link),
    messageId: messageIdFor(n.id, options.from),
    // The notification's own time, so every attempt carries the same message.
    date: new Date(n.at),
    headers: { 'X-FlowTrack-Notification': oneLine(n.id) },
  };
}

/** A block of labelled lines under an optional heading. */
interface FactSection {
  heading?: string;
  rows: [label: string, value: string][];
}

function factSections(n: Notification): FactSection[] {
  if (n.kind === 'alert' && n.alert) return [alertFacts(n.alert)];
  if (n.kind === 'digest' && n.digest) return digestFacts(n.digest);
  return [];
}

function alertFacts(alert: Alert & { status?: string }): FactSection {
  const rows: [string, string][] = [
    ['Type', alert.type],
    ['Severity', alert.severity],
    ['Source', alert.src ?? '(none)'],
    ['Target', alert.dst ?? '(none)'],
    ['Started', isoFromMicros(alert.start)],
    ['Last seen', isoFromMicros(alert.end)],
  ];
  if (alert.status !== undefined) rows.push(['Status', alert.status]);
  rows.push(['Summary', alert.summary]);
  return { rows };
}

function digestFacts(digest: DigestSummary): FactSection[] {
  const sections: FactSection[] = [
    {
      rows: [
        ['Held back', `${digest.count} more alert updates`],
        ['From', isoFromMillis(digest.fromMs)],
        ['To', isoFromMillis(digest.toMs)],
      ],
    },
    { heading: 'By type', rows: countRows(digest.byType, (a, b) => b[1] - a[1]) },
    {
      heading: 'By severity',
      // Most severe first; a severity this build does not know sorts last.
      rows: countRows(digest.bySeverity, (a, b) => rankOf(b[0]) - rankOf(a[0])),
    },
  ];
  if (digest.examples.length > 0) {
    sections.push({
      heading: 'Examples',
      rows: digest.examples.map((a) => [
        `[${a.severity}] ${a.type}`,
        `${a.src ?? '(none)'} -> ${a.dst ?? '(none)'}: ${a.summary}`,
      ]),
    });
  }
  return sections;
}

function countRows(
  counts: Record<string, number>,
  order: (a: [string, number], b: [string, number]) => number,
): [string, string][] {
  return Object.entries(counts)
    .sort((a, b) => order(a, b) || a[0].localeCompare(b[0]))
    .map(([key, count]) => [key, String(count)]);
}

function rankOf(severity: string): number {
  return (SEVERITIES as readonly string[]).includes(severity)
    ? severityRank(severity as (typeof SEVERITIES)[number])
    : -1;
}

function plainBody(text: string, sections: FactSection[], link: string | undefined): string {
  const parts = [text.trimEnd()];
  for (const section of sections) {
    const width = Math.max(...section.rows.map(([label]) => label.length)) + 2;
    const lines = section.rows.map(([label, value]) => `${`${label}:`.padEnd(width)}${value}`);
    if (section.heading !== undefined) {
      parts.push([`${section.heading}:`, ...lines.map((l) => `  ${l}`)].join('\n'));
    } else {
      parts.push(lines.join('\n'));
    }
  }
  if (link !== undefined) parts.push(`Link: ${link}`);
  return `${parts.join('\n\n')}\n`;
}

function htmlBody(subject: string, text: string, sections: FactSection[], link: string | undefined): string {
  const out = [
    '<!DOCTYPE html>',
    '<html><head><meta charset="utf-8">',
    `<title>${escapeHtml(subject)}</title></head>`,
    '<body style="font-family: sans-serif">',
    `<p>${escapeHtml(text.trimEnd()).replace(/\r?\n/g, '<br>\n')}</p>`,
  ];
  for (const section of sections) {
    if (section.heading !== undefined) out.push(`<h3>${escapeHtml(section.heading)}</h3>`);
    out.push('<table>');
    for (const [label, value] of section.rows) {
      out.push(
        `<tr><th align="left" valign="top">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`,
      );
    }
    out.push('</table>');
  }
  if (link !== undefined) {
    // Only a web address becomes a link: a `javascript:` one would run in some mail clients.
    out.push(
      isWebUrl(link)
        ? `<p><a href="${escapeHtml(link)}">Open in FlowTrack</a></p>`
        : `<p>Link: ${escapeHtml(link)}</p>`,
    );
  }
  out.push('</body></html>');
  return `${out.join('\n')}\n`;
}

/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function isWebUrl(link: string): boolean {
  try {
    const { protocol } = new URL(link);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/** Header values are one line: a CR or LF from a title must not start a header of its own. */
function oneLine(value: string): string {
  return value.replace(/[\r\n]+/g, ' ').trim();
}

function isoFromMicros(micros: number): string {
  return isoFromMillis(micros / 1000);
}

function isoFromMillis(millis: number): string {
  const d = new Date(millis);
  return Number.isFinite(d.getTime()) ? d.toISOString() : String(millis);
}

/**
 * `<flowtrack.<id>@<sender's domain>>`. An id that is not plain letters, digits, `-` and `_` is
 * replaced by its hash: RFC 5322 allows only a dot-atom there, and the result must stay stable.
 */
function messageIdFor(id: string, from: string): string {
  const local = /^[A-Za-z0-9_-]{1,64}$/.test(id)
    ? id
    : `h.${createHash('sha256').update(id).digest('hex').slice(0, 40)}`;
  const domain = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from)?.[1] ?? 'flowtrack.invalid';
  return `<flowtrack.${local}@${domain}>`;
}

// ---------------------------------------------------------------------------------------------
// Failures

/** The fields nodemailer puts on its errors (see its `NodemailerError`), all optional. */
interface SmtpErrorFields {
  code?: unknown;
  responseCode?: unknown;
  originalCode?: unknown;
  command?: unknown;
  response?: unknown;
  permanent?: unknown;
}

/** Codes (nodemailer's `originalCode`) of a certificate the client would not trust. */
const CERTIFICATE_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Failures of the set-up (ours or the server's) that no number of retries can fix. */
const PERMANENT_CODES = new Set([
  'EAUTH',
  'ENOAUTH',
  'ECONFIG',
  'ETLS',
  'EREQUIRETLS',
  'EENVELOPE',
  'EMESSAGE',
  'EMAXRECIPIENTS',
]);

const HINTS: Record<string, string> = {
  EAUTH: 'the server refused the login; check the email user and password',
  ENOAUTH: 'the server wants a login; set the email user and password',
  ETLS: 'TLS could not be set up (is STARTTLS offered? is the certificate trusted? see tls.ca)',
  EREQUIRETLS: 'the server does not support REQUIRETLS',
  EENVELOPE: 'the server refused the sender or the recipients; check "from" and "to"',
  EMESSAGE: 'the server refused the message',
  ECONNECTION: 'the connection failed or was closed by the server',
  ETIMEDOUT: 'the server did not answer in time',
  ESOCKET: 'the connection failed (is the server up, are host and port right?)',
  EDNS: 'the server name could not be resolved',
  EABORT: 'the send was cancelled',
};

/**
 * Maps a failed SMTP delivery to a NotifyError. An SMTP reply decides when there is one: 4xx
 * (and 503, a session-state complaint a new connection clears) is worth another try, any other
 * 5xx is not. Without a reply the code decides: a refused login, a TLS set-up the client will not
 * accept or a refused envelope need the admin; a lost, refused or silent connection may recover.
 * The message and the kept cause have the password (and its base64 forms) cut out.
 */
export function toNotifyError(
  err: unknown,
  server: Pick<EmailNotifierOptions, 'host' | 'port'>,
  secrets: readonly string[],
): NotifyError {
  const fields: SmtpErrorFields = typeof err === 'object' && err !== null ? err : {};
  const code = typeof fields.code === 'string' ? fields.code : undefined;
  const originalCode = typeof fields.originalCode === 'string' ? fields.originalCode : undefined;
  const reply = typeof fields.responseCode === 'number' ? fields.responseCode : undefined;

  let retryable: boolean;
  if (reply !== undefined) {
    retryable = (reply >= 400 && reply < 500) || reply === 503;
  } else if (originalCode !== undefined && CERTIFICATE_CODES.has(originalCode)) {
    retryable = false;
  } else {
    // Unknown codes count as passing trouble: the dispatcher's retries are bounded anyway.
    retryable = code === undefined || !PERMANENT_CODES.has(code);
  }

  const detail = redact(err instanceof Error ? err.message : String(err), secrets);
  let hint: string | undefined;
  if (reply !== undefined && reply >= 400 && reply < 500) {
    hint = 'the server refused for now (a temporary SMTP reply)';
  } else if (originalCode !== undefined && CERTIFICATE_CODES.has(originalCode)) {
    hint = 'the server certificate is not trusted; see tls.ca';
  } else if (code !== undefined) {
    hint = HINTS[code];
  }
  const tag = [code, originalCode, reply].filter((x) => x !== undefined).join(' ');
  const message = `${where(server)}: ${hint ?? 'delivery failed'}${tag ? ` [${tag}]` : ''}: ${detail}`;
  return new NotifyError(message, retryable, { cause: redactedCopy(err, secrets) });
}

function where(options: Pick<EmailNotifierOptions, 'host' | 'port'>): string {
  return `email via ${options.host}:${options.port}`;
}

/** The password as it could come back from a server: as typed, or in an AUTH payload. */
function secretForms(auth: EmailNotifierOptions['auth']): string[] {
  if (auth === undefined || auth.password === '') return [];
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  return [
    auth.password,
    b64(auth.password),
    b64(`\u0000${auth.user}\u0000${auth.password}`),
    b64(`${auth.user}\u0000${auth.user}\u0000${auth.password}`),
  ];
}

function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  // Longest first, so a form that contains another is cut out whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    out = out.split(secret).join('[redacted]');
  }
  return out;
}

/** The library's error with its texts redacted, for `cause` (which a log may print). */
function redactedCopy(err: unknown, secrets: readonly string[]): Error {
  if (!(err instanceof Error)) return new Error(redact(String(err), secrets));
  const copy = new Error(redact(err.message, secrets));
  copy.name = err.name;
  copy.stack = err.stack === undefined ? undefined : redact(err.stack, secrets);
  const fields = err as SmtpErrorFields;
  Object.assign(copy, {
    code: fields.code,
    originalCode: fields.originalCode,
    responseCode: fields.responseCode,
    command: fields.command,
    permanent: fields.permanent,
    response: typeof fields.response === 'string' ? redact(fields.response, secrets) : undefined,
  });
  return copy;
}
