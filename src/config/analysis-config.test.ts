import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FlowTrackError } from '../util/errors.js';
import { loadAnalysisConfig, parseAnalysisConfig } from './analysis-config.js';

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('analysis configuration file', () => {
  it('reads flow limits (seconds to microseconds) and detector options', () => {
    const config = parseAnalysisConfig(
      {
        flows: { maxFlows: 1000, idleTimeoutSeconds: 30, closedTimeoutSeconds: 1.5 },
        detection: { connection_flood: { perMinute: 200 } },
      },
      'test',
    );
    expect(config.flows).toEqual({
      maxFlows: 1000,
      idleTimeoutMicros: 30_000_000,
      closedTimeoutMicros: 1_500_000,
    });
    expect(config.detection).toEqual({ connection_flood: { perMinute: 200 } });
  });

  it('reports every bad key at once, with its name and value', () => {
    let message = '';
    try {
      parseAnalysisConfig(
        {
          flow: {},
          flows: { maxFlows: 1.5, idleTimeoutSeconds: -1, bogus: 1 },
          detection: { no_such: { x: 1 }, connection_flood: { perMinute: 'many' } },
        },
        'site.json',
      );
    } catch (err) {
      expect(err).toBeInstanceOf(FlowTrackError);
      message = (err as Error).message;
    }
    expect(message).toContain('configuration file site.json');
    expect(message).toContain('unknown key "flow"');
    expect(message).toContain('"flows.maxFlows" must be a whole number, not 1.5');
    expect(message).toContain('"flows.idleTimeoutSeconds" must be a number above 0, not -1');
    expect(message).toContain('unknown key "flows.bogus"');
    expect(message).toContain('no detector "no_such"');
    expect(message).toContain('connection_flood.perMinute must be a number of at least 0, not "many"');
  });

  it('says when the file is not JSON, and freezes what it read', () => {
    dir = mkdtempSync(join(tmpdir(), 'ft-config-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ flows: ');
    expect(() => loadAnalysisConfig(bad)).toThrow(/is not valid JSON/);
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ flows: { maxFlows: 10 } }));
    expect(Object.isFrozen(loadAnalysisConfig(good))).toBe(true);
  });
});
