import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { dbCommand } from '../cli/db-command.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, versionOfMigration } from './migrations/migration-list.js';
import { openStore } from './store.js';

const dir = mkdtempSync(join(tmpdir(), 'flowtrack-migrate-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `flowtrack db ARGS` in this process and returns what it printed. */
async function runDb(args: string[]): Promise<string> {
  const printed: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    printed.push(String(chunk));
    return true;
  });
  try {
    await dbCommand().exitOverride().parseAsync(args, { from: 'user' });
  } finally {
    write.mockRestore();
  }
  return printed.join('');
}

describe('migrations', () => {
  it('are listed in the order they apply, numbered from 1 without gaps', () => {
    const names = Object.keys(MIGRATIONS);
    expect(names).toEqual([...names].sort());
    expect(names.map(versionOfMigration)).toEqual(names.map((_, i) => i + 1));
    expect(LATEST_SCHEMA_VERSION).toBe(names.length);
  });
});

describe('flowtrack db migrate', () => {
  it('applies the migrations to a new file, then says it is up to date', async () => {
    const path = join(dir, 'new', 'flowtrack.db');
    expect(await runDb(['migrate', '--db', path])).toBe(
      `${Object.keys(MIGRATIONS)
        .map((m) => `applied ${m}\n`)
        .join('')}${path}: now at schema version ${LATEST_SCHEMA_VERSION}\n`,
    );
    expect(await runDb(['migrate', '--db', path])).toBe(
      `${path}: up to date (schema version ${LATEST_SCHEMA_VERSION})\n`,
    );
    const store = await openStore(path, { migrate: false });
    try {
      expect(await store.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
    } finally {
      await store.close();
    }
  });

  it('fails with a STORE_ERROR that names the database it could not open', async () => {
    await expect(runDb(['migrate', '--db', 'postgres://u:pw-123@127.0.0.1:1/x'])).rejects.toMatchObject({
      code: 'STORE_ERROR',
      message: expect.stringContaining('127.0.0.1:1') as string,
    });
  });
});
