/** The Logs page's table rows: columns, plain-text cells, keys that survive a live refresh, tab keys. */

import { describe, expect, it } from 'vitest';
import {
  auditRows,
  entryKeys,
  formatJson,
  formatLogTime,
  freshKeys,
  MAX_SUMMARY_CHARS,
  NONE,
  rowsPageOf,
  securityRows,
  serverRows,
  tabAfterKey,
  LOG_COLUMNS,
} from './log-rows';
import type { AuditEvent, LogEntry } from './log-types';

const T = '2025-01-31T12:00:00.000Z';

const line = (fields: Partial<LogEntry> & Record<string, unknown>): LogEntry => ({
  time: T,
  level: 'info',
  ...fields,
});

const event = (fields: Partial<AuditEvent>): AuditEvent => ({
  id: 1,
  tsMs: Date.parse(T),
  actor: 'ada',
  actorIp: '192.0.2.1',
  action: 'user.create',
  target: 'bob',
  before: null,
  after: null,
  outcome: 'ok',
  ...fields,
});

describe('log rows', () => {
  it('a server line: level, message, the other fields summarized, the whole line as details', () => {
    const [row] = serverRows([
      line({ level: 'error', msg: 'store write failed', pid: 7, hostname: 'h', err: 'disk full', count: 3 }),
    ]);
    expect(row?.cells.map((c) => c.text)).toEqual(['error', 'store write failed', 'err=disk full count=3']);
    expect(row?.cells[0]?.tag).toBe('tag-high');
    expect(row?.cells).toHaveLength(LOG_COLUMNS.server.length);
    expect(JSON.parse(row?.details[0]?.text ?? '')).toMatchObject({ msg: 'store write failed', pid: 7 });
  });

  it('a security line: event, user, address, request and reason in their own columns', () => {
    const [row] = securityRows([
      line({
        level: 'warn',
        kind: 'bad_input',
        user: 'mallory',
        ip: '203.0.113.5',
        method: 'GET',
        route: '/api/flows',
        reason: 'invalid',
        field: 'querystring/port',
        sample: "80' OR 1=1",
      }),
    ]);
    expect(row?.cells.map((c) => c.text)).toEqual([
      'warn',
      'bad_input',
      'mallory',
      '203.0.113.5',
      'GET /api/flows',
      'invalid',
      "field=querystring/port sample=80' OR 1=1",
    ]);
    expect(row?.cells).toHaveLength(LOG_COLUMNS.security.length);
  });

  it('keeps markup in log text as text (React renders it escaped; nothing here turns it into HTML)', () => {
    const hostile = '<img src=x onerror=alert(1)>';
    const [row] = securityRows([line({ kind: 'login_failed', user: hostile, reason: 'bad_password' })]);
    expect(row?.cells[2]?.text).toBe(hostile);
    expect(row?.details[0]?.text).toContain(JSON.stringify(hostile).slice(1, -1));
  });

  it('marks absent values and cuts a long summary', () => {
    const [row] = securityRows([line({ kind: 'forbidden', long: 'x'.repeat(500) })]);
    expect(row?.cells[2]?.text).toBe(NONE);
    expect(row?.cells[4]?.text).toBe(NONE);
    const summary = row?.cells[6]?.text ?? '';
    expect(summary).toHaveLength(MAX_SUMMARY_CHARS);
    expect(summary.endsWith('…')).toBe(true);
  });

  it('an audit event: time, user, address, action, target, outcome, and before/after as JSON text', () => {
    const [row] = auditRows([
      event({
        id: 42,
        outcome: 'denied',
        before: { role: 'viewer' },
        after: { role: 'admin' },
        actorIp: null,
      }),
    ]);
    expect(row).toMatchObject({ key: 'audit-42', timeMs: Date.parse(T), detailLabel: 'Before/after' });
    expect(row?.cells.map((c) => c.text)).toEqual(['ada', NONE, 'user.create', 'bob', 'denied']);
    expect(row?.cells[4]?.tag).toBe('tag-medium');
    expect(row?.details).toEqual([
      { title: 'Before', text: '{\n  "role": "viewer"\n}' },
      { title: 'After', text: '{\n  "role": "admin"\n}' },
    ]);
    expect(auditRows([event({})])[0]?.details).toEqual([]);
    expect(auditRows([event({ after: { bytes: 10 } })])[0]?.details.map((d) => d.title)).toEqual(['After']);
  });

  it('builds a page for the log it came from', () => {
    expect(rowsPageOf('audit', { items: [event({})], nextCursor: 'c' })).toMatchObject({
      nextCursor: 'c',
      skippedLines: 0,
    });
    const page = rowsPageOf('security', {
      entries: [line({ kind: 'forbidden' })],
      nextCursor: null,
      skippedLines: 2,
    });
    expect(page.skippedLines).toBe(2);
    expect(page.rows[0]?.cells[1]?.text).toBe('forbidden');
  });

  it('formats JSON for a <pre>, whatever the value', () => {
    expect(formatJson(undefined)).toBe('null');
    expect(formatJson('text')).toBe('"text"');
    expect(formatJson([1])).toBe('[\n  1\n]');
  });
});

describe('entryKeys', () => {
  it('gives identical lines distinct keys that do not change as newer lines arrive above them', () => {
    const a = line({ msg: 'same' });
    const b = line({ msg: 'other' });
    const before = entryKeys([a, a, b]);
    expect(new Set(before).size).toBe(3);
    const after = entryKeys([line({ time: '2025-01-31T12:00:01.000Z', msg: 'new' }), a, a, b]);
    expect(after.slice(1)).toEqual(before);
  });
});

describe('freshKeys', () => {
  const rows = (keys: string[]) =>
    keys.map((key) => ({ key, timeMs: 0, cells: [], details: [], detailLabel: '' }));

  it('marks the lines a refresh added above the ones already shown', () => {
    expect([...freshKeys(rows(['b', 'a']), rows(['d', 'c', 'b']))]).toEqual(['d', 'c']);
  });

  it('marks nothing on a first load or on another page', () => {
    expect(freshKeys([], rows(['a'])).size).toBe(0);
    expect(freshKeys(rows(['a', 'b']), rows(['c', 'd'])).size).toBe(0);
  });
});

describe('formatLogTime', () => {
  it('shows local time to the millisecond', () => {
    const ms = Date.parse('2025-01-31T12:34:56.789Z');
    const d = new Date(ms);
    expect(formatLogTime(ms)).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.789$/);
    expect(formatLogTime(ms)).toContain(`:${String(d.getMinutes()).padStart(2, '0')}:56.789`);
    expect(formatLogTime(Number.NaN)).toBe(NONE);
  });
});

describe('tabAfterKey', () => {
  it('moves with the arrows (wrapping), Home and End, and ignores other keys', () => {
    expect(tabAfterKey(0, 'ArrowRight', 3)).toBe(1);
    expect(tabAfterKey(2, 'ArrowRight', 3)).toBe(0);
    expect(tabAfterKey(0, 'ArrowLeft', 3)).toBe(2);
    expect(tabAfterKey(1, 'Home', 3)).toBe(0);
    expect(tabAfterKey(0, 'End', 3)).toBe(2);
    expect(tabAfterKey(1, 'Enter', 3)).toBeNull();
  });
});
