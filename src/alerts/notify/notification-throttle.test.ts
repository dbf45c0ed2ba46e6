import { describe, expect, it } from 'vitest';
import type { Alert, Severity } from '../alert.js';
import { NotificationThrottle, type ChannelFilter } from './notification-throttle.js';

const FILTER: ChannelFilter = { minSeverity: 'medium', types: [], maxPerWindow: 5, windowMs: 600_000 };

function alert(id: string, severity: Severity = 'high', type: Alert['type'] = 'port_scan'): Alert {
  return {
    id,
    type,
    severity,
    src: '203.0.113.7',
    dst: '192.0.2.1',
    start: 0,
    end: 0,
    counters: {},
    summary: id,
    evidence: { thresholds: [], sampleFlows: [], topSources: [] },
    updates: 1,
  };
}

describe('NotificationThrottle', () => {
  it('tells a channel of a raised alert once, again when it escalates, never of its plain updates', () => {
    const t = new NotificationThrottle(FILTER);
    expect(t.decide(alert('a', 'medium'), 0)).toEqual({ action: 'notify', reason: 'raised' });
    expect(t.decide(alert('a', 'medium'), 1)).toEqual({ action: 'skip', why: 'update' });
    expect(t.decide(alert('a', 'critical'), 2)).toEqual({ action: 'notify', reason: 'escalated' });
    expect(t.decide(alert('a', 'high'), 3)).toEqual({ action: 'skip', why: 'update' });
  });

  it("keeps to the channel's minimum severity and types", () => {
    const t = new NotificationThrottle({ ...FILTER, types: ['syn_flood'] });
    expect(t.decide(alert('low', 'low', 'syn_flood'), 0)).toEqual({ action: 'skip', why: 'severity' });
    expect(t.decide(alert('scan', 'high', 'port_scan'), 0)).toEqual({ action: 'skip', why: 'type' });
    expect(t.decide(alert('flood', 'high', 'syn_flood'), 0).action).toBe('notify');
  });

  it('turns 10,000 updates in a minute into the rate limit plus one digest per type, counting every alert held back', () => {
    const t = new NotificationThrottle(FILTER);
    const decisions = { notify: 0, digest: 0, skip: 0 };
    // 200 port scans and 200 SYN floods, each updated 25 times within the minute.
    for (let update = 0; update < 25; update++) {
      for (let i = 0; i < 200; i++) {
        const at = update * 2400 + i;
        decisions[t.decide(alert(`scan-${i}`), at).action]++;
        decisions[t.decide(alert(`flood-${i}`, 'high', 'syn_flood'), at).action]++;
      }
    }
    expect(decisions.notify + decisions.digest + decisions.skip).toBe(10_000);
    expect(decisions.notify).toBe(10);
    expect(decisions.digest).toBe(390);
    // Nothing is due before the window ends; then one digest per type, once.
    expect(t.dueDigests(599_999)).toEqual([]);
    const digests = t.dueDigests(600_000);
    expect(digests.map((d) => [Object.keys(d.byType), d.count, d.examples.length])).toEqual([
      [['port_scan'], 195, 5],
      [['syn_flood'], 195, 5],
    ]);
    expect(t.dueDigests(600_001)).toEqual([]);
    // A new window: the limit applies afresh.
    expect(t.decide(alert('scan-new'), 600_002).action).toBe('notify');
  });

  it('keeps a window with held alerts until its digest is taken, so no count is lost', () => {
    const t = new NotificationThrottle({ ...FILTER, maxPerWindow: 1, windowMs: 1000 });
    expect(t.decide(alert('a'), 0).action).toBe('notify');
    expect(t.decide(alert('b'), 10).action).toBe('digest');
    // After the window's end but before dueDigests ran: still counted in the same digest.
    expect(t.decide(alert('c'), 1500).action).toBe('digest');
    expect(t.dueDigests(2000).map((d) => d.count)).toEqual([2]);
  });
});
