/**
 * host_sweep from flow records: one source probing one service (a TCP or UDP port, ICMP echo)
 * across many hosts, judged as the packet detector judges it (host-sweep.ts: distinct first
 * contacts per (source, service) and a Threshold Random Walk over them, in the same
 * FirstContactTable, with the same options and alert). ARP sweeps never reach a router's records.
 *
 * First contacts are TCP records that start a connection (SYN without ACK: answered when the
 * sender reset a SYN-ACK, "SR"; SYN with ACK: a client's completed connection, so answered), the
 * TCP records the port scan calls probes (record-port-scan.ts: ACK pings and the like), UDP
 * records that are not a server's answer, and ICMP echo requests. Completed connections count (as
 * answered contacts) so that a busy client's walk goes towards "benign" as it does in packets.
 * Answers are the records the other way: a TCP record that is not a bare SYN or a reset, a UDP
 * reply, an echo reply (see answer-memory.ts for the order). Times are the records' first-seen
 * times. Allocates nothing per record itself (FirstContactTable.probeKey boxes its time argument).
 */

import type { AlertTracker } from '../../alerts/alert-tracker.js';
import { IpProto, TcpFlag } from '../../decode/packet-decoder.js';
import { isGroupAddress } from '../../util/ip-address.js';
import { mix32 } from '../../util/hash.js';
import { hostSweepReport, Service, type HostSweepOptions } from '../host-sweep/host-sweep.js';
import { FirstContactTable } from '../port-scan/first-contact-table.js';
import { answerHash, serviceOf, type AnswerMemory } from './answer-memory.js';
import { answersProbe, recordProbeKind } from './record-port-scan.js';
import { fromServerPort, sampleOfRecord, type RecordView } from './record-view.js';

/** The swept service, kept in the key's version word beside the IP version. */
const REPORT_EVERY_MICROS = 1_000_000;

/**
 * One number per host address (IPv4 as is; IPv6 folded), as host-sweep.ts's `hostTarget` but
 * signed: the same 32 bits for the table (it hashes, XORs and masks them), and no allocation, as a
 * number above 2^31 passed to or returned from a call is boxed.
 */
function hostTarget(version: number, a: Uint32Array): number {
  if (version === 4) return a[0]! | 0;
  return mix32(a[0]! ^ mix32(a[1]! ^ mix32(a[2]! ^ mix32(a[3]!)))) | 0;
}

export class RecordHostSweep {
  private readonly table: FirstContactTable;

  constructor(
    private readonly options: HostSweepOptions,
    private readonly alerts: AlertTracker,
    private readonly answers: AnswerMemory,
  ) {
    this.table = new FirstContactTable(
      Math.max(16, Math.floor(options.maxSources)),
      options,
      options.evidenceSeconds * 1e6,
      options.idleSeconds * 1e6,
    );
  }

  /** (source, service) pairs tracked now, and evicted so far. */
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
      if (answersProbe(f)) this.answer(v, Service.TCP, IpProto.TCP);
      if (f & TcpFlag.SYN) {
        if (f & TcpFlag.ACK) {
          // A client's completed connection (SYN, then ACK: two packets at least), not a server's side.
          if (v.packets >= 2 && !fromServerPort(v.srcPort, v.dstPort))
            this.probe(v, Service.TCP, IpProto.TCP, v.dstPort, true);
          return;
        }
        this.probe(v, Service.TCP, IpProto.TCP, v.dstPort, (f & TcpFlag.RST) !== 0);
        return;
      }
      if (recordProbeKind(f, v.packets, v.bytes) !== 0)
        this.probe(v, Service.TCP, IpProto.TCP, v.dstPort, false);
    } else if (proto === IpProto.UDP) {
      this.answer(v, Service.UDP, IpProto.UDP);
      if (!fromServerPort(v.srcPort, v.dstPort)) this.probe(v, Service.UDP, IpProto.UDP, v.dstPort, false);
    } else if (proto === IpProto.ICMP || proto === IpProto.ICMPV6) {
      const request = proto === IpProto.ICMP ? 8 : 128;
      const reply = proto === IpProto.ICMP ? 0 : 129;
      if (v.icmpType === request) this.probe(v, Service.ICMP_ECHO, proto, 0, false);
      else if (v.icmpType === reply) this.answer(v, Service.ICMP_ECHO, proto);
    }
  }

  /** Reports the sweeps whose last probes came after their last report. */
  finish(): void {
    for (const slot of this.table.reported()) {
      if (this.table.probes(slot) !== this.table.reportedProbes(slot))
        this.report(slot, this.table.lastTs(slot), null);
    }
  }

  /** The record answers a probe of its sender by its receiver (the receiver's key). */
  private answer(v: RecordView, service: number, proto: number): void {
    const port = service === Service.ICMP_ECHO ? 0 : v.srcPort;
    const t = this.table;
    t.keys.setKey(v.version | (service << 4), v.dst, 0, null, 0, port);
    t.answerKey(hostTarget(v.version, v.src));
    this.answers.note(answerHash(v.version, v.dst, v.src, serviceOf(proto, port)), v);
  }

  private probe(v: RecordView, service: number, proto: number, port: number, answered: boolean): void {
    if (isGroupAddress(v.version, v.dst)) return;
    const t = this.table;
    const host = hostTarget(v.version, v.dst);
    t.keys.setKey(v.version | (service << 4), v.src, 0, null, 0, port);
    const slot = t.probeKey(v.firstUs, host);
    if (answered || this.answers.has(answerHash(v.version, v.src, v.dst, serviceOf(proto, port)), v))
      t.answerKey(host);
    if (slot < 0) return;
    const o = this.options;
    if (t.reportedAt(slot) === 0) {
      const hosts = t.estimate(slot);
      if ((hosts >= o.minHosts && t.isScanner(slot)) || (o.certainHosts > 0 && hosts >= o.certainHosts))
        this.report(slot, v.firstUs, v);
    } else if (v.firstUs - t.reportedAt(slot) >= REPORT_EVERY_MICROS) {
      this.report(slot, v.firstUs, v);
    }
  }

  /** The report reads as host-sweep.ts's (same type, severity, summary, thresholds). */
  private report(slot: number, at: number, v: RecordView | null): void {
    const t = this.table;
    const report = hostSweepReport(t, slot, at, this.options, 'seen in flow records');
    if (v?.row && t.reportedAt(slot) === 0) report.sampleFlows = [sampleOfRecord(v.row)];
    t.markReported(slot, at);
    this.alerts.report(report);
  }
}
