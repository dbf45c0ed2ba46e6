/**
 * The webhook channel: a Notification POSTed as JSON to an HTTP(S) endpoint, either as
 * FlowTrack's own documented object or shaped for a Slack incoming webhook or a Microsoft Teams
 * workflow (Adaptive Card). Builds bodies with pure exported functions; sends with Node's fetch.
 *
 * It must never put the webhook URL's path, query or credentials (where Slack, Teams and most
 * services keep the token) or the extra headers' values into an error message or a log: only
 * scheme://host[:port] is ever shown. It never follows redirects and never retries on its own.
 */

import { FlowTrackError } from '../../util/errors.js';
import type { Alert } from '../alert.js';
import { NotifyError, type Notification, type Notifier } from './notifier.js';

export type WebhookFormat = 'json' | 'slack' | 'teams';

export interface WebhookNotifierOptions {
  /** http: or https: only. */
  url: string;
  /** Default 'json'. */
  format?: WebhookFormat;
  /** Extra headers, e.g. Authorization. Their values are never shown. */
  headers?: Record<string, string>;
  /** Whole request (connect, send, response) at most; default 10 s. */
  timeoutMs?: number;
  /** FlowTrack's version, for the User-Agent. */
  productVersion?: string;
}

/** The `alert` of a JSON body: an Alert's headline fields, times as ISO 8601. */
export interface WebhookAlert {
  id: string;
  type: string;
  severity: string;
  /** The alert's status when known (e.g. 'active', 'resolved'), else null. */
  status: string | null;
  src: string | null;
  dst: string | null;
  /** First and last packet time of the evidence. */
  start: string;
  end: string;
  summary: string;
  counters: Record<string, number>;
}

/** The `digest` of a JSON body. */
export interface WebhookDigest {
  count: number;
  from: string;
  to: string;
  byType: Record<string, number>;
  bySeverity: Record<string, number>;
  examples: Omit<WebhookAlert, 'status' | 'counters'>[];
}

/**
 * The body of format 'json', version 1. Fields are only ever added, with `version` raised when
 * one changes meaning; `link`, `alert` and `digest` are absent (not null) when they do not apply.
 */
export interface WebhookJsonBody {
  version: 1;
  id: string;
  kind: Notification['kind'];
  title: string;
  text: string;
  /** When the notification was made (ISO 8601, UTC). */
  at: string;
  host: string;
  link?: string;
  alert?: WebhookAlert;
  digest?: WebhookDigest;
}

/** Alert times are microseconds since the epoch. */
function isoFromMicros(us: number): string {
  return isoFromMillis(us / 1000);
}

function isoFromMillis(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString();
}

function alertHeadline(alert: Alert): Omit<WebhookAlert, 'status' | 'counters'> {
  return {
    id: alert.id,
    type: alert.type,
    severity: alert.severity,
    src: alert.src,
    dst: alert.dst,
    start: isoFromMicros(alert.start),
    end: isoFromMicros(alert.end),
    summary: alert.summary,
  };
}

/** FlowTrack's own body (format 'json'). */
export function webhookJsonBody(n: Notification): WebhookJsonBody {
  const body: WebhookJsonBody = {
    version: 1,
    id: n.id,
    kind: n.kind,
    title: n.title,
    text: n.text,
    at: isoFromMillis(n.at),
    host: n.host,
  };
  if (n.link !== undefined) body.link = n.link;
  if (n.alert) {
    body.alert = {
      ...alertHeadline(n.alert),
      status: n.alert.status ?? null,
      counters: { ...n.alert.counters },
    };
  }
  if (n.digest) {
    const d = n.digest;
    body.digest = {
      count: d.count,
      from: isoFromMillis(d.fromMs),
      to: isoFromMillis(d.toMs),
      byType: { ...d.byType },
      bySeverity: { ...d.bySeverity },
      examples: d.examples.map(alertHeadline),
    };
  }
  return body;
}

/** Slack's mrkdwn needs exactly these three escaped (api.slack.com, "Formatting text for app surfaces"). */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Slack limits: a section's text 3000 characters, a field 2000, `text` is the notification fallback. */
function clip(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** Facts shown beside the text in Slack and Teams. */
function facts(n: Notification): [string, string][] {
  const out: [string, string][] = [];
  if (n.alert) {
    out.push(['Severity', n.alert.severity], ['Type', n.alert.type]);
    if (n.alert.src !== null) out.push(['Source', n.alert.src]);
    if (n.alert.dst !== null) out.push(['Target', n.alert.dst]);
    if (n.alert.status !== undefined) out.push(['Status', n.alert.status]);
    out.push(['Started', isoFromMicros(n.alert.start)]);
  }
  if (n.digest) out.push(['Held back', String(n.digest.count)]);
  out.push(['Host', n.host]);
  return out;
}

/** A Slack incoming-webhook message: `text` (the fallback for notifications) and Block Kit blocks. */
export function webhookSlackBody(n: Notification): { text: string; blocks: unknown[] } {
  const blocks: unknown[] = [
    {
      type: 'section',
      text: { type: 'mrkdwn', text: clip(`*${escapeSlack(n.title)}*\n${escapeSlack(n.text)}`, 3000) },
    },
    {
      type: 'section',
      // Slack allows at most 10 fields.
      fields: facts(n)
        .slice(0, 10)
        .map(([name, value]) => ({ type: 'mrkdwn', text: clip(`*${name}*\n${escapeSlack(value)}`, 2000) })),
    },
  ];
  if (n.link !== undefined) {
    // Inside <url|label> a '|' or '>' in the URL would end it early; percent-encoding keeps the URL.
    const url = n.link.replace(/\|/g, '%7C').replace(/>/g, '%3E').replace(/</g, '%3C');
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `<${url}|Open in FlowTrack>` } });
  }
  return { text: clip(escapeSlack(n.title), 3000), blocks };
}

/**
 * A Microsoft Teams message: an Adaptive Card 1.4 in a message attachment, what Teams' Workflows
 * ("Post to a channel when a webhook request is received") webhooks accept.
 */
export function webhookTeamsBody(n: Notification): {
  type: 'message';
  attachments: { contentType: string; contentUrl: null; content: Record<string, unknown> }[];
} {
  const body: unknown[] = [
    { type: 'TextBlock', text: n.title, weight: 'Bolder', size: 'Medium', wrap: true },
    // Adaptive Card TextBlocks read Markdown, where one newline is no line break: one paragraph per line.
    { type: 'TextBlock', text: n.text.replace(/\r\n|\r|\n/g, '\n\n'), wrap: true },
    { type: 'FactSet', facts: facts(n).map(([title, value]) => ({ title, value })) },
  ];
  const content: Record<string, unknown> = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body,
  };
  if (n.link !== undefined)
    content.actions = [{ type: 'Action.OpenUrl', title: 'Open in FlowTrack', url: n.link }];
  return {
    type: 'message',
    attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content }],
  };
}

/** The body for `format`. */
export function webhookBody(n: Notification, format: WebhookFormat): unknown {
  switch (format) {
    case 'json':
      return webhookJsonBody(n);
    case 'slack':
      return webhookSlackBody(n);
    case 'teams':
      return webhookTeamsBody(n);
  }
}

/** RFC 9110 §5.1 token: what a header name may be. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers the notifier owns: a receiver's deduplication and parsing depend on them. */
const OWN_HEADERS = new Set(['content-type', 'x-flowtrack-notification', 'content-length', 'host']);
/** An error response's body is quoted this far at most. */
const SNIPPET_CHARS = 200;

/**
 * POSTs notifications to one webhook. 2xx is delivered; 408, 429, 5xx, network errors and
 * timeouts are retryable NotifyErrors; any other status (a 4xx, a 3xx: redirects are not
 * followed) is not, since the same request would fail the same way.
 */
export class WebhookNotifier implements Notifier {
  readonly kind = 'webhook';
  /** scheme://host[:port]: all of the URL that may be shown. */
  readonly target: string;
  readonly #url: URL;
  readonly #format: WebhookFormat;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;
  /** Parts of the URL that may be secret, to blank out of a receiver's error text. */
  readonly #secrets: string[];

  constructor(options: WebhookNotifierOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      // The URL itself is not quoted: it may hold a token.
      throw new FlowTrackError(
        'BAD_OPTION',
        'webhook url is not a valid URL: give an absolute http(s):// URL',
      );
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new FlowTrackError(
        'BAD_OPTION',
        `webhook url must start with http:// or https://, not ${url.protocol}//: give the URL the service issued`,
      );
    }
    const format = options.format ?? 'json';
    // Config may come from YAML, where the type system has no say.
    if (!['json', 'slack', 'teams'].includes(format)) {
      throw new FlowTrackError(
        'BAD_OPTION',
        `webhook format ${JSON.stringify(format)}: use json, slack or teams`,
      );
    }
    const timeoutMs = options.timeoutMs ?? 10_000;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new FlowTrackError('BAD_OPTION', `webhook timeoutMs ${timeoutMs} must be a positive number`);
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      // Checked here because fetch's own error would quote the value (an Authorization token).
      if (!HEADER_NAME.test(name))
        throw new FlowTrackError('BAD_OPTION', `webhook header name "${name}" is invalid`);
      if (/[\r\n\0]/.test(value)) {
        throw new FlowTrackError('BAD_OPTION', `webhook header ${name}: the value holds a line break or NUL`);
      }
      if (OWN_HEADERS.has(name.toLowerCase())) {
        throw new FlowTrackError(
          'BAD_OPTION',
          `webhook header ${name} is set by FlowTrack and cannot be replaced`,
        );
      }
      headers[name] = value;
    }
    // fetch refuses a URL with user:password@ and quotes the whole URL in its error; HTTP basic
    // auth is what such a URL means, so it travels as a header instead.
    const username = safeDecode(url.username);
    const password = safeDecode(url.password);
    if (username !== '' || password !== '') {
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')) {
        headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
      }
      url.username = '';
      url.password = '';
    }
    this.#url = url;
    this.#format = format;
    this.#timeoutMs = timeoutMs;
    this.#headers = {
      'user-agent':
        options.productVersion === undefined ? 'FlowTrack' : `FlowTrack/${options.productVersion}`,
      ...headers,
      'content-type': 'application/json',
    };
    this.target = `${url.protocol}//${url.host}`;
    this.#secrets = [
      url.href,
      url.pathname + url.search,
      url.search.slice(1),
      ...url.pathname.split('/'),
      ...[...url.searchParams.values()],
      username,
      password,
      ...Object.values(headers),
    ]
      // Short pieces ('v1', 'api') are no secret, and blanking them would garble the text.
      .filter((s) => s.length >= 6)
      .sort((a, b) => b.length - a.length);
  }

  async send(n: Notification, signal?: AbortSignal): Promise<void> {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const combined = signal ? AbortSignal.any([timeout, signal]) : timeout;
    const where = `webhook POST ${this.target}`;
    let response: Response;
    try {
      response = await fetch(this.#url, {
        method: 'POST',
        headers: { ...this.#headers, 'x-flowtrack-notification': n.id },
        body: JSON.stringify(webhookBody(n, this.#format)),
        // A redirect would carry the body (and Authorization) to wherever it points; the admin
        // should configure the final URL instead.
        redirect: 'manual',
        signal: combined,
      });
    } catch (err) {
      throw this.#failure(where, err, timeout, signal);
    }
    if (response.ok) {
      // Not read: the answer is only drained so the connection can be reused.
      await response.body?.cancel().catch(() => undefined);
      return;
    }
    let snippet: string;
    try {
      snippet = this.#redact(await readSnippet(response));
    } catch {
      // The status says enough; a body that times out while read adds nothing.
      snippet = '';
    }
    const status = response.status;
    const retryable = status === 408 || status === 429 || status >= 500;
    const hint =
      status >= 300 && status < 400 ? ' (redirects are not followed: configure the URL it redirects to)' : '';
    throw new NotifyError(
      `${where}: HTTP ${status}${hint}${snippet === '' ? '' : `: ${JSON.stringify(snippet)}`}`,
      retryable,
    );
  }

  /** fetch keeps no pool of its own to close here (undici's global dispatcher is shared). */
  close(): Promise<void> {
    return Promise.resolve();
  }

  #failure(where: string, err: unknown, timeout: AbortSignal, signal: AbortSignal | undefined): NotifyError {
    if (timeout.aborted) {
      return new NotifyError(`${where}: no answer within ${this.#timeoutMs} ms`, true, { cause: err });
    }
    if (signal?.aborted) return new NotifyError(`${where}: aborted`, true, { cause: err });
    // fetch throws TypeError('fetch failed') with the system error (ECONNREFUSED...) as cause.
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
    const code = (cause as NodeJS.ErrnoException | null)?.code;
    const detail = cause instanceof Error ? cause.message : String(cause);
    return new NotifyError(
      `${where}: network error: ${this.#redact(detail)}${code && !detail.includes(code) ? ` (${code})` : ''}`,
      true,
      { cause: err },
    );
  }

  #redact(text: string): string {
    let out = text;
    for (const secret of this.#secrets) out = out.split(secret).join('[redacted]');
    return out;
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The first characters of an error response's body, read no further (a receiver may send a lot). */
async function readSnippet(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const decoder = new TextDecoder();
  let text = '';
  try {
    while (text.length < SNIPPET_CHARS) {
      const { done, value } = await (reader.read() as Promise<{ done: boolean; value?: Uint8Array }>);
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, SNIPPET_CHARS);
}
