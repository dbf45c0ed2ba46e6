/**
 * Backups and restores of a SQLite store: what a user would notice (the rows restored, the
 * previous database kept, a damaged file refused with the live database untouched, a request's
 * backup name kept inside the backup folder), plus `flowtrack backup` end to end.
 */

import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { sql, type Kysely } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import type { Alert } from '../alerts/alert.js';
import { backupCommand } from '../cli/backup-command.js';
import { flowRow } from '../../test/helpers/store-suite.js';
import { BACKUP_HEADER_BYTES, decodeBackupHeader, encodeBackupHeader } from './backup-file.js';
import {
  BACKUP_NAME_PATTERN,
  createBackup,
  listBackups,
  pruneBackups,
  resolveBackupName,
  restoreBackup,
  startBackupSchedule,
  verifyBackup,
} from './backup.js';
import { LATEST_SCHEMA_VERSION } from './migrations/migration-list.js';
import type { Database } from './schema.js';
import { openStore, type Store } from './store.js';

const root = mkdtempSync(join(tmpdir(), 'flowtrack-backup-'));
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});
let cases = 0;
/** A new folder holding `flowtrack.db` and a `backups` folder. */
function freshPlace(): { live: string; backups: string; folder: string } {
  const folder = join(root, `case-${++cases}`);
  mkdirSync(folder);
  return { folder, live: join(folder, 'flowtrack.db'), backups: join(folder, 'backups') };
}

const T0 = Date.UTC(2025, 0, 31, 12, 0, 0);
const at = (ms: number) => () => T0 + ms;

function alert(id: string, overrides: Partial<Alert> = {}): Alert {
  return {
    id,
    type: 'port_scan',
    severity: 'high',
    src: '203.0.113.5',
    dst: '192.0.2.7',
    start: 1_700_000_000_000_000,
    end: 1_700_000_005_000_000,
    counters: { ports: 100 },
    summary: '203.0.113.5 probed 100 ports of 192.0.2.7',
    evidence: {
      thresholds: [{ metric: 'ports', value: 100, threshold: 50 }],
      sampleFlows: [],
      topSources: [],
    },
    updates: 1,
    ...overrides,
  };
}

/** A finished scan and a queued one. */
const SCAN_IDS = ['6f1c2a9e-0d4b-4c1e-9a57-3b2f8e4d1c01', '6f1c2a9e-0d4b-4c1e-9a57-3b2f8e4d1c02'] as const;

/** Rows of every kind a user would miss: flows, users, alerts, audit events, settings, scans. */
async function seed(store: Store): Promise<void> {
  await store.flows.insertFlows(
    Array.from({ length: 30 }, (_, i) => flowRow({ srcPort: 40000 + i, bytesToServer: 100 * i })),
  );
  await store.users.create({ username: 'alice', passwordHash: 'hash-a', role: 'admin' }, T0);
  await store.users.create({ username: 'bob', passwordHash: 'hash-b', role: 'viewer' }, T0);
  await store.alerts.upsertAlerts([alert('port_scan-1'), alert('syn_flood-2', { type: 'syn_flood' })], T0);
  await store.audit.append({ tsMs: T0, actor: 'alice', action: 'user.create', outcome: 'ok', target: 'bob' });
  await store.settings.set('retention', { flowsDays: 30 }, 'alice', T0);
  // A finished scan with its report, and one still queued.
  const scan = {
    requestedBy: 'alice',
    targets: ['192.0.2.0/28'],
    request: { ports: '22,80,443' },
    baselineKey: '192.0.2.0/28|t:22,80,443',
  };
  await store.scans.create({ ...scan, id: SCAN_IDS[0], createdAt: T0 });
  await store.scans.finish(SCAN_IDS[0], {
    status: 'done',
    finishedAt: T0 + 5000,
    report: { hosts: [{ address: '192.0.2.3', ports: [{ port: 22, state: 'open' }] }] },
    openPorts: 1,
    findings: 1,
    maxRisk: 'medium',
  });
  await store.scans.create({ ...scan, id: SCAN_IDS[1], createdAt: T0 + 1 });
}

/** Everything a user could notice changing after the backup. */
async function change(store: Store): Promise<void> {
  await store.flows.insertFlows([flowRow({ srcAddr: '10.9.9.9' }), flowRow({ srcAddr: '10.9.9.8' })]);
  await store.db.deleteFrom('flows').where('src_port', '<', 40010).execute();
  const bob = await store.users.findByUsername('bob');
  if (bob) await store.users.delete(bob.id);
  await store.users.create({ username: 'mallory', passwordHash: 'hash-m', role: 'admin' }, T0 + 1);
  await store.alerts.acknowledge('port_scan-1', 'mallory', T0 + 2);
  await store.alerts.upsertAlerts([alert('ddos-3', { type: 'ddos' })], T0 + 3);
  await store.db.deleteFrom('alerts').where('id', '=', 'syn_flood-2').execute();
  await store.settings.set('retention', { flowsDays: 1 }, 'mallory', T0 + 4);
  await store.scans.finish(SCAN_IDS[1], { status: 'cancelled', finishedAt: T0 + 5 });
  await store.db.deleteFrom('scans').where('id', '=', SCAN_IDS[0]).execute();
}

/** Every table's rows (sqlite_sequence included: restored ids must not be reused), sorted. */
async function tableContents(db: Kysely<Database>): Promise<Record<string, string[]>> {
  const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table'
    order by name`.execute(db);
  const contents: Record<string, string[]> = {};
  for (const { name } of tables.rows) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(db);
    contents[name] = rows.rows.map((r) => JSON.stringify(r)).sort();
  }
  return contents;
}

async function contentsAt(path: string): Promise<Record<string, string[]>> {
  const store = await openStore(path, { migrate: false });
  try {
    return await tableContents(store.db);
  } finally {
    await store.close();
  }
}

/** A live database with seeded rows and one backup of it; the store is closed. */
async function liveWithBackup(): Promise<{ live: string; backups: string; backup: string; folder: string }> {
  const place = freshPlace();
  const store = await openStore(place.live);
  try {
    await seed(store);
    const made = await createBackup(store, place.backups, { now: at(0) });
    return { ...place, backup: made.path };
  } finally {
    await store.close();
  }
}

function sha256Of(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The live database's files, by content: what "untouched" means. */
function fingerprint(folder: string, live: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const name of readdirSync(folder)) {
    const path = join(folder, name);
    if (statSync(path).isFile()) found[name] = sha256Of(path);
  }
  expect(found).toHaveProperty(live.slice(folder.length + 1));
  return found;
}

describe('backup and restore (SQLite)', () => {
  it('restores exactly the backed-up rows after flows, users and alerts changed, and keeps the previous database', async () => {
    const { live, backups, folder } = freshPlace();
    const store = await openStore(live);
    let backedUp: Record<string, string[]>;
    let changed: Record<string, string[]>;
    let backupPath: string;
    try {
      await seed(store);
      backedUp = await tableContents(store.db);
      const made = await createBackup(store, backups, { now: at(0) });
      backupPath = made.path;
      expect(made).toMatchObject({
        name: `flowtrack-20250131T120000.000Z-v${LATEST_SCHEMA_VERSION}.ftbak`,
        dialect: 'sqlite',
        schemaVersion: LATEST_SCHEMA_VERSION,
        createdAt: '2025-01-31T12:00:00.000Z',
      });
      expect(made.name).toMatch(BACKUP_NAME_PATTERN);
      expect(statSync(made.path).size).toBe(made.bytes);
      expect(statSync(made.path).mode & 0o777).toBe(0o600);
      // Nothing but the backup is left in the folder (no temporary files).
      expect(readdirSync(backups)).toEqual([made.name]);

      await change(store);
      changed = await tableContents(store.db);
      expect(changed).not.toEqual(backedUp);
    } finally {
      await store.close();
    }

    const result = await restoreBackup(live, backupPath, { now: at(60_000) });
    expect(result).toEqual({
      dialect: 'sqlite',
      location: live,
      schemaVersion: LATEST_SCHEMA_VERSION,
      migrationsApplied: [],
      previous: `${live}.before-restore-20250131T120100.000Z`,
    });
    expect(await contentsAt(live)).toEqual(backedUp);
    // The previous database, with what was written after the backup, is still there.
    expect(await contentsAt(`${live}.before-restore-20250131T120100.000Z`)).toEqual(changed);
    // No staging copy is left behind.
    expect(readdirSync(folder).filter((n) => n.includes('.restore-'))).toEqual([]);

    // The restored store works as a store: the repositories read and write it.
    const reopened = await openStore(live);
    try {
      expect((await reopened.users.list()).map((u) => u.username).sort()).toEqual(['alice', 'bob']);
      expect((await reopened.alerts.findById('port_scan-1'))?.status).toBe('open');
      expect((await reopened.scans.listScans()).items.map((s) => [s.id, s.status, s.openPorts])).toEqual([
        [SCAN_IDS[1], 'queued', 0],
        [SCAN_IDS[0], 'done', 1],
      ]);
      expect((await reopened.scans.findById(SCAN_IDS[0]))?.report).toMatchObject({
        hosts: [{ address: '192.0.2.3' }],
      });
      await reopened.flows.insertFlows([flowRow()]);
    } finally {
      await reopened.close();
    }
  });

  it('restores into a place with no database yet, and keeps the previous database in keepDir when asked', async () => {
    const { backup, live } = await liveWithBackup();
    const expected = await contentsAt(live);

    const elsewhere = join(freshPlace().folder, 'new', 'flowtrack.db');
    const fresh = await restoreBackup(elsewhere, backup);
    expect(fresh.previous).toBeNull();
    expect(await contentsAt(elsewhere)).toEqual(expected);

    const keepDir = join(freshPlace().folder, 'kept');
    const kept = await restoreBackup(live, backup, { keepDir, now: at(1) });
    expect(kept.previous).toBe(join(keepDir, 'flowtrack.db.before-restore-20250131T120000.001Z'));
    expect(await contentsAt(kept.previous ?? '')).toEqual(expected);
  });

  it('verifies a good backup and reports its header', async () => {
    const { backup } = await liveWithBackup();
    const verified = await verifyBackup(backup);
    expect(verified.bytes).toBe(statSync(backup).size);
    expect(verified.header).toMatchObject({
      dialect: 'sqlite',
      schemaVersion: LATEST_SCHEMA_VERSION,
      createdAt: '2025-01-31T12:00:00.000Z',
    });
    expect(verified.header.sha256).toBe(
      createHash('sha256').update(readFileSync(backup).subarray(BACKUP_HEADER_BYTES)).digest('hex'),
    );
  });

  describe('refuses a damaged backup before touching the live database', () => {
    /** Each bad file must be refused by verify and by restore, leaving every live file as it was. */
    async function expectRefused(
      make: (good: Buffer) => Buffer,
      message: RegExp,
      verifyMessage = message,
    ): Promise<void> {
      const { live, backup, folder } = await liveWithBackup();
      const before = fingerprint(folder, live);
      const rowsBefore = await contentsAt(live);
      const afterOpen = fingerprint(folder, live);
      const bad = join(folder, 'bad.ftbak');
      writeFileSync(bad, make(readFileSync(backup)));
      const refusal = (pattern: RegExp) => ({
        code: 'BAD_BACKUP',
        message: expect.stringMatching(pattern) as string,
      });
      await expect(verifyBackup(bad)).rejects.toMatchObject(refusal(verifyMessage));
      await expect(restoreBackup(live, bad)).rejects.toMatchObject(refusal(message));
      await expect(restoreBackup(live, bad)).rejects.toThrow(/the live database was not changed/);
      // Byte for byte, and no file added or left behind beside the live one.
      expect(fingerprint(folder, live)).toEqual({ ...afterOpen, 'bad.ftbak': sha256Of(bad) });
      expect(Object.keys(before).sort()).toEqual(Object.keys(afterOpen).sort());
      expect(await contentsAt(live)).toEqual(rowsBefore);
    }

    it.each([4, 8, 100, BACKUP_HEADER_BYTES - 1])('truncated inside the header, at byte %i', async (cut) => {
      await expectRefused((good) => good.subarray(0, cut), new RegExp(`truncated at byte ${cut}\\b`));
    });

    it.each([BACKUP_HEADER_BYTES, BACKUP_HEADER_BYTES + 10, 0.5, -1])(
      'truncated inside the payload, at %s',
      async (where) => {
        let cut = 0;
        await expectRefused((good) => {
          cut = where === -1 ? good.length - 1 : where < 1 ? Math.floor(good.length * where) : where;
          return good.subarray(0, cut);
        }, /truncated at byte \d+ \(the header says it ends at byte \d+\)/);
        expect(cut).toBeGreaterThan(0);
      },
    );

    it('an empty file', async () => {
      await expectRefused(() => Buffer.alloc(0), /the file is empty/);
    });

    it('a random file', async () => {
      await expectRefused(() => randomBytes(5000), /not a FlowTrack backup/);
    });

    it.each([0.1, 0.5, 1])('a flipped byte in the payload (at %s of it)', async (where) => {
      await expectRefused((good) => {
        const bad = Buffer.from(good);
        const payload = bad.length - BACKUP_HEADER_BYTES;
        const i = BACKUP_HEADER_BYTES + Math.min(payload - 1, Math.floor(payload * where));
        bad[i] = (bad[i] ?? 0) ^ 0x01;
        return bad;
      }, /checksum mismatch/);
    });

    it('a flipped byte in the header', async () => {
      await expectRefused((good) => {
        const bad = Buffer.from(good);
        bad[60] = (bad[60] ?? 0) ^ 0x20;
        return bad;
      }, /header is damaged/);
    });

    it('bytes appended after the end', async () => {
      await expectRefused(
        (good) => Buffer.concat([good, Buffer.from('extra')]),
        /5 unexpected bytes after its end/,
      );
    });

    it('a header from a newer schema version', async () => {
      await expectRefused(
        (good) => {
          const header = decodeBackupHeader(good.subarray(0, BACKUP_HEADER_BYTES), good.length);
          const newer = encodeBackupHeader({ ...header, schemaVersion: LATEST_SCHEMA_VERSION + 1 });
          return Buffer.concat([newer, good.subarray(BACKUP_HEADER_BYTES)]);
        },
        new RegExp(`made by a newer FlowTrack \\(schema v${LATEST_SCHEMA_VERSION + 1}`),
      );
    });

    it('a newer backup format', async () => {
      await expectRefused((good) => {
        const bad = Buffer.from(good);
        bad.writeUInt32BE(2, 8);
        return bad;
      }, /newer FlowTrack \(backup format 2/);
    });

    /** A file with a correct header and checksum around `content`, as a crafted file would have. */
    const wrap = (
      content: Buffer,
      overrides: { dialect?: 'sqlite' | 'postgres'; schemaVersion?: number } = {},
    ) => {
      const payload = gzipSync(content);
      const header = encodeBackupHeader({
        dialect: overrides.dialect ?? 'sqlite',
        schemaVersion: overrides.schemaVersion ?? LATEST_SCHEMA_VERSION,
        createdAt: new Date(T0).toISOString(),
        sha256: createHash('sha256').update(payload).digest('hex'),
        payloadBytes: payload.length,
        contentBytes: content.length,
      });
      return Buffer.concat([header, payload]);
    };
    const databaseOf = (good: Buffer): Buffer => gunzipSync(good.subarray(BACKUP_HEADER_BYTES));
    /** The bytes of a SQLite database made by `prepare`, starting from `bytes` or empty. */
    const databaseMadeBy = async (
      prepare: (db: Kysely<Database>) => Promise<unknown>,
      bytes?: Buffer,
    ): Promise<Buffer> => {
      const path = join(freshPlace().folder, 'crafted.db');
      if (bytes) writeFileSync(path, bytes);
      const store = await openStore(path, { migrate: false });
      try {
        await prepare(store.db);
      } finally {
        await store.close();
      }
      return readFileSync(path);
    };

    it('a correctly checksummed backup whose database file is corrupt', async () => {
      await expectRefused((good) => {
        const db = databaseOf(good);
        // Scribble over the pages after the first (schema) page: tables and indexes break.
        for (let i = 4096; i < db.length; i += 97) db[i] = (db[i] ?? 0) ^ 0xff;
        return wrap(db);
      }, /database file inside is corrupt/);
    });

    it('a correctly checksummed backup of something that is not a database', async () => {
      await expectRefused(() => wrap(Buffer.from('hello, this is not SQLite')), /not a SQLite database/);
    });

    it('a correctly checksummed backup of a database that is not FlowTrack', async () => {
      const other = await databaseMadeBy((db) => sql`create table other (x text)`.execute(db));
      await expectRefused(() => wrap(other), /no FlowTrack database \(tables missing: flows, /);
    });

    it('a v1 header on a database migrated by a newer FlowTrack', async () => {
      const { backup } = await liveWithBackup();
      const newer = await databaseMadeBy(
        (db) => sql`insert into kysely_migration (name, timestamp) values ('0999-future', 'now')`.execute(db),
        databaseOf(readFileSync(backup)),
      );
      await expectRefused(() => wrap(newer), /made by a newer FlowTrack \(schema v999/);
    });

    it('a header that claims another schema version than the database inside', async () => {
      const { backup } = await liveWithBackup();
      const unmigrated = await databaseMadeBy(
        (db) => sql`delete from kysely_migration`.execute(db),
        databaseOf(readFileSync(backup)),
      );
      await expectRefused(
        () => wrap(unmigrated),
        new RegExp(`header says schema v${LATEST_SCHEMA_VERSION} but the database inside is at v0`),
      );
    });

    it('a PostgreSQL backup offered to a SQLite database', async () => {
      await expectRefused(
        (good) => wrap(databaseOf(good), { dialect: 'postgres' }),
        /backup of a PostgreSQL database and cannot be restored into SQLite/,
        // On its own, it is checked as what its header says it is.
        /payload is not a pg_dump archive/,
      );
    });
  });

  it('reports a missing backup as not found, and a folder as no backup', async () => {
    const { live, folder } = await liveWithBackup();
    await expect(restoreBackup(live, join(folder, 'nope.ftbak'))).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(verifyBackup(folder)).rejects.toMatchObject({
      code: 'BAD_BACKUP',
      message: expect.stringMatching(/not a regular file/) as string,
    });
  });

  it('takes a consistent backup while another process keeps inserting', async () => {
    const { live, backups, folder } = freshPlace();
    const store = await openStore(live);
    const batchRows = 20;
    // A separate process, as `flowtrack serve` beside `flowtrack backup create`: each transaction
    // adds one batch of flows (src_port = batch) and the audit line that records it.
    const betterSqlite = createRequire(import.meta.url).resolve('better-sqlite3');
    const writer = spawn(
      process.execPath,
      [
        '-e',
        `const Db = require(${JSON.stringify(betterSqlite)});
         const db = new Db(${JSON.stringify(live)}, { timeout: 5000 });
         const flow = db.prepare("insert into flows (first_seen_us, last_seen_us, ip_version, protocol, src_addr, dst_addr, src_port, dst_port, packets_to_server, bytes_to_server, packets_to_client, bytes_to_client, state, end_reason) values (1, 2, 4, 'tcp', '10.0.0.1', '10.0.0.2', ?, 80, 1, 60, 1, 60, 'closed', 'closed')");
         const audit = db.prepare("insert into audit_events (ts_ms, actor, action, target, outcome) values (1, 'writer', 'batch', ?, 'ok')");
         const batch = db.transaction((n) => { for (let i = 0; i < ${batchRows}; i++) flow.run(n); audit.run(String(n)); });
         const end = Date.now() + 20000;
         for (let n = 1; Date.now() < end; n++) batch(n);`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let writerErrors = '';
    writer.stderr.on('data', (chunk: Buffer) => (writerErrors += chunk.toString()));
    const ended: { code: number | null } = { code: null };
    writer.on('exit', (code) => (ended.code = code ?? -1));
    const batchesIn = async (db: Kysely<Database>) =>
      (await sql<{ n: number }>`select count(*) as n from audit_events where actor = 'writer'`.execute(db))
        .rows[0]?.n ?? 0;
    try {
      while ((await batchesIn(store.db)) < 50) {
        if (ended.code !== null) throw new Error(`the writer ended (${ended.code}): ${writerErrors}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const made = await createBackup(store, backups);
      const afterBackup = await batchesIn(store.db);
      await new Promise((r) => setTimeout(r, 200));
      // The writer was not stopped by the backup.
      expect(await batchesIn(store.db)).toBeGreaterThan(afterBackup);
      const copy = join(folder, 'copy.db');
      await restoreBackup(copy, made.path);
      const restored = await openStore(copy, { migrate: false });
      try {
        const perBatch = await sql<{ port: number; n: number }>`select src_port as port, count(*) as n
          from flows group by src_port`.execute(restored.db);
        const audited = await sql<{ target: string }>`select target from audit_events
          where actor = 'writer'`.execute(restored.db);
        expect(perBatch.rows.length).toBeGreaterThanOrEqual(50);
        // Every batch whole, and exactly the batches whose audit line made it: one commit's view.
        expect(perBatch.rows.every((r) => r.n === batchRows)).toBe(true);
        expect(perBatch.rows.map((r) => String(r.port)).sort()).toEqual(
          audited.rows.map((r) => r.target).sort(),
        );
      } finally {
        await restored.close();
      }
    } finally {
      writer.kill();
      await store.close();
    }
  });

  it('prunes all but the newest N backups and lists them newest first', async () => {
    const { live, backups } = freshPlace();
    const store = await openStore(live);
    try {
      await seed(store);
      const names: string[] = [];
      // Made out of order: age is judged by the time in the name, not by when the file was written.
      for (const minute of [3, 1, 4, 0, 2]) {
        names.push((await createBackup(store, backups, { now: at(minute * 60_000) })).name);
      }
      writeFileSync(join(backups, 'notes.txt'), 'not a backup');
      const byAge = [4, 3, 2, 1, 0].map((m) => names[[3, 1, 4, 0, 2].indexOf(m)]);
      expect((await listBackups(backups)).map((b) => b.name)).toEqual(byAge);

      expect((await pruneBackups(backups, 2)).sort()).toEqual(byAge.slice(2).sort());
      const left = await listBackups(backups);
      expect(left.map((b) => b.name)).toEqual(byAge.slice(0, 2));
      expect(left[0]).toMatchObject({
        createdAt: '2025-01-31T12:04:00.000Z',
        schemaVersion: LATEST_SCHEMA_VERSION,
      });
      expect(existsSync(join(backups, 'notes.txt'))).toBe(true);
      await expect(pruneBackups(backups, 0)).rejects.toMatchObject({ code: 'BAD_OPTION' });
      expect(await listBackups(join(backups, 'absent'))).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('gives two backups in the same millisecond different names', async () => {
    const { live, backups } = freshPlace();
    const store = await openStore(live);
    try {
      const first = await createBackup(store, backups, { now: at(0) });
      const second = await createBackup(store, backups, { now: at(0) });
      expect(second.name).not.toBe(first.name);
      expect((await listBackups(backups)).length).toBe(2);
    } finally {
      await store.close();
    }
  });

  it('makes scheduled backups and keeps only the newest', async () => {
    const { live, backups } = freshPlace();
    const store = await openStore(live);
    try {
      let made = 0;
      let clock = T0;
      const errors: Error[] = [];
      const schedule = startBackupSchedule(store, backups, 20, 2, {
        now: () => (clock += 1000),
        onBackup: () => {
          made++;
        },
        onError: (err) => errors.push(err),
      });
      while (made < 4 && errors.length === 0) await new Promise((r) => setTimeout(r, 10));
      await schedule.stop();
      expect(errors).toEqual([]);
      const left = await listBackups(backups);
      expect(left.length).toBe(2);
      expect(() => startBackupSchedule(store, backups, 0, 2)).toThrow(/interval/);
      expect(() => startBackupSchedule(store, backups, 1000, 0)).toThrow(/keep/);
    } finally {
      await store.close();
    }
  });
});

describe('resolveBackupName', () => {
  const dir = join(root, 'names');
  const outside = join(root, 'outside');
  mkdirSync(dir, { recursive: true });
  mkdirSync(outside, { recursive: true });
  const good = 'flowtrack-20250131T120000.000Z-v1.ftbak';

  it('accepts a backup name, whether or not the file exists yet', () => {
    expect(resolveBackupName(dir, good)).toBe(join(dir, good));
    writeFileSync(join(dir, good), 'x');
    expect(resolveBackupName(dir, good)).toBe(join(dir, good));
  });

  it.each([
    ['../x.ftbak', /contains a path separator/],
    ['..', /contains "\.\."/],
    ['/etc/passwd', /is an absolute path/],
    ['..%2f..%2fetc%2fpasswd', /contains "\.\."/],
    ['%2e%2e%2fflowtrack-20250131T120000.000Z-v1.ftbak', /not the name of a FlowTrack backup/],
    ['a/b.ftbak', /contains a path separator/],
    ['..\\flowtrack-20250131T120000.000Z-v1.ftbak', /path separator/],
    [`flowtrack-20250131T120000.000Z-v1.ftbak\0.txt`, /contains a NUL byte/],
    ['\0', /NUL/],
    ['', /is empty/],
    ['flowtrack.db', /not the name of a FlowTrack backup/],
    ['flowtrack-20250131T120000.000Z-v1.ftbak.txt', /not the name of a FlowTrack backup/],
    [' flowtrack-20250131T120000.000Z-v1.ftbak', /not the name of a FlowTrack backup/],
    ['x'.repeat(300), /too long/],
  ])('refuses %j', (name, why) => {
    let caught: unknown;
    try {
      resolveBackupName(dir, name);
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(why) as string });
  });

  it('refuses a symbolic link in the backup folder that leads outside it, or nowhere', () => {
    writeFileSync(join(outside, 'secret'), 'secret');
    const out = 'flowtrack-20250131T120000.001Z-v1.ftbak';
    symlinkSync(join(outside, 'secret'), join(dir, out));
    expect(() => resolveBackupName(dir, out)).toThrow(/symbolic link that leads outside the backup folder/);
    const etc = 'flowtrack-20250131T120000.002Z-v1.ftbak';
    symlinkSync('/etc/passwd', join(dir, etc));
    expect(() => resolveBackupName(dir, etc)).toThrow(/leads outside/);
    const dangling = 'flowtrack-20250131T120000.003Z-v1.ftbak';
    symlinkSync(join(outside, 'absent'), join(dir, dangling));
    expect(() => resolveBackupName(dir, dangling)).toThrow(/leads nowhere/);
    // A link to a backup in the same folder is harmless.
    const inside = 'flowtrack-20250131T120000.004Z-v1.ftbak';
    symlinkSync(good, join(dir, inside));
    expect(resolveBackupName(dir, inside)).toBe(join(dir, good));
    // listBackups never lists a link.
    return expect(listBackups(dir).then((l) => l.map((b) => b.name))).resolves.toEqual([good]);
  });

  it('accepts names in a backup folder that is itself reached through a link', () => {
    const linked = join(root, 'linked-backups');
    symlinkSync(dir, linked);
    expect(resolveBackupName(linked, good)).toBe(join(dir, good));
  });
});

describe('flowtrack backup', () => {
  async function run(args: string[]): Promise<string> {
    let out = '';
    await backupCommand({ stdout: (t) => (out += t) })
      .exitOverride()
      .parseAsync(args, { from: 'user' });
    return out;
  }

  it('creates, lists, verifies and (only with --yes) restores', async () => {
    const { live, backups } = freshPlace();
    const store = await openStore(live);
    await seed(store);
    const expected = await tableContents(store.db);
    await store.close();

    const created = await run(['create', '--db', live, '--dir', backups, '--keep', '3']);
    expect(created).toMatch(
      new RegExp(
        `^created .*flowtrack-\\S+-v${LATEST_SCHEMA_VERSION}\\.ftbak \\(.*, sqlite schema v${LATEST_SCHEMA_VERSION}, sha256 [0-9a-f]{64}\\)\\n$`,
      ),
    );
    const [entry] = await listBackups(backups);
    if (!entry) throw new Error('no backup was listed');
    expect(await run(['list', '--dir', backups])).toContain(entry.name);
    expect(await run(['list', '--dir', join(backups, 'none')])).toMatch(/^no backups in/);
    expect(await run(['verify', entry.path])).toContain(
      `: OK (sqlite schema v${LATEST_SCHEMA_VERSION}, made `,
    );

    const changed = await openStore(live);
    await changed.flows.insertFlows([flowRow({ srcAddr: '10.1.1.1' })]);
    await changed.close();

    await expect(run(['restore', entry.path, '--db', live])).rejects.toMatchObject({ code: 'BAD_OPTION' });
    const restored = await run(['restore', entry.path, '--db', live, '--yes']);
    expect(restored).toMatch(/the previous database is kept as .*flowtrack\.db\.before-restore-/);
    expect(await contentsAt(live)).toEqual(expected);
  });
});
