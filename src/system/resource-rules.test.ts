import { describe, expect, it } from 'vitest';
import { ResourceWatch, severityOf, type ResourceRules, type ThresholdRule } from './resource-rules.js';

const rule = (raise: number, clear: number, forSeconds: number): ThresholdRule => ({
  enabled: true,
  raise,
  clear,
  forSeconds,
});

const RULES: ResourceRules = {
  cpu: rule(90, 75, 10),
  memory: rule(90, 80, 0),
  swap: rule(80, 60, 0),
  disk: rule(90, 85, 0),
  interface_errors: rule(10, 1, 0),
  capture_drops: { ...rule(100, 1, 0), enabled: false },
};

/** Feeds CPU values, one every 2 s from t = 0, and lists the events as [second, kind, value]. */
function cpuEvents(values: number[]): [number, string, number][] {
  const watch = new ResourceWatch(RULES);
  const out: [number, string, number][] = [];
  values.forEach((value, i) => {
    for (const e of watch.observe([{ metric: 'cpu', subject: null, value }], i * 2000)) {
      out.push([i * 2, e.kind, e.value]);
    }
  });
  return out;
}

describe('ResourceWatch', () => {
  it('raises only once the value has held at the limit for forSeconds', () => {
    // 95 from t=2 s: held 10 s at t=12 s.
    expect(cpuEvents([50, 95, 95, 95, 95, 95, 95])).toEqual([[12, 'raised', 95]]);
    // A spike shorter than that raises nothing.
    expect(cpuEvents([50, 95, 95, 95, 40, 95, 95])).toEqual([]);
  });

  it('does not flap while the value hovers around the limit, and clears below the lower mark', () => {
    const hovering = [95, 95, 95, 95, 95, 95, 89, 91, 88, 92, 89, 91, 80, 92];
    expect(cpuEvents(hovering)).toEqual([[10, 'raised', 95]]);
    // Below 75 for 10 s: cleared once, at the end of the hold.
    const recovering = [...hovering, 50, 50, 50, 50, 50, 50, 50];
    expect(cpuEvents(recovering)).toEqual([
      [10, 'raised', 95],
      [38, 'cleared', 50],
    ]);
  });

  it('says when a raised value gets worse, and clears a disk that is no longer mounted', () => {
    const watch = new ResourceWatch(RULES);
    const disk = (mount: string, value: number) => ({ metric: 'disk' as const, subject: mount, value });
    expect(watch.observe([disk('/data', 92)], 0).map((e) => [e.kind, e.subject])).toEqual([
      ['raised', '/data'],
    ]);
    expect(watch.observe([disk('/data', 97)], 2000).map((e) => [e.kind, e.peak])).toEqual([['worse', 97]]);
    expect(watch.observe([disk('/data', 96)], 4000)).toEqual([]);
    expect(watch.raised()).toEqual(['disk:/data']);
    const gone = watch.observe([disk('/', 10)], 6000);
    expect(gone.map((e) => [e.kind, e.subject, e.reason])).toEqual([['cleared', '/data', 'gone']]);
    expect(watch.raised()).toEqual([]);
  });

  it('ignores disabled rules and values that are not numbers', () => {
    const watch = new ResourceWatch(RULES);
    expect(watch.observe([{ metric: 'capture_drops', subject: 'eth0', value: 1e6 }], 0)).toEqual([]);
    expect(watch.observe([{ metric: 'memory', subject: null, value: Number.NaN }], 0)).toEqual([]);
  });

  it('grades severity towards 100%, with a full disk critical', () => {
    expect(severityOf('cpu', 91, RULES.cpu)).toBe('medium');
    expect(severityOf('cpu', 96, RULES.cpu)).toBe('high');
    expect(severityOf('disk', 99.5, RULES.disk)).toBe('critical');
    expect(severityOf('capture_drops', 200, RULES.capture_drops)).toBe('high');
  });
});
