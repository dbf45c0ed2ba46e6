/** The Sensors page's wording of contact and time, at a fixed clock and time zone. */

import { describe, expect, it } from 'vitest';
import { contactText, kindText, sourceText, whenText } from './sensor-format';

const NOW = Date.UTC(2025, 5, 15, 12, 0, 0);
const SECOND = 1000;
const MINUTE = 60 * SECOND;

describe('contact with a sensor', () => {
  it('says "in contact" while the server says so', () => {
    const text = contactText({ inContact: true, lastContactMs: NOW - 4 * SECOND }, NOW, 'UTC');
    expect(text).toEqual({
      inContact: true,
      badge: 'in contact',
      title: 'Last heard from at 2025-06-15 11:59:56',
    });
  });

  it('says how long a silent one has been silent', () => {
    expect(contactText({ inContact: false, lastContactMs: NOW - 3 * MINUTE }, NOW, 'UTC')).toEqual({
      inContact: false,
      badge: 'silent for 3 min',
      title: 'Nothing heard since 2025-06-15 11:57:00',
    });
    expect(contactText({ inContact: false, lastContactMs: NOW - 90 * MINUTE }, NOW).badge).toBe(
      'silent for 1 h 30 min',
    );
    expect(contactText({ inContact: false, lastContactMs: NOW - 2 * 1440 * MINUTE }, NOW).badge).toBe(
      'silent for 2 d',
    );
  });

  it('never counts a silence below zero when the page clock is behind the server', () => {
    expect(contactText({ inContact: false, lastContactMs: NOW + 40 * SECOND }, NOW).badge).toBe(
      'silent for under a minute',
    );
  });
});

describe('times and names', () => {
  it('gives a past time relative and absolute', () => {
    expect(whenText(NOW - 5 * MINUTE, NOW, 'UTC')).toEqual({
      relative: '5 min ago',
      absolute: '2025-06-15 11:55:00',
    });
    expect(whenText(NOW - 3 * SECOND, NOW, 'UTC').relative).toBe('just now');
    // A contact the page's coarse clock has not reached yet is "just now", not in the future.
    expect(whenText(NOW + 4 * SECOND, NOW, 'UTC').relative).toBe('just now');
  });

  it('names the kinds, and a row without a sensor as this host', () => {
    expect(kindText('sensor')).toBe('FlowTrack sensor');
    expect(kindText('exporter')).toBe('NetFlow/IPFIX exporter');
    expect(kindText('probe')).toBe('probe');
    expect(sourceText(null)).toBe('this host');
    expect(sourceText(undefined)).toBe('this host');
    expect(sourceText('edge-1')).toBe('edge-1');
  });
});
