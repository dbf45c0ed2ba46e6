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
 * Attempts are counted per (source, server, port) over a sliding `windowSeconds` window, and
 * reported, by attempt-pairs.ts (shared with the flow-record detector).
 *
 * Must never: count connections the server refused, allocate per packet, keep more than
 * `maxPairs` (source, server, port) entries, or use a clock other than packet time.
 */

import type { AlertTracker } from '../../alerts/alert-tracker.js';
import type { SampleFlow } from '../../alerts/alert.js';
import { IpProto, TcpFlag } from '../../decode/packet-decoder.js';
import { FlowState, type FlowTable } from '../../flows/flow-table.js';
import { sampleFlowOf } from '../../alerts/sample-flow.js';
import type { Detector, DetectorFactory, PacketEvent } from '../detector.js';
import { AttemptPairs, AUTH_SERVICES, type BruteForceOptions } from './attempt-pairs.js';

const FIN_RST = TcpFlag.FIN | TcpFlag.RST;

export class BruteForceDetector implements Detector {
  readonly name = 'brute_force';
  /** Which TCP ports are watched (index by port). */
  private readonly watched = new Uint8Array(65536);
  private readonly attempts: AttemptPairs<SampleFlow>;
  /** flowId + 1 of the flow counted in each flow-table slot (0: none), so no flow counts twice. */
  private counted = new Float64Array(1024);
  private readonly maxAttemptMicros: number;

  constructor(
    private readonly options: BruteForceOptions,
    alerts: AlertTracker,
  ) {
    for (const port of AUTH_SERVICES.keys()) this.watched[port] = 1;
    this.attempts = new AttemptPairs(options, alerts, {
      lateRecords: false,
      samplesOf: (samples) => samples.slice(),
    });
    this.maxAttemptMicros = options.maxAttemptSeconds * 1e6;
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

    const base = slot << 2;
    this.attempts.count(
      flows.ipVersion[slot]!,
      flows.addrA,
      base,
      flows.addrB,
      base,
      flows.portB[slot]!,
      ts,
      flows.firstSeen[slot]!,
      () => sampleFlowOf(flows, slot),
    );
  }

  /** Brings the alerts of attacks still running up to their last attempt. */
  finish(): void {
    this.attempts.finish();
  }
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
