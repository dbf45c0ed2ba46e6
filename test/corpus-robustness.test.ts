/**
 * Every capture of the shared corpus (all rows of MANIFEST.tsv: clean, malformed, truncated and
 * attack traces) goes through `analyzeCapture` and through the built CLI. Each must end in a
 * clear result: a report (with the byte offset where reading stopped, for a corrupt file) or a
 * FlowTrackError with a message; never an uncaught exception, a stack trace or "this is a bug".
 * The CLI half needs `npm run build` (the project's `npm test` builds first).
 */

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeCapture, type AnalysisReport } from '../src/analyze/analyze-capture.js';
import { renderReportText } from '../src/analyze/render-text.js';
import { FlowTrackError } from '../src/util/errors.js';
import {
  corpusAvailable,
  corpusPath,
  readManifest,
  repoRoot,
  type ManifestRow,
  describeWithCorpus,
} from './helpers/corpus.js';

const cliPath = join(repoRoot, 'dist/cli/main.js');

interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function flowtrack(args: readonly string[]): Promise<CliResult> {
  if (!existsSync(cliPath)) {
    return Promise.reject(
      new Error(`${cliPath} is missing: run \`npm run build\` first (\`npm test\` does it)`),
    );
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({
        status,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

/** What the manifest's independent header walk says about a file. */
function expectedPackets(row: ManifestRow): number | null {
  const walk = row.pkts_by_header_walk;
  return walk === undefined || walk === '' ? null : Number(walk);
}

function checkReport(row: ManifestRow, report: AnalysisReport, flowsSeen: number): void {
  const f = row.local_file;
  const walk = expectedPackets(row);
  if (walk !== null) expect(report.packets, `${f}: packets vs the manifest's header walk`).toBe(walk);
  // A file-level error in the manifest (bad record, trailing bytes) is a stop we must report.
  if (row.file_level_error) {
    expect(report.input.readError, `${f}: ${row.file_level_error}`).not.toBeNull();
  } else {
    expect(report.input.readError, `${f}: no file-level error expected`).toBeNull();
  }
  if (report.input.readError) {
    expect(report.input.readError.reason.length).toBeGreaterThan(0);
    expect(report.input.readError.offset).toBeGreaterThanOrEqual(0);
    expect(report.input.readError.offset).toBeLessThanOrEqual(Number(row.size_bytes));
  }
  expect(flowsSeen, `${f}: flows handed out vs flows.total`).toBe(report.flows.total);
  for (const [proto, n] of Object.entries(report.protocols)) {
    expect(n, `${f}: frames with ${proto}`).toBeLessThanOrEqual(report.packets);
  }
  const problems = Object.values(report.decodeProblems).reduce((a, b) => a + b, 0);
  expect(problems).toBeLessThanOrEqual(report.packets);
  expect(report.capturedBytes).toBeLessThanOrEqual(report.bytes);
  expect(() => JSON.stringify(report)).not.toThrow();
  expect(renderReportText(report)).toMatch(/^Capture /);
}

const rows: ManifestRow[] = corpusAvailable ? readManifest() : [];

describeWithCorpus(`every corpus capture through analyzeCapture (${rows.length} files)`, () => {
  it('the manifest lists every capture and each file is there', () => {
    expect(rows.length).toBeGreaterThanOrEqual(200);
    for (const row of rows) expect(existsSync(corpusPath(row.local_file)), row.local_file).toBe(true);
  });

  for (const row of rows) {
    it(row.local_file, async () => {
      let flowsSeen = 0;
      let report: AnalysisReport;
      try {
        report = await analyzeCapture(corpusPath(row.local_file), {
          onFlow: () => {
            flowsSeen++;
          },
        });
      } catch (err) {
        // The only acceptable failure: a FlowTrackError that says why.
        expect(err, `${row.local_file}: ${String(err)}`).toBeInstanceOf(FlowTrackError);
        expect((err as FlowTrackError).message.length).toBeGreaterThan(0);
        // Files the manifest's header walk read must not be rejected as a whole.
        expect(expectedPackets(row), `${row.local_file} rejected: ${(err as Error).message}`).toBeNull();
        return;
      }
      checkReport(row, report, flowsSeen);
    });
  }
});

const tmp = mkdtempSync(join(tmpdir(), 'flowtrack-robust-'));
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describeWithCorpus(`every corpus capture through the built CLI (${rows.length} files)`, () => {
  describe.concurrent('flowtrack analyze --json --flows', () => {
    rows.forEach((row, i) => {
      it(row.local_file, async () => {
        const flowsOut = join(tmp, `${i}.jsonl`);
        const r = await flowtrack(['analyze', '--json', '--flows', flowsOut, corpusPath(row.local_file)]);
        const f = row.local_file;
        expect(r.signal, `${f} killed by ${r.signal}`).toBeNull();
        expect(r.stderr, `${f}: stack trace or bug text on stderr`).not.toMatch(/\n\s+at |this is a bug/i);
        expect([0, 1, 2], `${f}: exit status ${r.status}, stderr: ${r.stderr}`).toContain(r.status);
        const lines = r.stderr.split('\n').filter(Boolean);
        if (r.status === 0) {
          expect(r.stderr, f).toBe('');
        } else {
          expect(lines, `${f}: exactly one line on stderr`).toHaveLength(1);
        }
        if (r.status === 1) {
          expect(r.stdout, f).toBe('');
          return;
        }
        const report = JSON.parse(r.stdout) as AnalysisReport;
        if (r.status === 2) {
          expect(report.input.readError, f).not.toBeNull();
          expect(lines[0]).toContain(`reading stopped at byte ${report.input.readError!.offset}`);
        } else {
          expect(report.input.readError, f).toBeNull();
        }
        const walk = expectedPackets(row);
        if (walk !== null) expect(report.packets, f).toBe(walk);
        const flowLines = readFileSync(flowsOut, 'utf8').split('\n').filter(Boolean);
        expect(flowLines.length, `${f}: --flows rows vs flows.total`).toBe(report.flows.total);
      });
    });
  });
});
