/**
 * Brings a database's schema to this build's version with Kysely's Migrator and the static list
 * in migrations/ (no folder scanning: the build has no migrations folder to scan). Each
 * migration runs in a transaction and the migrator holds a lock, so two servers starting at once
 * cannot both migrate; after any, the planner statistics are refreshed, since a migration's new
 * tables and indexes are only as good as the planner's idea of them. It never migrates down:
 * going back means restoring a backup.
 */

import { Migrator, sql, type Kysely, type Migration } from 'kysely';
import { ErrorCode, FlowTrackError, describeError } from '../util/errors.js';
import { MIGRATIONS, versionOfMigration } from './migrations/migration-list.js';
import { refreshPlannerStatistics } from './planner-statistics.js';
import type { Database } from './schema.js';
import type { DialectName } from './store-dialect.js';

/** What migrating needs to know about a store. */
export interface MigratableStore {
  readonly dialect: DialectName;
  readonly location: string;
  readonly db: Kysely<Database>;
}

async function migratorFor(store: MigratableStore): Promise<Migrator> {
  const bound: Record<string, Migration> = {};
  for (const [name, migration] of Object.entries(MIGRATIONS)) {
    bound[name] = { up: (db) => migration.up(db, store.dialect) };
  }
  // Kysely looks for its bookkeeping tables in every schema unless told which: with two
  // FlowTrack schemas in one PostgreSQL database it would find the other one's. Name ours, the
  // first schema of the search path, where the tables themselves are created.
  let migrationTableSchema: string | undefined;
  if (store.dialect === 'postgres') {
    const result = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(store.db);
    migrationTableSchema = result.rows[0]?.schema ?? undefined;
  }
  return new Migrator({
    db: store.db,
    provider: { getMigrations: () => Promise.resolve(bound) },
    ...(migrationTableSchema === undefined ? {} : { migrationTableSchema }),
  });
}

/** Applies every migration not applied yet; returns their names, in order (empty: up to date). */
export async function migrateStore(store: MigratableStore): Promise<string[]> {
  let outcome: Awaited<ReturnType<Migrator['migrateToLatest']>>;
  try {
    outcome = await (await migratorFor(store)).migrateToLatest();
  } catch (err) {
    throw migrationFailure(store, err, null);
  }
  const failed = outcome.results?.find((r) => r.status === 'Error')?.migrationName ?? null;
  if (outcome.error !== undefined) throw migrationFailure(store, outcome.error, failed);
  const applied = (outcome.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  if (applied.length > 0) {
    try {
      await refreshPlannerStatistics(store);
    } catch (err) {
      throw new FlowTrackError(
        ErrorCode.STORE_ERROR,
        `the database ${store.location} was migrated, but refreshing its query planner statistics failed (${describeError(err)}): the data is intact; start again, or run ANALYZE on it`,
        { cause: err },
      );
    }
  }
  return applied;
}

/** The number of the newest migration applied to the database (0 when none). */
export async function schemaVersionOf(store: MigratableStore): Promise<number> {
  const migrations = await (await migratorFor(store)).getMigrations();
  let version = 0;
  for (const m of migrations)
    if (m.executedAt !== undefined) version = Math.max(version, versionOfMigration(m.name));
  return version;
}

function migrationFailure(store: MigratableStore, err: unknown, failed: string | null): FlowTrackError {
  const step = failed === null ? '' : ` at migration ${failed}`;
  return new FlowTrackError(
    ErrorCode.STORE_ERROR,
    `migrating the database ${store.location} failed${step} (${describeError(err)}): nothing of that migration was kept; a database made by a newer FlowTrack needs that version, otherwise restore a backup`,
    { cause: err },
  );
}
