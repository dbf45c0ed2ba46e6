/**
 * Aggregates decoded packets and ended flows into what `flowtrack analyze` reports: totals,
 * protocol mix, top talkers, top ports, top flows, decode problems. Memory is bounded whatever
 * the input: hosts go through a Space-Saving sketch, ports into fixed arrays, flows into a
 * fixed-size heap.
 */

import { PROTO_NAMES, DECODE_PROBLEM_NAMES, type ProtoName } from '../decode/protocols.js';
import type { PacketDecoder } from '../decode/packet-decoder.js';
import { FLOW_STATE_NAMES, END_REASON_NAMES, type EndReason, type FlowTable } from '../flows/flow-table.js';
import { protocolName, readFlowRecord, type FlowRecord } from '../flows/flow-record.js';
import { formatIpv6, formatIpv4 } from '../util/ip-address.js';
import { SpaceSaving } from './space-saving.js';

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
  /** True when more distinct hosts were seen than the sketch keeps: host counts are upper bounds. */
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
  private readonly byBytes: SpaceSaving<number | string>;
  private readonly byPackets: SpaceSaving<number | string>;
  // [proto 0 = tcp, 1 = udp][port] -> flows, packets, bytes
  private readonly portFlows = [new Float64Array(65536), new Float64Array(65536)];
  private readonly portPackets = [new Float64Array(65536), new Float64Array(65536)];
  private readonly portBytes = [new Float64Array(65536), new Float64Array(65536)];
  private readonly topFlows: FlowRecord[] = [];

  constructor(private readonly options: SummaryOptions) {
    this.byBytes = new SpaceSaving(options.hostCapacity);
    this.byPackets = new SpaceSaving(options.hostCapacity);
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

    const client = hostKey(table, table.addrA, slot);
    const server = hostKey(table, table.addrB, slot);
    this.byBytes.add(client, bytes, packets);
    this.byPackets.add(client, packets, bytes);
    if (server !== client) {
      this.byBytes.add(server, bytes, packets);
      this.byPackets.add(server, packets, bytes);
    }

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
      talkersApproximate: this.byBytes.approximate || this.byPackets.approximate,
      topTalkersByBytes: this.byBytes
        .top(n)
        .map((h) => ({ address: hostText(h.key), bytes: h.count, packets: h.other })),
      topTalkersByPackets: this.byPackets
        .top(n)
        .map((h) => ({ address: hostText(h.key), bytes: h.other, packets: h.count })),
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

/** IPv4 hosts are keyed by number (no string per flow); IPv6 by text. */
function hostKey(table: FlowTable, addr: Uint32Array, slot: number): number | string {
  return table.ipVersion[slot] === 4 ? addr[slot * 4]! : formatIpv6(addr, slot * 4);
}

function hostText(key: number | string): string {
  return typeof key === 'number' ? formatIpv4(key) : key;
}
