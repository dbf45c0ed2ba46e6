/**
 * The `.ftbak` file format: a fixed 1024-byte header followed by the gzip-compressed payload (a
 * SQLite database file, or a `pg_dump --format=custom` archive). The header says which database
 * and schema version the payload holds, and carries the SHA-256 and length of the payload, so a
 * truncated or damaged file is told apart from a good one before anything is restored from it.
 * The header is fixed-size so that the writer can stream the payload first and fill the header
 * in afterwards. This module reads and writes these files only: it never opens a database, and
 * it never lets a file it has not fully checked pass as good.
 *
 * Layout (integers big-endian):
 *   0..7    magic "FTBACKUP"
 *   8..11   format version (1)
 *   12..15  length L of the JSON header text
 *   16..47  SHA-256 of the JSON header text (a flipped byte in the header is caught too)
 *   48..    the JSON header text (UTF-8), then zero bytes up to 1024
 */

import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { ErrorCode, FlowTrackError, describeError } from '../util/errors.js';
import { LATEST_SCHEMA_VERSION } from './migrations/migration-list.js';
import type { DialectName } from './store-dialect.js';

/** The first eight bytes of every FlowTrack backup. */
export const BACKUP_MAGIC = Buffer.from('FTBACKUP', 'ascii');
/** The layout version this build writes and reads. */
export const BACKUP_FORMAT_VERSION = 1;
/** Bytes before the payload. */
export const BACKUP_HEADER_BYTES = 1024;

const JSON_OFFSET = 48;
const MAX_JSON_BYTES = BACKUP_HEADER_BYTES - JSON_OFFSET;

/** What a backup's header says about its payload. */
export interface BackupHeader {
  readonly dialect: DialectName;
  /** The schema version of the database in the payload. */
  readonly schemaVersion: number;
  /** When the backup was made, ISO 8601 UTC. */
  readonly createdAt: string;
  /** SHA-256 of the compressed payload, lower-case hex. */
  readonly sha256: string;
  /** Length of the compressed payload. */
  readonly payloadBytes: number;
  /** Length of the payload once decompressed. */
  readonly contentBytes: number;
}

/** The 1024 header bytes for `header`. */
export function encodeBackupHeader(header: BackupHeader): Buffer {
  const text = Buffer.from(
    JSON.stringify({
      dialect: header.dialect,
      schemaVersion: header.schemaVersion,
      createdAt: header.createdAt,
      sha256: header.sha256,
      payloadBytes: header.payloadBytes,
      contentBytes: header.contentBytes,
    }),
    'utf8',
  );
  if (text.length > MAX_JSON_BYTES) throw new Error(`backup header too long (${text.length} bytes)`);
  const out = Buffer.alloc(BACKUP_HEADER_BYTES);
  BACKUP_MAGIC.copy(out, 0);
  out.writeUInt32BE(BACKUP_FORMAT_VERSION, 8);
  out.writeUInt32BE(text.length, 12);
  createHash('sha256').update(text).digest().copy(out, 16);
  text.copy(out, JSON_OFFSET);
  return out;
}

/**
 * Reads the header from the first bytes of a file of `fileBytes` bytes and checks that the file
 * is as long as the header says. Throws BAD_BACKUP whose message names the one thing wrong (the
 * caller adds which file and that nothing was changed).
 */
export function decodeBackupHeader(head: Buffer, fileBytes: number): BackupHeader {
  if (fileBytes === 0) throw problem('the file is empty (0 bytes)');
  const magicSeen = head.subarray(0, Math.min(BACKUP_MAGIC.length, head.length));
  if (!magicSeen.equals(BACKUP_MAGIC.subarray(0, magicSeen.length))) {
    throw problem('it is not a FlowTrack backup (it does not start with "FTBACKUP")');
  }
  if (fileBytes < BACKUP_HEADER_BYTES || head.length < BACKUP_HEADER_BYTES) {
    throw problem(
      `it is truncated at byte ${fileBytes}: the header alone takes ${BACKUP_HEADER_BYTES} bytes`,
    );
  }
  const format = head.readUInt32BE(8);
  if (format > BACKUP_FORMAT_VERSION) {
    throw problem(
      `it was made by a newer FlowTrack (backup format ${format}; this one reads format ${BACKUP_FORMAT_VERSION}): restore it with that version`,
    );
  }
  if (format !== BACKUP_FORMAT_VERSION) throw problem(`its header is damaged (format ${format})`);
  const length = head.readUInt32BE(12);
  if (length === 0 || length > MAX_JSON_BYTES) throw problem('its header is damaged (bad length)');
  const text = head.subarray(JSON_OFFSET, JSON_OFFSET + length);
  if (!createHash('sha256').update(text).digest().equals(head.subarray(16, JSON_OFFSET))) {
    throw problem('its header is damaged (the header checksum does not match)');
  }
  // Zero padding is part of the format: anything else there means the bytes were changed.
  if (head.subarray(JSON_OFFSET + length, BACKUP_HEADER_BYTES).some((b) => b !== 0)) {
    throw problem('its header is damaged (bytes after the header text are not zero)');
  }
  const header = parseHeaderText(text.toString('utf8'));
  if (header.schemaVersion > LATEST_SCHEMA_VERSION) {
    throw problem(
      `it was made by a newer FlowTrack (schema v${header.schemaVersion}; this one knows up to v${LATEST_SCHEMA_VERSION}): restore it with that version or a newer one`,
    );
  }
  const expected = BACKUP_HEADER_BYTES + header.payloadBytes;
  if (fileBytes < expected) {
    throw problem(`it is truncated at byte ${fileBytes} (the header says it ends at byte ${expected})`);
  }
  if (fileBytes > expected) {
    throw problem(
      `it has ${fileBytes - expected} unexpected bytes after its end at byte ${expected} (two files joined, or damaged)`,
    );
  }
  return header;
}

function parseHeaderText(text: string): BackupHeader {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw problem('its header is damaged (not readable)');
  }
  if (typeof raw !== 'object' || raw === null) throw problem('its header is damaged (not an object)');
  const fields = raw as Record<string, unknown>;
  const { dialect, schemaVersion, createdAt, sha256, payloadBytes, contentBytes } = fields;
  if (dialect !== 'sqlite' && dialect !== 'postgres') {
    throw problem(`its header names an unknown database (${shown(dialect)})`);
  }
  if (!isCount(schemaVersion) || schemaVersion < 1) {
    throw problem(
      `its header gives no usable schema version (${shown(schemaVersion)}); a FlowTrack database starts at v1`,
    );
  }
  if (typeof createdAt !== 'string' || Number.isNaN(Date.parse(createdAt))) {
    throw problem('its header is damaged (no creation time)');
  }
  if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) {
    throw problem('its header is damaged (no SHA-256)');
  }
  if (!isCount(payloadBytes) || !isCount(contentBytes)) {
    throw problem('its header is damaged (no payload length)');
  }
  return { dialect, schemaVersion, createdAt, sha256, payloadBytes, contentBytes };
}

/** A header field as text for a message; an absent one as "none". */
function shown(value: unknown): string {
  return value === undefined ? 'none' : JSON.stringify(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function problem(text: string, cause?: unknown): FlowTrackError {
  return new FlowTrackError(ErrorCode.BAD_BACKUP, text, cause === undefined ? {} : { cause });
}

/** Where a backup's payload comes from: a stream, and the end of whatever produces it. */
export interface BackupPayloadSource {
  readonly stream: Readable;
  /** Settles when the producer has finished: rejects when it failed (the payload is then unusable). */
  readonly done: Promise<void>;
  /** Ends the producer early, after a failure on the writing side. */
  stop(): void;
}

/**
 * Writes a backup file at `path` (a new file, mode 0600) from the payload `source` gives, then
 * syncs it. The payload streams in first, after room for the header, which is written once the
 * checksum is known. The caller gives the file its final name (a rename) only after this.
 */
export async function writeBackupFile(
  path: string,
  about: { dialect: DialectName; schemaVersion: number; createdAt: Date },
  source: () => BackupPayloadSource,
): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let payloadBytes = 0;
  let contentBytes = 0;
  const run = source();
  try {
    await Promise.all([
      pipeline(
        run.stream,
        tap((chunk) => {
          contentBytes += chunk.length;
        }),
        createGzip(),
        tap((chunk) => {
          hash.update(chunk);
          payloadBytes += chunk.length;
        }),
        // 'wx': a new file only; the header's bytes stay a hole until the header is known.
        createWriteStream(path, { flags: 'wx', mode: 0o600, start: BACKUP_HEADER_BYTES }),
      ),
      run.done,
    ]);
  } catch (err) {
    run.stop();
    await run.done.catch(() => undefined);
    throw err instanceof FlowTrackError
      ? err
      : new FlowTrackError(
          ErrorCode.IO_ERROR,
          `cannot write the backup ${path} (${describeError(err)}): check the free space and permissions of its folder`,
          { cause: err },
        );
  }
  const sha256 = hash.digest('hex');
  const header = encodeBackupHeader({
    dialect: about.dialect,
    schemaVersion: about.schemaVersion,
    createdAt: about.createdAt.toISOString(),
    sha256,
    payloadBytes,
    contentBytes,
  });
  const handle = await open(path, 'r+');
  try {
    await handle.write(header, 0, header.length, 0);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { sha256, bytes: BACKUP_HEADER_BYTES + payloadBytes };
}

/**
 * Reads and checks the header of the backup file at `path` and that the file has the length the
 * header states. BAD_BACKUP with the problem alone as message; NOT_FOUND when there is no file.
 */
export async function readBackupHeader(path: string): Promise<{ header: BackupHeader; bytes: number }> {
  let bytes: number;
  let head: Buffer;
  try {
    // Checked before opening: opening a FIFO would wait for a writer, and a device never ends.
    if (!(await stat(path)).isFile()) throw problem('it is not a regular file');
    const handle = await open(path, 'r');
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw problem('it is not a regular file');
      bytes = info.size;
      head = Buffer.alloc(Math.min(bytes, BACKUP_HEADER_BYTES));
      await handle.read(head, 0, head.length, 0);
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof FlowTrackError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new FlowTrackError(
      code === 'ENOENT' ? ErrorCode.NOT_FOUND : ErrorCode.IO_ERROR,
      code === 'ENOENT'
        ? `there is no backup ${path}`
        : `cannot read the backup ${path} (${describeError(err)})`,
      { cause: err },
    );
  }
  return { header: decodeBackupHeader(head, bytes), bytes };
}

/**
 * Checks the payload of the backup file at `path` against its `header` (SHA-256) and decompresses
 * it into the new file `content` (mode 0600), no longer than the header states. BAD_BACKUP with
 * the problem alone as message.
 */
export async function extractBackupPayload(
  path: string,
  header: BackupHeader,
  content: string,
): Promise<void> {
  // First pass: the checksum alone, so a damaged file is reported as damaged rather than by
  // whatever gunzip makes of the damage.
  const firstHash = createHash('sha256');
  await pipeline(
    createReadStream(path, { start: BACKUP_HEADER_BYTES }),
    sink((chunk) => firstHash.update(chunk)),
  );
  const actual = firstHash.digest('hex');
  if (actual !== header.sha256) {
    throw problem(
      `checksum mismatch: the payload's SHA-256 is ${actual} but the header says ${header.sha256} (the file was changed or damaged after it was written)`,
    );
  }

  // Second pass: decompress, hashing again in case the file changed between the passes, and hold
  // the output to the length the header states (a crafted file cannot fill the disk).
  const secondHash = createHash('sha256');
  let produced = 0;
  try {
    await pipeline(
      createReadStream(path, { start: BACKUP_HEADER_BYTES }),
      tap((chunk) => secondHash.update(chunk)),
      createGunzip(),
      tap((chunk) => {
        produced += chunk.length;
        if (produced > header.contentBytes) {
          throw new Error(`it decompresses to more than the ${header.contentBytes} bytes its header states`);
        }
      }),
      createWriteStream(content, { flags: 'wx', mode: 0o600 }),
    );
  } catch (err) {
    throw problem(`its payload does not decompress (${describeError(err)})`, err);
  }
  if (secondHash.digest('hex') !== header.sha256) throw problem('the file changed while it was being read');
  if (produced !== header.contentBytes) {
    throw problem(`it decompresses to ${produced} bytes but its header says ${header.contentBytes}`);
  }
}

/** The end of a pipeline that only looks at the bytes (a Transform there would stall once full). */
export function sink(onChunk: (chunk: Buffer) => void): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      try {
        onChunk(chunk);
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
  });
}

/** A pipeline stage that looks at the bytes and passes them on. */
function tap(onChunk: (chunk: Buffer) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      try {
        onChunk(chunk);
        callback(null, chunk);
      } catch (err) {
        callback(err as Error);
      }
    },
  });
}
