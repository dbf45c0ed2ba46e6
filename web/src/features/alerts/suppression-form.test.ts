import { describe, expect, it } from 'vitest';
import {
  EMPTY_SUPPRESSION_FORM,
  muteSimilarForm,
  ruleMatchText,
  ruleState,
  suppressionBodyOf,
  type SuppressionForm,
} from './suppression-form';

const form = (changes: Partial<SuppressionForm>): SuppressionForm => ({
  ...EMPTY_SUPPRESSION_FORM,
  ...changes,
});

describe('suppression rule form', () => {
  it("prefills Mute similar with the alert's type and source, for a day", () => {
    expect(muteSimilarForm({ type: 'port_scan', src: '192.0.2.7' })).toEqual({
      type: 'port_scan',
      src: '192.0.2.7',
      dst: '',
      reason: '',
      duration: '1440',
      minutes: '',
    });
    expect(muteSimilarForm({ type: 'capture_gap', src: null }).src).toBe('');
  });

  it('sends only the parts the rule matches on, the reason trimmed and the minutes as a number', () => {
    expect(
      suppressionBodyOf(
        form({ type: 'port_scan', src: ' 192.0.2.0/24 ', reason: ' our scanner ', duration: '60' }),
      ),
    ).toEqual({
      ok: true,
      value: { type: 'port_scan', src: '192.0.2.0/24', reason: 'our scanner', minutes: 60 },
    });
    expect(suppressionBodyOf(form({ dst: '2001:db8::1', reason: 'lab', duration: '10080' }))).toEqual({
      ok: true,
      value: { dst: '2001:db8::1', reason: 'lab', minutes: 10_080 },
    });
    expect(
      suppressionBodyOf(form({ type: 'resource', reason: 'disk swap', duration: 'custom', minutes: '90' })),
    ).toEqual({ ok: true, value: { type: 'resource', reason: 'disk swap', minutes: 90 } });
  });

  it('refuses a rule that would mute everything, and says every problem at once', () => {
    const checked = suppressionBodyOf(
      form({ src: '192.0.2.300', dst: 'example.com', duration: 'custom', minutes: '1.5' }),
    );
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(Object.keys(checked.problems).sort()).toEqual(['dst', 'minutes', 'reason', 'src']);
    const everything = suppressionBodyOf(form({ reason: 'quiet please' }));
    expect(everything.ok).toBe(false);
    if (!everything.ok) expect(everything.problems.match).toMatch(/must not mute every alert/);
  });

  it('takes custom minutes from 1 to a year, whole ones only', () => {
    const minutes = (text: string) =>
      suppressionBodyOf(form({ type: 'ddos', reason: 'r', duration: 'custom', minutes: text }));
    expect(minutes('1').ok).toBe(true);
    expect(minutes('525600').ok).toBe(true);
    for (const bad of ['', '0', '-5', '525601', '10 min', '1e3', '007'])
      expect(minutes(bad).ok, bad).toBe(false);
  });

  it('keeps the reason to the API length', () => {
    expect(suppressionBodyOf(form({ type: 'ddos', reason: 'x'.repeat(500) })).ok).toBe(true);
    const long = suppressionBodyOf(form({ type: 'ddos', reason: 'x'.repeat(501) }));
    expect(long.ok ? null : long.problems.reason).toBe('The reason has 501 characters; keep it to 500.');
  });
});

describe('suppression rule state', () => {
  const now = 1_700_000_000_000;
  it('is removed, expired or active, by the page clock as well as the server', () => {
    expect(ruleState({ active: false, removedAt: now - 5, expiresAt: now + 60_000 }, now)).toBe('removed');
    expect(ruleState({ active: false, removedAt: null, expiresAt: now - 1 }, now)).toBe('expired');
    expect(ruleState({ active: true, removedAt: null, expiresAt: now + 60_000 }, now)).toBe('active');
    // Answered while in force; its end has come since.
    expect(ruleState({ active: true, removedAt: null, expiresAt: now }, now)).toBe('expired');
  });

  it('says what a rule matches', () => {
    expect(ruleMatchText({ type: 'port_scan', src: '192.0.2.0/24', dst: null })).toBe(
      'port_scan from 192.0.2.0/24',
    );
    expect(ruleMatchText({ type: null, src: null, dst: '198.51.100.1' })).toBe('any type to 198.51.100.1');
  });
});
