/**
 * Schema version 1: every table of `flowtrack serve`. Plain SQL types both databases accept
 * (bigint, integer, double precision, text); JSON is text. Only the auto-increment id differs:
 * SQLite's AUTOINCREMENT (ids never reused after a delete, so an old audit line cannot point at a
 * new user) and PostgreSQL's identity column. Never edit this file once released.
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

  await withId(s.createTable('flows'), dialect)
    .addColumn('first_seen_us', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_us', 'bigint', (c) => c.notNull())
    .addColumn('ip_version', 'integer', (c) => c.notNull())
    .addColumn('protocol', 'text', (c) => c.notNull())
    .addColumn('src_addr', 'text', (c) => c.notNull())
    .addColumn('dst_addr', 'text', (c) => c.notNull())
    .addColumn('src_port', 'integer', (c) => c.notNull())
    .addColumn('dst_port', 'integer', (c) => c.notNull())
    .addColumn('packets_to_server', 'bigint', (c) => c.notNull())
    .addColumn('bytes_to_server', 'bigint', (c) => c.notNull())
    .addColumn('packets_to_client', 'bigint', (c) => c.notNull())
    .addColumn('bytes_to_client', 'bigint', (c) => c.notNull())
    .addColumn('tcp_flags_to_server', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('tcp_flags_to_client', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('end_reason', 'text', (c) => c.notNull())
    .execute();
  await s.createIndex('flows_last_seen_idx').on('flows').column('last_seen_us').execute();
  await s.createIndex('flows_src_last_seen_idx').on('flows').columns(['src_addr', 'last_seen_us']).execute();
  await s.createIndex('flows_dst_last_seen_idx').on('flows').columns(['dst_addr', 'last_seen_us']).execute();
  await s.createIndex('flows_dst_port_idx').on('flows').column('dst_port').execute();

  await s
    .createTable('flow_rollups')
    .addColumn('minute_us', 'bigint', (c) => c.notNull())
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('protocol', 'text', (c) => c.notNull())
    .addColumn('packets', 'bigint', (c) => c.notNull())
    .addColumn('bytes', 'bigint', (c) => c.notNull())
    .addColumn('flows', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('flow_rollups_pk', ['minute_us', 'host', 'protocol'])
    .execute();

  await s
    .createTable('alerts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('src', 'text')
    .addColumn('dst', 'text')
    .addColumn('start_us', 'bigint', (c) => c.notNull())
    .addColumn('end_us', 'bigint', (c) => c.notNull())
    .addColumn('summary', 'text', (c) => c.notNull())
    .addColumn('counters', 'text', (c) => c.notNull())
    .addColumn('evidence', 'text', (c) => c.notNull())
    .addColumn('updates', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('open'))
    .addColumn('acknowledged_by', 'text')
    .addColumn('acknowledged_at', 'bigint')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addCheckConstraint('alerts_status_check', sql`status in ('open', 'acknowledged', 'resolved')`)
    .execute();
  await s.createIndex('alerts_end_idx').on('alerts').column('end_us').execute();
  await s.createIndex('alerts_status_end_idx').on('alerts').columns(['status', 'end_us']).execute();

  await withId(s.createTable('incidents'), dialect)
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('alert_ids', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await withId(s.createTable('firewall_rules'), dialect)
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('family', 'text', (c) => c.notNull())
    .addColumn('src', 'text')
    .addColumn('dst', 'text')
    .addColumn('protocol', 'text')
    .addColumn('port', 'integer')
    .addColumn('comment', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .execute();

  await withId(s.createTable('blocks'), dialect)
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('alert_id', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('removed_at', 'bigint')
    .execute();
  await s.createIndex('blocks_address_idx').on('blocks').column('address').execute();

  await withId(s.createTable('scans'), dialect)
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('ports', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint')
    .addColumn('result', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .execute();

  await s
    .createTable('health_samples')
    .addColumn('ts_ms', 'bigint', (c) => c.notNull())
    .addColumn('cpu', 'double precision', (c) => c.notNull())
    .addColumn('memory', 'double precision', (c) => c.notNull())
    .addColumn('disk', 'double precision', (c) => c.notNull())
    .addColumn('net_rx_bytes', 'bigint', (c) => c.notNull())
    .addColumn('net_tx_bytes', 'bigint', (c) => c.notNull())
    .addColumn('load', 'text', (c) => c.notNull())
    .execute();
  await s.createIndex('health_samples_ts_idx').on('health_samples').column('ts_ms').execute();

  await withId(s.createTable('users'), dialect)
    .addColumn('username', 'text', (c) => c.notNull().unique())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('password_changed_at', 'bigint', (c) => c.notNull())
    .addCheckConstraint('users_role_check', sql`role in ('admin', 'analyst', 'viewer')`)
    .execute();

  await s
    .createTable('refresh_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('family', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await s.createIndex('refresh_tokens_family_idx').on('refresh_tokens').column('family').execute();
  await s.createIndex('refresh_tokens_user_idx').on('refresh_tokens').column('user_id').execute();

  await withId(s.createTable('audit_events'), dialect)
    .addColumn('ts_ms', 'bigint', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('actor_ip', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target', 'text')
    .addColumn('before', 'text')
    .addColumn('after', 'text')
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addCheckConstraint('audit_events_outcome_check', sql`outcome in ('ok', 'denied', 'failed')`)
    .execute();
  await s.createIndex('audit_events_ts_idx').on('audit_events').column('ts_ms').execute();
  await s.createIndex('audit_events_actor_ts_idx').on('audit_events').columns(['actor', 'ts_ms']).execute();
  await s.createIndex('audit_events_action_ts_idx').on('audit_events').columns(['action', 'ts_ms']).execute();

  await s
    .createTable('settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .execute();
}

export const initialMigration: StoreMigration = { up };
