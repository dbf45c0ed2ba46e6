import { describe, expect, it } from 'vitest';
import type { AlertRecord } from '../api/api-types';
import { LIVE_ALERT_HOLD_MS, LiveAlerts, withLiveAlerts } from './live-alerts';

const event = (id: string, summary = 'a scan') => ({
  type: 'alert',
  data: JSON.stringify({
    id,
    type: 'port_scan',
    severity: 'high',
    src: '10.0.0.9',
    dst: null,
    summary,
    counters: {},
  }),
});

describe('LiveAlerts', () => {
  it('holds announced alerts, newest first, the latest report of each, until the hold ends', () => {
    const live = new LiveAlerts();
    expect(live.accept(event('a'), 0)).toBe(true);
    expect(live.accept(event('b'), 100)).toBe(true);
    expect(live.accept(event('a', 'a bigger scan'), 200)).toBe(true);
    expect(live.list().map((a) => [a.id, a.summary])).toEqual([
      ['a', 'a bigger scan'],
      ['b', 'a scan'],
    ]);
    expect(live.list()[0]).toMatchObject({ status: 'open', src: '10.0.0.9', dst: null });
    expect(live.prune(100 + LIVE_ALERT_HOLD_MS)).toBe(false);
    expect(live.prune(101 + LIVE_ALERT_HOLD_MS)).toBe(true);
    expect(live.list().map((a) => a.id)).toEqual(['a']);
  });

  it('ignores other events and malformed alerts', () => {
    const live = new LiveAlerts();
    expect(live.accept({ type: 'live', data: '{}' }, 0)).toBe(false);
    expect(live.accept({ type: 'alert', data: '{oops' }, 0)).toBe(false);
    expect(
      live.accept(
        {
          type: 'alert',
          data: JSON.stringify({ id: 'x', type: 'port_scan', summary: 's', severity: 'dire' }),
        },
        0,
      ),
    ).toBe(false);
    expect(live.list()).toEqual([]);
  });
});

describe('withLiveAlerts', () => {
  it('puts announced alerts the store does not hold yet before the stored ones', () => {
    const stored = [{ id: 'old' }, { id: 'a' }] as AlertRecord[];
    const live = [{ id: 'a' }, { id: 'new' }] as AlertRecord[];
    expect(withLiveAlerts(stored, live).map((a) => a.id)).toEqual(['new', 'old', 'a']);
  });
});
