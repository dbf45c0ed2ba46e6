/**
 * Fresh statistics for the databases' query planners after the two things that change tables the
 * most at once: a migration (new tables filled from old ones, new indexes) and retention's
 * deletes. Cheap by design, as it runs while the server starts and every retention run: SQLite's
 * `PRAGMA optimize` analyzes only tables never analyzed or much grown or shrunk since, each from a
 * sample; PostgreSQL's ANALYZE samples a fixed number of rows per table. It never changes rows.
 */

import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { DialectName } from './store-dialect.js';

/** Rows per index SQLite's ANALYZE reads (about); 0 would read them all. */
const SQLITE_ANALYSIS_LIMIT = 1000;

/**
 * Brings the planner statistics of `tables` up to date: on PostgreSQL with ANALYZE of those
 * tables (every table of the schema when none are named); on SQLite with `PRAGMA optimize`
 * over every table, which itself skips those whose statistics still hold.
 */
export async function refreshPlannerStatistics(
  store: { readonly dialect: DialectName; readonly db: Kysely<Database> },
  tables?: readonly string[],
): Promise<void> {
  const { db } = store;
  if (store.dialect === 'sqlite') {
    // Measured on the bench's 1.7 GB store: 1.0 s for every table, never analyzed before; the
    // limit makes the counts per key estimates, which is all the planner needs to choose an index.
    await sql`pragma analysis_limit = ${sql.lit(SQLITE_ANALYSIS_LIMIT)}`.execute(db);
    // 0x10000: every table, not only those this connection has read; 0x2: analyze where useful.
    await sql`pragma optimize = ${sql.lit(0x10002)}`.execute(db);
    return;
  }
  const names =
    tables ??
    (
      await sql<{ name: string }>`select tablename as name from pg_tables
        where schemaname = current_schema()`.execute(db)
    ).rows.map((r) => r.name);
  if (names.length === 0) return;
  await sql`analyze ${sql.join(names.map((name) => sql.table(name)))}`.execute(db);
}
