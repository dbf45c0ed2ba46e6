/**
 * The flow list's sorts and pages, the talk graph and the host summary on a real PostgreSQL (see
 * test/helpers/postgres.ts). Skipped with a reason when no server answers; under CI a missing
 * server fails.
 */

import { sql } from 'kysely';
import { afterAll, beforeAll } from 'vitest';
import { openStore, type Store } from '../src/store/store.js';
import { runFlowQuerySuite } from './helpers/flow-query-suite.js';
import { createTestDatabase, PG_TEST_URL, postgresReachable, type TestDatabase } from './helpers/postgres.js';
import { describeUnlessMissing } from './helpers/system-tools.js';

const reachable = await postgresReachable();

describeUnlessMissing(
  reachable ? null : `a PostgreSQL server at ${new URL(PG_TEST_URL).host}`,
  'start PostgreSQL there (scripts/setup.sh --test) or point FLOWTRACK_TEST_PG_URL at one',
  'PostgreSQL flow queries',
  () => {
    let database: TestDatabase | null = null;
    const stores: Store[] = [];
    beforeAll(async () => {
      database = await createTestDatabase();
    });
    afterAll(async () => {
      await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
      await database?.drop();
    });
    // One migrated schema, emptied for each test (as test/store-postgres.test.ts does).
    let url: string | null = null;
    runFlowQuerySuite('postgres', async () => {
      if (!database) throw new Error('the test database was not created');
      url ??= await database.freshSchemaUrl();
      const store = await openStore(url);
      stores.push(store);
      const tables = await sql<{ name: string }>`select tablename as name from pg_tables
        where schemaname = current_schema() and tablename not like 'kysely%'`.execute(store.db);
      await sql`truncate table ${sql.join(tables.rows.map((t) => sql.table(t.name)))} restart identity cascade`.execute(
        store.db,
      );
      return store;
    });
  },
);
