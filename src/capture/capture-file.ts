/**
 * Reads a capture from a file path or standard input ("-"), un-gzipping it transparently when its
 * first bytes are the gzip magic, and feeds it to a CaptureParser chunk by chunk. This is the
 * file-backed PacketSource; live capture (tcpdump's pipe) feeds the same parser.
 *
 * A plain file is read synchronously into one reused buffer, yielding to the event loop every few
 * MiB. Measured on the benchmark capture (bench/, 3.3 GB): with a ReadStream the whole analysis
 * took 1.4x as long on an idle machine and over twice as long with the other core busy (a fresh
 * buffer per chunk, each read a round trip through the thread pool); reading ahead on the thread
 * pool into two alternating buffers was 10-15% slower than this, as each chunk then arrives from
 * the other core's cache and every hand-off wakes a thread.
 */

import { createReadStream, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { CaptureParser, type CapturedPacket, type CaptureFormat, type ReadStop } from './capture-parser.js';
import { FlowTrackError, ErrorCode } from '../util/errors.js';

export interface CaptureReadResult {
  format: CaptureFormat;
  linkTypes: number[];
  compressed: boolean;
  /** Set when the capture is corrupt or cut short; packets before `offset` were all read. */
  stopped: ReadStop | null;
  skippedRecords: number;
  /** Bytes of the capture read (after decompression). */
  captureBytes: number;
}

export interface ReadCaptureOptions {
  /** Called about every chunk with the input bytes read so far and the input's size when known. */
  onProgress?: (bytesRead: number, totalBytes: number | null) => void;
  /** Chunk size for file reads. */
  chunkBytes?: number;
  /**
   * Asked after each chunk whether reading must wait (a replay into a database that has fallen
   * behind); a promise pauses the read until it settles. Live capture never waits.
   */
  waitForRoom?: () => Promise<void> | null;
}

/**
 * Default read size. Measured on the benchmark capture (bench/): 128 KiB to 1 MiB are about
 * equally fast, 2 MiB and more slightly slower (the chunk is parsed from the cache it was read into).
 */
const DEFAULT_CHUNK_BYTES = 512 * 1024;
/** Bytes read between two turns of the event loop (timers, signals, other requests). */
const YIELD_BYTES = 8 * 1024 * 1024;

const GZIP_MAGIC0 = 0x1f;
const GZIP_MAGIC1 = 0x8b;

/** Opens `path` ("-" for standard input) and streams every record to `onPacket`. */
export async function readCapture(
  path: string,
  onPacket: (packet: CapturedPacket) => void,
  options: ReadCaptureOptions = {},
): Promise<CaptureReadResult> {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const parser = new CaptureParser(onPacket);
  try {
    if (path === '-') {
      try {
        return await readStream(process.stdin, null, parser, options);
      } finally {
        process.stdin.destroy();
      }
    }
    const file = await FileChunks.open(path, chunkBytes);
    try {
      const head = await file.next();
      if (head === null) return finish(parser, false);
      if (!isGzip(head)) return await readPlainFile(file, head, parser, options);
    } finally {
      await file.close();
    }
    // gzip is rare and bound by inflating, not reading: the plain stream path is fast enough.
    const input = createReadStream(path, { highWaterMark: chunkBytes });
    try {
      return await readStream(input, file.size, parser, options);
    } finally {
      input.destroy();
    }
  } catch (err) {
    if (err instanceof FlowTrackError) throw err;
    throw new FlowTrackError(ErrorCode.IO_ERROR, `cannot read ${describePath(path)}: ${ioReason(err)}`, {
      cause: err,
    });
  }
}

async function readPlainFile(
  file: FileChunks,
  head: Buffer,
  parser: CaptureParser,
  options: ReadCaptureOptions,
): Promise<CaptureReadResult> {
  let bytesRead = 0;
  for (let chunk: Buffer | null = head; chunk !== null; chunk = await file.next()) {
    bytesRead += chunk.length;
    parser.push(chunk);
    options.onProgress?.(bytesRead, file.size);
    if (parser.stopped) break;
    const wait = options.waitForRoom?.();
    if (wait) await wait;
  }
  parser.end();
  return finish(parser, false);
}

function isGzip(head: Buffer): boolean {
  return head.length >= 2 && head[0] === GZIP_MAGIC0 && head[1] === GZIP_MAGIC1;
}

/** A regular file read in chunks into one reused buffer. */
class FileChunks {
  private readonly buffer: Buffer;
  private position = 0;
  private sinceYield = 0;

  private constructor(
    private readonly handle: FileHandle,
    chunkBytes: number,
    /** File size at open (for progress); null when unknown. */
    readonly size: number | null,
  ) {
    this.buffer = Buffer.allocUnsafe(Math.max(1, Math.floor(chunkBytes)));
  }

  static async open(path: string, chunkBytes: number): Promise<FileChunks> {
    const handle = await open(path, 'r');
    try {
      const stat = await handle.stat();
      return new FileChunks(handle, chunkBytes, stat.isFile() ? stat.size : null);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** The next chunk, or null at end of file. It is overwritten by the next call. */
  async next(): Promise<Buffer | null> {
    if (this.sinceYield >= YIELD_BYTES) {
      this.sinceYield = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const n = readSync(this.handle.fd, this.buffer, 0, this.buffer.length, this.position);
    this.position += n;
    this.sinceYield += n;
    return n === 0 ? null : this.buffer.subarray(0, n);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** Standard input, or a gzipped file: the first chunk decides whether to inflate. */
async function readStream(
  input: Readable,
  totalBytes: number | null,
  parser: CaptureParser,
  options: ReadCaptureOptions,
): Promise<CaptureReadResult> {
  let bytesRead = 0;
  let compressed = false;
  const raw = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await raw.next();
  if (first.done) return finish(parser, compressed);
  const head = first.value;
  bytesRead += head.length;
  if (isGzip(head)) {
    compressed = true;
    const gunzip = createGunzip();
    const compressedInput = Readable.from(
      (async function* () {
        yield head;
        for (let r = await raw.next(); !r.done; r = await raw.next()) {
          bytesRead += r.value.length;
          yield r.value;
        }
      })(),
    );
    compressedInput.on('error', (err) => gunzip.destroy(err));
    compressedInput.pipe(gunzip);
    try {
      for await (const chunk of gunzip as AsyncIterable<Buffer>) {
        parser.push(chunk);
        options.onProgress?.(bytesRead, totalBytes);
        const wait = options.waitForRoom?.();
        if (wait) await wait;
        if (parser.stopped) break;
      }
    } catch (err) {
      // Not a capture inside the gzip, or a read error: not the gzip stream's fault.
      if (err instanceof FlowTrackError || isIoError(err)) throw err;
      // A corrupt or truncated gzip stream: keep what was read, say where it broke.
      parser.end();
      parser.stopped ??= {
        offset: parser.bytesConsumed,
        reason: `the gzip stream is corrupt or cut short (${(err as Error).message})`,
      };
      return finish(parser, compressed);
    } finally {
      gunzip.destroy();
    }
  } else {
    parser.push(head);
    options.onProgress?.(bytesRead, totalBytes);
    while (!parser.stopped) {
      const r = await raw.next();
      if (r.done) break;
      bytesRead += r.value.length;
      parser.push(r.value);
      options.onProgress?.(bytesRead, totalBytes);
    }
  }
  parser.end();
  return finish(parser, compressed);
}

function finish(parser: CaptureParser, compressed: boolean): CaptureReadResult {
  if (parser.format === null) parser.end(); // throws: empty input or not a capture
  return {
    format: parser.format!,
    linkTypes: parser.linkTypes,
    compressed,
    stopped: parser.stopped,
    skippedRecords: parser.skippedRecords,
    captureBytes: parser.bytesConsumed,
  };
}

function describePath(path: string): string {
  return path === '-' ? 'standard input' : path;
}

function isIoError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code);
}

function ioReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'it is a directory, not a capture file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}
