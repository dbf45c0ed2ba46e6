/**
 * The shapes of the log API's answers (src/api/routes/log-routes.ts, src/logs/read-log.ts,
 * src/store/audit-repository.ts) and the values its filters accept, kept by hand as api-types.ts
 * is. Entries are untrusted text: whoever reached the server wrote parts of them.
 */

export const LOGS = ['server', 'security', 'audit'] as const;
export type LogName = (typeof LOGS)[number];

/** Most severe first; a level filter means "this level or more severe". */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** src/logs/security-log.ts SECURITY_EVENT_KINDS. */
export const SECURITY_EVENT_KINDS = [
  'login_failed',
  'login_locked_out',
  'token_invalid',
  'forbidden',
  'rate_limited',
  'bad_input',
  'setup_token_used',
] as const;
export type SecurityEventKind = (typeof SECURITY_EVENT_KINDS)[number];

export const AUDIT_OUTCOMES = ['ok', 'denied', 'failed'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/**
 * The actions the server audits today, offered as suggestions; the filter takes any action name
 * the API accepts (AUDIT_ACTION_PATTERN), so a newer server's actions can still be searched.
 */
export const KNOWN_AUDIT_ACTIONS = [
  'login',
  'logout',
  'user.create',
  'user.update',
  'user.delete',
  'user.password',
  'alert.acknowledge',
  'alert.resolve',
  'evidence.download',
  'firewall.rule.add',
  'firewall.rule.update',
  'firewall.rule.remove',
  'firewall.rule.expire',
  'firewall.autoblock',
  'firewall.block.auto',
  'backup.create',
  'backup.download',
  'backup.restore',
] as const;

/** What GET /api/logs/audit accepts as `action`. */
export const AUDIT_ACTION_PATTERN = /^[a-z._]{1,64}$/;
/** The longest `actor` and `contains` the API accepts. */
export const MAX_ACTOR_CHARS = 64;
export const MAX_CONTAINS_CHARS = 200;

/** One line of the server or security log: `time` (ISO 8601) and `level` always, the rest varies. */
export interface LogEntry {
  readonly time: string;
  readonly level: LogLevel;
  readonly msg?: string;
  readonly kind?: string;
  readonly [field: string]: unknown;
}

/** GET /api/logs and /api/logs/security. */
export interface LogEntryPage {
  entries: LogEntry[];
  nextCursor: string | null;
  /** Lines of the files that were not log entries and were skipped. */
  skippedLines: number;
}

/** One event of the audit log. */
export interface AuditEvent {
  id: number;
  /** Epoch milliseconds. */
  tsMs: number;
  actor: string;
  actorIp: string | null;
  action: string;
  target: string | null;
  before: unknown;
  after: unknown;
  outcome: AuditOutcome;
}

/** GET /api/logs/audit. */
export interface AuditPage {
  items: AuditEvent[];
  nextCursor: string | null;
}
