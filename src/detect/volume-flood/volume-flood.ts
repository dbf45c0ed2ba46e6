/**
 * Volume floods: UDP packets, or ICMP / ICMPv6 echo requests and replies, towards one victim
 * above a packet or bit rate on packet time. Each victim and protocol (UDP, ICMP echo) gets a
 * VictimMeter slot: sliding-window rates, distinct sources (HyperLogLog), heaviest sources
 * (Space-Saving). From one source: `src` is that source; from many: `src` null with the
 * distinct-source estimate and the top sources.
 *
 * Must never: alert on a UDP conversation the victim takes part in (a single source whose flow
 * gets packets back, e.g. QUIC or RTP, is a transfer, not a flood); report reflection from many
 * reflector-port sources (the amplification detector's); count ICMP errors (they answer other
 * traffic); keep per-source state; allocate on the packet path.
 */

import type { AlertTracker } from '../../alerts/alert-tracker.js';
import type { AlertReport } from '../../alerts/alert.js';
import { Fragment, IpProto } from '../../decode/packet-decoder.js';
import type { FlowTable } from '../../flows/flow-table.js';
import { IS_REFLECTOR_PORT } from '../amplification/reflector-ports.js';
import type { Detector, DetectorFactory, PacketEvent } from '../detector.js';
import {
  VictimMeter,
  floodSeverity,
  fmtBits,
  fmtCount,
  fmtDuration,
  sampleOfFlow,
  admitPackets,
  senderPort,
} from './victim-meter.js';

export interface VolumeFloodOptions extends Record<string, number> {
  udpMinPps: number;
  udpMinBitsPerSecond: number;
  icmpMinPps: number;
  icmpMinBitsPerSecond: number;
  maxReturnRatio: number;
  windowSeconds: number;
  victims: number;
}

const CLASS_UDP = 17;
const CLASS_ICMP = 1;
const KIND_ONE_SOURCE = 1;
const KIND_MANY_SOURCES = 2;

/** Echo reply: ICMP 0, ICMPv6 129. */
function isEchoReply(proto: number, type: number): boolean {
  return proto === IpProto.ICMP ? type === 0 : type === 129;
}

/** True when `addr` is the initiator (side A) of the flow in `slot`. */
function isFlowClient(flows: FlowTable, slot: number, addr: Uint32Array): boolean {
  if (slot < 0) return false;
  const a = flows.addrA;
  const base = slot * 4;
  return a[base] === addr[0] && a[base + 1] === addr[1] && a[base + 2] === addr[2] && a[base + 3] === addr[3];
}

/** Echo request/reply: ICMP 8/0 (RFC 792), ICMPv6 128/129 (RFC 4443). */
function isEcho(proto: number, type: number): boolean {
  return proto === IpProto.ICMP ? type === 8 || type === 0 : type === 128 || type === 129;
}

export class VolumeFloodDetector implements Detector {
  readonly name = 'volume_flood';
  private readonly meter: VictimMeter;
  private readonly windowMicros: number;
  private readonly srcOf: (string | null)[];
  private flows: FlowTable | null = null;
  private readonly udpAdmit: number;
  private readonly icmpAdmit: number;
  private readonly onQuiet = (slot: number, ts: number): void => this.report(slot, ts);

  constructor(
    private readonly options: VolumeFloodOptions,
    private readonly alerts: AlertTracker,
  ) {
    this.windowMicros = Math.max(0.01, options.windowSeconds) * 1e6;
    this.meter = new VictimMeter({
      capacity: options.victims,
      windowMicros: this.windowMicros,
      seedTotals: true,
    });
    this.srcOf = new Array<string | null>(this.meter.reportedAt.length).fill(null);
    this.udpAdmit = admitPackets(options.udpMinPps, options.udpMinBitsPerSecond, this.windowMicros);
    this.icmpAdmit = admitPackets(options.icmpMinPps, options.icmpMinBitsPerSecond, this.windowMicros);
  }

  onPacket(event: PacketEvent): void {
    const p = event.packet;
    const proto = p.ipProto;
    let cls: number;
    let port = 0;
    if (proto === IpProto.UDP) {
      if (!p.hasPorts && p.fragment !== Fragment.LATER) return;
      cls = CLASS_UDP;
      port = senderPort(p, event.flows, event.slot);
    } else if (proto === IpProto.ICMP || proto === IpProto.ICMPV6) {
      if (!isEcho(proto, p.icmpType)) return;
      // A reply to the destination's own request is the victim answering, not an attack: count
      // only unsolicited replies (a reflected echo flood), whose flow the reply itself started.
      if (isEchoReply(proto, p.icmpType) && isFlowClient(event.flows, event.slot, p.dst)) return;
      cls = CLASS_ICMP;
    } else return;
    const m = this.meter;
    this.flows = event.flows;
    const udp = cls === CLASS_UDP;
    const admit = udp ? this.udpAdmit : this.icmpAdmit;
    if (!m.admit(p.dst, cls, event.ts, event.frameBytes, admit)) return;
    const minPps = udp ? this.options.udpMinPps : this.options.icmpMinPps;
    const slot = m.victim(
      p.ipVersion,
      p.dst,
      cls,
      event.ts,
      (minPps * this.windowMicros) / 4e6,
      this.onQuiet,
    );
    m.add(slot, event.ts, p.ipVersion, p.src, event.frameBytes, port, event.slot);
    if (m.reportedAt[slot] !== 0) {
      if (event.ts - m.reportedAt[slot]! >= 1e6) this.report(slot, event.ts);
    } else if ((m.packets[slot]! & 15) === 0) {
      this.evaluate(slot, event.ts, cls);
    }
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

  private evaluate(slot: number, ts: number, cls: number): void {
    const m = this.meter;
    const o = this.options;
    const udp = cls === CLASS_UDP;
    const minPps = udp ? o.udpMinPps : o.icmpMinPps;
    const minBps = udp ? o.udpMinBitsPerSecond : o.icmpMinBitsPerSecond;
    if (m.packetRate(slot, ts) < minPps && m.bitRate(slot, ts) < minBps) return;
    const packets = m.packets[slot]!;
    const oneSource = m.topSourcePackets(slot) >= 0.5 * packets;
    if (udp) {
      // Many sources all sending from one reflector port: reflection, the amplification detector's.
      if (!oneSource && IS_REFLECTOR_PORT[m.portVote[slot]!] === 1) return;
      // One source whose flow gets answers: a transfer (QUIC, RTP, a game), not a flood.
      const fs = m.lastFlow[slot]!;
      const f = this.flows;
      if (oneSource && f && fs >= 0) {
        const from = f.packetsAB[fs]!;
        const back = f.packetsBA[fs]!;
        if (Math.min(from, back) > o.maxReturnRatio * Math.max(from, back)) return;
      }
    }
    m.kind[slot] = oneSource ? KIND_ONE_SOURCE : KIND_MANY_SOURCES;
    this.srcOf[slot] = oneSource ? m.topSourceAddress(slot) : null;
    this.report(slot, ts);
  }

  private report(slot: number, ts: number): void {
    const m = this.meter;
    const o = this.options;
    const kind = m.kind[slot]!;
    if (kind === 0) return;
    m.notePeak(slot, ts);
    m.markReported(slot, ts);
    const udp = m.table.keyWord(slot, 0) % 65536 === CLASS_UDP;
    const minPps = udp ? o.udpMinPps : o.icmpMinPps;
    const minBps = udp ? o.udpMinBitsPerSecond : o.icmpMinBitsPerSecond;
    const packets = m.packets[slot]!;
    const oneSource = kind === KIND_ONE_SOURCE;
    const sources = oneSource ? 1 : Math.max(2, m.distinctSources(slot));
    const victim = m.victimAddress(slot);
    const peakPps = m.displayRate(slot);
    const peakBps = m.displayBitRate(slot);
    const src = oneSource ? this.srcOf[slot]! : null;
    const what = udp ? 'UDP packets' : 'ICMP echo packets';
    const summary =
      `${oneSource ? src : `~${fmtCount(sources)} sources`} sent ${fmtCount(packets)} ${what} ` +
      `(${fmtCount(m.bytes[slot]! / 1000)} kB) to ${victim} in ${fmtDuration(m.last[slot]! - m.started[slot]!)} ` +
      `(peak ${fmtCount(peakPps)} packets/s, ${fmtBits(peakBps)}).`;
    // The rates the summary states, so a fast flood's first report is already graded by them.
    const scale = Math.max(peakPps / Math.max(1, minPps), peakBps / Math.max(1, minBps));
    const r: AlertReport = {
      type: udp ? 'udp_flood' : 'icmp_flood',
      severity: floodSeverity(scale, 1, sources),
      src,
      dst: victim,
      at: ts,
      startedAt: m.started[slot]!,
      counters: {
        packets,
        bytes: m.bytes[slot]!,
        sources,
        peakPacketsPerSecond: Math.round(peakPps),
        peakBitsPerSecond: Math.round(peakBps),
      },
      summary,
      thresholds: [
        { metric: 'packets_per_second', value: Math.round(peakPps), threshold: minPps },
        { metric: 'bits_per_second', value: Math.round(peakBps), threshold: minBps },
      ],
      topSources: m.topSources(slot),
    };
    const sample = this.flows ? sampleOfFlow(this.flows, m.lastFlow[slot]!) : null;
    if (sample) r.sampleFlows = [sample];
    this.alerts.report(r);
  }
}

export const volumeFloodFactory: DetectorFactory<VolumeFloodOptions> = {
  name: 'volume_flood',
  description:
    'UDP floods and ICMP/ICMPv6 echo floods: packets or bits per second to one victim above a threshold, ' +
    'from one source (src set) or many (src null, with distinct-source count and top sources).',
  defaults: {
    udpMinPps: 10_000,
    udpMinBitsPerSecond: 500_000_000,
    icmpMinPps: 500,
    icmpMinBitsPerSecond: 50_000_000,
    maxReturnRatio: 0.01,
    windowSeconds: 1,
    victims: 4096,
  },
  help: {
    udpMinPps:
      'UDP packets per second to one victim (either this or udpMinBitsPerSecond). 10,000/s: well above a ' +
      "small site host's busiest legitimate UDP (a video call is 1-2 k/s, DNS servers answer, they do not " +
      'receive floods of answers), while floods run at 10^4-10^6/s.',
    udpMinBitsPerSecond:
      'UDP bits per second to one victim. 500 Mbit/s: a flood of large datagrams at a low packet rate still ' +
      'fills a 1 Gbit/s link halfway.',
    icmpMinPps:
      'ICMP/ICMPv6 echo packets per second to one victim. 500/s: ping and monitoring send a few per second; ' +
      '`ping -f` and echo floods send thousands.',
    icmpMinBitsPerSecond: 'ICMP echo bits per second to one victim. 50 Mbit/s: large-payload echo floods.',
    maxReturnRatio:
      'A single UDP source whose flow gets more than this share of packets back is a conversation (QUIC ' +
      'acknowledges every few packets, RTP has RTCP), not a flood. 0.01.',
    windowSeconds: 'Length of the sliding rate window in seconds of packet time (1 s: alert within 2 s).',
    victims:
      'Victim and protocol pairs tracked at once (least recently seen evicted beyond that); ~0.5 kB each.',
  },
  create: (options, alerts) => new VolumeFloodDetector(options, alerts),
};
