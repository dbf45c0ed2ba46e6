/**
 * Indexes the API's queries need, measured on 5 million flows (bench/api-bench.mjs):
 * - flows by port, either side, newest first: one index per side with the time, so
 *   `/api/flows?port=N` reads the newest matches of each side in index order (a rare port took
 *   2 s scanning the time index);
 * - one host's traffic over time (`/api/traffic?host=X`): rollups by host and minute (a day took
 *   195 ms through the minute-first primary key, 9.5 ms by hand with this index).
 */

import type { Kysely } from 'kysely';
import type { StoreMigration } from './store-migration.js';

async function up(db: Kysely<unknown>): Promise<void> {
  const s = db.schema;
  await s.dropIndex('flows_dst_port_idx').execute();
  await s
    .createIndex('flows_dst_port_last_seen_idx')
    .on('flows')
    .columns(['dst_port', 'last_seen_us'])
    .execute();
  await s
    .createIndex('flows_src_port_last_seen_idx')
    .on('flows')
    .columns(['src_port', 'last_seen_us'])
    .execute();
}

export const apiQueryIndexesMigration: StoreMigration = { up };
