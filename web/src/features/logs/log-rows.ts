/**
 * The rows of the Logs page's tables, built from the API's pages. Every cell and detail is plain
 * text: log lines hold whatever a client sent (user names tried, bad input samples, routes), so
 * they are only ever rendered as React text, never as HTML. Pure, tested in node.
 */

import { formatTimestamp } from '../../lib/format';
import type { AuditEvent, AuditPage, LogEntry, LogEntryPage, LogLevel, LogName } from './log-types';

export interface LogCell {
  text: string;
  /** A .tag class when the cell is shown as a tag (levels, outcomes). */
  tag?: string;
  mono?: boolean;
  /** Long free text that may wrap. */
  wide?: boolean;
}

/** A part of a row's expandable detail: a title and preformatted text. */
export interface LogDetail {
  title: string;
  text: string;
}

export interface LogRow {
  /** Stable across refreshes while the row is on the page (React key, scroll anchor). */
  key: string;
  /** Epoch milliseconds. */
  timeMs: number;
  /** The columns after the time, in LOG_COLUMNS order. */
  cells: LogCell[];
  /** Empty: nothing to expand. */
  details: LogDetail[];
  /** The expand button's text. */
  detailLabel: string;
}

export interface LogRowsPage {
  rows: LogRow[];
  nextCursor: string | null;
  /** Lines of the log files that were not entries (server and security logs). */
  skippedLines: number;
}

/** Column headers after "Time". */
export const LOG_COLUMNS: Record<LogName, readonly string[]> = {
  server: ['Level', 'Message', 'Fields'],
  security: ['Level', 'Event', 'User', 'Address', 'Request', 'Reason', 'Fields'],
  audit: ['User', 'Address', 'Action', 'Target', 'Outcome'],
};

/** The tables' accessible names. */
export const LOG_TITLES: Record<LogName, string> = {
  server: 'Server log',
  security: 'Security log',
  audit: 'Audit log',
};

const LEVEL_TAGS: Record<LogLevel, string> = {
  fatal: 'tag-critical',
  error: 'tag-high',
  warn: 'tag-low',
  info: 'tag-info',
  debug: 'tag-muted',
  trace: 'tag-muted',
};

const OUTCOME_TAGS: Record<string, string> = { ok: 'tag-ok', denied: 'tag-medium', failed: 'tag-high' };

/** Shown for an absent value. */
export const NONE = '–';

/** Fields every line has or that say nothing to a reader (pino's process id and host name). */
const SERVER_SHOWN = new Set(['time', 'level', 'msg', 'pid', 'hostname']);
const SECURITY_SHOWN = new Set([...SERVER_SHOWN, 'kind', 'user', 'ip', 'method', 'route', 'reason']);

/** The longest "Fields" summary shown in a cell; the whole entry is in the row's details. */
export const MAX_SUMMARY_CHARS = 160;

/** The API's page as the table's rows. */
export function rowsPageOf(log: LogName, page: LogEntryPage | AuditPage): LogRowsPage {
  if ('items' in page) return { rows: auditRows(page.items), nextCursor: page.nextCursor, skippedLines: 0 };
  const rows = log === 'security' ? securityRows(page.entries) : serverRows(page.entries);
  return { rows, nextCursor: page.nextCursor, skippedLines: page.skippedLines };
}

export function serverRows(entries: readonly LogEntry[]): LogRow[] {
  const keys = entryKeys(entries);
  return entries.map((entry, i) => ({
    key: keys[i] ?? String(i),
    timeMs: Date.parse(entry.time),
    cells: [
      levelCell(entry.level),
      { text: textOf(entry.msg), wide: true },
      { text: summarizeFields(entry, SERVER_SHOWN), mono: true },
    ],
    details: [{ title: 'Entry', text: formatJson(entry) }],
    detailLabel: 'All fields',
  }));
}

export function securityRows(entries: readonly LogEntry[]): LogRow[] {
  const keys = entryKeys(entries);
  return entries.map((entry, i) => {
    const request = [entry.method, entry.route].filter((part) => typeof part === 'string').join(' ');
    return {
      key: keys[i] ?? String(i),
      timeMs: Date.parse(entry.time),
      cells: [
        levelCell(entry.level),
        { text: textOf(entry.kind) },
        { text: textOf(entry.user) },
        { text: textOf(entry.ip), mono: true },
        { text: request === '' ? NONE : request, mono: true },
        { text: textOf(entry.reason) },
        { text: summarizeFields(entry, SECURITY_SHOWN), mono: true },
      ],
      details: [{ title: 'Entry', text: formatJson(entry) }],
      detailLabel: 'All fields',
    };
  });
}

export function auditRows(events: readonly AuditEvent[]): LogRow[] {
  return events.map((event) => {
    const details: LogDetail[] = [];
    if (event.before !== null && event.before !== undefined) {
      details.push({ title: 'Before', text: formatJson(event.before) });
    }
    if (event.after !== null && event.after !== undefined) {
      details.push({ title: 'After', text: formatJson(event.after) });
    }
    return {
      key: `audit-${event.id}`,
      timeMs: event.tsMs,
      cells: [
        { text: event.actor },
        { text: event.actorIp ?? NONE, mono: true },
        { text: event.action, mono: true },
        { text: event.target ?? NONE, mono: true },
        { text: event.outcome, tag: OUTCOME_TAGS[event.outcome] ?? 'tag-muted' },
      ],
      details,
      detailLabel: 'Before/after',
    };
  });
}

function levelCell(level: LogLevel): LogCell {
  return { text: level, tag: LEVEL_TAGS[level] };
}

/** A field's value as cell text: strings as they are, anything else as JSON, absent as NONE. */
export function textOf(value: unknown): string {
  if (value === undefined || value === null || value === '') return NONE;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Pretty JSON for a <pre>. The values come from JSON, so there is nothing it cannot write but undefined. */
export function formatJson(value: unknown): string {
  return value === undefined ? 'null' : JSON.stringify(value, null, 2);
}

/** The fields of `entry` not shown in their own columns, as `key=value …`, cut to MAX_SUMMARY_CHARS. */
export function summarizeFields(entry: LogEntry, shown: ReadonlySet<string>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(entry)) {
    if (shown.has(key) || value === undefined) continue;
    parts.push(`${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  }
  const text = parts.join(' ');
  if (text === '') return NONE;
  return text.length > MAX_SUMMARY_CHARS ? `${text.slice(0, MAX_SUMMARY_CHARS - 1)}…` : text;
}

/**
 * Keys for log lines, which have no id: the time and a hash of the whole line, and a count for
 * identical lines. A line keeps its key when newer lines arrive above it, which keeps React's rows
 * and the scroll position attached to the line, not to its place in the list.
 */
export function entryKeys(entries: readonly LogEntry[]): string[] {
  const seen = new Map<string, number>();
  // Counted from the oldest, so the count of a repeated line does not change as newer ones arrive.
  const keys = new Array<string>(entries.length);
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i];
    if (entry === undefined) continue;
    const base = `${entry.time}|${fnv1a(JSON.stringify(entry))}`;
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    keys[i] = count === 0 ? base : `${base}#${count}`;
  }
  return keys;
}

/** FNV-1a, 32 bits, as 8 hex digits: a cheap fingerprint, not a security measure. */
export function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, '0');
}

/**
 * The rows of `next` that were not on the page before, to mark lines a live refresh brought in.
 * Nothing is marked when nothing is shared (a first load, another page): that is not a tail.
 */
export function freshKeys(previous: readonly LogRow[], next: readonly LogRow[]): Set<string> {
  const before = new Set(previous.map((row) => row.key));
  const fresh = new Set(next.filter((row) => !before.has(row.key)).map((row) => row.key));
  return fresh.size === next.length ? new Set() : fresh;
}

/** A log time in the browser's time zone, to the millisecond: `2025-01-31 13:00:00.123`. */
export function formatLogTime(ms: number): string {
  return Number.isFinite(ms) ? formatTimestamp(ms, 'millisecond') : NONE;
}

/**
 * The tab a key moves to in a row of `count` tabs (WAI-ARIA tabs: arrows wrap, Home and End go to
 * the ends); null for keys that do not move.
 */
export function tabAfterKey(index: number, key: string, count: number): number | null {
  switch (key) {
    case 'ArrowRight':
      return (index + 1) % count;
    case 'ArrowLeft':
      return (index - 1 + count) % count;
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    default:
      return null;
  }
}
