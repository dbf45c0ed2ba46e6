/**
 * Many rows into one PostgreSQL table in one statement, each column passed as one array
 * parameter: `INSERT INTO t (a, b) SELECT * FROM unnest($1::bigint[], $2::text[])`, with an
 * optional `ON CONFLICT (keys) DO UPDATE` that adds counters. PostgreSQL parses and plans one
 * short statement with a handful of parameters whatever the row count, where a multi-row VALUES
 * has a parameter per cell: the hub's ingest of flows with their rollups went from 9.9k to 12.7k
 * flows/s (bench/README.md, "Hub ingest"). SQLite parses in-process and keeps Kysely's VALUES.
 *
 * Must never: interpolate a value into the SQL text (names come from the callers' fixed specs,
 * values go as parameters only), or be handed rows whose conflict keys repeat (PostgreSQL
 * refuses to update one row twice in a statement: callers sum per key first).
 */

import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

export type PgColumnType = 'bigint' | 'integer' | 'text';

export interface BulkTable<Row> {
  table: keyof Database;
  /** Every column written, with its PostgreSQL type, in any order. */
  columns: readonly (readonly [keyof Row & string, PgColumnType])[];
  /** On a conflict over `keys`, each of `add` is added to the row already there. */
  addOnConflict?: { keys: readonly (keyof Row & string)[]; add: readonly (keyof Row & string)[] };
}

/** Rows per statement: bounds the arrays built and sent at once. */
const ROWS_PER_STATEMENT = 10_000;

/** Inserts `rows` into `spec.table` (PostgreSQL only), a statement per 10,000 rows. */
export async function insertUnnest<Row>(
  db: Kysely<Database>,
  spec: BulkTable<Row>,
  rows: readonly Row[],
): Promise<void> {
  const { table, columns, addOnConflict } = spec;
  const names = sql.join(columns.map(([name]) => sql.ref(name)));
  const conflict = addOnConflict
    ? sql` on conflict (${sql.join(addOnConflict.keys.map((k) => sql.ref(k)))}) do update set ${sql.join(
        addOnConflict.add.map(
          (c) => sql`${sql.ref(c)} = ${sql.ref(`${table}.${c}`)} + ${sql.ref(`excluded.${c}`)}`,
        ),
      )}`
    : sql``;
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(i, i + ROWS_PER_STATEMENT);
    const arrays = columns.map(([name, type]) => sql`${chunk.map((row) => row[name])}::${sql.raw(type)}[]`);
    await sql`insert into ${sql.table(table)} (${names}) select * from unnest(${sql.join(arrays)})${conflict}`.execute(
      db,
    );
  }
}
