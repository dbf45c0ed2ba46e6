/**
 * Reads a capture from a file path or standard input ("-"), un-gzipping it transparently when its
 * first bytes are the gzip magic, and feeds it to a CaptureParser in 1 MiB chunks. This is the
 * file-backed PacketSource; live capture (tcpdump's pipe) feeds the same parser.
 */

import { createReadStream, statSync } from 'node:fs';
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
}

const GZIP_MAGIC0 = 0x1f;
const GZIP_MAGIC1 = 0x8b;

/** Opens `path` ("-" for standard input) and streams every record to `onPacket`. */
export async function readCapture(
  path: string,
  onPacket: (packet: CapturedPacket) => void,
  options: ReadCaptureOptions = {},
): Promise<CaptureReadResult> {
  const input = openInput(path, options.chunkBytes ?? 1 << 20);
  const totalBytes = path === '-' ? null : sizeOf(path);
  const parser = new CaptureParser(onPacket);
  let bytesRead = 0;
  let compressed = false;
  const raw = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  try {
    const first = await raw.next();
    if (first.done) return finish(parser, compressed);
    const head = first.value;
    bytesRead += head.length;
    if (head.length >= 2 && head[0] === GZIP_MAGIC0 && head[1] === GZIP_MAGIC1) {
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
          if (parser.stopped) break;
        }
      } catch (err) {
        if (isIoError(err)) throw err;
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
  } catch (err) {
    if (err instanceof FlowTrackError) throw err;
    throw new FlowTrackError(ErrorCode.IO_ERROR, `cannot read ${describePath(path)}: ${ioReason(err)}`, {
      cause: err,
    });
  } finally {
    input.destroy();
  }
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

function openInput(path: string, chunkBytes: number): Readable {
  if (path === '-') return process.stdin;
  return createReadStream(path, { highWaterMark: chunkBytes });
}

function sizeOf(path: string): number | null {
  try {
    return statSync(path).size;
  } catch {
    return null; // the read itself reports the problem
  }
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
