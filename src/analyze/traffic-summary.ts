/**
 * Aggregates decoded packets and ended flows into what `flowtrack analyze` reports: totals,
 * protocol mix, top talkers, top ports, top flows, decode problems. Memory is bounded whatever
 * the input: hosts are summed exactly in typed arrays up to `hostCapacity` distinct hosts and go
 * through Count-Min heavy-hitter sketches beyond, ports into fixed arrays, flows into a short list.
 */

import { PROTO_NAMES, DECODE_PROBLEM_NAMES, type ProtoName } from '../decode/protocols.js';
import type { PacketDecoder } from '../decode/packet-decoder.js';
import { FLOW_STATE_NAMES, END_REASON_NAMES, type EndReason, type FlowTable } from '../flows/flow-table.js';
import { protocolName, readFlowRecord, type FlowRecord } from '../flows/flow-record.js';
import { HeavyHitters } from './heavy-hitters.js';
import { HostTotals, hostKey, hostText } from './host-totals.js';

export interface Talker {
  address: string;
  bytes: number;
  packets: number;
}

export interface PortUse {
  protocol: 'tcp' | 'udp';
  port: number;
  flows: number;
  packets: number;
  bytes: number;
}

export interface TrafficSummary {
  packets: number;
  /** Bytes on the wire (original frame lengths). */
  bytes: number;
  /** Bytes actually captured (after snap-length truncation). */
  capturedBytes: number;
  /** First and last packet time, microseconds since the epoch; null without packets. */
  firstSeen: number | null;
  lastSeen: number | null;
  durationSeconds: number;
  /** Frames that contain each protocol at any layer. */
  protocols: Record<ProtoName, number>;
  /** Frames that were not decoded to the end, by reason. */
  decodeProblems: Record<string, number>;
  flows: {
    total: number;
    byProtocol: Record<string, number>;
    byState: Record<string, number>;
    endReasons: Record<string, number>;
    evicted: number;
    fragmentsJoined: number;
  };
  /** True when more distinct hosts were seen than are counted exactly: host counts are estimates (upper bounds). */
  talkersApproximate: boolean;
  topTalkersByBytes: Talker[];
  topTalkersByPackets: Talker[];
  topPorts: PortUse[];
  topFlows: FlowRecord[];
}

export interface SummaryOptions {
  /** Rows in each top list. */
  top: number;
  /** Distinct hosts the talker sketch tracks exactly. */
  hostCapacity: number;
}

const TCP = 6;
const UDP = 17;

export class TrafficSummaryBuilder {
  packets = 0;
  bytes = 0;
  capturedBytes = 0;
  private firstSeen = Infinity;
  private lastSeen = -Infinity;
  private readonly protoCounts = new Float64Array(32);
  private readonly problemCounts = new Float64Array(DECODE_PROBLEM_NAMES.length);

  private flowsTotal = 0;
  private readonly flowsByProto = new Map<number, number>();
  private readonly flowsByState = new Float64Array(FLOW_STATE_NAMES.length);
  private readonly endReasons = new Float64Array(END_REASON_NAMES.length);
  /** Exact per-host totals while the hosts fit; then the sketches below take over. */
  private readonly hosts: HostTotals;
  /** Bytes (measure 0) and packets (measure 1) per host, once the exact table is full. */
  private talkers: HeavyHitters<number | string> | null = null;
  // [proto 0 = tcp, 1 = udp][port] -> flows, packets, bytes
  private readonly portFlows = [new Float64Array(65536), new Float64Array(65536)];
  private readonly portPackets = [new Float64Array(65536), new Float64Array(65536)];
  private readonly portBytes = [new Float64Array(65536), new Float64Array(65536)];
  private readonly topFlows: FlowRecord[] = [];

  constructor(private readonly options: SummaryOptions) {
    this.hosts = new HostTotals(options.hostCapacity);
  }

  /** Counts one frame (decoded or not). On the packet path: no allocation. */
  addPacket(decoder: PacketDecoder, tsMicros: number, origLen: number, capLen: number): void {
    this.packets++;
    this.bytes += origLen;
    this.capturedBytes += capLen;
    if (tsMicros < this.firstSeen) this.firstSeen = tsMicros;
    if (tsMicros > this.lastSeen) this.lastSeen = tsMicros;
    for (let m = decoder.protoMask; m !== 0; m &= m - 1) this.protoCounts[31 - Math.clz32(m & -m)]!++;
    if (decoder.problem !== 0) this.problemCounts[decoder.problem]!++;
  }

  /** Folds an ended flow into the host, port and flow rankings. */
  addFlow(table: FlowTable, slot: number, reason: EndReason): void {
    this.flowsTotal++;
    const proto = table.ipProto[slot]!;
    this.flowsByProto.set(proto, (this.flowsByProto.get(proto) ?? 0) + 1);
    this.flowsByState[table.state[slot]!]!++;
    this.endReasons[reason]!++;
    const packets = table.packetsAB[slot]! + table.packetsBA[slot]!;
    const bytes = table.bytesAB[slot]! + table.bytesBA[slot]!;

    const version = table.ipVersion[slot]!;
    const base = slot * 4;
    const sameHost = sameAddress(table.addrA, table.addrB, base);
    let clientDone = false;
    if (this.talkers === null) {
      // Two typed-array lookups per flow while the hosts fit: exact, and cheaper than any sketch.
      clientDone = this.hosts.add(version, table.addrA, base, bytes, packets);
      if (clientDone && (sameHost || this.hosts.add(version, table.addrB, base, bytes, packets))) {
        this.rankPortAndFlow(table, slot, reason, proto, packets, bytes);
        return;
      }
      this.switchToSketches();
    }
    if (!clientDone) this.addHostToSketches(hostKey(version, table.addrA, slot), bytes, packets);
    if (!sameHost) this.addHostToSketches(hostKey(version, table.addrB, slot), bytes, packets);
    this.rankPortAndFlow(table, slot, reason, proto, packets, bytes);
  }

  /**
   * More distinct hosts than the exact table holds: from now on hosts go through heavy-hitter
   * sketches, seeded with the exact totals so far (a valid weighted stream for the sketch, so its
   * error bounds hold).
   */
  private switchToSketches(): void {
    const candidates = Math.max(64, 4 * this.options.top);
    this.talkers = new HeavyHitters<number | string>(candidates);
    this.hosts.forEach((key, bytes, packets) => {
      this.addHostToSketches(key, bytes, packets);
    });
  }

  private addHostToSketches(key: number | string, bytes: number, packets: number): void {
    this.talkers!.add(key, bytes, packets);
  }

  /** Counts the flow under its server port and offers it to the top-flow list. */
  private rankPortAndFlow(
    table: FlowTable,
    slot: number,
    reason: EndReason,
    proto: number,
    packets: number,
    bytes: number,
  ): void {
    if (proto === TCP || proto === UDP) {
      const k = proto === TCP ? 0 : 1;
      const port = table.portB[slot]!;
      this.portFlows[k]![port]!++;
      this.portPackets[k]![port]! += packets;
      this.portBytes[k]![port]! += bytes;
    }

    const top = this.topFlows;
    const n = this.options.top;
    if (top.length < n || bytes > totalBytes(top[top.length - 1]!)) {
      top.push(readFlowRecord(table, slot, reason));
      top.sort((a, b) => totalBytes(b) - totalBytes(a));
      if (top.length > n) top.pop();
    }
  }

  build(evicted: number, fragmentsJoined: number): TrafficSummary {
    const n = this.options.top;
    const protocols = Object.fromEntries(
      PROTO_NAMES.map((name, i) => [name, this.protoCounts[i]!]),
    ) as Record<ProtoName, number>;
    const decodeProblems: Record<string, number> = {};
    this.problemCounts.forEach((count, i) => {
      if (i > 0 && count > 0) decodeProblems[DECODE_PROBLEM_NAMES[i]!] = count;
    });
    const byProtocol: Record<string, number> = {};
    for (const [proto, count] of [...this.flowsByProto].sort((a, b) => b[1] - a[1])) {
      byProtocol[protocolName(proto)] = count;
    }
    const hasPackets = this.packets > 0;
    return {
      packets: this.packets,
      bytes: this.bytes,
      capturedBytes: this.capturedBytes,
      firstSeen: hasPackets ? this.firstSeen : null,
      lastSeen: hasPackets ? this.lastSeen : null,
      durationSeconds: hasPackets ? (this.lastSeen - this.firstSeen) / 1e6 : 0,
      protocols,
      decodeProblems,
      flows: {
        total: this.flowsTotal,
        byProtocol,
        byState: nonZero(FLOW_STATE_NAMES, this.flowsByState),
        endReasons: nonZero(END_REASON_NAMES, this.endReasons),
        evicted,
        fragmentsJoined,
      },
      talkersApproximate: this.talkers !== null,
      topTalkersByBytes: this.talkers
        ? this.talkers.top(0, n).map((h) => ({ address: hostText(h.key), bytes: h.count, packets: h.other }))
        : this.hosts.top(n, 'bytes'),
      topTalkersByPackets: this.talkers
        ? this.talkers.top(1, n).map((h) => ({ address: hostText(h.key), bytes: h.other, packets: h.count }))
        : this.hosts.top(n, 'packets'),
      topPorts: this.topPorts(n),
      topFlows: [...this.topFlows],
    };
  }

  private topPorts(n: number): PortUse[] {
    const rows: PortUse[] = [];
    for (const k of [0, 1]) {
      const flows = this.portFlows[k]!;
      for (let port = 0; port < 65536; port++) {
        if (flows[port]! > 0) {
          rows.push({
            protocol: k === 0 ? 'tcp' : 'udp',
            port,
            flows: flows[port]!,
            packets: this.portPackets[k]![port]!,
            bytes: this.portBytes[k]![port]!,
          });
        }
      }
    }
    return rows.sort((a, b) => b.bytes - a.bytes || b.flows - a.flows).slice(0, n);
  }
}

function totalBytes(f: FlowRecord): number {
  return f.bytesToServer + f.bytesToClient;
}

function nonZero(names: readonly string[], counts: Float64Array): Record<string, number> {
  const out: Record<string, number> = {};
  names.forEach((name, i) => {
    if (counts[i]! > 0) out[name] = counts[i]!;
  });
  return out;
}

function sameAddress(a: Uint32Array, b: Uint32Array, base: number): boolean {
  return (
    a[base] === b[base] &&
    a[base + 1] === b[base + 1] &&
    a[base + 2] === b[base + 2] &&
    a[base + 3] === b[base + 3]
  );
}
