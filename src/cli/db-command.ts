/**
 * `flowtrack db`: database upkeep outside the server. `flowtrack db migrate` brings the schema of
 * a SQLite file or a PostgreSQL database to this build's version (the server does the same at
 * start-up; this lets an admin do it first, e.g. before a rolling upgrade) and says what it did.
 */

import { Command } from 'commander';
import { migrateStore } from '../store/migrate-store.js';
import { DEFAULT_STORE_LOCATION, openStore } from '../store/store.js';

interface MigrateFlags {
  db: string;
}

export function dbCommand(): Command {
  const db = new Command('db').description('Look after the FlowTrack database');
  db.command('migrate')
    .description("Bring the database's schema up to this version of FlowTrack")
    .option(
      '--db <location>',
      'SQLite file, or postgres://USER:PASSWORD@HOST:PORT/DATABASE',
      DEFAULT_STORE_LOCATION,
    )
    .addHelpText(
      'after',
      `
Examples:
  flowtrack db migrate
  flowtrack db migrate --db /var/lib/flowtrack/flowtrack.db
  flowtrack db migrate --db postgres://flowtrack@db.example.net/flowtrack`,
    )
    .action(async (flags: MigrateFlags) => {
      const store = await openStore(flags.db, { migrate: false });
      try {
        const applied = await migrateStore(store);
        const version = await store.schemaVersion();
        const lines =
          applied.length === 0
            ? [`${store.location}: up to date (schema version ${version})`]
            : [
                ...applied.map((name) => `applied ${name}`),
                `${store.location}: now at schema version ${version}`,
              ];
        process.stdout.write(lines.join('\n') + '\n');
      } finally {
        await store.close();
      }
    });
  return db;
}
