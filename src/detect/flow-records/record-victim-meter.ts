/**
 * Per-victim traffic from flow records, for the flood checks (record-floods.ts): the flow-record
 * counterpart of volume-flood/victim-meter.ts, whose rates come one packet at a time. A record is
 * a count over a span, exported seconds to minutes after it began and not in order, so each victim
 * (a KeyTable slot: memory is fixed whatever the traffic) keeps a ring of BUCKETS rate windows of
 * `windowMicros` on record time, and each record's packets and bytes are spread over the windows
 * its span covers, in proportion (a 60 s record of 600,000 packets is 10,000 packets a second, not
 * 600,000 at its export). Counts only grow, so a window that crosses a threshold has crossed it
 * whatever comes later; a record's share older than the ring is left out of the rates (counted in
 * `outsideHorizon`), never added to the wrong window.
 *
 * Beside the rates, since the attack's evidence began: totals, distinct sources (HyperLogLog, 128
 * registers: Flajolet et al. 2007, as victim-meter.ts) and the heaviest sources (Space-Saving with
 * 8 counters, Metwally et al. 2005, weighted by each record's packets), the dominant port
 * (Boyer-Moore majority vote) and a 64-bit bitmap of ports. The totals restart whenever the victim
 * was below its `hotPps` level for two windows, so a victim's ordinary traffic before an attack
 * does not dilute the attack's sources. A slot's state is meant to be judged on ticks (pending,
 * open), not per record.
 *
 * Must never read a clock or allocate per record. Times and counts are read from the record view,
 * never passed as arguments: a number that is no small integer, passed to a call that is not
 * inlined, is boxed (measured: 16 bytes each, three per record before this was done).
 */

import type { FlowRow } from '../../store/flow-repository.js';
import { formatIp } from '../../util/ip-address.js';
import type { RecordView } from './record-view.js';
import { mix32 } from '../../util/hash.js';
import {
  bitmapDistinct,
  hllAdd,
  hllEstimate,
  HLL_REGISTERS,
  TOP_SOURCES,
  TopSources,
} from '../volume-flood/victim-sketches.js';
import { KeyTable } from '../key-table.js';

/**
 * Rate windows kept per victim: 256 one-second windows span more than four minutes of records
 * out of order (routers' idle and active timeouts are 15 s to 60 s by default).
 */
export const BUCKETS = 256;
const BUCKET_MASK = BUCKETS - 1;

export class RecordVictimMeter {
  readonly table: KeyTable;
  readonly windowMicros: number;
  /** Record shares left out of the rates because they were older than the ring. */
  outsideHorizon = 0;
  /** The highest window rates the last `add` reached (packets and bits per second). */
  touchedPps = 0;
  touchedBps = 0;

  private readonly ringPackets: Float32Array;
  private readonly ringBytes: Float32Array;
  /** Newest window number per slot (record time / windowMicros). */
  private readonly head: Float64Array;

  /** Totals since the attack's evidence began. */
  readonly started: Float64Array;
  readonly last: Float64Array;
  readonly packets: Float64Array;
  readonly bytes: Float64Array;
  /** Detector-specific total (completed handshakes, echo replies), reset with the others. */
  readonly extra: Float64Array;
  readonly peakPps: Float64Array;
  readonly peakBps: Float64Array;
  /** Record time of the last window at or above the slot's hot level. */
  readonly hotAt: Float64Array;
  /** Detector-specific kind of the open alert; 0 while none is open. */
  readonly kind: Uint8Array;
  readonly reportedAt: Float64Array;
  readonly reportedPackets: Float64Array;
  /** The last record added, for a sample flow (a reference, not a copy). */
  readonly lastRow: (FlowRow | null)[];
  /** 1 while the slot awaits judgement (its totals are then kept, see victim). */
  readonly pending: Uint8Array;
  /** The single attacker of the open alert, null when many (set when the alert opens). */
  readonly attacker: (string | null)[];
  /** Bumped whenever the slot is given to another victim, so a stale reference is noticed. */
  readonly generation: Uint32Array;
  readonly portVote: Uint16Array;
  private readonly portVoteCount: Float64Array;
  private readonly portBits: Uint32Array;
  private readonly hll: Uint8Array;
  private readonly top: TopSources;
  /** Packets per second that make a window hot, by traffic class (see setHotLevel). */
  private readonly hotLevels = new Float64Array(256);

  /**
   * @param capacity victims tracked at once (least recently seen evicted beyond)
   * @param onEvict told of a slot about to be given to another victim (its state still readable)
   */
  constructor(capacity: number, windowMicros: number, onEvict: (slot: number) => void) {
    const n = Math.max(1, Math.floor(capacity));
    this.windowMicros = Math.max(1000, windowMicros);
    this.table = new KeyTable(n, (slot) => {
      onEvict(slot);
      this.generation[slot]!++;
    });
    this.ringPackets = new Float32Array(n * BUCKETS);
    this.ringBytes = new Float32Array(n * BUCKETS);
    this.head = new Float64Array(n);
    this.started = new Float64Array(n);
    this.last = new Float64Array(n);
    this.packets = new Float64Array(n);
    this.bytes = new Float64Array(n);
    this.extra = new Float64Array(n);
    this.peakPps = new Float64Array(n);
    this.peakBps = new Float64Array(n);
    this.hotAt = new Float64Array(n);
    this.kind = new Uint8Array(n);
    this.reportedAt = new Float64Array(n);
    this.reportedPackets = new Float64Array(n);
    this.lastRow = new Array<FlowRow | null>(n).fill(null);
    this.pending = new Uint8Array(n);
    this.attacker = new Array<string | null>(n).fill(null);
    this.generation = new Uint32Array(n);
    this.portVote = new Uint16Array(n);
    this.portVoteCount = new Float64Array(n);
    this.portBits = new Uint32Array(n * 2);
    this.hll = new Uint8Array(n * HLL_REGISTERS);
    this.top = new TopSources(n);
  }

  /** Windows of traffic class `cls` (0-255) at `pps` or more mark their victim hot. */
  setHotLevel(cls: number, pps: number): void {
    this.hotLevels[cls] = pps;
  }

  /**
   * The slot of the receiver of record `v` for traffic class `cls` (0-255), created when new. A
   * victim with no open alert whose last hot window ended two windows before the record began
   * starts its totals afresh (a long or late record that overlaps the hot windows keeps them).
   */
  victim(v: RecordView, cls: number): number {
    const t = this.table;
    const ts = v.firstUs;
    t.setKey(v.version, v.dst, 0, null, 0, cls);
    const slot = t.upsert();
    if (t.created) {
      this.head[slot] = -Infinity;
      this.ringPackets.fill(0, slot * BUCKETS, (slot + 1) * BUCKETS);
      this.ringBytes.fill(0, slot * BUCKETS, (slot + 1) * BUCKETS);
      this.hotAt[slot] = -Infinity;
      this.kind[slot] = 0;
      this.pending[slot] = 0;
      this.attacker[slot] = null;
      this.reportedAt[slot] = 0;
      this.resetAttack(slot, v);
    } else if (
      this.kind[slot] === 0 &&
      this.pending[slot] === 0 &&
      ts - this.hotAt[slot]! > 2 * this.windowMicros
    ) {
      this.resetAttack(slot, v);
    }
    return slot;
  }

  /**
   * Adds record `v` (its sender, counts and span) to its receiver's `slot`; a `handshake` adds one
   * packet at the record's start instead (a completed connection's SYN). `port` is what the
   * detector votes on (the sender's or the victim's). Sets touchedPps/touchedBps; windows reaching
   * the class's hot level mark the victim hot (see victim).
   */
  add(slot: number, v: RecordView, handshake: boolean, port: number): void {
    const packets = handshake ? 1 : v.packets;
    this.packets[slot]! += packets;
    if (!handshake) this.bytes[slot]! += v.bytes;
    const last = handshake ? v.firstUs : v.lastUs;
    if (last > this.last[slot]!) this.last[slot] = last;
    if (v.firstUs < this.started[slot]!) this.started[slot] = v.firstUs;
    this.lastRow[slot] = v.row;
    this.spread(slot, v, handshake);
    if (this.touchedPps > this.peakPps[slot]!) this.peakPps[slot] = this.touchedPps;
    if (this.touchedBps > this.peakBps[slot]!) this.peakBps[slot] = this.touchedBps;

    const pb = mix32(port + 0x51ed27) & 63;
    this.portBits[(slot << 1) + (pb >>> 5)]! |= 1 << (pb & 31);
    const votes = this.portVoteCount[slot]!;
    if (this.portVote[slot] === port) this.portVoteCount[slot] = votes + packets;
    else if (votes > packets) this.portVoteCount[slot] = votes - packets;
    else {
      this.portVote[slot] = port;
      this.portVoteCount[slot] = packets - votes;
    }
    this.addSource(slot, v, packets);
  }

  /** Spreads the record over the windows of its span that the ring still holds. */
  private spread(slot: number, v: RecordView, handshake: boolean): void {
    const first = v.firstUs;
    const last = handshake ? first : v.lastUs;
    const packets = handshake ? 1 : v.packets;
    const bytes = handshake ? 0 : v.bytes;
    const w = this.windowMicros;
    const toRate = 1e6 / w;
    const b1 = Math.floor(last / w);
    let head = this.head[slot]!;
    if (b1 > head) {
      const from = Math.max(head + 1, b1 - BUCKETS + 1);
      const base = slot * BUCKETS;
      for (let b = from; b <= b1; b++) {
        this.ringPackets[base + (b & BUCKET_MASK)] = 0;
        this.ringBytes[base + (b & BUCKET_MASK)] = 0;
      }
      this.head[slot] = head = b1;
    }
    const oldest = head - BUCKETS + 1;
    let maxPackets = 0;
    let maxBytes = 0;
    const b0 = Math.floor(first / w);
    const span = last - first;
    if (b0 < oldest) this.outsideHorizon++;
    if (b1 >= oldest) {
      const base = slot * BUCKETS;
      for (let b = Math.max(b0, oldest); b <= b1; b++) {
        const share = b0 === b1 ? 1 : (Math.min(last, (b + 1) * w) - Math.max(first, b * w)) / span;
        const i = base + (b & BUCKET_MASK);
        const p = (this.ringPackets[i]! += packets * share);
        const y = (this.ringBytes[i]! += bytes * share);
        if (p > maxPackets) maxPackets = p;
        if (y > maxBytes) maxBytes = y;
      }
    }
    this.touchedPps = maxPackets * toRate;
    this.touchedBps = maxBytes * 8 * toRate;
    const hot = this.hotLevels[this.classOf(slot) & 0xff]!;
    if (this.touchedPps >= hot && last > this.hotAt[slot]!) this.hotAt[slot] = last;
  }

  private addSource(slot: number, v: RecordView, packets: number): void {
    const src = v.src;
    const version = v.version;
    const s0 = src[0]!;
    const s1 = src[1]!;
    const s2 = src[2]!;
    const s3 = src[3]!;
    hllAdd(this.hll, slot, s0, s1, s2, s3);

    this.top.add(slot, version, s0, s1, s2, s3, packets);
  }

  /**
   * The attack's peak packet rate as reported: its busiest window, or while the attack is shorter
   * than a window its own rate so far (as victim-meter.ts's displayRate: 1,000 packets in 8 ms
   * are 125,000 a second, not the 1,000 a one-second window holds), spans floored at 1 ms.
   */
  displayPps(slot: number): number {
    // Packets after the first over the span, as victim-meter.ts counts them.
    return Math.max(this.peakPps[slot]!, this.burst(slot, this.packets[slot]! - 1));
  }

  /** The attack's peak bit rate as reported, like displayPps. */
  displayBps(slot: number): number {
    return Math.max(this.peakBps[slot]!, this.burst(slot, this.bytes[slot]! * 8));
  }

  private burst(slot: number, amount: number): number {
    const span = this.last[slot]! - this.started[slot]!;
    if (span >= this.windowMicros || this.packets[slot]! < 2) return 0;
    return (amount * 1e6) / Math.max(span, 1000);
  }

  /** HyperLogLog estimate of the distinct sources since the attack began. */
  distinctSources(slot: number): number {
    return hllEstimate(this.hll, slot);
  }

  /** Distinct ports estimated from the 64-bit bitmap (linear counting; saturates near 200). */
  distinctPorts(slot: number): number {
    return bitmapDistinct(this.portBits[slot << 1]!, this.portBits[(slot << 1) + 1]!);
  }

  /** The heaviest source's counter index (its guaranteed packets are the largest), -1 when none. */
  topSource(slot: number): number {
    let best = -1;
    let bestCount = 0;
    for (let i = slot * TOP_SOURCES; i < slot * TOP_SOURCES + TOP_SOURCES; i++) {
      const g = this.top.count[i]! - this.top.error[i]!;
      if (g > bestCount) {
        bestCount = g;
        best = i;
      }
    }
    return best;
  }

  /** A counter's guaranteed packets (a lower bound of its source's true count). */
  sourcePackets(index: number): number {
    return index < 0 ? 0 : this.top.count[index]! - this.top.error[index]!;
  }

  /** Copies a counter's source address into `out` (four words); returns its IP version. */
  sourceWords(index: number, out: Uint32Array): number {
    for (let k = 0; k < 4; k++) out[k] = this.top.addr[(index << 2) + k]!;
    return this.top.version[index]!;
  }

  /** A counter's source address as text. */
  sourceAddress(index: number): string {
    return formatIp(this.top.version[index]!, this.top.addr, index << 2);
  }

  /** The heaviest sources, largest first, by guaranteed packets (allocates: reports only). */
  topSources(slot: number, n = 5): { address: string; packets: number }[] {
    const out: { address: string; packets: number }[] = [];
    for (let i = slot * TOP_SOURCES; i < slot * TOP_SOURCES + TOP_SOURCES; i++) {
      const g = this.top.count[i]! - this.top.error[i]!;
      if (g > 0) out.push({ address: this.sourceAddress(i), packets: Math.round(g) });
    }
    return out.sort((a, b) => b.packets - a.packets).slice(0, n);
  }

  /** The victim's address as text. */
  victimAddress(slot: number): string {
    const k = this.table.keyOf(slot);
    return formatIp(k.version, k.a);
  }

  /** The traffic class the slot was created for (the `cls` of victim()). */
  classOf(slot: number): number {
    return this.table.keyWord(slot, 0) & 0xffff;
  }

  private resetAttack(slot: number, v: RecordView): void {
    this.started[slot] = v.firstUs;
    this.last[slot] = v.firstUs;
    this.packets[slot] = 0;
    this.bytes[slot] = 0;
    this.extra[slot] = 0;
    this.peakPps[slot] = 0;
    this.peakBps[slot] = 0;
    this.reportedPackets[slot] = 0;
    this.portBits[slot << 1] = 0;
    this.portBits[(slot << 1) + 1] = 0;
    this.portVote[slot] = 0;
    this.portVoteCount[slot] = 0;
    this.hll.fill(0, slot * HLL_REGISTERS, (slot + 1) * HLL_REGISTERS);
    this.top.count.fill(0, slot * TOP_SOURCES, (slot + 1) * TOP_SOURCES);
    this.top.error.fill(0, slot * TOP_SOURCES, (slot + 1) * TOP_SOURCES);
    this.top.addr.fill(0, slot * TOP_SOURCES * 4, (slot + 1) * TOP_SOURCES * 4);
    this.top.version.fill(0, slot * TOP_SOURCES, (slot + 1) * TOP_SOURCES);
  }
}
