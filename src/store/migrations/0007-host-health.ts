/**
 * Host health and the processes behind flows.
 *
 * health_samples: the host probe's samples at full resolution (a day by default), replacing
 * 0001's table of the same name, which no build ever wrote and which is dropped with whatever a
 * test put in it. The figures a chart plots are columns; the whole sample (per core, per file
 * system, per interface, top processes) is JSON in `sample`, read only for short ranges.
 *
 * health_rollups: one row a minute (kept as long as retention.healthDays says): averages and
 * peaks of the same figures, and per interface, file system and core in `detail` (JSON), so a
 * month's chart reads 43,200 small rows instead of 1.3 million samples.
 *
 * flows gains the process on this host that owned the flow's socket, when the system monitor
 * saw it (null otherwise): its pid, command name and user. Never edit this file once released.
 */

import type { Kysely } from 'kysely';
import type { StoreMigration } from './store-migration.js';

async function up(db: Kysely<unknown>): Promise<void> {
  const s = db.schema;
  await s.dropTable('health_samples').execute();
  await s
    .createTable('health_samples')
    .addColumn('ts_ms', 'bigint', (c) => c.primaryKey())
    .addColumn('cpu', 'double precision', (c) => c.notNull())
    .addColumn('memory', 'double precision', (c) => c.notNull())
    .addColumn('swap', 'double precision', (c) => c.notNull())
    .addColumn('load1', 'double precision', (c) => c.notNull())
    .addColumn('disk', 'double precision', (c) => c.notNull())
    .addColumn('net_rx_bps', 'double precision', (c) => c.notNull())
    .addColumn('net_tx_bps', 'double precision', (c) => c.notNull())
    .addColumn('disk_read_bps', 'double precision', (c) => c.notNull())
    .addColumn('disk_write_bps', 'double precision', (c) => c.notNull())
    .addColumn('sample', 'text', (c) => c.notNull())
    .execute();
  await s
    .createTable('health_rollups')
    .addColumn('minute_ms', 'bigint', (c) => c.primaryKey())
    .addColumn('samples', 'integer', (c) => c.notNull())
    .addColumn('cpu', 'double precision', (c) => c.notNull())
    .addColumn('cpu_max', 'double precision', (c) => c.notNull())
    .addColumn('memory', 'double precision', (c) => c.notNull())
    .addColumn('memory_max', 'double precision', (c) => c.notNull())
    .addColumn('swap', 'double precision', (c) => c.notNull())
    .addColumn('load1', 'double precision', (c) => c.notNull())
    .addColumn('disk', 'double precision', (c) => c.notNull())
    .addColumn('net_rx_bps', 'double precision', (c) => c.notNull())
    .addColumn('net_tx_bps', 'double precision', (c) => c.notNull())
    .addColumn('disk_read_bps', 'double precision', (c) => c.notNull())
    .addColumn('disk_write_bps', 'double precision', (c) => c.notNull())
    .addColumn('detail', 'text', (c) => c.notNull())
    .execute();
  await s.alterTable('flows').addColumn('process_pid', 'integer').execute();
  await s.alterTable('flows').addColumn('process_name', 'text').execute();
  await s.alterTable('flows').addColumn('process_user', 'text').execute();
}

export const hostHealthMigration: StoreMigration = { up };
