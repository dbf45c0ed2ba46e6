/**
 * brute_force, connection_flood and traffic_anomaly on REAL captures from the shared corpus
 * (../shared/pcaps): each attack capture raises the alert its upstream ground truth describes,
 * with the right attacker and victim, and the benign captures raise nothing above `low`.
 */

import { describe, expect, it } from 'vitest';
import { analyzeCapture } from '../src/analyze/analyze-capture.js';
import { severityRank, type Alert, type AlertType } from '../src/alerts/alert.js';
import { benignSiteCapture } from './helpers/benign-traffic.js';
import { corpusAvailable, corpusPath, readManifest, describeWithCorpus } from './helpers/corpus.js';

const MINE: readonly AlertType[] = ['brute_force', 'connection_flood', 'traffic_anomaly'];

interface Expected {
  file: string;
  /** Alerts that must be raised (type, attacker, victim when there is one). */
  raises: { type: AlertType; src: string; dst: string | null; summary?: RegExp }[];
  /** Types that must not be raised, with why. */
  silent: AlertType[];
  why: string;
}

const CASES: Expected[] = [
  {
    file: 'zeek/attacks/ssh__sshguess.pcap',
    raises: [{ type: 'brute_force', src: '192.168.56.1', dst: '192.168.56.103', summary: /SSH/ }],
    silent: ['connection_flood', 'traffic_anomaly'],
    why: 'Zeek notice.log: "192.168.56.1 appears to be guessing SSH passwords (seen in 10 connections)", 11 connections in 70 s',
  },
  {
    file: 'zeek/attacks/ftp__bruteforce.pcap',
    raises: [{ type: 'brute_force', src: '192.168.56.1', dst: '192.168.56.101', summary: /FTP/ }],
    silent: ['connection_flood', 'traffic_anomaly'],
    why: 'Zeek notice.log: "192.168.56.1 had 20 failed logins on 1 FTP server in 0m37s", 30 connections in 59 s',
  },
  {
    file: 'suricata-verify/attacks/firewall__tcp-session-syn-flood-drop-precedence__input.pcap',
    raises: [{ type: 'connection_flood', src: '192.0.2.10', dst: null }],
    silent: ['brute_force', 'traffic_anomaly'],
    // Its rule is exactly a per-source new-connection rate: "flow_start ... flags:S;
    // detection_filter: track by_src, count 100, seconds 1". 200 SYNs that each open a connection
    // in 0.2 s from one source are a connection flood (and a syn_flood for that detector).
    why: 'suricata-verify: drop after 100 new flows a second from one source; 200 SYNs from 192.0.2.10 in 0.2 s',
  },
  {
    file: 'Pcaphunt/attacks/ps-tcp_syn.pcap',
    raises: [{ type: 'connection_flood', src: '10.0.0.140', dst: null }],
    silent: ['brute_force', 'traffic_anomaly'],
    // A SYN scan is port_scan's; connection_flood firing too is right: 4,993 connection attempts in
    // 6 s from one source is what the detector measures, whatever their purpose.
    why: 'Pcaphunt SYN port scan: 4,993 SYNs from 10.0.0.140 to 1,000 ports in 6 s',
  },
  {
    file: 'nDPI/attacks/synscan.pcap',
    raises: [{ type: 'connection_flood', src: '172.16.0.8', dst: null }],
    silent: ['brute_force', 'traffic_anomaly'],
    why: 'nDPI synscan: 1,994 SYNs from 172.16.0.8 to 1,002 ports in 23 s (a scan, and > 100 connections a minute)',
  },
  {
    file: 'Pcaphunt/attacks/hs-tcp_synPingSweepRand.pcapng',
    raises: [{ type: 'connection_flood', src: '10.0.0.128', dst: null }],
    silent: ['brute_force', 'traffic_anomaly'],
    why: 'Pcaphunt TCP SYN ping sweep: 511 SYNs from 10.0.0.128 to 256 hosts in 1.8 s',
  },
  {
    file: 'StopDDoS-packet-captures/attacks/pkt.TCP.synflood.spoofed.pcap',
    raises: [],
    silent: MINE.slice(),
    // syn_flood's and ddos's attack: connection_flood is per source and no single source is fast.
    why: 'spoofed SYN flood: 37,623 sources with at most 2 SYNs each, so no one source floods',
  },
  {
    file: 'Pcaphunt/attacks/ps-tcp_ack.pcap',
    raises: [],
    silent: MINE.slice(),
    why: 'ACK scan: no SYN, so no connection is opened (port_scan territory only)',
  },
  {
    file: 'nDPI/attacks/ftp_failed.pcap',
    raises: [],
    silent: MINE.slice(),
    why: 'one failed FTP login in one connection: a mistyped password is not brute force',
  },
  {
    file: 'zeek/attacks/postgresql__psql-login-fail.pcap',
    raises: [],
    silent: MINE.slice(),
    why: 'one failed PostgreSQL login',
  },
  {
    file: 'zeek/attacks/mysql__mysql8-navicat-login-failed.pcap',
    raises: [],
    silent: MINE.slice(),
    why: 'one failed MySQL login',
  },
];

function mine(alerts: readonly Alert[]): Alert[] {
  return alerts.filter((a) => MINE.includes(a.type));
}

describeWithCorpus('brute force, connection flood and anomalies on real captures', () => {
  it.each(CASES)('$file ($why)', async (c) => {
    const report = await analyzeCapture(corpusPath(c.file));
    const alerts = mine(report.alerts);
    for (const want of c.raises) {
      const got = alerts.filter((a) => a.type === want.type && a.src === want.src);
      expect(got, `${want.type} from ${want.src}`).toHaveLength(1);
      const a = got[0]!;
      expect(a.dst).toBe(want.dst);
      if (want.summary) expect(a.summary).toMatch(want.summary);
      // Floods start with their evidence: within 2 s of the capture's first packet here.
      if (want.type === 'connection_flood') expect(a.start - report.firstSeen!).toBeLessThanOrEqual(2e6);
    }
    for (const type of c.silent) expect(alerts.filter((a) => a.type === type)).toEqual([]);
    // Nothing from these detectors about anyone else.
    const others = alerts.filter((a) => !c.raises.some((w) => w.type === a.type && w.src === a.src));
    expect(others).toEqual([]);
  });

  it('no capture in the corpus raises a traffic anomaly (all are shorter than the 5-minute warm-up or steady)', async () => {
    // The long ones are the real test: icmp-tunnel (19 min), rpc-portmap (25 min), amp.TCP.syn (14 min).
    for (const file of [
      'nDPI/attacks/icmp-tunnel.pcap',
      'zeek/attacks/rpc-portmap-sadmind.pcap',
      'StopDDoS-packet-captures/attacks/amp.TCP.syn.optionallyACK.optionallysamePort.pcapng',
    ]) {
      const report = await analyzeCapture(corpusPath(file));
      expect(
        mine(report.alerts).filter((a) => a.type === 'traffic_anomaly'),
        file,
      ).toEqual([]);
    }
  });

  // Every benign protocol capture: nothing above `low` from these detectors. No exceptions needed
  // (checked: none of the 63 raises anything at all from them).
  const protocols = corpusAvailable ? readManifest().filter((r) => r.category === 'protocols') : [];
  it.each(protocols.map((r) => r.local_file))('raises nothing above low on %s', async (file) => {
    const report = await analyzeCapture(corpusPath(file)).catch(() => null);
    if (!report) return; // unreadable captures are corpus-robustness's business
    const loud = mine(report.alerts).filter((a) => severityRank(a.severity) > severityRank('low'));
    expect(loud.map((a) => a.summary)).toEqual([]);
  });
});

describe('benign synthetic site traffic', () => {
  it('raises nothing above low (mixed traffic with 5% rejected or unanswered SYNs)', async () => {
    const report = await analyzeCapture(benignSiteCapture());
    const loud = mine(report.alerts).filter((a) => severityRank(a.severity) > severityRank('low'));
    expect(loud.map((a) => a.summary)).toEqual([]);
  });
});
