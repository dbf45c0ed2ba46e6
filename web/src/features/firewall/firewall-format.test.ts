/** The Firewall page's wording of rules, times and the policy, in a fixed time zone and clock. */

import { describe, expect, it } from 'vitest';
import {
  alertPath,
  createdByText,
  dryRunText,
  durationLabel,
  escalationSteps,
  expiryText,
  formatAgo,
  formatRelative,
  isInForce,
  liftEffect,
  ordinal,
  removalText,
  ruleSummary,
  ruleTarget,
  sortRules,
} from './firewall-format';
import type { FirewallRule } from './firewall-types';

const NOW = Date.UTC(2025, 5, 15, 12, 0, 0);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function rule(overrides: Partial<FirewallRule>): FirewallRule {
  return {
    id: 1,
    kind: 'block',
    source: '203.0.113.7',
    protocol: null,
    port: null,
    interface: null,
    comment: null,
    alertId: null,
    createdBy: 'ada',
    createdAt: NOW - HOUR,
    expiresAt: null,
    removedAt: null,
    removedBy: null,
    ...overrides,
  };
}

const CLOSE_TELNET = { kind: 'close', source: null, protocol: 'tcp', port: 23 } as const;

describe('firewall format: times', () => {
  it('says how far a time is from now, both ways', () => {
    expect(formatRelative(NOW + 10 * MINUTE, NOW)).toBe('in 10 min');
    expect(formatRelative(NOW + 9 * MINUTE + 50_000, NOW)).toBe('in 10 min');
    expect(formatRelative(NOW + HOUR, NOW)).toBe('in 1 h');
    expect(formatRelative(NOW + HOUR + 30 * MINUTE, NOW)).toBe('in 1 h 30 min');
    expect(formatRelative(NOW + 26 * HOUR, NOW)).toBe('in 1 d 2 h');
    expect(formatRelative(NOW + 30 * 24 * HOUR, NOW)).toBe('in 30 d');
    expect(formatRelative(NOW - 3 * MINUTE, NOW)).toBe('3 min ago');
    expect(formatRelative(NOW - 10_000, NOW)).toBe('just now');
    expect(formatRelative(NOW + 10_000, NOW)).toBe('in under a minute');
  });

  it('never puts a past event in the future when the page’s clock lags behind the data', () => {
    expect(formatAgo(NOW + 20_000, NOW)).toBe('just now');
    expect(formatAgo(NOW - 5 * MINUTE, NOW)).toBe('5 min ago');
  });

  it('says "never" for a permanent rule, and when a timed one ends, relative and absolute', () => {
    expect(expiryText(rule({ expiresAt: null }), NOW)).toEqual({ relative: 'never', absolute: null });
    expect(expiryText(rule({ expiresAt: NOW + 10 * MINUTE }), NOW, 'UTC')).toEqual({
      relative: 'in 10 min',
      absolute: '2025-06-15 12:10',
    });
    // Past its time but not yet marked expired by the server (it does so within a second).
    expect(expiryText(rule({ expiresAt: NOW - 2 * MINUTE }), NOW, 'UTC').relative).toBe('ended 2 min ago');
  });

  it('knows a rule in force from one lifted or past its expiry', () => {
    expect(isInForce(rule({}), NOW)).toBe(true);
    expect(isInForce(rule({ expiresAt: NOW + 1 }), NOW)).toBe(true);
    expect(isInForce(rule({ expiresAt: NOW }), NOW)).toBe(false);
    expect(isInForce(rule({ removedAt: NOW - 1, removedBy: 'ada' }), NOW)).toBe(false);
  });
});

describe('firewall format: rules', () => {
  it('names what a rule matches: the source, or the port as 23/tcp', () => {
    expect(ruleTarget(rule({}))).toBe('203.0.113.7');
    expect(ruleTarget(rule(CLOSE_TELNET))).toBe('23/tcp');
    expect(ruleSummary(rule({ interface: 'eth0' }))).toBe('Block 203.0.113.7 on eth0');
    expect(ruleSummary(rule({ kind: 'allow', source: '10.0.0.0/8' }))).toBe('Allow 10.0.0.0/8');
    expect(ruleSummary(rule(CLOSE_TELNET))).toBe('Close 23/tcp');
  });

  it('says what stops being enforced when a rule is removed', () => {
    expect(liftEffect(rule({}))).toMatch(/^Traffic from 203\.0\.113\.7 will no longer be dropped/);
    expect(liftEffect(rule({ interface: 'wg0' }))).toContain('203.0.113.7 on wg0');
    expect(liftEffect(rule({ kind: 'allow', source: '10.0.0.0/8' }))).toMatch(
      /no longer be exempt from blocking/,
    );
    expect(liftEffect(rule(CLOSE_TELNET))).toMatch(/^Port 23\/tcp will accept connections again/);
    expect(liftEffect(rule({ ...CLOSE_TELNET, kind: 'open' }))).toMatch(/no longer be held open/);
  });

  it('calls the policy "automatic" and says how a rule left force', () => {
    expect(createdByText('policy')).toBe('automatic');
    expect(createdByText('ada')).toBe('ada');
    expect(removalText('expired')).toBe('expired');
    expect(removalText('ada')).toBe('lifted by ada');
    expect(removalText('ada (rule 12)')).toBe('lifted by ada (rule 12)');
    expect(removalText('not applied')).toMatch(/^not applied/);
  });

  it('links to the alert page, escaping the id', () => {
    expect(alertPath('port_scan-1')).toBe('/alerts/port_scan-1');
    expect(alertPath('a/b c')).toBe('/alerts/a%2Fb%20c');
  });

  it('shows rules in force first, blocks first among them, newest first; then the latest ended', () => {
    const rules = [
      rule({ id: 1, kind: 'allow', source: '10.0.0.0/8', createdAt: NOW - 10 * MINUTE }),
      rule({ id: 2, createdAt: NOW - 2 * HOUR, removedAt: NOW - HOUR, removedBy: 'ada' }),
      rule({ id: 3, createdAt: NOW - 3 * HOUR }),
      rule({ id: 4, ...CLOSE_TELNET, createdAt: NOW - MINUTE }),
      rule({ id: 5, createdAt: NOW - 5 * MINUTE, createdBy: 'policy' }),
      rule({ id: 6, createdAt: NOW - 3 * HOUR, expiresAt: NOW - 10 * MINUTE }),
    ];
    expect(sortRules(rules, NOW).map((r) => r.id)).toEqual([5, 3, 1, 4, 6, 2]);
    expect(rules.map((r) => r.id)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe('firewall format: policy', () => {
  it('writes config durations in words', () => {
    expect(durationLabel('10m')).toBe('10 min');
    expect(durationLabel('24h')).toBe('24 h');
    expect(durationLabel('30s')).toBe('30 s');
    expect(durationLabel('1d')).toBe('1 day');
    expect(durationLabel('30d')).toBe('30 days');
    expect(durationLabel('permanent')).toBe('permanent');
  });

  it('counts in English ordinals', () => {
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111].map(ordinal)).toEqual([
      '1st',
      '2nd',
      '3rd',
      '4th',
      '11th',
      '12th',
      '13th',
      '21st',
      '22nd',
      '101st',
      '111th',
    ]);
  });

  it('lists the escalation, the last step applying to every further block', () => {
    expect(escalationSteps(['10m', '1h', '24h', 'permanent'])).toEqual([
      { when: '1st', lasts: '10 min' },
      { when: '2nd', lasts: '1 h' },
      { when: '3rd', lasts: '24 h' },
      { when: '4th and later', lasts: 'permanent' },
    ]);
    expect(escalationSteps(['1h'])).toEqual([{ when: 'Every block', lasts: '1 h' }]);
  });

  it('says what the dry run would have done', () => {
    expect(dryRunText({ action: 'block', detail: '203.0.113.7' })).toBe('Block 203.0.113.7');
    expect(dryRunText({ action: 'unblock', detail: '203.0.113.7' })).toBe('Unblock 203.0.113.7');
    expect(dryRunText({ action: 'apply', detail: '203.0.113.7, tcp/23' })).toBe(
      'Load the whole rule set: 203.0.113.7, tcp/23',
    );
    expect(dryRunText({ action: 'apply', detail: '' })).toBe('Load the whole rule set (no rules)');
    expect(dryRunText({ action: 'flush', detail: '' })).toBe("Remove FlowTrack's rules");
  });
});
