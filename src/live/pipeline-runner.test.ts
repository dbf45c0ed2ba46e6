import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeCapture } from '../analyze/analyze-capture.js';
import type { PipelineConfig, WorkerMessage } from './pipeline-messages.js';
import { PipelineRunner } from './pipeline-runner.js';

const ROOT = resolve(import.meta.dirname, '../..');
let dir = '';
let flood = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flowtrack-runner-'));
  flood = join(dir, 'flood.pcap');
  // 200,000 spoofed SYNs: 200,000 flows, all ended by the final flush at once.
  execFileSync(process.execPath, [join(ROOT, 'bench/make-flood.mjs'), flood, '--packets', '200000']);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function replayConfig(file: string, speed: number | 'max' = 'max'): PipelineConfig {
  return { source: { kind: 'replay', file, speed }, alertIdPrefix: 't-', evidence: null };
}

describe('PipelineRunner replaying a file (in this thread, as the worker runs it)', () => {
  it('hands over every flow and alert analyze finds, never more than the window ahead of the store', async () => {
    const expected = await analyzeCapture(flood);
    const messages: WorkerMessage[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const runner: PipelineRunner = new PipelineRunner(replayConfig(flood), (m) => {
      messages.push(m);
      if (m.type !== 'flows') return;
      inFlight += m.flows.length;
      maxInFlight = Math.max(maxInFlight, inFlight);
      // The service takes them a moment later, as a busy store writer would.
      setTimeout(() => {
        inFlight -= m.flows.length;
        runner.stored(m.flows.length);
      }, 5);
    });
    await runner.run();
    const flows = messages.flatMap((m) => (m.type === 'flows' ? m.flows : []));
    expect(flows).toHaveLength(expected.flows.total);
    const alertIds = new Set(messages.flatMap((m) => (m.type === 'alert' ? [m.alert.type] : [])));
    expect([...alertIds].sort()).toEqual([...new Set(expected.alerts.map((a) => a.type))].sort());
    expect(maxInFlight).toBeLessThanOrEqual(20_000);
    const done = messages.at(-1);
    expect(done?.type).toBe('done');
    if (done?.type === 'done') expect(done.summary).toMatchObject({ packets: 200_000, readError: null });
  });

  it('stops a replay part-way when asked, without calling it a failure (regression)', async () => {
    const messages: WorkerMessage[] = [];
    let stopping = false;
    let unacknowledged = 0;
    // At the capture's own pace (one second of flood): the stop comes while the file is read.
    const runner: PipelineRunner = new PipelineRunner(replayConfig(flood, 1), (m) => {
      messages.push(m);
      if (m.type !== 'flows') return;
      // Not acknowledged while the replay runs: it waits for the store, and the stop must still
      // end it. Once stopping, the flows the stop ends are taken, as serve's shutdown takes them:
      // a slow machine reads more of the file before the stop, and more than a window's worth of
      // open flows would otherwise wait for the store for ever (seen in CI).
      if (stopping) queueMicrotask(() => runner.stored(m.flows.length));
      else unacknowledged += m.flows.length;
    });
    const running = runner.run();
    await new Promise((r) => setTimeout(r, 50));
    stopping = true;
    const stopped = runner.stop();
    runner.stored(unacknowledged);
    await stopped;
    await running;
    expect(messages.filter((m) => m.type === 'failed')).toEqual([]);
    const done = messages.find((m) => m.type === 'done');
    expect(done).toBeDefined();
    if (done?.type === 'done') expect(done.summary.packets).toBeLessThan(200_000);
  });

  it('stops a replay that has fallen behind its pace, which never waits for its clock (regression)', async () => {
    // A clock running 1,000 times faster than the wall: the replay is always late, as on a
    // loaded machine, so the read never pauses for the pace. The stop's timer must still run.
    const origin = Date.now();
    const late = (): number => origin + (Date.now() - origin) * 1000;
    const messages: WorkerMessage[] = [];
    const runner: PipelineRunner = new PipelineRunner(
      replayConfig(flood, 1),
      (m) => {
        messages.push(m);
        if (m.type === 'flows') queueMicrotask(() => runner.stored(m.flows.length));
      },
      late,
    );
    const running = runner.run();
    await new Promise((r) => setTimeout(r, 20));
    await runner.stop();
    await running;
    const done = messages.find((m) => m.type === 'done');
    if (done?.type !== 'done') throw new Error('the replay posted no done');
    expect(done.summary.packets).toBeGreaterThan(0);
    expect(done.summary.packets).toBeLessThan(100_000);
  });
});
