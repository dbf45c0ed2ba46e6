/**
 * The sensor's outbox: a bounded first-in-first-out queue of messages on disk, so that flows and
 * alerts survive a hub that is down and a sensor that restarts. Messages are appended to segment
 * files, read from the head in order and removed (acked) once the hub's stream has accepted them.
 *
 * Must never: grow past its bound (the oldest messages are dropped and counted instead), crash on
 * a torn or corrupt file (a crash mid-write leaves a bad tail: it is skipped and counted), or
 * hand out a message twice under two sequence numbers (a restart resumes at the first message not
 * acked, with the numbers it had). Synchronous on purpose: each call is one or two small system
 * calls, and a sensor's message rate is batches per second, not packets.
 *
 * Layout of the directory: `<first seq, 20 digits>.seg` files of records, each record
 * `magic u32 | length u32 | crc32 u32 | seq u64 | data` (little-endian, the CRC over seq and
 * data), and `head`: the last consumed sequence number and its CRC. Durability: records are
 * written at once (a process crash loses nothing) and fdatasync'ed every `syncIntervalMs`
 * (a machine crash loses at most that much). A lost `head` update only means a message is sent
 * again, which the hub's de-duplication by message id absorbs.
 */

import {
  closeSync,
  constants,
  ftruncateSync,
  fdatasyncSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { crc32 } from 'node:zlib';
import { describeError, ErrorCode, FlowTrackError } from '../util/errors.js';

export interface DiskBufferOptions {
  /** The directory of the segment files (created if missing); one buffer per directory. */
  dir: string;
  /** The bound on the bytes of messages not yet acked; past it the oldest are dropped. */
  maxBytes: number;
  /** Size at which a new segment file is started (default: maxBytes / 4, at most 4 MiB). */
  segmentBytes?: number;
  /** How often written data is forced to the disk (default 1000 ms). */
  syncIntervalMs?: number;
}

/** A message at the head of the buffer. */
export interface BufferedMessage {
  /** Increases by one per append, kept across restarts. */
  seq: number;
  data: Buffer;
}

export interface DiskBufferStats {
  /** Messages not yet acked (nor dropped). */
  messages: number;
  /** Their bytes on disk, record headers included. */
  bytes: number;
  appended: number;
  acked: number;
  /** Oldest messages dropped to stay within maxBytes. */
  dropped: number;
  /** Bad records skipped (a torn tail after a crash, a damaged file); each skips the rest of its segment. */
  corrupt: number;
  /** Bytes thrown away with them. */
  corruptBytes: number;
}

const MAGIC = 0x31425446; // "FTB1"
const HEADER_BYTES = 20;
const MAX_SEGMENT_BYTES = 4 << 20;
const MAX_RECORD_BYTES = 64 << 20;
const SEGMENT_NAME = /^(\d{20})\.seg$/;
const HEAD_FILE = 'head';
const LOCK_FILE = 'lock';

interface Segment {
  path: string;
  fd: number | null;
  /** Valid bytes in the file. */
  size: number;
  messages: number;
}

/** Buffers opened by this process: a second open of one directory would corrupt it. */
const openDirs = new Set<string>();

export class DiskBuffer {
  private readonly segments: Segment[] = [];
  /** Where the next message to read starts, in segments[0]. */
  private headOffset = 0;
  private headConsumed = 0;
  private consumedThrough = 0;
  private nextSeq = 1;
  /** The segment this instance appends to (always the last; never one from an earlier run). */
  private writer: Segment | null = null;
  private headFd: number;
  private peeked: BufferedMessage | null = null;
  private dirty = false;
  private closed = false;
  private readonly timer: NodeJS.Timeout;
  private readonly counts = { appended: 0, acked: 0, dropped: 0, corrupt: 0, corruptBytes: 0 };
  private readonly segmentBytes: number;

  private constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
    segmentBytes: number | undefined,
    syncIntervalMs: number,
  ) {
    this.segmentBytes = segmentBytes ?? Math.max(4096, Math.min(MAX_SEGMENT_BYTES, Math.floor(maxBytes / 4)));
    // Read-write without O_APPEND, so that the position is rewritten in place.
    this.headFd = openSync(join(dir, HEAD_FILE), constants.O_RDWR | constants.O_CREAT, 0o600);
    this.timer = setInterval(() => this.sync(), syncIntervalMs);
    this.timer.unref();
  }

  /**
   * Opens (or creates) the buffer in `options.dir` and resumes at the first message not acked.
   * Throws BAD_OPTION for a bad bound, IO_ERROR when the directory cannot be used or is in use.
   */
  static open(options: DiskBufferOptions): DiskBuffer {
    const { maxBytes, segmentBytes, syncIntervalMs = 1000 } = options;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 4096) {
      throw new FlowTrackError(
        ErrorCode.BAD_OPTION,
        `the buffer's maxBytes must be a whole number >= 4096, not ${maxBytes}`,
      );
    }
    if (segmentBytes !== undefined && (!Number.isSafeInteger(segmentBytes) || segmentBytes < 64)) {
      throw new FlowTrackError(
        ErrorCode.BAD_OPTION,
        `segmentBytes must be a whole number >= 64, not ${segmentBytes}`,
      );
    }
    const dir = resolve(options.dir);
    if (openDirs.has(dir)) {
      throw new FlowTrackError(
        ErrorCode.IO_ERROR,
        `the buffer directory ${dir} is already open in this process: close it first`,
      );
    }
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      takeLock(dir);
    } catch (err) {
      if (err instanceof FlowTrackError) throw err;
      throw new FlowTrackError(
        ErrorCode.IO_ERROR,
        `cannot use ${dir} as the message buffer: ${describeError(err)}; check that it is a writable directory`,
        { cause: err },
      );
    }
    openDirs.add(dir);
    try {
      const buffer = new DiskBuffer(dir, maxBytes, segmentBytes, syncIntervalMs);
      buffer.recover();
      return buffer;
    } catch (err) {
      openDirs.delete(dir);
      rmSync(join(dir, LOCK_FILE), { force: true });
      throw new FlowTrackError(
        ErrorCode.IO_ERROR,
        `cannot read the message buffer in ${dir}: ${describeError(err)}`,
        {
          cause: err,
        },
      );
    }
  }

  /** Appends one message and returns its sequence number; drops the oldest if over the bound. */
  append(data: Uint8Array): number {
    this.assertOpen();
    const recordBytes = HEADER_BYTES + data.length;
    if (recordBytes > this.maxBytes || recordBytes > MAX_RECORD_BYTES) {
      throw new FlowTrackError(
        ErrorCode.BAD_OPTION,
        `a message of ${data.length} bytes does not fit in the buffer (maxBytes ${this.maxBytes}): send smaller messages`,
      );
    }
    const writer = this.writerFor(recordBytes);
    const seq = this.nextSeq;
    const record = Buffer.allocUnsafe(recordBytes);
    record.writeUInt32LE(MAGIC, 0);
    record.writeUInt32LE(data.length, 4);
    record.writeBigUInt64LE(BigInt(seq), 12);
    record.set(data, HEADER_BYTES);
    record.writeUInt32LE(crc32(record.subarray(12)), 8);
    writeAll(writer.fd!, record, writer.size);
    writer.size += recordBytes;
    writer.messages++;
    this.nextSeq++;
    this.counts.appended++;
    this.dirty = true;
    while (this.bytes() > this.maxBytes && this.messageCount() > 1) {
      this.consumeHead();
      this.counts.dropped++;
    }
    this.writeHead();
    return seq;
  }

  /** The oldest message not yet acked, or null when the buffer is empty. */
  peek(): BufferedMessage | null {
    this.assertOpen();
    while (this.peeked === null) {
      const head = this.segments[0];
      if (head === undefined) return null;
      if (this.headOffset >= head.size) {
        if (head === this.writer) return null;
        this.removeHeadSegment();
        continue;
      }
      const record = readRecord(head, this.headOffset);
      if (record === null) {
        // Damaged since it was opened: skip the rest of this segment, as recovery would.
        this.counts.corrupt++;
        this.counts.corruptBytes += head.size - this.headOffset;
        this.headConsumed = head.messages;
        this.headOffset = head.size;
        if (head === this.writer) this.writer = null;
        this.removeHeadSegment();
        continue;
      }
      this.peeked = record;
    }
    return this.peeked;
  }

  /** Removes every message up to and including `seq` (a seq already gone is a no-op). */
  ack(seq: number): void {
    this.assertOpen();
    let removed = false;
    for (let head = this.peek(); head !== null && head.seq <= seq; head = this.peek()) {
      this.consumeHead();
      this.counts.acked++;
      removed = true;
    }
    if (removed) this.writeHead();
  }

  stats(): DiskBufferStats {
    return { messages: this.messageCount(), bytes: this.bytes(), ...this.counts };
  }

  /** Forces written data and the head position to the disk. */
  sync(): void {
    if (this.closed || !this.dirty) return;
    this.dirty = false;
    try {
      if (this.writer?.fd != null) fdatasyncSync(this.writer.fd);
      fdatasyncSync(this.headFd);
    } catch {
      // The next append or close reports a disk that fails; a timer has nobody to tell.
      this.dirty = true;
    }
  }

  /** Syncs and closes the files; what was not acked is there for the next open. */
  close(): void {
    if (this.closed) return;
    this.sync();
    this.closed = true;
    clearInterval(this.timer);
    for (const segment of this.segments) closeSegment(segment);
    closeSync(this.headFd);
    rmSync(join(this.dir, LOCK_FILE), { force: true });
    openDirs.delete(this.dir);
  }

  private messageCount(): number {
    let count = 0 - this.headConsumed;
    for (const segment of this.segments) count += segment.messages;
    return count;
  }

  private bytes(): number {
    let bytes = 0 - this.headOffset;
    for (const segment of this.segments) bytes += segment.size;
    return bytes;
  }

  /** Moves the head past its message (which must exist). */
  private consumeHead(): void {
    const head = this.peek();
    if (head === null) return;
    this.peeked = null;
    this.headOffset += HEADER_BYTES + head.data.length;
    this.headConsumed++;
    this.consumedThrough = head.seq;
    const segment = this.segments[0]!;
    if (this.headOffset >= segment.size) {
      // A fully consumed writer segment is removed too: the next append starts a new one.
      if (segment === this.writer) this.writer = null;
      this.removeHeadSegment();
    }
  }

  private removeHeadSegment(): void {
    const segment = this.segments.shift();
    if (segment === undefined) return;
    closeSegment(segment);
    rmSync(segment.path, { force: true });
    this.headOffset = 0;
    this.headConsumed = 0;
  }

  private writerFor(recordBytes: number): Segment {
    if (this.writer !== null && this.writer.size + recordBytes > this.segmentBytes && this.writer.size > 0) {
      closeSegment(this.writer);
      this.writer = null;
    }
    if (this.writer === null) {
      const path = join(this.dir, `${String(this.nextSeq).padStart(20, '0')}.seg`);
      // 'w': a leftover file of that name can only hold records already consumed.
      const segment: Segment = { path, fd: openSync(path, 'w+', 0o600), size: 0, messages: 0 };
      this.segments.push(segment);
      this.writer = segment;
    }
    if (this.writer.fd === null) this.writer.fd = openSync(this.writer.path, 'r+');
    return this.writer;
  }

  private writeHead(): void {
    const head = Buffer.alloc(12);
    head.writeBigUInt64LE(BigInt(this.consumedThrough), 0);
    head.writeUInt32LE(crc32(head.subarray(0, 8)), 8);
    writeAll(this.headFd, head, 0);
    this.dirty = true;
  }

  /** Reads the head position and the segments, skipping bad tails and what was consumed. */
  private recover(): void {
    this.consumedThrough = readHead(this.headFd);
    // Start a fresh head file: writeFileSync on an 'a+' descriptor appends.
    closeSync(this.headFd);
    this.headFd = openSync(join(this.dir, HEAD_FILE), 'w', 0o600);
    let lastSeq = 0;
    const names = readdirSync(this.dir)
      .filter((name) => SEGMENT_NAME.test(name))
      .sort();
    for (const name of names) {
      const path = join(this.dir, name);
      const scan = this.scanSegment(path, lastSeq);
      lastSeq = Math.max(lastSeq, scan.lastSeq);
      if (scan.messages === 0 || scan.lastSeq <= this.consumedThrough) {
        rmSync(path, { force: true });
        continue;
      }
      if (this.segments.length === 0) {
        this.headOffset = scan.headOffset;
        this.headConsumed = scan.headConsumed;
      }
      this.segments.push({ path, fd: null, size: scan.validBytes, messages: scan.messages });
    }
    this.nextSeq = Math.max(lastSeq, this.consumedThrough) + 1;
    this.writeHead();
  }

  /** Validates every record of one segment file, truncating it at the first bad one. */
  private scanSegment(path: string, previousSeq: number) {
    const fd = openSync(path, 'r+');
    try {
      const fileBytes = fstatSync(fd).size;
      const segment: Segment = { path, fd, size: fileBytes, messages: 0 };
      let offset = 0;
      let messages = 0;
      let lastSeq = previousSeq;
      let headOffset = 0;
      let headConsumed = 0;
      while (offset < fileBytes) {
        const record = readRecord(segment, offset);
        if (record === null || record.seq <= lastSeq) break;
        if (record.seq <= this.consumedThrough) {
          headOffset = offset + HEADER_BYTES + record.data.length;
          headConsumed = messages + 1;
        }
        lastSeq = record.seq;
        messages++;
        offset += HEADER_BYTES + record.data.length;
      }
      if (offset < fileBytes) {
        this.counts.corrupt++;
        this.counts.corruptBytes += fileBytes - offset;
        // Cut the bad tail off, so that what is counted is what is on disk.
        segment.size = offset;
        ftruncateSync(fd, offset);
      }
      return { validBytes: offset, messages, lastSeq, headOffset, headConsumed };
    } finally {
      closeSync(fd);
    }
  }

  private assertOpen(): void {
    if (this.closed)
      throw new FlowTrackError(ErrorCode.IO_ERROR, `the message buffer in ${this.dir} is closed`);
  }
}

/** The record at `offset`, or null when it is torn or damaged. */
function readRecord(segment: Segment, offset: number): BufferedMessage | null {
  if (segment.size - offset < HEADER_BYTES) return null;
  segment.fd ??= openSync(segment.path, 'r+');
  const header = Buffer.alloc(HEADER_BYTES);
  if (readSync(segment.fd, header, 0, HEADER_BYTES, offset) < HEADER_BYTES) return null;
  const length = header.readUInt32LE(4);
  if (header.readUInt32LE(0) !== MAGIC || length > segment.size - offset - HEADER_BYTES) return null;
  const body = Buffer.allocUnsafe(8 + length);
  header.copy(body, 0, 12, HEADER_BYTES);
  if (readSync(segment.fd, body, 8, length, offset + HEADER_BYTES) < length) return null;
  if (crc32(body) !== header.readUInt32LE(8)) return null;
  return { seq: Number(body.readBigUInt64LE(0)), data: body.subarray(8) };
}

/** The last consumed seq from the head file; 0 (send everything again) when it is missing or torn. */
function readHead(fd: number): number {
  const head = Buffer.alloc(12);
  if (readSync(fd, head, 0, 12, 0) < 12 || crc32(head.subarray(0, 8)) !== head.readUInt32LE(8)) return 0;
  return Number(head.readBigUInt64LE(0));
}

function writeAll(fd: number, data: Buffer, position: number): void {
  let written = 0;
  while (written < data.length)
    written += writeSync(fd, data, written, data.length - written, position + written);
}

function closeSegment(segment: Segment): void {
  if (segment.fd !== null) closeSync(segment.fd);
  segment.fd = null;
}

/**
 * Marks the directory as in use by this process. A lock left by a process that is gone is taken
 * over; one held by a live process is an error (two writers would interleave their records).
 */
function takeLock(dir: string): void {
  const path = join(dir, LOCK_FILE);
  try {
    const holder = Number(readFileSync(path, 'utf8'));
    if (Number.isSafeInteger(holder) && holder > 0 && holder !== process.pid && processAlive(holder)) {
      throw new FlowTrackError(
        ErrorCode.IO_ERROR,
        `the buffer directory ${dir} is in use by process ${holder}: give each sensor its own directory (or, if no sensor runs, remove ${path})`,
      );
    }
  } catch (err) {
    if (err instanceof FlowTrackError) throw err;
    // No lock file (or an unreadable one): take it.
  }
  writeFileSync(path, String(process.pid), { mode: 0o600 });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
