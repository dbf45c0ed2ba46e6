/**
 * Bidirectional flow table: packets with the same protocol, addresses and ports (in either
 * direction) join one flow whose initiator is the side that sent the first packet (the SYN for
 * TCP). Flows live in typed arrays indexed by slot, found through an open-addressing hash index,
 * so the packet path allocates nothing and costs O(1).
 *
 * Flows end on packet time, never on a clock of their own: idle and active timeouts, a shorter
 * timeout after a TCP close, eviction of the oldest idle flow when the table is full (memory
 * stays bounded under a spoofed flood), or flush at end of input. A SYN that opens a new
 * connection on the same ports ends the old flow. IP fragments follow their datagram's first
 * fragment, whichever order they come in. Each ended flow is handed to `onFlowEnd` while its slot
 * is still readable; it must copy what it keeps.
 */

import { Fragment, IpProto, TcpFlag, type PacketDecoder } from '../decode/packet-decoder.js';
import { mix32 } from '../util/hash.js';

export const FlowState = {
  /** Not TCP: no connection state. */
  ACTIVE: 0,
  /** A SYN and no answer yet. */
  ATTEMPTED: 1,
  /** The responder answered the SYN. */
  ESTABLISHED: 2,
  /** Both sides sent FIN. */
  CLOSED_FIN: 3,
  /** Reset after the connection was established (or mid-stream). */
  CLOSED_RST: 4,
  /** The responder answered the SYN with a reset (closed port). */
  REJECTED: 5,
  /** Picked up after its SYN (the capture started mid-connection). */
  MIDSTREAM: 6,
} as const;
export type FlowState = (typeof FlowState)[keyof typeof FlowState];
export const FLOW_STATE_NAMES = [
  'active',
  'attempted',
  'established',
  'closed-fin',
  'closed-rst',
  'rejected',
  'midstream',
] as const;

export const EndReason = {
  IDLE: 0,
  ACTIVE_TIMEOUT: 1,
  CLOSED: 2,
  EVICTED: 3,
  FLUSH: 4,
  /** A SYN opened a new connection on the 5-tuple: the old one was closed, or the ISN is new. */
  REUSED: 5,
} as const;
export type EndReason = (typeof EndReason)[keyof typeof EndReason];
export const END_REASON_NAMES = [
  'idle',
  'active-timeout',
  'closed',
  'evicted',
  'end-of-input',
  'port-reused',
] as const;

export interface FlowTableOptions {
  /** Hard cap on live flows; the oldest idle flow is evicted to make room. */
  maxFlows: number;
  idleTimeoutMicros: number;
  activeTimeoutMicros: number;
  /** Time a TCP flow stays after FIN from both sides or RST, to catch the last ACKs. */
  closedTimeoutMicros: number;
}

/** NetFlow-like defaults: 15 s after a TCP close, 60 s idle, 30 min active. */
export const DEFAULT_FLOW_OPTIONS: FlowTableOptions = {
  maxFlows: 500_000,
  idleTimeoutMicros: 60_000_000,
  activeTimeoutMicros: 1_800_000_000,
  closedTimeoutMicros: 15_000_000,
};

export type FlowEndHandler = (table: FlowTable, slot: number, reason: EndReason) => void;

const LIST_OPEN = 0;
const LIST_CLOSED = 1;
const NONE = -1;
const INITIAL_SLOTS = 1024;
const FRAGMENT_CACHE_SIZE = 4096;

const SYN_ACK = TcpFlag.SYN | TcpFlag.ACK;

function hashEndpoint(addr: Uint32Array, port: number): number {
  let h = mix32(addr[0]! ^ Math.imul(port, 0x9e3779b1));
  if (addr[1] !== 0 || addr[2] !== 0 || addr[3] !== 0) {
    h = mix32(h ^ addr[1]!);
    h = mix32(h ^ addr[2]!);
    h = mix32(h ^ addr[3]!);
  }
  return h;
}

export class FlowTable {
  /** Flows created since the start. */
  flowsCreated = 0;
  /** Flows ended because the table was full. */
  evicted = 0;
  /** Later IP fragments attached to their first fragment's flow (also when they came before it). */
  fragmentsJoined = 0;
  /** Live flows now. */
  live = 0;
  /** Largest packet timestamp seen: the table's clock. */
  now = 0;

  // Per-slot flow fields. Side A is the initiator (client), side B the responder (server).
  flowId = new Float64Array(0);
  ipVersion = new Uint8Array(0);
  ipProto = new Uint8Array(0);
  addrA = new Uint32Array(0);
  addrB = new Uint32Array(0);
  portA = new Uint16Array(0);
  portB = new Uint16Array(0);
  packetsAB = new Float64Array(0);
  packetsBA = new Float64Array(0);
  bytesAB = new Float64Array(0);
  bytesBA = new Float64Array(0);
  firstSeen = new Float64Array(0);
  lastSeen = new Float64Array(0);
  tcpFlagsAB = new Uint16Array(0);
  tcpFlagsBA = new Uint16Array(0);
  state = new Uint8Array(0);
  icmpType = new Int16Array(0);
  icmpCode = new Uint8Array(0);
  fragments = new Uint32Array(0);
  /** Sequence number of the SYN each side sent first (valid while that side's flags hold SYN). */
  synSeqAB = new Uint32Array(0);
  synSeqBA = new Uint32Array(0);

  private hash = new Uint32Array(0);
  private prev = new Int32Array(0);
  private next = new Int32Array(0);
  private list = new Uint8Array(0);
  /** Open-addressing index: slot + 1, or 0 when empty. */
  private index = new Int32Array(0);
  private indexMask = 0;
  private capacity = 0;
  private used = 0;
  private freeSlots: number[] = [];
  private readonly heads = [NONE, NONE];
  private readonly tails = [NONE, NONE];
  private nextFlowId = 1;

  // Direct-mapped cache: IP datagram (addresses, protocol, id) -> flow, so later fragments join
  // their first fragment's flow. A collision forgets the older datagram: its remaining fragments
  // then go to a portless flow, which costs accuracy, never memory.
  private readonly fragKey = new Uint32Array(FRAGMENT_CACHE_SIZE * 4);
  private readonly fragSlot = new Int32Array(FRAGMENT_CACHE_SIZE).fill(NONE);
  private readonly fragFlowId = new Float64Array(FRAGMENT_CACHE_SIZE);
  // Later fragments that came before their first fragment (senders such as Linux emit the last
  // fragment first; routers reorder). They wait in the hosts' portless flow, and move to the
  // datagram's flow when the first fragment shows its ports. Zero packets: the entry is not early.
  private readonly fragEarlyPackets = new Uint32Array(FRAGMENT_CACHE_SIZE);
  private readonly fragEarlyBytes = new Float64Array(FRAGMENT_CACHE_SIZE);
  private readonly fragEarlyFirstSeen = new Float64Array(FRAGMENT_CACHE_SIZE);

  private readonly options: FlowTableOptions;

  constructor(
    options: Partial<FlowTableOptions>,
    private readonly onFlowEnd: FlowEndHandler,
  ) {
    this.options = { ...DEFAULT_FLOW_OPTIONS, ...options };
    if (!(this.options.maxFlows >= 1)) throw new RangeError('maxFlows must be at least 1');
    this.grow(Math.min(INITIAL_SLOTS, this.options.maxFlows));
  }

  /** Slots allocated now (grows by doubling up to maxFlows). */
  get allocatedSlots(): number {
    return this.capacity;
  }

  /**
   * Accounts one decoded IP packet of `frameBytes` at time `ts` to its flow, creating the flow
   * when needed. Returns the flow's slot. The decoder must hold an IP packet (ipVersion != 0).
   */
  add(p: PacketDecoder, ts: number, frameBytes: number): number {
    this.advanceTo(ts);
    const src = p.src;
    const dst = p.dst;
    const proto = p.ipProto;
    let srcPort = 0;
    let dstPort = 0;
    const fragIndex = p.fragment === Fragment.NONE ? NONE : this.fragmentCacheIndex(p);
    if (p.fragment === Fragment.LATER) {
      const slot = this.fragmentFlow(p, fragIndex);
      if (slot !== NONE) {
        if (this.fragEarlyPackets[fragIndex] === 0) this.fragmentsJoined++;
        else this.noteEarlyFragment(fragIndex, ts, frameBytes);
        this.fragments[slot]!++;
        this.account(slot, this.sameDirection(slot, src) ? 0 : 1, ts, frameBytes, 0);
        return slot;
      }
      // No first fragment yet: the hosts' portless flow holds it until the first one comes.
    } else if (p.hasPorts) {
      srcPort = p.srcPort;
      dstPort = p.dstPort;
    }

    const hSrc = hashEndpoint(src, srcPort);
    const hDst = hashEndpoint(dst, dstPort);
    const lo = hSrc < hDst ? hSrc : hDst;
    const hi = hSrc < hDst ? hDst : hSrc;
    const h = mix32(Math.imul(lo, 31) + hi + Math.imul(proto + 1, 0x27d4eb2d) + p.ipVersion);

    const mask = this.indexMask;
    const index = this.index;
    let i = h & mask;
    let slot = NONE;
    let dir = 0;
    for (;;) {
      const entry = index[i]!;
      if (entry === 0) break;
      const s = entry - 1;
      if (this.hash[s] === h && this.ipProto[s] === proto && this.ipVersion[s] === p.ipVersion) {
        if (this.portA[s] === srcPort && this.portB[s] === dstPort && this.addrEq(s, src, dst)) {
          slot = s;
          dir = 0;
          break;
        }
        if (this.portA[s] === dstPort && this.portB[s] === srcPort && this.addrEq(s, dst, src)) {
          slot = s;
          dir = 1;
          break;
        }
      }
      i = (i + 1) & mask;
    }

    const flags = p.tcpFlags;
    const isTcp = proto === IpProto.TCP;
    if (slot !== NONE) {
      const expiredActive = ts - this.firstSeen[slot]! >= this.options.activeTimeoutMicros;
      const reused = isTcp && (flags & SYN_ACK) === TcpFlag.SYN && this.isNewConnection(slot, dir, p.tcpSeq);
      if (!expiredActive && !reused) {
        this.accountPacket(slot, dir, p, ts, frameBytes, fragIndex);
        return slot;
      }
      this.end(slot, expiredActive ? EndReason.ACTIVE_TIMEOUT : EndReason.REUSED);
    }

    // A flow whose first packet is a SYN-ACK was started by the other side.
    const flipped = isTcp && (flags & SYN_ACK) === SYN_ACK;
    slot = this.create(h, p, srcPort, dstPort, ts, flipped);
    this.accountPacket(slot, flipped ? 1 : 0, p, ts, frameBytes, fragIndex);
    return slot;
  }

  /** Moves the table's clock to `now` (never back) and ends the flows whose timeout has passed. */
  advanceTo(now: number): void {
    if (now > this.now) {
      this.now = now;
      this.expire(now);
    }
  }

  /** Ends every flow whose timeout has passed at time `now`. Cheap when nothing is due. */
  expire(now: number): void {
    const idle = this.options.idleTimeoutMicros;
    const closed = this.options.closedTimeoutMicros;
    for (
      let s = this.heads[LIST_CLOSED]!;
      s !== NONE && this.lastSeen[s]! + closed <= now;
      s = this.heads[LIST_CLOSED]!
    ) {
      this.end(s, EndReason.CLOSED);
    }
    for (
      let s = this.heads[LIST_OPEN]!;
      s !== NONE && this.lastSeen[s]! + idle <= now;
      s = this.heads[LIST_OPEN]!
    ) {
      this.end(s, EndReason.IDLE);
    }
  }

  /** Ends every live flow (end of input or shutdown), oldest first. */
  flush(): void {
    for (const list of [LIST_CLOSED, LIST_OPEN]) {
      for (let s = this.heads[list]!; s !== NONE; s = this.heads[list]!) this.end(s, EndReason.FLUSH);
    }
  }

  /**
   * A SYN (without ACK) from side `dir` opens a new connection on the same addresses and ports
   * when the old one is over, or when that side already sent a SYN with another initial sequence
   * number: a retransmitted SYN repeats its sequence number, a new connection picks a new one
   * (RFC 9293 section 3.4.1). tshark splits its TCP conversations by the same rule.
   */
  private isNewConnection(slot: number, dir: number, seq: number): boolean {
    const st = this.state[slot]!;
    if (st === FlowState.CLOSED_FIN || st === FlowState.CLOSED_RST || st === FlowState.REJECTED) return true;
    if (dir === 0) return (this.tcpFlagsAB[slot]! & TcpFlag.SYN) !== 0 && this.synSeqAB[slot] !== seq;
    return (this.tcpFlagsBA[slot]! & TcpFlag.SYN) !== 0 && this.synSeqBA[slot] !== seq;
  }

  /** Accounts a packet that found or created its flow: TCP's first SYN, fragments, counters. */
  private accountPacket(
    slot: number,
    dir: number,
    p: PacketDecoder,
    ts: number,
    frameBytes: number,
    fragIndex: number,
  ): void {
    const flags = p.tcpFlags;
    if (flags & TcpFlag.SYN) {
      if (dir === 0 && !(this.tcpFlagsAB[slot]! & TcpFlag.SYN)) this.synSeqAB[slot] = p.tcpSeq;
      else if (dir === 1 && !(this.tcpFlagsBA[slot]! & TcpFlag.SYN)) this.synSeqBA[slot] = p.tcpSeq;
    }
    this.account(slot, dir, ts, frameBytes, flags);
    if (fragIndex !== NONE) {
      this.fragments[slot]!++;
      if (p.fragment === Fragment.FIRST) this.rememberFirstFragment(p, slot, fragIndex);
      else this.rememberEarlyFragment(p, slot, fragIndex, ts, frameBytes);
    }
  }

  /** True when `addr` is side A (the initiator) of the flow in `slot`. */
  private sameDirection(slot: number, addr: Uint32Array): boolean {
    const base = slot << 2;
    const a = this.addrA;
    return (
      a[base] === addr[0] && a[base + 1] === addr[1] && a[base + 2] === addr[2] && a[base + 3] === addr[3]
    );
  }

  private addrEq(slot: number, a: Uint32Array, b: Uint32Array): boolean {
    const base = slot << 2;
    const A = this.addrA;
    const B = this.addrB;
    return (
      A[base] === a[0] &&
      B[base] === b[0] &&
      A[base + 1] === a[1] &&
      A[base + 2] === a[2] &&
      A[base + 3] === a[3] &&
      B[base + 1] === b[1] &&
      B[base + 2] === b[2] &&
      B[base + 3] === b[3]
    );
  }

  private account(slot: number, dir: number, ts: number, bytes: number, flags: number): void {
    if (dir === 0) {
      this.packetsAB[slot]!++;
      this.bytesAB[slot]! += bytes;
      this.tcpFlagsAB[slot]! |= flags;
    } else {
      this.packetsBA[slot]!++;
      this.bytesBA[slot]! += bytes;
      this.tcpFlagsBA[slot]! |= flags;
    }
    if (ts > this.lastSeen[slot]!) this.lastSeen[slot] = ts;
    if (ts < this.firstSeen[slot]!) this.firstSeen[slot] = ts;
    if (flags !== 0 && this.ipProto[slot] === IpProto.TCP) this.tcpTransition(slot, dir, flags);
    this.touch(slot);
  }

  private tcpTransition(slot: number, dir: number, flags: number): void {
    const st = this.state[slot]!;
    if (flags & TcpFlag.RST) {
      if (st === FlowState.CLOSED_FIN || st === FlowState.CLOSED_RST || st === FlowState.REJECTED) return;
      this.state[slot] = st === FlowState.ATTEMPTED && dir === 1 ? FlowState.REJECTED : FlowState.CLOSED_RST;
      this.moveTo(slot, LIST_CLOSED);
      return;
    }
    if (st === FlowState.ATTEMPTED && dir === 1 && (flags & SYN_ACK) === SYN_ACK) {
      this.state[slot] = FlowState.ESTABLISHED;
      return;
    }
    if (
      flags & TcpFlag.FIN &&
      (st === FlowState.ESTABLISHED || st === FlowState.MIDSTREAM || st === FlowState.ATTEMPTED)
    ) {
      if (this.tcpFlagsAB[slot]! & this.tcpFlagsBA[slot]! & TcpFlag.FIN) {
        this.state[slot] = FlowState.CLOSED_FIN;
        this.moveTo(slot, LIST_CLOSED);
      }
    }
  }

  private create(
    h: number,
    p: PacketDecoder,
    srcPort: number,
    dstPort: number,
    ts: number,
    flipped: boolean,
  ): number {
    if (this.live >= this.options.maxFlows) {
      // Oldest idle first: a closed connection before an open one.
      const victim = this.heads[LIST_CLOSED] !== NONE ? this.heads[LIST_CLOSED]! : this.heads[LIST_OPEN]!;
      this.evicted++;
      this.end(victim, EndReason.EVICTED);
    }
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      if (this.used === this.capacity) this.grow(Math.min(this.capacity * 2, this.options.maxFlows));
      slot = this.used++;
    }
    const base = slot << 2;
    const a = flipped ? p.dst : p.src;
    const b = flipped ? p.src : p.dst;
    for (let k = 0; k < 4; k++) {
      this.addrA[base + k] = a[k]!;
      this.addrB[base + k] = b[k]!;
    }
    this.portA[slot] = flipped ? dstPort : srcPort;
    this.portB[slot] = flipped ? srcPort : dstPort;
    this.flowId[slot] = this.nextFlowId++;
    this.hash[slot] = h;
    this.ipVersion[slot] = p.ipVersion;
    this.ipProto[slot] = p.ipProto;
    this.packetsAB[slot] = 0;
    this.packetsBA[slot] = 0;
    this.bytesAB[slot] = 0;
    this.bytesBA[slot] = 0;
    this.firstSeen[slot] = ts;
    this.lastSeen[slot] = ts;
    this.tcpFlagsAB[slot] = 0;
    this.tcpFlagsBA[slot] = 0;
    this.icmpType[slot] = p.icmpType;
    this.icmpCode[slot] = p.icmpCode;
    this.fragments[slot] = 0;
    this.synSeqAB[slot] = 0;
    this.synSeqBA[slot] = 0;
    let st: FlowState = FlowState.ACTIVE;
    if (p.ipProto === IpProto.TCP) {
      const syn = p.tcpFlags & SYN_ACK;
      st =
        syn === TcpFlag.SYN
          ? FlowState.ATTEMPTED
          : syn === SYN_ACK
            ? FlowState.ESTABLISHED
            : FlowState.MIDSTREAM;
    }
    this.state[slot] = st;
    this.list[slot] = LIST_OPEN;
    this.prev[slot] = NONE;
    this.next[slot] = NONE;
    this.append(slot, LIST_OPEN);

    const mask = this.indexMask;
    let i = h & mask;
    while (this.index[i] !== 0) i = (i + 1) & mask;
    this.index[i] = slot + 1;
    this.live++;
    this.flowsCreated++;
    return slot;
  }

  /** Hands the flow to onFlowEnd, then frees its slot. */
  private end(slot: number, reason: EndReason): void {
    this.onFlowEnd(this, slot, reason);
    this.release(slot);
  }

  /** Frees a slot without reporting it. */
  private release(slot: number): void {
    this.unlink(slot);
    this.removeFromIndex(slot);
    // A freed slot has no flow id, so a stale fragment-cache entry can never match it.
    this.flowId[slot] = 0;
    this.freeSlots.push(slot);
    this.live--;
  }

  private removeFromIndex(slot: number): void {
    const mask = this.indexMask;
    const index = this.index;
    let i = this.hash[slot]! & mask;
    while (index[i] !== slot + 1) i = (i + 1) & mask;
    // Backward-shift deletion keeps linear probing correct without tombstones.
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const entry = index[j]!;
      if (entry === 0) break;
      const home = this.hash[entry - 1]! & mask;
      const between = i <= j ? i < home && home <= j : i < home || home <= j;
      if (!between) {
        index[i] = entry;
        i = j;
      }
    }
    index[i] = 0;
  }

  private touch(slot: number): void {
    const list = this.list[slot]!;
    if (this.tails[list] === slot) return;
    this.unlink(slot);
    this.append(slot, list);
  }

  private moveTo(slot: number, list: number): void {
    if (this.list[slot] === list) return;
    this.unlink(slot);
    this.list[slot] = list;
    this.append(slot, list);
  }

  private append(slot: number, list: number): void {
    const tail = this.tails[list]!;
    this.prev[slot] = tail;
    this.next[slot] = NONE;
    if (tail === NONE) this.heads[list] = slot;
    else this.next[tail] = slot;
    this.tails[list] = slot;
  }

  private unlink(slot: number): void {
    const list = this.list[slot]!;
    const p = this.prev[slot]!;
    const n = this.next[slot]!;
    if (p === NONE) this.heads[list] = n;
    else this.next[p] = n;
    if (n === NONE) this.tails[list] = p;
    else this.prev[n] = p;
    this.prev[slot] = NONE;
    this.next[slot] = NONE;
  }

  private fragmentCacheIndex(p: PacketDecoder): number {
    const h = mix32(
      p.src[0]! ^
        mix32(p.dst[0]! ^ p.src[3]! ^ p.dst[3]!) ^
        Math.imul(p.fragmentId, 0x9e3779b1) ^
        p.fragmentProto,
    );
    return h & (FRAGMENT_CACHE_SIZE - 1);
  }

  private fragmentKeyMatches(p: PacketDecoder, i: number): boolean {
    const k = i << 2;
    return (
      this.fragKey[k] === p.fragmentId &&
      this.fragKey[k + 1] === (p.src[0]! ^ p.src[3]!) >>> 0 &&
      this.fragKey[k + 2] === (p.dst[0]! ^ p.dst[3]!) >>> 0 &&
      this.fragKey[k + 3] === p.fragmentProto
    );
  }

  private setFragmentEntry(p: PacketDecoder, i: number, slot: number): void {
    const k = i << 2;
    this.fragKey[k] = p.fragmentId;
    this.fragKey[k + 1] = p.src[0]! ^ p.src[3]!;
    this.fragKey[k + 2] = p.dst[0]! ^ p.dst[3]!;
    this.fragKey[k + 3] = p.fragmentProto;
    this.fragSlot[i] = slot;
    this.fragFlowId[i] = this.flowId[slot]!;
    this.fragEarlyPackets[i] = 0;
    this.fragEarlyBytes[i] = 0;
  }

  /** The live flow the datagram of `p` was remembered with, or NONE. */
  private fragmentFlow(p: PacketDecoder, i: number): number {
    const slot = this.fragSlot[i]!;
    if (slot === NONE || !this.fragmentKeyMatches(p, i) || this.flowId[slot] !== this.fragFlowId[i]) {
      return NONE;
    }
    return slot;
  }

  /**
   * The first fragment found its flow: later fragments now join it. Those that came before it
   * move out of the portless flow that held them; a portless flow left empty was only a waiting
   * room and is dropped unreported.
   */
  private rememberFirstFragment(p: PacketDecoder, slot: number, i: number): void {
    const early = this.fragEarlyPackets[i]!;
    const waiting = early > 0 ? this.fragmentFlow(p, i) : NONE;
    if (waiting !== NONE && waiting !== slot) {
      const bytes = this.fragEarlyBytes[i]!;
      if (this.sameDirection(waiting, p.src)) {
        this.packetsAB[waiting]! -= early;
        this.bytesAB[waiting]! -= bytes;
      } else {
        this.packetsBA[waiting]! -= early;
        this.bytesBA[waiting]! -= bytes;
      }
      this.fragments[waiting]! -= early;
      if (this.sameDirection(slot, p.src)) {
        this.packetsAB[slot]! += early;
        this.bytesAB[slot]! += bytes;
      } else {
        this.packetsBA[slot]! += early;
        this.bytesBA[slot]! += bytes;
      }
      this.fragments[slot]! += early;
      const earlyFirstSeen = this.fragEarlyFirstSeen[i]!;
      if (earlyFirstSeen < this.firstSeen[slot]!) this.firstSeen[slot] = earlyFirstSeen;
      if (this.packetsAB[waiting]! + this.packetsBA[waiting]! === 0) {
        this.release(waiting);
        this.flowsCreated--;
      }
    }
    if (waiting !== NONE) this.fragmentsJoined += early;
    this.setFragmentEntry(p, i, slot);
  }

  /** A later fragment without its first one went to the portless flow in `slot`: remember it. */
  private rememberEarlyFragment(p: PacketDecoder, slot: number, i: number, ts: number, bytes: number): void {
    this.setFragmentEntry(p, i, slot);
    this.fragEarlyFirstSeen[i] = ts;
    this.noteEarlyFragment(i, ts, bytes);
  }

  private noteEarlyFragment(i: number, ts: number, bytes: number): void {
    this.fragEarlyPackets[i]!++;
    this.fragEarlyBytes[i]! += bytes;
    if (ts < this.fragEarlyFirstSeen[i]!) this.fragEarlyFirstSeen[i] = ts;
  }

  private grow(newCapacity: number): void {
    const n = newCapacity;
    const copy = <T extends Float64Array | Uint32Array | Uint16Array | Uint8Array | Int32Array | Int16Array>(
      old: T,
      make: (len: number) => T,
      per = 1,
    ): T => {
      const fresh = make(n * per);
      fresh.set(old);
      return fresh;
    };
    this.flowId = copy(this.flowId, (l) => new Float64Array(l));
    this.ipVersion = copy(this.ipVersion, (l) => new Uint8Array(l));
    this.ipProto = copy(this.ipProto, (l) => new Uint8Array(l));
    this.addrA = copy(this.addrA, (l) => new Uint32Array(l), 4);
    this.addrB = copy(this.addrB, (l) => new Uint32Array(l), 4);
    this.portA = copy(this.portA, (l) => new Uint16Array(l));
    this.portB = copy(this.portB, (l) => new Uint16Array(l));
    this.packetsAB = copy(this.packetsAB, (l) => new Float64Array(l));
    this.packetsBA = copy(this.packetsBA, (l) => new Float64Array(l));
    this.bytesAB = copy(this.bytesAB, (l) => new Float64Array(l));
    this.bytesBA = copy(this.bytesBA, (l) => new Float64Array(l));
    this.firstSeen = copy(this.firstSeen, (l) => new Float64Array(l));
    this.lastSeen = copy(this.lastSeen, (l) => new Float64Array(l));
    this.tcpFlagsAB = copy(this.tcpFlagsAB, (l) => new Uint16Array(l));
    this.tcpFlagsBA = copy(this.tcpFlagsBA, (l) => new Uint16Array(l));
    this.state = copy(this.state, (l) => new Uint8Array(l));
    this.icmpType = copy(this.icmpType, (l) => new Int16Array(l));
    this.icmpCode = copy(this.icmpCode, (l) => new Uint8Array(l));
    this.fragments = copy(this.fragments, (l) => new Uint32Array(l));
    this.synSeqAB = copy(this.synSeqAB, (l) => new Uint32Array(l));
    this.synSeqBA = copy(this.synSeqBA, (l) => new Uint32Array(l));
    this.hash = copy(this.hash, (l) => new Uint32Array(l));
    this.prev = copy(this.prev, (l) => new Int32Array(l));
    this.next = copy(this.next, (l) => new Int32Array(l));
    this.list = copy(this.list, (l) => new Uint8Array(l));
    this.capacity = n;

    // The index stays at most half full so probes stay short; rebuild it from the live slots.
    let size = 1;
    while (size < n * 2) size <<= 1;
    this.index = new Int32Array(size);
    this.indexMask = size - 1;
    for (const list of [LIST_OPEN, LIST_CLOSED]) {
      for (let s = this.heads[list]!; s !== NONE; s = this.next[s]!) {
        let i = this.hash[s]! & this.indexMask;
        while (this.index[i] !== 0) i = (i + 1) & this.indexMask;
        this.index[i] = s + 1;
      }
    }
  }
}
