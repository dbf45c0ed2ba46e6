/**
 * Backup and restore on a real PostgreSQL with pg_dump and pg_restore. The run makes its own
 * `ftbak_<random>` database (a restore renames databases, so a schema of the shared test database
 * would not do) and drops it, with the databases a restore keeps, afterwards. Skipped with a reason
 * when no server answers or the client programs are missing; under CI that fails instead.
 */

import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKUP_HEADER_BYTES, decodeBackupHeader, encodeBackupHeader } from '../src/store/backup-file.js';
import { createBackup, restoreBackup, verifyBackup } from '../src/store/backup.js';
import { LATEST_SCHEMA_VERSION } from '../src/store/migrations/migration-list.js';
import type { Database } from '../src/store/schema.js';
import { openStore, type Store } from '../src/store/store.js';
import { PG_TEST_URL, postgresReachable } from './helpers/postgres.js';
import { flowRow } from './helpers/store-suite.js';
import { describeUnlessMissing, hasTool } from './helpers/system-tools.js';

const reachable = await postgresReachable();
const where = new URL(PG_TEST_URL).host;
const missing = [
  ...(reachable ? [] : [`a PostgreSQL server at ${where}`]),
  ...['pg_dump', 'pg_restore'].filter((t) => !hasTool(t)),
];

const T0 = Date.UTC(2025, 0, 31, 12, 0, 0);

function urlOf(database: string, password?: string): string {
  const url = new URL(PG_TEST_URL);
  url.pathname = `/${database}`;
  if (password !== undefined) url.password = password;
  return url.toString();
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_TEST_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** The databases whose names start with `prefix`, sorted. */
async function databasesLike(prefix: string): Promise<string[]> {
  const result = await admin((c) =>
    c.query<{ name: string }>('select datname as name from pg_database where starts_with(datname, $1)', [
      prefix,
    ]),
  );
  return result.rows.map((r) => r.name).sort();
}

async function seed(store: Store): Promise<void> {
  await store.flows.insertFlows(
    Array.from({ length: 30 }, (_, i) => flowRow({ srcPort: 40000 + i, bytesToServer: 100 * i })),
  );
  await store.users.create({ username: 'alice', passwordHash: 'hash-a', role: 'admin' }, T0);
  await store.users.create({ username: 'bob', passwordHash: 'hash-b', role: 'viewer' }, T0);
  await store.alerts.upsertAlerts(
    [
      {
        id: 'port_scan-1',
        type: 'port_scan',
        severity: 'high',
        src: '203.0.113.5',
        dst: '192.0.2.7',
        start: 1_700_000_000_000_000,
        end: 1_700_000_005_000_000,
        counters: { ports: 100 },
        summary: '203.0.113.5 probed 100 ports of 192.0.2.7',
        evidence: { thresholds: [], sampleFlows: [], topSources: [] },
        updates: 1,
      },
    ],
    T0,
  );
  await store.audit.append({ tsMs: T0, actor: 'alice', action: 'user.create', outcome: 'ok', target: 'bob' });
  await store.settings.set('retention', { flowsDays: 30 }, 'alice', T0);
}

async function change(store: Store): Promise<void> {
  await store.flows.insertFlows([flowRow({ srcAddr: '10.9.9.9' })]);
  await store.db.deleteFrom('flows').where('src_port', '<', 40010).execute();
  const bob = await store.users.findByUsername('bob');
  if (bob) await store.users.delete(bob.id);
  await store.users.create({ username: 'mallory', passwordHash: 'hash-m', role: 'admin' }, T0 + 1);
  await store.alerts.acknowledge('port_scan-1', 'mallory', T0 + 2);
  await store.settings.set('retention', { flowsDays: 1 }, 'mallory', T0 + 3);
}

/** Every table's rows and every sequence's position (restored ids must not be reused), sorted. */
async function tableContents(db: Kysely<Database>): Promise<Record<string, string[]>> {
  const tables = await sql<{ name: string }>`select tablename as name from pg_tables
    where schemaname = current_schema() order by tablename`.execute(db);
  const contents: Record<string, string[]> = {};
  for (const { name } of tables.rows) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(db);
    contents[name] = rows.rows.map((r) => JSON.stringify(r)).sort();
  }
  const sequences = await sql<Record<string, unknown>>`select sequencename, last_value from pg_sequences
    where schemaname = current_schema()`.execute(db);
  contents['(sequences)'] = sequences.rows.map((r) => JSON.stringify(r)).sort();
  return contents;
}

async function contentsAt(url: string): Promise<Record<string, string[]>> {
  const store = await openStore(url, { migrate: false });
  try {
    return await tableContents(store.db);
  } finally {
    await store.close();
  }
}

describeUnlessMissing(
  missing.length === 0 ? null : missing.join(', '),
  'start PostgreSQL (scripts/setup.sh --test) or point FLOWTRACK_TEST_PG_URL at one, and install the PostgreSQL client programs',
  'PostgreSQL backup and restore',
  () => {
    const database = `ftbak_${randomBytes(6).toString('hex')}`;
    const url = urlOf(database);
    const folder = mkdtempSync(join(tmpdir(), 'flowtrack-backup-pg-'));
    const backups = join(folder, 'backups');

    beforeAll(async () => {
      await admin((c) => c.query(`create database ${c.escapeIdentifier(database)}`));
      const store = await openStore(url);
      try {
        await seed(store);
      } finally {
        await store.close();
      }
    });
    afterAll(async () => {
      // The run's database and every database a restore made or kept beside it.
      for (const name of await databasesLike(database)) {
        await admin((c) => c.query(`drop database if exists ${c.escapeIdentifier(name)} with (force)`));
      }
      rmSync(folder, { recursive: true, force: true });
    });

    /** A backup of the database as it is now, made while the store is open. */
    async function backupNow(now = T0): Promise<string> {
      const store = await openStore(url);
      try {
        return (await createBackup(store, backups, { now: () => now })).path;
      } finally {
        await store.close();
      }
    }

    it('restores exactly the backed-up rows after flows, users and alerts changed, keeping the previous database', async () => {
      const store = await openStore(url);
      let backedUp: Record<string, string[]>;
      let changed: Record<string, string[]>;
      let backup: string;
      try {
        backedUp = await tableContents(store.db);
        const made = await createBackup(store, backups, { now: () => T0 });
        backup = made.path;
        expect(made).toMatchObject({ dialect: 'postgres', schemaVersion: LATEST_SCHEMA_VERSION });
        expect((await verifyBackup(backup)).header.dialect).toBe('postgres');
        await change(store);
        changed = await tableContents(store.db);
        expect(changed).not.toEqual(backedUp);
      } finally {
        await store.close();
      }

      const result = await restoreBackup(url, backup, { now: () => T0 + 60_000 });
      const previous = `${database}_before_restore_20250131120100000`;
      expect(result).toEqual({
        dialect: 'postgres',
        location: url,
        schemaVersion: LATEST_SCHEMA_VERSION,
        migrationsApplied: [],
        previous,
      });
      expect(await contentsAt(url)).toEqual(backedUp);
      expect(await contentsAt(urlOf(previous))).toEqual(changed);
      // No half-restored database is left over.
      expect(await databasesLike(database)).toEqual([database, previous].sort());

      // The restored database is a working store: its ids go on where the backup's left off.
      const reopened = await openStore(url);
      try {
        const carol = await reopened.users.create(
          { username: 'carol', passwordHash: 'h', role: 'viewer' },
          T0,
        );
        expect(carol.id).toBe(3);
      } finally {
        await reopened.close();
      }
    });

    it('ends a session still connected to the database before swapping it', async () => {
      const backup = await backupNow(T0 + 1);
      const expected = await contentsAt(url);
      const lingering = new pg.Client({ connectionString: url });
      lingering.on('error', () => undefined);
      await lingering.connect();
      try {
        const result = await restoreBackup(url, backup, { now: () => T0 + 120_000 });
        expect(result.previous).toBe(`${database}_before_restore_20250131120200000`);
        expect(await contentsAt(url)).toEqual(expected);
      } finally {
        await lingering.end().catch(() => undefined);
      }
    });

    describe('refuses a damaged backup before touching the live database', () => {
      let good: Buffer;
      beforeAll(async () => {
        good = readFileSync(await backupNow(T0 + 2));
      });

      const wrap = (content: Buffer, dialect: 'sqlite' | 'postgres' = 'postgres'): Buffer => {
        const payload = gzipSync(content);
        return Buffer.concat([
          encodeBackupHeader({
            dialect,
            schemaVersion: LATEST_SCHEMA_VERSION,
            createdAt: new Date(T0).toISOString(),
            sha256: createHash('sha256').update(payload).digest('hex'),
            payloadBytes: payload.length,
            contentBytes: content.length,
          }),
          payload,
        ]);
      };

      const cases: [string, () => Buffer, RegExp][] = [
        ['an empty file', () => Buffer.alloc(0), /the file is empty/],
        ['a random file', () => randomBytes(4000), /not a FlowTrack backup/],
        ['a file cut inside the header', () => good.subarray(0, 500), /truncated at byte 500\b/],
        [
          'a file cut after the header',
          () => good.subarray(0, BACKUP_HEADER_BYTES + 7),
          /truncated at byte 1031\b/,
        ],
        ['a file cut in the middle', () => good.subarray(0, good.length >> 1), /truncated at byte \d+/],
        ['a file missing its last byte', () => good.subarray(0, good.length - 1), /truncated at byte \d+/],
        [
          'a flipped byte in the payload',
          () => {
            const bad = Buffer.from(good);
            const i = BACKUP_HEADER_BYTES + ((bad.length - BACKUP_HEADER_BYTES) >> 1);
            bad[i] = (bad[i] ?? 0) ^ 0x04;
            return bad;
          },
          /checksum mismatch/,
        ],
        [
          'a header from a newer schema version',
          () => {
            const header = decodeBackupHeader(good.subarray(0, BACKUP_HEADER_BYTES), good.length);
            return Buffer.concat([
              encodeBackupHeader({ ...header, schemaVersion: LATEST_SCHEMA_VERSION + 1 }),
              good.subarray(BACKUP_HEADER_BYTES),
            ]);
          },
          /made by a newer FlowTrack \(schema v/,
        ],
        [
          'a checksummed payload that is no pg_dump archive',
          () => wrap(Buffer.from('PGDMP, or not')),
          /pg_restore cannot read|not a pg_dump archive/,
        ],
        [
          'a SQLite backup',
          () => wrap(Buffer.from('SQLite format 3\0'), 'sqlite'),
          /backup of a SQLite database and cannot be restored into PostgreSQL/,
        ],
      ];

      it.each(cases)('%s', async (_, make, message) => {
        const before = await contentsAt(url);
        const databases = await databasesLike(database);
        const bad = join(folder, `bad-${randomBytes(4).toString('hex')}.ftbak`);
        writeFileSync(bad, make());
        await expect(restoreBackup(url, bad)).rejects.toMatchObject({
          code: 'BAD_BACKUP',
          message: expect.stringMatching(message) as string,
        });
        await expect(restoreBackup(url, bad)).rejects.toThrow(/the live database was not changed/);
        expect(await contentsAt(url)).toEqual(before);
        expect(await databasesLike(database)).toEqual(databases);
      });
    });

    it('needs the unmasked URL for pg_dump when the store location hides a password', async () => {
      // The test server trusts local connections, so any password is accepted and ignored.
      const withPassword = urlOf(database, 'not-shown-anywhere');
      const store = await openStore(withPassword);
      try {
        expect(store.location).not.toContain('not-shown-anywhere');
        await expect(createBackup(store, backups)).rejects.toMatchObject({
          code: 'BAD_OPTION',
          message: expect.stringMatching(/pass the unmasked URL/) as string,
        });
        await expect(createBackup(store, backups, { connectionUrl: urlOf('another') })).rejects.toMatchObject(
          {
            code: 'BAD_OPTION',
          },
        );
        const made = await createBackup(store, backups, { connectionUrl: withPassword, now: () => T0 + 3 });
        expect((await verifyBackup(made.path)).header.schemaVersion).toBe(LATEST_SCHEMA_VERSION);
      } finally {
        await store.close();
      }
    });

    it('restores into a database that does not exist yet', async () => {
      const backup = await backupNow(T0 + 5);
      const expected = await contentsAt(url);
      const fresh = urlOf(`${database}_fresh`);
      const result = await restoreBackup(fresh, backup);
      expect(result.previous).toBeNull();
      expect(await contentsAt(fresh)).toEqual(expected);
    });

    it('refuses to restore into the maintenance database', async () => {
      const backup = await backupNow(T0 + 4);
      await expect(restoreBackup(urlOf('postgres'), backup)).rejects.toMatchObject({ code: 'BAD_OPTION' });
    });
  },
);
