/**
 * Databases and backups at another schema version than this build's, made the way an older or a
 * newer FlowTrack would have made them: Kysely's Migrator with only the first migrations of the
 * real list (an older build), or with one migration beyond it (a newer build), then a real
 * backup file of the result. Test code only.
 */

import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Migrator, sql, type Migration } from 'kysely';
import { hashPassword } from '../../src/api/auth/passwords.js';
import type { Alert } from '../../src/alerts/alert.js';
import { backupNameFor } from '../../src/store/backup.js';
import { flowColumnsOf } from '../../src/store/flow-repository.js';
import { rollUpFlows } from '../../src/store/flow-rollup.js';
import { rollupColumnsOf } from '../../src/store/rollup-tables.js';
import { writeBackupFile } from '../../src/store/backup-file.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from '../../src/store/migrations/migration-list.js';
import type { StoreMigration } from '../../src/store/migrations/store-migration.js';
import type { FlowsTable } from '../../src/store/schema.js';
import type { Store } from '../../src/store/store.js';
import { GOOD_PASSWORD } from './api-server.js';
import { flowRow } from './store-suite.js';

/** The migrations an older build had: the first `version` of this build's list. */
export function migrationsUpTo(version: number): string[] {
  return Object.keys(MIGRATIONS).slice(0, version);
}

/** A migration only a newer FlowTrack knows: the version after this build's newest. */
export const NEWER_VERSION = LATEST_SCHEMA_VERSION + 1;
const FROM_THE_FUTURE: Record<string, StoreMigration> = {
  [`${String(NEWER_VERSION).padStart(4, '0')}-from-a-newer-flowtrack`]: {
    async up(db) {
      await db.schema
        .createTable('sensor_groups')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .execute();
    },
  },
};

/**
 * Migrates `store` (opened with `migrate: false`) with exactly the migrations `names` of this
 * build's list, plus the newer build's one when `newer` is set.
 */
export async function migrateAs(store: Store, names: readonly string[], newer = false): Promise<void> {
  const chosen: Record<string, StoreMigration> = {};
  for (const name of names) chosen[name] = MIGRATIONS[name]!;
  if (newer) Object.assign(chosen, FROM_THE_FUTURE);
  const bound: Record<string, Migration> = {};
  for (const [name, m] of Object.entries(chosen)) bound[name] = { up: (db) => m.up(db, store.dialect) };
  const outcome = await new Migrator({
    db: store.db,
    provider: { getMigrations: () => Promise.resolve(bound) },
  }).migrateToLatest();
  if (outcome.error !== undefined) {
    throw outcome.error instanceof Error
      ? outcome.error
      : new Error('migrating failed', { cause: outcome.error });
  }
}

/**
 * The newest schema version recorded in the database, also one this build does not know
 * (`store.schemaVersion()` counts only the migrations of this build's list).
 */
export async function recordedVersion(store: Store): Promise<number> {
  const rows = await sql<{ name: string }>`select name from kysely_migration`.execute(store.db);
  return Math.max(0, ...rows.rows.map((r) => Number.parseInt(r.name, 10)));
}

/** What `seedInstallation` wrote, to look for after a restore. */
export interface Installation {
  admin: string;
  /** The address every one of its flows comes from. */
  source: string;
  flows: number;
  alertId: string;
  auditAction: string;
}

/** An installation's data: an admin who can sign in with GOOD_PASSWORD, flows, an alert, an audit event. */
export async function seedInstallation(store: Store, nowMs: number, admin = 'olga'): Promise<Installation> {
  const source = '198.51.100.23';
  const startUs = nowMs * 1000 - 600_000_000;
  const flows = Array.from({ length: 12 }, (_, i) =>
    flowRow({
      srcAddr: source,
      srcPort: 50_000 + i,
      firstSeenUs: startUs + i * 10_000_000,
      lastSeenUs: startUs + i * 10_000_000 + 2_000_000,
    }),
  );
  // Written as the first schema's build wrote them, the flows and their minute rollups:
  // insertFlows writes the tables of this build's schema, which an older store does not have.
  await store.db.transaction().execute(async (trx) => {
    // Without the process columns migration 0007 added.
    const v1Columns = flows.map(
      (f) =>
        Object.fromEntries(
          Object.entries(flowColumnsOf(f)).filter(
            ([column]) => !column.startsWith('process_') && column !== 'sensor',
          ),
        ) as Omit<FlowsTable, 'id' | 'process_pid' | 'process_name' | 'process_user'>,
    );
    await trx.insertInto('flows').values(v1Columns).execute();
    await trx.insertInto('flow_rollups').values(rollUpFlows(flows).map(rollupColumnsOf)).execute();
  });
  await store.users.create(
    { username: admin, passwordHash: await hashPassword(GOOD_PASSWORD), role: 'admin' },
    nowMs,
  );
  const alert: Alert = {
    id: 'old-port_scan-1',
    type: 'port_scan',
    severity: 'high',
    src: source,
    dst: '192.0.2.80',
    start: startUs,
    end: startUs + 5_000_000,
    counters: { ports: 120 },
    summary: `${source} probed 120 ports of 192.0.2.80`,
    evidence: { thresholds: [], sampleFlows: [], topSources: [] },
    updates: 1,
  };
  // As the first schema's build wrote it: upsertAlerts writes the columns migration 0008 added.
  await store.db
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
      updated_at: nowMs,
    } as never)
    .execute();
  const auditAction = 'settings.change';
  await store.audit.append({
    tsMs: nowMs,
    actor: admin,
    action: auditAction,
    outcome: 'ok',
    target: 'retention',
  });
  return { admin, source, flows: flows.length, alertId: alert.id, auditAction };
}

/**
 * A SQLite backup file in `dir` of `store` whose header claims `claimed` (createBackup refuses a
 * database newer than this build, so a newer build's backup is written here as that build would).
 */
export async function writeSqliteBackupAs(
  store: Store,
  dir: string,
  claimed: number,
  createdAt: Date,
): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const work = await mkdtemp(join(dir, '.test-backup-'));
  try {
    const snapshot = join(work, 'snapshot.db');
    await sql`vacuum into ${snapshot}`.execute(store.db);
    const partial = join(work, `${randomBytes(4).toString('hex')}.ftbak`);
    await writeBackupFile(partial, { dialect: 'sqlite', schemaVersion: claimed, createdAt }, () => ({
      stream: createReadStream(snapshot),
      done: Promise.resolve(),
      stop: () => undefined,
    }));
    const name = backupNameFor(createdAt, claimed);
    await rename(partial, join(dir, name));
    return name;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
