import { describe, expect, it } from 'vitest';
import type { Alert } from '../alert.js';
import { composeEmail } from './email-notifier.js';
import {
  alertNotification,
  alertTitle,
  alertTypeWords,
  digestNotification,
  durationWords,
  testNotification,
} from './notification-text.js';
import type { DigestSummary } from './notifier.js';
import { formatSyslog5424 } from './syslog-notifier.js';
import { webhookJsonBody } from './webhook-notifier.js';

const START_US = Date.UTC(2024, 0, 2, 3, 4, 5) * 1000;
const AT = Date.UTC(2024, 0, 2, 3, 10, 0);

function alert(overrides: Partial<Alert> = {}): Alert {
  return {
    id: 'port_scan:10.0.0.5:10.0.0.9:1',
    type: 'port_scan',
    severity: 'high',
    src: '10.0.0.5',
    dst: '10.0.0.9',
    start: START_US,
    end: START_US + 45_000_000,
    counters: { ports: 1000 },
    summary: '10.0.0.5 probed 1000 ports on 10.0.0.9 in 45 s',
    evidence: {
      thresholds: [{ metric: 'ports', value: 1000, threshold: 100 }],
      sampleFlows: [],
      topSources: [],
    },
    updates: 3,
    ...overrides,
  };
}

const ctx = { id: 'alert-x-1-1', at: AT, host: 'sensor-1' };

describe('alertNotification', () => {
  it('titles a raised alert with its severity, its type in words and both ends, and says the rest in the text', () => {
    const n = alertNotification({ ...alert(), status: 'active' }, 'raised', {
      ...ctx,
      link: 'https://ft.example.net/alerts/1',
    });
    expect(n.title).toBe('[HIGH] Port scan from 10.0.0.5 to 10.0.0.9');
    expect(n.text).toBe(
      [
        '10.0.0.5 probed 1000 ports on 10.0.0.9 in 45 s',
        'Severity high, type port_scan, 10.0.0.5 -> 10.0.0.9.',
        'Seen from 2024-01-02T03:04:05.000Z to 2024-01-02T03:04:50.000Z (UTC), status active.',
        'Details: https://ft.example.net/alerts/1',
      ].join('\n'),
    );
    expect(n).toMatchObject({
      id: 'alert-x-1-1',
      kind: 'alert',
      at: AT,
      host: 'sensor-1',
      link: 'https://ft.example.net/alerts/1',
    });
    expect(n.alert?.status).toBe('active');
  });

  it('says an escalation is one, in the title and the first line', () => {
    const n = alertNotification(alert({ severity: 'critical' }), 'escalated', ctx);
    expect(n.title).toBe('[CRITICAL] Port scan from 10.0.0.5 to 10.0.0.9 (escalated)');
    expect(n.text.split('\n')[0]).toBe('Escalated to critical.');
  });

  it('names only the ends an alert has, and leaves out what is unknown', () => {
    const ddos = alertNotification(alert({ type: 'ddos', src: null, end: START_US }), 'raised', ctx);
    expect(ddos.title).toBe('[HIGH] DDoS to 10.0.0.9');
    expect(ddos.text).toContain('type ddos, ? -> 10.0.0.9.');
    expect(ddos.text).toContain('Seen at 2024-01-02T03:04:05.000Z (UTC).');
    expect(ddos.link).toBeUndefined();
    expect(ddos.text).not.toContain('Details');
    const loss = alertNotification(alert({ type: 'capture_loss', src: null, dst: null }), 'raised', ctx);
    expect(loss.title).toBe('[HIGH] Capture loss');
    expect(loss.text).toContain('Severity high, type capture_loss.\n');
  });

  it("keeps the alert as it was, without a store row's extra fields", () => {
    const live = { ...alert(), status: 'active', suppressedBy: null };
    const n = alertNotification(live, 'raised', ctx);
    live.counters.ports = 5000;
    live.severity = 'critical';
    expect(n.alert?.counters.ports).toBe(1000);
    expect(n.alert?.severity).toBe('high');
    expect(n.alert).not.toHaveProperty('suppressedBy');
  });

  it('reads well on every channel: one syslog line, an email subject, a webhook body', () => {
    const n = alertNotification({ ...alert(), status: 'active' }, 'raised', {
      ...ctx,
      link: 'https://ft.example.net/alerts/1',
    });
    const line = formatSyslog5424(n, { procId: 1 });
    expect(line).not.toMatch(/[\r\n]/);
    expect(line).toContain(
      '[HIGH] Port scan from 10.0.0.5 to 10.0.0.9: 10.0.0.5 probed 1000 ports on 10.0.0.9 in 45 s | Severity high',
    );
    expect(line).toContain('Details: https://ft.example.net/alerts/1');
    expect(composeEmail(n, { from: 'ft@example.net', to: ['soc@example.net'] }).subject).toBe(
      '[FlowTrack] [HIGH] Port scan from 10.0.0.5 to 10.0.0.9',
    );
    expect(webhookJsonBody(n).alert).toMatchObject({ id: alert().id, status: 'active', severity: 'high' });
  });
});

describe('alertTypeWords and durationWords', () => {
  it('words every known type, and an unknown one as itself', () => {
    expect(alertTypeWords('syn_flood')).toBe('SYN flood');
    expect(alertTypeWords('exposure')).toBe('Newly exposed port');
    expect(alertTypeWords('dns_tunnel')).toBe('Dns tunnel');
    expect(alertTitle({ severity: 'low', type: 'brute_force', src: '198.51.100.1', dst: null })).toBe(
      '[LOW] Brute force from 198.51.100.1',
    );
  });

  it('says a span in the largest whole unit', () => {
    expect(durationWords(600_000)).toBe('10 min');
    expect(durationWords(86_400_000)).toBe('24 h');
    expect(durationWords(5_400_000)).toBe('90 min');
    expect(durationWords(30_000)).toBe('30 s');
  });
});

function digest(overrides: Partial<DigestSummary> = {}): DigestSummary {
  return {
    count: 37,
    fromMs: AT - 600_000,
    toMs: AT,
    byType: { port_scan: 37 },
    bySeverity: { medium: 5, critical: 2, high: 30 },
    examples: [1, 2, 3, 4, 5].map((i) =>
      alert({ id: `scan-${i}`, src: `10.0.0.${i}`, summary: `scan number ${i}` }),
    ),
    ...overrides,
  };
}

describe('digestNotification', () => {
  it('titles a digest of one type with its count and the window in minutes', () => {
    const n = digestNotification(digest(), 'soc-webhook', { ...ctx, id: 'digest-1' });
    expect(n.title).toBe('37 more port_scan alerts in the last 10 min');
    expect(n).toMatchObject({ id: 'digest-1', kind: 'digest', at: AT, host: 'sensor-1' });
    expect(n.digest?.count).toBe(37);
  });

  it('lists several types by count, most first', () => {
    const n = digestNotification(
      digest({ byType: { syn_flood: 7, port_scan: 30 }, fromMs: 0, toMs: 3_600_000 }),
      'soc',
      ctx,
    );
    expect(n.title).toBe('37 more alerts (30 port_scan, 7 syn_flood) in the last 1 h');
    const one = digestNotification(digest({ count: 1, byType: { ddos: 1 }, toMs: AT - 570_000 }), 'soc', ctx);
    expect(one.title).toBe('1 more ddos alert in the last 30 s');
  });

  it('counts by severity, most severe first, and gives the newest three examples', () => {
    const n = digestNotification(digest(), 'soc-webhook', ctx);
    expect(n.text).toBe(
      [
        'The rate limit of channel "soc-webhook" held back 37 alerts from 2024-01-02T03:00:00.000Z to 2024-01-02T03:10:00.000Z (UTC).',
        'By severity: critical 2, high 30, medium 5.',
        'Latest:',
        '[HIGH] Port scan from 10.0.0.1 to 10.0.0.9: scan number 1',
        '[HIGH] Port scan from 10.0.0.2 to 10.0.0.9: scan number 2',
        '[HIGH] Port scan from 10.0.0.3 to 10.0.0.9: scan number 3',
      ].join('\n'),
    );
    // The channels that show examples themselves get all the digest kept.
    expect(n.digest?.examples).toHaveLength(5);
  });
});

describe('testNotification', () => {
  it('says which channel, who asked and from where', () => {
    const n = testNotification('soc-webhook', 'admin', { ...ctx, id: 'test-1-5' });
    expect(n).toMatchObject({ id: 'test-1-5', kind: 'test', at: AT, host: 'sensor-1' });
    expect(n.title).toBe('Test notification from FlowTrack on sensor-1');
    expect(n.text).toContain('"soc-webhook"');
    expect(n.text).toContain('at the request of admin');
    expect(n.text).toContain('2024-01-02T03:10:00.000Z');
  });
});
