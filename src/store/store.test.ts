import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  SKEWED_END_US,
  SKEWED_START_US,
  flowRow,
  runStoreSuite,
  skewedTraffic,
} from '../../test/helpers/store-suite.js';
import { runAlertLifecycleSuite } from '../../test/helpers/alert-lifecycle-suite.js';
import { migrateStore } from './migrate-store.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from './migrations/migration-list.js';
import { maskPostgresUrl } from './postgres-dialect.js';
import { runRetention, startRetention, type RetentionResult } from './retention.js';
import { StoreWriter } from './store-writer.js';
import { isPostgresLocation, openStore } from './store.js';

const dir = mkdtempSync(join(tmpdir(), 'flowtrack-store-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
let files = 0;
const freshPath = (): string => join(dir, `db-${++files}`, 'flowtrack.db');

runStoreSuite('sqlite', () => openStore(freshPath()));
runAlertLifecycleSuite('sqlite', () => openStore(freshPath()));

describe('SQLite store', () => {
  it('creates the folder and the file, in WAL mode with synchronous=NORMAL and foreign keys', async () => {
    const path = freshPath();
    const store = await openStore(path);
    try {
      expect(existsSync(path)).toBe(true);
      expect(store.dialect).toBe('sqlite');
      expect(store.location).toBe(path);
      // The value of a pragma's one column (busy_timeout's is called "timeout").
      const pragma = async (name: string) =>
        Object.values(
          (await sql<Record<string, unknown>>`pragma ${sql.raw(name)}`.execute(store.db)).rows[0] ?? {},
        )[0];
      expect(await pragma('journal_mode')).toBe('wal');
      expect(await pragma('synchronous')).toBe(1);
      expect(await pragma('foreign_keys')).toBe(1);
      expect(await pragma('busy_timeout')).toBe(5000);
      expect(await pragma('auto_vacuum')).toBe(2);
    } finally {
      await store.close();
    }
  });

  it('opens without migrating when asked, and migrateStore then applies every migration once', async () => {
    const store = await openStore(freshPath(), { migrate: false });
    try {
      expect(await store.schemaVersion()).toBe(0);
      expect(await migrateStore(store)).toEqual(Object.keys(MIGRATIONS));
      expect(await migrateStore(store)).toEqual([]);
      expect(await store.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
    } finally {
      await store.close();
    }
  });

  it('keeps what it wrote across a reopen', async () => {
    const path = freshPath();
    const first = await openStore(path);
    await first.flows.insertFlows([flowRow()]);
    await first.close();
    await first.close();
    const second = await openStore(path);
    try {
      expect((await second.flows.queryFlows()).items).toHaveLength(1);
    } finally {
      await second.close();
    }
  });

  it('keeps every acknowledged row when the process dies right after (kill -9)', async () => {
    const path = freshPath();
    const store = await openStore(path);
    const writer = new StoreWriter(store.db, { intervalMs: 60_000 });
    for (let i = 0; i < 500; i++) writer.enqueueFlow(flowRow({ srcPort: 1024 + i }));
    await writer.flush();
    expect(writer.acknowledged.flows).toBe(500);
    // What a killed process leaves: the files as they are now, with no close and no checkpoint.
    // The committed rows are in the -wal file; SQLite replays it when the copy is opened.
    const crashed = join(dir, 'crashed', 'flowtrack.db');
    mkdirSync(join(dir, 'crashed'));
    copyFileSync(path, crashed);
    expect(existsSync(`${path}-wal`)).toBe(true);
    copyFileSync(`${path}-wal`, `${crashed}-wal`);
    await writer.close();
    await store.close();
    const reopened = await openStore(crashed);
    try {
      const n = await reopened.db
        .selectFrom('flows')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      expect(n.n).toBe(500);
    } finally {
      await reopened.close();
    }
  });

  it('gives deleted flows back to the file system when retention enforces the size limit', async () => {
    const store = await openStore(freshPath());
    try {
      const rows = Array.from({ length: 3000 }, (_, i) => flowRow({ lastSeenUs: 1_700_000_000_000_000 + i }));
      await store.flows.insertFlows(rows);
      const before = await store.sizeBytes();
      const result = await runRetention(
        store,
        { maxSizeBytes: Math.floor(before / 2), batchSize: 200 },
        Date.now(),
      );
      expect(result.flowsForSize).toBeGreaterThan(0);
      expect(result.flowsForSize).toBeLessThan(rows.length);
      // The file itself shrank, not only the count of pages in use.
      expect(await store.sizeBytes()).toBeLessThanOrEqual(Math.floor(before / 2));
    } finally {
      await store.close();
    }
  });

  it('runs retention on a timer until stopped', async () => {
    const store = await openStore(freshPath());
    try {
      // Flows from 2023: older than a day by the wall clock the timer uses.
      await store.flows.insertFlows([flowRow(), flowRow()]);
      const runs: RetentionResult[] = [];
      const timer = startRetention(store, { flowsMaxAgeMs: 86_400_000 }, 10, { onRun: (r) => runs.push(r) });
      await vi.waitFor(() => {
        expect(runs.length).toBeGreaterThanOrEqual(2);
      });
      await timer.stop();
      expect(runs[0]?.flows).toBe(2);
      expect(runs[1]?.flows).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('gives the planner statistics after retention, with which the series reads only its host', async () => {
    const store = await openStore(freshPath());
    try {
      await store.flows.insertFlows(skewedTraffic(3, 2000));
      const nowMs = SKEWED_START_US / 1000 + 86_400_000;
      await runRetention(store, { rollupsMaxAgeMs: 86_400_000 - 5 * 3_600_000 }, nowMs);
      const analyzed = await sql<{ tbl: string }>`select distinct tbl from sqlite_stat1`.execute(store.db);
      expect(analyzed.rows.map((r) => r.tbl)).toEqual(
        expect.arrayContaining(['flows', 'flow_rollups', 'host_hour_totals', 'host_day_totals']),
      );
      // Regression: the series of `*` read every host's rows of its range through the
      // minute-first primary key (754 ms for a week of the bench's store).
      const plan = await sql<{ detail: string }>`explain query plan
        select minute_us, packets, bytes, flows from flow_rollups
         where host = ${'*'} and minute_us >= ${SKEWED_START_US} and minute_us < ${SKEWED_END_US}`.execute(
        store.db,
      );
      expect(plan.rows.map((r) => r.detail).join('\n')).toMatch(
        /COVERING INDEX flow_rollups_host_minute_idx/,
      );
    } finally {
      await store.close();
    }
  });

  it('says what to do when the file is not a database', async () => {
    const path = join(dir, 'not-a-db.txt');
    writeFileSync(path, 'hello, this is not SQLite '.repeat(200));
    await expect(openStore(path)).rejects.toMatchObject({
      code: 'STORE_ERROR',
      message: expect.stringMatching(/not a SQLite database.*another file/) as string,
    });
  });

  it('says what to do when the folder cannot be created', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    await expect(openStore(join(file, 'sub', 'flowtrack.db'))).rejects.toMatchObject({
      code: 'STORE_ERROR',
      message: expect.stringMatching(/cannot create the folder .*a-file.*writ/) as string,
    });
  });

  it('opens a private in-memory database for tests', async () => {
    const store = await openStore(':memory:');
    try {
      expect(await store.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
      expect(await store.sizeBytes()).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  });
});

describe('PostgreSQL locations', () => {
  it('are told apart from file paths by their scheme', () => {
    expect(isPostgresLocation('postgres://u@h/db')).toBe(true);
    expect(isPostgresLocation('postgresql://u@h/db')).toBe(true);
    expect(isPostgresLocation('./postgres/flowtrack.db')).toBe(false);
  });

  it('fail to open with the host and port and without the password when nothing listens', async () => {
    const failure = openStore('postgres://flowtrack:s3cret-pw@127.0.0.1:1/flowtrack');
    await expect(failure).rejects.toMatchObject({
      code: 'STORE_ERROR',
      message: expect.stringMatching(/127\.0\.0\.1:1: connection refused/) as string,
    });
    await expect(failure).rejects.toSatisfy((err: Error) => !err.message.includes('s3cret-pw'));
  });

  it('mask a password given as a query parameter', () => {
    expect(maskPostgresUrl('postgres://u@h/db?password=s3cret&sslmode=require')).toBe(
      'postgres://u@h/db?password=***&sslmode=require',
    );
    expect(maskPostgresUrl('postgres://u:s3cret@h/db')).toBe('postgres://u:***@h/db');
    expect(maskPostgresUrl('postgres://u@h/db')).toBe('postgres://u@h/db');
  });

  it('are refused when empty', async () => {
    await expect(openStore(' ')).rejects.toMatchObject({ code: 'STORE_ERROR' });
  });

  it('mask the password of a URL that does not parse', async () => {
    const failure = openStore('postgres://flowtrack:s3cret-pw@[bad-host/db');
    await expect(failure).rejects.toMatchObject({ code: 'STORE_ERROR' });
    await expect(failure).rejects.toSatisfy(
      (err: Error) => !err.message.includes('s3cret-pw') && err.message.includes('flowtrack:***@'),
    );
  });
});
