/**
 * What the Backups page says about a backup and a restore, as plain text. Pure, tested in node.
 */

import { formatSi } from '../../lib/format';
import type { BackupListing, CreatedBackup, DialectName, RestoreResult } from './backup-types';

/** A file size in SI units, as disks are sold: "1.23 MB", "512 B". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '–';
  return bytes < 1000 ? `${Math.round(bytes)} B` : `${formatSi(bytes)}B`;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** A backup's time in the browser's time zone, to the second: "2025-01-31 13:00:00". */
export function formatBackupTime(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(
    d.getMinutes(),
  )}:${pad(d.getSeconds())}`;
}

/** The API path that downloads the backup called `name` (a name from the listing). */
export function downloadPath(name: string): string {
  return `/api/backups/${encodeURIComponent(name)}/download`;
}

export function dialectTitle(dialect: DialectName): string {
  return dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL';
}

/** The backups' count and total size, for the list's caption. */
export function summarizeBackups(backups: readonly BackupListing[]): string {
  const total = backups.reduce((sum, backup) => sum + backup.bytes, 0);
  return `${backups.length} ${backups.length === 1 ? 'backup' : 'backups'}, ${formatBytes(total)} in all`;
}

/** One sentence for a backup just made. */
export function describeCreated(backup: CreatedBackup): string {
  return `Backup ${backup.name} made: ${formatBytes(backup.bytes)}, ${dialectTitle(backup.dialect)} database at schema v${backup.schemaVersion}.`;
}

/** What a restore did, as the lines of its report. */
export function describeRestore(name: string, result: RestoreResult): string[] {
  const lines = [
    `The ${dialectTitle(result.dialect)} database ${result.location} now holds backup ${name} (schema v${result.schemaVersion}).`,
    result.migrationsApplied.length === 0
      ? 'No migrations were needed.'
      : `The backup was older than this server, so ${result.migrationsApplied.length} ${
          result.migrationsApplied.length === 1 ? 'migration was' : 'migrations were'
        } applied: ${result.migrationsApplied.join(', ')}.`,
    result.previous === null
      ? 'There was no previous database to keep.'
      : `The previous database is kept as ${result.previous}.`,
    'Sign-ins made after the backup no longer exist: those sessions end, and you may be asked to sign in again.',
  ];
  return lines;
}
