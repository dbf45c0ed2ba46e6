/**
 * Amplification / reflection attacks: one victim flooded with responses from many reflectors it
 * never (or barely) asked. Two vectors:
 * - UDP responses from a well-known reflector port (DNS, NTP, SNMP, memcached, SSDP, CLDAP,
 *   ISAKMP, ... see reflector-ports.ts). Later IP fragments of a large response carry no ports;
 *   they count with the flow their first fragment opened (the flow table joins them), so a
 *   fragmented DNSSEC response counts all its bytes.
 * - TCP SYN-ACK reflection: SYN-ACKs arriving at a host that sent no SYN on that connection
 *   (Kührer et al., "Hell of a Handshake", USENIX WOOT 2014). Its slow form, a few reflectors
 *   retransmitting unanswered SYN-ACKs far below any flood rate, is raised at low severity.
 *   Reported as amplification, not
 *   ddos: the senders are real servers answering SYNs that carried the victim's forged address,
 *   so they are reflectors (blocking them blocks innocent servers), and "responses with no
 *   requests" is exactly the reflection signature.
 * Per victim (a VictimMeter slot): response packets and bytes, requests the victim itself sent to
 * reflector ports, distinct reflectors (HyperLogLog) and the heaviest ones (Space-Saving). An
 * alert when responses cross `minPps` and `minBitsPerSecond` from at least `minReflectors`
 * reflectors, and either no requests were seen or responses outweigh them `minByteRatio` times.
 *
 * Must never: alert on a host's own DNS/NTP/SNMP conversations (it sent the requests); treat a
 * single response (an NTP monlist reply) as an attack; take a multicast group as a victim (mDNS and
 * SSDP answers to a group); keep per-reflector state; allocate on the packet path.
 */

import type { AlertTracker } from '../../alerts/alert-tracker.js';
import type { AlertReport } from '../../alerts/alert.js';
import { Fragment, IpProto, TcpFlag } from '../../decode/packet-decoder.js';
import type { FlowTable } from '../../flows/flow-table.js';
import { sampleFlowOf } from '../../alerts/sample-flow.js';
import { isGroupAddress } from '../../util/ip-address.js';
import type { Detector, DetectorFactory, PacketEvent } from '../detector.js';
import {
  VictimMeter,
  admitPackets,
  floodSeverity,
  fmtBits,
  fmtCount,
  fmtDuration,
  sampleOfFlow,
  senderPort,
} from '../volume-flood/victim-meter.js';
import { formatIp } from '../../util/ip-address.js';
import { KeyTable } from '../key-table.js';
import { IS_REFLECTOR_PORT, REFLECTOR_PORTS } from './reflector-ports.js';

export interface AmplificationOptions extends Record<string, number> {
  minPps: number;
  minBitsPerSecond: number;
  minReflectors: number;
  minByteRatio: number;
  minSynAckRetransmissions: number;
  minRetransmittingReflectors: number;
  windowSeconds: number;
  victims: number;
}

const SYN_ACK = TcpFlag.SYN | TcpFlag.ACK;
const SYN_ACK_RST = SYN_ACK | TcpFlag.RST;

export class AmplificationDetector implements Detector {
  readonly name = 'amplification';
  private readonly meter: VictimMeter;
  private readonly windowMicros: number;
  /** SYN-ACK reflections per victim slot (the rest of the responses are UDP). */
  private readonly synAcks: Float64Array;
  private flows: FlowTable | null = null;
  private readonly admit: number;
  private readonly onQuiet = (slot: number, ts: number): void => this.report(slot, ts);
  private readonly slow: SlowReflection;

  constructor(
    private readonly options: AmplificationOptions,
    private readonly alerts: AlertTracker,
  ) {
    this.windowMicros = Math.max(0.01, options.windowSeconds) * 1e6;
    this.meter = new VictimMeter({ capacity: options.victims, windowMicros: this.windowMicros });
    this.synAcks = new Float64Array(this.meter.reportedAt.length);
    this.admit = admitPackets(options.minPps, options.minBitsPerSecond, this.windowMicros);
    this.slow = new SlowReflection(
      options.minRetransmittingReflectors,
      options.minSynAckRetransmissions,
      alerts,
      (version, addr) => {
        // A flood-rate alert for the victim is open: it already tells the story.
        const m = this.meter;
        m.table.setKey(version, addr, 0, null, 0, 0);
        const slot = m.table.find();
        return slot >= 0 && m.reportedAt[slot] !== 0;
      },
    );
  }

  onPacket(event: PacketEvent): void {
    const p = event.packet;
    const proto = p.ipProto;
    let port: number;
    let synAck = false;
    if (proto === IpProto.UDP) {
      if (!p.hasPorts && p.fragment !== Fragment.LATER) return;
      port = senderPort(p, event.flows, event.slot);
      if (IS_REFLECTOR_PORT[port] !== 1) {
        // A request the host sent to a reflector service: its own conversation, not an attack.
        if (p.hasPorts && IS_REFLECTOR_PORT[p.dstPort] === 1) this.noteRequest(event);
        return;
      }
    } else if (proto === IpProto.TCP) {
      if ((p.tcpFlags & SYN_ACK_RST) !== SYN_ACK || event.slot < 0) return;
      // The flow began with this side's SYN-ACK: the receiver (side A) never sent a SYN.
      if ((event.flows.tcpFlagsAB[event.slot]! & TcpFlag.SYN) !== 0) return;
      port = p.srcPort;
      synAck = true;
      const f = event.flows;
      if (
        f.packetsBA[event.slot] === this.options.minSynAckRetransmissions &&
        f.packetsAB[event.slot] === 0
      ) {
        this.slow.noteRetransmitting(event);
      }
    } else return;
    if (isGroupAddress(p.ipVersion, p.dst)) return;
    const m = this.meter;
    this.flows = event.flows;
    if (!m.admit(p.dst, 0, event.ts, event.frameBytes, this.admit)) return;
    const quiet = (this.options.minPps * this.windowMicros) / 4e6;
    const slot = m.victim(p.ipVersion, p.dst, 0, event.ts, quiet, this.onQuiet);
    if (m.packets[slot] === 0) this.synAcks[slot] = 0;
    m.add(slot, event.ts, p.ipVersion, p.src, event.frameBytes, port, event.slot);
    if (synAck) this.synAcks[slot]!++;
    if (m.reportedAt[slot] !== 0) {
      if (event.ts - m.reportedAt[slot]! >= 1e6) this.report(slot, event.ts);
    } else if ((m.packets[slot]! & 7) === 0 && m.packets[slot]! >= 2 * this.admit) {
      this.evaluate(slot, event.ts);
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

  /** A request the victim sent itself (counted only while it is metered; see VictimMeter.admit). */
  private noteRequest(event: PacketEvent): void {
    const p = event.packet;
    const m = this.meter;
    m.table.setKey(p.ipVersion, p.src, 0, null, 0, 0);
    const slot = m.table.find();
    if (slot < 0) return;
    m.extraA[slot]! += event.frameBytes;
    m.extraB[slot]!++;
  }

  private evaluate(slot: number, ts: number): void {
    const m = this.meter;
    const o = this.options;
    if (m.packetRate(slot, ts) < o.minPps || m.bitRate(slot, ts) < o.minBitsPerSecond) return;
    const requestBytes = m.extraA[slot]!;
    if (requestBytes > 0 && m.bytes[slot]! < o.minByteRatio * requestBytes) return;
    if (m.distinctSources(slot) < o.minReflectors) return;
    m.kind[slot] = 1;
    this.report(slot, ts);
  }

  private report(slot: number, ts: number): void {
    const m = this.meter;
    const o = this.options;
    if (m.kind[slot] === 0) return;
    m.notePeak(slot, ts);
    m.markReported(slot, ts);
    const responses = m.packets[slot]!;
    const bytes = m.bytes[slot]!;
    const requestBytes = m.extraA[slot]!;
    const synAcks = Math.min(this.synAcks[slot]!, responses);
    const reflectors = Math.max(1, m.distinctSources(slot));
    const victim = m.victimAddress(slot);
    const port = m.portVote[slot]!;
    const service = synAcks * 2 > responses ? `TCP SYN-ACK reflection` : `${serviceName(port)} reflection`;
    const ratio = requestBytes > 0 ? bytes / requestBytes : 0;
    const peakPps = m.displayRate(slot);
    const peakBps = m.displayBitRate(slot);
    const summary =
      `${victim} received ${fmtCount(responses)} unrequested responses (${fmtBits(peakBps)} at peak, ` +
      `${fmtCount(peakPps)} packets/s) from ~${fmtCount(reflectors)} reflectors in ` +
      `${fmtDuration(m.last[slot]! - m.started[slot]!)} (${service}` +
      (requestBytes > 0 ? `; ${ratio.toFixed(0)}x the bytes it sent them).` : `; it sent no requests).`);
    const r: AlertReport = {
      type: 'amplification',
      // The rates the summary states, so a fast flood's first report is already graded by them.
      severity: floodSeverity(
        Math.max(peakPps / o.minPps, peakBps / Math.max(1, o.minBitsPerSecond)),
        1,
        reflectors,
      ),
      src: null,
      dst: victim,
      at: ts,
      startedAt: m.started[slot]!,
      counters: {
        responses,
        bytes,
        requests: m.extraB[slot]!,
        requestBytes,
        synAckReflections: synAcks,
        reflectors,
        reflectorPort: port,
        peakPacketsPerSecond: Math.round(peakPps),
        peakBitsPerSecond: Math.round(peakBps),
      },
      summary,
      thresholds: [
        { metric: 'response_packets_per_second', value: Math.round(peakPps), threshold: o.minPps },
        { metric: 'response_bits_per_second', value: Math.round(peakBps), threshold: o.minBitsPerSecond },
        { metric: 'reflectors', value: reflectors, threshold: o.minReflectors },
      ],
      topSources: m.topSources(slot),
    };
    if (requestBytes > 0) {
      r.thresholds.push({
        metric: 'response_request_byte_ratio',
        value: Number(ratio.toFixed(1)),
        threshold: o.minByteRatio,
      });
    }
    const sample = this.flows ? sampleOfFlow(this.flows, m.lastFlow[slot]!) : null;
    if (sample) r.sampleFlows = [sample];
    this.alerts.report(r);
  }
}

/**
 * The slow form of SYN-ACK reflection: a few reflectors each retransmitting unanswered SYN-ACKs to
 * one host (one spoofed SYN yields up to six SYN-ACKs) at a rate far below any flood. Noted once
 * per reflector connection (when its SYN-ACK count reaches the threshold), so this path is rare
 * and may allocate. Raises a low-severity alert: evidence of reflection, not an outage.
 */
class SlowReflection {
  private readonly table = new KeyTable(1024);
  private readonly reflectors: Map<number, Map<string, number>> = new Map();
  private readonly started = new Float64Array(1024);

  constructor(
    private readonly minReflectors: number,
    private readonly minRetransmissions: number,
    private readonly alerts: AlertTracker,
    private readonly floodOpen: (version: number, addr: Uint32Array) => boolean,
  ) {}

  noteRetransmitting(event: PacketEvent): void {
    const p = event.packet;
    const f = event.flows;
    const t = this.table;
    t.setKey(p.ipVersion, p.dst, 0, null, 0, 0);
    const slot = t.upsert();
    if (t.created) {
      this.reflectors.set(slot, new Map());
      this.started[slot] = f.firstSeen[event.slot]!;
    }
    const seen = this.reflectors.get(slot)!;
    const reflector = formatIp(p.ipVersion, p.src);
    seen.set(reflector, (seen.get(reflector) ?? 0) + f.packetsBA[event.slot]!);
    if (seen.size > 64) seen.delete(seen.keys().next().value!);
    if (seen.size < this.minReflectors || this.floodOpen(p.ipVersion, p.dst)) return;
    const victim = formatIp(p.ipVersion, p.dst);
    const synAcks = [...seen.values()].reduce((a, b) => a + b, 0);
    const sample = sampleFlowOf(f, event.slot);
    this.alerts.report({
      type: 'amplification',
      severity: 'low',
      src: null,
      dst: victim,
      at: event.ts,
      startedAt: Math.min(this.started[slot]!, event.ts),
      counters: { retransmittingReflectors: seen.size, synAckReflections: synAcks },
      summary:
        `${victim} keeps receiving SYN-ACKs it never asked for: ${seen.size} servers each sent it at ` +
        `least ${this.minRetransmissions} unanswered SYN-ACKs (slow TCP SYN-ACK reflection).`,
      thresholds: [{ metric: 'retransmitting_reflectors', value: seen.size, threshold: this.minReflectors }],
      topSources: [...seen]
        .map(([address, packets]) => ({ address, packets }))
        .sort((a, b) => b.packets - a.packets),
      sampleFlows: [sample],
    });
  }
}

function serviceName(port: number): string {
  const name = REFLECTOR_PORTS[port];
  return name ? `${name} (UDP ${port})` : `port ${port}`;
}

export const amplificationFactory: DetectorFactory<AmplificationOptions> = {
  name: 'amplification',
  description:
    'Amplification/reflection: a victim flooded with responses from many reflectors (UDP from well-known ' +
    'reflector ports, or SYN-ACKs it never asked for) that it sent no (or far smaller) requests for.',
  defaults: {
    minPps: 100,
    minBitsPerSecond: 1_000_000,
    minReflectors: 3,
    minByteRatio: 10,
    minSynAckRetransmissions: 4,
    minRetransmittingReflectors: 2,
    windowSeconds: 1,
    victims: 4096,
  },
  help: {
    minPps:
      'Response packets per second to one victim, over the sliding window. 100/s: the slowest reflection ' +
      'in the corpus (fragmented DNSSEC RRSIG answers) runs at 110-250/s; a host rarely gets 100 answers a ' +
      'second it did not ask for.',
    minBitsPerSecond:
      'Response bits per second to one victim as well. 1 Mbit/s: amplification is about bytes; many small ' +
      'answers at a low bit rate hurt no one.',
    minReflectors:
      'Distinct reflectors (HyperLogLog estimate). 3: reflection uses many servers (240 to 7,000 in the ' +
      'corpus); one or two busy servers (RDP, TURN, a game server) answering one host are a conversation. ' +
      'A flood from one or two sources is left to udp_flood.',
    minByteRatio:
      'When the victim did send requests to reflector ports, responses must outweigh them this many times. ' +
      '10: DNS and NTP answers are 1-5x their queries in normal use; amplified ones 10-500x (US-CERT TA14-017A).',
    minSynAckRetransmissions:
      'Slow TCP reflection: a connection the host never opened whose server sent this many SYN-ACKs ' +
      '(retransmissions: nobody answers them) marks a reflector. 4: servers retransmit an unanswered ' +
      'SYN-ACK up to 5 times (Linux tcp_synack_retries); a real client answers the first.',
    minRetransmittingReflectors:
      'Reflectors retransmitting unanswered SYN-ACKs to one host before a low-severity alert (the slow ' +
      'form of SYN-ACK reflection, each spoofed SYN amplified by retransmission; Kuehrer et al. 2014). 2.',
    windowSeconds: 'Length of the sliding rate window in seconds of packet time (1 s: alert within 2 s).',
    victims: 'Victims tracked at once (least recently seen evicted beyond that); about 0.5 kB each.',
  },
  create: (options, alerts) => new AmplificationDetector(options, alerts),
};
