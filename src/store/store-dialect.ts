/**
 * The narrow interface each database adapter (sqlite-dialect.ts, postgres-dialect.ts) offers the
 * rest of store/: an open Kysely instance plus the few things that differ per database (sizes,
 * space reclaiming, how a unique-key clash is reported). Nothing outside store/ sees it, and no
 * code outside the two adapter files may import better-sqlite3 or pg.
 */

import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export type DialectName = 'sqlite' | 'postgres';

export interface StoreDialect {
  readonly name: DialectName;
  /** Where the data lives, safe to print: a file path, or a URL with its password masked. */
  readonly location: string;
  readonly db: Kysely<Database>;
  /** The database's size on disk: SQLite page_count * page_size, PostgreSQL pg_database_size. */
  sizeBytes(): Promise<number>;
  /**
   * An estimate of the bytes the live rows take, which (unlike `sizeBytes` on PostgreSQL) goes
   * down when rows are deleted; the size limit of retention is judged by it.
   */
  dataBytes(): Promise<number>;
  /** Gives back the space of deleted rows where the database does not do it by itself. */
  reclaimSpace(): Promise<void>;
  /** True when `err` is this database's unique or primary key violation. */
  isUniqueViolation(err: unknown): boolean;
  close(): Promise<void>;
}
