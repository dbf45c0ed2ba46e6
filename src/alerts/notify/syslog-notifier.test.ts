/**
 * The syslog formatter on fixed notifications: the exact RFC 5424 line a collector receives, its
 * PRI for each severity and facility, the escaping RFC 5424 and CEF require, and the shortening
 * that keeps one notification in one UDP datagram.
 */

import { describe, expect, it } from 'vitest';
import type { Alert } from '../alert.js';
import type { Notification } from './notifier.js';
import { formatCef, formatSyslog5424, SyslogNotifier, syslogFacilityCode } from './syslog-notifier.js';

const AT = Date.UTC(2024, 0, 2, 3, 4, 5, 678); // 2024-01-02T03:04:05.678Z

function alert(overrides: Partial<Alert> = {}): Alert {
  return {
    id: 'port_scan:10.0.0.5:*:1',
    type: 'port_scan',
    severity: 'high',
    src: '10.0.0.5',
    dst: null,
    start: 1_704_164_645_000_000,
    end: 1_704_164_646_500_000,
    counters: { ports: 100 },
    summary: '10.0.0.5 probed 100 ports',
    evidence: { thresholds: [], sampleFlows: [], topSources: [] },
    updates: 1,
    ...overrides,
  };
}

function notification(overrides: Partial<Notification> = {}): Notification {
  return {
    id: 'n-1',
    kind: 'alert',
    title: 'Port scan from 10.0.0.5',
    text: '10.0.0.5 probed 100 ports\nSeverity: high',
    at: AT,
    host: 'sensor-1',
    alert: alert(),
    ...overrides,
  };
}

const HEAD = '2024-01-02T03:04:05.678Z sensor-1 flowtrack 42';

describe('formatSyslog5424', () => {
  it('writes the exact RFC 5424 line for an alert', () => {
    expect(formatSyslog5424(notification(), { procId: 42 })).toBe(
      `<131>1 ${HEAD} alert [flowtrack@32473 id="n-1" type="port_scan" severity="high" src="10.0.0.5"` +
        ` alertId="port_scan:10.0.0.5:*:1"] Port scan from 10.0.0.5: 10.0.0.5 probed 100 ports | Severity: high`,
    );
  });

  it('writes digests and tests as notice with their kind as MSGID', () => {
    const digest = notification({
      kind: 'digest',
      title: '37 more alerts',
      text: '',
      alert: undefined,
      digest: { count: 37, fromMs: AT - 600_000, toMs: AT, byType: {}, bySeverity: {}, examples: [] },
    });
    expect(formatSyslog5424(digest, { procId: 42 })).toBe(
      `<133>1 ${HEAD} digest [flowtrack@32473 id="n-1" count="37"] 37 more alerts`,
    );
    const test = notification({ kind: 'test', title: 'Test', text: 'It works.', alert: undefined });
    expect(formatSyslog5424(test, { procId: 42 })).toBe(
      `<133>1 ${HEAD} test [flowtrack@32473 id="n-1"] Test: It works.`,
    );
  });

  it('computes PRI as facility * 8 + severity', () => {
    const pri = (severity: Alert['severity'], facility?: number | 'local7' | 'auth'): string =>
      /^<(\d+)>/.exec(formatSyslog5424(notification({ alert: alert({ severity }) }), { facility }))?.[1] ??
      '';
    // Default local0 (16): 128 + severity.
    expect(['critical', 'high', 'medium', 'low', 'info'].map((s) => pri(s as Alert['severity']))).toEqual([
      '130',
      '131',
      '132',
      '133',
      '134',
    ]);
    expect(pri('critical', 'local7')).toBe('186');
    expect(pri('info', 'auth')).toBe('38');
    expect(pri('critical', 0)).toBe('2');
    expect(pri('info', 23)).toBe('190');
    expect(() => syslogFacilityCode(24)).toThrow(/facility 24/);
    expect(() => syslogFacilityCode('local8' as 'local7')).toThrow(/local8/);
  });

  it('escapes ", \\ and ] in SD PARAM-VALUEs (RFC 5424 §6.3.3)', () => {
    const line = formatSyslog5424(notification({ alert: alert({ src: 'a"b\\c]d', dst: 'x\ny' }) }), {
      procId: 42,
    });
    expect(line).toContain(' src="a\\"b\\\\c\\]d" dst="x y" ');
  });

  it('keeps MSG on one line and header fields printable', () => {
    const line = formatSyslog5424(
      notification({ host: 'my host\u00e9', title: 'Scan\r\nagain', text: 'a\r\n\r\nb\tc\rd' }),
      { procId: 42 },
    );
    expect(line).not.toMatch(/[\r\n\t]/);
    expect(line).toContain(' my_host_ flowtrack ');
    expect(line.endsWith('] Scan again: a | b c | d')).toBe(true);
  });

  it('writes "-" for an empty host and a time that cannot be written', () => {
    expect(formatSyslog5424(notification({ host: '', at: Number.NaN }), { procId: 42 })).toMatch(
      /^<131>1 - - flowtrack 42 alert /,
    );
  });

  it('caps HOSTNAME at 255 octets', () => {
    const line = formatSyslog5424(notification({ host: 'h'.repeat(300) }), { procId: 42 });
    expect(line.split(' ')[2]).toBe('h'.repeat(255));
  });

  it('puts a BOM before a MSG with non-ASCII text only', () => {
    expect(formatSyslog5424(notification(), { procId: 42 })).not.toContain('\uFEFF');
    const line = formatSyslog5424(notification({ text: 'Zürich office' }), { procId: 42 });
    expect(line).toContain('] \uFEFFPort scan from 10.0.0.5: Zürich office');
  });

  it('shortens MSG to fit the byte limit, never splitting a character', () => {
    const long = notification({ text: 'é'.repeat(3000) });
    const line = formatSyslog5424(long, { procId: 42, maxBytes: 2048 });
    const bytes = Buffer.byteLength(line);
    expect(bytes).toBeLessThanOrEqual(2048);
    expect(bytes).toBeGreaterThan(2040);
    expect(line.endsWith('é...')).toBe(true);
    expect(line).not.toContain('\uFFFD');
    // The header and SD are whole.
    expect(line).toContain('alertId="port_scan:10.0.0.5:*:1"] \uFEFFPort scan from 10.0.0.5: éé');
    // What fits is left alone.
    expect(formatSyslog5424(notification(), { procId: 42, maxBytes: 2048 })).toBe(
      formatSyslog5424(notification(), { procId: 42 }),
    );
    expect(() => formatSyslog5424(long, { maxBytes: 100 })).toThrow(/480/);
  });

  it('drops the SD rather than exceed the limit when src and dst leave no room', () => {
    const n = notification({ alert: alert({ src: 's'.repeat(600), dst: 'd'.repeat(600) }) });
    const line = formatSyslog5424(n, { procId: 42, maxBytes: 480 });
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(480);
    expect(line).toMatch(/^<131>1 \S+ sensor-1 flowtrack 42 alert - Port scan from 10\.0\.0\.5: /);
  });
});

describe('CEF MSG', () => {
  it('writes the exact CEF record inside the syslog line', () => {
    expect(formatSyslog5424(notification(), { procId: 42, msgFormat: 'cef', productVersion: '0.1.0' })).toBe(
      `<131>1 ${HEAD} alert [flowtrack@32473 id="n-1" type="port_scan" severity="high" src="10.0.0.5"` +
        ` alertId="port_scan:10.0.0.5:*:1"] CEF:0|FlowTrack|FlowTrack|0.1.0|port_scan|Port scan from 10.0.0.5|8|` +
        `rt=1704164645678 start=1704164645000 end=1704164646500 src=10.0.0.5 cs1Label=alertId` +
        ` cs1=port_scan:10.0.0.5:*:1 msg=10.0.0.5 probed 100 ports\\nSeverity: high`,
    );
  });

  it('escapes | and \\ in the header, = \\ and newlines in extension values', () => {
    const n = notification({
      title: 'a|b\\c\nd',
      text: 'x=y\r\nz\\|w\rv',
      alert: alert({ src: 'k=v', dst: 'p|q' }),
    });
    expect(formatCef(n, '1|2')).toBe(
      'CEF:0|FlowTrack|FlowTrack|1\\|2|port_scan|a\\|b\\\\c d|8|rt=1704164645678 start=1704164645000' +
        ' end=1704164646500 src=k\\=v dst=p|q cs1Label=alertId cs1=port_scan:10.0.0.5:*:1 msg=x\\=y\\nz\\\\|w\\rv',
    );
  });

  it('maps severities to 0-10 and digests to signature "digest"', () => {
    const sev = (severity: Alert['severity']): string =>
      formatCef(notification({ alert: alert({ severity }) }), '1').split('|')[6] ?? '';
    expect(['info', 'low', 'medium', 'high', 'critical'].map((s) => sev(s as Alert['severity']))).toEqual([
      '1',
      '3',
      '5',
      '8',
      '10',
    ]);
    const digest = notification({
      kind: 'digest',
      title: '3 more',
      text: 'port_scan: 3',
      alert: undefined,
      digest: { count: 3, fromMs: 0, toMs: 1, byType: {}, bySeverity: {}, examples: [] },
    });
    expect(formatCef(digest, '1')).toBe(
      'CEF:0|FlowTrack|FlowTrack|1|digest|3 more|3|rt=1704164645678 cnt=3 msg=port_scan: 3',
    );
  });

  it('shortens msg, not the header, and never leaves half an escape', () => {
    const n = notification({ text: '\\'.repeat(5000) });
    const line = formatSyslog5424(n, { procId: 42, msgFormat: 'cef', productVersion: '1', maxBytes: 2048 });
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(2048);
    const msg = /msg=(.*)$/.exec(line)?.[1] ?? '';
    expect(msg).toMatch(/^(\\\\)+\.\.\.$/);
    expect(line).toContain('|port_scan|Port scan from 10.0.0.5|8|rt=');
  });
});

describe('SyslogNotifier options', () => {
  it('refuses bad options at construction', () => {
    expect(() => new SyslogNotifier({ host: 'x', transport: 'smtp' as 'udp' })).toThrow(/udp, tcp or tls/);
    expect(() => new SyslogNotifier({ host: 'x', transport: 'udp', port: 70000 })).toThrow(/port 70000/);
    expect(() => new SyslogNotifier({ host: 'x', transport: 'udp', facility: 99 })).toThrow(/facility 99/);
    expect(() => new SyslogNotifier({ host: 'x', transport: 'udp', maxBytes: 10 })).toThrow(/480/);
    expect(new SyslogNotifier({ host: '::1', transport: 'tls' }).target).toBe('tls://[::1]:6514');
  });
});
