/**
 * Sensors and the hub, and flow exporters.
 *
 * sensors: every source of flows the hub has heard from, by name: FlowTrack sensors (over the
 * bus) and routers exporting NetFlow or IPFIX (`exporter:<address>`); when it was first and last
 * heard from, and its latest health report (JSON).
 *
 * flows and alerts gain `sensor`: the sensor or exporter they came from, null for this host's own
 * capture. flows are indexed by sensor and time, for the flow list filtered by sensor.
 *
 * bus_messages: the id of every message from a sensor that the hub has stored, written in the
 * same transaction as its flows, so a message delivered twice (a redelivery after the hub
 * stopped between its commit and its acknowledgement) is stored once. Never edit this file once
 * released.
 */

import type { Kysely } from 'kysely';
import type { StoreMigration } from './store-migration.js';

async function up(db: Kysely<unknown>): Promise<void> {
  const s = db.schema;
  await s
    .createTable('sensors')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('first_seen_ms', 'bigint', (c) => c.notNull())
    .addColumn('last_contact_ms', 'bigint', (c) => c.notNull())
    .addColumn('health', 'text')
    .execute();
  await s.alterTable('flows').addColumn('sensor', 'text').execute();
  await s.createIndex('flows_sensor_idx').on('flows').columns(['sensor', 'last_seen_us']).execute();
  await s.alterTable('alerts').addColumn('sensor', 'text').execute();
  await s
    .createTable('bus_messages')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('received_ms', 'bigint', (c) => c.notNull())
    .execute();
  await s.createIndex('bus_messages_received_idx').on('bus_messages').column('received_ms').execute();
}

export const sensorsMigration: StoreMigration = { up };
