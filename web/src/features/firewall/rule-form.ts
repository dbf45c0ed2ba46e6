/**
 * The add and edit forms' values and the API bodies they become. Pure: the page's checks catch
 * what is plainly missing before a round trip; the server checks everything again and its
 * refusal (a bad address, an unsafe block) is shown as it says it.
 */

import type { FirewallRule, NewRuleBody, PortProtocol, RuleChangeBody, RuleKind } from './firewall-types';

/** The expiry presets; presets go as seconds from the server's now, custom as a time. */
export const EXPIRY_CHOICES = [
  { value: 'never', label: 'None (until removed)' },
  { value: '10m', label: '10 minutes' },
  { value: '1h', label: '1 hour' },
  { value: '24h', label: '24 hours' },
  { value: 'custom', label: 'Until a date and time…' },
] as const;
export type ExpiryChoice = (typeof EXPIRY_CHOICES)[number]['value'];

const PRESET_SECONDS: Record<'10m' | '1h' | '24h', number> = { '10m': 600, '1h': 3600, '24h': 86_400 };

/** What the add form holds; text as typed. */
export interface RuleForm {
  kind: RuleKind;
  source: string;
  protocol: PortProtocol;
  port: string;
  interface: string;
  comment: string;
  expiry: ExpiryChoice;
  /** A datetime-local value, "2025-06-15T14:30" in the browser's time zone. */
  until: string;
}

export const EMPTY_RULE_FORM: RuleForm = {
  kind: 'block',
  source: '',
  protocol: 'tcp',
  port: '',
  interface: '',
  comment: '',
  expiry: 'never',
  until: '',
};

export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

/** Whether the kind names a source (block, allow) rather than a local port (close, open). */
export function bySource(kind: RuleKind): boolean {
  return kind === 'block' || kind === 'allow';
}

/** The POST body for the form, or what to fix first. */
export function ruleBodyOf(form: RuleForm, now: number): Checked<NewRuleBody> {
  const body: NewRuleBody = { kind: form.kind };
  if (bySource(form.kind)) {
    const source = form.source.trim();
    if (source === '') return fail('Give the source: an address (203.0.113.7) or a prefix (203.0.113.0/24).');
    body.source = source;
  } else {
    const port = Number(form.port.trim());
    if (!/^\d+$/.test(form.port.trim()) || port < 1 || port > 65_535)
      return fail('Give the port: a number from 1 to 65535.');
    body.protocol = form.protocol;
    body.port = port;
  }
  const iface = form.interface.trim();
  if (iface !== '') body.interface = iface;
  const comment = form.comment.trim();
  if (comment !== '') body.comment = comment;
  const expiry = expiryOf(form.expiry, form.until, now);
  if (!expiry.ok) return expiry;
  if (expiry.value === null) return { ok: true, value: body };
  return {
    ok: true,
    value: {
      ...body,
      ...('seconds' in expiry.value
        ? { expiresInSeconds: expiry.value.seconds }
        : { expiresAt: expiry.value.at }),
    },
  };
}

/** The edit dialog's values: the comment, and the expiry kept unless chosen anew. */
export interface EditForm {
  comment: string;
  expiry: 'keep' | ExpiryChoice;
  until: string;
}

export function editFormOf(rule: Pick<FirewallRule, 'comment'>): EditForm {
  return { comment: rule.comment ?? '', expiry: 'keep', until: '' };
}

/**
 * The PATCH body for the edit form (only what changed), null when nothing did, or what to fix.
 * A preset counts from the browser's now: PATCH takes a time, not a span.
 */
export function ruleChangeOf(
  rule: Pick<FirewallRule, 'comment' | 'expiresAt'>,
  form: EditForm,
  now: number,
): Checked<RuleChangeBody | null> {
  const change: RuleChangeBody = {};
  const comment = form.comment.trim() === '' ? null : form.comment.trim();
  if (comment !== rule.comment) change.comment = comment;
  if (form.expiry !== 'keep') {
    const expiry = expiryOf(form.expiry, form.until, now);
    if (!expiry.ok) return expiry;
    const expiresAt =
      expiry.value === null
        ? null
        : 'seconds' in expiry.value
          ? now + expiry.value.seconds * 1000
          : expiry.value.at;
    if (expiresAt !== rule.expiresAt) change.expiresAt = expiresAt;
  }
  return { ok: true, value: Object.keys(change).length === 0 ? null : change };
}

/** "2025-06-15T14:30" (a datetime-local value) as epoch ms in the browser's zone; null if malformed. */
export function parseLocalDateTime(value: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value);
  if (!m) return null;
  // The seconds are optional in the input's value: an absent group is undefined, not "".
  const part = (i: number): number => Number(m[i] ?? 0);
  const [y, mo, d, h, mi, s] = [part(1), part(2), part(3), part(4), part(5), part(6)];
  const date = new Date(y, mo - 1, d, h, mi, s);
  // new Date rolls 2025-02-30 over into March: refuse it rather than block until another day.
  if (date.getFullYear() !== y || date.getMonth() !== mo - 1 || date.getDate() !== d) return null;
  return date.getTime();
}

/** Epoch ms as a datetime-local value in the browser's zone, to the minute (the input's `min`). */
export function toLocalDateTime(ms: number): string {
  const date = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}T${two(date.getHours())}:${two(date.getMinutes())}`;
}

type Expiry = null | { seconds: number } | { at: number };

function expiryOf(choice: ExpiryChoice, until: string, now: number): Checked<Expiry> {
  if (choice === 'never') return { ok: true, value: null };
  if (choice !== 'custom') return { ok: true, value: { seconds: PRESET_SECONDS[choice] } };
  const at = parseLocalDateTime(until);
  if (at === null) return fail('Give the date and time the rule ends.');
  if (at <= now) return fail('The end must be in the future.');
  return { ok: true, value: { at } };
}

function fail(error: string): { ok: false; error: string } {
  return { ok: false, error };
}
