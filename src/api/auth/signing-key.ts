/**
 * The secret that signs FlowTrack's access tokens (HS256): read from a file holding it in base64,
 * or created there on first start. Whoever reads this file can mint an admin token, so the file must
 * be private to FlowTrack's user (mode 0600) and this module refuses to use one that is not.
 * It must never log, print or put the key (or the file's contents) in an error message.
 */

import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

import { ErrorCode, FlowTrackError } from '../../util/errors.js';

/** HS256's key should be at least as long as its output (RFC 7518 section 3.2): 32 bytes. */
export const MIN_SIGNING_KEY_BYTES = 32;

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Reads the signing key from `path`, or creates a random 32-byte key there (mode 0600, parent
 * directory created with mode 0700) when the file does not exist. Throws IO_ERROR when the file is
 * accessible by group or others, is not a regular file (a symbolic link is not followed), or does
 * not hold at least 32 bytes of base64; the message says what to do and never shows the contents.
 */
export async function loadOrCreateSigningKey(path: string): Promise<Uint8Array> {
  const existing = await readKeyFile(path);
  if (existing !== null) return existing;
  const created = await createKeyFile(path);
  // Another process (a second `flowtrack serve`) may have created it between the two steps: use theirs.
  return created ?? (await readKeyFileOrThrow(path));
}

async function readKeyFileOrThrow(path: string): Promise<Uint8Array> {
  const key = await readKeyFile(path);
  if (key === null) {
    throw new FlowTrackError(
      ErrorCode.IO_ERROR,
      `The signing key file ${path} vanished while it was created.`,
    );
  }
  return key;
}

/** The key in `path`, or null when there is no such file. */
async function readKeyFile(path: string): Promise<Uint8Array | null> {
  let file: FileHandle;
  try {
    // O_NOFOLLOW: a symbolic link planted where the key should be is refused, not followed.
    file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') {
      throw new FlowTrackError(
        ErrorCode.IO_ERROR,
        `The signing key file ${path} is a symbolic link; replace it with a regular file (mode 0600).`,
      );
    }
    throw new FlowTrackError(
      ErrorCode.IO_ERROR,
      `Cannot open the signing key file ${path} (${code ?? 'error'}).`,
      { cause: err },
    );
  }
  try {
    const info = await file.stat();
    if (!info.isFile()) {
      throw new FlowTrackError(ErrorCode.IO_ERROR, `The signing key path ${path} is not a regular file.`);
    }
    // Checked on the open descriptor, not the path, so the file cannot be swapped after the check.
    // Windows has no such mode bits; FlowTrack runs on Linux.
    if ((info.mode & 0o077) !== 0) {
      const mode = (info.mode & 0o777).toString(8).padStart(4, '0');
      throw new FlowTrackError(
        ErrorCode.IO_ERROR,
        `The signing key file ${path} is accessible by group or others (mode ${mode}); anyone who reads it ` +
          `can sign in as any user. Run: chmod 600 ${path} (and consider replacing the key: delete the ` +
          `file and restart, which signs everyone out).`,
      );
    }
    const text = (await file.readFile({ encoding: 'utf8' })).trim();
    const key = BASE64.test(text) ? Buffer.from(text, 'base64') : Buffer.alloc(0);
    if (key.length < MIN_SIGNING_KEY_BYTES) {
      throw new FlowTrackError(
        ErrorCode.IO_ERROR,
        `The signing key file ${path} does not hold a base64 key of at least ${MIN_SIGNING_KEY_BYTES} bytes. ` +
          `Delete it and restart FlowTrack to create a new one (this signs everyone out).`,
      );
    }
    return new Uint8Array(key);
  } finally {
    await file.close();
  }
}

/** Creates the key file; null when another process created it first. */
async function createKeyFile(path: string): Promise<Uint8Array | null> {
  try {
    // mode applies only to the directories this call creates; an existing parent is left as it is.
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new FlowTrackError(
      ErrorCode.IO_ERROR,
      `Cannot create the directory for the signing key file ${path}.`,
      { cause: err },
    );
  }
  const key = randomBytes(MIN_SIGNING_KEY_BYTES);
  let file: FileHandle;
  try {
    // 'wx' (O_CREAT | O_EXCL): never overwrite a key that exists, which would sign everyone out.
    file = await open(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return null;
    throw new FlowTrackError(ErrorCode.IO_ERROR, `Cannot create the signing key file ${path}.`, {
      cause: err,
    });
  }
  try {
    await file.writeFile(`${key.toString('base64')}\n`);
    await file.sync();
  } catch (err) {
    await file.close();
    // A half-written key file would be refused at every start: remove it so the next start retries.
    await unlink(path).catch(() => undefined);
    throw new FlowTrackError(ErrorCode.IO_ERROR, `Cannot write the signing key file ${path}.`, {
      cause: err,
    });
  }
  await file.close();
  return new Uint8Array(key);
}
