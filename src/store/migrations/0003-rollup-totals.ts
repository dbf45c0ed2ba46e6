/**
 * Traffic figures whose cost does not grow with the range they cover, measured on the bench's
 * store (bench/api-bench.mjs: 5 million flows over a week, 8.1 million rollup rows):
 * - flow_rollups by host and minute, with the columns the queries read (a covering index): one
 *   host's or the `*` series reads only its own rows. The week's `*` series took 754 ms through
 *   the minute-first primary key, 65 ms with (host, minute_us) alone (each row fetched from the
 *   table) and 10 ms with this one. Migration 0002's comment announced such an index; it was
 *   never created.
 * - host_hour_totals and host_day_totals: each host's (and `*`'s) totals per hour and per UTC day
 *   over all protocols, so a day costs one row per host instead of up to 1440 x protocols. Their
 *   key is (host, period): the top-talker search reads a candidate host's periods in one index
 *   range. The (period, bytes) and (period, packets) indexes give each period's hosts largest
 *   first, which that search reads from the top (store/top-talkers.ts), and retention deletes by.
 *   SQLite keeps them WITHOUT ROWID: the key is the table, with no second copy of it.
 * Both are filled here from flow_rollups (the days from the hours); on the bench's store the
 * whole migration took about 30 s. Never edit this file once released.
 */

import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../store-dialect.js';
import type { StoreMigration } from './store-migration.js';

const HOUR_US = 3_600_000_000;
const DAY_US = 86_400_000_000;

async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const s = db.schema;
  await s
    .createIndex('flow_rollups_host_minute_idx')
    .on('flow_rollups')
    .columns(['host', 'minute_us', 'protocol', 'packets', 'bytes', 'flows'])
    .execute();

  for (const [table, period] of [
    ['host_hour_totals', 'hour_us'],
    ['host_day_totals', 'day_us'],
  ] as const) {
    let create = s
      .createTable(table)
      .addColumn('host', 'text', (c) => c.notNull())
      .addColumn(period, 'bigint', (c) => c.notNull())
      .addColumn('packets', 'bigint', (c) => c.notNull())
      .addColumn('bytes', 'bigint', (c) => c.notNull())
      .addColumn('flows', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint(`${table}_pk`, ['host', period]);
    if (dialect === 'sqlite') create = create.modifyEnd(sql`without rowid`);
    await create.execute();
  }

  // Grouped in key order, so SQLite appends to the new tables instead of inserting at random.
  await sql`insert into host_hour_totals (host, hour_us, packets, bytes, flows)
    select host, minute_us - minute_us % ${sql.lit(HOUR_US)}, sum(packets), sum(bytes), sum(flows)
      from flow_rollups
     group by host, minute_us - minute_us % ${sql.lit(HOUR_US)}`.execute(db);
  await sql`insert into host_day_totals (host, day_us, packets, bytes, flows)
    select host, hour_us - hour_us % ${sql.lit(DAY_US)}, sum(packets), sum(bytes), sum(flows)
      from host_hour_totals
     group by host, hour_us - hour_us % ${sql.lit(DAY_US)}`.execute(db);

  // Built after the rows are in: one sort each instead of an insert per row.
  for (const [table, period] of [
    ['host_hour_totals', 'hour_us'],
    ['host_day_totals', 'day_us'],
  ] as const) {
    for (const measure of ['bytes', 'packets'] as const) {
      await s
        .createIndex(`${table}_${measure}_idx`)
        .on(table)
        .columns([period, `${measure} desc`, 'host'])
        .execute();
    }
  }
}

export const rollupTotalsMigration: StoreMigration = { up };
