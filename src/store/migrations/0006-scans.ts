/**
 * scans: the port scanner's history, one row a run from the request to its report. The id is a
 * UUID the caller makes (the scan is announced before it is stored); targets and the rest of the
 * request are kept as given, as JSON; baseline_key is the caller's normalised key of targets and
 * ports, so a run can be compared with the previous finished run of the same scan. The report is
 * JSON text (a large network's can be megabytes), its counts and highest risk are columns so a
 * list of scans need not read it.
 *
 * Replaces 0001's scans (one target, integer ids, never written: no build had a repository or a
 * route for it), which is dropped with whatever it holds. Status and risk are checked by the
 * database as 0001 checks an alert's status, so a row the repository reads back always has one
 * of its values.
 *
 * Indexes: the list's order, newest first with the id as tie-break (its keyset cursor); the
 * previous done run of a baseline before a time (baseline_key, status, created_at, id: one seek,
 * a full index rather than a partial one `where status = 'done'`, which SQLite would not use for
 * the query's bound parameter); and a schedule's latest run, which the scheduler asks for every
 * schedule at every tick. Never edit this file once released.
 */

import { sql, type Kysely } from 'kysely';
import type { StoreMigration } from './store-migration.js';

async function up(db: Kysely<unknown>): Promise<void> {
  const s = db.schema;
  await s.dropTable('scans').execute();
  await s
    .createTable('scans')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('schedule', 'text')
    .addColumn('targets', 'text', (c) => c.notNull())
    .addColumn('request', 'text', (c) => c.notNull())
    .addColumn('baseline_key', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('started_at', 'bigint')
    .addColumn('finished_at', 'bigint')
    .addColumn('error', 'text')
    .addColumn('report', 'text')
    .addColumn('open_ports', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('findings', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_risk', 'text')
    .addCheckConstraint(
      'scans_status_check',
      sql`status in ('queued', 'running', 'done', 'failed', 'cancelled')`,
    )
    .addCheckConstraint(
      'scans_max_risk_check',
      sql`max_risk in ('info', 'low', 'medium', 'high', 'critical')`,
    )
    .addCheckConstraint('scans_counts_check', sql`open_ports >= 0 and findings >= 0`)
    .execute();
  await s.createIndex('scans_created_idx').on('scans').columns(['created_at desc', 'id desc']).execute();
  await s
    .createIndex('scans_baseline_idx')
    .on('scans')
    .columns(['baseline_key', 'status', 'created_at', 'id'])
    .execute();
  await s.createIndex('scans_schedule_idx').on('scans').columns(['schedule', 'created_at', 'id']).execute();
}

export const scansMigration: StoreMigration = { up };
