/**
 * Which log the Logs page shows and how it is filtered, read from the page's query string (so a
 * view can be bookmarked and shared), and the API request for one page of it. Pure: no React, no
 * clock of its own (the caller passes the time), so it is tested in node.
 *
 * Everything from the URL is untrusted: a value the API would refuse is reported as a problem for
 * the user to fix rather than sent, and a value no control can produce (a bad level) is ignored.
 */

import {
  AUDIT_ACTION_PATTERN,
  AUDIT_OUTCOMES,
  LOG_LEVELS,
  LOGS,
  MAX_ACTOR_CHARS,
  MAX_CONTAINS_CHARS,
  SECURITY_EVENT_KINDS,
  type AuditOutcome,
  type LogLevel,
  type LogName,
  type SecurityEventKind,
} from './log-types';

/** Time ranges relative to now, as the URL names them. */
export const RECENT_RANGES = {
  '15m': { label: 'Last 15 minutes', ms: 15 * 60_000 },
  '1h': { label: 'Last hour', ms: 3_600_000 },
  '24h': { label: 'Last 24 hours', ms: 24 * 3_600_000 },
  '7d': { label: 'Last 7 days', ms: 7 * 24 * 3_600_000 },
} as const;
export type RecentRange = keyof typeof RECENT_RANGES;

export type TimeRange =
  | { kind: 'any' }
  | { kind: 'recent'; name: RecentRange }
  /** Epoch milliseconds; either end may be open. */
  | { kind: 'between'; fromMs: number | null; toMs: number | null };

export interface LogView {
  log: LogName;
  range: TimeRange;
  /** Server and security logs: this level or more severe. */
  level: LogLevel | null;
  /** Security log only. */
  kind: SecurityEventKind | null;
  /** Server and security logs: the line contains this text (any case). */
  contains: string | null;
  /** Audit log only: the user who acted (`actor` to the API). */
  user: string | null;
  action: string | null;
  outcome: AuditOutcome | null;
  /** What in the URL the API would refuse, said so that the user can fix it; nothing is asked then. */
  problems: string[];
}

/** The query-string keys of the filters, and the logs each applies to. */
export const FILTER_KEYS = {
  range: LOGS,
  from: LOGS,
  to: LOGS,
  level: ['server', 'security'],
  kind: ['security'],
  contains: ['server', 'security'],
  user: ['audit'],
  action: ['audit'],
  outcome: ['audit'],
} as const satisfies Record<string, readonly LogName[]>;
export type FilterKey = keyof typeof FILTER_KEYS;

/** Filters a user may keep when moving to another log: the time window of an investigation. */
const KEPT_ACROSS_LOGS: readonly FilterKey[] = ['range', 'from', 'to'];

export function appliesTo(key: FilterKey, log: LogName): boolean {
  return (FILTER_KEYS[key] as readonly LogName[]).includes(log);
}

function oneOf<T extends string>(values: readonly T[], value: string | null): T | null {
  return value !== null && (values as readonly string[]).includes(value) ? (value as T) : null;
}

/** The log and its filters in `query`; filters of other logs are ignored. */
export function readLogView(query: URLSearchParams): LogView {
  const log = oneOf(LOGS, query.get('log')) ?? 'server';
  const problems: string[] = [];
  const get = (key: FilterKey): string | null => {
    if (!appliesTo(key, log)) return null;
    const value = query.get(key)?.trim() ?? '';
    return value === '' ? null : value;
  };

  const range = readRange(get('range'), get('from'), get('to'), problems);

  const contains = get('contains');
  if (contains !== null && contains.length > MAX_CONTAINS_CHARS) {
    problems.push(
      `The text to look for is ${contains.length} characters; at most ${MAX_CONTAINS_CHARS} are allowed.`,
    );
  }
  const user = get('user');
  if (user !== null && user.length > MAX_ACTOR_CHARS) {
    problems.push(`A user name has at most ${MAX_ACTOR_CHARS} characters.`);
  }
  const action = get('action');
  if (action !== null && !AUDIT_ACTION_PATTERN.test(action)) {
    problems.push(
      `"${action}" is not an action name: actions are lower-case words joined by dots, such as user.create or backup.restore.`,
    );
  }

  return {
    log,
    range,
    level: oneOf(LOG_LEVELS, get('level')),
    kind: oneOf(SECURITY_EVENT_KINDS, get('kind')),
    contains,
    user,
    action,
    outcome: oneOf(AUDIT_OUTCOMES, get('outcome')),
    problems,
  };
}

function readRange(
  range: string | null,
  from: string | null,
  to: string | null,
  problems: string[],
): TimeRange {
  if (range !== null && range in RECENT_RANGES) return { kind: 'recent', name: range as RecentRange };
  if (range !== 'between') return { kind: 'any' };
  const time = (text: string | null, what: string): number | null => {
    if (text === null) return null;
    const ms = Date.parse(text);
    if (Number.isNaN(ms) || ms < 0) {
      problems.push(`The ${what} time "${text}" is not a date and time.`);
      return null;
    }
    return ms;
  };
  const fromMs = time(from, 'start');
  const toMs = time(to, 'end');
  if (fromMs !== null && toMs !== null && fromMs >= toMs) {
    problems.push('The start of the time range is not before its end.');
  }
  return { kind: 'between', fromMs, toMs };
}

/** Entries per page. */
export const LOG_PAGE_SIZE = 100;

const ENDPOINTS: Record<LogName, string> = {
  server: '/api/logs',
  security: '/api/logs/security',
  audit: '/api/logs/audit',
};

/** The API path this view's entries come from, without a query: the cache key's first part. */
export function logEndpoint(log: LogName): string {
  return ENDPOINTS[log];
}

/** The time window of `range` at `nowMs`, in epoch milliseconds. */
export function timeWindow(range: TimeRange, nowMs: number): { fromMs: number | null; toMs: number | null } {
  switch (range.kind) {
    case 'any':
      return { fromMs: null, toMs: null };
    case 'recent':
      return { fromMs: Math.max(0, nowMs - RECENT_RANGES[range.name].ms), toMs: null };
    case 'between':
      return { fromMs: range.fromMs, toMs: range.toMs };
  }
}

/**
 * The GET for one page of `view`: `cursor` from the previous page (undefined: the newest), and
 * `nowMs` for ranges relative to now, so a live refresh moves the window with the clock.
 */
export function logRequestPath(view: LogView, cursor: string | undefined, nowMs: number): string {
  const { fromMs, toMs } = timeWindow(view.range, nowMs);
  const params = new URLSearchParams();
  const put = (key: string, value: string | number | null | undefined): void => {
    if (value !== null && value !== undefined && value !== '') params.set(key, String(value));
  };
  if (view.log === 'audit') {
    put('actor', view.user);
    put('action', view.action);
    put('outcome', view.outcome);
  } else {
    put('level', view.level);
    if (view.log === 'security') put('kind', view.kind);
    put('contains', view.contains);
  }
  put('from', fromMs);
  put('to', toMs);
  put('limit', LOG_PAGE_SIZE);
  put('cursor', cursor);
  return `${ENDPOINTS[view.log]}?${params.toString()}`;
}

/** A string that changes exactly when the view asks for different entries (paging starts over). */
export function viewKey(view: LogView): string {
  return JSON.stringify({ ...view, problems: undefined });
}

/** The query-string changes that open `log`: its filters start empty, the time window is kept. */
export function changesForLog(log: LogName): Record<string, string | undefined> {
  const changes: Record<string, string | undefined> = { log: log === 'server' ? undefined : log };
  for (const key of Object.keys(FILTER_KEYS) as FilterKey[]) {
    if (!KEPT_ACROSS_LOGS.includes(key)) changes[key] = undefined;
  }
  return changes;
}

/** The query-string changes that clear every filter of the log shown. */
export function changesClearingFilters(): Record<string, string | undefined> {
  const changes: Record<string, string | undefined> = {};
  for (const key of Object.keys(FILTER_KEYS)) changes[key] = undefined;
  return changes;
}

/** Whether any filter narrows the view (for the empty state's wording and the clear button). */
export function isFiltered(view: LogView): boolean {
  return (
    view.range.kind !== 'any' ||
    view.level !== null ||
    view.kind !== null ||
    view.contains !== null ||
    view.user !== null ||
    view.action !== null ||
    view.outcome !== null
  );
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** Epoch milliseconds as a datetime-local input's value (the browser's time zone, to the minute). */
export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A datetime-local input's value (the browser's time zone) as ISO 8601 UTC for the URL; null if incomplete. */
export function fromLocalInput(value: string): string | null {
  // Without an offset, ECMAScript reads a date-time as local time, as the input means it.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/.test(value)) return null;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}
