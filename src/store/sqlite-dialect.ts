/**
 * The SQLite adapter: one database file opened with better-sqlite3 in WAL mode. The only file
 * that imports better-sqlite3. WAL with synchronous=NORMAL keeps every committed transaction
 * across a crash of the process (kill -9); only a power loss may lose the last ones, which is
 * the trade SQLite documents for WAL and which a monitor's flow records can afford.
 * It must never leave a half-opened database behind: on any failure the handle is closed.
 */

import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql, type SqliteDatabase } from 'kysely';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ErrorCode, FlowTrackError, describeError } from '../util/errors.js';
import type { Database } from './schema.js';
import type { StoreDialect } from './store-dialect.js';

/** How long a writer waits for another process's lock before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;
/** Prepared statements kept for reuse, the least recently used going first. */
const STATEMENT_CACHE_SIZE = 256;
/**
 * Pages of cache, as kibibytes when negative (64 MiB). SQLite's default of 2 MiB holds little of
 * the flows' five indexes, whose random keys send each insert to a different page of each.
 */
const CACHE_SIZE = -65_536;

/**
 * `handle` as Kysely's driver sees it, with its prepared statements kept: the driver prepares
 * every query anew, and parsing the store writer's statements (the same few, thousands of times a
 * second) took 7% of its time. Kysely only runs statements to their end (it streams none),
 * so one statement is never used twice at once.
 */
function withStatementCache(handle: BetterSqlite3.Database): SqliteDatabase {
  const statements = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => handle.close(),
    prepare(sql: string) {
      let statement = statements.get(sql);
      if (statement) {
        statements.delete(sql);
      } else {
        statement = handle.prepare(sql);
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!);
      }
      statements.set(sql, statement);
      return statement;
    },
  };
}

/** Opens (creating when absent) the SQLite database at `path`; ':memory:' for a private one. */
export function openSqliteDialect(path: string): StoreDialect {
  const inMemory = path === ':memory:';
  const location = inMemory ? path : resolve(path);
  if (!inMemory) {
    const folder = dirname(location);
    try {
      mkdirSync(folder, { recursive: true });
    } catch (err) {
      throw new FlowTrackError(
        ErrorCode.STORE_ERROR,
        `cannot create the folder ${folder} for the database (${describeError(err)}): choose a --db path in a folder FlowTrack may write to`,
        { cause: err },
      );
    }
  }
  let handle: BetterSqlite3.Database;
  try {
    handle = new BetterSqlite3(location, { timeout: BUSY_TIMEOUT_MS });
  } catch (err) {
    throw new FlowTrackError(
      ErrorCode.STORE_ERROR,
      `cannot open the SQLite database ${location} (${describeError(err)}): check that the file and its folder exist and are writable`,
      { cause: err },
    );
  }
  try {
    // auto_vacuum only takes effect on a new, empty file; with it, retention's deletes can give
    // pages back to the file system (PRAGMA incremental_vacuum) instead of only reusing them.
    handle.pragma('auto_vacuum = INCREMENTAL');
    if (!inMemory) handle.pragma('journal_mode = WAL');
    handle.pragma('synchronous = NORMAL');
    handle.pragma(`cache_size = ${CACHE_SIZE}`);
    handle.pragma('foreign_keys = ON');
    handle.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // A write now tells a read-only file or folder apart from a writable one at start-up, not at
    // the first flow; BEGIN IMMEDIATE takes the write lock without changing anything.
    handle.exec('BEGIN IMMEDIATE; COMMIT;');
  } catch (err) {
    handle.close();
    const code = (err as { code?: unknown }).code;
    const hint =
      code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT'
        ? 'it is not a SQLite database or it is damaged; point --db at another file'
        : 'check that the file and its folder are writable by this user';
    throw new FlowTrackError(
      ErrorCode.STORE_ERROR,
      `cannot use the SQLite database ${location} (${describeError(err)}): ${hint}`,
      { cause: err },
    );
  }

  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(handle) }) });
  const pragmaNumber = async (name: 'page_count' | 'page_size' | 'freelist_count'): Promise<number> => {
    // The pragma name is one of three literals above, never input, so sql.raw is safe here.
    const result = await sql<Record<string, number>>`pragma ${sql.raw(name)}`.execute(db);
    return result.rows[0]?.[name] ?? 0;
  };

  return {
    name: 'sqlite',
    location,
    db,
    async sizeBytes() {
      return (await pragmaNumber('page_count')) * (await pragmaNumber('page_size'));
    },
    async dataBytes() {
      const pages = (await pragmaNumber('page_count')) - (await pragmaNumber('freelist_count'));
      return pages * (await pragmaNumber('page_size'));
    },
    async reclaimSpace() {
      // The pragma frees one page per step and Kysely steps a statement without result columns
      // only once, so it runs through exec(), which steps to the end. Holding Kysely's (only)
      // connection meanwhile keeps it out of another caller's transaction.
      await db.connection().execute(() => {
        handle.exec('PRAGMA incremental_vacuum');
        return Promise.resolve();
      });
    },
    isUniqueViolation(err) {
      const code = (err as { code?: unknown } | null)?.code;
      return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
    },
    async close() {
      await db.destroy();
      // Kysely closes the handle only if it ever ran a query.
      if (handle.open) handle.close();
    },
  };
}
