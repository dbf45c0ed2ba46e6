/**
 * The flow list's sorts and pages, the talk graph and the host summary on a real PostgreSQL (see
 * test/helpers/postgres.ts). Skipped with a reason when no server answers; under CI a missing
 * server fails.
 */

import { afterAll, beforeAll } from 'vitest';
import { runFlowQuerySuite } from './helpers/flow-query-suite.js';
import {
  createTestDatabase,
  emptiedStores,
  PG_TEST_URL,
  postgresReachable,
  type TestDatabase,
} from './helpers/postgres.js';
import { describeUnlessMissing } from './helpers/system-tools.js';

const reachable = await postgresReachable();

describeUnlessMissing(
  reachable ? null : `a PostgreSQL server at ${new URL(PG_TEST_URL).host}`,
  'start PostgreSQL there (scripts/setup.sh --test) or point FLOWTRACK_TEST_PG_URL at one',
  'PostgreSQL flow queries',
  () => {
    let database: TestDatabase | null = null;
    const stores = emptiedStores(() => database);
    beforeAll(async () => {
      database = await createTestDatabase();
    });
    afterAll(async () => {
      await stores.closeAll();
      await database?.drop();
    });
    runFlowQuerySuite('postgres', () => stores.make());
  },
);
