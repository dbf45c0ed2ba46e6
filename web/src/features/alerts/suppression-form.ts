/**
 * Suppression rules as the dashboard makes and shows them: the form's values (the "Add rule"
 * form and "Mute similar…" on an alert share it), the body of POST /api/alert_suppressions, and a
 * rule's state. Pure: the form says what is plainly wrong beside each field before a round trip;
 * the server checks everything again and has the last word.
 */

import { isAddressOrCidr } from '../../lib/ip-address';
import type { SuppressionRule } from './alert-types';

/** The API's longest reason, and its longest rule: a year, in minutes. */
export const MAX_REASON_LENGTH = 500;
export const MAX_MUTE_MINUTES = 525_600;

/** How long a rule mutes; the presets in minutes, or a number of minutes typed in. */
export const MUTE_DURATIONS = [
  { value: '60', label: '1 hour' },
  { value: '1440', label: '24 hours' },
  { value: '10080', label: '7 days' },
  { value: 'custom', label: 'Custom (minutes)…' },
] as const;
export type MuteDuration = (typeof MUTE_DURATIONS)[number]['value'];

/** What the form holds, as typed; `type` '' is any type. */
export interface SuppressionForm {
  type: string;
  src: string;
  dst: string;
  reason: string;
  duration: MuteDuration;
  /** The custom duration, when `duration` is 'custom'. */
  minutes: string;
}

/** A day unless the analyst picks another: long enough for the noise to stop, short enough to be noticed. */
export const EMPTY_SUPPRESSION_FORM: SuppressionForm = {
  type: '',
  src: '',
  dst: '',
  reason: '',
  duration: '1440',
  minutes: '',
};

/** The form of "Mute similar…": this alert's type from this alert's source (or any source). */
export function muteSimilarForm(alert: { type: string; src: string | null }): SuppressionForm {
  return { ...EMPTY_SUPPRESSION_FORM, type: alert.type, src: alert.src ?? '' };
}

/** The body of POST /api/alert_suppressions. */
export interface SuppressionBody {
  type?: string;
  src?: string;
  dst?: string;
  reason: string;
  minutes: number;
}

/** What is wrong, by field; `match` when the rule would match every alert. */
export type SuppressionProblems = Partial<Record<'match' | 'src' | 'dst' | 'reason' | 'minutes', string>>;

export type CheckedSuppression =
  { ok: true; value: SuppressionBody } | { ok: false; problems: SuppressionProblems };

/** The POST body for the form, or what to fix, every problem at once. */
export function suppressionBodyOf(form: SuppressionForm): CheckedSuppression {
  const problems: SuppressionProblems = {};
  const type = form.type.trim();
  const src = form.src.trim();
  const dst = form.dst.trim();
  const reason = form.reason.trim();
  if (type === '' && src === '' && dst === '')
    problems.match = 'Choose a type, a source or a destination: a rule must not mute every alert.';
  if (src !== '' && !isAddressOrCidr(src)) problems.src = addressProblem;
  if (dst !== '' && !isAddressOrCidr(dst)) problems.dst = addressProblem;
  if (reason === '') problems.reason = 'Say why: the next analyst will want to know.';
  else if (reason.length > MAX_REASON_LENGTH)
    problems.reason = `The reason has ${reason.length} characters; keep it to ${MAX_REASON_LENGTH}.`;
  const minutes = minutesOf(form);
  if (minutes === null)
    problems.minutes = `Give the minutes: a whole number from 1 to ${MAX_MUTE_MINUTES} (a year).`;
  if (Object.keys(problems).length > 0 || minutes === null) return { ok: false, problems };
  return {
    ok: true,
    value: {
      ...(type !== '' && { type }),
      ...(src !== '' && { src }),
      ...(dst !== '' && { dst }),
      reason,
      minutes,
    },
  };
}

const addressProblem = 'Not an address or network: 203.0.113.7, 203.0.113.0/24 or 2001:db8::/32.';

function minutesOf(form: SuppressionForm): number | null {
  const text = form.duration === 'custom' ? form.minutes.trim() : form.duration;
  if (!/^[1-9]\d*$/.test(text)) return null;
  const minutes = Number(text);
  return minutes <= MAX_MUTE_MINUTES ? minutes : null;
}

export type RuleState = 'active' | 'expired' | 'removed';

/**
 * Whether the rule mutes alerts at `now`: removed by someone, past its end, or in force. The
 * server's `active` was true when it answered; the page's clock moves on between refreshes.
 */
export function ruleState(
  rule: Pick<SuppressionRule, 'removedAt' | 'expiresAt'> & { active: boolean },
  now: number,
): RuleState {
  if (rule.removedAt !== null) return 'removed';
  return rule.active && rule.expiresAt > now ? 'active' : 'expired';
}

/** What a rule matches, in a few words: "port_scan from 192.0.2.0/24", "any type to 198.51.100.1". */
export function ruleMatchText(rule: Pick<SuppressionRule, 'type' | 'src' | 'dst'>): string {
  const parts = [rule.type ?? 'any type'];
  if (rule.src !== null) parts.push(`from ${rule.src}`);
  if (rule.dst !== null) parts.push(`to ${rule.dst}`);
  return parts.join(' ');
}
