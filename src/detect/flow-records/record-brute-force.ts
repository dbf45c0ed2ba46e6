/**
 * brute_force from flow records: one source making many short, small, completed TCP connections to
 * one authentication service (brute-force.ts's AUTH_SERVICES) on one server, counted with the
 * packet detector's options and reported as its alert is.
 *
 * An attempt is a client's record to a watched port that holds a whole login: SYN and ACK (the
 * server answered the SYN), PSH (the client sent data: a connection opened and closed without any,
 * such as a monitor's port check, logs nothing in), FIN or RST (it was closed), lasting at most `maxAttemptSeconds`,
 * with at most `maxAttemptBytes` (both ways when the row is a biflow; else the client's bytes only,
 * as a router's one-way record has no more). A long session that the router split with its active
 * timeout is never an attempt: its first record has no FIN or RST, its later ones no SYN. The
 * server's records (from the watched port to an ephemeral one) are not counted.
 *
 * Attempts are counted per (source, server, port) over a sliding `windowSeconds` window estimated
 * from two fixed windows (as brute-force.ts), at each record's last-seen time; a record minutes late
 * counts in the current window. Bounded by `maxPairs` (LRU, evictions counted). No allocation per
 * record, except the few sample records kept per attacking pair.
 */

import type { AlertTracker } from '../../alerts/alert-tracker.js';
import { IpProto, TcpFlag } from '../../decode/packet-decoder.js';
import type { FlowRow } from '../../store/flow-repository.js';
import { formatIp } from '../../util/ip-address.js';
import {
  AUTH_SERVICES,
  formatDuration,
  severityFor,
  type BruteForceOptions,
} from '../brute-force/brute-force.js';
import { KeyTable } from '../key-table.js';
import { sampleOfRecord, type RecordView } from './record-view.js';

const SAMPLES = 3;
/** An attempt's client sent a SYN, acknowledged the server's answer and sent data (a login). */
const ATTEMPT_FLAGS = TcpFlag.SYN | TcpFlag.ACK | TcpFlag.PSH;

export class RecordBruteForce {
  /** Which TCP ports are watched (index by port). */
  private readonly watched = new Uint8Array(65536);
  private readonly pairs: KeyTable;
  private readonly windowStart: Float64Array;
  private readonly current: Float64Array;
  private readonly previous: Float64Array;
  private readonly firstAt: Float64Array;
  private readonly total: Float64Array;
  private readonly reportedAt: Float64Array;
  private readonly reportedTotal: Float64Array;
  private readonly lastAt: Float64Array;
  private readonly lastInWindow: Float64Array;
  /** Sample records per pair (the first few attempts). */
  private readonly samples = new Map<number, FlowRow[]>();
  private readonly words = new Uint32Array(8);
  private readonly windowMicros: number;
  private readonly maxAttemptMicros: number;
  private readonly reportMicros: number;

  constructor(
    private readonly options: BruteForceOptions,
    private readonly alerts: AlertTracker,
  ) {
    for (const port of AUTH_SERVICES.keys()) this.watched[port] = 1;
    const n = Math.max(1, Math.floor(options.maxPairs));
    this.pairs = new KeyTable(n, (slot) => {
      this.samples.delete(slot);
      this.reportedAt[slot] = 0;
    });
    this.windowStart = new Float64Array(n);
    this.current = new Float64Array(n);
    this.previous = new Float64Array(n);
    this.firstAt = new Float64Array(n);
    this.total = new Float64Array(n);
    this.reportedAt = new Float64Array(n);
    this.reportedTotal = new Float64Array(n);
    this.lastAt = new Float64Array(n);
    this.lastInWindow = new Float64Array(n);
    this.windowMicros = Math.max(1, options.windowSeconds) * 1e6;
    this.maxAttemptMicros = options.maxAttemptSeconds * 1e6;
    this.reportMicros = options.reportIntervalSeconds * 1e6;
  }

  /** (source, server, port) triples tracked now, and evicted so far. */
  get tracked(): number {
    return this.pairs.size;
  }
  get evicted(): number {
    return this.pairs.evicted;
  }

  onRecord(v: RecordView): void {
    if (v.proto !== IpProto.TCP || this.watched[v.dstPort] === 0) return;
    const f = v.tcpFlags;
    if ((f & ATTEMPT_FLAGS) !== ATTEMPT_FLAGS || (f & (TcpFlag.FIN | TcpFlag.RST)) === 0) return;
    if (v.lastUs - v.firstUs > this.maxAttemptMicros) return;
    if (v.bytes + v.otherBytes > this.options.maxAttemptBytes) return;

    const ts = v.lastUs;
    const t = this.pairs;
    t.setKey(v.version, v.src, 0, v.dst, 0, v.dstPort);
    const s = t.upsert();
    if (t.created || ts - this.windowStart[s]! >= 2 * this.windowMicros) {
      this.windowStart[s] = ts;
      this.previous[s] = 0;
      this.current[s] = 0;
      this.firstAt[s] = v.firstUs;
      this.total[s] = 0;
      this.reportedAt[s] = 0;
      this.samples.delete(s);
    } else if (ts - this.windowStart[s]! >= this.windowMicros) {
      this.windowStart[s] = this.windowStart[s]! + this.windowMicros;
      this.previous[s] = this.current[s]!;
      this.current[s] = 0;
    }
    if (v.firstUs < this.firstAt[s]!) this.firstAt[s] = v.firstUs;
    this.current[s]!++;
    this.total[s]!++;
    let samples = this.samples.get(s);
    if (!samples) this.samples.set(s, (samples = []));
    if (samples.length < SAMPLES && v.row) samples.push(v.row);
    // A late record may belong before the current window began: clamp.
    const elapsed = Math.min(1, Math.max(0, (ts - this.windowStart[s]!) / this.windowMicros));
    const inWindow = this.current[s]! + this.previous[s]! * (1 - elapsed);
    if (ts > this.lastAt[s]!) this.lastAt[s] = ts;
    this.lastInWindow[s] = inWindow;
    if (inWindow + 1e-9 < this.options.attempts) return;
    const last = this.reportedAt[s]!;
    if (last !== 0 && Math.abs(ts - last) < this.reportMicros) return;
    this.report(s, Math.max(ts, this.lastAt[s]!), inWindow);
  }

  /** Brings the alerts of attacks still running up to their last attempt. */
  finish(): void {
    for (let s = 0; s < this.reportedAt.length; s++) {
      if (this.reportedAt[s] !== 0 && this.total[s]! > this.reportedTotal[s]!) {
        this.report(s, this.lastAt[s]!, this.lastInWindow[s]!);
      }
    }
  }

  /** The report reads as brute-force.ts's (same type, severity, summary, thresholds). */
  private report(s: number, ts: number, inWindow: number): void {
    this.reportedAt[s] = ts;
    this.reportedTotal[s] = this.total[s]!;
    const t = this.pairs;
    const word0 = t.keyWord(s, 0);
    const version = word0 >>> 16;
    const port = word0 & 0xffff;
    const words = this.words;
    for (let w = 0; w < 8; w++) words[w] = t.keyWord(s, w + 1);
    const src = formatIp(version, words, 0);
    const dst = formatIp(version, words, 4);
    const service = AUTH_SERVICES.get(port) ?? `port ${port}`;
    const total = this.total[s]!;
    const seconds = (ts - this.firstAt[s]!) / 1e6;
    this.alerts.report({
      type: 'brute_force',
      severity: severityFor(total),
      src,
      dst,
      at: ts,
      startedAt: this.firstAt[s]!,
      counters: { attempts: total, attemptsInWindow: Math.round(inWindow), port },
      summary:
        `${src} made ${total.toLocaleString('en-US')} short ${service} connections to ${dst}:${port} ` +
        `in ${formatDuration(seconds)} (password guessing?; seen in flow records)`,
      thresholds: [
        {
          metric: `short ${service} connections in ${this.options.windowSeconds} s`,
          value: Math.round(inWindow),
          threshold: this.options.attempts,
        },
      ],
      sampleFlows: (this.samples.get(s) ?? []).map(sampleOfRecord),
    });
  }
}
