/**
 * Backups of the store and restores from them. A backup is one `.ftbak` file (see backup-file.ts)
 * in the backup folder: a consistent copy taken while the store stays open (SQLite's VACUUM INTO,
 * PostgreSQL's pg_dump), gzip-compressed, with its SHA-256 and schema version in the header.
 * Restoring checks the whole file first (length, checksum, decompression, schema version, and the
 * database inside: SQLite's integrity check, pg_restore's reading of the archive) and only then
 * swaps the restored database in, keeping the previous one beside it.
 *
 * It must never change the live database before a backup is fully verified, never delete the
 * previous database on restore, never let a backup name from a request lead outside the backup
 * folder (resolveBackupName), and never put a PostgreSQL password on a command line or in a
 * message: pg_dump and pg_restore get it through PGPASSWORD, messages use the masked URL.
 */

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, lstatSync, realpathSync, type Stats } from 'node:fs';
import { lstat, mkdir, mkdtemp, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { sql, type Kysely } from 'kysely';
import { startPeriodicJob, type PeriodicJob } from '../util/periodic-job.js';
import { ErrorCode, FlowTrackError, describeError } from '../util/errors.js';
import {
  extractBackupPayload,
  readBackupHeader,
  sink,
  writeBackupFile,
  type BackupHeader,
  type BackupPayloadSource,
} from './backup-file.js';
import { migrateStore } from './migrate-store.js';
import { LATEST_SCHEMA_VERSION, versionOfMigration } from './migrations/migration-list.js';
import { maskPostgresUrl, openPostgresDialect } from './postgres-dialect.js';
import type { Database } from './schema.js';
import { openSqliteDialect } from './sqlite-dialect.js';
import type { DialectName, StoreDialect } from './store-dialect.js';
import { isPostgresLocation, openStore, type Store } from './store.js';

/** Where `flowtrack backup` keeps backups unless told otherwise (beside DEFAULT_STORE_LOCATION). */
export const DEFAULT_BACKUP_DIR = './flowtrack-data/backups';

/**
 * The only names a backup may have: `flowtrack-<UTC time>-v<schema>.ftbak`, e.g.
 * `flowtrack-20250131T120000.123Z-v1.ftbak`. The time is compact ISO 8601 so names sort by age.
 */
export const BACKUP_NAME_PATTERN = /^flowtrack-(\d{8}T\d{6}\.\d{3}Z)-v([1-9]\d{0,5})\.ftbak$/;

/**
 * Tables every FlowTrack schema since v1 has; a database without them is not FlowTrack's. A
 * migration that drops one of them must change this list.
 */
const FLOWTRACK_TABLES = [
  'flows',
  'flow_rollups',
  'alerts',
  'users',
  'refresh_tokens',
  'audit_events',
  'settings',
  'kysely_migration',
] as const;

/** PostgreSQL's NAMEDATALEN - 1: a longer name is silently cut, so names are fitted first. */
const PG_MAX_NAME_BYTES = 63;

/** What making a backup needs of a store. */
export type BackupSource = Pick<Store, 'dialect' | 'location' | 'db'>;

export interface CreateBackupOptions {
  /** The clock for the backup's time and name (tests pass a fixed one). */
  now?: () => number;
  /**
   * PostgreSQL only: the URL with its password, which pg_dump needs and `store.location` masks.
   * Not needed when the URL has no password (e.g. it comes from ~/.pgpass or PGPASSWORD).
   */
  connectionUrl?: string;
}

/** A backup just written. */
export interface BackupInfo {
  readonly name: string;
  readonly path: string;
  /** Size of the whole file. */
  readonly bytes: number;
  /** SHA-256 of the compressed payload, as in the header. */
  readonly sha256: string;
  readonly schemaVersion: number;
  readonly dialect: DialectName;
  /** ISO 8601 UTC. */
  readonly createdAt: string;
}

/** A backup found in the backup folder (from its name and size; the file is not read). */
export interface BackupListing {
  readonly name: string;
  readonly path: string;
  readonly bytes: number;
  /** ISO 8601 UTC, from the name. */
  readonly createdAt: string;
  readonly schemaVersion: number;
}

/** A backup that passed every check of verifyBackup. */
export interface VerifiedBackup {
  readonly path: string;
  readonly bytes: number;
  readonly header: BackupHeader;
}

export interface RestoreOptions {
  /**
   * SQLite only: the folder to keep the previous database in (default: beside it). It must be on
   * the same file system, as the previous database is moved there, not copied.
   */
  keepDir?: string;
  /** The clock for the names of the kept database (tests pass a fixed one). */
  now?: () => number;
}

/** What a restore did. */
export interface RestoreResult {
  readonly dialect: DialectName;
  /** The database restored into, safe to print (a path, or the masked URL). */
  readonly location: string;
  /** The backup's schema version. */
  readonly schemaVersion: number;
  /** Migrations applied after the restore because the backup was older than this build. */
  readonly migrationsApplied: readonly string[];
  /** Where the previous database is kept: a file path or a database name; null when there was none. */
  readonly previous: string | null;
}

// ---------------------------------------------------------------------------------------------
// Names

/** The file name of a backup made at `createdAt` of a database at `schemaVersion`. */
export function backupNameFor(createdAt: Date, schemaVersion: number): string {
  return `flowtrack-${createdAt.toISOString().replace(/[-:]/g, '')}-v${schemaVersion}.ftbak`;
}

/**
 * The path of the backup called `name` in `dir`, for a name that came from a request. Accepts
 * only a bare backup name (BACKUP_NAME_PATTERN: no separators, no "..", no NUL, not absolute)
 * whose path stays inside `dir`, also after following a symbolic link. Anything else is refused
 * with BAD_REQUEST saying what is wrong; the name is never decoded again, so `..%2f` stays text.
 * The file need not exist (the caller reports NOT_FOUND on reading it).
 */
export function resolveBackupName(dir: string, name: string): string {
  const refuse = (why: string): FlowTrackError =>
    new FlowTrackError(
      ErrorCode.BAD_REQUEST,
      `backup name ${JSON.stringify(name)} ${why}: give the bare name of a file in the backup folder as the backup list shows it (flowtrack-<time>-v<schema>.ftbak)`,
    );
  if (name.length === 0) throw refuse('is empty');
  if (name.length > 255) throw refuse('is too long');
  if (name.includes('\0')) throw refuse('contains a NUL byte');
  if (isAbsolute(name)) throw refuse('is an absolute path');
  if (name.includes('/') || name.includes('\\')) throw refuse('contains a path separator');
  if (name.includes('..')) throw refuse('contains ".."');
  if (!BACKUP_NAME_PATTERN.test(name)) throw refuse('is not the name of a FlowTrack backup');
  const folder = resolve(dir);
  const path = resolve(folder, name);
  if (dirname(path) !== folder) throw refuse('leads outside the backup folder');

  let entry: Stats;
  try {
    entry = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return path;
    throw new FlowTrackError(ErrorCode.IO_ERROR, `cannot look at ${path} (${describeError(err)})`, {
      cause: err,
    });
  }
  if (!entry.isFile() && !entry.isSymbolicLink()) throw refuse('is not a file');
  // A symbolic link placed in the folder could lead anywhere: follow it, and the folder itself
  // (which may be a link, e.g. to a mounted disk), and compare where both end.
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    throw refuse('is a symbolic link that leads nowhere');
  }
  if (dirname(real) !== realpathSync(folder)) {
    throw refuse('is a symbolic link that leads outside the backup folder');
  }
  return real;
}

// ---------------------------------------------------------------------------------------------
// Making backups

/**
 * Writes a backup of `store` into `dir` (created, mode 0700, when absent) while the store stays
 * open: SQLite's VACUUM INTO or pg_dump take a consistent snapshot while writers go on. The file
 * appears under its final name only when complete and synced (a temporary file is renamed), with
 * mode 0600. Fails with STORE_ERROR or IO_ERROR, leaving no partial file behind.
 */
export async function createBackup(
  store: BackupSource,
  dir: string,
  options: CreateBackupOptions = {},
): Promise<BackupInfo> {
  const folder = resolve(dir);
  await makeFolder(folder);
  const createdAt = new Date((options.now ?? Date.now)());
  const dumpUrl = store.dialect === 'postgres' ? postgresUrlOf(store, options.connectionUrl) : null;
  const schemaVersion = await appliedSchemaVersion(store.db).catch((err: unknown) => {
    throw new FlowTrackError(
      ErrorCode.STORE_ERROR,
      `cannot read the schema version of ${store.location} (${describeError(err)}): is it a FlowTrack database? run flowtrack db migrate first`,
      { cause: err },
    );
  });
  if (schemaVersion < 1) {
    throw new FlowTrackError(
      ErrorCode.STORE_ERROR,
      `${store.location} has no FlowTrack schema yet (schema v0): there is nothing to back up`,
    );
  }
  if (schemaVersion > LATEST_SCHEMA_VERSION) {
    throw new FlowTrackError(
      ErrorCode.STORE_ERROR,
      `${store.location} was migrated by a newer FlowTrack (schema v${schemaVersion}; this one knows up to v${LATEST_SCHEMA_VERSION}): back it up with that version`,
    );
  }

  // The work folder is inside the backup folder so the final rename stays on one file system.
  const work = await mkdtemp(join(folder, '.flowtrack-backup-'));
  try {
    const partial = join(work, 'backup.ftbak');
    let written: { sha256: string; bytes: number };
    if (dumpUrl === null) {
      const snapshot = join(work, 'snapshot.db');
      try {
        // A read transaction: the copy is the database as of one commit, whatever other writers
        // do meanwhile (WAL lets them go on). It runs on the store's one connection, which
        // better-sqlite3 drives synchronously, so this process's own queries wait for the copy
        // (measured: 0.26 s for a 64 MB file in the page cache); the library's stepwise
        // backup() would not block, but needs the handle, which only sqlite-dialect.ts may
        // touch. The path is a bound parameter, never spliced into the SQL.
        await sql`vacuum into ${snapshot}`.execute(store.db);
      } catch (err) {
        throw new FlowTrackError(
          ErrorCode.STORE_ERROR,
          `cannot copy the SQLite database ${store.location} for a backup (${describeError(err)}): check the free space in ${folder}`,
          { cause: err },
        );
      }
      written = await writeBackupFile(partial, { dialect: store.dialect, schemaVersion, createdAt }, () => ({
        stream: createReadStream(snapshot),
        done: Promise.resolve(),
        stop: () => undefined,
      }));
    } else {
      const { env, scrub } = libpqEnvironment(dumpUrl);
      written = await writeBackupFile(partial, { dialect: store.dialect, schemaVersion, createdAt }, () =>
        // --compress=0: the payload is gzip-compressed as a whole, as for SQLite.
        startTool('pg_dump', ['--format=custom', '--compress=0', '--no-password'], env, scrub),
      );
    }
    const { name, path } = await publish(folder, partial, createdAt, schemaVersion);
    return {
      name,
      path,
      bytes: written.bytes,
      sha256: written.sha256,
      schemaVersion,
      dialect: store.dialect,
      createdAt: createdAt.toISOString(),
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The backups in `dir`, newest first; an absent folder has none. Only regular files are listed. */
export async function listBackups(dir: string): Promise<BackupListing[]> {
  const folder = resolve(dir);
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new FlowTrackError(
      ErrorCode.IO_ERROR,
      `cannot read the backup folder ${folder} (${describeError(err)})`,
      { cause: err },
    );
  }
  const found: BackupListing[] = [];
  for (const name of names) {
    const match = BACKUP_NAME_PATTERN.exec(name);
    if (!match) continue;
    const path = join(folder, name);
    // lstat: a symbolic link is not listed, so a listed backup is always a file of this folder.
    const entry = await lstat(path).catch(() => null);
    if (!entry?.isFile()) continue;
    found.push({
      name,
      path,
      bytes: entry.size,
      createdAt: isoOfStamp(match[1] ?? ''),
      schemaVersion: Number(match[2]),
    });
  }
  return found.sort((a, b) =>
    a.createdAt === b.createdAt ? cmp(b.name, a.name) : cmp(b.createdAt, a.createdAt),
  );
}

/** Deletes all but the newest `keep` backups in `dir` (by the time in their names); returns the names deleted. */
export async function pruneBackups(dir: string, keep: number): Promise<string[]> {
  if (!Number.isSafeInteger(keep) || keep < 1) {
    throw new FlowTrackError(
      ErrorCode.BAD_OPTION,
      `the number of backups to keep must be a whole number of 1 or more, not ${keep}`,
    );
  }
  const deleted: string[] = [];
  for (const backup of (await listBackups(dir)).slice(keep)) {
    try {
      await unlink(backup.path);
      deleted.push(backup.name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new FlowTrackError(
          ErrorCode.IO_ERROR,
          `cannot delete the old backup ${backup.path} (${describeError(err)})`,
          { cause: err },
        );
      }
    }
  }
  return deleted;
}

/** A running backup timer. */
/** A running backup schedule: `stop()` stops the timer and waits for a backup in progress. */
export type BackupSchedule = PeriodicJob;

export interface BackupScheduleOptions extends CreateBackupOptions {
  /** Hears each backup made and the old ones then deleted. */
  onBackup?: (backup: BackupInfo, pruned: readonly string[]) => void;
  /** Hears each failure; the next interval tries again. */
  onError?: (err: FlowTrackError) => void;
}

/**
 * Makes a backup every `intervalMs` (the first after one interval) and then keeps the newest
 * `keep`. The timer does not keep the process alive and backups never overlap.
 */
export function startBackupSchedule(
  store: BackupSource,
  dir: string,
  intervalMs: number,
  keep: number,
  options: BackupScheduleOptions = {},
): BackupSchedule {
  if (!Number.isSafeInteger(intervalMs) || intervalMs < 1) {
    throw new FlowTrackError(
      ErrorCode.BAD_CONFIG,
      `the backup interval must be a whole number of milliseconds above 0, not ${intervalMs}`,
    );
  }
  if (!Number.isSafeInteger(keep) || keep < 1) {
    throw new FlowTrackError(ErrorCode.BAD_CONFIG, `backups to keep must be 1 or more, not ${keep}`);
  }
  const { onBackup, onError, ...backupOptions } = options;
  return startPeriodicJob(
    intervalMs,
    async () => {
      const backup = await createBackup(store, dir, backupOptions);
      const pruned = await pruneBackups(dir, keep);
      onBackup?.(backup, pruned);
    },
    'scheduled backup failed',
    onError,
  );
}

// ---------------------------------------------------------------------------------------------
// Verifying

/**
 * Checks everything about the backup at `path` that can be checked without restoring it: header,
 * length, checksum, decompression, a supported schema version, and the database inside (SQLite:
 * `PRAGMA integrity_check`, foreign keys and FlowTrack's tables; PostgreSQL: `pg_restore --list`
 * reads the archive and finds FlowTrack's tables). Fails with BAD_BACKUP saying what is wrong,
 * NOT_FOUND when there is no such file. It changes nothing but temporary files of its own.
 */
export async function verifyBackup(path: string): Promise<VerifiedBackup> {
  // Decompressed beside the backup (where its owner expects room for it) rather than in a
  // possibly small /tmp, unless that folder is read-only.
  let work: string;
  try {
    work = await mkdtemp(join(dirname(resolve(path)), '.flowtrack-verify-'));
  } catch {
    work = await mkdtemp(join(tmpdir(), 'flowtrack-verify-'));
  }
  try {
    return await verifyInto(resolve(path), join(work, 'content'), null);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * The checks of verifyBackup, leaving the decompressed payload at `content` (for a restore) when
 * they pass. `expected` refuses a backup of the other kind of database before reading further.
 */
async function verifyInto(
  path: string,
  content: string,
  expected: DialectName | null,
): Promise<VerifiedBackup> {
  const refuse = (why: string, cause?: unknown): FlowTrackError =>
    new FlowTrackError(
      ErrorCode.BAD_BACKUP,
      `the backup ${path} cannot be used: ${why}. Nothing was restored; the live database was not changed`,
      cause === undefined ? {} : { cause },
    );

  // The file's own problems come back as bare BAD_BACKUP texts; here they get the file's name
  // and the promise that nothing was changed.
  const asRefusal = (err: unknown): unknown =>
    err instanceof FlowTrackError && err.code === ErrorCode.BAD_BACKUP ? refuse(err.message, err) : err;
  const { header, bytes } = await readBackupHeader(path).catch((err: unknown) => {
    throw asRefusal(err);
  });
  if (expected !== null && header.dialect !== expected) {
    throw refuse(
      `it is a backup of a ${dialectTitle(header.dialect)} database and cannot be restored into ${dialectTitle(expected)}`,
    );
  }
  await extractBackupPayload(path, header, content).catch((err: unknown) => {
    throw asRefusal(err);
  });

  if (header.dialect === 'sqlite') await checkSqliteContent(content, header, refuse);
  else await checkPostgresContent(content, header, refuse);
  return { path, bytes, header };
}

type Refuse = (why: string, cause?: unknown) => FlowTrackError;

/** The SQLite database in a backup: intact, FlowTrack's, at the schema version its header says. */
async function checkSqliteContent(file: string, header: BackupHeader, refuse: Refuse): Promise<void> {
  const magic = await readStart(file, 16);
  if (!magic.equals(Buffer.from('SQLite format 3\0', 'latin1'))) {
    throw refuse('its payload is not a SQLite database');
  }
  let dialect: StoreDialect;
  try {
    dialect = openSqliteDialect(file);
  } catch (err) {
    throw refuse(`the database file inside is corrupt (${describeError(causeOf(err))})`, err);
  }
  try {
    const db = dialect.db;
    const integrity = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(db);
    const findings = integrity.rows.map((r) => r.integrity_check);
    if (findings.length !== 1 || findings[0] !== 'ok') {
      throw refuse(
        `the database file inside is corrupt (integrity check: ${findings.slice(0, 3).join('; ')})`,
      );
    }
    const orphans = await sql<Record<string, unknown>>`pragma foreign_key_check`.execute(db);
    if (orphans.rows.length > 0) {
      throw refuse(`the database file inside is corrupt (${orphans.rows.length} rows break foreign keys)`);
    }
    const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(
      db,
    );
    checkTables(
      tables.rows.map((r) => r.name),
      refuse,
    );
    checkVersion(await appliedSchemaVersion(db), header, refuse);
  } catch (err) {
    if (err instanceof FlowTrackError) throw err;
    throw refuse(`the database file inside is corrupt (${describeError(err)})`, err);
  } finally {
    await dialect.close();
  }
  // Closing the only connection folds the WAL back into the file; a WAL left over would hold part
  // of the database apart from it and must not be left behind a rename.
  if (await exists(`${file}-wal`)) {
    throw new FlowTrackError(
      ErrorCode.STORE_ERROR,
      `the checked copy ${file} kept a write-ahead log after closing; nothing was restored`,
    );
  }
}

/** The pg_dump archive in a backup: pg_restore reads it, and it holds FlowTrack's tables. */
async function checkPostgresContent(file: string, header: BackupHeader, refuse: Refuse): Promise<void> {
  if (!(await readStart(file, 5)).equals(Buffer.from('PGDMP', 'latin1'))) {
    throw refuse('its payload is not a pg_dump archive');
  }
  let listing: string;
  let migrations: string;
  try {
    listing = await runTool('pg_restore', ['--list', file], process.env, (t) => t);
    // The migrations table's rows, as the COPY text pg_restore would load.
    migrations = await runTool(
      'pg_restore',
      ['--data-only', '--table=kysely_migration', '--file=-', file],
      process.env,
      (t) => t,
    );
  } catch (err) {
    if (err instanceof FlowTrackError && err.code === ErrorCode.STORE_ERROR) {
      throw refuse(`pg_restore cannot read the archive (${err.message})`, err);
    }
    throw err;
  }
  const tables = [...listing.matchAll(/^\d+; \d+ \d+ TABLE \S+ (\S+) /gm)].map((m) => m[1] ?? '');
  checkTables(tables, refuse);
  let version = 0;
  for (const m of migrations.matchAll(/^(\d+)-[^\t\n]*\t/gm)) version = Math.max(version, Number(m[1]));
  checkVersion(version, header, refuse);
}

function checkTables(present: readonly string[], refuse: Refuse): void {
  const missing = FLOWTRACK_TABLES.filter((t) => !present.includes(t));
  if (missing.length > 0) {
    throw refuse(`it holds no FlowTrack database (tables missing: ${missing.join(', ')})`);
  }
}

function checkVersion(inside: number, header: BackupHeader, refuse: Refuse): void {
  if (inside > LATEST_SCHEMA_VERSION) {
    throw refuse(
      `it was made by a newer FlowTrack (schema v${inside}; this one knows up to v${LATEST_SCHEMA_VERSION})`,
    );
  }
  if (inside !== header.schemaVersion) {
    throw refuse(`its header says schema v${header.schemaVersion} but the database inside is at v${inside}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Restoring

/**
 * Replaces the database at `location` (a SQLite path, or a postgres:// URL with its password)
 * with the backup at `backupPath`. The store must be closed: the caller closes its Store first and
 * opens a new one afterwards. The backup is verified completely before anything is touched; on
 * any failure the live database is as it was. The previous database is kept (SQLite:
 * `<file>.before-restore-<time>` with its -wal/-shm; PostgreSQL: database
 * `<db>_before_restore_<time>`), then pending migrations are applied when the backup is older.
 * A PostgreSQL backup and restore cover the whole database, which FlowTrack is expected to own;
 * restoring needs the CREATEDB privilege, and database-level settings and grants are not copied.
 */
export async function restoreBackup(
  location: string,
  backupPath: string,
  options: RestoreOptions = {},
): Promise<RestoreResult> {
  const stamp = compactStamp(new Date((options.now ?? Date.now)()));
  return isPostgresLocation(location)
    ? restorePostgres(location, resolve(backupPath), stamp)
    : restoreSqlite(location, resolve(backupPath), stamp, options.keepDir);
}

async function restoreSqlite(
  location: string,
  backupPath: string,
  stamp: string,
  keepDir: string | undefined,
): Promise<RestoreResult> {
  if (location.trim() === '' || location === ':memory:') {
    throw new FlowTrackError(
      ErrorCode.BAD_OPTION,
      `cannot restore into ${JSON.stringify(location)}: give a database file`,
    );
  }
  const live = resolve(location);
  const folder = dirname(live);
  await makeFolder(folder);
  // Beside the live file, so the final rename is atomic (one file system).
  const staging = join(folder, `.${basename(live)}.restore-${stamp}-${randomBytes(4).toString('hex')}`);
  let verified: VerifiedBackup;
  try {
    verified = await verifyInto(backupPath, staging, 'sqlite');
    await syncFile(staging);
  } catch (err) {
    await removeSqliteFiles(staging);
    throw err;
  }

  const keepFolder = resolve(keepDir ?? folder);
  const kept = join(keepFolder, `${basename(live)}.before-restore-${stamp}`);
  // The -wal and -shm files belong to the database: a WAL left under the live name would be
  // replayed into the restored file. A rollback journal (-journal) likewise.
  const moved: [string, string][] = [];
  try {
    if (keepDir !== undefined) await makeFolder(keepFolder);
    for (const suffix of ['', '-wal', '-shm', '-journal']) {
      if (await exists(kept + suffix)) throw new Error(`${kept + suffix} already exists`);
    }
    for (const suffix of ['', '-wal', '-shm', '-journal']) {
      if (!(await exists(live + suffix))) continue;
      await rename(live + suffix, kept + suffix);
      moved.push([live + suffix, kept + suffix]);
    }
    await rename(staging, live);
    await syncFolder(folder);
    if (keepFolder !== folder) await syncFolder(keepFolder);
  } catch (err) {
    await moveBack(moved);
    await removeSqliteFiles(staging);
    const hint =
      (err as NodeJS.ErrnoException).code === 'EXDEV'
        ? ' (the keep folder must be on the same file system)'
        : '';
    throw new FlowTrackError(
      ErrorCode.STORE_ERROR,
      `restoring ${live} failed while swapping files (${describeError(err)})${hint}; the live database was left as it was`,
      { cause: err },
    );
  }

  let migrationsApplied: string[];
  try {
    const store = await openStore(live, { migrate: false });
    try {
      migrationsApplied = await migrateStore(store);
    } finally {
      await store.close();
    }
  } catch (err) {
    // Put the previous database back: a restore either completes or leaves things as they were.
    const failed = `${live}.failed-restore-${stamp}`;
    for (const suffix of ['', '-wal', '-shm'])
      await rename(live + suffix, failed + suffix).catch(() => undefined);
    await moveBack(moved);
    throw new FlowTrackError(
      ErrorCode.STORE_ERROR,
      `the restored database could not be brought up to date (${describeError(err)}); the previous database was put back at ${live} and the restored copy kept at ${failed}`,
      { cause: err },
    );
  }
  return {
    dialect: 'sqlite',
    location: live,
    schemaVersion: verified.header.schemaVersion,
    migrationsApplied,
    previous: moved.length > 0 ? kept : null,
  };
}

async function restorePostgres(url: string, backupPath: string, stamp: string): Promise<RestoreResult> {
  const masked = maskPostgresUrl(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw new FlowTrackError(ErrorCode.BAD_OPTION, `${masked} is not a valid PostgreSQL URL`, { cause: err });
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (database === '') {
    throw new FlowTrackError(ErrorCode.BAD_OPTION, `${masked} names no database: add /DATABASE to the URL`);
  }
  if (['postgres', 'template0', 'template1'].includes(database)) {
    throw new FlowTrackError(
      ErrorCode.BAD_OPTION,
      `cannot restore into the database "${database}": FlowTrack's data must have a database of its own`,
    );
  }

  const work = await mkdtemp(join(tmpdir(), 'flowtrack-restore-'));
  try {
    const archive = join(work, 'archive');
    const verified = await verifyInto(backupPath, archive, 'postgres');
    const digits = stamp.replace(/\D/g, '');
    const restoring = fitPostgresName(database, `_restore_${digits}`);
    const previous = fitPostgresName(database, `_before_restore_${digits}`);

    // CREATE/ALTER/DROP DATABASE run from the maintenance database: a database cannot be renamed
    // while anyone, this process included, is connected to it.
    const admin = await openPostgresDialect(withDatabase(url, 'postgres'));
    let hadLive: boolean;
    try {
      const current = await databaseSettings(admin.db, database);
      hadLive = current !== null;
      await createDatabase(admin.db, restoring, current).catch((err: unknown) => {
        throw new FlowTrackError(
          ErrorCode.STORE_ERROR,
          `cannot create the database ${restoring} to restore into (${describeError(err)}): the user needs the CREATEDB privilege, and an old ${restoring} must be dropped first; the live database ${database} was not changed`,
          { cause: err },
        );
      });
      try {
        const { env, scrub } = libpqEnvironment(url, restoring);
        // One transaction: the new database gets all of the archive or nothing. Owners are kept,
        // so a role named in the archive must exist (pg_restore says which one otherwise).
        await runTool(
          'pg_restore',
          [
            '--exit-on-error',
            '--single-transaction',
            '--no-password',
            `--dbname=${conninfoDatabase(restoring)}`,
            archive,
          ],
          env,
          scrub,
        );
        await checkRestoredDatabase(withDatabase(url, restoring), verified.header);
      } catch (err) {
        await dropDatabase(admin.db, restoring).catch(() => undefined);
        throw new FlowTrackError(
          err instanceof FlowTrackError && err.code === ErrorCode.BAD_BACKUP
            ? ErrorCode.BAD_BACKUP
            : ErrorCode.STORE_ERROR,
          `restoring ${backupPath} into a new database failed (${describeError(err)}); the live database ${database} was not changed`,
          { cause: err },
        );
      }
      try {
        await swapDatabases(admin.db, {
          live: database,
          restored: restoring,
          previous: hadLive ? previous : null,
        });
      } catch (err) {
        await dropDatabase(admin.db, restoring).catch(() => undefined);
        throw new FlowTrackError(
          ErrorCode.STORE_ERROR,
          `swapping in the restored database failed (${scrubbed(describeError(err), url)}); the live database ${database} was left as it was unless this says otherwise`,
          { cause: err },
        );
      }
    } finally {
      await admin.close();
    }

    let migrationsApplied: string[];
    try {
      const store = await openStore(url, { migrate: false });
      try {
        migrationsApplied = await migrateStore(store);
      } finally {
        await store.close();
      }
    } catch (err) {
      // Put the previous database back: a restore either completes or leaves things as they were.
      const failed = fitPostgresName(database, `_failed_restore_${digits}`);
      let outcome = `the previous database is back as ${database} and the restored one kept as ${failed}`;
      try {
        const back = await openPostgresDialect(withDatabase(url, 'postgres'));
        try {
          await renameDatabase(back.db, database, failed);
          if (hadLive) await renameDatabase(back.db, previous, database);
        } finally {
          await back.close();
        }
      } catch (undo) {
        outcome = `putting the previous database back failed too (${scrubbed(describeError(undo), url)}): it is kept as ${hadLive ? previous : '(none)'}`;
      }
      throw new FlowTrackError(
        ErrorCode.STORE_ERROR,
        `the restored database could not be brought up to date (${describeError(err)}); ${outcome}`,
        { cause: err },
      );
    }
    return {
      dialect: 'postgres',
      location: masked,
      schemaVersion: verified.header.schemaVersion,
      migrationsApplied,
      previous: hadLive ? previous : null,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

interface DatabaseSettings {
  encoding: string;
  collate: string;
  ctype: string;
  owner: string;
  currentUser: string;
}

async function databaseSettings(admin: Kysely<Database>, name: string): Promise<DatabaseSettings | null> {
  const result = await sql<DatabaseSettings>`select pg_encoding_to_char(d.encoding) as encoding,
      d.datcollate as collate, d.datctype as ctype, pg_get_userbyid(d.datdba) as owner,
      current_user as "currentUser"
    from pg_database d where d.datname = ${name}`.execute(admin);
  return result.rows[0] ?? null;
}

/** A new empty database like the live one (encoding, locale, owner), from template0 so nothing of template1 comes along. */
async function createDatabase(
  admin: Kysely<Database>,
  name: string,
  like: DatabaseSettings | null,
): Promise<void> {
  const settings =
    like === null
      ? sql``
      : sql` encoding ${sql.lit(like.encoding)} lc_collate ${sql.lit(like.collate)} lc_ctype ${sql.lit(like.ctype)}${
          like.owner === like.currentUser ? sql`` : sql` owner ${sql.id(like.owner)}`
        }`;
  await sql`create database ${sql.id(name)} with template template0${settings}`.execute(admin);
}

async function dropDatabase(admin: Kysely<Database>, name: string): Promise<void> {
  // WITH (FORCE) (PostgreSQL 13+) ends sessions still connected to it.
  await sql`drop database if exists ${sql.id(name)} with (force)`.execute(admin);
}

/**
 * Renames `live` to `previous` (when there is a live database) and `restored` to `live`; if the
 * second rename fails, the first is undone, so the live name always holds a whole database.
 */
async function swapDatabases(
  admin: Kysely<Database>,
  names: { live: string; restored: string; previous: string | null },
): Promise<void> {
  if (names.previous !== null) await renameDatabase(admin, names.live, names.previous);
  try {
    await renameDatabase(admin, names.restored, names.live);
  } catch (err) {
    if (names.previous === null) throw err;
    try {
      await renameDatabase(admin, names.previous, names.live);
    } catch (undo) {
      throw new Error(
        `${describeError(err)}; renaming ${names.previous} back to ${names.live} failed as well (${describeError(undo)}): rename it by hand`,
        { cause: undo },
      );
    }
    throw err;
  }
}

/** Renames a database, ending other sessions on it first (and again while they reconnect). */
async function renameDatabase(admin: Kysely<Database>, from: string, to: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await sql`select pg_terminate_backend(pid) from pg_stat_activity
      where datname = ${from} and pid <> pg_backend_pid()`.execute(admin);
    try {
      await sql`alter database ${sql.id(from)} rename to ${sql.id(to)}`.execute(admin);
      return;
    } catch (err) {
      // 55006 object_in_use: a session had not ended yet, or a client reconnected meanwhile.
      if ((err as { code?: unknown }).code !== '55006' || attempt >= 20) throw err;
      await new Promise((done) => setTimeout(done, 100));
    }
  }
}

/** The restored database before it is swapped in: FlowTrack's tables, at the backup's version. */
async function checkRestoredDatabase(url: string, header: BackupHeader): Promise<void> {
  const restored = await openPostgresDialect(url);
  try {
    const tables = await sql<{ name: string }>`select tablename as name from pg_tables
      where schemaname = current_schema()`.execute(restored.db);
    const refuse: Refuse = (why, cause) =>
      new FlowTrackError(ErrorCode.BAD_BACKUP, why, cause === undefined ? {} : { cause });
    checkTables(
      tables.rows.map((r) => r.name),
      refuse,
    );
    checkVersion(await appliedSchemaVersion(restored.db), header, refuse);
  } finally {
    await restored.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** The highest schema version among the migrations recorded in the database (not only those this build knows). */
async function appliedSchemaVersion(db: Kysely<Database>): Promise<number> {
  const rows = await sql<{ name: string }>`select name from kysely_migration`.execute(db);
  return Math.max(0, ...rows.rows.map((r) => versionOfMigration(r.name)).filter((v) => Number.isFinite(v)));
}

/** The URL pg_dump connects with: the caller's unmasked one, or the store's when it has no password to mask. */
function postgresUrlOf(store: BackupSource, connectionUrl: string | undefined): string {
  if (connectionUrl !== undefined) {
    if (maskPostgresUrl(connectionUrl) !== store.location) {
      throw new FlowTrackError(
        ErrorCode.BAD_OPTION,
        `the connection URL ${maskPostgresUrl(connectionUrl)} is not the store's (${store.location})`,
      );
    }
    return connectionUrl;
  }
  const location = new URL(store.location);
  if (location.password === '***' || location.searchParams.get('password') === '***') {
    throw new FlowTrackError(
      ErrorCode.BAD_OPTION,
      `pg_dump needs the password of ${store.location}: pass the unmasked URL as connectionUrl`,
    );
  }
  return store.location;
}

/** URL query parameters libpq understands, and the environment variable each becomes. */
const LIBPQ_PARAMETERS: Readonly<Record<string, string>> = {
  host: 'PGHOST',
  port: 'PGPORT',
  user: 'PGUSER',
  password: 'PGPASSWORD',
  options: 'PGOPTIONS',
  sslmode: 'PGSSLMODE',
  sslrootcert: 'PGSSLROOTCERT',
  sslcert: 'PGSSLCERT',
  sslkey: 'PGSSLKEY',
  application_name: 'PGAPPNAME',
  connect_timeout: 'PGCONNECT_TIMEOUT',
};

/**
 * The environment that points pg_dump/pg_restore at the database of `url` (or at `database` on
 * the same server): the connection goes through PG* variables, so the password is never an
 * argument that `ps` would show. `scrub` removes the password from any text the tool prints.
 */
function libpqEnvironment(
  url: string,
  database?: string,
): { env: NodeJS.ProcessEnv; scrub: (text: string) => string } {
  const parsed = new URL(url);
  const env: NodeJS.ProcessEnv = { ...process.env };
  // node-postgres connects to localhost when the URL names no host; libpq would pick a socket.
  env.PGHOST =
    parsed.hostname === ''
      ? (env.PGHOST ?? 'localhost')
      : decodeURIComponent(parsed.hostname.replace(/^\[(.*)\]$/, '$1'));
  if (parsed.port !== '') env.PGPORT = parsed.port;
  if (parsed.username !== '') env.PGUSER = decodeURIComponent(parsed.username);
  if (parsed.password !== '') env.PGPASSWORD = decodeURIComponent(parsed.password);
  for (const [key, value] of parsed.searchParams) {
    const variable = LIBPQ_PARAMETERS[key];
    if (variable !== undefined) env[variable] = value;
    // node-postgres's ssl=true asks for TLS without naming a mode.
    else if (key === 'ssl' && (value === 'true' || value === '1')) env.PGSSLMODE ??= 'require';
  }
  // An empty PGDATABASE is not "unset" to libpq; without a name both default to the user's.
  const name = database ?? decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (name !== '') env.PGDATABASE = name;
  return { env, scrub: (text) => scrubbed(text, url) };
}

function scrubbed(text: string, url: string): string {
  let password = '';
  try {
    const parsed = new URL(url);
    password = decodeURIComponent(parsed.password) || (parsed.searchParams.get('password') ?? '');
  } catch {
    // An unparsable URL never reached a tool.
  }
  return password === '' ? text : text.replaceAll(password, '***');
}

/** A libpq conninfo string naming only the database, quoted so no name can add other keywords. */
function conninfoDatabase(name: string): string {
  return `dbname='${name.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

/** `base + suffix`, with `base` shortened so the whole fits PostgreSQL's 63-byte names. */
function fitPostgresName(base: string, suffix: string): string {
  const chars = Array.from(base);
  while (chars.length > 0 && Buffer.byteLength(chars.join('') + suffix) > PG_MAX_NAME_BYTES) chars.pop();
  return chars.join('') + suffix;
}

/** A running client program: its standard output is the payload source. */
type ToolRun = BackupPayloadSource;

/**
 * Starts a PostgreSQL client program with an argument array (never a shell). Its standard error
 * is kept (the last 4 KiB, password scrubbed) for the message when it fails.
 */
function startTool(
  tool: 'pg_dump' | 'pg_restore',
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  scrub: (text: string) => string,
): ToolRun {
  const child = spawn(tool, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    stderr = (stderr + text).slice(-4096);
  });
  const done = new Promise<void>((resolveDone, reject) => {
    child.on('error', (err: NodeJS.ErrnoException) => {
      reject(
        new FlowTrackError(
          ErrorCode.STORE_ERROR,
          err.code === 'ENOENT'
            ? `${tool} was not found: install the PostgreSQL client programs (the same major version as the server or newer)`
            : `${tool} could not be started (${describeError(err)})`,
          { cause: err },
        ),
      );
    });
    child.on('close', (code, signal) => {
      if (code === 0) {
        resolveDone();
        return;
      }
      const how = signal === null ? `exit status ${code ?? '?'}` : `signal ${signal}`;
      const said = scrub(stderr.trim());
      reject(
        new FlowTrackError(ErrorCode.STORE_ERROR, `${tool} failed (${how})${said === '' ? '' : `: ${said}`}`),
      );
    });
  });
  return {
    stream: child.stdout,
    done,
    stop: () => {
      if (child.exitCode === null) child.kill();
    },
  };
}

/** Runs a tool to the end and returns its standard output (at most 64 MiB: listings, not dumps). */
async function runTool(
  tool: 'pg_dump' | 'pg_restore',
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  scrub: (text: string) => string,
): Promise<string> {
  const run = startTool(tool, args, env, scrub);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    await Promise.all([
      pipeline(
        run.stream,
        sink((chunk) => {
          size += chunk.length;
          if (size > 64 * 1024 * 1024) throw new Error(`${tool} printed more than 64 MiB`);
          chunks.push(chunk);
        }),
      ),
      run.done,
    ]);
  } catch (err) {
    run.stop();
    await run.done.catch(() => undefined);
    throw err instanceof FlowTrackError
      ? err
      : new FlowTrackError(ErrorCode.STORE_ERROR, `${tool}: ${describeError(err)}`, { cause: err });
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Gives the finished file its final name. Two backups in the same millisecond would share a name:
 * the later one moves a millisecond on rather than replace the other.
 */
async function publish(
  folder: string,
  partial: string,
  createdAt: Date,
  schemaVersion: number,
): Promise<{ name: string; path: string }> {
  for (let step = 0; step < 1000; step++) {
    const name = backupNameFor(new Date(createdAt.getTime() + step), schemaVersion);
    const path = join(folder, name);
    if (await exists(path)) continue;
    await rename(partial, path);
    await syncFolder(folder);
    return { name, path };
  }
  throw new FlowTrackError(ErrorCode.IO_ERROR, `cannot find a free backup name in ${folder}`);
}

async function makeFolder(folder: string): Promise<void> {
  try {
    await mkdir(folder, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new FlowTrackError(
      ErrorCode.IO_ERROR,
      `cannot create the folder ${folder} (${describeError(err)}): choose a folder FlowTrack may write to`,
      { cause: err },
    );
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

async function readStart(file: string, length: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes a rename in `folder` durable: the directory entry is on disk, not only the file's data. */
async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } catch {
    // Some file systems cannot sync a directory (EINVAL); the rename itself has still happened.
  } finally {
    await handle.close();
  }
}

async function moveBack(moved: readonly [string, string][]): Promise<void> {
  for (const [original, kept] of [...moved].reverse()) await rename(kept, original).catch(() => undefined);
}

async function removeSqliteFiles(path: string): Promise<void> {
  for (const suffix of ['', '-wal', '-shm', '-journal']) await rm(path + suffix, { force: true });
}

function causeOf(err: unknown): unknown {
  return err instanceof FlowTrackError && err.cause !== undefined ? err.cause : err;
}

/** "20250131T120000.123Z" as ISO 8601. */
function isoOfStamp(stamp: string): string {
  return stamp.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})/, '$1-$2-$3T$4:$5:$6');
}

function compactStamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '');
}

function dialectTitle(dialect: DialectName): string {
  return dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL';
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
