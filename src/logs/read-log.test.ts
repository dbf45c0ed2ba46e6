import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FlowTrackError } from '../util/errors.js';
import { createLogFile } from './log-files.js';
import { MAX_LINE_CHARS, MAX_LOG_LIMIT, readLog, type ReadLogResult } from './read-log.js';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flowtrack-read-log-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const T0 = Date.parse('2025-03-01T12:00:00.000Z');

/** Writes `count` entries one second apart from T0 through a real log file. */
async function writeEntries(
  count: number,
  entry: (i: number) => { level: 'info' | 'warn' | 'error'; fields: object; msg: string },
): Promise<void> {
  let clock = T0;
  const file = createLogFile({ dir, name: 'server', now: () => new Date(clock), interval: null });
  for (let i = 0; i < count; i++) {
    clock = T0 + i * 1000;
    const { level, fields, msg } = entry(i);
    file.logger[level](fields, msg);
  }
  await file.close();
}

describe('readLog', () => {
  it('filters by time range, level, kind and text', async () => {
    await writeEntries(10, (i) => ({
      level: i % 3 === 0 ? 'warn' : 'info',
      fields: { i, kind: i % 2 === 0 ? 'login_failed' : 'rate_limited' },
      msg: i === 7 ? 'Disk nearly FULL' : 'routine',
    }));
    const ids = (r: ReadLogResult): unknown[] => r.entries.map((e) => e.i);

    expect(ids(await readLog({ dir, name: 'server' }))).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(
      ids(await readLog({ dir, name: 'server', from: new Date(T0 + 2000), to: new Date(T0 + 5000) })),
    ).toEqual([4, 3, 2]);
    expect(ids(await readLog({ dir, name: 'server', level: 'warn' }))).toEqual([9, 6, 3, 0]);
    expect(ids(await readLog({ dir, name: 'server', kind: 'login_failed' }))).toEqual([8, 6, 4, 2, 0]);
    expect(ids(await readLog({ dir, name: 'server', kind: ['login_failed'], level: 'warn' }))).toEqual([
      6, 0,
    ]);
    expect(ids(await readLog({ dir, name: 'server', contains: 'disk nearly full' }))).toEqual([7]);
    const [first] = (await readLog({ dir, name: 'server', limit: 1 })).entries;
    expect(first).toMatchObject({ time: new Date(T0 + 9000).toISOString(), level: 'warn', i: 9 });
  });

  it('pages with a cursor, also through entries written in the same millisecond', async () => {
    const file = createLogFile({ dir, name: 'server', now: () => new Date(T0), interval: null });
    for (let i = 0; i < 25; i++) file.logger.info({ i }, 'same instant');
    await file.close();

    const seen: unknown[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const result = await readLog({ dir, name: 'server', limit: 10, ...(cursor ? { cursor } : {}) });
      seen.push(...result.entries.map((e) => e.i));
      if (result.nextCursor === null) break;
      cursor = result.nextCursor;
    }
    expect(seen).toEqual(Array.from({ length: 25 }, (_, k) => 24 - k));
  });

  it('pages across the current file and rotated gzipped files', async () => {
    await writeEntries(12, (i) => ({ level: 'info', fields: { i }, msg: 'm' }));
    // Older history: a rotated file written by an earlier run.
    const older = [0, 1, 2].map((k) =>
      JSON.stringify({ level: 'info', time: new Date(T0 - (3 - k) * 1000).toISOString(), i: -3 + k }),
    );
    writeFileSync(join(dir, 'server.20250301T115959000Z.001.log.gz'), gzipSync(older.join('\n') + '\n'));

    const first = await readLog({ dir, name: 'server', limit: 10 });
    expect(first.entries.map((e) => e.i)).toEqual([11, 10, 9, 8, 7, 6, 5, 4, 3, 2]);
    const second = await readLog({ dir, name: 'server', limit: 10, cursor: first.nextCursor ?? '' });
    expect(second.entries.map((e) => e.i)).toEqual([1, 0, -1, -2, -3]);
    expect(second.nextCursor).toBeNull();
  });

  it('skips and counts malformed lines instead of throwing', async () => {
    await writeEntries(3, (i) => ({ level: 'info', fields: { i }, msg: 'ok' }));
    const path = join(dir, 'server.log');
    appendFileSync(path, 'not json at all\n{"level":"info"}\n[1,2]\n{"time":"yesterday","level":"info"}\n');
    appendFileSync(
      path,
      `{"time":"2025-03-01T12:00:00Z","level":"loud"}\n${'y'.repeat(MAX_LINE_CHARS + 10)}\n`,
    );
    appendFileSync(path, JSON.stringify({ level: 30, time: T0 + 5000, i: 'pino-default' }) + '\n');
    // A rotated file cut short in its gzip trailer: the lines that did inflate are kept.
    const whole = gzipSync(JSON.stringify({ level: 'info', time: T0 - 1000, i: 'cut' }) + '\n');
    writeFileSync(join(dir, 'server.20250301T115959000Z.001.log.gz'), whole.subarray(0, whole.length - 6));

    const result = await readLog({ dir, name: 'server' });
    expect(result.entries.map((e) => e.i)).toEqual(['pino-default', 2, 1, 0, 'cut']);
    expect(result.entries[0]?.level).toBe('info');
    // Six bad lines in the current file, and the truncated gzip stream.
    expect(result.skippedLines).toBe(7);
  });

  it('holds the limit to its maximum and rejects a forged cursor', async () => {
    await writeEntries(3, (i) => ({ level: 'info', fields: { i }, msg: 'm' }));
    const many = await readLog({ dir, name: 'server', limit: MAX_LOG_LIMIT * 10 });
    expect(many.entries).toHaveLength(3);
    await expect(readLog({ dir, name: 'server', cursor: 'bm90IGEgY3Vyc29y' })).rejects.toThrow(
      FlowTrackError,
    );
  });

  it('reads an absent log as empty', async () => {
    const result = await readLog({ dir: join(dir, 'none'), name: 'server' });
    expect(result).toEqual({ entries: [], nextCursor: null, skippedLines: 0 });
    mkdirSync(join(dir, 'empty'));
    expect((await readLog({ dir: join(dir, 'empty'), name: 'security' })).entries).toEqual([]);
  });
});
