/**
 * Floods from flow records, judged with the packet detectors' options and reported as their alerts
 * are: SYN floods (syn-flood.ts: `syn_flood` from one source, `ddos` from many) and volume floods
 * (volume-flood.ts: `udp_flood`, `icmp_flood`).
 *
 * Rates come from RecordVictimMeter (each record's counts spread over its span, on record time).
 * SYNs are the packets of records with SYN and no ACK (connections that never completed) plus one
 * per completed connection (a client's record with SYN and ACK), which also counts as a completed
 * handshake: a busy server's clients complete theirs, a flood's spoofed sources never do. UDP
 * packets and ICMP echo requests and replies count towards volume floods (ICMP errors answer other
 * traffic). A victim whose window crosses a threshold is judged on a tick at least
 * PENDING_GRACE_MICROS of record time later, so that the other direction of a conversation
 * (exported with it, read in any order) is known: one UDP source whose victim talks back
 * (maxReturnRatio) is a conversation, echo replies to the victim's own pings are no flood, one
 * source's SYNs to many ports are a port scan (maxSingleSourcePorts), and many sources from one
 * reflector port are reflection (amplification.ts's, not judged from records yet). An open alert is
 * brought up to date on ticks while the attack grows, at most once a second, and closed when the
 * victim was not hot for CLOSE_MICROS of record time (records can come minutes late).
 *
 * Must never keep per-source state (sketches only), allocate per record, or read a clock.
 */

import type { AlertTracker } from '../../alerts/alert-tracker.js';
import type { AlertReport } from '../../alerts/alert.js';
import { IpProto, TcpFlag } from '../../decode/packet-decoder.js';
import { IS_REFLECTOR_PORT } from '../amplification/reflector-ports.js';
import type { SynFloodOptions } from '../syn-flood/syn-flood.js';
import { floodSeverity, fmtBits, fmtCount, fmtDuration } from '../volume-flood/victim-meter.js';
import type { VolumeFloodOptions } from '../volume-flood/volume-flood.js';
import { PairPackets } from './pair-packets.js';
import { RecordVictimMeter } from './record-victim-meter.js';
import { fromServerPort, sampleOfRecord, type RecordView } from './record-view.js';

/** A victim that crossed a threshold is judged this long (record time) after, on a tick. */
export const PENDING_GRACE_MICROS = 5_000_000;
/** An open flood alert closes when its victim was not hot for this long (record time). */
export const CLOSE_MICROS = 120_000_000;
/** Victims awaiting judgement at once; beyond, a victim is judged at once, without the grace. */
const MAX_PENDING = 1024;
const REPORT_EVERY_MICROS = 1_000_000;
const PAIR_KEEP_MICROS = 300_000_000;

/** Volume meter classes (the key's extra), pair classes. */
const CLASS_UDP = 17;
const CLASS_ICMP = 1;
const PAIR_UDP = 1;
const PAIR_ECHO_REQUEST = 2;
const KIND_ONE_SOURCE = 1;
const KIND_MANY_SOURCES = 2;

/** The victims of one meter awaiting judgement, and those with an open alert. */
class Watch {
  readonly pendingSlot = new Int32Array(MAX_PENDING);
  readonly pendingGen = new Uint32Array(MAX_PENDING);
  readonly pendingSince = new Float64Array(MAX_PENDING);
  pendingCount = 0;
  readonly openList: Int32Array;
  readonly openIndex: Int32Array;
  openCount = 0;

  constructor(capacity: number) {
    this.openList = new Int32Array(capacity);
    this.openIndex = new Int32Array(capacity).fill(-1);
  }

  open(slot: number): void {
    if (this.openIndex[slot]! >= 0) return;
    this.openIndex[slot] = this.openCount;
    this.openList[this.openCount++] = slot;
  }

  close(slot: number): void {
    const i = this.openIndex[slot]!;
    if (i < 0) return;
    const moved = this.openList[--this.openCount]!;
    this.openList[i] = moved;
    this.openIndex[moved] = i;
    this.openIndex[slot] = -1;
  }
}

export class RecordFloods {
  private readonly syn: RecordVictimMeter;
  private readonly volume: RecordVictimMeter;
  private readonly synWatch: Watch;
  private readonly volumeWatch: Watch;
  private readonly pairs = new PairPackets(PAIR_KEEP_MICROS);
  private readonly sourceWords = new Uint32Array(4);
  private readonly victimWords = new Uint32Array(4);
  private now = 0;

  constructor(
    private readonly synOptions: SynFloodOptions,
    private readonly volumeOptions: VolumeFloodOptions,
    private readonly alerts: AlertTracker,
  ) {
    const s = synOptions;
    const o = volumeOptions;
    this.synWatch = new Watch(Math.max(1, Math.floor(s.victims)));
    this.volumeWatch = new Watch(Math.max(1, Math.floor(o.victims)));
    // Windows of at least 10 ms, as the packet detectors' (they floor windowSeconds at 0.01).
    this.syn = new RecordVictimMeter(s.victims, Math.max(0.01, s.windowSeconds) * 1e6, (slot) =>
      this.onEvicted(this.syn, this.synWatch, slot),
    );
    this.volume = new RecordVictimMeter(o.victims, Math.max(0.01, o.windowSeconds) * 1e6, (slot) =>
      this.onEvicted(this.volume, this.volumeWatch, slot),
    );
    // A quarter of a threshold (bit rates in 1,500-byte packets) marks a victim as under attack.
    this.syn.setHotLevel(0, s.minSynRate / 4);
    this.volume.setHotLevel(CLASS_UDP, Math.min(o.udpMinPps, o.udpMinBitsPerSecond / 12_000) / 4);
    this.volume.setHotLevel(CLASS_ICMP, Math.min(o.icmpMinPps, o.icmpMinBitsPerSecond / 12_000) / 4);
  }

  /** Victims tracked now, evicted so far, and record shares too old for the rates. */
  get tracked(): number {
    return this.syn.table.size + this.volume.table.size;
  }
  get evictedCount(): number {
    return this.syn.table.evicted + this.volume.table.evicted;
  }
  get outsideHorizon(): number {
    return this.syn.outsideHorizon + this.volume.outsideHorizon;
  }

  onRecord(v: RecordView): void {
    const proto = v.proto;
    if (proto === IpProto.TCP) this.tcp(v);
    else if (proto === IpProto.UDP) this.udp(v);
    else if (proto === IpProto.ICMP || proto === IpProto.ICMPV6) this.icmp(v);
  }

  /** Judges the victims whose grace is over, updates open alerts and closes quiet ones. */
  tick(now: number): void {
    this.now = now;
    this.judgePending(this.syn, this.synWatch, now, false);
    this.judgePending(this.volume, this.volumeWatch, now, false);
    this.updateOpen(this.syn, this.synWatch, now, false);
    this.updateOpen(this.volume, this.volumeWatch, now, false);
  }

  /** End of input: judges every pending victim and brings open alerts up to date. */
  finish(now: number): void {
    this.now = now;
    this.judgePending(this.syn, this.synWatch, now, true);
    this.judgePending(this.volume, this.volumeWatch, now, true);
    this.updateOpen(this.syn, this.synWatch, now, true);
    this.updateOpen(this.volume, this.volumeWatch, now, true);
  }

  private tcp(v: RecordView): void {
    const f = v.tcpFlags;
    if ((f & TcpFlag.SYN) === 0) return;
    const m = this.syn;
    const completed = (f & TcpFlag.ACK) !== 0;
    // The server's SYN-ACK side of a connection: its client's record tells the handshake.
    if (completed && fromServerPort(v.srcPort, v.dstPort)) return;
    const slot = m.victim(v, 0);
    m.add(slot, v, completed, v.dstPort);
    if (completed) m.extra[slot]!++;
    if (m.touchedPps >= this.synOptions.minSynRate) this.markPending(m, this.synWatch, slot, v);
  }

  private udp(v: RecordView): void {
    const m = this.volume;
    const o = this.volumeOptions;
    this.pairs.add(PAIR_UDP, v);
    const slot = m.victim(v, CLASS_UDP);
    m.add(slot, v, false, v.srcPort);
    if (m.touchedPps >= o.udpMinPps || m.touchedBps >= o.udpMinBitsPerSecond)
      this.markPending(m, this.volumeWatch, slot, v);
  }

  private icmp(v: RecordView): void {
    const m = this.volume;
    const o = this.volumeOptions;
    const v6 = v.proto === IpProto.ICMPV6;
    const isRequest = v.icmpType === (v6 ? 128 : 8);
    const isReply = v.icmpType === (v6 ? 129 : 0);
    if (!isRequest && !isReply) return;
    if (isRequest) this.pairs.add(PAIR_ECHO_REQUEST, v);
    const slot = m.victim(v, CLASS_ICMP);
    m.add(slot, v, false, 0);
    if (isReply) m.extra[slot]! += v.packets;
    if (m.touchedPps >= o.icmpMinPps || m.touchedBps >= o.icmpMinBitsPerSecond)
      this.markPending(m, this.volumeWatch, slot, v);
  }

  /** Queues the receiver of record `v` (in `slot`) for judgement. Rare: a window crossed a threshold. */
  private markPending(m: RecordVictimMeter, watch: Watch, slot: number, v: RecordView): void {
    if (m.pending[slot] === 1 || m.kind[slot] !== 0) return;
    const ts = v.lastUs;
    if (watch.pendingCount === MAX_PENDING) {
      this.judge(m, watch, slot, Math.max(ts, this.now));
      return;
    }
    m.pending[slot] = 1;
    const n = watch.pendingCount++;
    watch.pendingSlot[n] = slot;
    watch.pendingGen[n] = m.generation[slot]!;
    watch.pendingSince[n] = ts;
  }

  private judgePending(m: RecordVictimMeter, watch: Watch, now: number, all: boolean): void {
    let kept = 0;
    for (let i = 0; i < watch.pendingCount; i++) {
      const slot = watch.pendingSlot[i]!;
      const gen = watch.pendingGen[i]!;
      const since = watch.pendingSince[i]!;
      if (gen !== m.generation[slot]) continue;
      if (!all && now - since < PENDING_GRACE_MICROS) {
        watch.pendingSlot[kept] = slot;
        watch.pendingGen[kept] = gen;
        watch.pendingSince[kept] = since;
        kept++;
        continue;
      }
      m.pending[slot] = 0;
      this.judge(m, watch, slot, now);
    }
    watch.pendingCount = kept;
  }

  private updateOpen(m: RecordVictimMeter, watch: Watch, now: number, all: boolean): void {
    // Backwards: closing moves the last listed slot (already visited) into the closed one's place.
    for (let i = watch.openCount - 1; i >= 0; i--) {
      const slot = watch.openList[i]!;
      const grew = m.packets[slot] !== m.reportedPackets[slot];
      const quiet = now - m.hotAt[slot]! > CLOSE_MICROS;
      if (grew && (all || quiet || now - m.reportedAt[slot]! >= REPORT_EVERY_MICROS))
        this.report(m, slot, now);
      if (quiet) {
        m.kind[slot] = 0;
        watch.close(slot);
      }
    }
  }

  /** A victim about to be evicted: its open alert gets its last figures. */
  private onEvicted(m: RecordVictimMeter, watch: Watch, slot: number): void {
    if (m.kind[slot] !== 0 && m.packets[slot] !== m.reportedPackets[slot]) this.report(m, slot, this.now);
    m.kind[slot] = 0;
    m.pending[slot] = 0;
    watch.close(slot);
  }

  private judge(m: RecordVictimMeter, watch: Watch, slot: number, now: number): void {
    const kind = m === this.syn ? this.synKind(slot) : this.volumeKind(slot, now);
    if (kind === 0) return;
    m.kind[slot] = kind;
    m.attacker[slot] = kind === KIND_ONE_SOURCE ? m.sourceAddress(m.topSource(slot)) : null;
    watch.open(slot);
    this.report(m, slot, now);
  }

  /**
   * Packets the attack's own totals must hold before it is judged: half a window at the threshold
   * rate (syn-flood.ts waits for as many). A late record can touch a window made hot by records
   * before the totals restarted; alone it is no attack.
   */
  private minEvidence(ratePerSecond: number, m: RecordVictimMeter): number {
    return (ratePerSecond * m.windowMicros) / 2e6;
  }

  /** syn-flood.ts's judgement: rate, half-open share, and not one source's port scan. */
  private synKind(slot: number): number {
    const m = this.syn;
    const o = this.synOptions;
    const syns = m.packets[slot]!;
    if (m.peakPps[slot]! < o.minSynRate || syns < this.minEvidence(o.minSynRate, m)) return 0;
    const halfOpen = Math.max(0, syns - m.extra[slot]!);
    if (halfOpen / syns < o.minHalfOpenRatio) return 0;
    const oneSource = m.sourcePackets(m.topSource(slot)) >= 0.5 * syns;
    if (oneSource && m.distinctPorts(slot) > o.maxSingleSourcePorts) return 0;
    return oneSource ? KIND_ONE_SOURCE : KIND_MANY_SOURCES;
  }

  /** volume-flood.ts's judgement: rate, not a conversation, not reflection, not the victim's pings. */
  private volumeKind(slot: number, now: number): number {
    const m = this.volume;
    const o = this.volumeOptions;
    const udp = m.classOf(slot) === CLASS_UDP;
    const minPps = udp ? o.udpMinPps : o.icmpMinPps;
    const minBps = udp ? o.udpMinBitsPerSecond : o.icmpMinBitsPerSecond;
    if (m.peakPps[slot]! < minPps && m.peakBps[slot]! < minBps) return 0;
    const packets = m.packets[slot]!;
    if (packets < this.minEvidence(Math.min(minPps, minBps / 12_000), m)) return 0;
    const top = m.topSource(slot);
    const oneSource = m.sourcePackets(top) >= 0.5 * packets;
    if (!oneSource) {
      if (udp && IS_REFLECTOR_PORT[m.portVote[slot]!] === 1) return 0;
      return KIND_MANY_SOURCES;
    }
    const src = this.sourceWords;
    const version = m.sourceWords(top, src);
    const victim = this.victimWords;
    for (let k = 0; k < 4; k++) victim[k] = m.table.keyWord(slot, k + 1);
    if (udp) {
      const from = Math.max(m.sourcePackets(top), this.pairs.get(PAIR_UDP, version, src, victim, now));
      const back = this.pairs.get(PAIR_UDP, version, victim, src, now);
      if (Math.min(from, back) > o.maxReturnRatio * Math.max(from, back)) return 0;
    } else if (m.extra[slot]! >= 0.5 * packets) {
      // Mostly echo replies: answers to the victim's own pings are no flood.
      const asked = this.pairs.get(PAIR_ECHO_REQUEST, version, victim, src, now);
      if (asked > o.maxReturnRatio * m.sourcePackets(top)) return 0;
    }
    return KIND_ONE_SOURCE;
  }

  private report(m: RecordVictimMeter, slot: number, now: number): void {
    m.reportedAt[slot] = now;
    m.reportedPackets[slot] = m.packets[slot]!;
    const r = m === this.syn ? this.synReport(slot) : this.volumeReport(slot);
    const row = m.lastRow[slot];
    if (row) r.sampleFlows = [sampleOfRecord(row)];
    this.alerts.report(r);
  }

  /** Reads as syn-flood.ts's report. */
  private synReport(slot: number): AlertReport {
    const m = this.syn;
    const o = this.synOptions;
    const syns = m.packets[slot]!;
    const completed = Math.min(syns, m.extra[slot]!);
    const halfOpen = syns - completed;
    const ratio = syns > 0 ? halfOpen / syns : 0;
    const oneSource = m.kind[slot] === KIND_ONE_SOURCE;
    const sources = oneSource ? 1 : Math.max(2, m.distinctSources(slot));
    const ports = m.distinctPorts(slot);
    const victim = m.victimAddress(slot);
    const target = ports <= 1 ? `${victim}:${m.portVote[slot]}` : victim;
    const peak = m.displayPps(slot);
    const src = oneSource ? m.attacker[slot]! : null;
    const who = oneSource ? src : `~${fmtCount(sources)} sources`;
    return {
      type: oneSource ? 'syn_flood' : 'ddos',
      severity: floodSeverity(peak, o.minSynRate, sources),
      src,
      dst: victim,
      at: m.last[slot]!,
      startedAt: m.started[slot]!,
      counters: {
        syns: Math.round(syns),
        halfOpen: Math.round(halfOpen),
        completedHandshakes: Math.round(completed),
        sources,
        dstPorts: ports,
        bytes: m.bytes[slot]!,
        peakSynPerSecond: Math.round(peak),
      },
      summary:
        `${who} sent ${fmtCount(syns)} SYNs to ${target} in ${fmtDuration(m.last[slot]! - m.started[slot]!)} ` +
        `(peak ${fmtCount(peak)}/s); ${Math.round(ratio * 100)}% never completed a handshake ` +
        `(${oneSource ? 'SYN flood' : 'distributed SYN flood'}; seen in flow records).`,
      thresholds: [
        { metric: 'syn_per_second', value: Math.round(peak), threshold: o.minSynRate },
        { metric: 'half_open_ratio', value: Number(ratio.toFixed(3)), threshold: o.minHalfOpenRatio },
      ],
      topSources: m.topSources(slot),
    };
  }

  /** Reads as volume-flood.ts's report. */
  private volumeReport(slot: number): AlertReport {
    const m = this.volume;
    const o = this.volumeOptions;
    const udp = m.classOf(slot) === CLASS_UDP;
    const minPps = udp ? o.udpMinPps : o.icmpMinPps;
    const minBps = udp ? o.udpMinBitsPerSecond : o.icmpMinBitsPerSecond;
    const packets = m.packets[slot]!;
    const oneSource = m.kind[slot] === KIND_ONE_SOURCE;
    const sources = oneSource ? 1 : Math.max(2, m.distinctSources(slot));
    const victim = m.victimAddress(slot);
    const peakPps = m.displayPps(slot);
    const peakBps = m.displayBps(slot);
    const src = oneSource ? m.attacker[slot]! : null;
    const what = udp ? 'UDP packets' : 'ICMP echo packets';
    const scale = Math.max(peakPps / Math.max(1, minPps), peakBps / Math.max(1, minBps));
    return {
      type: udp ? 'udp_flood' : 'icmp_flood',
      severity: floodSeverity(scale, 1, sources),
      src,
      dst: victim,
      at: m.last[slot]!,
      startedAt: m.started[slot]!,
      counters: {
        packets: Math.round(packets),
        bytes: Math.round(m.bytes[slot]!),
        sources,
        peakPacketsPerSecond: Math.round(peakPps),
        peakBitsPerSecond: Math.round(peakBps),
      },
      summary:
        `${oneSource ? src : `~${fmtCount(sources)} sources`} sent ${fmtCount(packets)} ${what} ` +
        `(${fmtCount(m.bytes[slot]! / 1000)} kB) to ${victim} in ${fmtDuration(m.last[slot]! - m.started[slot]!)} ` +
        `(peak ${fmtCount(peakPps)} packets/s, ${fmtBits(peakBps)}; seen in flow records).`,
      thresholds: [
        { metric: 'packets_per_second', value: Math.round(peakPps), threshold: minPps },
        { metric: 'bits_per_second', value: Math.round(peakBps), threshold: minBps },
      ],
      topSources: m.topSources(slot),
    };
  }
}
