/**
 * Alerts in the database: the detector pipeline's alerts upserted by id as they grow, the
 * filtered and paged alert list, and an analyst's acknowledge and resolve. An update from the
 * pipeline replaces the figures but never the analyst's status: acknowledging an ongoing attack
 * must not be undone by its next report. Filter values are query parameters, never SQL text.
 */

import type { Kysely, Selectable } from 'kysely';
import type { Alert } from '../alerts/alert.js';
import { ErrorCode, FlowTrackError } from '../util/errors.js';
import { checkInteger, readPageRequest, toPage, type Page, type PageRequest } from './page.js';
import type { AlertsTable, Database } from './schema.js';

export type AlertStatus = AlertsTable['status'];
export const ALERT_STATUSES: readonly AlertStatus[] = ['open', 'acknowledged', 'resolved'];

/** An alert as the store gives it back: the pipeline's Alert plus the analyst's status. */
export interface AlertRecord extends Alert {
  status: AlertStatus;
  acknowledgedBy: string | null;
  /** Epoch milliseconds. */
  acknowledgedAt: number | null;
  /** Epoch milliseconds of the last change, by the pipeline or an analyst. */
  updatedAt: number;
}

/** Which alerts to list; fields combine with AND. */
export interface AlertFilter extends PageRequest {
  type?: string;
  severity?: string;
  status?: string;
  /** Alerts whose evidence reaches this time or later (end >= fromUs), epoch microseconds. */
  fromUs?: number;
  /** Alerts that had begun by this time (start <= toUs). */
  toUs?: number;
  src?: string;
  dst?: string;
}

export class AlertRepository {
  /** `db` may be a transaction: then the upserts join it. */
  constructor(private readonly db: Kysely<Database>) {}

  /** Inserts the alerts, or updates the ones already stored (by id), at server time `now`. */
  async upsertAlerts(alerts: readonly Alert[], now: number): Promise<void> {
    for (const alert of alerts) {
      await this.db
        .insertInto('alerts')
        .values({
          id: alert.id,
          type: alert.type,
          severity: alert.severity,
          src: alert.src,
          dst: alert.dst,
          start_us: alert.start,
          end_us: alert.end,
          summary: alert.summary,
          counters: JSON.stringify(alert.counters),
          evidence: JSON.stringify(alert.evidence),
          updates: alert.updates,
          status: 'open',
          updated_at: now,
        })
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => ({
            type: eb.ref('excluded.type'),
            severity: eb.ref('excluded.severity'),
            src: eb.ref('excluded.src'),
            dst: eb.ref('excluded.dst'),
            start_us: eb.ref('excluded.start_us'),
            end_us: eb.ref('excluded.end_us'),
            summary: eb.ref('excluded.summary'),
            counters: eb.ref('excluded.counters'),
            evidence: eb.ref('excluded.evidence'),
            updates: eb.ref('excluded.updates'),
            updated_at: eb.ref('excluded.updated_at'),
          })),
        )
        .execute();
    }
  }

  async findById(id: string): Promise<AlertRecord | null> {
    const row = await this.db.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? alertRecordOf(row) : null;
  }

  /** Alerts matching `filter`, the most recent (by end of evidence) first. */
  async listAlerts(filter: AlertFilter = {}): Promise<Page<AlertRecord>> {
    const { limit, offset, after } = readPageRequest(filter);
    let query = this.filtered(filter).selectAll();
    if (after) {
      const [endUs, id] = after;
      if (typeof id !== 'string') {
        throw new FlowTrackError(
          ErrorCode.BAD_REQUEST,
          'the page cursor is not one of the alert list: start again',
        );
      }
      query = query.where((eb) =>
        eb.or([eb('end_us', '<', endUs), eb.and([eb('end_us', '=', endUs), eb('id', '<', id)])]),
      );
    }
    const rows = await query
      .orderBy('end_us', 'desc')
      .orderBy('id', 'desc')
      .limit(limit + 1)
      .offset(offset)
      .execute();
    return toPage(rows, limit, (row) => [row.end_us, row.id], alertRecordOf);
  }

  /**
   * How many alerts match `filter` by severity, and the newest few: what an overview shows,
   * without sending every alert's evidence to count them.
   */
  async summary(
    filter: Omit<AlertFilter, keyof PageRequest>,
    newest: number,
  ): Promise<{ total: number; bySeverity: Record<string, number>; newest: AlertRecord[] }> {
    const counts = await this.filtered(filter)
      .select(['severity', (eb) => eb.fn.countAll<number | string | bigint>().as('n')])
      .groupBy('severity')
      .execute();
    const bySeverity: Record<string, number> = {};
    for (const row of counts) bySeverity[row.severity] = Number(row.n);
    const total = Object.values(bySeverity).reduce((a, b) => a + b, 0);
    const page = await this.listAlerts({ ...filter, limit: checkInteger('newest', newest, 1, 100) });
    return { total, bySeverity, newest: page.items };
  }

  /** The alerts table narrowed by `filter` (type, severity, status, time, addresses). */
  private filtered(filter: Omit<AlertFilter, keyof PageRequest>) {
    let query = this.db.selectFrom('alerts');
    if (filter.type !== undefined) query = query.where('type', '=', filter.type);
    if (filter.severity !== undefined) query = query.where('severity', '=', filter.severity);
    if (filter.status !== undefined) query = query.where('status', '=', filter.status as AlertStatus);
    if (filter.fromUs !== undefined)
      query = query.where('end_us', '>=', checkInteger('fromUs', filter.fromUs, 0));
    if (filter.toUs !== undefined)
      query = query.where('start_us', '<=', checkInteger('toUs', filter.toUs, 0));
    if (filter.src !== undefined) query = query.where('src', '=', filter.src);
    if (filter.dst !== undefined) query = query.where('dst', '=', filter.dst);
    return query;
  }

  /**
   * Marks the alert acknowledged by `by` (a user name) at `now`; acknowledging it again changes
   * nothing. NOT_FOUND for an unknown id, CONFLICT for a resolved alert.
   */
  async acknowledge(id: string, by: string, now: number): Promise<AlertRecord> {
    const current = await this.require(id);
    if (current.status === 'resolved') {
      throw new FlowTrackError(
        ErrorCode.CONFLICT,
        `alert ${id} is resolved already: it cannot be acknowledged`,
      );
    }
    if (current.status === 'acknowledged') return current;
    await this.db
      .updateTable('alerts')
      .set({ status: 'acknowledged', acknowledged_by: by, acknowledged_at: now, updated_at: now })
      .where('id', '=', id)
      .where('status', '=', 'open')
      .execute();
    return this.require(id);
  }

  /**
   * Marks the alert resolved; resolving an open alert also records `by` as the one who
   * acknowledged it. NOT_FOUND for an unknown id.
   */
  async resolve(id: string, by: string, now: number): Promise<AlertRecord> {
    const current = await this.require(id);
    if (current.status === 'resolved') return current;
    await this.db
      .updateTable('alerts')
      .set({
        status: 'resolved',
        acknowledged_by: current.acknowledgedBy ?? by,
        acknowledged_at: current.acknowledgedAt ?? now,
        updated_at: now,
      })
      .where('id', '=', id)
      .execute();
    return this.require(id);
  }

  private async require(id: string): Promise<AlertRecord> {
    const alert = await this.findById(id);
    if (!alert) throw new FlowTrackError(ErrorCode.NOT_FOUND, `no alert with id ${id}`);
    return alert;
  }
}

function alertRecordOf(row: Selectable<AlertsTable>): AlertRecord {
  return {
    id: row.id,
    type: row.type as Alert['type'],
    severity: row.severity as Alert['severity'],
    src: row.src,
    dst: row.dst,
    start: row.start_us,
    end: row.end_us,
    counters: JSON.parse(row.counters) as Alert['counters'],
    summary: row.summary,
    evidence: evidenceOf(row.evidence),
    updates: row.updates,
    status: row.status,
    acknowledgedBy: row.acknowledged_by,
    acknowledgedAt: row.acknowledged_at,
    updatedAt: row.updated_at,
  };
}

/**
 * The stored evidence with every list present: rows written before a list existed (or by an
 * older detector) lack it, and readers should not have to guess which lists may be missing.
 */
function evidenceOf(json: string): Alert['evidence'] {
  const stored = JSON.parse(json) as Partial<Alert['evidence']> | null;
  return {
    thresholds: stored?.thresholds ?? [],
    sampleFlows: stored?.sampleFlows ?? [],
    topSources: stored?.topSources ?? [],
  };
}
