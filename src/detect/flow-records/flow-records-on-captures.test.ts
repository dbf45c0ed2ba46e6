/**
 * The flow-record detectors on real captures from ../shared/pcaps: each capture is analysed by
 * FlowTrack's own pipeline (packet detectors on), its flows are turned into the one-way records a
 * router would export (records-of-flow.ts), and the records, in export order and again minutes out
 * of order, must raise the alerts the packet detectors raised on the same capture: same type,
 * attacker and victim, and a severity at most one step apart (rates measured per window from
 * records, not per packet). Ordinary protocol captures must raise nothing.
 */

import { expect, it } from 'vitest';
import { analyzeCapture } from '../../analyze/analyze-capture.js';
import { AlertTracker } from '../../alerts/alert-tracker.js';
import { severityRank, type Alert, type AlertType } from '../../alerts/alert.js';
import type { FlowRow } from '../../store/flow-repository.js';
import {
  corpusAvailable,
  corpusPath,
  describeWithCorpus,
  readManifest,
} from '../../../test/helpers/corpus.js';
import { randomAddresses } from '../../../test/helpers/detector-replay.js';
import { FlowRecordDetectors } from './flow-record-detectors.js';
import { recordsOfFlow } from './records-of-flow.js';

/** What flow records can show (ARP never reaches a router's records). */
const RECORD_TYPES: readonly AlertType[] = [
  'port_scan',
  'host_sweep',
  'brute_force',
  'syn_flood',
  'ddos',
  'udp_flood',
  'icmp_flood',
];

/** Attack captures and the attack in them (ground truth: corpus MANIFEST.tsv notes). */
const ATTACKS: { file: string; why: string }[] = [
  { file: 'nDPI/attacks/synscan.pcap', why: 'nmap SYN scan of 1,002 ports of scanme.nmap.org' },
  { file: 'Pcaphunt/attacks/ps-tcp_syn.pcap', why: 'nmap SYN scans of three hosts' },
  { file: 'Pcaphunt/attacks/ps-tcp_ack.pcap', why: 'nmap ACK scans of three hosts' },
  { file: 'Pcaphunt/attacks/ps-udp.pcap', why: 'nmap UDP scans of three hosts' },
  { file: 'Pcaphunt/attacks/hs-tcp_synPingSweepRand.pcapng', why: 'TCP SYN ping sweep of a /24 on port 80' },
  { file: 'Pcaphunt/attacks/hs-icmpScan.pcap', why: 'ICMP echo sweep of a /24' },
  { file: 'Pcaphunt/attacks/hs-udpScan.pcap', why: 'UDP sweep of a /24' },
  { file: 'zeek/attacks/ssh__sshguess.pcap', why: 'SSH password guessing' },
  { file: 'zeek/attacks/ftp__bruteforce.pcap', why: 'FTP brute force' },
  { file: 'StopDDoS-packet-captures/attacks/pkt.TCP.synflood.spoofed.pcap', why: 'spoofed SYN flood' },
  {
    file: 'StopDDoS-packet-captures/attacks/pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng',
    why: 'spoofed SYN+ECE+CWR flood',
  },
  {
    file: 'suricata-verify/attacks/firewall__tcp-session-syn-flood-drop-precedence__input.pcap',
    why: '200 SYNs at 1 ms spacing from one source',
  },
  { file: 'suricata-verify/attacks/ipv6-evasion__ipv6-rsmurf__rsmurf6.pcap', why: 'ICMPv6 echo flood' },
  {
    file: 'suricata-verify/attacks/dhcp-request-flood__test.pcap',
    why: '10,000 DHCP discovers at one instant',
  },
];

interface Outcome {
  records: Alert[];
  malformed: number;
}

/** One-way records of the capture's flows, and the packet detectors' alerts of RECORD_TYPES. */
async function recordsOf(file: string): Promise<{ rows: FlowRow[]; packetAlerts: Alert[] }> {
  const rows: FlowRow[] = [];
  const report = await analyzeCapture(corpusPath(file), {
    onFlow: (flow) => {
      rows.push(...recordsOfFlow(flow));
    },
  });
  return { rows, packetAlerts: report.alerts.filter((a) => RECORD_TYPES.includes(a.type)) };
}

/** Feeds the rows in the order of `arrival` (a router exports by end time; some come late). */
function detect(rows: readonly FlowRow[], arrival: (row: FlowRow, i: number) => number): Outcome {
  const order = rows.map((row, i) => ({ row, at: arrival(row, i) })).sort((a, b) => a.at - b.at);
  const tracker = new AlertTracker();
  const detectors = new FlowRecordDetectors(tracker);
  let end = 0;
  for (const { row } of order) {
    detectors.onFlow(row);
    end = Math.max(end, row.lastSeenUs);
  }
  detectors.finish(end);
  return { records: [...tracker.alerts()], malformed: detectors.stats().malformed };
}

const who = (a: Alert): string => `${a.type} ${a.src} -> ${a.dst}`;

describeWithCorpus('flow-record detectors on real attack captures', () => {
  it.each(ATTACKS)('$file ($why)', async ({ file }) => {
    const { rows, packetAlerts } = await recordsOf(file);
    expect(packetAlerts.length, 'the packet detectors find the attack').toBeGreaterThan(0);
    const expected = [...new Set(packetAlerts.map(who))].sort();
    // In export order, then with every record up to 90 s late.
    const lateness = randomAddresses(rows.length, 17);
    for (const arrival of [
      (row: FlowRow) => row.lastSeenUs,
      (row: FlowRow, i: number) => row.lastSeenUs + (lateness[i]! % 90_000_000),
    ]) {
      const outcome = detect(rows, arrival);
      expect(outcome.malformed).toBe(0);
      expect([...new Set(outcome.records.map(who))].sort()).toEqual(expected);
      for (const a of outcome.records) {
        const twin = packetAlerts.find((p) => who(p) === who(a))!;
        expect(
          Math.abs(severityRank(a.severity) - severityRank(twin.severity)),
          a.summary,
        ).toBeLessThanOrEqual(1);
        expect(a.summary).toMatch(/seen in flow records\)\.?$/);
      }
    }
  });
});

describeWithCorpus('no flow-record alerts on ordinary protocol captures', () => {
  const files = corpusAvailable ? readManifest().filter((r) => r.category === 'protocols') : [];
  it('covers the protocol captures', () => {
    expect(files.length).toBeGreaterThan(50);
  });
  it.each(files.map((r) => r.local_file))('%s', async (file) => {
    const { rows } = await recordsOf(file);
    const outcome = detect(rows, (row) => row.lastSeenUs);
    expect(outcome.records.map((a) => a.summary)).toEqual([]);
  });
});
