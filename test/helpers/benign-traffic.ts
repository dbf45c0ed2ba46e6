/**
 * A capture of benign site traffic for false-alarm tests: the first 200,000 packets of the
 * benchmark's mix (bench/out/, when `npm run bench` made it), or the same generator's 200,000
 * packets over 9 s, cut to 96 bytes a frame (wire lengths kept), written once into the temp dir
 * (about a second, 24 MB), so a fresh clone tests the same.
 */

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './corpus.js';

const BENCH_SLICE = join(repoRoot, 'bench/out/synthetic-4000000-first-200000.pcap');

/** Path of a benign mixed-traffic capture (see the module comment). */
export function benignSiteCapture(): string {
  if (existsSync(BENCH_SLICE)) return BENCH_SLICE;
  const path = join(tmpdir(), 'flowtrack-benign-200000-seed1-snap96.pcap');
  if (!existsSync(path)) {
    const partial = `${path}.${process.pid}.tmp`;
    execFileSync(
      process.execPath,
      [
        join(repoRoot, 'bench/make-capture.mjs'),
        partial,
        '--packets',
        '200000',
        '--seconds',
        '9',
        '--snaplen',
        '96',
      ],
      { stdio: 'ignore' },
    );
    execFileSync('mv', [partial, path]);
  }
  return path;
}
