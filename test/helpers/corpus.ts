/**
 * The shared capture corpus in ../shared/pcaps (beside the checkout; never copied into the repo):
 * its manifest and the tshark protocol-hierarchy counts recorded for every file.
 */

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeUnlessMissing } from './system-tools.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const corpusDir = process.env.FLOWTRACK_PCAPS ?? resolve(repoRoot, '../shared/pcaps');
export const corpusAvailable = existsSync(join(corpusDir, 'MANIFEST.tsv'));

/**
 * `describe` for tests that read the corpus: skipped with a name that says so where the folder is
 * absent, and a failure under CI, whose checkout always has ../shared beside it.
 */
export function describeWithCorpus(name: string, body: () => void): void {
  describeUnlessMissing(
    corpusAvailable ? null : `the capture corpus at ${corpusDir}`,
    'put ../shared/pcaps beside the checkout or set FLOWTRACK_PCAPS',
    name,
    body,
  );
}

export type ManifestRow = Record<string, string> & {
  local_file: string;
  capinfos_rc: string;
  capinfos_packets: string;
  category: string;
};

/** Every row of MANIFEST.tsv. */
export function readManifest(): ManifestRow[] {
  const [header, ...lines] = readFileSync(join(corpusDir, 'MANIFEST.tsv'), 'utf8').trimEnd().split('\n');
  const cols = (header ?? '').split('\t');
  return lines.map((line) => {
    const cells = line.split('\t');
    return Object.fromEntries(cols.map((c, i) => [c, cells[i] ?? ''])) as ManifestRow;
  });
}

/** Absolute path of a corpus file named by its manifest `local_file`. */
export function corpusPath(localFile: string): string {
  return join(corpusDir, localFile);
}

/**
 * Frames containing each protocol according to the recorded `tshark -z io,phs` output: the sum of
 * a protocol's nodes that have no ancestor of the same name (a tunnel's inner IPv4 is not counted
 * twice for one frame).
 */
export function tsharkFrameCounts(localFile: string): Map<string, number> {
  return parsePhsFrameCounts(readFileSync(join(corpusDir, '_meta/tshark_phs', `${localFile}.txt`), 'utf8'));
}

/** Frames per protocol in `tshark -z io,phs` output, by the rule of tsharkFrameCounts. */
export function parsePhsFrameCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  const stack: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\s*)(\S+)\s+frames:(\d+)/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 2;
    const name = m[2]!;
    stack.length = depth;
    if (!stack.includes(name)) counts.set(name, (counts.get(name) ?? 0) + Number(m[3]));
    stack.push(name);
  }
  return counts;
}
