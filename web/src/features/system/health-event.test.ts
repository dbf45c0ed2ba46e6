import { describe, expect, it } from 'vitest';
import { healthSampleOf } from './health-event';
import type { HostSample } from './system-types';

const SAMPLE: HostSample = {
  at: 1_700_000_000_000,
  intervalSeconds: 2,
  hostname: 'sensor-1',
  uptimeSeconds: 3600,
  load: [0.5, 0.4, 0.3],
  cpu: { percent: 12.5, perCore: [10, 15], user: 8, system: 4, iowait: 0.5, steal: 0 },
  memory: {
    totalBytes: 8e9,
    usedBytes: 2e9,
    availableBytes: 6e9,
    percent: 25,
    swapTotalBytes: 0,
    swapUsedBytes: 0,
    swapPercent: 0,
  },
  fileSystems: [],
  disks: [],
  interfaces: [],
  processes: { total: 120, topCpu: [], topMemory: [] },
};

describe('the stream health event', () => {
  it('gives the sample it carries', () => {
    const event = { type: 'health', data: JSON.stringify({ type: 'health', sample: SAMPLE }) };
    expect(healthSampleOf(event)).toEqual(SAMPLE);
  });

  it('ignores other events and ones it cannot read', () => {
    expect(healthSampleOf({ type: 'rates', data: JSON.stringify({ sample: SAMPLE }) })).toBeNull();
    expect(healthSampleOf({ type: 'health', data: '{not json' })).toBeNull();
    expect(healthSampleOf({ type: 'health', data: 'null' })).toBeNull();
    expect(healthSampleOf({ type: 'health', data: JSON.stringify({ sample: { at: 1 } }) })).toBeNull();
    const noCpu = { ...SAMPLE, cpu: null };
    expect(healthSampleOf({ type: 'health', data: JSON.stringify({ sample: noCpu }) })).toBeNull();
  });
});
