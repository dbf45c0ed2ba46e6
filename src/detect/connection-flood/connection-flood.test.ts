import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeCapture } from '../../analyze/analyze-capture.js';
import { ethernet, ipv4, ipv4Tcp, pcapFile, type PcapRecord } from '../../../test/helpers/pcap-builder.js';
import type { AlertTracker } from '../../alerts/alert-tracker.js';
import type { AlertReport } from '../../alerts/alert.js';
import { IpProto, TcpFlag } from '../../decode/packet-decoder.js';
import type { PacketEvent } from '../detector.js';
import { ConnectionFloodDetector, connectionFloodFactory } from './connection-flood.js';

const dir = mkdtempSync(join(tmpdir(), 'flowtrack-connection-flood-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = 1_700_000_000;
const ATTACKER = ipv4('203.0.113.5');

/** `count` SYNs from ATTACKER spread evenly over `seconds`, each a new connection (new source port). */
function synRecords(count: number, seconds: number, firstPort = 10_000): PcapRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const at = (i * seconds) / count;
    return {
      sec: T0 + Math.floor(at),
      frac: Math.round((at % 1) * 1e6),
      data: ethernet(
        ipv4Tcp({ src: ATTACKER, dst: ipv4('198.51.100.7'), srcPort: firstPort + i, dstPort: 80 + (i % 50) }),
      ),
    };
  });
}

async function floodAlerts(records: PcapRecord[], name: string) {
  const path = join(dir, name);
  writeFileSync(path, pcapFile(records));
  const report = await analyzeCapture(path);
  return report.alerts.filter((a) => a.type === 'connection_flood');
}

describe('connection_flood', () => {
  it('alerts within 2 s when one source opens more than 100 connections a minute', async () => {
    // 300 connections in 60 s: 5 a second, the 101st comes at 20 s.
    const alerts = await floodAlerts(synRecords(300, 60), 'flood.pcap');
    expect(alerts).toHaveLength(1);
    const a = alerts[0]!;
    expect(a.src).toBe('203.0.113.5');
    expect(a.counters['newConnections']).toBe(300);
    expect(a.start).toBe(T0 * 1e6);
    expect(a.evidence.thresholds[0]!.threshold).toBe(100);
    expect(a.summary).toMatch(/203\.0\.113\.5 opened 300 new TCP connections/);
    // Cut the capture 2 s after the 101st connection (at 20 s): the alert is already there; cut
    // at the 100th, there is none.
    expect(await floodAlerts(synRecords(300, 60).slice(0, 101), 'crossing.pcap')).toHaveLength(1);
    expect(await floodAlerts(synRecords(300, 60).slice(0, 100), 'below.pcap')).toEqual([]);
  });

  it('stays quiet at 90 connections a minute, and a raised threshold silences a faster source', async () => {
    expect(await floodAlerts(synRecords(180, 120), 'slow.pcap')).toEqual([]);
    const path = join(dir, 'configured.pcap');
    writeFileSync(path, pcapFile(synRecords(300, 60)));
    const report = await analyzeCapture(path, { detection: { connection_flood: { perMinute: 400 } } });
    expect(report.alerts.filter((a) => a.type === 'connection_flood')).toEqual([]);
  });

  it('does not count retransmitted SYNs of one connection', async () => {
    // 200 copies of the same SYN (same ports, same sequence number) in 10 s: one connection.
    const records = synRecords(200, 10).map((r) => ({
      ...r,
      data: ethernet(ipv4Tcp({ src: ATTACKER, dst: ipv4('198.51.100.7'), srcPort: 40_000, dstPort: 22 })),
    }));
    expect(await floodAlerts(records, 'retransmits.pcap')).toEqual([]);
  });

  it('still finds the one flooding source among 60,000 spoofed ones with a 1,000-source table', async () => {
    // Memory is bounded by maxSources; the least recently active source is forgotten first, and
    // the flooder, active all the time, is never the least recent.
    const records: PcapRecord[] = [];
    for (let i = 0; i < 60_000; i++) {
      const at = i / 1000;
      const spoofed = ipv4('100.64.0.0') + i;
      const src = i % 100 === 0 ? ATTACKER : spoofed; // 600 from the attacker in 60 s
      records.push({
        sec: T0 + Math.floor(at),
        frac: Math.round((at % 1) * 1e6),
        data: ethernet(
          ipv4Tcp({ src, dst: ipv4('198.51.100.7'), srcPort: 1024 + (i % 60_000), dstPort: 443 }),
        ),
      });
    }
    const path = join(dir, 'spoofed.pcap');
    writeFileSync(path, pcapFile(records));
    const report = await analyzeCapture(path, { detection: { connection_flood: { maxSources: 1000 } } });
    const alerts = report.alerts.filter((a) => a.type === 'connection_flood');
    expect(alerts.map((a) => a.src)).toEqual(['203.0.113.5']);
  });

  it('grades severity by how far above the threshold the rate is', async () => {
    const alerts = await floodAlerts(synRecords(3000, 30), 'heavy.pcap');
    expect(alerts[0]?.severity).toBe('high');
  });
});

describe('connection_flood admission filter', () => {
  const VICTIM = Uint32Array.of(ipv4('198.51.100.7'), 0, 0, 0);

  function detector(options: { maxSources?: number } = {}) {
    const reports: AlertReport[] = [];
    const alerts = { report: (r: AlertReport) => (reports.push(r), null) } as unknown as AlertTracker;
    const d = new ConnectionFloodDetector({ ...connectionFloodFactory.defaults, ...options }, alerts);
    const src = new Uint32Array(4);
    const packet = { ipVersion: 4, ipProto: IpProto.TCP, tcpFlags: TcpFlag.SYN, src, dst: VICTIM };
    const event = {
      packet,
      ts: 0,
      frameBytes: 54,
      flows: null,
      slot: 0,
      newFlow: true,
    } as unknown as PacketEvent;
    const syn = (from: number, at: number) => {
      src[0] = from;
      event.ts = at;
      d.onPacket(event);
    };
    return { d, reports, syn };
  }

  it('gives a spoofed flood of one-connection sources no table slot, and still alerts at the 101st connection', () => {
    const { d, reports, syn } = detector({ maxSources: 1000 });
    const t0 = T0 * 1e6;
    let attackerSyns = 0;
    let crossedAt = 0;
    // 200,000 new sources in 2 s (one SYN each), and ATTACKER every 1,000th packet: 200 SYNs.
    for (let i = 0; i < 200_000; i++) {
      const at = t0 + i * 10;
      if (i % 1000 === 500) {
        syn(ATTACKER, at);
        if (++attackerSyns === 101) crossedAt = at;
      } else {
        syn(ipv4('100.64.0.0') + i, at);
      }
      if (i === 100_000) expect(d.trackedSources).toBe(1);
    }
    expect(d.trackedSources).toBe(1);
    expect(reports.length).toBeGreaterThan(0);
    const first = reports[0]!;
    expect(first.src).toBe('203.0.113.5');
    expect(first.at).toBe(crossedAt);
    expect(first.startedAt).toBe(t0 + 5000);
    expect(first.counters['newConnections']).toBe(101);
    expect(reports.every((r) => r.src === '203.0.113.5')).toBe(true);
  });

  it('counts the connections a source made before admission, so 100 stay quiet and 101 alert', () => {
    const { d, reports, syn } = detector();
    const t0 = T0 * 1e6;
    for (let i = 0; i < 100; i++) syn(ATTACKER, t0 + i * 500_000);
    expect(reports).toEqual([]);
    expect(d.trackedSources).toBe(1);
    syn(ATTACKER, t0 + 100 * 500_000);
    expect(reports.map((r) => r.counters['newConnections'])).toEqual([101]);
  });

  it('never admits a source below 8 connections across its two windows', () => {
    const { d, syn } = detector();
    const t0 = T0 * 1e6;
    // 3 connections a minute for 10 minutes: previous + current never reach 8.
    for (let i = 0; i < 30; i++) syn(ATTACKER, t0 + i * 20_000_001);
    expect(d.trackedSources).toBe(0);
    // A fourth a minute does (4 + 4).
    for (let i = 0; i < 8; i++) syn(ATTACKER, t0 + 700e6 + i * 15_000_001);
    expect(d.trackedSources).toBe(1);
  });
});
