/**
 * port_scan: one source probing many ports of one host (a vertical scan): TCP SYN, connect,
 * FIN/NULL/Xmas, ACK and other odd-flag scans, UDP scans, and IP protocol scans (nmap -sO, seen
 * from its probes or from the target's ICMP protocol-unreachable answers).
 *
 * Method: per (source, target host) the distinct ports whose first contact this source made, and a
 * Threshold Random Walk over those first contacts (Jung et al., IEEE S&P 2004; see
 * first-contact-table.ts): a port that answers (SYN-ACK, a UDP reply, any first answer that is not
 * a reset) is a success, one that resets, is unreachable or stays silent is a failure. An alert is
 * raised (low; medium at `mediumPorts`, high at `highPorts`) when at least `minPorts` distinct
 * ports were probed AND the walk says "scanner", or when `certainPorts` distinct ports were probed
 * whatever the answers. Probes are counted as they arrive and answers used as they come, so a fast
 * scan is reported within its first second.
 *
 * It must never flag a busy but legitimate client: many connections to one service are one port,
 * and a client whose connections to many ports are answered (passive FTP, RPC) walks towards
 * "benign". UDP traceroute's port range (33434-33534) is not counted: it is not a scan of its
 * target; nor are UDP datagrams from a service port to an ephemeral one whose request was not seen
 * (DNS or NTP answers, reflection backscatter).
 * No allocation per packet; state is bounded by `maxPairs` (LRU).
 */

import type { AlertReport, Severity } from '../../alerts/alert.js';
import type { AlertTracker } from '../../alerts/alert-tracker.js';
import { IpProto, TcpFlag, type PacketDecoder } from '../../decode/packet-decoder.js';
import type { FlowTable } from '../../flows/flow-table.js';
import { formatIp } from '../../util/ip-address.js';
import type { Detector, DetectorFactory, PacketEvent } from '../detector.js';
import { FirstContactTable } from './first-contact-table.js';
import { countText, isServerAnswer, secondsText } from './scan-text.js';
import { sampleFlowOf } from '../../alerts/sample-flow.js';
import { isGroupAddress } from '../../util/ip-address.js';
import { mix32 } from '../../util/hash.js';

export interface PortScanOptions {
  [option: string]: number;
  minPorts: number;
  mediumPorts: number;
  highPorts: number;
  certainPorts: number;
  evidenceSeconds: number;
  idleSeconds: number;
  benignSuccess: number;
  scannerSuccess: number;
  falseAlarm: number;
  detection: number;
  maxPairs: number;
}

/** Scan kinds, one bit each (a pair can show several). */
export const ScanKind = {
  SYN: 1,
  CONNECT: 2,
  FIN: 4,
  NULL: 8,
  XMAS: 16,
  ACK: 32,
  OTHER_TCP: 64,
  UDP: 128,
  IP_PROTOCOL: 256,
} as const;

const KIND_NAMES: readonly [number, string][] = [
  [ScanKind.CONNECT, 'connect'],
  [ScanKind.SYN, 'SYN'],
  [ScanKind.FIN, 'FIN'],
  [ScanKind.NULL, 'NULL'],
  [ScanKind.XMAS, 'Xmas'],
  [ScanKind.ACK, 'ACK'],
  [ScanKind.OTHER_TCP, 'odd-flag TCP'],
  [ScanKind.UDP, 'UDP'],
  [ScanKind.IP_PROTOCOL, 'IP protocol'],
];

/** "SYN scan", "SYN and UDP scan". A connect scan is a SYN scan whose handshakes completed. */
export function scanKindName(kinds: number): string {
  const k = kinds & ScanKind.CONNECT ? kinds & ~ScanKind.SYN : kinds;
  const names = KIND_NAMES.filter(([bit]) => k & bit).map(([, name]) => name);
  return `${names.length > 0 ? names.join(' and ') : 'port'} scan`;
}

const TCP_KINDS =
  ScanKind.SYN |
  ScanKind.CONNECT |
  ScanKind.FIN |
  ScanKind.NULL |
  ScanKind.XMAS |
  ScanKind.ACK |
  ScanKind.OTHER_TCP;

/** Probe target numbers: TCP port, UDP port, IP protocol, and one per protocol-unreachable. */
const UDP_TARGET = 0x10000;
const PROTOCOL_TARGET = 0x20000;
const UNREACHABLE_TARGET = 0x30000;

const FLAG_MASK = TcpFlag.FIN | TcpFlag.SYN | TcpFlag.RST | TcpFlag.PSH | TcpFlag.ACK | TcpFlag.URG;
const XMAS = TcpFlag.FIN | TcpFlag.PSH | TcpFlag.URG;
const REPORT_EVERY_MICROS = 1_000_000;
const SUSPECT_SIZE = 1 << 16;

/** A 16-bit hash of two addresses (4 words each, at `offset` in both arrays). */
function pairHash(a: ArrayLike<number>, b: ArrayLike<number>, offset: number): number {
  const x = a[offset]! ^ a[offset + 1]! ^ a[offset + 2]! ^ a[offset + 3]!;
  const y = b[offset]! ^ b[offset + 1]! ^ b[offset + 2]! ^ b[offset + 3]!;
  return mix32(x ^ mix32(y)) & (SUSPECT_SIZE - 1);
}

/** The scan kind of a flow's first TCP packet, 0 when it is not a probe (a reset, a SYN-ACK). */
function tcpProbeKind(flags: number): number {
  const f = flags & FLAG_MASK;
  if (f & TcpFlag.RST) return 0;
  if (f & TcpFlag.SYN) return f & TcpFlag.ACK ? 0 : ScanKind.SYN;
  if (f === 0) return ScanKind.NULL;
  if (f === TcpFlag.FIN) return ScanKind.FIN;
  if (f === XMAS) return ScanKind.XMAS;
  if (f === TcpFlag.ACK) return ScanKind.ACK;
  // Data mid-stream (ACK with PSH, FIN-ACK) is a flow whose start the capture missed.
  if (f & TcpFlag.ACK) return 0;
  return ScanKind.OTHER_TCP;
}

export class PortScanDetector implements Detector {
  readonly name = 'port_scan';
  private readonly table: FirstContactTable;
  /** Protocol-unreachable answers seen: each stands for a distinct probed protocol. */
  private unreachables = 0;
  /**
   * Pairs (by hash) that probed at least two ports: only their handshakes are looked up to tell a
   * connect scan, so an ordinary connection's third packet costs no table lookup.
   */
  private readonly suspects = new Uint8Array(SUSPECT_SIZE);

  constructor(
    private readonly options: PortScanOptions,
    private readonly alerts: AlertTracker,
  ) {
    this.table = new FirstContactTable(
      Math.max(16, Math.floor(options.maxPairs)),
      options,
      options.evidenceSeconds * 1e6,
      options.idleSeconds * 1e6,
    );
  }

  onPacket(event: PacketEvent): void {
    const p = event.packet;
    if (p.ipVersion === 0 || event.slot < 0) return;
    const proto = p.ipProto;
    // ICMP protocol unreachable (RFC 792). Not ICMPv6's "unrecognized next header" (RFC 4443): hosts
    // send it for any bad extension-header chain, so an extension-header DoS (suricata-verify's
    // denial6-5) would read as a protocol scan.
    if (proto === IpProto.ICMP && p.icmpType === 3 && p.icmpCode === 2) {
      this.protocolUnreachable(event);
      return;
    }
    if (event.newFlow) {
      this.firstPacket(event, proto);
      return;
    }
    const flows = event.flows;
    const slot = event.slot;
    // Only a flow's first answer decides its first contact; later packets cost one array read.
    if (flows.packetsBA[slot] === 1 && fromSide(flows, slot, p, false)) {
      if (proto === IpProto.TCP && p.tcpFlags & TcpFlag.RST) return;
      this.table.keys.setKey(p.ipVersion, flows.addrA, slot * 4, flows.addrB, slot * 4, 0);
      this.table.answerKey(probeTarget(proto, flows.portB[slot]!));
      return;
    }
    // The client's ACK that completes a handshake: a connect scan rather than a SYN scan.
    if (
      proto === IpProto.TCP &&
      (p.tcpFlags & FLAG_MASK) === TcpFlag.ACK &&
      flows.packetsAB[slot] === 2 &&
      flows.tcpFlagsAB[slot]! & TcpFlag.SYN &&
      flows.tcpFlagsBA[slot]! & TcpFlag.SYN &&
      this.suspects[pairHash(flows.addrA, flows.addrB, slot * 4)] === 1 &&
      fromSide(flows, slot, p, true)
    ) {
      const pair = this.findPair(p.ipVersion, flows, slot);
      if (pair >= 0 && this.table.kinds(pair) & ScanKind.SYN) this.table.addKind(pair, ScanKind.CONNECT);
    }
  }

  finish(): void {
    for (const slot of this.table.reported()) {
      if (this.table.probes(slot) !== this.table.reportedProbes(slot))
        this.report(slot, this.table.lastTs(slot), null);
    }
  }

  private firstPacket(event: PacketEvent, proto: number): void {
    const p = event.packet;
    let kind: number;
    let target: number;
    if (proto === IpProto.TCP) {
      if (!p.hasPorts) return;
      kind = tcpProbeKind(p.tcpFlags);
      target = p.dstPort;
    } else if (proto === IpProto.UDP) {
      if (!p.hasPorts || (p.dstPort >= 33434 && p.dstPort <= 33534) || isServerAnswer(p)) return;
      kind = ScanKind.UDP;
      target = UDP_TARGET | p.dstPort;
    } else if (proto === IpProto.ICMP || proto === IpProto.ICMPV6) {
      return;
    } else {
      kind = ScanKind.IP_PROTOCOL;
      target = PROTOCOL_TARGET | proto;
    }
    if (kind === 0 || isGroupAddress(p.ipVersion, p.dst)) return;
    const table = this.table;
    table.keys.setKey(p.ipVersion, p.src, 0, p.dst, 0, 0);
    const slot = table.probeKey(event.ts, target);
    if (slot >= 0) {
      table.addKind(slot, kind);
      if (table.distinct(slot) === 2) this.suspects[pairHash(p.src, p.dst, 0)] = 1;
      this.judge(slot, event);
    }
  }

  /** A protocol-unreachable answer from B to A: A probed an IP protocol B does not speak. */
  private protocolUnreachable(event: PacketEvent): void {
    const p = event.packet;
    const table = this.table;
    table.keys.setKey(p.ipVersion, p.dst, 0, p.src, 0, 0);
    // The answer does not say which protocol without its quoted header: count each one.
    const slot = table.probeKey(event.ts, UNREACHABLE_TARGET | (this.unreachables++ & 0xffff));
    if (slot >= 0) {
      table.addKind(slot, ScanKind.IP_PROTOCOL);
      this.judge(slot, event);
    }
  }

  private findPair(version: number, flows: FlowTable, slot: number): number {
    this.table.keys.setKey(version, flows.addrA, slot * 4, flows.addrB, slot * 4, 0);
    return this.table.keys.find();
  }

  private judge(slot: number, event: PacketEvent): void {
    const t = this.table;
    const o = this.options;
    if (t.reportedAt(slot) === 0) {
      const ports = t.estimate(slot);
      if ((ports >= o.minPorts && t.isScanner(slot)) || ports >= o.certainPorts)
        this.report(slot, event.ts, event);
    } else if (event.ts - t.reportedAt(slot) >= REPORT_EVERY_MICROS) {
      this.report(slot, event.ts, event);
    }
  }

  private report(slot: number, at: number, event: PacketEvent | null): void {
    const t = this.table;
    const report = portScanReport(t, slot, at, this.options);
    if (event && t.reportedAt(slot) === 0) report.sampleFlows = [sampleFlowOf(event.flows, event.slot)];
    t.markReported(slot, at);
    this.alerts.report(report);
  }
}

/** Scratch for the addresses of a report's key. */
const reportWords = new Uint32Array(8);

/**
 * The port_scan report of `slot` of `t` at `at`: type, severity, summary and thresholds, worded
 * the same for the packet detector and the flow-record one (record-port-scan.ts), which passes
 * `via` ("seen in flow records") to end the summary's parenthesis. The caller adds sample flows.
 */
export function portScanReport(
  t: FirstContactTable,
  slot: number,
  at: number,
  o: PortScanOptions,
  via?: string,
): AlertReport {
  const keys = t.keys;
  const version = keys.keyWord(slot, 0) >>> 16;
  for (let i = 0; i < 8; i++) reportWords[i] = keys.keyWord(slot, i + 1);
  const src = formatIp(version, reportWords, 0);
  const dst = formatIp(version, reportWords, 4);
  const ports = t.estimate(slot);
  const kinds = t.kinds(slot);
  const answered = t.answered(slot);
  const what =
    kinds === ScanKind.IP_PROTOCOL
      ? 'IP protocols'
      : kinds & TCP_KINDS && kinds & ScanKind.UDP
        ? 'TCP and UDP ports'
        : kinds & ScanKind.UDP
          ? 'UDP ports'
          : 'TCP ports';
  const answerWord = kinds & (ScanKind.SYN | ScanKind.CONNECT | ScanKind.UDP) ? 'open' : 'answered';
  const seconds = secondsText(at - t.firstTs(slot));
  const severity: Severity = ports >= o.highPorts ? 'high' : ports >= o.mediumPorts ? 'medium' : 'low';
  const note = via === undefined ? '' : `; ${via}`;
  return {
    type: 'port_scan',
    severity,
    src,
    dst,
    at,
    startedAt: t.firstTs(slot),
    counters: { ports, probes: t.probes(slot), answered },
    summary: `${src} probed ${countText(ports, t.isExact(slot))} ${what} on ${dst} in ${seconds} s (${scanKindName(kinds)}; ${answered.toLocaleString('en-US')} ${answerWord}${note})`,
    thresholds: [
      { metric: 'distinct_ports', value: ports, threshold: o.minPorts },
      {
        metric: 'trw_log_likelihood_ratio',
        value: Math.round(t.llr(slot) * 100) / 100,
        threshold: Math.round(t.upper * 100) / 100,
      },
    ],
  };
}

/** True when the packet was sent by the flow's client (A) when `client`, else by its server (B). */
export function fromSide(flows: FlowTable, slot: number, p: PacketDecoder, client: boolean): boolean {
  const addr = client ? flows.addrA : flows.addrB;
  const base = slot * 4;
  const s = p.src;
  return addr[base] === s[0] && addr[base + 1] === s[1] && addr[base + 2] === s[2] && addr[base + 3] === s[3];
}

function probeTarget(proto: number, port: number): number {
  if (proto === IpProto.TCP) return port;
  if (proto === IpProto.UDP) return UDP_TARGET | port;
  return PROTOCOL_TARGET | proto;
}

export const portScanFactory: DetectorFactory<PortScanOptions> = {
  name: 'port_scan',
  description:
    'One source probing many ports (or IP protocols) of one host: SYN, connect, FIN/NULL/Xmas, ACK, UDP and IP protocol scans, judged by a Threshold Random Walk over first contacts.',
  defaults: {
    minPorts: 10,
    mediumPorts: 20,
    highPorts: 500,
    certainPorts: 2000,
    evidenceSeconds: 60,
    idleSeconds: 600,
    benignSuccess: 0.8,
    scannerSuccess: 0.2,
    falseAlarm: 0.01,
    detection: 0.99,
    maxPairs: 8192,
  },
  help: {
    minPorts:
      'Distinct ports of one host a source must probe before the walk can call it a scan; low severity (10: rate-limited nmap UDP scans reach it within 2 s, and 10 unanswered first contacts put the walk far past its threshold).',
    mediumPorts:
      'Distinct ports at which the scan is medium severity (20: more than any common multi-port service such as FTP, mail or a browser uses; nmap --top-ports 100 is well above it).',
    highPorts:
      'Distinct ports at which the scan is high severity (500: half of nmap’s default 1,000-port scan, so the estimate’s 1-2% error cannot drop a full default scan below it).',
    certainPorts:
      'Distinct ports that make a scan whatever the answers (2000: no legitimate client opens that many ports of one host within the window).',
    evidenceSeconds:
      'The first ports of a scan must be probed within this time, else the (source, host) pair starts over (60 s: nmap at its default timing, and at -T2, probes far faster; a host that meets a few new ports an hour never adds up to a scan).',
    idleSeconds:
      'A reported scan quiet this long has ended; a later one is a new scan (600 s: longer than nmap’s retransmission back-off).',
    benignSuccess: 'TRW theta0: probability that a benign first contact is answered (0.8, Jung et al. 2004).',
    scannerSuccess:
      'TRW theta1: probability that a scanner’s first contact is answered (0.2, Jung et al. 2004).',
    falseAlarm: 'TRW alpha, the false-alarm rate the walk aims at (0.01, Jung et al. 2004).',
    detection: 'TRW beta, the detection rate the walk aims at (0.99, Jung et al. 2004).',
    maxPairs:
      '(source, host) pairs tracked at once, least recently active evicted first (8192: about 6 MB of bitmaps and counters, beside a fixed 256 KB first-target filter; a spoofed flood cannot grow it).',
  },
  create: (options, alerts) => new PortScanDetector(options, alerts),
};
