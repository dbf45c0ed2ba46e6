/**
 * SYN floods: half-open connections piling up at one victim. Each victim (destination of pure
 * SYNs) gets a VictimMeter slot with its SYN rate on packet time, the handshakes its clients
 * completed (the client's first ACK after the SYN, seen through the flow table), the distinct
 * sources (HyperLogLog) and the heaviest ones (Space-Saving).
 *
 * A victim whose SYN rate crosses `minSynRate` while most of its SYNs never complete a handshake
 * is under a SYN flood: `syn_flood` with the attacker as `src` when one source sent most of the
 * SYNs, else `ddos` with `src` null, the distinct-source estimate and the top sources. Completed
 * handshakes, not SYN-ACKs, are the answer that counts: a server defending with SYN cookies
 * (RFC 4987 section 3.6) answers every spoofed SYN, but the spoofed clients never ACK.
 *
 * Must never: alert on a busy server whose clients complete their handshakes; alert on one
 * source's SYNs to many ports of a host (a port scan, the port_scan detector's); keep state per
 * source (a spoofed flood has millions); allocate on the packet path.
 */

import type { AlertTracker } from '../../alerts/alert-tracker.js';
import type { AlertReport } from '../../alerts/alert.js';
import { IpProto, TcpFlag } from '../../decode/packet-decoder.js';
import { FlowState, type FlowTable } from '../../flows/flow-table.js';
import type { Detector, DetectorFactory, PacketEvent } from '../detector.js';
import {
  VictimMeter,
  admitPackets,
  floodSeverity,
  fmtCount,
  fmtDuration,
  sampleOfFlow,
} from '../volume-flood/victim-meter.js';

export interface SynFloodOptions extends Record<string, number> {
  minSynRate: number;
  minHalfOpenRatio: number;
  maxSingleSourcePorts: number;
  windowSeconds: number;
  victims: number;
}

const KIND_NONE = 0;
const KIND_ONE_SOURCE = 1;
const KIND_MANY_SOURCES = 2;

const SYN_ACK_RST = TcpFlag.SYN | TcpFlag.ACK | TcpFlag.RST;
const HANDSHAKE_MASK = TcpFlag.SYN | TcpFlag.ACK | TcpFlag.RST | TcpFlag.FIN;

export class SynFloodDetector implements Detector {
  readonly name = 'syn_flood';
  private readonly meter: VictimMeter;
  private readonly windowMicros: number;
  private readonly srcOf: (string | null)[];
  private readonly onQuiet = (slot: number, ts: number): void => this.report(slot, ts);
  /** The flow table of the packets seen (for sample flows in reports). */
  private flows: FlowTable | null = null;
  private readonly admit: number;

  constructor(
    private readonly options: SynFloodOptions,
    private readonly alerts: AlertTracker,
  ) {
    this.windowMicros = Math.max(0.01, options.windowSeconds) * 1e6;
    this.meter = new VictimMeter({ capacity: options.victims, windowMicros: this.windowMicros });
    this.srcOf = new Array<string | null>(this.meter.reportedAt.length).fill(null);
    this.admit = admitPackets(options.minSynRate, 0, this.windowMicros);
  }

  onPacket(event: PacketEvent): void {
    const p = event.packet;
    if (p.ipProto !== IpProto.TCP || !p.hasPorts) return;
    const flags = p.tcpFlags;
    const m = this.meter;
    this.flows = event.flows;
    if ((flags & SYN_ACK_RST) === TcpFlag.SYN) {
      if (!m.admit(p.dst, 0, event.ts, event.frameBytes, this.admit)) return;
      const quiet = (this.options.minSynRate * this.windowMicros) / 4e6;
      const slot = m.victim(p.ipVersion, p.dst, 0, event.ts, quiet, this.onQuiet);
      m.add(slot, event.ts, p.ipVersion, p.src, event.frameBytes, p.dstPort, event.slot);
      if (m.reportedAt[slot] !== 0) {
        if (event.ts - m.reportedAt[slot]! >= 1e6) this.report(slot, event.ts);
      } else if ((m.packets[slot]! & 7) === 0 && m.packets[slot]! >= 4 * this.admit) {
        // Metered SYNs only (the pre-filter's are not matched with completions), and enough of
        // them that the handshakes still under way (one round trip's worth) cannot pass for half-open.
        this.evaluate(slot, event.ts);
      }
      return;
    }
    // The client's first ACK after its SYN completes the handshake (flow side A sent SYN + ACK).
    if ((flags & HANDSHAKE_MASK) !== TcpFlag.ACK || event.slot < 0) return;
    const f = event.flows;
    const fs = event.slot;
    if (f.packetsAB[fs] !== 2 || f.state[fs] !== FlowState.ESTABLISHED) return;
    const a = fs << 2;
    if (f.addrA[a] !== p.src[0] || f.addrA[a + 1] !== p.src[1] || f.addrA[a + 3] !== p.src[3]) return;
    m.table.setKey(p.ipVersion, p.dst, 0, null, 0, 0);
    const slot = m.table.find();
    if (slot >= 0) m.extraA[slot]!++;
  }

  /**
   * Gives the attacks that went quiet their last report (see VictimMeter.closeQuiet): without it
   * a flood that stops keeps the figures of its last report until the victim's next packet.
   */
  onTick(now: number): void {
    this.meter.closeQuiet(now, this.onQuiet);
  }

  finish(now: number): void {
    for (const slot of this.meter.openSlots()) this.report(slot, Math.max(now, this.meter.last[slot]!));
  }

  private evaluate(slot: number, ts: number): void {
    const m = this.meter;
    const o = this.options;
    if (m.packetRate(slot, ts) < o.minSynRate) return;
    const syns = m.packets[slot]!;
    const halfOpen = Math.max(0, syns - m.extraA[slot]!);
    if (halfOpen / syns < o.minHalfOpenRatio) return;
    const oneSource = m.topSourcePackets(slot) >= 0.5 * syns;
    // One source's SYNs across many ports of the host are a port scan, not a flood.
    if (oneSource && m.distinctPorts(slot) > o.maxSingleSourcePorts) return;
    m.kind[slot] = oneSource ? KIND_ONE_SOURCE : KIND_MANY_SOURCES;
    this.srcOf[slot] = oneSource ? m.topSourceAddress(slot) : null;
    this.report(slot, ts);
  }

  private report(slot: number, ts: number): void {
    const m = this.meter;
    const o = this.options;
    if (m.kind[slot] === KIND_NONE) return;
    m.notePeak(slot, ts);
    m.markReported(slot, ts);
    const syns = m.packets[slot]!;
    const completed = Math.min(syns, m.extraA[slot]!);
    const halfOpen = syns - completed;
    const ratio = syns > 0 ? halfOpen / syns : 0;
    const sources = m.kind[slot] === KIND_ONE_SOURCE ? 1 : Math.max(2, m.distinctSources(slot));
    const ports = m.distinctPorts(slot);
    const victim = m.victimAddress(slot);
    const target = ports <= 1 ? `${victim}:${m.portVote[slot]}` : victim;
    const peak = m.displayRate(slot);
    const span = fmtDuration(m.last[slot]! - m.started[slot]!);
    const oneSource = m.kind[slot] === KIND_ONE_SOURCE;
    const src = oneSource ? this.srcOf[slot]! : null;
    const who = oneSource ? src : `~${fmtCount(sources)} sources`;
    const summary =
      `${who} sent ${fmtCount(syns)} SYNs to ${target} in ${span} (peak ${fmtCount(peak)}/s); ` +
      `${Math.round(ratio * 100)}% never completed a handshake` +
      (oneSource ? ' (SYN flood).' : ' (distributed SYN flood).');
    const r: AlertReport = {
      type: oneSource ? 'syn_flood' : 'ddos',
      // The rate the summary states, so a fast flood's first report is already graded by it.
      severity: floodSeverity(peak, o.minSynRate, sources),
      src,
      dst: victim,
      at: ts,
      startedAt: m.started[slot]!,
      counters: {
        syns,
        halfOpen,
        completedHandshakes: completed,
        sources,
        dstPorts: ports,
        bytes: m.bytes[slot]!,
        peakSynPerSecond: Math.round(peak),
      },
      summary,
      thresholds: [
        { metric: 'syn_per_second', value: Math.round(peak), threshold: o.minSynRate },
        { metric: 'half_open_ratio', value: Number(ratio.toFixed(3)), threshold: o.minHalfOpenRatio },
      ],
      topSources: m.topSources(slot),
    };
    const sample = this.flows ? sampleOfFlow(this.flows, m.lastFlow[slot]!) : null;
    if (sample) r.sampleFlows = [sample];
    this.alerts.report(r);
  }
}

export const synFloodFactory: DetectorFactory<SynFloodOptions> = {
  name: 'syn_flood',
  description:
    'SYN floods: a victim receiving SYNs faster than minSynRate that mostly never complete a handshake; ' +
    'syn_flood when one source sent most of them, ddos (with distinct-source count and top sources) when many did.',
  defaults: {
    minSynRate: 100,
    minHalfOpenRatio: 0.7,
    maxSingleSourcePorts: 8,
    windowSeconds: 1,
    victims: 4096,
  },
  help: {
    minSynRate:
      'SYNs per second to one victim over the sliding window before it can be a flood. 100/s: the ' +
      "corpus's floods peak at 1,000 (suricata's one-source test) to 24,000/s (StopDDoS), while a small " +
      "site's busiest server opens fewer connections, and those complete their handshakes.",
    minHalfOpenRatio:
      'Share of those SYNs whose client never completed the handshake. 0.7: normal servers see most ' +
      'handshakes complete (retries and rejections stay well under half); a flood leaves nearly all open.',
    maxSingleSourcePorts:
      "Distinct destination ports above which one source's SYNs are a port scan, left to port_scan. " +
      '8: a flood hammers one or a few services, a scan walks many ports.',
    windowSeconds:
      'Length of the sliding rate window, in seconds of packet time. 1 s reacts within the 2 s the ' +
      'alert must start in, and smooths single bursts of retransmissions.',
    victims:
      'Victims tracked at once (least recently seen evicted beyond that). 4,096 x ~0.5 kB of state ' +
      'is about 2 MB.',
  },
  create: (options, alerts) => new SynFloodDetector(options, alerts),
};
