import { describe, expect, it } from 'vitest';
import { ALERT_TYPES } from './alert-types';
import {
  draftOf,
  lastChangedText,
  OVERRIDE_CHOICES,
  overrideTypes,
  overridesChanged,
  overridesOf,
} from './severity-overrides';

describe('severity overrides', () => {
  it("offers the detector's default, then the severities mildest first", () => {
    expect(OVERRIDE_CHOICES.map((c) => c.value)).toEqual(['', 'info', 'low', 'medium', 'high', 'critical']);
    expect(OVERRIDE_CHOICES[0]?.label).toBe("Detector's default");
  });

  it('drafts a choice for every type, the default where nothing is overridden', () => {
    const draft = draftOf({ port_scan: 'low' });
    expect(Object.keys(draft)).toEqual([...ALERT_TYPES]);
    expect(draft.port_scan).toBe('low');
    expect(draft.ddos).toBe('');
  });

  it("keeps a newer server's overrides for types this page does not know", () => {
    expect(overrideTypes({ dns_tunnel: 'high' }).at(-1)).toBe('dns_tunnel');
    const draft = draftOf({ dns_tunnel: 'high', port_scan: 'low' });
    draft.port_scan = '';
    expect(overridesOf(draft)).toEqual({ dns_tunnel: 'high' });
  });

  it('sends the overrides with the defaults left out, and knows when nothing changed', () => {
    const saved = { port_scan: 'low' as const };
    const draft = draftOf(saved);
    expect(overridesChanged(saved, draft)).toBe(false);
    draft.resource = 'critical';
    expect(overridesChanged(saved, draft)).toBe(true);
    expect(overridesOf(draft)).toEqual({ port_scan: 'low', resource: 'critical' });
    draft.resource = '';
    draft.port_scan = '';
    expect(overridesChanged(saved, draft)).toBe(true);
    expect(overridesOf(draft)).toEqual({});
  });

  it('says who changed them last', () => {
    const at = Date.UTC(2024, 0, 15, 9, 30);
    expect(lastChangedText({ updatedBy: 'ada', updatedAt: at }, 'UTC')).toBe(
      'Last changed by ada at 2024-01-15 09:30',
    );
    expect(lastChangedText({ updatedBy: null, updatedAt: null })).toBe(
      "Never changed: every type has its detector's severity.",
    );
  });
});
