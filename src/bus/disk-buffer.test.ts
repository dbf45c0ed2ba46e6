/**
 * The sensor's on-disk outbox, on real files in a temporary directory: order, acks, a restart
 * that resumes where it stopped, the byte bound, and a torn or damaged file after a crash.
 */

import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiskBuffer, type DiskBufferOptions } from './disk-buffer.js';

let dir = '';
const open: DiskBuffer[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flowtrack-buffer-'));
});

afterEach(() => {
  for (const buffer of open.splice(0)) buffer.close();
  rmSync(dir, { recursive: true, force: true });
});

function openBuffer(options: Partial<DiskBufferOptions> = {}): DiskBuffer {
  const buffer = DiskBuffer.open({ dir, maxBytes: 1 << 20, ...options });
  open.push(buffer);
  return buffer;
}

function closeBuffer(buffer: DiskBuffer): void {
  buffer.close();
  open.splice(open.indexOf(buffer), 1);
}

/** Reads and acks everything, returning the messages as text. */
function drain(buffer: DiskBuffer): string[] {
  const out: string[] = [];
  for (let m = buffer.peek(); m !== null && out.length < 100_000; m = buffer.peek()) {
    out.push(m.data.toString());
    buffer.ack(m.seq);
  }
  return out;
}

function segmentFiles(): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.seg'))
    .sort();
}

const text = (n: number): Buffer => Buffer.from(`message ${n} `.padEnd(100, '.'));

describe('DiskBuffer', () => {
  it('gives messages back in the order they were appended, across segment files, and removes acked ones', () => {
    const buffer = openBuffer({ segmentBytes: 1000 });
    const seqs = Array.from({ length: 50 }, (_, i) => buffer.append(text(i)));
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(segmentFiles().length).toBeGreaterThan(5);
    expect(buffer.stats()).toMatchObject({ messages: 50, bytes: 50 * 120, appended: 50 });

    // Peeking does not consume; acking an older seq again is a no-op.
    expect(buffer.peek()?.seq).toBe(1);
    expect(buffer.peek()?.data.toString()).toBe(text(0).toString());
    buffer.ack(1);
    buffer.ack(1);
    expect(buffer.peek()?.seq).toBe(2);
    expect(buffer.stats()).toMatchObject({ messages: 49, acked: 1 });

    const rest = drain(buffer);
    expect(rest).toEqual(Array.from({ length: 49 }, (_, i) => text(i + 1).toString()));
    expect(buffer.stats()).toMatchObject({ messages: 0, bytes: 0, acked: 50, dropped: 0, corrupt: 0 });
    // Consumed segments are deleted from the disk.
    expect(segmentFiles()).toEqual([]);
    expect(buffer.peek()).toBeNull();
  });

  it('acks everything up to a seq at once', () => {
    const buffer = openBuffer();
    for (let i = 0; i < 10; i++) buffer.append(text(i));
    buffer.ack(7);
    expect(buffer.peek()?.seq).toBe(8);
    expect(buffer.stats().messages).toBe(3);
  });

  it('resumes after a restart at the first message not acked, with the same seqs, and numbers new ones after them', () => {
    const first = openBuffer({ segmentBytes: 1000 });
    for (let i = 0; i < 30; i++) first.append(text(i));
    first.ack(12);
    closeBuffer(first);

    const second = openBuffer({ segmentBytes: 1000 });
    expect(second.stats()).toMatchObject({ messages: 18, corrupt: 0 });
    expect(second.peek()?.seq).toBe(13);
    expect(second.peek()?.data.toString()).toBe(text(12).toString());
    expect(second.append(Buffer.from('after restart'))).toBe(31);
    second.ack(20);
    closeBuffer(second);

    const third = openBuffer({ segmentBytes: 1000 });
    expect(third.peek()?.seq).toBe(21);
    const rest = drain(third);
    expect(rest).toHaveLength(11);
    expect(rest.at(-1)).toBe('after restart');
    closeBuffer(third);

    // Empty after everything was acked: the next open starts numbering after the last seq.
    const fourth = openBuffer();
    expect(fourth.peek()).toBeNull();
    expect(fourth.append(Buffer.from('x'))).toBe(32);
  });

  it('stays within maxBytes by dropping the oldest messages and counting them', () => {
    const maxBytes = 8192;
    const buffer = openBuffer({ maxBytes, segmentBytes: 2048 });
    for (let i = 0; i < 500; i++) buffer.append(text(i));
    const stats = buffer.stats();
    expect(stats.bytes).toBeLessThanOrEqual(maxBytes);
    // 8192 / 120 bytes per record: 68 kept, the rest dropped.
    expect(stats.messages).toBe(Math.floor(maxBytes / 120));
    expect(stats.dropped).toBe(500 - stats.messages);
    // What is left is the newest messages, still in order.
    const kept = drain(buffer);
    expect(kept[0]).toBe(text(500 - stats.messages).toString());
    expect(kept.at(-1)).toBe(text(499).toString());
    // The files on disk stay within the bound plus one segment.
    const onDisk = segmentFiles().reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
    expect(onDisk).toBeLessThanOrEqual(maxBytes + 2048);
  });

  it('refuses a message larger than the whole bound with a clear error, and keeps working', () => {
    const buffer = openBuffer({ maxBytes: 4096 });
    expect(() => buffer.append(Buffer.alloc(5000))).toThrow(/does not fit in the buffer.*maxBytes 4096/);
    expect(buffer.append(Buffer.from('small'))).toBe(1);
  });

  it('skips and counts a torn tail left by a crash mid-write, keeps what came before it, and appends after it', () => {
    const first = openBuffer();
    for (let i = 0; i < 5; i++) first.append(text(i));
    closeBuffer(first);
    const [file] = segmentFiles();
    const path = join(dir, file!);
    // The last record lost its last 30 bytes, as if the machine died during the write.
    truncateSync(path, statSync(path).size - 30);

    const second = openBuffer();
    expect(second.stats()).toMatchObject({ messages: 4, corrupt: 1, corruptBytes: 90 });
    expect(second.append(Buffer.from('after crash'))).toBe(5);
    expect(drain(second)).toEqual([...[0, 1, 2, 3].map((i) => text(i).toString()), 'after crash']);
  });

  it('skips a record whose bytes were damaged (CRC mismatch) and garbage appended after the last record', () => {
    const first = openBuffer({ segmentBytes: 600 });
    for (let i = 0; i < 10; i++) first.append(text(i));
    closeBuffer(first);
    const files = segmentFiles();
    expect(files.length).toBe(2);
    // Damage one byte of the third record of the first segment.
    const firstPath = join(dir, files[0]!);
    const bytes = readFileSync(firstPath);
    bytes.writeUInt8(bytes.readUInt8(2 * 120 + 50) ^ 0xff, 2 * 120 + 50);
    writeFileSync(firstPath, bytes);
    // Garbage after the last record of the second segment.
    const secondPath = join(dir, files[1]!);
    writeFileSync(secondPath, Buffer.concat([readFileSync(secondPath), Buffer.from('garbage!')]));

    const second = openBuffer({ segmentBytes: 600 });
    expect(second.stats()).toMatchObject({ corrupt: 2, corruptBytes: 3 * 120 + 8 });
    // Records 1-2 of the first segment and all of the second (5 records of 120 bytes per 600).
    expect(drain(second)).toEqual([0, 1, 5, 6, 7, 8, 9].map((i) => text(i).toString()));
  });

  it('starts over from the first message kept when the head file is damaged (sent again, never lost)', () => {
    const first = openBuffer();
    for (let i = 0; i < 5; i++) first.append(text(i));
    first.ack(2);
    closeBuffer(first);
    writeFileSync(join(dir, 'head'), 'junk');
    const second = openBuffer();
    // The segment still holds records 1..5: the three unacked are there, the acked ones come again.
    expect(second.peek()?.seq).toBe(1);
    expect(second.stats().messages).toBe(5);
    expect(second.append(Buffer.from('x'))).toBe(6);
  });

  it('refuses to open a directory that is already open, and a bad bound', () => {
    openBuffer();
    expect(() => DiskBuffer.open({ dir, maxBytes: 1 << 20 })).toThrow(/already open in this process/);
    expect(() => DiskBuffer.open({ dir: join(dir, 'other'), maxBytes: 10 })).toThrow(/maxBytes must be/);
  });

  it('reports a path it cannot use as a directory', () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    expect(() => DiskBuffer.open({ dir: file, maxBytes: 1 << 20 })).toThrow(
      /cannot use .* as the message buffer/,
    );
  });
});
