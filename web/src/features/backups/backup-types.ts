/**
 * The shapes of the backup API's answers (src/api/routes/backup-routes.ts, src/store/backup.ts),
 * kept by hand as api-types.ts is. The API never sends where the server keeps a backup file, only
 * its name; a restore's answer does say where the database and the previous one are.
 */

export type DialectName = 'sqlite' | 'postgres';

/** A backup in the backup folder, as GET /api/backups lists it (from its name and size). */
export interface BackupListing {
  name: string;
  /** Size of the file. */
  bytes: number;
  /** ISO 8601 UTC. */
  createdAt: string;
  /** The database schema version the backup holds. */
  schemaVersion: number;
}

/** GET /api/backups: newest first. */
export interface BackupList {
  items: BackupListing[];
}

/** POST /api/backup/create: the backup just written. */
export interface CreatedBackup extends BackupListing {
  /** SHA-256 of the compressed payload, as in the file's header. */
  sha256: string;
  dialect: DialectName;
}

/** POST /api/backup/restore: what the restore did. */
export interface RestoreResult {
  dialect: DialectName;
  /** The database restored into: a file path, or a PostgreSQL URL with the password masked. */
  location: string;
  schemaVersion: number;
  /** Migrations applied after the restore because the backup was older than the server. */
  migrationsApplied: string[];
  /** Where the previous database is kept (a file path or a database name); null when there was none. */
  previous: string | null;
}
