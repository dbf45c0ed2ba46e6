/**
 * port_rollups: per minute, the TCP and UDP flows of each service port (the server's port, as the
 * flow record defines the server: the side that did not send the first packet; port 0 left out),
 * so that the overview's top ports of any window do not group the flows: on the bench's store
 * (bench/api-bench.mjs' generator: 5 million flows over 7 days, SQLite, this 2-core VM) grouping
 * the flows by port took 0.6-0.9 s for a day and 4-6 s for the week. Each flow counts wholly
 * in the minute of its last packet (flow-rollup.ts `rollUpPorts`), so this migration fills the
 * table from the flows with one GROUP BY, exactly as the inserts would have.
 *
 * Per minute rather than per hour, measured on that store: 236,263 minute rows for the week
 * against 73,224 hour rows (the scans' random ports make most rows of an hour). The top 10 by
 * bytes over windows ending at 14:31 on its busiest day, so that they cut hours, grouped from the
 * per-minute table / from the per-hour table with the cut hours' flows grouped from `flows`:
 * 15 min 0.2 / 9 ms, 1 h 0.9 / 42 ms, 24 h 15 / 43 ms, 7 days 137 / 62 ms. The minutes answer
 * every window up to a few days faster, each exactly to the minute as the traffic series and the
 * top talkers are, and need nothing else, where the hours would need the flows of the cut hours,
 * which the size limit may have deleted (it deletes flows, never rollups). Their cost grows with
 * the range (about 20 ms a day of such traffic); an hour table beside them, as 0003 added for
 * the hosts, is the way to cheaper months should the dashboard want them.
 *
 * Through FlowRepository.topPorts, top 10 by bytes: SQLite 15 min 0.6 ms, 1 h 1.7 ms, 24 h
 * 21-25 ms, 7 days 130-220 ms; PostgreSQL 15: 2.7, 6.7, 26-40 and 83 ms. Keeping the table costs
 * the inserts about 35 upserted rows per batch of 500 flows: 0.20-0.26 s of the 41-45 s that
 * 200,000 flows took in the writer's batches (under 1%; 4,500 flows/s before, 4,350 after, within
 * the runs' spread of 3,800-5,300). This migration took 5.2 s on SQLite and 8.1 s on PostgreSQL
 * for the 5 million flows.
 *
 * Keyed by (minute_us, protocol, port): a range's rows are one stretch of the key, the upserts of
 * the inserts find their row by it, and retention deletes by its start. No other index: the top
 * ports group every row of the range (a port's total needs all its minutes). SQLite keeps the
 * table WITHOUT ROWID: the key is the table, with no second copy of it. Never edit this file once
 * released.
 */

import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../store-dialect.js';
import type { StoreMigration } from './store-migration.js';

const MINUTE_US = 60_000_000;

async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  let create = db.schema
    .createTable('port_rollups')
    .addColumn('minute_us', 'bigint', (c) => c.notNull())
    .addColumn('protocol', 'text', (c) => c.notNull())
    .addColumn('port', 'integer', (c) => c.notNull())
    .addColumn('packets', 'bigint', (c) => c.notNull())
    .addColumn('bytes', 'bigint', (c) => c.notNull())
    .addColumn('flows', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('port_rollups_pk', ['minute_us', 'protocol', 'port']);
  if (dialect === 'sqlite') create = create.modifyEnd(sql`without rowid`);
  await create.execute();

  // Grouped in key order, so SQLite appends to the new table instead of inserting at random. The
  // minute is a literal (a constant of this file): the same expression in SELECT and GROUP BY,
  // which PostgreSQL would not see in two separate parameters.
  const minute = sql`last_seen_us - last_seen_us % ${sql.lit(MINUTE_US)}`;
  await sql`insert into port_rollups (minute_us, protocol, port, packets, bytes, flows)
    select ${minute}, protocol, dst_port,
           sum(packets_to_server + packets_to_client), sum(bytes_to_server + bytes_to_client), count(*)
      from flows
     where protocol in (${'tcp'}, ${'udp'}) and dst_port <> ${0}
     group by ${minute}, protocol, dst_port`.execute(db);
}

export const portRollupsMigration: StoreMigration = { up };
