/**
 * host_sweep: one source probing one service across many hosts (a horizontal scan): TCP SYN (or
 * ACK) sweeps of a port, UDP sweeps of a port, ICMP echo (ping) sweeps and ARP sweeps.
 *
 * Method: per (source, service) the distinct hosts first contacted, and a Threshold Random Walk
 * over those first contacts (Jung, Paxson, Berger, Balakrishnan, IEEE S&P 2004; the paper's own
 * setting is exactly this one: a host that contacts many hosts of which few answer). A host that
 * answers (SYN-ACK, a UDP reply, an echo reply, an ARP reply) is a success; a reset, an ICMP error
 * or silence is a failure. An alert is raised (low; medium at `mediumHosts`, high at `highHosts`)
 * when `minHosts` distinct hosts were probed AND the walk says "scanner", or (when set)
 * `certainHosts` were probed whatever the answers. Probes are counted as they arrive, so a fast
 * sweep is reported within its first second. The evidence must gather within `evidenceSeconds`:
 * a sensor that sees only broadcast ARP never sees the (unicast) replies, so a host that slowly
 * refreshes its ARP cache must not add up to a sweep.
 *
 * It must never flag a busy but legitimate client: a browser, a mail relay or a resolver contacts
 * many hosts but most of them answer, which walks towards "benign". Multicast and broadcast
 * destinations, ARP probes (sender 0.0.0.0) and gratuitous ARP are not probes. Nor is a host that
 * resolves many neighbours at once and hears every answer a few milliseconds later (a server
 * answering 20 new clients at once broadcasts 20 ARP requests before the first reply): an ARP
 * sweep is judged only once its requests have had `ARP_GRACE_MICROS` to be answered.
 * No allocation per packet; state is bounded by `maxSources` (LRU).
 */

import type { AlertReport, Severity } from '../../alerts/alert.js';
import type { AlertTracker } from '../../alerts/alert-tracker.js';
import { IpProto, TcpFlag, type PacketDecoder } from '../../decode/packet-decoder.js';
import { formatIp, formatIpv4 } from '../../util/ip-address.js';
import type { Detector, DetectorFactory, PacketEvent } from '../detector.js';
import { FirstContactTable } from '../port-scan/first-contact-table.js';
import { fromSide } from '../port-scan/port-scan.js';
import { countText, isServerAnswer, secondsText } from '../port-scan/scan-text.js';
import { sampleFlowOf } from '../../alerts/sample-flow.js';
import { isGroupAddress } from '../../util/ip-address.js';
import { mix32 } from '../../util/hash.js';

export interface HostSweepOptions {
  [option: string]: number;
  minHosts: number;
  mediumHosts: number;
  highHosts: number;
  certainHosts: number;
  evidenceSeconds: number;
  idleSeconds: number;
  benignSuccess: number;
  scannerSuccess: number;
  falseAlarm: number;
  detection: number;
  maxSources: number;
}

/** The swept service, kept in the key's version word beside the IP version. */
export const Service = { TCP: 1, UDP: 2, ICMP_ECHO: 3, ARP: 4 } as const;

const REPORT_EVERY_MICROS = 1_000_000;
/**
 * An ARP request counts as unanswered only this long after it was sent (150 ms: a LAN neighbour
 * answers within milliseconds; an nmap ARP sweep is still reported well within 2 s).
 */
const ARP_GRACE_MICROS = 150_000;
/** ARP sweeps awaiting their grace time at once; beyond, a sweep is judged without it. */
const MAX_PENDING = 64;

/** One number per host address (IPv4 as is; IPv6 folded). */
function hostTarget(version: number, a: ArrayLike<number>, offset: number): number {
  if (version === 4) return a[offset]!;
  return mix32(a[offset]! ^ mix32(a[offset + 1]! ^ mix32(a[offset + 2]! ^ mix32(a[offset + 3]!))));
}

export class HostSweepDetector implements Detector {
  readonly name = 'host_sweep';
  private readonly table: FirstContactTable;
  private readonly arpAddress = new Uint32Array(4);
  /** ARP keys whose walk said "scanner", judged again at `pendingDue` (see ARP_GRACE_MICROS). */
  private readonly pendingSlot = new Int32Array(MAX_PENDING);
  private readonly pendingDue = new Float64Array(MAX_PENDING);
  /** The key's distinct targets when it became pending: later ones are still within their grace. */
  private readonly pendingDistinct = new Float64Array(MAX_PENDING);
  /** The key's first contact, to tell it from a key that took over an evicted slot since. */
  private readonly pendingFirstTs = new Float64Array(MAX_PENDING);
  private pendingCount = 0;
  private nextDue = Infinity;

  constructor(
    private readonly options: HostSweepOptions,
    private readonly alerts: AlertTracker,
  ) {
    this.table = new FirstContactTable(
      Math.max(16, Math.floor(options.maxSources)),
      options,
      options.evidenceSeconds * 1e6,
      options.idleSeconds * 1e6,
    );
  }

  onPacket(event: PacketEvent): void {
    const p = event.packet;
    if (event.ts >= this.nextDue) this.judgePending(event.ts);
    if (p.ipVersion === 0) {
      if (p.arpOp === 1 || p.arpOp === 2) this.arp(event, p);
      return;
    }
    if (event.slot < 0) return;
    const proto = p.ipProto;
    if (event.newFlow) {
      let service: number;
      let port = 0;
      if (proto === IpProto.TCP) {
        const f = p.tcpFlags;
        // Resets and SYN-ACKs answer someone else's probe; data mid-stream is a missed start.
        if (
          !p.hasPorts ||
          f & TcpFlag.RST ||
          (f & TcpFlag.ACK && f & (TcpFlag.SYN | TcpFlag.PSH | TcpFlag.FIN))
        )
          return;
        service = Service.TCP;
        port = p.dstPort;
      } else if (proto === IpProto.UDP) {
        if (!p.hasPorts || isServerAnswer(p)) return;
        service = Service.UDP;
        port = p.dstPort;
      } else if (
        (proto === IpProto.ICMP && p.icmpType === 8) ||
        (proto === IpProto.ICMPV6 && p.icmpType === 128)
      ) {
        service = Service.ICMP_ECHO;
      } else {
        return;
      }
      if (isGroupAddress(p.ipVersion, p.dst)) return;
      const t = this.table;
      t.keys.setKey(p.ipVersion | (service << 4), p.src, 0, null, 0, port);
      const slot = t.probeKey(event.ts, hostTarget(p.ipVersion, p.dst, 0));
      if (slot >= 0) this.judge(slot, event);
      return;
    }
    const flows = event.flows;
    const slot = event.slot;
    if (flows.packetsBA[slot] !== 1 || !fromSide(flows, slot, p, false)) return;
    let service: number;
    let port = 0;
    if (proto === IpProto.TCP) {
      if (p.tcpFlags & TcpFlag.RST) return;
      service = Service.TCP;
      port = flows.portB[slot]!;
    } else if (proto === IpProto.UDP) {
      service = Service.UDP;
      port = flows.portB[slot]!;
    } else if (
      (proto === IpProto.ICMP && p.icmpType === 0) ||
      (proto === IpProto.ICMPV6 && p.icmpType === 129)
    ) {
      service = Service.ICMP_ECHO;
    } else {
      return;
    }
    const t = this.table;
    t.keys.setKey(p.ipVersion | (service << 4), flows.addrA, slot * 4, null, 0, port);
    t.answerKey(hostTarget(p.ipVersion, p.src, 0));
  }

  onTick(now: number): void {
    if (now >= this.nextDue) this.judgePending(now);
  }

  finish(now: number): void {
    this.judgePending(Math.max(now, this.nextDue));
    for (const slot of this.table.reported()) {
      if (this.table.probes(slot) !== this.table.reportedProbes(slot))
        this.report(slot, this.table.lastTs(slot), null);
    }
  }

  /** ARP request: a probe of its target by its sender; ARP reply: the target answered. */
  private arp(event: PacketEvent, p: PacketDecoder): void {
    const sender = p.arpSenderIp;
    const target = p.arpTargetIp;
    if (sender === 0 || target === 0 || sender === target) return;
    const t = this.table;
    const a = this.arpAddress;
    if (p.arpOp === 1) {
      a[0] = sender;
      t.keys.setKey(4 | (Service.ARP << 4), a, 0, null, 0, 0);
      const slot = t.probeKey(event.ts, target);
      if (slot >= 0) this.judgeArp(slot, event);
    } else {
      a[0] = target;
      t.keys.setKey(4 | (Service.ARP << 4), a, 0, null, 0, 0);
      t.answerKey(sender);
    }
  }

  private judge(slot: number, event: PacketEvent): void {
    const t = this.table;
    const o = this.options;
    if (t.reportedAt(slot) === 0) {
      const hosts = t.estimate(slot);
      if ((hosts >= o.minHosts && t.isScanner(slot)) || (o.certainHosts > 0 && hosts >= o.certainHosts))
        this.report(slot, event.ts, event);
    } else if (event.ts - t.reportedAt(slot) >= REPORT_EVERY_MICROS) {
      this.report(slot, event.ts, event);
    }
  }

  /** judge() for an ARP key: a first report waits for the requests' grace time. */
  private judgeArp(slot: number, event: PacketEvent): void {
    const t = this.table;
    if (t.reportedAt(slot) !== 0 || this.pendingCount === MAX_PENDING) {
      this.judge(slot, event);
      return;
    }
    if (t.estimate(slot) < this.options.minHosts || !t.isScanner(slot)) return;
    for (let i = 0; i < this.pendingCount; i++) if (this.pendingSlot[i] === slot) return;
    const n = this.pendingCount++;
    this.pendingSlot[n] = slot;
    const due = event.ts + ARP_GRACE_MICROS;
    this.pendingDue[n] = due;
    this.pendingDistinct[n] = t.distinct(slot);
    this.pendingFirstTs[n] = t.firstTs(slot);
    if (due < this.nextDue) this.nextDue = due;
  }

  /**
   * Judges the pending ARP keys whose grace time is over, counting as failures only the requests
   * that were sent before the key became pending, so at least ARP_GRACE_MICROS ago.
   */
  private judgePending(now: number): void {
    const t = this.table;
    let next = Infinity;
    let kept = 0;
    for (let i = 0; i < this.pendingCount; i++) {
      const slot = this.pendingSlot[i]!;
      const due = this.pendingDue[i]!;
      if (due > now) {
        this.pendingSlot[kept] = slot;
        this.pendingDue[kept] = due;
        this.pendingDistinct[kept] = this.pendingDistinct[i]!;
        this.pendingFirstTs[kept] = this.pendingFirstTs[i]!;
        kept++;
        if (due < next) next = due;
        continue;
      }
      if (
        t.firstTs(slot) === this.pendingFirstTs[i] &&
        t.reportedAt(slot) === 0 &&
        t.isScannerBefore(slot, this.pendingDistinct[i]!)
      )
        this.report(slot, due, null);
    }
    this.pendingCount = kept;
    this.nextDue = next;
  }

  private report(slot: number, at: number, event: PacketEvent | null): void {
    const t = this.table;
    const report = hostSweepReport(t, slot, at, this.options);
    if (event && event.slot >= 0 && t.reportedAt(slot) === 0)
      report.sampleFlows = [sampleFlowOf(event.flows, event.slot)];
    t.markReported(slot, at);
    this.alerts.report(report);
  }
}

/** Scratch for the source address of a report's key. */
const reportWords = new Uint32Array(4);

/**
 * The host_sweep report of `slot` of `t` at `at`: type, severity, summary and thresholds, worded
 * the same for the packet detector and the flow-record one (record-host-sweep.ts), which passes
 * `via` ("seen in flow records") to end the summary's parenthesis. The caller adds sample flows.
 */
export function hostSweepReport(
  t: FirstContactTable,
  slot: number,
  at: number,
  o: HostSweepOptions,
  via?: string,
): AlertReport {
  const keys = t.keys;
  const k0 = keys.keyWord(slot, 0);
  const version = (k0 >>> 16) & 0xf;
  const service = k0 >>> 20;
  const port = k0 & 0xffff;
  for (let i = 0; i < 4; i++) reportWords[i] = keys.keyWord(slot, i + 1);
  const src = formatIp(version, reportWords, 0);
  const hosts = t.estimate(slot);
  const answered = t.answered(slot);
  const subnet =
    version === 4 && t.sameNet(slot) === 1
      ? `${formatIpv4((t.firstTarget(slot) & 0xffffff00) >>> 0)}/24`
      : null;
  const what =
    service === Service.TCP
      ? `TCP port ${port}`
      : service === Service.UDP
        ? `UDP port ${port}`
        : service === Service.ICMP_ECHO
          ? 'ICMP echo (ping)'
          : 'ARP';
  const severity: Severity = hosts >= o.highHosts ? 'high' : hosts >= o.mediumHosts ? 'medium' : 'low';
  const note = via === undefined ? '' : `; ${via}`;
  return {
    type: 'host_sweep',
    severity,
    src,
    dst: subnet,
    at,
    startedAt: t.firstTs(slot),
    counters: { hosts, probes: t.probes(slot), answered },
    summary: `${src} swept ${countText(hosts, t.isExact(slot))} hosts${subnet ? ` of ${subnet}` : ''} with ${what} in ${secondsText(at - t.firstTs(slot))} s (${answered.toLocaleString('en-US')} answered${note})`,
    thresholds: [
      { metric: 'distinct_hosts', value: hosts, threshold: o.minHosts },
      {
        metric: 'trw_log_likelihood_ratio',
        value: Math.round(t.llr(slot) * 100) / 100,
        threshold: Math.round(t.upper * 100) / 100,
      },
    ],
  };
}

export const hostSweepFactory: DetectorFactory<HostSweepOptions> = {
  name: 'host_sweep',
  description:
    'One source probing one service (a TCP or UDP port, ICMP echo, ARP) across many hosts, judged by a Threshold Random Walk over first contacts.',
  defaults: {
    minHosts: 8,
    mediumHosts: 20,
    highHosts: 1000,
    certainHosts: 0,
    evidenceSeconds: 60,
    idleSeconds: 600,
    benignSuccess: 0.8,
    scannerSuccess: 0.2,
    falseAlarm: 0.01,
    detection: 0.99,
    maxSources: 8192,
  },
  help: {
    minHosts:
      'Distinct hosts a source must probe on one service before the walk can call it a sweep; low severity (8: a slow nmap UDP sweep reaches it within 2 s, and 8 unanswered first contacts put the walk well past its threshold).',
    mediumHosts:
      'Distinct hosts at which the sweep is medium severity (20: a handful of dead peers is ordinary, a /24 sweep is 254).',
    highHosts:
      'Distinct hosts at which the sweep is high severity (1000: larger than a /24, e.g. a /16 sweep).',
    certainHosts:
      'Distinct hosts on one service that make a sweep whatever the answers; 0 never (0 by default: a busy proxy or mail relay contacts thousands of hosts on one port, and only the answers tell it from a sweep).',
    evidenceSeconds:
      'The first hosts of a scan must be probed within this time, else the (source, service) pair starts over (60 s: nmap at its default timing, and at -T2, probes far faster; a host that meets a few new hosts an hour never adds up to a scan).',
    idleSeconds:
      'A reported scan quiet this long has ended; a later one is a new scan (600 s: longer than nmap’s retransmission back-off).',
    benignSuccess: 'TRW theta0: probability that a benign first contact is answered (0.8, Jung et al. 2004).',
    scannerSuccess:
      'TRW theta1: probability that a scanner’s first contact is answered (0.2, Jung et al. 2004).',
    falseAlarm: 'TRW alpha, the false-alarm rate the walk aims at (0.01, Jung et al. 2004).',
    detection: 'TRW beta, the detection rate the walk aims at (0.99, Jung et al. 2004).',
    maxSources:
      '(source, service) pairs tracked at once, least recently active evicted first (8192: about 6 MB of bitmaps and counters, beside a fixed 256 KB first-target filter; a spoofed flood cannot grow it).',
  },
  create: (options, alerts) => new HostSweepDetector(options, alerts),
};
