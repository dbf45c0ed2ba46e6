/**
 * Alerts in the database: the detector pipeline's alerts upserted by id as they grow, the
 * filtered and paged alert list, groups of related alerts, and an analyst's changes through the
 * alert's life (acknowledge, resolve, reopen, assign, comment), each written with its entry in
 * the alert's history in one transaction. An update from the pipeline replaces the figures but
 * never the analyst's status or assignee: acknowledging an ongoing attack must not be undone by
 * its next report. Filter values are query parameters, never SQL text.
 */

import type { Kysely, Selectable } from 'kysely';
import { alertGroupKey, severityRank, type Alert, type Severity } from '../alerts/alert.js';
import { ErrorCode, FlowTrackError } from '../util/errors.js';
import { LOCAL_SENSOR } from './flow-repository.js';
import { checkInteger, readPageRequest, toPage, type Page, type PageRequest } from './page.js';
import type { AlertEventsTable, AlertsTable, Database } from './schema.js';

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
  assignee: string | null;
  resolvedBy: string | null;
  resolvedAt: number | null;
  /** Related alerts share it: `src:<address>`, `dst:<address>` or `type:<type>`. */
  group: string;
}

export type AlertEventKind = AlertEventsTable['kind'];

/** One entry of an alert's history: a change of status or assignee, or a comment. */
export interface AlertEvent {
  id: number;
  alertId: string;
  /** Epoch milliseconds. */
  tsMs: number;
  actor: string;
  kind: AlertEventKind;
  text: string | null;
}

/** Related alerts (same attacker, or same victim of a many-source attack), summed up. */
export interface AlertGroup {
  group: string;
  /** Alerts in the group matching the filter, and how many of them are open. */
  count: number;
  open: number;
  types: string[];
  /** The highest severity among them. */
  severity: string;
  /** Packet time, epoch microseconds: the first start and last end. */
  start: number;
  end: number;
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
  assignee?: string;
  group?: string;
  /** true: only muted alerts; false: only the others; absent: both. */
  suppressed?: boolean;
  /** The sensor that raised them; LOCAL_SENSOR for this host's own. */
  sensor?: string;
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
          group_key: alertGroupKey(alert),
          detected_severity: alert.detectedSeverity ?? null,
          suppressed_by: alert.suppressedBy ?? null,
          sensor: alert.sensor ?? null,
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
            group_key: eb.ref('excluded.group_key'),
            detected_severity: eb.ref('excluded.detected_severity'),
            suppressed_by: eb.ref('excluded.suppressed_by'),
            sensor: eb.ref('excluded.sensor'),
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
    if (filter.assignee !== undefined) query = query.where('assignee', '=', filter.assignee);
    if (filter.group !== undefined) query = query.where('group_key', '=', filter.group);
    if (filter.suppressed !== undefined)
      query = query.where('suppressed_by', filter.suppressed ? 'is not' : 'is', null);
    if (filter.sensor !== undefined) {
      query =
        filter.sensor === LOCAL_SENSOR
          ? query.where('sensor', 'is', null)
          : query.where('sensor', '=', filter.sensor);
    }
    return query;
  }

  /**
   * Groups of related alerts matching `filter`, the most recently active first (at most
   * `limit`): what an analyst triages instead of a thousand rows.
   */
  async groups(filter: Omit<AlertFilter, keyof PageRequest>, limit: number): Promise<AlertGroup[]> {
    const rows = await this.filtered(filter)
      .select((eb) => [
        'group_key',
        eb.fn.countAll<number | string | bigint>().as('n'),
        eb.fn.sum(eb.case().when('status', '=', 'open').then(1).else(0).end()).as('open'),
        eb.fn.min('start_us').as('start_us'),
        eb.fn.max('end_us').as('end_us'),
      ])
      .groupBy('group_key')
      .orderBy('end_us', 'desc')
      .limit(checkInteger('limit', limit, 1, 1000))
      .execute();
    if (rows.length === 0) return [];
    const keys = rows.map((r) => r.group_key);
    const kinds = await this.filtered(filter)
      .select(['group_key', 'type', 'severity'])
      .distinct()
      .where('group_key', 'in', keys)
      .execute();
    return rows.map((row) => {
      const mine = kinds.filter((k) => k.group_key === row.group_key);
      const severities = mine.map((k) => k.severity as Severity);
      return {
        group: row.group_key,
        count: Number(row.n),
        open: Number(row.open),
        types: [...new Set(mine.map((k) => k.type))].sort(),
        severity: severities.reduce<Severity>(
          (top, s) => (severityRank(s) > severityRank(top) ? s : top),
          'info',
        ),
        start: row.start_us,
        end: row.end_us,
      };
    });
  }

  /**
   * Ids of the alerts of `group` whose status is one of `statuses` (for a change to the group),
   * of one sensor's when `sensor` is given (LOCAL_SENSOR: this host's own).
   */
  async idsInGroup(group: string, statuses: readonly AlertStatus[], sensor?: string): Promise<string[]> {
    const rows = await this.filtered({ group, ...(sensor !== undefined && { sensor }) })
      .select('id')
      .where('status', 'in', statuses)
      .orderBy('end_us', 'desc')
      .limit(10_000)
      .execute();
    return rows.map((r) => r.id);
  }

  /** The alert's history and comments, oldest first. */
  async events(id: string): Promise<AlertEvent[]> {
    const rows = await this.db
      .selectFrom('alert_events')
      .selectAll()
      .where('alert_id', '=', id)
      .orderBy('id')
      .limit(10_000)
      .execute();
    return rows.map(alertEventOf);
  }

  /** Histories of several alerts at once, oldest first (for an incident's timeline). */
  async eventsOf(ids: readonly string[]): Promise<AlertEvent[]> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .selectFrom('alert_events')
      .selectAll()
      .where('alert_id', 'in', ids)
      .orderBy('id')
      .limit(10_000)
      .execute();
    return rows.map(alertEventOf);
  }

  /** Alerts by id, in no particular order; unknown ids are left out. */
  async findByIds(ids: readonly string[]): Promise<AlertRecord[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom('alerts').selectAll().where('id', 'in', ids).execute();
    return rows.map(alertRecordOf);
  }

  /**
   * Marks the alert acknowledged by `by` at `now`; acknowledging it again changes nothing.
   * NOT_FOUND for an unknown id, CONFLICT for a resolved alert (reopen it first).
   */
  async acknowledge(id: string, by: string, now: number, comment?: string): Promise<AlertRecord> {
    return this.change(id, async (current, trx) => {
      if (current.status === 'resolved') {
        throw new FlowTrackError(
          ErrorCode.CONFLICT,
          `alert ${id} is resolved already: reopen it before acknowledging it`,
        );
      }
      if (current.status === 'acknowledged') return false;
      await trx
        .updateTable('alerts')
        .set({ status: 'acknowledged', acknowledged_by: by, acknowledged_at: now, updated_at: now })
        .where('id', '=', id)
        .execute();
      await addEvent(trx, id, now, by, 'acknowledged', comment);
      return true;
    });
  }

  /**
   * Marks the alert resolved by `by` at `now`; resolving an open alert also records `by` as the
   * one who acknowledged it. Resolving it again changes nothing. NOT_FOUND for an unknown id.
   */
  async resolve(id: string, by: string, now: number, comment?: string): Promise<AlertRecord> {
    return this.change(id, async (current, trx) => {
      if (current.status === 'resolved') return false;
      await trx
        .updateTable('alerts')
        .set({
          status: 'resolved',
          acknowledged_by: current.acknowledgedBy ?? by,
          acknowledged_at: current.acknowledgedAt ?? now,
          resolved_by: by,
          resolved_at: now,
          updated_at: now,
        })
        .where('id', '=', id)
        .execute();
      await addEvent(trx, id, now, by, 'resolved', comment);
      return true;
    });
  }

  /** Opens a resolved alert again (a reason is welcome); CONFLICT when it is not resolved. */
  async reopen(id: string, by: string, now: number, comment?: string): Promise<AlertRecord> {
    return this.change(id, async (current, trx) => {
      if (current.status !== 'resolved') {
        throw new FlowTrackError(
          ErrorCode.CONFLICT,
          `alert ${id} is ${current.status}, not resolved: there is nothing to reopen`,
        );
      }
      await trx
        .updateTable('alerts')
        .set({
          status: 'open',
          acknowledged_by: null,
          acknowledged_at: null,
          resolved_by: null,
          resolved_at: null,
          updated_at: now,
        })
        .where('id', '=', id)
        .execute();
      await addEvent(trx, id, now, by, 'reopened', comment);
      return true;
    });
  }

  /** Assigns the alert to `assignee` (a user name), or to nobody with null. */
  async assign(id: string, assignee: string | null, by: string, now: number): Promise<AlertRecord> {
    return this.change(id, async (current, trx) => {
      if (current.assignee === assignee) return false;
      await trx.updateTable('alerts').set({ assignee, updated_at: now }).where('id', '=', id).execute();
      await addEvent(trx, id, now, by, 'assigned', assignee);
      return true;
    });
  }

  /** Adds a comment to the alert's history. */
  async comment(id: string, text: string, by: string, now: number): Promise<AlertRecord> {
    return this.change(id, async (_current, trx) => {
      await addEvent(trx, id, now, by, 'commented', text);
      await trx.updateTable('alerts').set({ updated_at: now }).where('id', '=', id).execute();
      return true;
    });
  }

  /**
   * Runs `apply` on the alert in one transaction with its history entry; `apply` returns false
   * when the change is one already made. NOT_FOUND for an unknown id.
   */
  private async change(
    id: string,
    apply: (current: AlertRecord, trx: Kysely<Database>) => Promise<boolean>,
  ): Promise<AlertRecord> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) throw new FlowTrackError(ErrorCode.NOT_FOUND, `no alert with id ${id}`);
      const current = alertRecordOf(row);
      if (!(await apply(current, trx))) return current;
      const after = await trx.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      return alertRecordOf(after);
    });
  }
}

async function addEvent(
  db: Kysely<Database>,
  alertId: string,
  now: number,
  actor: string,
  kind: AlertEventKind,
  text: string | null | undefined,
): Promise<AlertEvent> {
  const row = await db
    .insertInto('alert_events')
    .values({ alert_id: alertId, ts_ms: now, actor, kind, text: text ?? null })
    .returningAll()
    .executeTakeFirstOrThrow();
  return alertEventOf(row);
}

function alertEventOf(row: Selectable<AlertEventsTable>): AlertEvent {
  return {
    id: row.id,
    alertId: row.alert_id,
    tsMs: row.ts_ms,
    actor: row.actor,
    kind: row.kind,
    text: row.text,
  };
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
    assignee: row.assignee,
    resolvedBy: row.resolved_by,
    resolvedAt: row.resolved_at,
    group: row.group_key,
    detectedSeverity: row.detected_severity as Severity | null,
    suppressedBy: row.suppressed_by === null ? null : row.suppressed_by,
    sensor: row.sensor,
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
