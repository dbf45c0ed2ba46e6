/** The incident pages' wording: hosts, links and the timeline, in a fixed time zone. */

import { describe, expect, it } from 'vitest';
import { hostsText, linkTargetText, timelineLines } from './incident-format';
import type { TimelineEntry } from './incident-types';

const T0 = Date.UTC(2025, 5, 15, 12, 0, 0);

function entry(overrides: Partial<TimelineEntry>): TimelineEntry {
  return {
    at: T0,
    source: 'incident',
    kind: 'created',
    actor: 'ada',
    title: 'Incident reported: scan from 203.0.113.7',
    text: null,
    path: null,
    ...overrides,
  };
}

describe('incident wording', () => {
  it('shows the first hosts and how many more', () => {
    expect(hostsText([])).toBe('–');
    expect(hostsText(['10.0.0.5'])).toBe('10.0.0.5');
    expect(hostsText(['a', 'b', 'c'])).toBe('a, b, c');
    expect(hostsText(['a', 'b', 'c', 'd', 'e'])).toBe('a, b, c +2 more');
  });

  it('says what a link points at, or that it is gone', () => {
    expect(
      linkTargetText({
        kind: 'alert',
        ref: 'port_scan-1',
        target: {
          label: 'port_scan from 10.0.0.5 (high, open)',
          path: '/alerts/port_scan-1',
          from: 1,
          to: 2,
        },
      }),
    ).toEqual({ label: 'port_scan from 10.0.0.5 (high, open)', path: '/alerts/port_scan-1', gone: false });
    expect(linkTargetText({ kind: 'flow', ref: '77', target: null })).toEqual({
      label: 'flow 77 (no longer stored, or unknown)',
      path: null,
      gone: true,
    });
  });
});

describe('the timeline', () => {
  it('lists entries oldest first, keeping the server’s order within a millisecond', () => {
    const lines = timelineLines(
      [
        entry({ at: T0 + 2000, kind: 'commented', title: 'Comment', text: 'looks like a scanner' }),
        entry({ at: T0, title: 'first' }),
        entry({ at: T0, source: 'alert', kind: 'raised', actor: null, title: 'second', path: '/alerts/a' }),
      ],
      'UTC',
    );
    expect(lines.map((l) => l.title)).toEqual(['first', 'second', 'Comment']);
    expect(new Set(lines.map((l) => l.key)).size).toBe(3);
    expect(lines[0]).toMatchObject({ time: '2025-06-15 12:00:00', sourceLabel: 'incident', actor: 'ada' });
    expect(lines[1]).toMatchObject({ sourceLabel: 'alert', actor: 'network', path: '/alerts/a' });
    expect(lines[2]).toMatchObject({ time: '2025-06-15 12:00:02', text: 'looks like a scanner' });
    expect(lines[0]?.dateTime).toBe('2025-06-15T12:00:00.000Z');
  });

  it('names each source, and a source it does not know by its own name', () => {
    const lines = timelineLines(
      [
        entry({ source: 'block', actor: 'policy' }),
        entry({ source: 'scan' }),
        entry({ source: 'flow', actor: null }),
        entry({ source: 'dns' as TimelineEntry['source'] }),
      ],
      'UTC',
    );
    expect(lines.map((l) => l.sourceLabel)).toEqual(['firewall', 'scan', 'flow', 'dns']);
    expect(lines[0]?.actor).toBe('policy');
  });

  it('shows an empty text as none', () => {
    expect(timelineLines([entry({ text: '' })], 'UTC')[0]?.text).toBeNull();
  });
});
