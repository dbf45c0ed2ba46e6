/**
 * Reads a log written by log-files.ts back for the API: the current file and the rotated (gzipped)
 * ones, newest first, filtered by time, level, kind and text, a page at a time.
 *
 * Memory stays bounded whatever the files hold: files are streamed line by line, only the last
 * page-sized run of matches of a file is kept, and an over-long line is dropped, not buffered.
 * A malformed line is counted and skipped, never thrown: a log is evidence, and one bad line
 * must not hide the others.
 */

import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { ErrorCode, FlowTrackError } from '../util/errors.js';
import { LOG_LEVEL_VALUES, LOG_LEVELS, logFilePath, rotatedLogPattern, type LogLevel } from './log-files.js';

/** The most entries one call returns, whatever `limit` asks for. */
export const MAX_LOG_LIMIT = 1000;
/** Entries returned when `limit` is not given. */
export const DEFAULT_LOG_LIMIT = 100;
/**
 * Lines longer than this are skipped (and counted) rather than held in memory; with MAX_LOG_LIMIT
 * it bounds a page to about 16 MB however a line was forged. Our own lines are a few KiB at most
 * (an error with its stack).
 */
export const MAX_LINE_CHARS = 16 * 1024;

export interface ReadLogOptions {
  /** Directory and base name of the log, as given to createLogFile. */
  dir: string;
  name: string;
  /** Entries at or after this time. */
  from?: Date;
  /** Entries before this time. */
  to?: Date;
  /** Entries at this level or more severe. */
  level?: LogLevel;
  /** Entries whose `kind` (security events) is this or one of these. */
  kind?: string | readonly string[];
  /** Entries whose JSON line contains this text, ignoring case. */
  contains?: string;
  /** Entries per page: 1 to MAX_LOG_LIMIT (clamped), default DEFAULT_LOG_LIMIT. */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

/** One line of a log as written: `time` (ISO 8601) and `level` label are always there. */
export interface LogEntry {
  readonly time: string;
  readonly level: LogLevel;
  readonly msg?: string;
  readonly kind?: string;
  readonly [field: string]: unknown;
}

export interface ReadLogResult {
  /** Newest first. */
  entries: LogEntry[];
  /** Pass as `cursor` for the next (older) page; null when there is none. */
  nextCursor: string | null;
  /** Lines that were not a log entry (bad JSON, no time or level, too long) and were skipped. */
  skippedLines: number;
}

/**
 * Where the previous page ended: entries older than `t`, or at `t` after the first `n` of them.
 * A position in a file would not survive rotation (the current file is renamed under the reader);
 * a time does. Ties at one millisecond are common, hence `n`.
 */
interface Cursor {
  t: number;
  n: number;
}

interface Candidate {
  timeMs: number;
  entry: LogEntry;
}

/** Reads one page of log `name` in `dir`, newest first. */
export async function readLog(options: ReadLogOptions): Promise<ReadLogResult> {
  const limit = Math.min(MAX_LOG_LIMIT, Math.max(1, Math.floor(options.limit ?? DEFAULT_LOG_LIMIT)));
  const cursor = options.cursor === undefined ? null : decodeCursor(options.cursor);
  const filter = makeFilter(options, cursor);
  const files = await listLogFiles(options.dir, options.name);

  const collected: Candidate[] = [];
  // One entry past the page tells whether there is a next page.
  const wanted = limit + 1;
  let skipTies = cursor?.n ?? 0;
  let skippedLines = 0;

  for (const file of files) {
    if (collected.length >= wanted) break;
    if (options.from !== undefined && file.rotated) {
      // A rotated file was last written at its mtime: nothing in it is newer than that.
      const info = await stat(file.path).catch(() => null);
      if (info !== null && info.mtimeMs < options.from.getTime()) continue;
    }
    const ring = new Ring<Candidate>(wanted - collected.length + skipTies);
    skippedLines += await scanFile(file, filter, (c) => {
      ring.push(c);
    });
    for (const c of ring.newestFirst()) {
      if (skipTies > 0) {
        if (cursor !== null && c.timeMs === cursor.t) {
          skipTies--;
          continue;
        }
        skipTies = 0;
      }
      if (collected.length >= wanted) break;
      collected.push(c);
    }
  }

  const page = collected.slice(0, limit);
  let nextCursor: string | null = null;
  const last = page.at(-1);
  if (collected.length > limit && last !== undefined) {
    let n = page.filter((c) => c.timeMs === last.timeMs).length;
    if (cursor !== null && cursor.t === last.timeMs) n += cursor.n;
    nextCursor = encodeCursor({ t: last.timeMs, n });
  }
  return { entries: page.map((c) => c.entry), nextCursor, skippedLines };
}

/** One file of a log, as listLogFiles finds it. */
export interface LogFileRef {
  path: string;
  gzip: boolean;
  rotated: boolean;
}

/** The files of a log, newest first: the current file, then the rotated ones by name. */
export async function listLogFiles(dir: string, name: string): Promise<LogFileRef[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new FlowTrackError(ErrorCode.IO_ERROR, `cannot list the log directory ${dir}`, { cause: err });
  }
  const pattern = rotatedLogPattern(name);
  const rotated = names
    .filter((n) => pattern.test(n))
    .sort()
    .reverse()
    .map((n) => ({ path: join(dir, n), gzip: n.endsWith('.gz'), rotated: true }));
  const current = `${name}.log`;
  return names.includes(current)
    ? [{ path: logFilePath(dir, name), gzip: false, rotated: false }, ...rotated]
    : rotated;
}

type Filter = (line: string) => Candidate | 'skip' | 'bad';

function makeFilter(options: ReadLogOptions, cursor: Cursor | null): Filter {
  const fromMs = options.from?.getTime() ?? -Infinity;
  const toMs = options.to?.getTime() ?? Infinity;
  const untilMs = cursor?.t ?? Infinity;
  const minLevel = options.level === undefined ? 0 : LOG_LEVEL_VALUES[options.level];
  const kinds =
    options.kind === undefined
      ? null
      : new Set(typeof options.kind === 'string' ? [options.kind] : options.kind);
  const needle = options.contains?.toLowerCase() ?? '';

  return (line) => {
    if (line.trim() === '') return 'skip';
    const parsed = parseEntry(line);
    if (parsed === null) return 'bad';
    // Malformed lines are counted whatever the filters, so the count does not depend on them.
    if (needle !== '' && !line.toLowerCase().includes(needle)) return 'skip';
    const { timeMs, entry } = parsed;
    if (timeMs < fromMs || timeMs >= toMs || timeMs > untilMs) return 'skip';
    if (LOG_LEVEL_VALUES[entry.level] < minLevel) return 'skip';
    if (kinds !== null && (entry.kind === undefined || !kinds.has(entry.kind))) return 'skip';
    return parsed;
  };
}

const LEVEL_BY_VALUE = new Map<number, LogLevel>(LOG_LEVELS.map((l) => [LOG_LEVEL_VALUES[l], l]));

function parseEntry(line: string): Candidate | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const record = value as Record<string, unknown>;
  const timeMs =
    typeof record.time === 'number'
      ? record.time
      : typeof record.time === 'string'
        ? Date.parse(record.time)
        : NaN;
  if (!Number.isFinite(timeMs)) return null;
  // Lines from a default pino hold numbers; ours hold labels.
  const level =
    typeof record.level === 'number'
      ? LEVEL_BY_VALUE.get(record.level)
      : LOG_LEVELS.find((l) => l === record.level);
  if (level === undefined) return null;
  if (record.kind !== undefined && typeof record.kind !== 'string') return null;
  return { timeMs, entry: { ...record, time: new Date(timeMs).toISOString(), level } };
}

/** Streams `file` line by line through `filter`; returns the number of malformed lines. */
async function scanFile(file: LogFileRef, filter: Filter, onMatch: (c: Candidate) => void): Promise<number> {
  let bad = 0;
  const decoder = new StringDecoder('utf8');
  let pending = '';
  // While true, the current line grew past MAX_LINE_CHARS and is being dropped up to its end.
  let dropping = false;
  const take = (line: string): void => {
    const result = filter(line);
    if (result === 'bad') bad++;
    else if (result !== 'skip') onMatch(result);
  };

  const source = createReadStream(file.path, { highWaterMark: 64 * 1024 });
  const input = file.gzip ? pipeline(source, createGunzip(), () => undefined) : source;
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      const text = pending + decoder.write(chunk);
      const lines = text.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (dropping) {
          dropping = false;
          bad++;
        } else take(line);
      }
      if (pending.length > MAX_LINE_CHARS) {
        dropping = true;
        pending = '';
      }
    }
    pending += decoder.end();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Rotated away between listing and opening: its lines are in the next rotated file.
    if (code === 'ENOENT') return bad;
    // A gzip cut short (a rotation still writing it, a full disk): keep what was read, count it.
    if (file.gzip) return bad + 1;
    throw new FlowTrackError(ErrorCode.IO_ERROR, `cannot read the log file ${file.path}`, { cause: err });
  }
  if (dropping) bad++;
  // An unterminated last line of the current file is a write in progress, not damage.
  else if (pending !== '' && file.rotated) take(pending);
  return bad;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(text: string): Cursor {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (typeof value === 'object' && value !== null) {
      const { t, n } = value as Record<string, unknown>;
      if (
        typeof t === 'number' &&
        Number.isFinite(t) &&
        Number.isInteger(n) &&
        typeof n === 'number' &&
        n >= 0
      )
        return { t, n };
    }
  } catch {
    // Reported below.
  }
  throw new FlowTrackError(ErrorCode.BAD_REQUEST, 'the log cursor is not valid: start again without one');
}

/** Keeps the last `capacity` items pushed. */
class Ring<T> {
  private readonly items: T[] = [];
  private next = 0;

  constructor(private readonly capacity: number) {}

  push(item: T): void {
    if (this.capacity <= 0) return;
    if (this.items.length < this.capacity) this.items.push(item);
    else this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Items from the last pushed back to the oldest kept. */
  *newestFirst(): Generator<T> {
    const count = this.items.length;
    for (let i = 1; i <= count; i++) {
      yield this.items[(this.next - i + count * 2) % count]!;
    }
  }
}
