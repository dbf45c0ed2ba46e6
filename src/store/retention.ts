/**
 * Retention: deletes flows, rollups (of hosts, with their hour and day totals, and of ports),
 * alerts (with their history, but never one linked to an incident: an incident keeps its
 * evidence) and the notification log of the same age, health samples and their rollups, and
 * audit events older than their configured ages, then, while the
 * database is over its size limit, the oldest flows in batches, and refreshes the planner
 * statistics of what it deleted from.
 * Flows go in batches so that SQLite's single writer is never held for long (the store writer
 * keeps committing between them). It never deletes users, settings, rules or blocks, and never
 * anything younger than its age limit except flows, and only for the size limit.
 */

import { ErrorCode, FlowTrackError } from '../util/errors.js';
import { MINUTE_US } from './flow-rollup.js';
import { refreshPlannerStatistics } from './planner-statistics.js';
import { deleteRollupsBefore } from './rollup-tables.js';
import type { Store } from './store.js';
import { startPeriodicJob, type PeriodicJob } from '../util/periodic-job.js';

export interface RetentionPolicy {
  /** Ages in milliseconds; null or absent keeps rows forever. */
  flowsMaxAgeMs?: number | null;
  rollupsMaxAgeMs?: number | null;
  alertsMaxAgeMs?: number | null;
  /** The host's full-resolution health samples (a day by default). */
  healthSamplesMaxAgeMs?: number | null;
  /** Their minute rollups. */
  healthRollupsMaxAgeMs?: number | null;
  auditEventsMaxAgeMs?: number | null;
  /** Oldest flows go while the database's data exceeds this; null or absent: no limit. */
  maxSizeBytes?: number | null;
  /** Flows per DELETE statement. Default 5000. */
  batchSize?: number;
}

/** Rows deleted by one run, per table, and the size afterwards. */
export interface RetentionResult {
  flows: number;
  flowRollups: number;
  /** Hour and day totals of hosts, gone with the last of their minutes. */
  hostHourTotals: number;
  hostDayTotals: number;
  /** Per-minute totals of service ports, gone with the same minutes as the flow rollups. */
  portRollups: number;
  alerts: number;
  /** History entries of the deleted alerts. */
  alertEvents: number;
  /** Notifications sent or given up, as old as the alerts deleted. */
  deliveries: number;
  healthSamples: number;
  healthRollups: number;
  auditEvents: number;
  /** Flows deleted for the size limit (besides those deleted for their age). */
  flowsForSize: number;
  /** The data estimate the size limit is judged by, after the run (Store.dataBytes). */
  dataBytes: number;
}

const DEFAULT_BATCH = 5000;

/** Applies `policy` once, judging ages from `nowMs` (epoch milliseconds). */
export async function runRetention(
  store: Store,
  policy: RetentionPolicy,
  nowMs: number,
): Promise<RetentionResult> {
  const batch = policy.batchSize ?? DEFAULT_BATCH;
  if (!Number.isSafeInteger(batch) || batch < 1) {
    throw new FlowTrackError(
      ErrorCode.BAD_CONFIG,
      `retention batchSize must be a whole number above 0, not ${batch}`,
    );
  }
  const cutoffMs = (name: string, age: number | null | undefined): number | null => {
    if (age === null || age === undefined) return null;
    if (!Number.isFinite(age) || age < 0) {
      throw new FlowTrackError(
        ErrorCode.BAD_CONFIG,
        `retention ${name} must be 0 or more milliseconds, not ${age}`,
      );
    }
    return nowMs - age;
  };
  const flowsCutoff = cutoffMs('flowsMaxAgeMs', policy.flowsMaxAgeMs);
  const rollupsCutoff = cutoffMs('rollupsMaxAgeMs', policy.rollupsMaxAgeMs);
  const alertsCutoff = cutoffMs('alertsMaxAgeMs', policy.alertsMaxAgeMs);
  const healthCutoff = cutoffMs('healthSamplesMaxAgeMs', policy.healthSamplesMaxAgeMs);
  const healthRollupsCutoff = cutoffMs('healthRollupsMaxAgeMs', policy.healthRollupsMaxAgeMs);
  const auditCutoff = cutoffMs('auditEventsMaxAgeMs', policy.auditEventsMaxAgeMs);
  const db = store.db;
  const result: RetentionResult = {
    flows: 0,
    flowRollups: 0,
    hostHourTotals: 0,
    hostDayTotals: 0,
    portRollups: 0,
    alerts: 0,
    alertEvents: 0,
    deliveries: 0,
    healthSamples: 0,
    healthRollups: 0,
    auditEvents: 0,
    flowsForSize: 0,
    dataBytes: 0,
  };

  if (flowsCutoff !== null) {
    const beforeUs = flowsCutoff * 1000;
    for (;;) {
      const deleted = await deleteOldestFlows(store, batch, beforeUs);
      result.flows += deleted;
      if (deleted < batch) break;
    }
  }
  if (rollupsCutoff !== null) {
    // A rollup row covers a whole minute: it goes once its minute has fully passed the cutoff.
    // One transaction, as the hour and day totals give up what their deleted minutes held.
    const keepFromUs = Math.floor((rollupsCutoff * 1000) / MINUTE_US) * MINUTE_US;
    const deleted = await db.transaction().execute((trx) => deleteRollupsBefore(trx, keepFromUs));
    result.flowRollups = deleted.minutes;
    result.hostHourTotals = deleted.hours;
    result.hostDayTotals = deleted.days;
    result.portRollups = deleted.ports;
  }
  if (alertsCutoff !== null) {
    const r = await db
      .deleteFrom('alerts')
      .where('end_us', '<', alertsCutoff * 1000)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('incident_links')
              .select('incident_links.id')
              .where('incident_links.kind', 'in', ['alert', 'pcap'])
              .whereRef('incident_links.ref', '=', 'alerts.id'),
          ),
        ),
      )
      .executeTakeFirst();
    result.alerts = Number(r.numDeletedRows);
    const events = await db
      .deleteFrom('alert_events')
      .where((eb) =>
        eb.not(
          eb.exists(
            eb.selectFrom('alerts').select('alerts.id').whereRef('alerts.id', '=', 'alert_events.alert_id'),
          ),
        ),
      )
      .executeTakeFirst();
    result.alertEvents = Number(events.numDeletedRows);
    const deliveries = await db
      .deleteFrom('notification_deliveries')
      .where('status', '!=', 'pending')
      .where('created_at', '<', alertsCutoff)
      .executeTakeFirst();
    result.deliveries = Number(deliveries.numDeletedRows);
  }
  if (healthCutoff !== null) {
    const r = await db.deleteFrom('health_samples').where('ts_ms', '<', healthCutoff).executeTakeFirst();
    result.healthSamples = Number(r.numDeletedRows);
  }
  if (healthRollupsCutoff !== null) {
    const r = await db
      .deleteFrom('health_rollups')
      .where('minute_ms', '<', healthRollupsCutoff)
      .executeTakeFirst();
    result.healthRollups = Number(r.numDeletedRows);
  }
  if (auditCutoff !== null) {
    const r = await db.deleteFrom('audit_events').where('ts_ms', '<', auditCutoff).executeTakeFirst();
    result.auditEvents = Number(r.numDeletedRows);
  }
  await store.reclaimSpace();

  const maxSize = policy.maxSizeBytes ?? null;
  result.dataBytes = await store.dataBytes();
  if (maxSize !== null) {
    // Each round deletes one batch and measures again. Deleting rows frees whole pages only as
    // they empty, so the measure falls in steps; the loop ends when under the limit or when no
    // flows are left.
    while (result.dataBytes > maxSize) {
      const deleted = await deleteOldestFlows(store, batch, null);
      if (deleted === 0) break;
      result.flowsForSize += deleted;
      await store.reclaimSpace();
      result.dataBytes = await store.dataBytes();
    }
  }
  await refreshPlannerStatistics(store, deletedFrom(result));
  return result;
}

/** The tables `result` says rows were deleted from. */
function deletedFrom(result: RetentionResult): string[] {
  const counts: [string, number][] = [
    ['flows', result.flows + result.flowsForSize],
    ['flow_rollups', result.flowRollups],
    ['host_hour_totals', result.hostHourTotals],
    ['host_day_totals', result.hostDayTotals],
    ['port_rollups', result.portRollups],
    ['alerts', result.alerts],
    ['alert_events', result.alertEvents],
    ['notification_deliveries', result.deliveries],
    ['health_samples', result.healthSamples],
    ['health_rollups', result.healthRollups],
    ['audit_events', result.auditEvents],
  ];
  return counts.filter(([, n]) => n > 0).map(([table]) => table);
}

/** Deletes up to `limit` flows, oldest by last packet first, optionally only before `beforeUs`. */
async function deleteOldestFlows(store: Store, limit: number, beforeUs: number | null): Promise<number> {
  const result = await store.db
    .deleteFrom('flows')
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('flows')
        .select('id')
        .$if(beforeUs !== null, (q) => q.where('last_seen_us', '<', beforeUs ?? 0))
        .orderBy('last_seen_us')
        .orderBy('id')
        .limit(limit),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** A running retention timer: `stop()` stops it and waits for a run in progress. */
export type RetentionTimer = PeriodicJob;

/**
 * Runs retention every `intervalMs` (first run after one interval) with the wall clock. The
 * timer does not keep the process alive, and runs never overlap. `onRun` hears each result,
 * `onError` each failure (the next run tries again).
 */
export function startRetention(
  store: Store,
  policy: RetentionPolicy,
  intervalMs: number,
  hooks: { onRun?: (result: RetentionResult) => void; onError?: (err: FlowTrackError) => void } = {},
): RetentionTimer {
  return startPeriodicJob(
    intervalMs,
    async () => {
      const result = await runRetention(store, policy, Date.now());
      hooks.onRun?.(result);
    },
    'retention failed',
    hooks.onError,
  );
}
