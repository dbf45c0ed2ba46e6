/**
 * The channel form's values, the checks the page makes before a round trip, and the POST or PUT
 * body they become. Pure. The checks mirror the server's (src/alerts/notify/channel-settings.ts)
 * so an admin learns what to fix beside the field; the server checks everything again and its
 * refusal is shown as it says it. A secret (the SMTP password, the webhook URL and headers) is
 * never shown back: on an edit an empty field leaves it out of the body, and the server keeps
 * the stored one.
 */

import type { Severity } from '../../api/api-types';
import type {
  ChannelBody,
  ChannelKind,
  ChannelView,
  EmailSecurity,
  EmailSettingsBody,
  SyslogFacility,
  SyslogFormat,
  SyslogSettingsBody,
  SyslogTransport,
  WebhookFormat,
  WebhookSettingsBody,
} from './notification-types';

/** What the form holds, text as typed; every kind's part is kept while the kind is switched. */
export interface ChannelForm {
  kind: ChannelKind;
  name: string;
  enabled: boolean;
  minSeverity: Severity;
  /** Alert types ticked; none: all. */
  types: string[];
  maxPerWindow: string;
  windowMinutes: string;
  email: {
    host: string;
    port: string;
    security: EmailSecurity;
    username: string;
    password: string;
    from: string;
    /** Addresses separated by commas (or spaces, semicolons, lines). */
    to: string;
    verifyCertificate: boolean;
    /** A CA set through the API: not edited here, sent back as it was. */
    ca: string | null;
  };
  webhook: {
    url: string;
    format: WebhookFormat;
    /** "Name: value" lines. */
    headers: string;
  };
  syslog: {
    host: string;
    /** Empty: the transport's default. */
    port: string;
    transport: SyslogTransport;
    facility: SyslogFacility;
    msgFormat: SyslogFormat;
    appName: string;
    verifyCertificate: boolean;
    ca: string | null;
  };
}

/** What an edited channel already holds that the form cannot show: its secrets, by presence. */
export interface StoredSecrets {
  passwordSet: boolean;
  /** The masked URL ("https://hooks.example.com/…"). */
  url: string | null;
  /** Header names. */
  headers: string[];
}

export const EMPTY_CHANNEL_FORM: ChannelForm = {
  kind: 'email',
  name: '',
  enabled: true,
  minSeverity: 'medium',
  types: [],
  maxPerWindow: '10',
  windowMinutes: '10',
  email: {
    host: '',
    port: '587',
    security: 'starttls',
    username: '',
    password: '',
    from: '',
    to: '',
    verifyCertificate: true,
    ca: null,
  },
  webhook: { url: '', format: 'json', headers: '' },
  syslog: {
    host: '',
    port: '',
    transport: 'udp',
    facility: 'local0',
    msgFormat: 'text',
    appName: '',
    verifyCertificate: true,
    ca: null,
  },
};

/** The form for editing `channel`: its values, secrets empty (left empty, they are kept). */
export function channelFormOf(channel: ChannelView): ChannelForm {
  const common = {
    ...EMPTY_CHANNEL_FORM,
    kind: channel.kind,
    name: channel.name,
    enabled: channel.enabled,
    minSeverity: channel.minSeverity,
    types: [...channel.types],
    maxPerWindow: String(channel.maxPerWindow),
    windowMinutes: String(channel.windowMinutes),
  };
  switch (channel.kind) {
    case 'email': {
      const s = channel.settings;
      return {
        ...common,
        email: {
          host: s.host,
          port: String(s.port),
          security: s.security,
          username: s.username ?? '',
          password: '',
          from: s.from,
          to: s.to.join(', '),
          verifyCertificate: s.verifyCertificate,
          ca: s.ca ?? null,
        },
      };
    }
    case 'webhook':
      return { ...common, webhook: { url: '', format: channel.settings.format, headers: '' } };
    case 'syslog': {
      const s = channel.settings;
      return {
        ...common,
        syslog: {
          host: s.host,
          port: s.port === undefined ? '' : String(s.port),
          transport: s.transport,
          facility: s.facility,
          msgFormat: s.msgFormat,
          appName: s.appName ?? '',
          verifyCertificate: s.verifyCertificate,
          ca: s.ca ?? null,
        },
      };
    }
  }
}

/** The secrets `channel` holds, for checking an edit of it. */
export function storedSecretsOf(channel: ChannelView): StoredSecrets {
  return {
    passwordSet: channel.kind === 'email' && channel.settings.passwordSet,
    url: channel.kind === 'webhook' ? channel.settings.url : null,
    headers: channel.kind === 'webhook' ? channel.settings.headers : [],
  };
}

/**
 * The PUT body that changes only whether `channel` is on: its public settings as they are, every
 * secret left out (so kept). Built from the view, not through the form's checks: a channel the
 * server took once is switched on or off as it is.
 */
export function enabledBodyOf(channel: ChannelView, enabled: boolean): ChannelBody {
  const common = {
    name: channel.name,
    enabled,
    minSeverity: channel.minSeverity,
    types: [...channel.types],
    maxPerWindow: channel.maxPerWindow,
    windowMinutes: channel.windowMinutes,
  };
  // Field by field: the server's settings schemas are strict, and the view carries extras
  // (passwordSet, the masked URL, header names) that a body must not.
  switch (channel.kind) {
    case 'email': {
      const s = channel.settings;
      return {
        ...common,
        kind: 'email',
        settings: {
          host: s.host,
          port: s.port,
          security: s.security,
          ...(s.username !== undefined && { username: s.username }),
          from: s.from,
          to: [...s.to],
          verifyCertificate: s.verifyCertificate,
          ...(s.ca !== undefined && { ca: s.ca }),
        },
      };
    }
    case 'webhook':
      return { ...common, kind: 'webhook', settings: { format: channel.settings.format } };
    case 'syslog': {
      const s = channel.settings;
      return {
        ...common,
        kind: 'syslog',
        settings: {
          host: s.host,
          ...(s.port !== undefined && { port: s.port }),
          transport: s.transport,
          facility: s.facility,
          msgFormat: s.msgFormat,
          ...(s.appName !== undefined && { appName: s.appName }),
          verifyCertificate: s.verifyCertificate,
          ...(s.ca !== undefined && { ca: s.ca }),
        },
      };
    }
  }
}

/** The fields a problem can be pointed out beside. */
export type ChannelField =
  | 'name'
  | 'maxPerWindow'
  | 'windowMinutes'
  | 'email.host'
  | 'email.port'
  | 'email.security'
  | 'email.username'
  | 'email.password'
  | 'email.from'
  | 'email.to'
  | 'webhook.url'
  | 'webhook.headers'
  | 'syslog.host'
  | 'syslog.port'
  | 'syslog.appName';

export type FieldErrors = Partial<Record<ChannelField, string>>;

export type ChannelCheck = { ok: true; body: ChannelBody } | { ok: false; errors: FieldErrors };

/**
 * The body for the form, or every problem at once by field. `stored` is the edited channel's
 * secrets (null: a new channel, where the password and URL cannot be left to the server).
 */
export function channelBodyOf(form: ChannelForm, stored: StoredSecrets | null): ChannelCheck {
  const errors: FieldErrors = {};
  const name = form.name.trim();
  if (name === '') errors.name = 'Give the channel a name.';
  else if (name.length > 64) errors.name = 'At most 64 characters.';
  const maxPerWindow = wholeNumber(form.maxPerWindow, 1, 1000);
  if (maxPerWindow === null) errors.maxPerWindow = 'A whole number from 1 to 1000.';
  const windowMinutes = wholeNumber(form.windowMinutes, 1, 1440);
  if (windowMinutes === null) errors.windowMinutes = 'A whole number of minutes from 1 to 1440 (a day).';

  const common = {
    name,
    enabled: form.enabled,
    minSeverity: form.minSeverity,
    types: [...form.types],
    maxPerWindow: maxPerWindow ?? 0,
    windowMinutes: windowMinutes ?? 0,
  };
  let body: ChannelBody;
  switch (form.kind) {
    case 'email':
      body = { ...common, kind: 'email', settings: emailSettingsOf(form.email, stored, errors) };
      break;
    case 'webhook':
      body = { ...common, kind: 'webhook', settings: webhookSettingsOf(form.webhook, stored, errors) };
      break;
    case 'syslog':
      body = { ...common, kind: 'syslog', settings: syslogSettingsOf(form.syslog, errors) };
      break;
  }
  return Object.keys(errors).length === 0 ? { ok: true, body } : { ok: false, errors };
}

function emailSettingsOf(
  email: ChannelForm['email'],
  stored: StoredSecrets | null,
  errors: FieldErrors,
): EmailSettingsBody {
  const host = email.host.trim();
  const hostProblem = hostNameProblem(host);
  if (hostProblem !== null) errors['email.host'] = hostProblem;
  const port = wholeNumber(email.port, 1, 65_535);
  if (port === null) errors['email.port'] = 'A port from 1 to 65535 (587 for starttls, 465 for tls).';
  const username = email.username.trim();
  if (username.length > 256) errors['email.username'] = 'At most 256 characters.';
  const password = email.password;
  if (password.length > 1024) errors['email.password'] = 'At most 1024 characters.';
  // The server wants a login whole or not at all, counting a stored password.
  const hasPassword = password !== '' || stored?.passwordSet === true;
  if (username !== '' && !hasPassword) {
    errors['email.password'] = 'Give the password for this user name, or clear the user name.';
  } else if (username === '' && password !== '') {
    errors['email.username'] = 'Give the user name this password is for, or clear the password.';
  } else if (username === '' && stored?.passwordSet === true) {
    errors['email.username'] =
      'A password is stored for this channel and the API keeps it: give the user name, or delete the channel and add it again without a login.';
  }
  const clear = cleartextLoginWarning(email);
  if (clear !== null) errors['email.security'] = clear;
  const from = email.from.trim();
  if (from === '') errors['email.from'] = 'Give the sender address.';
  else if (!isEmailAddress(from)) errors['email.from'] = `${from} is not an email address.`;
  const to = splitList(email.to);
  const badTo = to.filter((a) => !isEmailAddress(a));
  if (to.length === 0) errors['email.to'] = 'Give at least one recipient.';
  else if (badTo.length > 0)
    errors['email.to'] =
      `Not ${badTo.length === 1 ? 'an email address' : 'email addresses'}: ${badTo.join(', ')}.`;
  else if (to.length > 50) errors['email.to'] = 'At most 50 recipients: use a mailing list for more.';
  return {
    host,
    port: port ?? 0,
    security: email.security,
    ...(username !== '' && { username }),
    ...(password !== '' && { password }),
    from,
    to,
    verifyCertificate: email.verifyCertificate,
    ...(email.ca !== null && { ca: email.ca }),
  };
}

function webhookSettingsOf(
  webhook: ChannelForm['webhook'],
  stored: StoredSecrets | null,
  errors: FieldErrors,
): WebhookSettingsBody {
  const url = webhook.url.trim();
  if (url === '') {
    if (stored === null) errors['webhook.url'] = 'Give the URL to POST to.';
  } else {
    const problem = webhookUrlProblem(url);
    if (problem !== null) errors['webhook.url'] = problem;
  }
  const headers = parseHeaderLines(webhook.headers);
  if (!headers.ok) errors['webhook.headers'] = headers.error;
  return {
    ...(url !== '' && { url }),
    format: webhook.format,
    ...(headers.ok && headers.headers !== null && { headers: headers.headers }),
  };
}

function syslogSettingsOf(syslog: ChannelForm['syslog'], errors: FieldErrors): SyslogSettingsBody {
  const host = syslog.host.trim();
  const hostProblem = hostNameProblem(host);
  if (hostProblem !== null) errors['syslog.host'] = hostProblem;
  const portText = syslog.port.trim();
  const port = portText === '' ? undefined : wholeNumber(portText, 1, 65_535);
  if (port === null) errors['syslog.port'] = 'A port from 1 to 65535, or empty for the default.';
  const appName = syslog.appName.trim();
  if (appName !== '' && !/^[!-~]{1,48}$/.test(appName))
    errors['syslog.appName'] = 'Printable ASCII without spaces, at most 48 characters.';
  return {
    host,
    ...(port !== undefined && port !== null && { port }),
    transport: syslog.transport,
    facility: syslog.facility,
    msgFormat: syslog.msgFormat,
    ...(appName !== '' && { appName }),
    verifyCertificate: syslog.verifyCertificate,
    ...(syslog.ca !== null && { ca: syslog.ca }),
  };
}

/**
 * The warning to show while an email channel would send its login in clear (security none to a
 * host other than this one); null when it would not. The server refuses such a channel too.
 */
export function cleartextLoginWarning(
  email: Pick<ChannelForm['email'], 'security' | 'username' | 'host'>,
): string | null {
  const host = email.host.trim();
  if (email.security !== 'none' || email.username.trim() === '' || isLoopback(host)) return null;
  return `Security "none" would send the password in clear to ${host === '' ? 'the server' : host}: use starttls (port 587) or tls (port 465), or a relay on this host (localhost).`;
}

/** Whether `host` is this machine: localhost, 127.0.0.0/8 or ::1 (as the server decides). */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  const parts = host.split('.');
  return (
    parts.length === 4 &&
    parts[0] === '127' &&
    parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255 && (p === '0' || !p.startsWith('0')))
  );
}

/** The usual port of an email security mode, to move the port along when the mode changes. */
export function emailPortFor(security: EmailSecurity, currentPort: string): string {
  const usual: Record<EmailSecurity, string> = { starttls: '587', tls: '465', none: '25' };
  // Only a port that was one of the usual ones moves: a port typed by hand is the admin's.
  return Object.values(usual).includes(currentPort.trim()) ? usual[security] : currentPort;
}

// The server's check (zod's email pattern), so both sides accept the same addresses.
const EMAIL =
  /^(?:[A-Za-z0-9_'+-]+\.)*[A-Za-z0-9_'+-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9][A-Za-z0-9-]*\.)+[A-Za-z]{2,}$/;

export function isEmailAddress(text: string): boolean {
  return text.length <= 254 && EMAIL.test(text);
}

/** Why `url` cannot be a webhook's, or null: http or https, no user info, at most 2048. */
export function webhookUrlProblem(url: string): string | null {
  if (url.length > 2048) return 'At most 2048 characters.';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'Not a URL: give the whole of it, https://…';
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    return 'The URL must start with https:// or http://.';
  if (parsed.username !== '' || parsed.password !== '')
    return 'Credentials in the URL are refused: put them in a header (Authorization: …).';
  return null;
}

/**
 * "Name: value" lines as headers; blank lines are skipped, and no lines at all is null (on an
 * edit: keep the stored headers). A name is letters, digits and dashes, and appears once.
 */
export function parseHeaderLines(
  text: string,
): { ok: true; headers: Record<string, string> | null } | { ok: false; error: string } {
  const headers: Record<string, string> = {};
  const seen = new Set<string>();
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon).trim();
    if (colon < 0 || !/^[A-Za-z0-9-]{1,64}$/.test(name))
      return {
        ok: false,
        error: `Line ${index + 1}: write a header as "Name: value" (a name of letters, digits and dashes).`,
      };
    const value = line.slice(colon + 1).trim();
    if (value.length > 4096)
      return { ok: false, error: `Line ${index + 1}: the value is over 4096 characters.` };
    if (seen.has(name.toLowerCase()))
      return { ok: false, error: `Line ${index + 1}: ${name} is given twice.` };
    seen.add(name.toLowerCase());
    headers[name] = value;
  }
  return { ok: true, headers: seen.size === 0 ? null : headers };
}

/** Why `host` is not a host name or address the server takes, or null. */
function hostNameProblem(host: string): string | null {
  if (host === '') return 'Give the host: a name or an IP address.';
  if (host.length > 253 || !/^[A-Za-z0-9.:_-]+$/.test(host))
    return 'A host name or an IP address, without a port.';
  // The server's pattern lets a colon through for IPv6; "mail.example.com:587" is a port typed
  // into the host, which would only fail at the first delivery.
  if (host.includes(':') && !isIpv6(host))
    return 'A host name or an IP address, without a port (it has its own field).';
  return null;
}

function isIpv6(text: string): boolean {
  if (!/^[0-9A-Fa-f:.]+$/.test(text)) return false;
  try {
    new URL(`http://[${text}]/`);
    return true;
  } catch {
    return false;
  }
}

/** The whole number in `text` within [min, max], or null. */
function wholeNumber(text: string, min: number, max: number): number | null {
  const trimmed = text.trim();
  if (!/^\d{1,7}$/.test(trimmed)) return null;
  const n = Number(trimmed);
  return n >= min && n <= max ? n : null;
}

/** "a@x, b@y; c@z" -> ["a@x", "b@y", "c@z"]. */
export function splitList(text: string): string[] {
  return text.split(/[\s,;]+/).filter((part) => part !== '');
}
