import { chmod, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ErrorCode, FlowTrackError } from '../../util/errors.js';
import { loadOrCreateSigningKey } from './signing-key.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowtrack-signing-key-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function failure(promise: Promise<unknown>): Promise<FlowTrackError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof FlowTrackError) return err;
    throw err;
  }
  throw new Error('expected a FlowTrackError');
}

describe('loadOrCreateSigningKey', () => {
  it('creates a 32-byte key in a 0600 file under a new 0700 directory, then reads the same key back', async () => {
    const path = join(dir, 'secrets', 'signing.key');
    const key = await loadOrCreateSigningKey(path);
    expect(key).toBeInstanceOf(Uint8Array);
    expect(key.length).toBe(32);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'secrets'))).mode & 0o777).toBe(0o700);
    expect(Buffer.from((await readFile(path, 'utf8')).trim(), 'base64')).toEqual(Buffer.from(key));
    expect(await loadOrCreateSigningKey(path)).toEqual(key);
  });

  it('gives two concurrent starts the same key', async () => {
    const path = join(dir, 'signing.key');
    const [a, b] = await Promise.all([loadOrCreateSigningKey(path), loadOrCreateSigningKey(path)]);
    expect(a).toEqual(b);
  });

  it('reads a key an admin wrote', async () => {
    const path = join(dir, 'signing.key');
    const secret = Buffer.alloc(48, 7);
    await writeFile(path, `${secret.toString('base64')}\n`, { mode: 0o600 });
    expect(Buffer.from(await loadOrCreateSigningKey(path))).toEqual(secret);
  });

  it('refuses a file readable by group or others and says to chmod 600, without showing the key', async () => {
    const path = join(dir, 'signing.key');
    const secret = Buffer.alloc(32, 9).toString('base64');
    await writeFile(path, secret);
    await chmod(path, 0o644);
    const err = await failure(loadOrCreateSigningKey(path));
    expect(err.code).toBe(ErrorCode.IO_ERROR);
    expect(err.message).toContain(`chmod 600 ${path}`);
    expect(err.message).toContain('0644');
    expect(err.message).not.toContain(secret);

    await chmod(path, 0o640);
    expect((await failure(loadOrCreateSigningKey(path))).code).toBe(ErrorCode.IO_ERROR);
    await chmod(path, 0o600);
    expect((await loadOrCreateSigningKey(path)).length).toBe(32);
  });

  it('refuses a key shorter than 32 bytes or not in base64', async () => {
    const path = join(dir, 'signing.key');
    await writeFile(path, Buffer.alloc(16, 1).toString('base64'), { mode: 0o600 });
    const short = await failure(loadOrCreateSigningKey(path));
    expect(short.code).toBe(ErrorCode.IO_ERROR);
    expect(short.message).toContain('at least 32 bytes');
    await writeFile(path, 'this is not base64 but it is long enough to be 32 bytes!');
    expect((await failure(loadOrCreateSigningKey(path))).code).toBe(ErrorCode.IO_ERROR);
    await writeFile(path, '');
    expect((await failure(loadOrCreateSigningKey(path))).code).toBe(ErrorCode.IO_ERROR);
  });

  it('refuses a symbolic link and a directory', async () => {
    const target = join(dir, 'elsewhere.key');
    await writeFile(target, Buffer.alloc(32, 3).toString('base64'), { mode: 0o600 });
    const link = join(dir, 'signing.key');
    await symlink(target, link);
    expect((await failure(loadOrCreateSigningKey(link))).message).toContain('symbolic link');
    expect((await failure(loadOrCreateSigningKey(dir))).code).toBe(ErrorCode.IO_ERROR);
  });
});
