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
import { formatIpv6, formatIpv4 } from '../util/ip-address.js';
import { HeavyHitters } from './heavy-hitters.js';

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

/** IPv4 hosts are keyed by number (no string per flow); IPv6 by text. */
function hostKey(version: number, addr: Uint32Array, slot: number): number | string {
  return version === 4 ? addr[slot * 4]! : formatIpv6(addr, slot * 4);
}

function sameAddress(a: Uint32Array, b: Uint32Array, base: number): boolean {
  return (
    a[base] === b[base] &&
    a[base + 1] === b[base + 1] &&
    a[base + 2] === b[base + 2] &&
    a[base + 3] === b[base + 3]
  );
}

const INITIAL_HOSTS = 1024;

/**
 * Exact bytes and packets per host (IP version and four address words) in typed arrays with an
 * open-addressing index, for up to `capacity` distinct hosts. Slots are handed out in order of
 * first appearance and never freed, so that order also breaks ties in `top`.
 */
class HostTotals {
  private size = 0;
  private slots = 0;
  private version = new Uint8Array(0);
  private words = new Uint32Array(0);
  private bytes = new Float64Array(0);
  private packets = new Float64Array(0);
  /** Slot + 1, or 0 when empty; at most half full. */
  private index = new Int32Array(0);

  constructor(private readonly capacity: number) {
    this.grow(Math.min(INITIAL_HOSTS, capacity));
  }

  /** Adds to the host at `addr[base..base+3]`; false (and nothing added) when it would be one too many. */
  add(version: number, addr: Uint32Array, base: number, bytes: number, packets: number): boolean {
    const w0 = addr[base]!;
    const w1 = addr[base + 1]!;
    const w2 = addr[base + 2]!;
    const w3 = addr[base + 3]!;
    const mask = this.index.length - 1;
    let i = hostHash(version, w0, w1, w2, w3) & mask;
    for (;;) {
      const entry = this.index[i]!;
      if (entry === 0) break;
      const s = entry - 1;
      const at = s * 4;
      const words = this.words;
      if (words[at] === w0 && words[at + 1] === w1 && words[at + 2] === w2 && words[at + 3] === w3) {
        if (this.version[s] === version) {
          this.bytes[s]! += bytes;
          this.packets[s]! += packets;
          return true;
        }
      }
      i = (i + 1) & mask;
    }
    if (this.size === this.capacity) return false;
    if (this.size === this.slots) {
      this.grow(Math.min(this.slots * 2, this.capacity));
      return this.add(version, addr, base, bytes, packets);
    }
    const s = this.size++;
    this.version[s] = version;
    this.words[s * 4] = w0;
    this.words[s * 4 + 1] = w1;
    this.words[s * 4 + 2] = w2;
    this.words[s * 4 + 3] = w3;
    this.bytes[s] = bytes;
    this.packets[s] = packets;
    this.index[i] = s + 1;
    return true;
  }

  /** Every host in order of first appearance, keyed as `hostKey` keys it. */
  forEach(visit: (key: number | string, bytes: number, packets: number) => void): void {
    for (let s = 0; s < this.size; s++) {
      visit(hostKey(this.version[s]!, this.words, s), this.bytes[s]!, this.packets[s]!);
    }
  }

  /** The `n` hosts with the most bytes or packets, most first; ties in order of first appearance. */
  top(n: number, by: 'bytes' | 'packets'): Talker[] {
    const counts = by === 'bytes' ? this.bytes : this.packets;
    // One pass keeping the best n (a sort of every host cost more than the rest of build()).
    const best: number[] = [];
    for (let s = 0; n > 0 && s < this.size; s++) {
      const c = counts[s]!;
      if (best.length === n && c <= counts[best[n - 1]!]!) continue;
      let i = best.length < n ? best.length : n - 1;
      while (i > 0 && counts[best[i - 1]!]! < c) {
        if (i < n) best[i] = best[i - 1]!;
        i--;
      }
      best[i] = s;
    }
    return best.map((s) => ({
      address: hostText(hostKey(this.version[s]!, this.words, s)),
      bytes: this.bytes[s]!,
      packets: this.packets[s]!,
    }));
  }

  private grow(slots: number): void {
    const copy = <T extends Uint8Array | Uint32Array | Float64Array>(old: T, fresh: T): T => {
      fresh.set(old);
      return fresh;
    };
    this.version = copy(this.version, new Uint8Array(slots));
    this.words = copy(this.words, new Uint32Array(slots * 4));
    this.bytes = copy(this.bytes, new Float64Array(slots));
    this.packets = copy(this.packets, new Float64Array(slots));
    this.slots = slots;
    let indexSize = 1;
    while (indexSize < slots * 2) indexSize <<= 1;
    this.index = new Int32Array(indexSize);
    const mask = indexSize - 1;
    for (let s = 0; s < this.size; s++) {
      const at = s * 4;
      const w = this.words;
      let i = hostHash(this.version[s]!, w[at]!, w[at + 1]!, w[at + 2]!, w[at + 3]!) & mask;
      while (this.index[i] !== 0) i = (i + 1) & mask;
      this.index[i] = s + 1;
    }
  }
}

function hostHash(version: number, w0: number, w1: number, w2: number, w3: number): number {
  // murmur3's 32-bit finalizer over the words folded together.
  let h = Math.imul(w0 ^ version, 0x9e3779b1) ^ Math.imul(w1, 0x85ebca6b) ^ Math.imul(w2, 0xc2b2ae35) ^ w3;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function hostText(key: number | string): string {
  return typeof key === 'number' ? formatIpv4(key) : key;
}
