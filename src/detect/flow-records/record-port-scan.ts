/**
 * port_scan from flow records: one source probing many ports (or IP protocols) of one host, judged
 * as the packet detector judges it (port-scan.ts: distinct first contacts per (source, host) and a
 * Threshold Random Walk over them, in the same FirstContactTable, with the same options and alert).
 *
 * What a record says about a probe: a TCP record with SYN and no ACK is a connection that never
 * completed (a SYN scan's probe, or a connect scan's refused one); with the sender's own RST after
 * the SYN ("SR") the port answered with SYN-ACK, which the scanner reset. A record of at most
 * PROBE_MAX_PACKETS packets of headers only without SYN is a FIN, NULL, Xmas, ACK or odd-flag
 * probe, unless it carries data (ACK with PSH or FIN: a flow whose start was exported earlier).
 * A UDP record is a probe unless it comes from a well-known port to an ephemeral one (a server's
 * answer), or goes to traceroute's ports; a record of another IP protocol probes that protocol.
 * Answers are the records the other way (a SYN-ACK, an ACK or data, a UDP reply, a reply of the
 * same protocol); either direction may be read first (see answer-memory.ts). A reset alone is no
 * answer, as in packets.
 * Completed TCP connections (SYN and ACK) are not probes, except one closed at once without data
 * (a connect scan's open port): a busy client's many connections to one host are not a scan, and
 * the server's side of each (its own SYN-ACK) cannot be told from the client's by its flags.
 *
 * Times are the records' first-seen times (when the probe was sent); out of order by minutes is
 * fine, as the table compares times only against its windows. Allocates nothing per record itself
 * (FirstContactTable.probeKey boxes its time argument: 16 bytes, as on the packet path).
 */

import type { AlertTracker } from '../../alerts/alert-tracker.js';
import { IpProto, TcpFlag } from '../../decode/packet-decoder.js';
import { isGroupAddress } from '../../util/ip-address.js';
import { FirstContactTable } from '../port-scan/first-contact-table.js';
import { portScanReport, ScanKind, type PortScanOptions } from '../port-scan/port-scan.js';
import { answerHash, serviceOf, type AnswerMemory } from './answer-memory.js';
import { fromServerPort, sampleOfRecord, type RecordView } from './record-view.js';

/** Packets at most in a record without SYN that can be a probe (a probe and its retransmissions). */
export const PROBE_MAX_PACKETS = 3;
/**
 * Bytes per packet at most in such a probe: headers only (Ethernet, IPv6 and TCP with options come
 * to about 100; nmap's IPv4 probes are 54 to 58). More is data: a flow whose start was missed.
 */
const PROBE_MAX_BYTES_PER_PACKET = 120;

/** Target numbers: TCP port, UDP port, IP protocol (the table counts distinct targets). */
const UDP_TARGET = 0x10000;
const PROTOCOL_TARGET = 0x20000;
const TRACEROUTE_FIRST = 33434;
const TRACEROUTE_LAST = 33534;
const REPORT_EVERY_MICROS = 1_000_000;

const FLAG_MASK = TcpFlag.FIN | TcpFlag.SYN | TcpFlag.RST | TcpFlag.PSH | TcpFlag.ACK | TcpFlag.URG;
const XMAS = TcpFlag.FIN | TcpFlag.PSH | TcpFlag.URG;

/** The scan kind of a TCP record that completed no connection, 0 when it is no probe. */
export function recordProbeKind(flags: number, packets: number, bytes: number): number {
  const f = flags & FLAG_MASK;
  if (f & TcpFlag.SYN) return f & TcpFlag.ACK ? 0 : ScanKind.SYN;
  if (f & TcpFlag.RST || packets > PROBE_MAX_PACKETS || bytes > packets * PROBE_MAX_BYTES_PER_PACKET)
    return 0;
  if (f === 0) return ScanKind.NULL;
  if (f === TcpFlag.FIN) return ScanKind.FIN;
  if (f === XMAS) return ScanKind.XMAS;
  if (f === TcpFlag.ACK) return ScanKind.ACK;
  if (f & TcpFlag.ACK) return 0;
  return ScanKind.OTHER_TCP;
}

/**
 * True when a TCP record answers a probe of its sender's port (as the packet detectors count a
 * first answer that is not a reset): a SYN-ACK, an ACK, data or a FIN; not a bare SYN (a probe of
 * its own) nor a reset alone.
 */
export function answersProbe(flags: number): boolean {
  if (flags & TcpFlag.SYN) return (flags & TcpFlag.ACK) !== 0;
  if (flags & TcpFlag.RST) return (flags & (TcpFlag.PSH | TcpFlag.FIN)) !== 0;
  return true;
}

export class RecordPortScan {
  private readonly table: FirstContactTable;

  constructor(
    private readonly options: PortScanOptions,
    private readonly alerts: AlertTracker,
    private readonly answers: AnswerMemory,
  ) {
    this.table = new FirstContactTable(
      Math.max(16, Math.floor(options.maxPairs)),
      options,
      options.evidenceSeconds * 1e6,
      options.idleSeconds * 1e6,
    );
  }

  /** (source, host) pairs tracked now, and evicted so far. */
  get tracked(): number {
    return this.table.keys.size;
  }
  get evicted(): number {
    return this.table.keys.evicted;
  }

  onRecord(v: RecordView): void {
    const proto = v.proto;
    if (proto === IpProto.TCP) {
      const f = v.tcpFlags;
      if (answersProbe(f)) this.answer(v.dst, v.src, v.srcPort, v, true);
      if (f & TcpFlag.SYN && f & TcpFlag.ACK) {
        // A completed connection (the client's record: dst answered) or the server's SYN-ACK
        // (src answered dst, noted above): its flags cannot tell which, so it is both.
        // A client's handshake (SYN, then ACK: two packets at least; a SYN-ACK alone is one) closed
        // at once without data: the open port of a connect scan, a probe that was answered.
        if (v.packets >= 2 && v.packets <= PROBE_MAX_PACKETS + 1 && (f & TcpFlag.PSH) === 0)
          this.probe(v, v.dstPort, ScanKind.CONNECT, true);
        else this.answer(v.src, v.dst, v.dstPort, v, false);
        return;
      }
      const kind = recordProbeKind(f, v.packets, v.bytes);
      if (kind !== 0) this.probe(v, v.dstPort, kind, kind === ScanKind.SYN && (f & TcpFlag.RST) !== 0);
    } else if (proto === IpProto.UDP) {
      this.answer(v.dst, v.src, UDP_TARGET | v.srcPort, v, true);
      const port = v.dstPort;
      if (fromServerPort(v.srcPort, port) || (port >= TRACEROUTE_FIRST && port <= TRACEROUTE_LAST)) return;
      this.probe(v, UDP_TARGET | port, ScanKind.UDP, false);
    } else if (proto !== IpProto.ICMP && proto !== IpProto.ICMPV6) {
      this.answer(v.dst, v.src, PROTOCOL_TARGET | proto, v, true);
      this.probe(v, PROTOCOL_TARGET | proto, ScanKind.IP_PROTOCOL, false);
    }
  }

  /** Reports the scans whose last probes came after their last report. */
  finish(): void {
    for (const slot of this.table.reported()) {
      if (this.table.probes(slot) !== this.table.reportedProbes(slot))
        this.report(slot, this.table.lastTs(slot), null);
    }
  }

  /**
   * `answerer` answered `asker` on `target` (record `v` says so); remembered for a probe read later
   * when `remember`.
   */
  private answer(
    asker: Uint32Array,
    answerer: Uint32Array,
    target: number,
    v: RecordView,
    remember: boolean,
  ): void {
    const t = this.table;
    t.keys.setKey(v.version, asker, 0, answerer, 0, 0);
    t.answerKey(target);
    if (remember) this.answers.note(answerHash(v.version, asker, answerer, serviceOfTarget(target)), v);
  }

  private probe(v: RecordView, target: number, kind: number, answered: boolean): void {
    if (isGroupAddress(v.version, v.dst)) return;
    const t = this.table;
    t.keys.setKey(v.version, v.src, 0, v.dst, 0, 0);
    const slot = t.probeKey(v.firstUs, target);
    if (answered || this.answers.has(answerHash(v.version, v.src, v.dst, serviceOfTarget(target)), v))
      t.answerKey(target);
    if (slot < 0) return;
    t.addKind(slot, kind);
    if (t.reportedAt(slot) === 0) {
      const o = this.options;
      const ports = t.estimate(slot);
      if ((ports >= o.minPorts && t.isScanner(slot)) || ports >= o.certainPorts)
        this.report(slot, v.firstUs, v);
    } else if (v.firstUs - t.reportedAt(slot) >= REPORT_EVERY_MICROS) {
      this.report(slot, v.firstUs, v);
    }
  }

  /** The report reads as port-scan.ts's (same type, severity, summary, thresholds). */
  private report(slot: number, at: number, v: RecordView | null): void {
    const t = this.table;
    const report = portScanReport(t, slot, at, this.options, 'seen in flow records');
    if (v?.row && t.reportedAt(slot) === 0) report.sampleFlows = [sampleOfRecord(v.row)];
    t.markReported(slot, at);
    this.alerts.report(report);
  }
}

/** The answer-memory service of a target number. */
function serviceOfTarget(target: number): number {
  if (target < UDP_TARGET) return serviceOf(IpProto.TCP, target);
  if (target < PROTOCOL_TARGET) return serviceOf(IpProto.UDP, target - UDP_TARGET);
  return serviceOf(target - PROTOCOL_TARGET, 0);
}
