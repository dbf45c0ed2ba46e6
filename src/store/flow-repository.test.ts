/**
 * The flow list's sorts and pages, the talk graph and the host summary on SQLite (the same suite
 * runs on PostgreSQL in test/flow-repository-postgres.test.ts).
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { runFlowQuerySuite } from '../../test/helpers/flow-query-suite.js';
import { openStore } from './store.js';

const dir = mkdtempSync(join(tmpdir(), 'flowtrack-flow-queries-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
let files = 0;

runFlowQuerySuite('sqlite', () => openStore(join(dir, `db-${++files}`, 'flowtrack.db')));
