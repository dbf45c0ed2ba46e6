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
 * Must never: allocate per packet, keep state for more than `maxSources` sources (a spoofed flood
 * of millions of sources evicts the quietest ones), or use a clock other than packet time.
 */

import type { AlertTracker } from '../../alerts/alert-tracker.js';
import type { Severity } from '../../alerts/alert.js';
import { IpProto, TcpFlag } from '../../decode/packet-decoder.js';
import { formatIp } from '../../util/ip-address.js';
import type { Detector, DetectorFactory, PacketEvent } from '../detector.js';
import { KeyTable } from '../key-table.js';

export interface ConnectionFloodOptions extends Record<string, number> {
  perMinute: number;
  reportIntervalSeconds: number;
  maxSources: number;
}

const WINDOW_MICROS = 60_000_000;

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

  constructor(
    private readonly options: ConnectionFloodOptions,
    private readonly alerts: AlertTracker,
  ) {
    const n = Math.max(1, Math.floor(options.maxSources));
    this.sources = new KeyTable(n, (slot) => {
      this.reportedAt[slot] = 0;
    });
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
  }

  onPacket(event: PacketEvent): void {
    if (!event.newFlow) return;
    const p = event.packet;
    if (p.ipProto !== IpProto.TCP || (p.tcpFlags & (TcpFlag.SYN | TcpFlag.ACK)) !== TcpFlag.SYN) return;
    const ts = event.ts;
    const t = this.sources;
    t.setKey(p.ipVersion, p.src, 0, null, 0, 0);
    const s = t.upsert();
    if (t.created || ts - this.windowStart[s]! >= 2 * WINDOW_MICROS) {
      // New source, or quiet for two windows: nothing of the old count overlaps now.
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
