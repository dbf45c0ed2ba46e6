/**
 * connection_flood: one source opening more than `perMinute` new TCP connections a minute, to any
 * number of servers and ports (the threshold of FlowTrack's original design: 100 a minute).
 *
 * A new connection is a packet that created its flow and carries SYN without ACK, so its source is
 * the flow's initiator; a retransmitted SYN joins the existing flow and is not counted again, a SYN
 * with a new initial sequence number on a reused 5-tuple is a new connection (see FlowTable).
 * UDP is not counted: a DNS resolver or NTP client legitimately opens hundreds of UDP flows a
 * minute; UDP floods are udp_flood's. Answered or not does not matter: a scan at 800 SYNs a second
 * also floods its targets' connection tables, so a SYN scan raises port_scan (what it is) and may
 * raise connection_flood too (what it costs the network).
 *
 * Rate: the sliding-window estimate of two fixed windows (previous and current minute, the
 * previous one weighted by how much of it still overlaps the last 60 s), as in Cloudflare's rate
 * limiter ("How we built rate limiting capable of scaling to millions of domains", 2017): exact at
 * window edges, two numbers per source, no per-connection memory.
 *
 * Admission: a source gets a KeyTable slot only once it has opened ADMIT_AT connections (8, or
 * perMinute + 1 when that is lower) in its current and previous window. Until then it is counted in
 * a small two-way set-associative filter (a few tens of KB, so it stays in cache) that keeps the
 * same window state as a slot and hands it over on admission, so the rate, the totals and the
 * moment of the alert are exactly what they would have been: below ADMIT_AT the rate cannot exceed
 * perMinute. Entries hold the whole address, so two sources never share counts; a collision only
 * replaces the way with fewer connections (a spoofed one-SYN source replaces another one-SYN
 * source, never a source that has opened two). Measured on a spoofed flood of 4M one-SYN sources:
 * every source in the KeyTable cost an insert and an eviction (~1.3 s); through the filter they
 * cost a hash and a few array writes.
 *
 * Must never: allocate per packet, keep state for more than `maxSources` sources (a spoofed flood
 * of millions of sources evicts the quietest ones), or use a clock other than packet time.
 */

import type { AlertTracker } from '../../alerts/alert-tracker.js';
import type { Severity } from '../../alerts/alert.js';
import { IpProto, TcpFlag } from '../../decode/packet-decoder.js';
import { formatIp } from '../../util/ip-address.js';
import type { Detector, DetectorFactory, PacketEvent } from '../detector.js';
import { KeyTable } from '../key-table.js';
import { mix32 } from '../../util/hash.js';

export interface ConnectionFloodOptions extends Record<string, number> {
  perMinute: number;
  reportIntervalSeconds: number;
  maxSources: number;
}

const WINDOW_MICROS = 60_000_000;
/** Sets in the admission filter (power of two), two ways each. */
const FILTER_SETS = 1024;
/** Connections in the current and previous window after which a source gets a KeyTable slot. */
const ADMIT_AT = 8;

export class ConnectionFloodDetector implements Detector {
  readonly name = 'connection_flood';
  private readonly sources: KeyTable;
  /** Start of the current one-minute window, per source slot. */
  private readonly windowStart: Float64Array;
  private readonly current: Float64Array;
  private readonly previous: Float64Array;
  /** First new connection of the current run of activity (the evidence's start). */
  private readonly firstAt: Float64Array;
  /** Packet time of the last report, 0 when the source is below the threshold. */
  private readonly reportedAt: Float64Array;
  /** The total the last report carried (finish reports what came after it). */
  private readonly reportedTotal: Float64Array;
  private readonly version: Uint8Array;
  /** New connections since firstAt, and the peak one-minute rate seen. */
  private readonly total: Float64Array;
  private readonly peak: Float64Array;
  private readonly reportMicros: number;
  private readonly lastRate: Float64Array;
  private readonly lastAt: Float64Array;
  /** Admission filter, per way: address (4 words, IPv4 in the first), version (0 = empty), window. */
  private readonly filterAddr = new Uint32Array(FILTER_SETS * 2 * 4);
  private readonly filterVersion = new Uint8Array(FILTER_SETS * 2);
  private readonly filterWindowStart = new Float64Array(FILTER_SETS * 2);
  private readonly filterFirstAt = new Float64Array(FILTER_SETS * 2);
  private readonly filterCurrent = new Uint8Array(FILTER_SETS * 2);
  private readonly filterPrevious = new Uint8Array(FILTER_SETS * 2);
  private readonly filterTotal = new Float64Array(FILTER_SETS * 2);
  private readonly admitAt: number;
  /**
   * Per filter set, how many sources hashed to it hold a KeyTable slot, and per slot its set: a
   * source whose set has none is certainly untracked, so a flood's new sources skip the KeyTable
   * lookup (a 10-word hash and a probe of a 512 KB index) as well as the insert.
   */
  private readonly trackedInSet = new Uint32Array(FILTER_SETS);
  private readonly setOf: Uint16Array;

  constructor(
    private readonly options: ConnectionFloodOptions,
    private readonly alerts: AlertTracker,
  ) {
    const n = Math.max(1, Math.floor(options.maxSources));
    this.sources = new KeyTable(n, (slot) => {
      this.reportedAt[slot] = 0;
      this.trackedInSet[this.setOf[slot]!]!--;
    });
    this.setOf = new Uint16Array(n);
    this.windowStart = new Float64Array(n);
    this.current = new Float64Array(n);
    this.previous = new Float64Array(n);
    this.firstAt = new Float64Array(n);
    this.reportedAt = new Float64Array(n);
    this.reportedTotal = new Float64Array(n);
    this.version = new Uint8Array(n);
    this.lastRate = new Float64Array(n);
    this.lastAt = new Float64Array(n);
    this.total = new Float64Array(n);
    this.peak = new Float64Array(n);
    this.reportMicros = options.reportIntervalSeconds * 1e6;
    this.admitAt = Math.max(1, Math.min(ADMIT_AT, Math.floor(options.perMinute) + 1));
  }

  /** Number of sources holding a KeyTable slot (for tests). */
  get trackedSources(): number {
    return this.sources.size;
  }

  onPacket(event: PacketEvent): void {
    if (!event.newFlow) return;
    const p = event.packet;
    if (p.ipProto !== IpProto.TCP || (p.tcpFlags & (TcpFlag.SYN | TcpFlag.ACK)) !== TcpFlag.SYN) return;
    const ts = event.ts;
    const t = this.sources;
    const src = p.src;
    const w1 = src[1]!;
    const w2 = src[2]!;
    const w3 = src[3]!;
    // IPv4 is one word (the others are 0): one mix instead of four.
    const h = (w1 | w2 | w3) === 0 ? mix32(src[0]!) : mix32(src[0]! ^ mix32(w1 ^ mix32(w2 ^ mix32(w3))));
    const set = h & (FILTER_SETS - 1);
    let s = -1;
    if (this.trackedInSet[set] !== 0) {
      t.setKey(p.ipVersion, src, 0, null, 0, 0);
      s = t.find();
    }
    if (s < 0) {
      s = this.admit(p.ipVersion, src, set, ts);
      if (s < 0) return;
    } else {
      t.upsert(); // touch: the least recently active source is evicted first
      if (ts - this.windowStart[s]! >= 2 * WINDOW_MICROS) {
        // Quiet for two windows: nothing of the old count overlaps now.
        this.windowStart[s] = ts;
        this.previous[s] = 0;
        this.current[s] = 0;
        this.firstAt[s] = ts;
        this.total[s] = 0;
        this.peak[s] = 0;
        this.reportedAt[s] = 0;
      } else if (ts - this.windowStart[s]! >= WINDOW_MICROS) {
        this.windowStart[s] = this.windowStart[s]! + WINDOW_MICROS;
        this.previous[s] = this.current[s]!;
        this.current[s] = 0;
      }
    }
    this.current[s]!++;
    this.total[s]!++;
    const elapsed = (ts - this.windowStart[s]!) / WINDOW_MICROS;
    const rate = this.current[s]! + this.previous[s]! * (1 - elapsed);
    this.lastRate[s] = rate;
    this.lastAt[s] = ts;
    if (rate > this.peak[s]!) this.peak[s] = rate;
    if (rate <= this.options.perMinute) {
      this.reportedAt[s] = 0;
      return;
    }
    const last = this.reportedAt[s]!;
    if (last === 0) {
      // First crossing: the evidence is the last minute, not the source's whole history.
      if (ts - this.firstAt[s]! > WINDOW_MICROS) {
        this.firstAt[s] = ts - WINDOW_MICROS;
        this.total[s] = Math.round(rate);
      }
    } else if (ts - last < this.reportMicros) return;
    this.reportedAt[s] = ts;
    this.version[s] = p.ipVersion;
    this.report(p.ipVersion, p.src, s, ts, rate);
  }

  /**
   * Counts a new connection of an untracked source in the admission filter. Returns -1 while the
   * source stays below `admitAt`; once it reaches it, a KeyTable slot seeded with the filter's
   * window state (before this connection, which the caller then counts as usual).
   */
  private admit(version: number, src: Uint32Array, set: number, ts: number): number {
    const w0 = src[0]!;
    const w1 = src[1]!;
    const w2 = src[2]!;
    const w3 = src[3]!;
    const e0 = set << 1;
    const addr = this.filterAddr;
    const ver = this.filterVersion;
    let e = e0;
    if (!(
      ver[e] === version &&
      addr[e * 4] === w0 &&
      addr[e * 4 + 1] === w1 &&
      addr[e * 4 + 2] === w2 &&
      addr[e * 4 + 3] === w3
    )) {
      e = e0 + 1;
      if (!(
        ver[e] === version &&
        addr[e * 4] === w0 &&
        addr[e * 4 + 1] === w1 &&
        addr[e * 4 + 2] === w2 &&
        addr[e * 4 + 3] === w3
      )) {
        e = this.replaceable(e0, ts);
        ver[e] = version;
        addr[e * 4] = w0;
        addr[e * 4 + 1] = w1;
        addr[e * 4 + 2] = w2;
        addr[e * 4 + 3] = w3;
        this.filterWindowStart[e] = -Infinity;
      }
    }
    // The same window arithmetic as a KeyTable slot (see onPacket).
    const start = this.filterWindowStart[e]!;
    if (ts - start >= 2 * WINDOW_MICROS) {
      this.filterWindowStart[e] = ts;
      this.filterFirstAt[e] = ts;
      this.filterPrevious[e] = 0;
      this.filterCurrent[e] = 0;
      this.filterTotal[e] = 0;
    } else if (ts - start >= WINDOW_MICROS) {
      this.filterWindowStart[e] = start + WINDOW_MICROS;
      this.filterPrevious[e] = this.filterCurrent[e]!;
      this.filterCurrent[e] = 0;
    }
    if (this.filterCurrent[e]! + this.filterPrevious[e]! + 1 < this.admitAt) {
      // rate <= current + previous < admitAt <= perMinute + 1: no alert is missed by waiting.
      this.filterCurrent[e]!++;
      this.filterTotal[e]!++;
      return -1;
    }
    const t = this.sources;
    t.setKey(version, src, 0, null, 0, 0);
    const s = t.upsert();
    this.setOf[s] = set;
    this.trackedInSet[set]!++;
    this.windowStart[s] = this.filterWindowStart[e]!;
    this.previous[s] = this.filterPrevious[e]!;
    this.current[s] = this.filterCurrent[e]!;
    this.firstAt[s] = this.filterFirstAt[e]!;
    this.total[s] = this.filterTotal[e]!;
    // The peak before admission was below admitAt: it only matters once the rate is far above.
    this.peak[s] = 0;
    this.reportedAt[s] = 0;
    ver[e] = 0;
    return s;
  }

  /**
   * The way of set `e0` a new source may take: an empty or expired one, else the one with fewer
   * connections (the older on a tie), so one-SYN sources only ever replace each other.
   */
  private replaceable(e0: number, ts: number): number {
    const ver = this.filterVersion;
    const e1 = e0 + 1;
    if (ver[e0] === 0 || ts - this.filterWindowStart[e0]! >= 2 * WINDOW_MICROS) return e0;
    if (ver[e1] === 0 || ts - this.filterWindowStart[e1]! >= 2 * WINDOW_MICROS) return e1;
    const n0 = this.filterCurrent[e0]! + this.filterPrevious[e0]!;
    const n1 = this.filterCurrent[e1]! + this.filterPrevious[e1]!;
    if (n0 !== n1) return n0 < n1 ? e0 : e1;
    return this.filterWindowStart[e0]! <= this.filterWindowStart[e1]! ? e0 : e1;
  }

  /** Brings the alerts of floods still running up to their last connection. */
  finish(): void {
    for (let s = 0; s < this.reportedAt.length; s++) {
      if (this.reportedAt[s] === 0 || this.total[s]! <= this.reportedTotal[s]!) continue;
      // Key word 1-4 is the source address (see KeyTable.setKey).
      const words = Uint32Array.of(
        this.sources.keyWord(s, 1),
        this.sources.keyWord(s, 2),
        this.sources.keyWord(s, 3),
        this.sources.keyWord(s, 4),
      );
      this.report(this.version[s]!, words, s, this.lastAt[s]!, this.lastRate[s]!);
    }
  }

  private report(version: number, src: Uint32Array, s: number, ts: number, rate: number): void {
    this.reportedTotal[s] = this.total[s]!;
    const threshold = this.options.perMinute;
    const perMinute = Math.round(rate);
    const total = this.total[s]!;
    const seconds = (ts - this.firstAt[s]!) / 1e6;
    const address = formatIp(version, src);
    this.alerts.report({
      type: 'connection_flood',
      severity: severityFor(this.peak[s]! / Math.max(1, threshold)),
      src: address,
      dst: null,
      at: ts,
      startedAt: this.firstAt[s]!,
      counters: { newConnections: total, perMinute, peakPerMinute: Math.round(this.peak[s]!) },
      summary:
        `${address} opened ${total.toLocaleString('en-US')} new TCP connections in ${seconds.toFixed(1)} s ` +
        `(${perMinute.toLocaleString('en-US')} in the last minute; threshold ${threshold.toLocaleString('en-US')} a minute)`,
      thresholds: [{ metric: 'new TCP connections a minute', value: perMinute, threshold }],
    });
  }
}

/** Severity by how many times the threshold the peak rate is. */
function severityFor(times: number): Severity {
  if (times >= 100) return 'critical';
  if (times >= 20) return 'high';
  if (times >= 3) return 'medium';
  return 'low';
}

export const connectionFloodFactory: DetectorFactory<ConnectionFloodOptions> = {
  name: 'connection_flood',
  description: 'One source opening more new TCP connections a minute than a host normally does',
  defaults: { perMinute: 100, reportIntervalSeconds: 1, maxSources: 65536 },
  help: {
    perMinute:
      'alert when one source opens more than this many new TCP connections (SYNs that start a flow) ' +
      'in any 60 s of packet time; 100, the threshold of the original design, is above what a ' +
      'browser or mail client does and below any scanner or flooder',
    reportIntervalSeconds:
      'while a flood continues, update its alert at most this often (packet-time seconds)',
    maxSources:
      'sources tracked at once; the one quiet longest is forgotten first, so a spoofed flood cannot grow memory',
  },
  create: (options, alerts) => new ConnectionFloodDetector(options, alerts),
};
