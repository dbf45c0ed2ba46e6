/**
 * The security log: one JSON line per event an admin investigating an attack wants to see
 * (failed logins, lock-outs, bad tokens, refused roles, rate limits, injection attempts, use of
 * the setup token), each with who, from where, on which route and why.
 *
 * It must never write a password or a token. Events carry no field for them, a record is built
 * field by field (so an extra property on the event is not written), the value of a bad input is
 * written only as a short escaped sample, and the route loses its query string, where tokens
 * travel on WebSocket URLs.
 */

import { scrubSecrets } from './log-files.js';

/** The part of pino's logger the security log uses; a pino Logger satisfies it. */
export interface SecurityLogWriter {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
}

/** The request an event happened on. */
export interface SecurityRequest {
  /** Client address as the server sees it (after `trustProxy`). */
  ip: string;
  method: string;
  /** Route or URL path; a query string is removed. */
  route: string;
  /** User name when known (the name tried, for a failed login). */
  user?: string;
}

/** Why a token was refused. */
export type TokenProblem =
  | 'missing'
  | 'malformed'
  | 'expired'
  | 'tampered'
  | 'alg_none'
  | 'wrong_type'
  | 'unknown_user'
  | 'revoked_refresh'
  | 'refresh_reuse';

/** Every kind of security event, with what each one records besides the request. */
export type SecurityEvent = SecurityRequest &
  (
    | { kind: 'login_failed'; reason: 'unknown_user' | 'bad_password' | 'disabled_user' | 'locked' }
    | { kind: 'login_locked_out'; failures: number; lockedForSeconds: number }
    | { kind: 'token_invalid'; tokenType: 'access' | 'refresh' | 'setup'; reason: TokenProblem }
    | { kind: 'forbidden'; role: string; required: string }
    | { kind: 'rate_limited'; scope: 'requests' | 'login'; limitPerMinute: number }
    | {
        kind: 'bad_input';
        /** The request field that held it (`body.name`, `query.host`, ...). */
        field: string;
        /** The value as received: only a truncated escaped sample is written. */
        value: unknown;
        reason: string;
      }
    | { kind: 'setup_token_used' }
  );

export type SecurityEventKind = SecurityEvent['kind'];

/** Every kind, for API filters and documentation. */
export const SECURITY_EVENT_KINDS: readonly SecurityEventKind[] = [
  'login_failed',
  'login_locked_out',
  'token_invalid',
  'forbidden',
  'rate_limited',
  'bad_input',
  'setup_token_used',
];

/** Characters of a bad input's value kept in the sample (before escaping). */
export const SAMPLE_CHARS = 64;

/** The line written for an event (besides pino's time, level and msg). */
export interface SecurityRecord {
  kind: SecurityEventKind;
  ip: string;
  method: string;
  route: string;
  user?: string;
  reason: string;
  [detail: string]: string | number | undefined;
}

/** Writes security events to a log (normally the `security` log file). */
export class SecurityLog {
  constructor(private readonly writer: SecurityLogWriter) {}

  /** Writes one event; never throws for odd input. */
  record(event: SecurityEvent): void {
    const record = toRecord(event);
    const message = `${record.kind}: ${record.reason}`;
    if (event.kind === 'setup_token_used') this.writer.info(record, message);
    else this.writer.warn(record, message);
  }
}

/** Builds the record written for `event`, field by field. */
export function toRecord(event: SecurityEvent): SecurityRecord {
  const base = {
    ip: sampleText(event.ip, 64),
    method: sampleText(event.method.toUpperCase(), 16),
    route: sampleText(event.route.replace(/[?#].*$/s, ''), 200),
    ...(event.user === undefined ? {} : { user: sampleText(event.user, SAMPLE_CHARS) }),
  };
  switch (event.kind) {
    case 'login_failed':
      return { kind: event.kind, ...base, reason: event.reason };
    case 'login_locked_out':
      return {
        kind: event.kind,
        ...base,
        reason: 'too_many_failures',
        failures: event.failures,
        lockedForSeconds: event.lockedForSeconds,
      };
    case 'token_invalid':
      return { kind: event.kind, ...base, reason: event.reason, tokenType: event.tokenType };
    case 'forbidden':
      return {
        kind: event.kind,
        ...base,
        reason: 'role',
        role: sampleText(event.role, 32),
        required: sampleText(event.required, 32),
      };
    case 'rate_limited':
      return { kind: event.kind, ...base, reason: event.scope, limitPerMinute: event.limitPerMinute };
    case 'bad_input':
      return {
        kind: event.kind,
        ...base,
        reason: sampleText(event.reason, 200),
        field: sampleText(event.field, 100),
        sample: sampleValue(event.value),
      };
    case 'setup_token_used':
      return { kind: event.kind, ...base, reason: 'first_admin_created' };
  }
}

/**
 * A short, printable rendering of an untrusted value: at most `max` characters of it, control and
 * non-ASCII characters escaped (so a sample cannot forge log lines or hide in look-alike
 * letters), credentials scrubbed, and a note of how much was cut.
 */
export function sampleValue(value: unknown, max = SAMPLE_CHARS): string {
  let text: string;
  if (typeof value === 'string') text = value;
  else {
    try {
      // JSON.stringify returns undefined for undefined, functions and symbols, whatever its type says.
      const json = JSON.stringify(value) as string | undefined;
      text = json ?? String(value);
    } catch {
      text = Object.prototype.toString.call(value);
    }
  }
  return sampleText(text, max);
}

function sampleText(text: string, max: number): string {
  // Scrub before cutting, so a token cut in half cannot slip past the pattern.
  const scrubbed = scrubSecrets(text);
  const cut = scrubbed.length > max;
  const kept = scrubbed.slice(0, max);
  const escaped = kept.replace(/[^\x20-\x7e]|\\/g, (c) => {
    if (c === '\\') return '\\\\';
    const code = c.charCodeAt(0);
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
  return cut ? `${escaped}…(${scrubbed.length} chars)` : escaped;
}
