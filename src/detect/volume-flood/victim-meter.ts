/**
 * Per-victim traffic meter shared by the flood detectors (syn-flood, volume-flood, amplification):
 * for each victim address (a KeyTable slot, so a flood of millions of sources or victims cannot
 * grow memory) it keeps a packet rate on packet time, the attack's running totals, an estimate of
 * how many distinct sources took part and the heaviest of them.
 *
 * - Rate: a sliding-window counter approximated from two tumbling windows (the current count plus
 *   the previous window's count weighted by how much of it still overlaps the sliding window), the
 *   estimate rate limiters such as Cloudflare's and nginx's use. O(1) per packet, no timestamps kept.
 * - Distinct sources: HyperLogLog with 128 one-byte registers per victim (Flajolet, Fusy, Gandouet,
 *   Meunier 2007; standard error 1.04/sqrt(128) = 9%), with linear counting for small counts.
 * - Heaviest sources: Space-Saving with 8 counters per victim (Metwally, Agrawal, El Abbadi 2005).
 *   A counter's guaranteed packets (count minus the error it inherited) is what is reported, so a
 *   spoofed flood's one-packet sources never show as heavy.
 *
 * An attack's alert is open from its first report until its rate window closes quiet; then the
 * detector gets one last report (`onQuiet`), on the victim's next packet or, if none comes, on the
 * engine's tick (`closeQuiet`), so an attack that stops gets its final figures within seconds.
 *
 * Must never allocate on the packet path (only when a detector builds a report) and never read a
 * clock: every time is a packet's or the engine's tick's.
 */

import type { SampleFlow } from '../../alerts/alert.js';
import { sampleFlowOf } from '../../alerts/sample-flow.js';
import type { FlowTable } from '../../flows/flow-table.js';
import { formatIp } from '../../util/ip-address.js';
import { KeyTable } from '../key-table.js';
import { mix32 } from '../../util/hash.js';
import {
  bitmapDistinct,
  hllAdd,
  hllEstimate,
  HLL_REGISTERS,
  TOP_SOURCES,
  TopSources,
} from './victim-sketches.js';

/**
 * An attack that pauses and resumes within this long keeps its totals: the alert tracker's default
 * merge gap (alert-tracker.ts), so the merged alert's counters are the whole attack's.
 */
const RESUME_MICROS = 300_000_000;

export interface VictimMeterOptions {
  /** Victims tracked at once (LRU beyond that). */
  capacity: number;
  /** Length of the rate window, microseconds. */
  windowMicros: number;
  /**
   * Start a new victim's totals with the packets the pre-filter counted before admitting it. Off
   * where totals are compared with answers counted only once the victim is metered.
   */
  seedTotals?: boolean;
}

/** A source as reported in `topSources`. */
export interface TopSource {
  address: string;
  packets: number;
}

export class VictimMeter {
  readonly table: KeyTable;
  private readonly windowMicros: number;
  private readonly seedTotals: boolean;

  /** Start of the current tumbling window. */
  readonly winStart: Float64Array;
  readonly winPackets: Float64Array;
  readonly prevPackets: Float64Array;
  readonly winBytes: Float64Array;
  readonly prevBytes: Float64Array;
  /** Totals since the attack's evidence began (reset when the victim is quiet). */
  readonly started: Float64Array;
  readonly last: Float64Array;
  readonly packets: Float64Array;
  readonly bytes: Float64Array;
  /** Detector-specific totals (answers, requests, ...), reset with the others. */
  readonly extraA: Float64Array;
  readonly extraB: Float64Array;
  /** Packet time of the last report; 0 while no alert is open for the victim (see markReported). */
  readonly reportedAt: Float64Array;
  /** Detector-specific kind of the open alert (e.g. one source or many). */
  readonly kind: Uint8Array;
  /** Peak estimated rate seen during the attack. */
  readonly peakPps: Float64Array;
  readonly peakBps: Float64Array;
  /** 64-bit bitmap of ports (linear counting of distinct ports, small counts only). */
  readonly portBits: Uint32Array;
  /** Majority vote of one port (Boyer and Moore 1981): the attack's dominant port. */
  readonly portVote: Uint16Array;
  readonly portVoteCount: Uint32Array;
  /** Flow slot of the latest packet (for a sample flow). */
  readonly lastFlow: Int32Array;

  /**
   * Pre-filter: a direct-mapped array of per-window packet counters by hash of (victim, extra), so
   * a victim takes a KeyTable slot only once its bucket nears a threshold in one window. Most
   * packets then cost one hash and two array writes. Collisions only add counts (never hide a
   * flood); a bucket that passed stays open ("hot") for two windows so an attack is metered whole.
   */
  private readonly bucketWindow: Float64Array;
  private readonly bucketPackets: Uint32Array;
  private readonly bucketBytes: Float64Array;
  private readonly bucketFirst: Float64Array;
  private readonly bucketHotUntil: Float64Array;
  private readonly bucketMask: number;
  private admitted = -1;
  /** The key and slot of the last `victim` call (see there). */
  private readonly cachedKey = new Uint32Array(5);
  private cachedSlot = -1;
  private admittedBytes = 0;

  /** The `quietPackets` of the victim's last `victim` call: what closeQuiet judges it by. */
  private readonly quietPackets: Float64Array;
  /**
   * Slots with an open alert (reportedAt not 0), unordered, and each slot's index in that list
   * (-1 when not open): the tick visits the open attacks only, never the whole table.
   */
  private readonly openList: Int32Array;
  private readonly openIndex: Int32Array;
  private openCount = 0;

  private readonly hll: Uint8Array;
  private readonly top: TopSources;

  constructor(options: VictimMeterOptions) {
    const n = Math.max(1, Math.floor(options.capacity));
    this.windowMicros = Math.max(1, options.windowMicros);
    this.seedTotals = options.seedTotals ?? false;
    this.table = new KeyTable(n);
    this.winStart = new Float64Array(n);
    this.winPackets = new Float64Array(n);
    this.prevPackets = new Float64Array(n);
    this.winBytes = new Float64Array(n);
    this.prevBytes = new Float64Array(n);
    this.started = new Float64Array(n);
    this.last = new Float64Array(n);
    this.packets = new Float64Array(n);
    this.bytes = new Float64Array(n);
    this.extraA = new Float64Array(n);
    this.extraB = new Float64Array(n);
    this.reportedAt = new Float64Array(n);
    this.kind = new Uint8Array(n);
    this.peakPps = new Float64Array(n);
    this.peakBps = new Float64Array(n);
    this.portBits = new Uint32Array(n * 2);
    this.portVote = new Uint16Array(n);
    this.portVoteCount = new Uint32Array(n);
    this.lastFlow = new Int32Array(n);
    this.quietPackets = new Float64Array(n);
    this.openList = new Int32Array(n);
    this.openIndex = new Int32Array(n).fill(-1);
    const buckets = 1 << 14;
    this.bucketMask = buckets - 1;
    this.bucketWindow = new Float64Array(buckets).fill(-1);
    this.bucketPackets = new Uint32Array(buckets);
    this.bucketBytes = new Float64Array(buckets);
    this.bucketFirst = new Float64Array(buckets);
    this.bucketHotUntil = new Float64Array(buckets);
    this.hll = new Uint8Array(n * HLL_REGISTERS);
    this.top = new TopSources(n);
  }

  /**
   * Counts a packet of `bytes` for (victim `addr`, `extra`) in the pre-filter; true when the
   * victim should be metered: its bucket reached `minPackets` in this window, or did recently.
   * Call `victim` right after a true answer (it seeds a new slot from the bucket).
   */
  admit(addr: Uint32Array, extra: number, ts: number, bytes: number, minPackets: number): boolean {
    const b = mix32(mix32(addr[0]! ^ addr[1]! ^ addr[2]! ^ addr[3]!) ^ extra) & this.bucketMask;
    const win = Math.floor(ts / this.windowMicros);
    if (this.bucketWindow[b] !== win) {
      this.bucketWindow[b] = win;
      this.bucketPackets[b] = 0;
      this.bucketBytes[b] = 0;
      this.bucketFirst[b] = ts;
    }
    const count = ++this.bucketPackets[b]!;
    this.bucketBytes[b]! += bytes;
    this.admitted = b;
    this.admittedBytes = bytes;
    if (ts < this.bucketHotUntil[b]!) return true;
    if (count < minPackets) return false;
    this.bucketHotUntil[b] = ts + 2 * this.windowMicros;
    return true;
  }

  /**
   * The victim's slot (created when new), with its windows advanced to `ts`. `onQuiet` is told
   * when a window closes below `quietPackets` while an alert is open (see roll).
   */
  victim(
    version: number,
    addr: ArrayLike<number>,
    extra: number,
    ts: number,
    quietPackets: number,
    onQuiet: (slot: number, ts: number) => void,
  ): number {
    const t = this.table;
    const c = this.cachedKey;
    const k0 = ((version << 16) | (extra & 0xffff)) >>> 0;
    let slot = this.cachedSlot;
    let created = false;
    if (
      slot < 0 ||
      c[0] !== k0 ||
      c[1] !== addr[0] ||
      c[2] !== addr[1] ||
      c[3] !== addr[2] ||
      c[4] !== addr[3]
    ) {
      t.setKey(version, addr, 0, null, 0, extra);
      slot = t.upsert();
      created = t.created;
      this.cachedSlot = slot;
      c[0] = k0;
      c[1] = addr[0]!;
      c[2] = addr[1]!;
      c[3] = addr[2]!;
      c[4] = addr[3]!;
    }
    // else: the same victim as the last call (a flood's common case). Its slot is still the most
    // recently touched (only upsert moves slots), so the hash lookup and LRU touch are skipped.
    this.quietPackets[slot] = quietPackets;
    if (created) {
      this.winStart[slot] = ts;
      this.winPackets[slot] = 0;
      this.prevPackets[slot] = 0;
      this.winBytes[slot] = 0;
      this.prevBytes[slot] = 0;
      // A slot taken over from an evicted victim may still be listed as open.
      this.clearReported(slot);
      this.resetAttack(slot, ts);
      const b = this.admitted;
      if (b >= 0 && this.bucketPackets[b]! > 1) {
        // Seed the rate window (and the totals when asked) from the pre-filter: the packets of
        // this window before the one being added.
        const first = this.bucketFirst[b]!;
        this.winStart[slot] = first;
        this.started[slot] = first;
        this.winPackets[slot] = this.bucketPackets[b]! - 1;
        this.winBytes[slot] = this.bucketBytes[b]! - this.admittedBytes;
        if (this.seedTotals) {
          this.packets[slot] = this.winPackets[slot]!;
          this.bytes[slot] = this.winBytes[slot]!;
        }
      }
      this.admitted = -1;
      return slot;
    }
    this.admitted = -1;
    this.roll(slot, ts, onQuiet);
    return slot;
  }

  /**
   * The engine's tick: advances the windows of every victim with an open alert to `now`, as a
   * packet at `now` would, so an attack whose window closed quiet gets its last report (`onQuiet`)
   * without waiting for the victim's next packet. Constant work per open alert, never a walk of
   * the table.
   */
  closeQuiet(now: number, onQuiet: (slot: number, ts: number) => void): void {
    const w = this.windowMicros;
    // Backwards: closing an alert moves the last listed slot (already visited) into its place.
    for (let i = this.openCount - 1; i >= 0; i--) {
      const slot = this.openList[i]!;
      if (now - this.winStart[slot]! >= w) this.roll(slot, now, onQuiet);
    }
  }

  /** Notes a report of the victim in `slot` at `ts`: its alert is open until it goes quiet. */
  markReported(slot: number, ts: number): void {
    this.reportedAt[slot] = ts;
    if (this.openIndex[slot]! >= 0) return;
    this.openIndex[slot] = this.openCount;
    this.openList[this.openCount++] = slot;
  }

  /**
   * Closes the windows that ended by `ts`. When a closed window held fewer than the victim's
   * `quietPackets` (or a whole window passed empty) the attack has paused: an open alert gets
   * its last report through `onQuiet`, timed at the attack's end (its last packet plus one window,
   * or `ts` if sooner: a quiet noticed hours later, on a capture's jump or the victim's next
   * burst, must not stretch the alert over the silence), and is closed, so it is never reported
   * as ended twice. Its totals are kept so a resumption (which the alert tracker merges into the
   * same alert) keeps counting from them, unless the silence outlasted RESUME_MICROS.
   */
  private roll(slot: number, ts: number, onQuiet: (slot: number, ts: number) => void): void {
    const w = this.windowMicros;
    const elapsed = ts - this.winStart[slot]!;
    if (elapsed < w) return;
    const skippedOne = elapsed >= 2 * w;
    const closed = this.winPackets[slot]!;
    this.prevPackets[slot] = skippedOne ? 0 : closed;
    this.prevBytes[slot] = skippedOne ? 0 : this.winBytes[slot]!;
    this.winPackets[slot] = 0;
    this.winBytes[slot] = 0;
    this.winStart[slot] = ts - (elapsed % w);
    if (!skippedOne && closed >= this.quietPackets[slot]!) return;
    if (this.reportedAt[slot] !== 0) {
      onQuiet(slot, Math.min(ts, this.last[slot]! + w));
      this.clearReported(slot);
    }
    if (this.kind[slot] === 0 || ts - this.last[slot]! > RESUME_MICROS) this.resetAttack(slot, ts);
  }

  private clearReported(slot: number): void {
    this.reportedAt[slot] = 0;
    const i = this.openIndex[slot]!;
    if (i < 0) return;
    const moved = this.openList[--this.openCount]!;
    this.openList[i] = moved;
    this.openIndex[moved] = i;
    this.openIndex[slot] = -1;
  }

  /** Counts one packet of `bytes` from `src` (4 words) on `port` towards the victim in `slot`. */
  add(
    slot: number,
    ts: number,
    version: number,
    src: ArrayLike<number>,
    bytes: number,
    port: number,
    flowSlot: number,
  ): void {
    this.winPackets[slot]!++;
    this.winBytes[slot]! += bytes;
    this.packets[slot]!++;
    this.bytes[slot]! += bytes;
    this.last[slot] = ts;
    this.lastFlow[slot] = flowSlot;
    // Distinct ports: one of 64 bits.
    const pb = mix32(port + 0x51ed27) & 63;
    this.portBits[(slot << 1) + (pb >>> 5)]! |= 1 << (pb & 31);
    if (this.portVote[slot] === port) this.portVoteCount[slot]!++;
    else if (this.portVoteCount[slot] === 0) {
      this.portVote[slot] = port;
      this.portVoteCount[slot] = 1;
    } else this.portVoteCount[slot]!--;

    const s0 = src[0]!;
    const s1 = src[1]!;
    const s2 = src[2]!;
    const s3 = src[3]!;
    hllAdd(this.hll, slot, s0, s1, s2, s3);

    this.top.add(slot, version, s0, s1, s2, s3, 1);
  }

  /** Estimated packets per second now: the sliding window over the last `windowMicros`. */
  packetRate(slot: number, ts: number): number {
    return this.slide(slot, ts, this.winPackets[slot]!, this.prevPackets[slot]!);
  }

  /** Estimated bits per second now. */
  bitRate(slot: number, ts: number): number {
    return 8 * this.slide(slot, ts, this.winBytes[slot]!, this.prevBytes[slot]!);
  }

  /** Packets in the sliding window (the count the rate is made of). */
  windowPackets(slot: number, ts: number): number {
    return (this.packetRate(slot, ts) * this.windowMicros) / 1e6;
  }

  /**
   * Records the peak rates (call at report time): the sliding-window rate now, or while the
   * attack is younger than the window its own rate so far (1,000 packets in 8 ms is 125,000/s,
   * not the 1,000/s a window that is mostly still empty says). So the first report of a fast
   * flood already carries its real rate, and the peak, which the summary states and the severity
   * is graded by, never falls back when the window fills.
   */
  notePeak(slot: number, ts: number): void {
    const pps = Math.max(this.packetRate(slot, ts), this.burstRate(slot));
    const bps = Math.max(this.bitRate(slot, ts), this.burstBitRate(slot));
    if (pps > this.peakPps[slot]!) this.peakPps[slot] = pps;
    if (bps > this.peakBps[slot]!) this.peakBps[slot] = bps;
  }

  /** The attack's peak packet rate, as reported (see notePeak): for the summary and the severity. */
  displayRate(slot: number): number {
    return Math.max(this.peakPps[slot]!, this.burstRate(slot));
  }

  /** The attack's peak bit rate, like displayRate. */
  displayBitRate(slot: number): number {
    return Math.max(this.peakBps[slot]!, this.burstBitRate(slot));
  }

  /** HyperLogLog estimate of the distinct sources since the attack began. */
  distinctSources(slot: number): number {
    return hllEstimate(this.hll, slot);
  }

  /** Distinct ports estimated from the 64-bit bitmap (linear counting; saturates near 200). */
  distinctPorts(slot: number): number {
    return bitmapDistinct(this.portBits[slot << 1]!, this.portBits[(slot << 1) + 1]!);
  }

  /** The heaviest source's guaranteed packets (a lower bound of its true count). */
  topSourcePackets(slot: number): number {
    let best = 0;
    for (let i = slot * TOP_SOURCES; i < slot * TOP_SOURCES + TOP_SOURCES; i++) {
      const g = this.top.count[i]! - this.top.error[i]!;
      if (g > best) best = g;
    }
    return best;
  }

  /** Address words offset of the heaviest source (for reading it with formatIp). */
  topSourceAddress(slot: number): string | null {
    let best = -1;
    let bestCount = 0;
    for (let i = slot * TOP_SOURCES; i < slot * TOP_SOURCES + TOP_SOURCES; i++) {
      const g = this.top.count[i]! - this.top.error[i]!;
      if (g > bestCount) {
        bestCount = g;
        best = i;
      }
    }
    return best < 0 ? null : formatIp(this.top.version[best]!, this.top.addr, best << 2);
  }

  /** The heaviest sources, largest first, by guaranteed packets (allocates: reports only). */
  topSources(slot: number, n = 5): TopSource[] {
    const out: TopSource[] = [];
    for (let i = slot * TOP_SOURCES; i < slot * TOP_SOURCES + TOP_SOURCES; i++) {
      const g = this.top.count[i]! - this.top.error[i]!;
      if (g <= 0) continue;
      out.push({ address: formatIp(this.top.version[i]!, this.top.addr, i << 2), packets: g });
    }
    return out.sort((a, b) => b.packets - a.packets).slice(0, n);
  }

  /** The victim's address as text. */
  victimAddress(slot: number): string {
    const k = this.table.keyOf(slot);
    return formatIp(k.version, k.a);
  }

  /** Slots with an open alert, in slot order (allocates: end of input only). */
  openSlots(): number[] {
    return Array.from(this.openList.subarray(0, this.openCount)).sort((a, b) => a - b);
  }

  /** Packets per second since the attack began, while that is shorter than the window; else 0. */
  private burstRate(slot: number): number {
    const span = this.last[slot]! - this.started[slot]!;
    if (span >= this.windowMicros || this.packets[slot]! < 2) return 0;
    return ((this.packets[slot]! - 1) * 1e6) / Math.max(span, 1000);
  }

  /** Bits per second since the attack began, like burstRate. */
  private burstBitRate(slot: number): number {
    const span = this.last[slot]! - this.started[slot]!;
    if (span >= this.windowMicros || this.packets[slot]! < 2) return 0;
    return (this.bytes[slot]! * 8e6) / Math.max(span, 1000);
  }

  private slide(slot: number, ts: number, cur: number, prev: number): number {
    const w = this.windowMicros;
    const into = Math.min(1, Math.max(0, (ts - this.winStart[slot]!) / w));
    return ((cur + prev * (1 - into)) * 1e6) / w;
  }

  private resetAttack(slot: number, ts: number): void {
    this.started[slot] = ts;
    this.last[slot] = ts;
    this.packets[slot] = 0;
    this.bytes[slot] = 0;
    this.extraA[slot] = 0;
    this.extraB[slot] = 0;
    this.kind[slot] = 0;
    this.peakPps[slot] = 0;
    this.peakBps[slot] = 0;
    this.portBits[slot << 1] = 0;
    this.portBits[(slot << 1) + 1] = 0;
    this.portVote[slot] = 0;
    this.portVoteCount[slot] = 0;
    this.lastFlow[slot] = -1;
    this.hll.fill(0, slot * HLL_REGISTERS, (slot + 1) * HLL_REGISTERS);
    this.top.count.fill(0, slot * TOP_SOURCES, (slot + 1) * TOP_SOURCES);
    this.top.error.fill(0, slot * TOP_SOURCES, (slot + 1) * TOP_SOURCES);
    this.top.addr.fill(0, slot * TOP_SOURCES * 4, (slot + 1) * TOP_SOURCES * 4);
  }
}

/** The flow in `flowSlot` as a sample (reports only), or null when it is gone. */
export function sampleOfFlow(flows: FlowTable, flowSlot: number): SampleFlow | null {
  return flowSlot < 0 || flowSlot >= flows.allocatedSlots ? null : sampleFlowOf(flows, flowSlot);
}

/** "1,234" */
export function fmtCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** "1.2 Mbit/s" */
export function fmtBits(bps: number): string {
  if (bps >= 1e9) return `${(bps / 1e9).toFixed(1)} Gbit/s`;
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(1)} Mbit/s`;
  if (bps >= 1e3) return `${(bps / 1e3).toFixed(0)} kbit/s`;
  return `${Math.round(bps)} bit/s`;
}

/** "2.4 s" or "150 ms" */
export function fmtDuration(micros: number): string {
  return micros >= 1e6 ? `${(micros / 1e6).toFixed(1)} s` : `${Math.max(1, Math.round(micros / 1e3))} ms`;
}

/** Severity from how far a rate is above its threshold and how many sources took part. */
export function floodSeverity(
  rate: number,
  threshold: number,
  sources: number,
): 'medium' | 'high' | 'critical' {
  let level = rate >= 100 * threshold ? 2 : rate >= 10 * threshold ? 1 : 0;
  if (sources >= 1000) level++;
  return level >= 2 ? 'critical' : level === 1 ? 'high' : 'medium';
}

/**
 * The sender's port of the packet in `event`: its own source port, or for a later IP fragment
 * (no transport header) the port of its side of the flow it joined through its first fragment.
 * 0 when unknown.
 */
export function senderPort(
  p: { hasPorts: boolean; srcPort: number; src: Uint32Array },
  flows: FlowTable,
  flowSlot: number,
): number {
  if (p.hasPorts) return p.srcPort;
  if (flowSlot < 0) return 0;
  const a = flowSlot << 2;
  const fromA =
    flows.addrA[a] === p.src[0] &&
    flows.addrA[a + 1] === p.src[1] &&
    flows.addrA[a + 2] === p.src[2] &&
    flows.addrA[a + 3] === p.src[3];
  return fromA ? flows.portA[flowSlot]! : flows.portB[flowSlot]!;
}

/**
 * Pre-filter count for `VictimMeter.admit`: an eighth of the packets a window holds at the
 * threshold (the bit-rate threshold counted in 1,500-byte packets), so metering starts well before
 * a flood can cross it.
 */
export function admitPackets(minPps: number, minBitsPerSecond: number, windowMicros: number): number {
  const pps = Math.min(minPps, minBitsPerSecond > 0 ? minBitsPerSecond / 12_000 : minPps);
  return Math.max(1, Math.floor((pps * windowMicros) / 8e6));
}
