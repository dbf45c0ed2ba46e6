/**
 * The PostgreSQL adapter: a pg Pool behind Kysely, for the hub of a multi-sensor site. The only
 * file that imports pg. BIGINT (int8) comes back as a JS number, set on this pool only so other
 * users of pg in the process are not affected; every BIGINT FlowTrack keeps (epoch micros, byte
 * counts) stays far below 2^53. It must never print the URL's password: every message uses the
 * masked URL.
 */

import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { ErrorCode, FlowTrackError, describeError } from '../util/errors.js';
import type { Database } from './schema.js';
import type { StoreDialect } from './store-dialect.js';

/** Bytes of a heap tuple besides its data: the 23-byte header padded to 24, plus a 4-byte line pointer. */
const TUPLE_OVERHEAD_BYTES = 28;

type GetTypeParser = pg.CustomTypesConfig['getTypeParser'];

const types: pg.CustomTypesConfig = {
  getTypeParser: (id: Parameters<GetTypeParser>[0], format?: Parameters<GetTypeParser>[1]): unknown =>
    id === pg.types.builtins.INT8 ? Number : pg.types.getTypeParser(id, format),
};

/** The URL with its password replaced by `***`, for messages and logs. */
export function maskPostgresUrl(url: string): string {
  try {
    const parsed = new URL(url);
    // libpq-style URLs may carry the password as a query parameter too.
    const inQuery = parsed.searchParams.has('password');
    if (parsed.password === '' && !inQuery) return url;
    if (parsed.password !== '') parsed.password = '***';
    if (inQuery) parsed.searchParams.set('password', '***');
    return parsed.toString();
  } catch {
    // Not parseable: mask anything between "//user:" and "@" by hand.
    return url.replace(/\/\/([^/:@]*):[^@/]*@/, '//$1:***@');
  }
}

/** Connects a pool to `url` and checks it with one connection before handing it out. */
export async function openPostgresDialect(url: string): Promise<StoreDialect> {
  const location = maskPostgresUrl(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw new FlowTrackError(
      ErrorCode.STORE_ERROR,
      `${location} is not a valid PostgreSQL URL: write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE`,
      { cause: err },
    );
  }
  const password = decodeURIComponent(parsed.password) || (parsed.searchParams.get('password') ?? '');
  const scrub = (text: string): string => (password === '' ? text : text.replaceAll(password, '***'));
  const pool = new pg.Pool({ connectionString: url, types, max: 10, connectionTimeoutMillis: 10_000 });
  // An idle client's connection can drop (server restart); pg emits that on the pool, and an
  // unhandled 'error' event would end the process. The next query opens a new connection and
  // reports its own failure to the caller, so nothing is lost by ignoring it here.
  pool.on('error', () => undefined);
  try {
    const client = await pool.connect();
    client.release();
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new FlowTrackError(ErrorCode.STORE_ERROR, scrub(connectFailure(err, parsed, location)), {
      cause: err,
    });
  }

  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const sizeBytes = async (): Promise<number> => {
    const result = await sql<{ size: number }>`select pg_database_size(current_database()) as size`.execute(
      db,
    );
    return result.rows[0]?.size ?? 0;
  };
  return {
    name: 'postgres',
    location,
    db,
    sizeBytes,
    async dataBytes() {
      // pg_database_size does not shrink after DELETE (VACUUM only marks the space reusable), so
      // the flows table is counted by its live rows: row count and average width from fresh
      // statistics, plus its indexes in the proportion they have to the table on disk.
      const table = await sql<{ oid: number | null }>`select to_regclass('flows')::oid as oid`.execute(db);
      const oid = table.rows[0]?.oid ?? null;
      const whole = await sizeBytes();
      if (oid === null) return whole;
      await sql`analyze flows`.execute(db);
      const stats = await sql<{
        total: number;
        heap: number;
        indexes: number;
        rows: number;
        width: number | null;
      }>`select pg_total_relation_size(c.oid) as total, pg_relation_size(c.oid) as heap,
                pg_indexes_size(c.oid) as indexes, greatest(c.reltuples, 0)::float8 as rows,
                (select sum(s.avg_width * (1 - s.null_frac))::float8 from pg_stats s
                  where s.schemaname = n.nspname and s.tablename = c.relname) as width
           from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where c.oid = ${oid}`.execute(db);
      const row = stats.rows[0];
      if (!row) return whole;
      const perRow = ((row.width ?? 0) + TUPLE_OVERHEAD_BYTES) * (1 + row.indexes / Math.max(row.heap, 1));
      return Math.max(0, Math.round(whole - row.total + row.rows * perRow));
    },
    async reclaimSpace() {
      // Autovacuum makes deleted rows' space reusable; giving it back to the file system would
      // need VACUUM FULL, which locks the table, so it is left to the admin.
    },
    isUniqueViolation(err) {
      return (err as { code?: unknown } | null)?.code === '23505';
    },
    async close() {
      await db.destroy();
      // Kysely ends the pool only if it ever ran a query; the check's idle connection would
      // otherwise keep the process (or the store writer's thread) alive for pg's idle timeout.
      if (!pool.ended) await pool.end();
    },
  };
}

/** A message that says what went wrong in the person's terms and what to do about it. */
function connectFailure(err: unknown, url: URL, location: string): string {
  const host = url.hostname === '' ? 'localhost' : url.hostname;
  const where = `${host}:${url.port === '' ? '5432' : url.port}`;
  const user = decodeURIComponent(url.username);
  const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || user;
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return `cannot connect to PostgreSQL at ${where}: connection refused; start the server or fix the host and port in ${location}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot connect to PostgreSQL: host "${host}" not found; fix the host in ${location}`;
    case '28P01':
    case '28000':
      return `PostgreSQL at ${where} refused the login of user "${user}": check the user name and password in the URL (${location})`;
    case '3D000':
      return `database "${database}" does not exist on PostgreSQL at ${where}: create it (createdb ${database}) or fix the URL`;
    default:
      return `cannot connect to PostgreSQL at ${where} (${describeError(err)}): check that the server is running and the URL ${location} is right`;
  }
}
