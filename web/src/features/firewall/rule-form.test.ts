/** The add and edit forms' values as API bodies: what is sent, what is asked for first. */

import { describe, expect, it } from 'vitest';
import {
  EMPTY_RULE_FORM,
  editFormOf,
  parseLocalDateTime,
  ruleBodyOf,
  ruleChangeOf,
  toLocalDateTime,
  type RuleForm,
} from './rule-form';

const NOW = new Date(2025, 5, 15, 12, 0, 0).getTime();
const HOUR = 3_600_000;

function form(overrides: Partial<RuleForm>): RuleForm {
  return { ...EMPTY_RULE_FORM, ...overrides };
}

describe('rule form: adding', () => {
  it('sends a block with only what was filled in, trimmed', () => {
    expect(ruleBodyOf(form({ source: ' 203.0.113.7 ' }), NOW)).toEqual({
      ok: true,
      value: { kind: 'block', source: '203.0.113.7' },
    });
    expect(
      ruleBodyOf(
        form({ kind: 'allow', source: '10.0.0.0/8', interface: ' eth1 ', comment: ' office ' }),
        NOW,
      ),
    ).toEqual({
      ok: true,
      value: { kind: 'allow', source: '10.0.0.0/8', interface: 'eth1', comment: 'office' },
    });
  });

  it('sends a port rule with its protocol and port, and no source', () => {
    expect(
      ruleBodyOf(form({ kind: 'close', protocol: 'udp', port: '161', source: 'left over' }), NOW),
    ).toEqual({
      ok: true,
      value: { kind: 'close', protocol: 'udp', port: 161 },
    });
  });

  it('asks for what is missing before asking the server', () => {
    expect(ruleBodyOf(form({ source: '  ' }), NOW)).toMatchObject({ ok: false, error: /source/ });
    for (const port of ['', '0', '65536', '22a', '1.5', '-1']) {
      expect(ruleBodyOf(form({ kind: 'open', port }), NOW), port).toMatchObject({ ok: false, error: /port/ });
    }
  });

  it('sends a preset expiry as seconds from the server’s now, a custom one as a time', () => {
    const block = form({ source: '203.0.113.7' });
    expect(ruleBodyOf({ ...block, expiry: '10m' }, NOW)).toMatchObject({ value: { expiresInSeconds: 600 } });
    expect(ruleBodyOf({ ...block, expiry: '1h' }, NOW)).toMatchObject({ value: { expiresInSeconds: 3600 } });
    expect(ruleBodyOf({ ...block, expiry: '24h' }, NOW)).toMatchObject({
      value: { expiresInSeconds: 86_400 },
    });
    expect(ruleBodyOf({ ...block, expiry: 'custom', until: '2025-06-16T08:30' }, NOW)).toEqual({
      ok: true,
      value: { kind: 'block', source: '203.0.113.7', expiresAt: new Date(2025, 5, 16, 8, 30).getTime() },
    });
    expect(ruleBodyOf({ ...block, expiry: 'custom', until: '' }, NOW)).toMatchObject({ ok: false });
    expect(ruleBodyOf({ ...block, expiry: 'custom', until: '2025-06-15T11:59' }, NOW)).toMatchObject({
      ok: false,
      error: /future/,
    });
  });
});

describe('rule form: editing', () => {
  const rule = { comment: 'scanner', expiresAt: NOW + HOUR };

  it('sends nothing when nothing changed', () => {
    expect(ruleChangeOf(rule, editFormOf(rule), NOW)).toEqual({ ok: true, value: null });
    expect(ruleChangeOf(rule, { ...editFormOf(rule), comment: ' scanner ' }, NOW)).toEqual({
      ok: true,
      value: null,
    });
  });

  it('sends only what changed: a cleared comment as null, a new expiry as a time', () => {
    expect(ruleChangeOf(rule, { ...editFormOf(rule), comment: '' }, NOW)).toEqual({
      ok: true,
      value: { comment: null },
    });
    expect(ruleChangeOf(rule, { ...editFormOf(rule), expiry: 'never' }, NOW)).toEqual({
      ok: true,
      value: { expiresAt: null },
    });
    expect(ruleChangeOf(rule, { ...editFormOf(rule), expiry: '24h', comment: 'noisy' }, NOW)).toEqual({
      ok: true,
      value: { comment: 'noisy', expiresAt: NOW + 24 * HOUR },
    });
    expect(
      ruleChangeOf({ comment: null, expiresAt: null }, { comment: '', expiry: 'never', until: '' }, NOW),
    ).toEqual({ ok: true, value: null });
  });

  it('refuses a custom end in the past', () => {
    expect(
      ruleChangeOf(rule, { comment: 'scanner', expiry: 'custom', until: '2020-01-01T00:00' }, NOW),
    ).toMatchObject({
      ok: false,
    });
  });
});

describe('rule form: date and time input', () => {
  it('reads a datetime-local value in the browser’s zone, with or without seconds', () => {
    expect(parseLocalDateTime('2025-06-15T14:30')).toBe(new Date(2025, 5, 15, 14, 30).getTime());
    expect(parseLocalDateTime('2025-06-15T14:30:15')).toBe(new Date(2025, 5, 15, 14, 30, 15).getTime());
    for (const bad of ['', '2025-06-15', '2025-02-30T10:00', '15/06/2025 14:30', '2025-06-15T25:00']) {
      expect(parseLocalDateTime(bad), bad).toBeNull();
    }
  });

  it('writes a time back as the input’s value, to the minute', () => {
    expect(toLocalDateTime(new Date(2025, 0, 5, 7, 3, 59).getTime())).toBe('2025-01-05T07:03');
    expect(parseLocalDateTime(toLocalDateTime(NOW))).toBe(NOW);
  });
});
