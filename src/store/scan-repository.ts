/**
 * The port scanner's history: one row a run, queued when asked for, running, then done, failed
 * or cancelled with its report. A run leaves queued or running once only: `finish` is one guarded
 * UPDATE, so of two callers finishing the same scan (the scan's end and a cancel) exactly one
 * wins and the other is told so by a null. Nothing here runs a scan or judges one; the ids,
 * baseline keys and reports come from scan/ and are stored as given.
 *
 * Reading must never fail on one bad row: JSON that does not parse (a row written by hand, a
 * damaged page) comes back empty and named in the record's `unreadable`, so a list still lists.
 */

import type { Kysely, Selectable } from 'kysely';
import { ErrorCode, FlowTrackError, describeError } from '../util/errors.js';
import { checkInteger, readPageRequest, toPage, type Page, type PageRequest } from './page.js';
import type { Database, ScansTable } from './schema.js';

export const SCAN_STATUSES = ['queued', 'running', 'done', 'failed', 'cancelled'] as const;
export type ScanStatus = (typeof SCAN_STATUSES)[number];

/** The statuses a run ends in. */
export const SCAN_OUTCOMES = ['done', 'failed', 'cancelled'] as const;
export type ScanOutcome = (typeof SCAN_OUTCOMES)[number];

/** Risks from the least to the most serious, as scan/ judges findings. */
export const SCAN_RISKS = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type ScanRisk = (typeof SCAN_RISKS)[number];

/** The columns kept as JSON, which a damaged row may not give back. */
export type ScanJsonColumn = 'targets' | 'request' | 'report';

export interface ScanRecord {
  /** The UUID the caller made. */
  id: string;
  /** A user name, or `schedule:<name>`. */
  requestedBy: string;
  /** The schedule that started it; null when someone asked for it. */
  schedule: string | null;
  /** The target specs as given (addresses, prefixes, ranges, names). */
  targets: string[];
  /** The rest of the request as given: ports, udp, engine, ... */
  request: Record<string, unknown>;
  /** The caller's normalised key of targets and ports: runs with the same key are comparable. */
  baselineKey: string;
  status: ScanStatus;
  /** Epoch milliseconds, as every time here. */
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** Why it failed or was cancelled. */
  error: string | null;
  /** The report as stored (JSON); null before the end, without one, or when left out of a list. */
  report: unknown;
  openPorts: number;
  findings: number;
  /** The highest risk among the findings; null without any. */
  maxRisk: ScanRisk | null;
  /**
   * JSON columns of this row that could not be read back: they show as `[]`, `{}` or null. Empty
   * for every row FlowTrack wrote itself.
   */
  unreadable: ScanJsonColumn[];
}

export interface NewScan {
  id: string;
  requestedBy: string;
  schedule?: string | null;
  targets: readonly string[];
  /** A JSON object: everything of the request but the targets. */
  request: object;
  baselineKey: string;
  createdAt: number;
}

/** How a run ended, and what it found. */
export interface ScanEnd {
  status: ScanOutcome;
  finishedAt: number;
  /** Anything JSON.stringify takes; left as it was (none) when not given. */
  report?: unknown;
  error?: string | null;
  openPorts?: number;
  findings?: number;
  maxRisk?: ScanRisk | null;
}

export interface ScanFilter extends PageRequest {
  status?: ScanStatus;
  requestedBy?: string;
  schedule?: string;
  /**
   * false: leave every report out (`report` null) without reading it. A list that shows no report
   * should say so: a report can be megabytes, and a page holds up to MAX_PAGE_SIZE runs.
   */
  withReports?: boolean;
}

/** Every column but the report, for lists that do not show it. */
const SUMMARY_COLUMNS = [
  'id',
  'requested_by',
  'schedule',
  'targets',
  'request',
  'baseline_key',
  'status',
  'created_at',
  'started_at',
  'finished_at',
  'error',
  'open_ports',
  'findings',
  'max_risk',
] as const satisfies readonly (keyof ScansTable)[];

type ScanRow = Omit<Selectable<ScansTable>, 'report'> & { report?: string | null };

export class ScanRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly isUniqueViolation: (err: unknown) => boolean,
  ) {}

  /** Stores a new run as queued; CONFLICT when its id is taken. */
  async create(scan: NewScan): Promise<ScanRecord> {
    if (scan.id.trim() === '') throw new FlowTrackError(ErrorCode.BAD_REQUEST, 'a scan needs an id');
    if (!Array.isArray(scan.targets) || !scan.targets.every((t) => typeof t === 'string')) {
      throw new FlowTrackError(ErrorCode.BAD_REQUEST, 'the targets of a scan must be a list of strings');
    }
    if (Array.isArray(scan.request)) {
      throw new FlowTrackError(
        ErrorCode.BAD_REQUEST,
        'the request of a scan must be a JSON object, not a list',
      );
    }
    try {
      const row = await this.db
        .insertInto('scans')
        .values({
          id: scan.id,
          requested_by: scan.requestedBy,
          schedule: scan.schedule ?? null,
          targets: JSON.stringify(scan.targets),
          request: jsonOf('request', scan.request) ?? '{}',
          baseline_key: scan.baselineKey,
          status: 'queued',
          created_at: checkInteger('createdAt', scan.createdAt, 0),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return scanRecordOf(row);
    } catch (err) {
      if (this.isUniqueViolation(err)) {
        throw new FlowTrackError(
          ErrorCode.CONFLICT,
          `there is already a scan ${scan.id}: give each scan a new id`,
          { cause: err },
        );
      }
      throw err;
    }
  }

  /** Queued to running at `startedAt`; null when there is no such scan or it is not queued. */
  async markRunning(id: string, startedAt: number): Promise<ScanRecord | null> {
    const row = await this.db
      .updateTable('scans')
      .set({ status: 'running', started_at: checkInteger('startedAt', startedAt, 0) })
      .where('id', '=', id)
      .where('status', '=', 'queued')
      .returningAll()
      .executeTakeFirst();
    return row ? scanRecordOf(row) : null;
  }

  /**
   * Ends a queued or running scan; null when there is no such scan or it has already ended (the
   * stored end stays as it was). Counts and risk not given keep their values (0 and null).
   */
  async finish(id: string, end: ScanEnd): Promise<ScanRecord | null> {
    if (!(SCAN_OUTCOMES as readonly string[]).includes(end.status)) {
      throw new FlowTrackError(
        ErrorCode.BAD_REQUEST,
        `a scan ends as ${SCAN_OUTCOMES.join(', ')}, not ${JSON.stringify(end.status)}`,
      );
    }
    if (end.maxRisk != null && !(SCAN_RISKS as readonly string[]).includes(end.maxRisk)) {
      throw new FlowTrackError(
        ErrorCode.BAD_REQUEST,
        `a scan's risk is one of ${SCAN_RISKS.join(', ')}, not ${JSON.stringify(end.maxRisk)}`,
      );
    }
    const row = await this.db
      .updateTable('scans')
      .set({
        status: end.status,
        finished_at: checkInteger('finishedAt', end.finishedAt, 0),
        ...(end.report !== undefined && { report: jsonOf('report', end.report) }),
        ...(end.error !== undefined && { error: end.error }),
        ...(end.openPorts !== undefined && { open_ports: checkInteger('openPorts', end.openPorts, 0) }),
        ...(end.findings !== undefined && { findings: checkInteger('findings', end.findings, 0) }),
        ...(end.maxRisk !== undefined && { max_risk: end.maxRisk }),
      })
      .where('id', '=', id)
      .where('status', 'in', ['queued', 'running'])
      .returningAll()
      .executeTakeFirst();
    return row ? scanRecordOf(row) : null;
  }

  async findById(id: string): Promise<ScanRecord | null> {
    const row = await this.db.selectFrom('scans').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? scanRecordOf(row) : null;
  }

  /** Runs matching `filter`, newest first (by creation, then id). */
  async listScans(filter: ScanFilter = {}): Promise<Page<ScanRecord>> {
    const { limit, offset, after } = readPageRequest(filter);
    let query = this.db.selectFrom('scans');
    if (filter.status !== undefined) {
      if (!(SCAN_STATUSES as readonly string[]).includes(filter.status)) {
        throw new FlowTrackError(
          ErrorCode.BAD_REQUEST,
          `status must be one of ${SCAN_STATUSES.join(', ')}, not ${JSON.stringify(filter.status)}`,
        );
      }
      query = query.where('status', '=', filter.status);
    }
    if (filter.requestedBy !== undefined) query = query.where('requested_by', '=', filter.requestedBy);
    if (filter.schedule !== undefined) query = query.where('schedule', '=', filter.schedule);
    if (after) {
      const [createdAt, id] = after;
      if (typeof id !== 'string') {
        throw new FlowTrackError(
          ErrorCode.BAD_REQUEST,
          'the page cursor is not one of the scan list: start again',
        );
      }
      query = query.where((eb) =>
        eb.or([
          eb('created_at', '<', createdAt),
          eb.and([eb('created_at', '=', createdAt), eb('id', '<', id)]),
        ]),
      );
    }
    const ordered = ((filter.withReports ?? true) ? query.selectAll() : query.select(SUMMARY_COLUMNS))
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit + 1)
      .offset(offset);
    const rows: ScanRow[] = await ordered.execute();
    return toPage(rows, limit, (row) => [row.created_at, row.id], scanRecordOf);
  }

  /**
   * The latest done run of `baselineKey` created before `beforeMs` (strictly): what a new run of
   * the same scan is compared with. Failed and cancelled runs are no baseline.
   */
  async previousDone(baselineKey: string, beforeMs: number): Promise<ScanRecord | null> {
    const row = await this.db
      .selectFrom('scans')
      .selectAll()
      .where('baseline_key', '=', baselineKey)
      .where('status', '=', 'done')
      .where('created_at', '<', checkInteger('beforeMs', beforeMs, 0))
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? scanRecordOf(row) : null;
  }

  /**
   * Marks every queued or running scan failed at `now` with `reason`: at start-up, the runs a
   * stopped or crashed server left behind, which nothing will finish. Returns how many.
   */
  async failUnfinished(now: number, reason: string): Promise<number> {
    const result = await this.db
      .updateTable('scans')
      .set({ status: 'failed', finished_at: checkInteger('now', now, 0), error: reason })
      .where('status', 'in', ['queued', 'running'])
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** The latest run of `schedule` (by creation), whatever its status; null when it never ran. */
  async lastRunOf(schedule: string): Promise<ScanRecord | null> {
    const row = await this.db
      .selectFrom('scans')
      .selectAll()
      .where('schedule', '=', schedule)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? scanRecordOf(row) : null;
  }
}

/**
 * JSON.stringify as it behaves: undefined, a function or a symbol have no JSON and give undefined,
 * which the standard library's type leaves out.
 */
const stringify: (value: unknown) => string | undefined = JSON.stringify;

/** `value` as JSON text (null for undefined), or BAD_REQUEST when it has none (a cycle, a BigInt). */
function jsonOf(what: string, value: unknown): string | null {
  let text: string | undefined;
  try {
    text = stringify(value);
  } catch (err) {
    throw new FlowTrackError(
      ErrorCode.BAD_REQUEST,
      `the scan's ${what} cannot be stored as JSON (${describeError(err)}): give plain data`,
      { cause: err },
    );
  }
  return text ?? null;
}

/** What `parsed` gives for text that is not JSON. */
const UNREADABLE = Symbol('unreadable');

/** The parsed JSON, or UNREADABLE when `text` is not JSON. */
function parsed(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return UNREADABLE;
  }
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function scanRecordOf(row: ScanRow): ScanRecord {
  const unreadable: ScanJsonColumn[] = [];
  const targets = parsed(row.targets);
  const request = parsed(row.request);
  const report = row.report == null ? null : parsed(row.report);
  if (!isStringList(targets)) unreadable.push('targets');
  if (!isObject(request)) unreadable.push('request');
  if (report === UNREADABLE) unreadable.push('report');
  return {
    id: row.id,
    requestedBy: row.requested_by,
    schedule: row.schedule,
    targets: isStringList(targets) ? targets : [],
    request: isObject(request) ? request : {},
    baselineKey: row.baseline_key,
    status: row.status,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    error: row.error,
    report: report === UNREADABLE ? null : report,
    openPorts: row.open_ports,
    findings: row.findings,
    maxRisk: row.max_risk,
    unreadable,
  };
}
