/**
 * Restoring through the API a backup made at another schema version than the server's (real
 * server, real HTTP, SQLite files in a temporary folder):
 * - a backup an older FlowTrack made (schema v1, the first migration only) is accepted, migrated
 *   up to this build's version, and its data is what the server then serves; a session of a user
 *   the restored database does not have is ended, and the restored database's admin can sign in;
 * - a backup a newer FlowTrack made (one migration beyond this build) is refused with a message
 *   that says so and what to do, whether its header says so or hides it, and the live database
 *   and the running service are left exactly as they were.
 */

import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBackup } from '../src/store/backup.js';
import { LATEST_SCHEMA_VERSION } from '../src/store/migrations/migration-list.js';
import { openStore, type Store } from '../src/store/store.js';
import { GOOD_PASSWORD, startTestServer, type TestServer } from './helpers/api-server.js';
import { flowRow } from './helpers/store-suite.js';
import {
  NEWER_VERSION,
  migrateAs,
  migrationsUpTo,
  recordedVersion,
  seedInstallation,
  writeSqliteBackupAs,
  type Installation,
} from './helpers/schema-backups.js';

const T0 = Date.UTC(2025, 2, 1, 9, 0, 0);

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** A store of its own in the server's data folder, opened without migrating. */
async function openBare(server: TestServer, name: string): Promise<Store> {
  const folder = join(server.dataDir, 'other-installations');
  mkdirSync(folder, { recursive: true });
  return openStore(join(folder, name), { migrate: false });
}

async function login(server: TestServer, username: string): Promise<string> {
  const res = await server.request('POST', '/api/auth/login', {
    body: { username, password: GOOD_PASSWORD },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return (res.body as { accessToken: string }).accessToken;
}

const backupDir = (server: TestServer): string => join(server.dataDir, 'backups');

describe('restoring a backup an older FlowTrack made (schema v1) into a server at the newest schema', () => {
  let server: TestServer;
  let old: Installation;
  let backupName: string;
  let adminToken: string;

  beforeAll(async () => {
    server = await startTestServer();
    adminToken = (await server.signIn('admin', 'admin')).accessToken;
    // The server's own data before the restore.
    await server.server.store.flows.insertFlows([flowRow({ srcAddr: '203.0.113.99' })]);

    const older = await openBare(server, 'v1.db');
    try {
      await migrateAs(older, migrationsUpTo(1));
      expect(await older.schemaVersion()).toBe(1);
      old = await seedInstallation(older, T0);
      const made = await createBackup(older, backupDir(server), { now: () => T0 });
      expect(made.schemaVersion).toBe(1);
      backupName = made.name;
    } finally {
      await older.close();
    }
  });
  afterAll(async () => {
    // Unset when beforeAll failed before the server started.
    await (server as TestServer | undefined)?.close();
  });

  it('lists the backup with its schema version', async () => {
    const res = await server.request('GET', '/api/backups', { token: adminToken });
    expect(res.status).toBe(200);
    expect((res.body as Page<{ name: string; schemaVersion: number }>).items).toEqual([
      expect.objectContaining({ name: backupName, schemaVersion: 1 }),
    ]);
  });

  it('accepts it, migrates it up, and serves its data afterwards', async () => {
    expect(LATEST_SCHEMA_VERSION).toBeGreaterThan(1);
    const res = await server.request('POST', '/api/backup/restore', {
      token: adminToken,
      body: { name: backupName },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      dialect: 'sqlite',
      schemaVersion: 1,
      migrationsApplied: migrationsUpTo(LATEST_SCHEMA_VERSION).slice(1),
    });
    // The database the restore replaced is kept beside the live one.
    const previous = (res.body as { previous: string }).previous;
    expect(previous).toMatch(/flowtrack\.db\.before-restore-/);
    expect(existsSync(previous)).toBe(true);

    const token = await login(server, old.admin);
    const health = await server.request('GET', '/api/system_health', { token });
    expect(health.body).toMatchObject({
      database: { dialect: 'sqlite', schemaVersion: LATEST_SCHEMA_VERSION },
    });

    const flows = await server.request('GET', '/api/flows?limit=100', { token });
    const items = (flows.body as Page<{ srcAddr: string }>).items;
    expect(items).toHaveLength(old.flows);
    expect(new Set(items.map((f) => f.srcAddr))).toEqual(new Set([old.source]));

    const alerts = await server.request('GET', '/api/anomalies', { token });
    expect((alerts.body as Page<{ id: string; status: string }>).items).toEqual([
      expect.objectContaining({
        id: old.alertId,
        status: 'open',
        group: `src:${old.source}`,
        assignee: null,
      }),
    ]);

    const audit = await server.request('GET', '/api/logs/audit?limit=100', { token });
    const actions = (audit.body as Page<{ action: string; actor: string }>).items.map((e) => e.action);
    expect(actions).toContain(old.auditAction);
    expect(actions).toContain('backup.restore');

    // The migrated database takes new data: a user created through the API.
    const created = await server.request('POST', '/api/users', {
      token,
      body: { username: 'newcomer', password: GOOD_PASSWORD, role: 'viewer' },
    });
    expect(created.status).toBe(201);
  });

  it('ends the session of a user the restored database does not have, though its id is taken there', async () => {
    // "admin" was user 1 of the server's database; in the restored one user 1 is olga.
    const me = await server.request('GET', '/api/auth/me', { token: adminToken });
    expect(me.status).toBe(401);
    expect(me.body).toMatchObject({ error: 'UNAUTHORIZED' });
  });
});

describe('refusing a backup a newer FlowTrack made', () => {
  let server: TestServer;
  let adminToken: string;
  /** Everything the API shows of the live database, to compare after each refusal. */
  let before: unknown;

  const snapshot = async (): Promise<unknown> => {
    const get = async (path: string) => (await server.request('GET', path, { token: adminToken })).body;
    return {
      flows: await get('/api/flows?limit=100'),
      users: await get('/api/users'),
      alerts: await get('/api/anomalies'),
      schema: ((await get('/api/system_health')) as { database: unknown }).database,
    };
  };

  beforeAll(async () => {
    server = await startTestServer();
    adminToken = (await server.signIn('admin', 'admin')).accessToken;
    await server.server.store.flows.insertFlows([
      flowRow({ srcAddr: '203.0.113.7' }),
      flowRow({ srcAddr: '203.0.113.8', srcPort: 40001 }),
    ]);
    before = await snapshot();
  });
  afterEach(async () => {
    // Nothing changed: same data, same schema, the same session still works, no file swapped.
    expect(await snapshot()).toEqual(before);
    expect(
      readdirSync(server.dataDir).filter((f) => /before-restore|failed-restore|\.restore-/.test(f)),
    ).toEqual([]);
  });
  afterAll(async () => {
    // Unset when beforeAll failed before the server started.
    await (server as TestServer | undefined)?.close();
  });

  /** A database migrated one step beyond this build, seeded, and backed up with header `claimed`. */
  async function newerBackup(file: string, claimed: number): Promise<string> {
    const newer = await openBare(server, file);
    try {
      await migrateAs(newer, migrationsUpTo(LATEST_SCHEMA_VERSION), true);
      expect(await recordedVersion(newer)).toBe(NEWER_VERSION);
      await seedInstallation(newer, T0, 'nora');
      return await writeSqliteBackupAs(newer, backupDir(server), claimed, new Date(T0 + claimed));
    } finally {
      await newer.close();
    }
  }

  /** Restores `name` through the API and expects the refusal a newer backup gets, `hint` included. */
  async function expectRefusedAsNewer(name: string, hint: string): Promise<void> {
    const res = await server.request('POST', '/api/backup/restore', { token: adminToken, body: { name } });
    expect(res.status).toBe(400);
    const said = `made by a newer FlowTrack (schema v${NEWER_VERSION}; this one knows up to v${LATEST_SCHEMA_VERSION})${hint}`;
    expect(res.body).toMatchObject({ error: 'BAD_BACKUP' });
    const message = (res.body as { message: string }).message;
    expect(message).toContain(said);
    expect(message).toMatch(/Nothing was restored; the live database was not changed$/);
  }

  it('refuses one whose header gives the newer version, saying which and what to do', async () => {
    const name = await newerBackup('newer-honest.db', NEWER_VERSION);
    expect(name).toMatch(new RegExp(`-v${NEWER_VERSION}\\.ftbak$`));
    await expectRefusedAsNewer(name, ': restore it with that version or a newer one');
  });

  it('refuses one whose header hides the newer database inside', async () => {
    await expectRefusedAsNewer(await newerBackup('newer-disguised.db', LATEST_SCHEMA_VERSION), '');
  });

  it('records each refusal in the audit log, and the service goes on writing to the live database', async () => {
    const audit = await server.request('GET', '/api/logs/audit?action=backup.restore', { token: adminToken });
    const refusals = (audit.body as Page<{ outcome: string; actor: string }>).items;
    expect(refusals.map((e) => [e.actor, e.outcome])).toEqual([
      ['admin', 'failed'],
      ['admin', 'failed'],
    ]);
    // A sign-in writes its refresh token into the live database.
    const again = await server.request('POST', '/api/auth/login', {
      body: { username: 'admin', password: GOOD_PASSWORD },
    });
    expect(again.status).toBe(200);
  });
});
