/** How the Scanner pages order and word scans: risks, durations, ports, the list's filter and pace. */

import { describe, expect, it } from 'vitest';
import {
  formatScanDuration,
  hostsUp,
  isOnLocalHost,
  listRefreshMs,
  notShownText,
  portDetails,
  readStatusFilter,
  reportRefreshMs,
  requestSummary,
  riskRank,
  scanDuration,
  scanListPath,
  scanPath,
  sortFindings,
  splitFindings,
  targetsText,
} from './scan-format';
import type { Finding, HostReport, Risk, ScanRecord, ScanStatus } from './scan-types';

function finding(risk: Risk, port: number, address = '192.0.2.7'): Finding {
  return {
    address,
    protocol: 'tcp',
    port,
    service: 'svc',
    risk,
    ruleId: `rule-${port}`,
    title: `port ${port}`,
    why: 'why',
    fix: 'fix',
  };
}

function host(address: string, overrides: Partial<HostReport> = {}): HostReport {
  return { address, up: true, local: false, ports: [], notShown: [], ...overrides };
}

function scan(status: ScanStatus, overrides: Partial<ScanRecord> = {}): ScanRecord {
  return {
    id: '0f8e2c1a-5b6d-4e7f-8a9b-0c1d2e3f4a5b',
    requestedBy: 'ada',
    schedule: null,
    targets: ['127.0.0.1'],
    request: {},
    baselineKey: 'k',
    status,
    createdAt: 1_700_000_000_000,
    startedAt: null,
    finishedAt: null,
    error: null,
    openPorts: 0,
    findings: 0,
    maxRisk: null,
    unreadable: [],
    ...overrides,
  };
}

describe('scan findings', () => {
  it('ranks risks from info to critical, an unknown one as info', () => {
    expect(['info', 'low', 'medium', 'high', 'critical'].map(riskRank)).toEqual([0, 1, 2, 3, 4]);
    expect(riskRank('catastrophic')).toBe(0);
  });

  it("puts the most serious first and keeps the server's order within one risk", () => {
    const sorted = sortFindings([
      finding('low', 22),
      finding('critical', 6379),
      finding('low', 21),
      finding('high', 445),
    ]);
    expect(sorted.map((f) => f.port)).toEqual([6379, 445, 22, 21]);
  });

  it('sets the informational findings apart from those to look at', () => {
    const { worth, info } = splitFindings([
      finding('info', 443),
      finding('medium', 161),
      finding('critical', 23),
    ]);
    expect(worth.map((f) => f.port)).toEqual([23, 161]);
    expect(info.map((f) => f.port)).toEqual([443]);
  });

  it("offers to close a port only on the server's own addresses", () => {
    const hosts = [host('127.0.0.1', { local: true }), host('192.0.2.7')];
    expect(isOnLocalHost(finding('high', 6379, '127.0.0.1'), hosts)).toBe(true);
    expect(isOnLocalHost(finding('high', 6379, '192.0.2.7'), hosts)).toBe(false);
    expect(isOnLocalHost(finding('high', 6379, '198.51.100.1'), hosts)).toBe(false);
  });
});

describe('scan ports and hosts', () => {
  it('shows product and version, else the banner, else nothing', () => {
    expect(
      portDetails({ service: { name: 'ssh', product: 'OpenSSH', version: '9.6p1', banner: 'SSH-2.0-x' } }),
    ).toBe('OpenSSH 9.6p1');
    expect(portDetails({ service: { name: 'redis', product: 'Redis' } })).toBe('Redis');
    expect(portDetails({ service: { name: 'smtp', banner: '220 mail ESMTP' } })).toBe('220 mail ESMTP');
    expect(portDetails({ service: { name: 'http' } })).toBe('');
    expect(portDetails({})).toBe('');
  });

  it("says what was counted rather than listed, as nmap's Not shown line", () => {
    expect(notShownText({ protocol: 'tcp', state: 'closed', count: 1019 })).toBe(
      'Not shown: 1,019 closed tcp ports',
    );
    expect(notShownText({ protocol: 'udp', state: 'open|filtered', count: 1 })).toBe(
      'Not shown: 1 open|filtered udp port',
    );
  });

  it('counts the hosts that answered', () => {
    expect(hostsUp({ hosts: [host('a'), host('b', { up: false }), host('c')] })).toBe(2);
  });

  it('shows the targets as one line, and says so when they could not be read', () => {
    expect(targetsText(['192.0.2.0/24', 'host.example.org'])).toBe('192.0.2.0/24, host.example.org');
    expect(targetsText([])).toBe('(unreadable)');
  });
});

describe('scan durations', () => {
  it('shows spans to the precision a reader needs', () => {
    expect(formatScanDuration(420)).toBe('0.4 s');
    expect(formatScanDuration(12_400)).toBe('12 s');
    expect(formatScanDuration(200_000)).toBe('3 min 20 s');
    expect(formatScanDuration(120_000)).toBe('2 min');
    expect(formatScanDuration(3_900_000)).toBe('1 h 5 min');
    expect(formatScanDuration(-1)).toBe('–');
  });

  it('is the time taken when ended, the time so far while running, nothing while queued', () => {
    const start = 1_700_000_000_000;
    expect(scanDuration(scan('queued'), start + 5000)).toBe('–');
    expect(scanDuration(scan('running', { startedAt: start }), start + 12_000)).toBe('12 s');
    expect(scanDuration(scan('done', { startedAt: start, finishedAt: start + 2500 }), start + 99_000)).toBe(
      '2.5 s',
    );
    // Cancelled while queued: it never started.
    expect(scanDuration(scan('cancelled', { finishedAt: start }), start)).toBe('–');
  });
});

describe('scan request', () => {
  it('says what was asked for from the request the server kept', () => {
    expect(
      requestSummary({
        ports: null,
        tcp: true,
        udp: false,
        engine: 'flowtrack',
        discovery: true,
        identify: true,
      }),
    ).toBe('the top TCP ports, engine flowtrack');
    expect(requestSummary({ ports: '1-1024', tcp: true, udp: true, engine: 'nmap', discovery: false })).toBe(
      'ports 1-1024 (TCP and UDP), engine nmap, every address (no discovery)',
    );
    expect(requestSummary({})).toBe('');
  });
});

describe('scan list', () => {
  it('reads the status filter from the URL, ignoring what is not a status', () => {
    expect(readStatusFilter(new URLSearchParams('status=running'))).toBe('running');
    expect(readStatusFilter(new URLSearchParams('status=bogus'))).toBeUndefined();
    expect(readStatusFilter(new URLSearchParams(''))).toBeUndefined();
  });

  it('asks for one page, filtered, from a cursor', () => {
    expect(scanListPath(undefined)).toBe('/api/scans?limit=25');
    expect(scanListPath('done', 'abc=')).toBe('/api/scans?status=done&limit=25&cursor=abc%3D');
    expect(scanPath('0f8e2c1a-5b6d-4e7f-8a9b-0c1d2e3f4a5b')).toBe(
      '/scans/0f8e2c1a-5b6d-4e7f-8a9b-0c1d2e3f4a5b',
    );
  });

  it('asks every 2 s while a scan on the page is on its way, else every 15 s', () => {
    expect(listRefreshMs({ items: [scan('done'), scan('running')], nextCursor: null })).toBe(2000);
    expect(listRefreshMs({ items: [scan('queued')], nextCursor: null })).toBe(2000);
    expect(
      listRefreshMs({ items: [scan('done'), scan('failed'), scan('cancelled')], nextCursor: null }),
    ).toBe(15_000);
    expect(listRefreshMs(undefined)).toBe(15_000);
  });

  it('follows one scan every second until it ends, then stops', () => {
    expect(reportRefreshMs(scan('queued'))).toBe(1000);
    expect(reportRefreshMs(scan('running'))).toBe(1000);
    for (const status of ['done', 'failed', 'cancelled'] as const)
      expect(reportRefreshMs(scan(status))).toBe(false);
    expect(reportRefreshMs(undefined)).toBe(5000);
  });
});
