/**
 * Alerts through their life, notification channels and their delivery log, and incidents.
 *
 * alerts gains: who it is assigned to; who resolved it and when; the group it belongs to
 * (`src:<address>` or, for an attack from many sources, `dst:<address>`: filled from the stored
 * rows here, by the repository afterwards); the severity the detector gave when an admin's
 * per-type override changed it; and the suppression rule that muted it.
 *
 * alert_events: each alert's history and comments (acknowledged, resolved, reopened, assigned,
 * commented), with who and when. suppression_rules: mute a type, a source or destination network
 * or a mix of them until a time, with a reason; a removed rule stays, marked, for the record.
 *
 * notification_channels: what an admin configured (its settings, secrets included, as JSON:
 * the API never sends them back). notification_deliveries: the queue and the delivery log in
 * one: a row is pending until sent or given up, and stays afterwards as the log.
 *
 * incidents replaces 0001's table of the same name, which no build ever wrote: hosts are JSON,
 * links (alerts, flows, evidence captures, blocks, scans) and the timeline's own entries
 * (status changes, comments, edits) are tables. Never edit this file once released.
 */

import { sql, type CreateTableBuilder, type Kysely } from 'kysely';
import type { DialectName } from '../store-dialect.js';
import type { StoreMigration } from './store-migration.js';

function withId<T extends string>(
  table: CreateTableBuilder<T>,
  dialect: DialectName,
): CreateTableBuilder<T, 'id'> {
  return dialect === 'sqlite'
    ? table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    : table.addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity());
}

async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const s = db.schema;
  await s.alterTable('alerts').addColumn('assignee', 'text').execute();
  await s.alterTable('alerts').addColumn('resolved_by', 'text').execute();
  await s.alterTable('alerts').addColumn('resolved_at', 'bigint').execute();
  await s
    .alterTable('alerts')
    .addColumn('group_key', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  await s.alterTable('alerts').addColumn('detected_severity', 'text').execute();
  await s.alterTable('alerts').addColumn('suppressed_by', 'bigint').execute();
  await sql`update alerts set group_key = case when src is not null then 'src:' || src
    when dst is not null then 'dst:' || dst else 'type:' || type end`.execute(db);
  await s.createIndex('alerts_group_idx').on('alerts').columns(['group_key', 'end_us']).execute();

  await withId(s.createTable('alert_events'), dialect)
    .addColumn('alert_id', 'text', (c) => c.notNull())
    .addColumn('ts_ms', 'bigint', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('text', 'text')
    .addCheckConstraint(
      'alert_events_kind_check',
      sql`kind in ('acknowledged', 'resolved', 'reopened', 'assigned', 'commented')`,
    )
    .execute();
  await s.createIndex('alert_events_alert_idx').on('alert_events').columns(['alert_id', 'id']).execute();

  await withId(s.createTable('suppression_rules'), dialect)
    .addColumn('alert_type', 'text')
    .addColumn('src', 'text')
    .addColumn('dst', 'text')
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('removed_by', 'text')
    .addColumn('removed_at', 'bigint')
    .execute();

  await withId(s.createTable('notification_channels'), dialect)
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('min_severity', 'text', (c) => c.notNull())
    .addColumn('types', 'text', (c) => c.notNull())
    .addColumn('max_per_window', 'integer', (c) => c.notNull())
    .addColumn('window_minutes', 'integer', (c) => c.notNull())
    .addColumn('settings', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addCheckConstraint('notification_channels_kind_check', sql`kind in ('email', 'webhook', 'syslog')`)
    .execute();

  await withId(s.createTable('notification_deliveries'), dialect)
    .addColumn('channel_id', 'bigint', (c) => c.notNull())
    .addColumn('notification_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('alert_id', 'text')
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('notification', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('sent_at', 'bigint')
    .addCheckConstraint('notification_deliveries_status_check', sql`status in ('pending', 'sent', 'failed')`)
    .execute();
  await s
    .createIndex('notification_deliveries_due_idx')
    .on('notification_deliveries')
    .columns(['status', 'next_attempt_at', 'id'])
    .execute();
  await s
    .createIndex('notification_deliveries_channel_idx')
    .on('notification_deliveries')
    .columns(['channel_id', 'id'])
    .execute();

  await s.dropTable('incidents').execute();
  await withId(s.createTable('incidents'), dialect)
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('hosts', 'text', (c) => c.notNull())
    .addColumn('assignee', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('closed_at', 'bigint')
    .addCheckConstraint(
      'incidents_status_check',
      sql`status in ('open', 'investigating', 'contained', 'closed')`,
    )
    .execute();
  await s.createIndex('incidents_updated_idx').on('incidents').columns(['updated_at', 'id']).execute();

  await withId(s.createTable('incident_links'), dialect)
    .addColumn('incident_id', 'bigint', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('ref', 'text', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('added_by', 'text', (c) => c.notNull())
    .addColumn('added_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('incident_links_unique', ['incident_id', 'kind', 'ref'])
    .addCheckConstraint('incident_links_kind_check', sql`kind in ('alert', 'flow', 'pcap', 'block', 'scan')`)
    .execute();
  await s.createIndex('incident_links_ref_idx').on('incident_links').columns(['kind', 'ref']).execute();

  await withId(s.createTable('incident_events'), dialect)
    .addColumn('incident_id', 'bigint', (c) => c.notNull())
    .addColumn('ts_ms', 'bigint', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('text', 'text')
    .addColumn('detail', 'text')
    .execute();
  await s
    .createIndex('incident_events_incident_idx')
    .on('incident_events')
    .columns(['incident_id', 'id'])
    .execute();
}

export const alertLifecycleMigration: StoreMigration = { up };
