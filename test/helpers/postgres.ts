/**
 * A real PostgreSQL for tests: FLOWTRACK_TEST_PG_URL (default the local server with trust auth)
 * names a database to connect to as an admin; each run creates its own `flowtrack_test_<random>`
 * database there and drops it afterwards; `freshSchemaUrl` gives a new schema inside it (a schema
 * costs milliseconds, a database a tenth of a second). Test code only: src/ never imports this.
 */

import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { openStore, type Store } from '../../src/store/store.js';

export const PG_TEST_URL = process.env.FLOWTRACK_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** True when a PostgreSQL server answers at `url` within a few seconds. */
export async function postgresReachable(url = PG_TEST_URL): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  // A refused connection is reported on the client as well as by connect(); ignore the event.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface TestDatabase {
  /** URL of the run's database. */
  readonly url: string;
  /** A new empty schema in the run's database, and a URL whose connections use it. */
  freshSchemaUrl(): Promise<string>;
  /** Drops the database, closing whatever is still connected to it. */
  drop(): Promise<void>;
}

/** Creates the run's database on the server at `adminUrl`. */
export async function createTestDatabase(adminUrl = PG_TEST_URL): Promise<TestDatabase> {
  const name = `flowtrack_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${admin.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  let schemas = 0;
  return {
    url: url.toString(),
    async freshSchemaUrl() {
      const schema = `s${++schemas}`;
      await client.query(`create schema ${client.escapeIdentifier(schema)}`);
      const withSchema = new URL(url);
      withSchema.searchParams.set('options', `-c search_path=${schema}`);
      return withSchema.toString();
    },
    async drop() {
      await client.end().catch(() => undefined);
      const dropper = new pg.Client({ connectionString: adminUrl });
      await dropper.connect();
      try {
        // WITH (FORCE) (PostgreSQL 13+) ends connections a failed test left open.
        await dropper.query(`drop database if exists ${dropper.escapeIdentifier(name)} with (force)`);
      } finally {
        await dropper.end();
      }
    },
  };
}

/**
 * Stores on one migrated schema of the run's database, emptied for each `make`: the first
 * migrates a new schema, later ones reopen it (migrating finds nothing to do) and empty its
 * tables, which costs a fraction of migrating a schema per test. `closeAll` closes every store
 * made, also those a failed test left open.
 */
export function emptiedStores(database: () => TestDatabase | null): {
  make(): Promise<Store>;
  closeAll(): Promise<void>;
} {
  const stores: Store[] = [];
  let url: string | null = null;
  return {
    async make() {
      const db = database();
      if (!db) throw new Error('the test database was not created');
      url ??= await db.freshSchemaUrl();
      const store = await openStore(url);
      stores.push(store);
      const tables = await sql<{ name: string }>`select tablename as name from pg_tables
        where schemaname = current_schema() and tablename not like 'kysely%'`.execute(store.db);
      await sql`truncate table ${sql.join(tables.rows.map((t) => sql.table(t.name)))} restart identity cascade`.execute(
        store.db,
      );
      return store;
    },
    async closeAll() {
      await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
    },
  };
}
