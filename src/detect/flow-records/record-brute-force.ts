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
 * Attempts are counted and reported by attempt-pairs.ts, as the packet detector's are, at each
 * record's last-seen time; a record minutes late counts in the current window. Bounded by
 * `maxPairs` (LRU, evictions counted). No allocation per record, except the few sample records
 * kept per attacking pair.
 */

import type { AlertTracker } from '../../alerts/alert-tracker.js';
import { IpProto, TcpFlag } from '../../decode/packet-decoder.js';
import type { FlowRow } from '../../store/flow-repository.js';
import { AttemptPairs, AUTH_SERVICES, type BruteForceOptions } from '../brute-force/attempt-pairs.js';
import { sampleOfRecord, type RecordView } from './record-view.js';

/** An attempt's client sent a SYN, acknowledged the server's answer and sent data (a login). */
const ATTEMPT_FLAGS = TcpFlag.SYN | TcpFlag.ACK | TcpFlag.PSH;

export class RecordBruteForce {
  /** Which TCP ports are watched (index by port). */
  private readonly watched = new Uint8Array(65536);
  private readonly attempts: AttemptPairs<FlowRow>;
  private readonly maxAttemptMicros: number;

  constructor(
    private readonly options: BruteForceOptions,
    alerts: AlertTracker,
  ) {
    for (const port of AUTH_SERVICES.keys()) this.watched[port] = 1;
    // The report reads as brute-force.ts's (same type, severity, summary, thresholds).
    this.attempts = new AttemptPairs(options, alerts, {
      lateRecords: true,
      via: 'seen in flow records',
      samplesOf: (rows) => rows.map(sampleOfRecord),
    });
    this.maxAttemptMicros = options.maxAttemptSeconds * 1e6;
  }

  /** (source, server, port) triples tracked now, and evicted so far. */
  get tracked(): number {
    return this.attempts.tracked;
  }
  get evicted(): number {
    return this.attempts.evicted;
  }

  onRecord(v: RecordView): void {
    if (v.proto !== IpProto.TCP || this.watched[v.dstPort] === 0) return;
    const f = v.tcpFlags;
    if ((f & ATTEMPT_FLAGS) !== ATTEMPT_FLAGS || (f & (TcpFlag.FIN | TcpFlag.RST)) === 0) return;
    if (v.lastUs - v.firstUs > this.maxAttemptMicros) return;
    if (v.bytes + v.otherBytes > this.options.maxAttemptBytes) return;

    const row = v.row;
    this.attempts.count(
      v.version,
      v.src,
      0,
      v.dst,
      0,
      v.dstPort,
      v.lastUs,
      v.firstUs,
      row ? () => row : null,
    );
  }

  /** Brings the alerts of attacks still running up to their last attempt. */
  finish(): void {
    this.attempts.finish();
  }
}
