/**
 * The store's conformance suite on a real PostgreSQL (see test/helpers/postgres.ts for where it
 * comes from). Skipped with a reason when no server answers; under CI a missing server fails.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../src/store/store.js';
import {
  createTestDatabase,
  emptiedStores,
  PG_TEST_URL,
  postgresReachable,
  type TestDatabase,
} from './helpers/postgres.js';
import { runStoreSuite } from './helpers/store-suite.js';
import { runAlertLifecycleSuite } from './helpers/alert-lifecycle-suite.js';
import { describeUnlessMissing } from './helpers/system-tools.js';

const reachable = await postgresReachable();
const where = new URL(PG_TEST_URL).host;

describeUnlessMissing(
  reachable ? null : `a PostgreSQL server at ${where}`,
  'start PostgreSQL there (scripts/setup.sh --test) or point FLOWTRACK_TEST_PG_URL at one',
  'PostgreSQL store',
  () => {
    let database: TestDatabase | null = null;
    const stores = emptiedStores(() => database);
    beforeAll(async () => {
      database = await createTestDatabase();
    });
    afterAll(async () => {
      // Close what a failed test left open, then drop the run's database in any case.
      await stores.closeAll();
      await database?.drop();
    });
    const make = (): Promise<Store> => stores.make();

    runStoreSuite('postgres', make);
    runAlertLifecycleSuite('postgres', make);

    describe('opening', () => {
      it('reports a database that does not exist, with the way to create it', async () => {
        const url = new URL(PG_TEST_URL);
        url.pathname = '/flowtrack_no_such_database';
        await expect(openStore(url.toString())).rejects.toMatchObject({
          code: 'STORE_ERROR',
          message: expect.stringMatching(/"flowtrack_no_such_database" does not exist.*createdb/) as string,
        });
      });

      it('names itself postgres and masks nothing it does not have to', async () => {
        const store = await make();
        expect(store.dialect).toBe('postgres');
        expect(store.location).toMatch(/^postgres:\/\//);
        const row = await store.db
          .selectFrom('flows')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow();
        // int8 comes back as a number, not a string.
        expect(row.n).toBe(0);
      });
    });
  },
);
