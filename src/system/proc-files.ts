/**
 * Reads of procfs files into buffers kept for the reader's life: Node's readFileSync allocates per
 * call and, on the small files of /proc, cost 6-10 ms for 95 processes where open/read/close into
 * one reused buffer took 1.2-2 ms (measured for socket-owners.ts). A read that fails (a process
 * that just exited, a file this kernel lacks) gives null or -1, never an exception.
 */

import { closeSync, openSync, readSync } from 'node:fs';

// A read of a seq_file (most of /proc) returns what fits in the kernel's page-sized buffer, a
// whole number of lines, and fewer bytes only when the file has ended. The empty read that would
// otherwise confirm the end makes the kernel produce the file's end once more: for /proc/net/tcp
// a walk of the whole TCP hash table (2.2 ms of 262,144 buckets on a 24 GB host, measured), so a
// read this much short of a page ends it.
const SEQ_FILE_PAGE = 4096;
const SEQ_FILE_LONGEST_LINE = 1024;

export class ProcFiles {
  /** Whole files; grows to the largest seen. */
  private whole = Buffer.allocUnsafe(64 * 1024);
  /** One read of a small file: /proc/PID/stat, status, comm, cmdline (the start of it). */
  readonly small = Buffer.allocUnsafe(SEQ_FILE_PAGE);

  /**
   * The whole file as text, or null. `seqFile`: stop at the first read clearly short of a page
   * (see above), for the large tables of /proc/net.
   */
  readText(path: string, options: { encoding?: 'utf8' | 'latin1'; seqFile?: boolean } = {}): string | null {
    const fd = this.open(path);
    if (fd === null) return null;
    try {
      let length = 0;
      for (;;) {
        if (this.whole.length - length < SEQ_FILE_PAGE) {
          const bigger = Buffer.allocUnsafe(this.whole.length * 2);
          this.whole.copy(bigger, 0, 0, length);
          this.whole = bigger;
        }
        const n = readSync(fd, this.whole, length, this.whole.length - length, null);
        length += n;
        if (n === 0 || (options.seqFile === true && n < SEQ_FILE_PAGE - SEQ_FILE_LONGEST_LINE)) break;
      }
      return this.whole.toString(options.encoding ?? 'utf8', 0, length);
    } catch {
      return null;
    } finally {
      closeSync(fd);
    }
  }

  /** The start of the file (at most 4 KiB) into `small` with one read; the length read, or -1. */
  readSmall(path: string): number {
    const fd = this.open(path);
    if (fd === null) return -1;
    try {
      return readSync(fd, this.small, 0, this.small.length, null);
    } catch {
      return -1;
    } finally {
      closeSync(fd);
    }
  }

  /** The start of the file (at most 4 KiB) as text, or null. */
  readSmallText(path: string, encoding: 'utf8' | 'latin1' = 'latin1'): string | null {
    const n = this.readSmall(path);
    return n < 0 ? null : this.small.toString(encoding, 0, n);
  }

  private open(path: string): number | null {
    try {
      return openSync(path, 'r');
    } catch {
      return null;
    }
  }
}
