/**
 * The shape of one schema migration. Unlike Kysely's own `Migration`, `up` is told which database
 * it runs on, for the few column types that differ (auto-increment ids). Migrations are never
 * edited once released: a change to the schema is a new file.
 */

import type { Kysely } from 'kysely';
import type { DialectName } from '../store-dialect.js';

export interface StoreMigration {
  /** Brings the schema from the previous version to this one, inside the migrator's transaction. */
  up(db: Kysely<unknown>, dialect: DialectName): Promise<void>;
}
