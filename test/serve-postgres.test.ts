/**
 * The whole server on a real PostgreSQL, as an admin runs it: `flowtrack serve --replay CAPTURE`
 * (the real process) with a postgres:// store URL pointing at a fresh database of its own. The
 * first admin is created with the one-time setup token the server prints; the replayed capture's
 * flows and alerts are read back through /api/flows, /api/traffic and /api/anomalies and agree
 * with `flowtrack analyze` of the same file; the admin's actions are in /api/logs/audit. A backup
 * made through the API (pg_dump) is restored through the API (pg_restore into a new database
 * swapped in), undoing what came after it while the previous database is kept; and a backup an
 * older FlowTrack made (schema v1) is restored and migrated up. The run's databases are dropped
 * afterwards, also when a test fails. Skipped with a reason when PostgreSQL, its client programs
 * or the capture corpus are missing; under CI that fails instead.
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createBackup } from '../src/store/backup.js';
import { LATEST_SCHEMA_VERSION } from '../src/store/migrations/migration-list.js';
import { openStore } from '../src/store/store.js';
import { GOOD_PASSWORD } from './helpers/api-server.js';
import { corpusAvailable, corpusDir, corpusPath } from './helpers/corpus.js';
import { PG_TEST_URL, postgresReachable } from './helpers/postgres.js';
import { migrateAs, migrationsUpTo, seedInstallation } from './helpers/schema-backups.js';
import {
  apiClient,
  cliEnv,
  runCli,
  startServe,
  stopAllServes,
  type ApiAnswer,
  type ServeProcess,
} from './helpers/serve-process.js';
import { describeUnlessMissing, hasTool } from './helpers/system-tools.js';

/** A TCP SYN port scan: thousands of one-packet flows and a few alerts, replayed in a second. */
const CAPTURE = 'Pcaphunt/attacks/ps-tcp_syn.pcap';

const reachable = await postgresReachable();
const missing = [
  ...(reachable ? [] : [`a PostgreSQL server at ${new URL(PG_TEST_URL).host}`]),
  ...['pg_dump', 'pg_restore'].filter((t) => !hasTool(t)),
  ...(corpusAvailable ? [] : [`the capture corpus at ${corpusDir}`]),
];

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

interface AnalyzeReport {
  packets: number;
  bytes: number;
  firstSeen: number;
  lastSeen: number;
  flows: { total: number };
  topTalkersByBytes: { address: string; bytes: number; packets: number }[];
  alerts: { type: string; src: string | null; dst: string | null }[];
}

function urlOf(database: string): string {
  const url = new URL(PG_TEST_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Runs `sql` on the database `database` (default: the admin URL's). */
async function query<R extends pg.QueryResultRow>(
  text: string,
  values: unknown[] = [],
  database?: string,
): Promise<R[]> {
  const client = new pg.Client({ connectionString: database === undefined ? PG_TEST_URL : urlOf(database) });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

const T0 = Date.UTC(2025, 4, 20, 8, 0, 0);

describeUnlessMissing(
  missing.length === 0 ? null : missing.join(', '),
  'start PostgreSQL (scripts/setup.sh --test) or point FLOWTRACK_TEST_PG_URL at one, install the PostgreSQL client programs, and put ../shared/pcaps beside the checkout',
  'flowtrack serve on PostgreSQL (real process, replayed capture, backup and restore through the API)',
  () => {
    const database = `ftserve_${randomBytes(6).toString('hex')}`;
    const dir = mkdtempSync(join(tmpdir(), 'flowtrack-serve-pg-'));
    const capture = corpusPath(CAPTURE);
    let server: ServeProcess;
    let api: ReturnType<typeof apiClient>;
    let token: string;
    let expected: AnalyzeReport;

    /** Every page of a paginated list. */
    async function all<T>(path: string): Promise<T[]> {
      const items: T[] = [];
      let cursor: string | null = null;
      do {
        const sep = path.includes('?') ? '&' : '?';
        const res: ApiAnswer = await api(
          'GET',
          `${path}${sep}limit=1000${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
          { token },
        );
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        const page = res.body as Page<T>;
        items.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor !== null);
      return items;
    }

    beforeAll(async () => {
      await query(`create database "${database}"`);
      const env = cliEnv({
        FLOWTRACK_DATA_DIR: join(dir, 'data'),
        FLOWTRACK_STORE_URL: urlOf(database),
        FLOWTRACK_SERVER_PORT: '0',
        FLOWTRACK_BACKUP_INTERVAL_HOURS: '0',
        FLOWTRACK_RATE_LIMIT_PER_MINUTE: '100000',
      });
      const analyzed = await runCli(['analyze', capture, '--json', '--no-progress'], env);
      if (analyzed.code !== 0) throw new Error(`flowtrack analyze failed: ${analyzed.stderr}`);
      expected = JSON.parse(analyzed.stdout) as AnalyzeReport;
      server = await startServe(['--replay', capture], env);
      api = apiClient(server.url);
    });

    afterAll(async () => {
      await stopAllServes();
      // The run's database and every one a restore made or kept beside it.
      const names = await query<{ name: string }>(
        'select datname as name from pg_database where starts_with(datname, $1)',
        [database],
      );
      for (const { name } of names) await query(`drop database if exists "${name}" with (force)`);
      rmSync(dir, { recursive: true, force: true });
    });

    it('serves on the PostgreSQL store and creates the first admin with the printed setup token', async () => {
      expect(server.stderr()).toContain(`(store: postgres://`);
      const setupToken = (await server.waitFor(/one-time setup token:\n\s+(\S+)/))[1]!;
      const res = await api('POST', '/api/auth/setup', {
        body: { setupToken, username: 'ada', password: GOOD_PASSWORD },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      // Signing in as a user would, not with the tokens the setup call returned.
      const login = await api('POST', '/api/auth/login', {
        body: { username: 'ada', password: GOOD_PASSWORD },
      });
      expect(login.status).toBe(200);
      token = (login.body as { accessToken: string }).accessToken;
      // The token is used up: a second admin cannot be made with it.
      const again = await api('POST', '/api/auth/setup', {
        body: { setupToken, username: 'eve', password: GOOD_PASSWORD },
      });
      expect(again.status).toBe(409);
      const health = await api('GET', '/api/system_health', { token });
      expect(health.body).toMatchObject({
        database: { dialect: 'postgres', schemaVersion: LATEST_SCHEMA_VERSION },
      });
    });

    it('stores the replayed capture: flows, traffic and alerts agree with flowtrack analyze', async () => {
      const done = await server.waitFor(/replayed \S+: (\d+) packets, (\d+) flows, (\d+) alerts/, 60_000);
      expect(done.slice(1).map(Number)).toEqual([
        expected.packets,
        expected.flows.total,
        expected.alerts.length,
      ]);
      expect(expected.flows.total).toBeGreaterThan(1000);

      const flows = await all<{ id: number; srcAddr: string; protocol: string }>('/api/flows');
      expect(flows).toHaveLength(expected.flows.total);
      expect(new Set(flows.map((f) => f.id)).size).toBe(flows.length);
      expect(new Set(flows.map((f) => f.protocol))).toEqual(new Set(['tcp']));

      const from = Math.floor(expected.firstSeen / 60_000_000) * 60_000;
      const to = Math.ceil(expected.lastSeen / 60_000_000) * 60_000 + 60_000;
      const traffic = await api('GET', `/api/traffic?from=${from}&to=${to}&bucketSeconds=60&top=3`, {
        token,
      });
      expect(traffic.status, JSON.stringify(traffic.body)).toBe(200);
      const body = traffic.body as {
        series: { flows: number; packets: number; bytes: number }[];
        topTalkers: { host: string; bytes: number; packets: number }[];
      };
      const sum = (key: 'flows' | 'packets' | 'bytes') => body.series.reduce((n, b) => n + b[key], 0);
      expect({ flows: sum('flows'), packets: sum('packets'), bytes: sum('bytes') }).toEqual({
        flows: expected.flows.total,
        packets: expected.packets,
        bytes: expected.bytes,
      });
      const top = expected.topTalkersByBytes[0]!;
      expect(body.topTalkers[0]).toMatchObject({ host: top.address, bytes: top.bytes, packets: top.packets });

      const alerts = await all<{ type: string; src: string | null; dst: string | null; status: string }>(
        '/api/anomalies',
      );
      const described = (list: { type: string; src: string | null; dst: string | null }[]) =>
        list.map((a) => `${a.type} ${a.src} -> ${a.dst}`).sort();
      expect(described(alerts)).toEqual(described(expected.alerts));
      expect(alerts.every((a) => a.status === 'open')).toBe(true);
      // Filters reach PostgreSQL as parameters and work there.
      const scans = await all<{ type: string }>(
        `/api/anomalies?type=port_scan&src=${expected.alerts[0]!.src}`,
      );
      expect(scans.length).toBe(expected.alerts.filter((a) => a.type === 'port_scan').length);
    });

    let backupName: string;
    let acknowledged: string;

    it('makes a backup through the API with pg_dump', async () => {
      const res = await api('POST', '/api/backup/create', { token });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body).toMatchObject({ dialect: 'postgres', schemaVersion: LATEST_SCHEMA_VERSION });
      expect(res.body).not.toHaveProperty('path');
      backupName = (res.body as { name: string }).name;
      const list = await api('GET', '/api/backups', { token });
      expect((list.body as Page<{ name: string }>).items.map((b) => b.name)).toEqual([backupName]);
    });

    it("keeps the admin's actions in the audit log", async () => {
      const events = await all<{ actor: string; action: string; target: string | null; outcome: string }>(
        '/api/logs/audit',
      );
      expect(events).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ actor: 'ada', action: 'user.create', target: 'ada', outcome: 'ok' }),
          expect.objectContaining({
            actor: 'ada',
            action: 'backup.create',
            target: backupName,
            outcome: 'ok',
          }),
        ]),
      );
    });

    it('restores the backup through the API, undoing later changes and keeping the previous database', async () => {
      // Changes after the backup: an alert acknowledged, a user added.
      const [first] = await all<{ id: string }>('/api/anomalies');
      acknowledged = first!.id;
      const ack = await api('POST', `/api/anomalies/${encodeURIComponent(acknowledged)}/acknowledge`, {
        token,
      });
      expect(ack.status).toBe(200);
      const bea = await api('POST', '/api/users', {
        token,
        body: { username: 'bea', password: GOOD_PASSWORD, role: 'viewer' },
      });
      expect(bea.status).toBe(201);

      const res = await api('POST', '/api/backup/restore', { token, body: { name: backupName } });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({
        dialect: 'postgres',
        schemaVersion: LATEST_SCHEMA_VERSION,
        migrationsApplied: [],
        previous: expect.stringMatching(new RegExp(`^${database}_before_restore_\\d+$`)) as string,
      });
      const previous = (res.body as { previous: string }).previous;

      // The same session goes on (ada is in the backup); the later changes are gone.
      const users = await api('GET', '/api/users', { token });
      expect(users.status).toBe(200);
      expect((users.body as Page<{ username: string }>).items.map((u) => u.username)).toEqual(['ada']);
      const alert = (await all<{ id: string; status: string }>('/api/anomalies')).find(
        (a) => a.id === acknowledged,
      );
      expect(alert?.status).toBe('open');
      expect(await all('/api/flows')).toHaveLength(expected.flows.total);
      const audit = await all<{ action: string; outcome: string }>('/api/logs/audit?action=backup.restore');
      expect(audit).toEqual([expect.objectContaining({ outcome: 'ok' })]);

      // The previous database is kept, with the changes the restore undid.
      const kept = await query<{ username: string }>('select username from users order by id', [], previous);
      expect(kept.map((u) => u.username)).toEqual(['ada', 'bea']);
    });

    it('restores a backup an older FlowTrack made on PostgreSQL (schema v1) and migrates it up', async () => {
      const olderDb = `${database}_v1`;
      await query(`create database "${olderDb}"`);
      const older = await openStore(urlOf(olderDb), { migrate: false });
      let installation: Awaited<ReturnType<typeof seedInstallation>>;
      let name: string;
      try {
        await migrateAs(older, migrationsUpTo(1));
        installation = await seedInstallation(older, T0);
        const made = await createBackup(older, join(dir, 'data', 'backups'), { now: () => T0 });
        expect(made).toMatchObject({ dialect: 'postgres', schemaVersion: 1 });
        name = made.name;
      } finally {
        await older.close();
      }

      const res = await api('POST', '/api/backup/restore', { token, body: { name } });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({
        dialect: 'postgres',
        schemaVersion: 1,
        migrationsApplied: migrationsUpTo(LATEST_SCHEMA_VERSION).slice(1),
      });
      // ada is not in that installation: her session ends there; its own admin signs in.
      expect((await api('GET', '/api/auth/me', { token })).status).toBe(401);
      const login = await api('POST', '/api/auth/login', {
        body: { username: installation.admin, password: GOOD_PASSWORD },
      });
      expect(login.status).toBe(200);
      token = (login.body as { accessToken: string }).accessToken;
      const health = await api('GET', '/api/system_health', { token });
      expect(health.body).toMatchObject({
        database: { dialect: 'postgres', schemaVersion: LATEST_SCHEMA_VERSION },
      });
      const flows = await all<{ srcAddr: string }>('/api/flows');
      expect(flows).toHaveLength(installation.flows);
      expect(new Set(flows.map((f) => f.srcAddr))).toEqual(new Set([installation.source]));
      const migrations = await query<{ name: string }>(
        'select name from kysely_migration order by name',
        [],
        database,
      );
      expect(migrations.map((m) => m.name)).toEqual(migrationsUpTo(LATEST_SCHEMA_VERSION));
    });

    it('stops cleanly on SIGTERM', async () => {
      expect(await server.stop()).toBe(0);
    });
  },
);
