import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Alert } from '../alerts/alert.js';
import type { CaptureStatus } from '../live/pipeline-messages.js';
import { openStore, type Store } from '../store/store.js';
import { healthSample } from '../../test/helpers/store-suite.js';
import type { HostSample } from './host-sample.js';
import type { ResourceRules, ThresholdRule } from './resource-rules.js';
import { SystemMonitor } from './system-monitor.js';

const off: ThresholdRule = { enabled: false, raise: 100, clear: 50, forSeconds: 0 };
const RULES: ResourceRules = {
  cpu: { enabled: true, raise: 90, clear: 75, forSeconds: 0 },
  memory: off,
  swap: off,
  disk: off,
  interface_errors: { enabled: true, raise: 10, clear: 1, forSeconds: 0 },
  capture_drops: { enabled: true, raise: 100, clear: 1, forSeconds: 0 },
};
const T0 = Date.UTC(2026, 10, 22, 12, 0, 30);

/**
 * A stand-in probe (mock: the real one reads this machine) that plays `samples` one per tick, then
 * repeats the last; `played` resolves once all have been taken.
 */
function scriptedProbe(samples: HostSample[]) {
  let i = 0;
  let done: () => void = () => undefined;
  const played = new Promise<void>((resolve) => (done = resolve));
  return {
    played,
    sample: () => {
      if (i === samples.length - 1) done();
      return samples[Math.min(i++, samples.length - 1)]!;
    },
  };
}

function capture(dropped: number): CaptureStatus {
  return {
    interface: 'eth0',
    state: 'running',
    pid: 1,
    failure: null,
    counters: {
      packets: 0,
      received: 0,
      kernelDropped: dropped,
      interfaceDropped: 0,
      streamErrors: 0,
      restarts: 0,
    },
  };
}

describe('SystemMonitor with a scripted probe (mock) and a real SQLite store', () => {
  let store: Store;
  const raised: Alert[] = [];
  const resolved: Alert[] = [];
  beforeEach(async () => {
    store = await openStore(':memory:');
    raised.length = 0;
    resolved.length = 0;
  });
  afterEach(async () => {
    await store.close();
  });

  async function run(samples: HostSample[], drops: number[] = []): Promise<SystemMonitor> {
    let tick = 0;
    const probe = scriptedProbe(samples);
    const monitor = new SystemMonitor({
      probe,
      sockets: null,
      health: () => store.health,
      raiseAlert: (a) => {
        raised.push(a);
        return Promise.resolve();
      },
      resolveAlert: (a) => {
        resolved.push(a);
        return Promise.resolve();
      },
      capture: () => (drops.length === 0 ? [] : [capture(drops[Math.min(tick++, drops.length - 1)]!)]),
      publish: () => undefined,
      intervalMs: 5,
      rules: RULES,
      idPrefix: 't-',
      log: pino({ level: 'silent' }),
    });
    monitor.start();
    await probe.played;
    await monitor.stop();
    return monitor;
  }

  it("raises a capture-loss alert from the capture's dropped counter and resolves it when losses stop", async () => {
    const samples = Array.from({ length: 6 }, (_, i) => healthSample(T0 + i * 1000));
    // 500 lost a second for three seconds, then none.
    await run(samples, [0, 500, 1000, 1500, 1500, 1500]);
    expect(raised[0]).toMatchObject({ type: 'resource', severity: 'high', id: 'resource-t-1' });
    expect(raised[0]?.evidence.thresholds[0]).toEqual({
      metric: 'capture_drops:eth0',
      value: 500,
      threshold: 100,
    });
    expect(raised[0]?.summary).toMatch(/^packets lost by capture on eth0 on sensor-1 at 500\/s/);
    expect(resolved.map((a) => a.id)).toEqual(['resource-t-1']);
  });

  it('stores each sample, and a rollup per minute with its average and peak', async () => {
    // 12:00:30 to 12:01:30, one sample every 15 s: three in the first minute, the rest in the next.
    const cpus = [10, 20, 30, 40, 50];
    const samples = cpus.map((cpu, i) => healthSample(T0 + i * 15_000, { cpu }));
    await run(samples);
    const minute = Math.floor(T0 / 60_000) * 60_000;
    const rows = await store.db.selectFrom('health_rollups').selectAll().orderBy('minute_ms').execute();
    expect(rows.map((r) => [r.minute_ms - minute, r.samples, r.cpu, r.cpu_max])).toEqual([
      [0, 2, 15, 20],
      [60_000, 3, 40, 50],
    ]);
    expect((await store.health.latest())?.cpu.percent).toBe(50);
    // A CPU at 90% or more was never seen: nothing raised.
    expect(raised).toEqual([]);
  });
});
