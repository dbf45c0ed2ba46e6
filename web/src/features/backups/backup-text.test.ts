/** What the Backups page says: sizes, times, the download path, and the restore report. */

import { describe, expect, it } from 'vitest';
import {
  describeCreated,
  describeRestore,
  downloadPath,
  formatBackupTime,
  formatBytes,
  summarizeBackups,
} from './backup-text';

const NAME = 'flowtrack-20250131T120000.123Z-v3.ftbak';

describe('backup text', () => {
  it('sizes in SI units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1_234_567)).toBe('1.23 MB');
    expect(formatBytes(Number.NaN)).toBe('–');
  });

  it('shows the time of a backup in local time, and an unreadable time as given', () => {
    expect(formatBackupTime('2025-01-31T12:00:00.123Z')).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:00$/);
    expect(formatBackupTime('soon')).toBe('soon');
  });

  it('downloads by name, encoded as one path segment', () => {
    expect(downloadPath(NAME)).toBe(`/api/backups/${NAME}/download`);
    expect(downloadPath('../x')).toBe('/api/backups/..%2Fx/download');
  });

  it('sums the list', () => {
    expect(summarizeBackups([])).toBe('0 backups, 0 B in all');
    expect(
      summarizeBackups([
        { name: NAME, bytes: 1500, createdAt: '', schemaVersion: 3 },
        { name: NAME, bytes: 500, createdAt: '', schemaVersion: 3 },
      ]),
    ).toBe('2 backups, 2.00 kB in all');
  });

  it('says what was made', () => {
    expect(
      describeCreated({
        name: NAME,
        bytes: 2048,
        createdAt: '2025-01-31T12:00:00.123Z',
        schemaVersion: 3,
        sha256: 'ab',
        dialect: 'sqlite',
      }),
    ).toBe(`Backup ${NAME} made: 2.05 kB, SQLite database at schema v3.`);
  });

  it('says what a restore replaced, where the previous database is, and that sessions may end', () => {
    const lines = describeRestore(NAME, {
      dialect: 'sqlite',
      location: '/var/lib/flowtrack/flowtrack.db',
      schemaVersion: 2,
      migrationsApplied: ['0003-incidents'],
      previous: '/var/lib/flowtrack/flowtrack.db.before-restore-20250131T130000.000Z',
    });
    expect(lines[0]).toContain('/var/lib/flowtrack/flowtrack.db now holds backup');
    expect(lines[1]).toBe(
      'The backup was older than this server, so 1 migration was applied: 0003-incidents.',
    );
    expect(lines[2]).toBe(
      'The previous database is kept as /var/lib/flowtrack/flowtrack.db.before-restore-20250131T130000.000Z.',
    );
    expect(lines[3]).toContain('sign in again');
    const fresh = describeRestore(NAME, {
      dialect: 'postgres',
      location: 'postgres://flowtrack:***@db/flowtrack',
      schemaVersion: 3,
      migrationsApplied: [],
      previous: null,
    });
    expect(fresh[1]).toBe('No migrations were needed.');
    expect(fresh[2]).toBe('There was no previous database to keep.');
  });
});
