/**
 * brute_force: one source making many short, small, completed TCP connections to one
 * authentication service (SSH, RDP, FTP, telnet, SMB, databases, mail) on one server: password
 * guessing, which without reading payload looks like a stream of connections that are set up,
 * exchange a few kilobytes and are closed again within seconds, over and over.
 *
 * An attempt is a connection the server accepted (SYN answered by SYN-ACK; refused or unanswered
 * SYNs are port_scan's business), that was closed by FIN or RST within `maxAttemptSeconds` and
 * carried at most `maxAttemptBytes` both ways. It is counted as soon as the closing packet is seen
 * (a long attack alerts while it runs, not when the flow table lets the flow go 15 s later); flows
 * that end without a seen close (idle, evicted, end of input) are judged at flow end instead, and
 * each flow is counted once. Zeek's SSH::Password_Guessing and FTP::Bruteforcing count failed
 * logins; without payload FlowTrack counts short sessions, which is what Zeek's SSH heuristic does
 * too (a session is "failed" when it ends quickly with little data; Zeek's ssh/main.zeek,
 * auth-size heuristic).
 *
 * HTTP(S) logins are not watched: a browser opens many short connections to one server on every
 * page load, so a count of short connections on 80/443 cannot tell a login form being attacked
 * from a busy web page without the payload.
 *
 * Known false-alarm sources, why the default severity is low: a mail relay delivering many small
 * messages to one MX on port 25, and an application server without connection pooling opening a
 * short database connection per request. Raise `attempts` on such sites; a payload-aware
 * check (the server's "auth failed" reply) would separate them and is future work.
 *
 * Attempts are counted per (source, server, port) over a sliding `windowSeconds` window estimated
 * from two fixed windows (Cloudflare's sliding-window rate limiter, 2017).
 *
 * Must never: count connections the server refused, allocate per packet, keep more than
 * `maxPairs` (source, server, port) entries, or use a clock other than packet time.
 */

import type { AlertTracker } from '../../alerts/alert-tracker.js';
import type { SampleFlow, Severity } from '../../alerts/alert.js';
import { IpProto, TcpFlag } from '../../decode/packet-decoder.js';
import { FlowState, type FlowTable } from '../../flows/flow-table.js';
import { sampleFlowOf } from '../../alerts/sample-flow.js';
import { formatIp } from '../../util/ip-address.js';
import type { Detector, DetectorFactory, PacketEvent } from '../detector.js';
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

const FIN_RST = TcpFlag.FIN | TcpFlag.RST;
const SAMPLES = 3;

export class BruteForceDetector implements Detector {
  readonly name = 'brute_force';
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
  /** Sample flows per pair (kept for pairs that may become alerts; a few each). */
  private readonly samples = new Map<number, SampleFlow[]>();
  /** flowId + 1 of the flow counted in each flow-table slot (0: none), so no flow counts twice. */
  private counted = new Float64Array(1024);
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

  onPacket(event: PacketEvent): void {
    const p = event.packet;
    // Cheap filter first: only closing packets of TCP flows on a watched port.
    if ((p.tcpFlags & FIN_RST) === 0 || p.ipProto !== IpProto.TCP || event.slot < 0) return;
    const flows = event.flows;
    const slot = event.slot;
    if (this.watched[flows.portB[slot]!] === 0) return;
    const state = flows.state[slot]!;
    if (state !== FlowState.CLOSED_FIN && state !== FlowState.CLOSED_RST) return;
    this.judge(flows, slot, event.ts);
  }

  onFlowEnd(flows: FlowTable, slot: number): void {
    if (flows.ipProto[slot] !== IpProto.TCP || this.watched[flows.portB[slot]!] === 0) return;
    const closed = ((flows.tcpFlagsAB[slot]! | flows.tcpFlagsBA[slot]!) & FIN_RST) !== 0;
    if (closed) this.judge(flows, slot, flows.lastSeen[slot]!);
  }

  /** Counts the flow in `slot` once, if it is a short, small, accepted connection. */
  private judge(flows: FlowTable, slot: number, ts: number): void {
    if (slot >= this.counted.length) {
      const grown = new Float64Array(Math.max(slot + 1, this.counted.length * 2));
      grown.set(this.counted);
      this.counted = grown;
    }
    const id = flows.flowId[slot]! + 1;
    if (this.counted[slot] === id) return;
    // Accepted: the initiator sent SYN and the server answered with SYN-ACK.
    if ((flows.tcpFlagsAB[slot]! & TcpFlag.SYN) === 0 || (flows.tcpFlagsBA[slot]! & TcpFlag.SYN) === 0)
      return;
    if (flows.lastSeen[slot]! - flows.firstSeen[slot]! > this.maxAttemptMicros) return;
    if (flows.bytesAB[slot]! + flows.bytesBA[slot]! > this.options.maxAttemptBytes) return;
    this.counted[slot] = id;

    const version = flows.ipVersion[slot]!;
    const base = slot << 2;
    const port = flows.portB[slot]!;
    const t = this.pairs;
    t.setKey(version, flows.addrA, base, flows.addrB, base, port);
    const s = t.upsert();
    if (t.created || ts - this.windowStart[s]! >= 2 * this.windowMicros) {
      this.windowStart[s] = ts;
      this.previous[s] = 0;
      this.current[s] = 0;
      this.firstAt[s] = flows.firstSeen[slot]!;
      this.total[s] = 0;
      this.reportedAt[s] = 0;
      this.samples.delete(s);
    } else if (ts - this.windowStart[s]! >= this.windowMicros) {
      this.windowStart[s] = this.windowStart[s]! + this.windowMicros;
      this.previous[s] = this.current[s]!;
      this.current[s] = 0;
    }
    this.current[s]!++;
    this.total[s]!++;
    // Attempts are rare (a few per second at most per pair): a sample object here is affordable.
    let samples = this.samples.get(s);
    if (!samples) this.samples.set(s, (samples = []));
    if (samples.length < SAMPLES) {
      samples.push(sampleFlowOf(flows, slot));
    }
    // A flow judged at its end may have closed before the current window began: clamp.
    const elapsed = Math.min(1, Math.max(0, (ts - this.windowStart[s]!) / this.windowMicros));
    const inWindow = this.current[s]! + this.previous[s]! * (1 - elapsed);
    this.lastAt[s] = ts;
    this.lastInWindow[s] = inWindow;
    if (inWindow + 1e-9 < this.options.attempts) return;
    const last = this.reportedAt[s]!;
    if (last !== 0 && ts - last < this.reportMicros) return;
    this.report(s, ts, inWindow);
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
    const words = new Uint32Array(8);
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
        `in ${formatDuration(seconds)} (password guessing?)`,
      thresholds: [
        {
          metric: `short ${service} connections in ${this.options.windowSeconds} s`,
          value: Math.round(inWindow),
          threshold: this.options.attempts,
        },
      ],
      sampleFlows: (this.samples.get(s) ?? []).slice(),
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

export const bruteForceFactory: DetectorFactory<BruteForceOptions> = {
  name: 'brute_force',
  description: 'Repeated short connections from one source to one login service (password guessing)',
  defaults: {
    attempts: 10,
    windowSeconds: 300,
    maxAttemptSeconds: 30,
    maxAttemptBytes: 20_000,
    reportIntervalSeconds: 1,
    maxPairs: 65536,
  },
  help: {
    attempts:
      'alert at this many short connections from one source to one service on one server within ' +
      'windowSeconds; 10, as Zeek SSH::password_guesses_limit in its tests, which a person ' +
      'mistyping a password does not reach',
    windowSeconds: 'the sliding window attempts are counted in (5 minutes: slow guessers still show)',
    maxAttemptSeconds:
      'a connection longer than this is a session, not an attempt; a refused SSH or FTP login ' +
      'takes 2-10 s (measured on the Zeek sshguess and ftp bruteforce captures)',
    maxAttemptBytes:
      'a connection carrying more bytes (both ways) is a session, not an attempt; an SSH key ' +
      'exchange plus a refused password is about 8 kB',
    reportIntervalSeconds:
      'while an attack continues, update its alert at most this often (packet-time seconds)',
    maxPairs: '(source, server, port) triples tracked at once; the one quiet longest is forgotten first',
  },
  create: (options, alerts) => new BruteForceDetector(options, alerts),
};
