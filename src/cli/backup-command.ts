/**
 * `flowtrack backup`: backups of the database outside the server. `create` writes a consistent,
 * compressed, checksummed backup while the database stays in use; `list` shows the backup folder;
 * `verify` checks a file completely; `restore` replaces the database with a verified backup,
 * keeping the previous one. Restore never runs without `--yes`, and it never touches the database
 * when the backup fails a check.
 */

import { Command, InvalidArgumentError } from 'commander';
import {
  DEFAULT_BACKUP_DIR,
  createBackup,
  listBackups,
  pruneBackups,
  restoreBackup,
  verifyBackup,
} from '../store/backup.js';
import { maskPostgresUrl } from '../store/postgres-dialect.js';
import { DEFAULT_STORE_LOCATION, isPostgresLocation, openStore } from '../store/store.js';
import { ErrorCode, FlowTrackError } from '../util/errors.js';

/** Where the command writes; the process's own by default (tests pass their own). */
export interface BackupCommandIo {
  stdout?: (text: string) => void;
}

interface CreateFlags {
  db: string;
  dir: string;
  keep?: number;
}

interface RestoreFlags {
  db: string;
  yes?: boolean;
}

const DB_HELP = 'SQLite file, or postgres://USER:PASSWORD@HOST:PORT/DATABASE';

/** The `backup` command with its `create`, `list`, `verify` and `restore` subcommands. */
export function backupCommand(io: BackupCommandIo = {}): Command {
  const stdout = io.stdout ?? ((text: string) => process.stdout.write(text));
  const backup = new Command('backup').description('Make, list, check and restore backups of the database');

  backup
    .command('create')
    .description('Write a backup of the database (it may stay in use meanwhile)')
    .option('--db <location>', DB_HELP, DEFAULT_STORE_LOCATION)
    .option('--dir <dir>', 'backup folder', DEFAULT_BACKUP_DIR)
    .option('--keep <n>', 'then delete all but the newest N backups in the folder', wholeNumberAbove0)
    .addHelpText(
      'after',
      `
Examples:
  flowtrack backup create
  flowtrack backup create --db /var/lib/flowtrack/flowtrack.db --dir /var/backups/flowtrack --keep 7
  flowtrack backup create --db postgres://flowtrack@db.example.net/flowtrack (needs pg_dump)`,
    )
    .action(async (flags: CreateFlags) => {
      // Not migrated: a backup taken before an upgrade must hold the database as it was.
      const store = await openStore(flags.db, { migrate: false });
      try {
        const made = await createBackup(store, flags.dir, {
          ...(isPostgresLocation(flags.db) ? { connectionUrl: flags.db } : {}),
        });
        stdout(
          `created ${made.path} (${formatBytes(made.bytes)}, ${made.dialect} schema v${made.schemaVersion}, sha256 ${made.sha256})\n`,
        );
        if (flags.keep !== undefined) {
          for (const name of await pruneBackups(flags.dir, flags.keep))
            stdout(`deleted old backup ${name}\n`);
        }
      } finally {
        await store.close();
      }
    });

  backup
    .command('list')
    .description('List the backups in the backup folder, newest first')
    .option('--dir <dir>', 'backup folder', DEFAULT_BACKUP_DIR)
    .action(async (flags: { dir: string }) => {
      const found = await listBackups(flags.dir);
      if (found.length === 0) {
        stdout(`no backups in ${flags.dir}\n`);
        return;
      }
      for (const b of found) {
        stdout(
          `${b.name}  ${formatBytes(b.bytes).padStart(10)}  ${b.createdAt}  schema v${b.schemaVersion}\n`,
        );
      }
    });

  backup
    .command('verify')
    .description('Check a backup completely (length, checksum, schema version, the database inside)')
    .argument('<file>', 'the backup file')
    .action(async (file: string) => {
      const verified = await verifyBackup(file);
      const h = verified.header;
      stdout(
        `${verified.path}: OK (${h.dialect} schema v${h.schemaVersion}, made ${h.createdAt}, ${formatBytes(verified.bytes)}, sha256 ${h.sha256})\n`,
      );
    });

  backup
    .command('restore')
    .description(
      'Replace the database with a backup, after checking it; the previous database is kept. Stop `flowtrack serve` first',
    )
    .argument('<file>', 'the backup file')
    .option('--db <location>', DB_HELP, DEFAULT_STORE_LOCATION)
    .option('--yes', 'really replace the database')
    .addHelpText(
      'after',
      `
Examples:
  flowtrack backup restore ./flowtrack-data/backups/flowtrack-20250131T120000.000Z-v1.ftbak --yes
  flowtrack backup restore backup.ftbak --db postgres://flowtrack@db.example.net/flowtrack --yes`,
    )
    .action(async (file: string, flags: RestoreFlags) => {
      if (flags.yes !== true) {
        const where = isPostgresLocation(flags.db) ? maskPostgresUrl(flags.db) : flags.db;
        throw new FlowTrackError(
          ErrorCode.BAD_OPTION,
          `restore replaces the database at ${where} with ${file} (the current one is kept beside it): stop flowtrack serve, then run again with --yes`,
        );
      }
      const result = await restoreBackup(flags.db, file);
      const lines = [`restored ${file} into ${result.location} (schema v${result.schemaVersion})`];
      for (const name of result.migrationsApplied) lines.push(`applied ${name}`);
      lines.push(
        result.previous === null
          ? 'there was no previous database'
          : `the previous database is kept as ${result.previous}`,
      );
      stdout(lines.join('\n') + '\n');
    });

  return backup;
}

function wholeNumberAbove0(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('give a whole number of 1 or more');
  }
  return n;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit] ?? 'TiB'}`;
}
