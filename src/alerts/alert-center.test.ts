import { describe, expect, it } from 'vitest';
import { AlertCenter } from './alert-center.js';
import type { Alert } from './alert.js';

function alert(fields: Partial<Alert> = {}): Alert {
  return {
    id: 'port_scan-1',
    type: 'port_scan',
    severity: 'medium',
    src: '10.0.0.5',
    dst: '10.0.0.9',
    start: 1,
    end: 2,
    counters: {},
    summary: 'a scan',
    evidence: { thresholds: [], sampleFlows: [], topSources: [] },
    updates: 1,
    ...fields,
  };
}

describe('AlertCenter', () => {
  it('replaces the severity of an overridden type and keeps the detector’s', () => {
    const center = new AlertCenter(() => 0);
    center.setOverrides({ port_scan: 'low' });
    expect(center.prepare(alert())).toMatchObject({ severity: 'low', detectedSeverity: 'medium' });
    expect(center.prepare(alert({ type: 'syn_flood' }))).toMatchObject({
      severity: 'medium',
      detectedSeverity: null,
    });
    // Prepared twice (an update of a prepared alert): the detector's severity is still known.
    const twice = center.prepare(center.prepare(alert()));
    expect(twice).toMatchObject({ severity: 'low', detectedSeverity: 'medium' });
    center.setOverrides({});
    expect(center.prepare(twice)).toMatchObject({ severity: 'medium', detectedSeverity: null });
  });

  it('mutes by type, source network and destination until the rule ends', () => {
    let now = 1_000;
    const center = new AlertCenter(() => now);
    center.setSuppressions([
      { id: 1, type: 'port_scan', src: '10.0.0.0/24', dst: null, expiresAt: 5_000 },
      { id: 2, type: null, src: null, dst: '2001:db8::/64', expiresAt: 5_000 },
    ]);
    expect(center.prepare(alert()).suppressedBy).toBe(1);
    expect(center.prepare(alert({ src: '10.0.1.5' })).suppressedBy).toBeNull();
    expect(center.prepare(alert({ type: 'syn_flood' })).suppressedBy).toBeNull();
    expect(center.prepare(alert({ type: 'ddos', src: null, dst: '2001:db8::7' })).suppressedBy).toBe(2);
    expect(center.prepare(alert({ src: null })).suppressedBy).toBeNull();
    now = 5_000;
    expect(center.prepare(alert()).suppressedBy).toBeNull();
  });

  it('matches a single address exactly', () => {
    const center = new AlertCenter(() => 0);
    center.setSuppressions([{ id: 3, type: null, src: '192.0.2.1', dst: null, expiresAt: 10 }]);
    expect(center.prepare(alert({ src: '192.0.2.1' })).suppressedBy).toBe(3);
    expect(center.prepare(alert({ src: '192.0.2.2' })).suppressedBy).toBeNull();
  });
});
