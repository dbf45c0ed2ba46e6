/**
 * The flood detectors (syn_flood, volume_flood, amplification) on real captures of the shared
 * corpus: each attack file raises the alert its ground truth names (type, and the victim or the
 * single attacker), starting at the attack's first packet, and nothing else of these types; every
 * `protocols` capture raises nothing above `low` from them. (The 2,000,000-source spoofed SYN
 * flood is in bounded-memory.test.ts.)
 * Ground truth: StopDDoS file names + README (groundtruth/README.md), ATTACK_STATS.tsv, the
 * suricata-verify test.yaml files, nDPI's .out.
 */

import { describe, expect, it } from 'vitest';
import { analyzeCapture } from '../src/analyze/analyze-capture.js';
import { severityRank, type Alert, type AlertType, type Severity } from '../src/alerts/alert.js';
import { AlertTracker } from '../src/alerts/alert-tracker.js';
import { readCapture } from '../src/capture/capture-file.js';
import { PacketDecoder } from '../src/decode/packet-decoder.js';
import { amplificationFactory } from '../src/detect/amplification/amplification.js';
import { DetectionEngine } from '../src/detect/detection-engine.js';
import type { DetectorFactory, PacketEvent } from '../src/detect/detector.js';
import { synFloodFactory } from '../src/detect/syn-flood/syn-flood.js';
import { volumeFloodFactory } from '../src/detect/volume-flood/volume-flood.js';
import { FlowTable } from '../src/flows/flow-table.js';
import { benignSiteCapture } from './helpers/benign-traffic.js';
import { corpusAvailable, corpusPath, readManifest, describeWithCorpus } from './helpers/corpus.js';

const FLOOD_TYPES: readonly AlertType[] = ['syn_flood', 'ddos', 'udp_flood', 'icmp_flood', 'amplification'];

function floodAlerts(alerts: readonly Alert[]): Alert[] {
  return alerts.filter((a) => FLOOD_TYPES.includes(a.type));
}

interface Expected {
  file: string;
  /** The one flood alert expected; null: none of these types. */
  alert: {
    type: AlertType;
    src: string | null;
    dst: string;
    minSources?: number;
    /** Default: at least medium. */
    severity?: Severity;
  } | null;
  /** The detection latency allowed (2 s for floods). */
  detectedWithinSeconds?: number;
  why: string;
  /** Seconds from the capture's first packet to the attack's first (tshark), when not 0. */
  attackStartsAt?: number;
}

/**
 * Replays `path` through the flood detectors alone, as analyzeCapture wires them, and returns the
 * packet time at which each alert (by id) was first raised: the detection latency.
 */
async function firstRaised(path: string): Promise<{ first: number; raised: Map<string, number> }> {
  const raised = new Map<string, number>();
  const decoder = new PacketDecoder();
  let now = 0;
  let first = Infinity;
  const tracker = new AlertTracker({}, (alert, isNew) => {
    if (isNew) raised.set(alert.id, now);
  });
  const engine = new DetectionEngine(
    [synFloodFactory, volumeFloodFactory, amplificationFactory].map((f) =>
      (f as DetectorFactory).create({ ...f.defaults }, tracker),
    ),
  );
  const table = new FlowTable({}, (t, slot, reason) => engine.onFlowEnd(t, slot, reason));
  const event: PacketEvent = {
    packet: decoder,
    ts: 0,
    frameBytes: 0,
    flows: table,
    slot: -1,
    newFlow: false,
  };
  await readCapture(path, (pkt) => {
    decoder.decode(pkt.linkType, pkt.data, pkt.offset, pkt.capLen);
    now = pkt.tsMicros;
    if (now < first) first = now;
    const created = table.flowsCreated;
    event.slot = decoder.ipVersion !== 0 ? table.add(decoder, now, pkt.origLen) : -1;
    event.ts = now;
    event.frameBytes = pkt.origLen;
    event.newFlow = table.flowsCreated !== created;
    engine.onPacket(event);
  });
  engine.finish(table.now);
  return { first, raised };
}

const ATTACKS: Expected[] = [
  {
    file: 'StopDDoS-packet-captures/attacks/pkt.TCP.synflood.spoofed.pcap',
    alert: { type: 'ddos', src: null, dst: '10.10.10.10', minSources: 30_000 },
    why: '37,841 SYNs from 37,623 spoofed sources to 10.10.10.10:25565',
  },
  {
    file: 'StopDDoS-packet-captures/attacks/pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng',
    alert: { type: 'ddos', src: null, dst: '10.10.10.10', minSources: 7_000 },
    why: '9,639 SYNs from ~9.7k sources, after 34 s of stray RSTs',
    attackStartsAt: 33.829833,
  },
  {
    file: 'StopDDoS-packet-captures/attacks/amp.TCP.reflection.SYNACK.pcap',
    alert: { type: 'amplification', src: null, dst: '10.10.10.10', minSources: 5_000 },
    why: 'SYN-ACKs from ~7k reflectors that 10.10.10.10 never sent SYNs to',
  },
  {
    file: 'StopDDoS-packet-captures/attacks/amp.UDP.snmp.src161.pcapng',
    alert: { type: 'amplification', src: null, dst: '10.10.10.10', minSources: 3_000 },
    why: 'SNMP responses (source port 161) from ~4.3k reflectors',
  },
  {
    file: 'StopDDoS-packet-captures/attacks/amp.UDP.isakmp.pcap',
    alert: { type: 'amplification', src: null, dst: '10.10.10.10', minSources: 2_000 },
    why: 'ISAKMP NAT-T responses (source port 4500) from ~2.8k reflectors',
  },
  {
    file: 'StopDDoS-packet-captures/attacks/amp.UDP.bacnet.IOT.37810.pcapng',
    alert: { type: 'amplification', src: null, dst: '10.10.10.1', minSources: 4_000 },
    why: 'BACnet/47808 and Dahua/37810 responses from ~6.3k reflectors',
  },
  {
    file: 'StopDDoS-packet-captures/attacks/amp.dns.RRSIG.fragmented.pcap',
    alert: { type: 'amplification', src: null, dst: '10.10.10.10', minSources: 20 },
    why: 'fragmented DNSSEC RRSIG responses; the background TCP is not an attack',
  },
  {
    file: 'StopDDoS-packet-captures/attacks/amp.TCP.syn.optionallyACK.optionallysamePort.pcapng',
    alert: { type: 'amplification', src: null, dst: '10.10.10.10', severity: 'low' },
    why:
      '896 packets over 818 s (1.1/s), far below any flood rate, but reflectors keep retransmitting ' +
      'SYN-ACKs (one 396 times) that 10.10.10.10 never answers: slow SYN-ACK reflection',
    detectedWithinSeconds: 30,
  },
  {
    file: 'suricata-verify/attacks/ipv6-evasion__ipv6-rsmurf__rsmurf6.pcap',
    alert: { type: 'icmp_flood', src: 'ff02::1', dst: 'ff02::1' },
    why: '1,000 ICMPv6 echo requests in 8 ms from one (forged) source',
  },
  {
    file: 'suricata-verify/attacks/firewall__tcp-session-syn-flood-drop-precedence__input.pcap',
    alert: { type: 'syn_flood', src: '192.0.2.10', dst: '198.51.100.5' },
    why: '200 SYNs at 1 ms spacing from one source',
  },
  {
    file: 'nDPI/attacks/NTPv2.pcap',
    alert: null,
    why: 'a single NTP monlist response is the vector, not a flood',
  },
  // Scans are the scan detectors': one source across many ports or hosts is not a flood.
  { file: 'Pcaphunt/attacks/ps-tcp_syn.pcap', alert: null, why: 'nmap SYN port scan of 3 hosts' },
  { file: 'nDPI/attacks/synscan.pcap', alert: null, why: 'nmap SYN scan of 1,002 ports' },
  { file: 'Pcaphunt/attacks/ps-udp.pcap', alert: null, why: 'nmap UDP port scan' },
  { file: 'Pcaphunt/attacks/hs-icmpScan.pcap', alert: null, why: 'ICMP ping sweep of a /24' },
];

describeWithCorpus('flood detectors on real attack captures', () => {
  it.each(ATTACKS)('$file', async ({ file, alert, why, attackStartsAt, detectedWithinSeconds }) => {
    const report = await analyzeCapture(corpusPath(file));
    const got = floodAlerts(report.alerts);
    if (!alert) {
      expect(
        got.map((a) => a.summary),
        why,
      ).toEqual([]);
      return;
    }
    expect(
      got.map((a) => `${a.type} ${a.src} -> ${a.dst}`),
      why,
    ).toEqual([`${alert.type} ${alert.src} -> ${alert.dst}`]);
    const a = got[0]!;
    if (alert.severity) expect(a.severity).toBe(alert.severity);
    else expect(severityRank(a.severity)).toBeGreaterThanOrEqual(severityRank('medium'));
    if (alert.minSources !== undefined) {
      const sources = a.counters.sources ?? a.counters.reflectors ?? 0;
      expect(sources).toBeGreaterThanOrEqual(alert.minSources);
      expect(a.evidence.topSources.length).toBeGreaterThan(0);
    }
    // The evidence starts at the attack's first packet, and the alert is raised within 2 s of it.
    const attackStart = report.firstSeen! + Math.round((attackStartsAt ?? 0) * 1e6);
    expect(Math.abs(a.start - attackStart)).toBeLessThan(1_000_000);
    const { raised } = await firstRaised(corpusPath(file));
    expect([...raised.values()].length).toBe(1);
    expect([...raised.values()][0]! - attackStart).toBeLessThan((detectedWithinSeconds ?? 2) * 1e6);
    expect(a.summary.length).toBeGreaterThan(20);
  });
});

/** Captures of ordinary protocols that may raise a flood alert above low, with the checked reason. */
const PROTOCOL_EXCEPTIONS: Record<string, string> = {};

describeWithCorpus('no flood false alarms on protocol captures', () => {
  const rows = corpusAvailable ? readManifest().filter((r) => r.category === 'protocols') : [];
  it('covers the protocol captures', () => {
    expect(rows.length).toBeGreaterThan(50);
  });
  it.each(rows.map((r) => r.local_file))('%s', async (file) => {
    const report = await analyzeCapture(corpusPath(file));
    const loud = floodAlerts(report.alerts).filter((a) => severityRank(a.severity) > severityRank('low'));
    if (PROTOCOL_EXCEPTIONS[file]) return;
    expect(loud.map((a) => `${a.type}: ${a.summary}`)).toEqual([]);
  });
});

describe('no flood false alarms on benign site traffic', () => {
  it('synthetic mixed traffic (5% unanswered SYNs over many hosts) raises nothing above low', async () => {
    const report = await analyzeCapture(benignSiteCapture());
    const loud = floodAlerts(report.alerts).filter((a) => severityRank(a.severity) > severityRank('low'));
    expect(loud.map((a) => `${a.type}: ${a.summary}`)).toEqual([]);
  }, 30_000);
});

// The spoofed 2,000,000-source SYN flood (one ddos alert, bounded memory) is in
// test/bounded-memory.test.ts, which runs it through the built CLI once for every check.
