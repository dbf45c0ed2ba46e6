/**
 * How the Firewall page says what a rule does, when it ends and who made it. Pure: `now` and the
 * time zone are parameters, so tests do not depend on the clock or the machine.
 */

import { formatTimestamp } from '../../lib/format';
import type { DryRunAction, FirewallRule, RuleKind } from './firewall-types';

/** The author of automatic blocks, as the server writes it (src/respond/firewall-service.ts). */
export const POLICY_AUTHOR = 'policy';

const MINUTE = 60_000;

/** A span to the minute: "5 min", "1 h", "1 h 30 min", "2 d 3 h"; under a minute "under a minute". */
export function formatSpan(ms: number): string {
  const minutes = Math.round(Math.abs(ms) / MINUTE);
  if (minutes === 0) return 'under a minute';
  const [d, h, m] = [Math.floor(minutes / 1440), Math.floor((minutes % 1440) / 60), minutes % 60];
  if (d > 0) return h > 0 && d < 7 ? `${d} d ${h} h` : `${d} d`;
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
  return `${m} min`;
}

/** `at` relative to `now`: "in 10 min", "3 h ago", "just now". */
export function formatRelative(at: number, now: number): string {
  const diff = at - now;
  if (Math.abs(diff) < 30_000) return diff > 0 ? 'in under a minute' : 'just now';
  return diff > 0 ? `in ${formatSpan(diff)}` : `${formatSpan(diff)} ago`;
}

/**
 * A past event relative to `now`: "3 min ago", "just now". The page's clock ticks coarsely, so an
 * event fetched since its last tick may look a little ahead of it: that is "just now" too.
 */
export function formatAgo(at: number, now: number): string {
  return formatRelative(Math.min(at, now), now);
}

/** When a rule ends: relative ("in 10 min", "never") and absolute (null for never). */
export function expiryText(
  rule: Pick<FirewallRule, 'expiresAt'>,
  now: number,
  timeZone?: string,
): { relative: string; absolute: string | null } {
  if (rule.expiresAt === null) return { relative: 'never', absolute: null };
  const relative = formatRelative(rule.expiresAt, now);
  return {
    relative: rule.expiresAt <= now ? `ended ${relative}` : relative,
    absolute: formatTimestamp(rule.expiresAt, 'minute', timeZone),
  };
}

/** Whether the rule is enforced at `now` (not lifted, not past its expiry). */
export function isInForce(rule: Pick<FirewallRule, 'removedAt' | 'expiresAt'>, now: number): boolean {
  return rule.removedAt === null && (rule.expiresAt === null || rule.expiresAt > now);
}

/** What the rule matches: its source, or its port as "22/tcp" (the server's own spelling). */
export function ruleTarget(rule: Pick<FirewallRule, 'kind' | 'source' | 'protocol' | 'port'>): string {
  if (rule.kind === 'block' || rule.kind === 'allow') return rule.source ?? '?';
  return `${rule.port ?? '?'}/${rule.protocol ?? '?'}`;
}

const VERB: Record<RuleKind, string> = { block: 'Block', allow: 'Allow', close: 'Close', open: 'Open' };

/** The rule in a few words: "Block 203.0.113.7 on eth0", "Close 23/tcp". */
export function ruleSummary(
  rule: Pick<FirewallRule, 'kind' | 'source' | 'protocol' | 'port' | 'interface'>,
): string {
  return `${VERB[rule.kind]} ${ruleTarget(rule)}${onInterface(rule.interface)}`;
}

/** What stops being enforced when the rule is removed, for the confirmation. */
export function liftEffect(
  rule: Pick<FirewallRule, 'kind' | 'source' | 'protocol' | 'port' | 'interface'>,
): string {
  const target = ruleTarget(rule);
  const on = onInterface(rule.interface);
  switch (rule.kind) {
    case 'block':
      return `Traffic from ${target}${on} will no longer be dropped, unless another rule still blocks it.`;
    case 'allow':
      return `${target} will no longer be exempt from blocking: automatic blocking and admins may block it again.`;
    case 'close':
      return `Port ${target}${on} will accept connections again, unless another rule still closes it.`;
    case 'open':
      return `Port ${target} will no longer be held open: a rule that closes it will apply again.`;
  }
}

/** Who made the rule: a user name, or "automatic" for the blocking policy. */
export function createdByText(createdBy: string): string {
  return createdBy === POLICY_AUTHOR ? 'automatic' : createdBy;
}

/** How a rule left force: "expired", "lifted by ada", "not applied". */
export function removalText(removedBy: string | null): string {
  if (removedBy === null) return 'lifted';
  if (removedBy === 'expired') return 'expired';
  if (removedBy === 'not applied') return 'not applied (the firewall refused it)';
  return `lifted by ${removedBy}`;
}

const KIND_ORDER: Record<RuleKind, number> = { block: 0, allow: 1, close: 2, open: 3 };

/**
 * The order the table shows: rules in force first, blocks before the rest, newest first; then
 * the rest of the history, latest lifted or expired first.
 */
export function sortRules(rules: readonly FirewallRule[], now: number): FirewallRule[] {
  const ended = (r: FirewallRule): number => r.removedAt ?? r.expiresAt ?? 0;
  return [...rules].sort((a, b) => {
    const forceA = isInForce(a, now);
    const forceB = isInForce(b, now);
    if (forceA !== forceB) return forceA ? -1 : 1;
    if (forceA) return KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || b.createdAt - a.createdAt || b.id - a.id;
    return ended(b) - ended(a) || b.id - a.id;
  });
}

/** A duration as the config writes it ("10m", "24h", "permanent") in words: "10 min", "24 h". */
export function durationLabel(text: string): string {
  const m = /^(\d+)([smhd])$/.exec(text);
  if (!m) return text;
  const unit = { s: 's', m: 'min', h: 'h', d: m[1] === '1' ? 'day' : 'days' }[m[2] as 's' | 'm' | 'h' | 'd'];
  return `${m[1]} ${unit}`;
}

/** 1 -> "1st", 2 -> "2nd", 11 -> "11th", 23 -> "23rd". */
export function ordinal(n: number): string {
  const tens = n % 100;
  const suffix =
    tens >= 11 && tens <= 13
      ? 'th'
      : (({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th');
  return `${n}${suffix}`;
}

/**
 * The escalation as steps: how long the first, second, … block of one source lasts; the last
 * duration applies to every further block, so its step says "and later".
 */
export function escalationSteps(durations: readonly string[]): { when: string; lasts: string }[] {
  if (durations.length === 1) return [{ when: 'Every block', lasts: durationLabel(durations[0]!) }];
  return durations.map((d, i) => ({
    when: i === durations.length - 1 ? `${ordinal(i + 1)} and later` : ordinal(i + 1),
    lasts: durationLabel(d),
  }));
}

const DRY_RUN_VERB: Record<DryRunAction['action'], string> = {
  apply: 'Load the whole rule set',
  block: 'Block',
  unblock: 'Unblock',
  flush: "Remove FlowTrack's rules",
};

/** A dry-run change in words: "Block 203.0.113.7", "Load the whole rule set: 203.0.113.7, 23/tcp". */
export function dryRunText(action: Pick<DryRunAction, 'action' | 'detail'>): string {
  const verb = DRY_RUN_VERB[action.action];
  if (action.detail === '') return action.action === 'apply' ? `${verb} (no rules)` : verb;
  return action.action === 'apply' ? `${verb}: ${action.detail}` : `${verb} ${action.detail}`;
}

/** The alert page of an alert id (ids may hold ':' and '.'). */
export function alertPath(alertId: string): string {
  return `/alerts/${encodeURIComponent(alertId)}`;
}

function onInterface(name: string | null): string {
  return name === null ? '' : ` on ${name}`;
}
