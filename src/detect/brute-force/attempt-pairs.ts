/**
 * The counting and the alert of brute_force, shared by the packet detector (brute-force.ts) and
 * the flow-record one (flow-records/record-brute-force.ts): login attempts per (source, server,
 * port) over a sliding `windowSeconds` window estimated from two fixed windows (Cloudflare's
 * sliding-window rate limiter, 2017), and the report when they reach `attempts`, updated at most
 * every `reportIntervalSeconds` while the attack goes on. Each detector decides what an attempt
 * is; this counts them.
 *
 * Flow records may come minutes late and out of order (`lateRecords`): then an earlier first
 * attempt moves the attack's start back, the last attempt is the latest seen, and a report is
 * dated by it. Packet time only moves forward, and none of that applies.
 *
 * Must never: keep more than `maxPairs` pairs (the one quiet longest goes first). Only attempts
 * come here, after each detector's filters (a few a second per pair at most), so the sample
 * callback and the few samples kept per pair are the only allocations, and are affordable.
 */

import type { AlertTracker } from '../../alerts/alert-tracker.js';
import type { SampleFlow, Severity } from '../../alerts/alert.js';
import { formatIp } from '../../util/ip-address.js';
import { KeyTable } from '../key-table.js';

/** Authentication services by TCP port. */
export const AUTH_SERVICES: ReadonlyMap<number, string> = new Map([
  [21, 'FTP'],
  [22, 'SSH'],
  [23, 'telnet'],
  [25, 'SMTP'],
  [110, 'POP3'],
  [143, 'IMAP'],
  [445, 'SMB'],
  [465, 'SMTPS'],
  [587, 'SMTP submission'],
  [993, 'IMAPS'],
  [995, 'POP3S'],
  [1433, 'MSSQL'],
  [1521, 'Oracle'],
  [3306, 'MySQL'],
  [3389, 'RDP'],
  [5432, 'PostgreSQL'],
  [6379, 'Redis'],
  [27017, 'MongoDB'],
]);

export interface BruteForceOptions extends Record<string, number> {
  attempts: number;
  windowSeconds: number;
  maxAttemptSeconds: number;
  maxAttemptBytes: number;
  reportIntervalSeconds: number;
  maxPairs: number;
}

/** Sample flows kept per pair (the first attempts). */
const SAMPLES = 3;

export interface AttemptPairsOptions<Sample> {
  /** Attempts may come late and out of order (flow records). */
  lateRecords: boolean;
  /** Ends the summary's parenthesis, e.g. "seen in flow records". */
  via?: string;
  /** The kept samples as the alert shows them. */
  samplesOf: (samples: readonly Sample[]) => SampleFlow[];
}

export class AttemptPairs<Sample> {
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
  private readonly samples = new Map<number, Sample[]>();
  private readonly words = new Uint32Array(8);
  private readonly windowMicros: number;
  private readonly reportMicros: number;

  constructor(
    private readonly options: BruteForceOptions,
    private readonly alerts: AlertTracker,
    private readonly how: AttemptPairsOptions<Sample>,
  ) {
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
    this.reportMicros = options.reportIntervalSeconds * 1e6;
  }

  /** Pairs tracked now, and evicted so far. */
  get tracked(): number {
    return this.pairs.size;
  }
  get evicted(): number {
    return this.pairs.evicted;
  }

  /**
   * One attempt from the client at `srcAddr[srcOffset..]` to `port` of the server at
   * `dstAddr[dstOffset..]` (4 words each), which began at `firstUs` and is counted at `ts`.
   * `sample` (when not null) is kept among the pair's first few.
   */
  count(
    version: number,
    srcAddr: Uint32Array,
    srcOffset: number,
    dstAddr: Uint32Array,
    dstOffset: number,
    port: number,
    ts: number,
    firstUs: number,
    sample: (() => Sample) | null,
  ): void {
    const t = this.pairs;
    t.setKey(version, srcAddr, srcOffset, dstAddr, dstOffset, port);
    const s = t.upsert();
    if (t.created || ts - this.windowStart[s]! >= 2 * this.windowMicros) {
      this.windowStart[s] = ts;
      this.previous[s] = 0;
      this.current[s] = 0;
      this.firstAt[s] = firstUs;
      this.total[s] = 0;
      this.reportedAt[s] = 0;
      this.samples.delete(s);
    } else if (ts - this.windowStart[s]! >= this.windowMicros) {
      this.windowStart[s] = this.windowStart[s]! + this.windowMicros;
      this.previous[s] = this.current[s]!;
      this.current[s] = 0;
    }
    const late = this.how.lateRecords;
    if (late && firstUs < this.firstAt[s]!) this.firstAt[s] = firstUs;
    this.current[s]!++;
    this.total[s]!++;
    // Attempts are rare (a few per second at most per pair): a sample object here is affordable.
    let samples = this.samples.get(s);
    if (!samples) this.samples.set(s, (samples = []));
    if (samples.length < SAMPLES && sample) samples.push(sample());
    // An attempt counted late may belong before the current window began: clamp.
    const elapsed = Math.min(1, Math.max(0, (ts - this.windowStart[s]!) / this.windowMicros));
    const inWindow = this.current[s]! + this.previous[s]! * (1 - elapsed);
    if (!late || ts > this.lastAt[s]!) this.lastAt[s] = ts;
    this.lastInWindow[s] = inWindow;
    if (inWindow + 1e-9 < this.options.attempts) return;
    const last = this.reportedAt[s]!;
    if (last !== 0 && (late ? Math.abs(ts - last) : ts - last) < this.reportMicros) return;
    this.report(s, late ? Math.max(ts, this.lastAt[s]!) : ts, inWindow);
  }

  /** Brings the alerts of attacks still running up to their last attempt. */
  finish(): void {
    for (let s = 0; s < this.reportedAt.length; s++) {
      if (this.reportedAt[s] !== 0 && this.total[s]! > this.reportedTotal[s]!) {
        this.report(s, this.lastAt[s]!, this.lastInWindow[s]!);
      }
    }
  }

  private report(s: number, ts: number, inWindow: number): void {
    this.reportedAt[s] = ts;
    this.reportedTotal[s] = this.total[s]!;
    // The key holds what the alert names (see KeyTable.setKey): version and port, client, server.
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
    const note = this.how.via === undefined ? '' : `; ${this.how.via}`;
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
        `in ${formatDuration(seconds)} (password guessing?${note})`,
      thresholds: [
        {
          metric: `short ${service} connections in ${this.options.windowSeconds} s`,
          value: Math.round(inWindow),
          threshold: this.options.attempts,
        },
      ],
      sampleFlows: this.how.samplesOf(this.samples.get(s) ?? []),
    });
  }
}

export function formatDuration(seconds: number): string {
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  return `${m}m${Math.round(seconds - m * 60)}s`;
}

/** Severity by how many attempts: a few dozen is noise on the internet, thousands is a campaign. */
export function severityFor(attempts: number): Severity {
  if (attempts >= 1000) return 'high';
  if (attempts >= 50) return 'medium';
  return 'low';
}
