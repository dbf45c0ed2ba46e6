/**
 * One flow record as the flow-record detectors read it: the text fields of a store FlowRow (addresses,
 * protocol name, TCP flags as letters) decoded into numbers in one reused object, as PacketDecoder
 * is for packets, so the record path allocates nothing. A row that cannot be read yields a reason
 * (the caller counts and drops it); it never throws.
 *
 * ICMP type and code are read from `dstPort` as type * 256 + code: where NetFlow v5, nfdump and
 * IPFIX's icmpTypeCodeIPv4/IPv6 (elements 32 and 139) put them.
 */

import type { SampleFlow } from '../../alerts/alert.js';
import { IpProto, TcpFlag } from '../../decode/packet-decoder.js';
import { protocolName } from '../../flows/flow-record.js';
import type { FlowRow } from '../../store/flow-repository.js';

/** Protocol names as the flow table writes them ("tcp", "gre", "132") to IP protocol numbers. */
const PROTOCOL_NUMBERS: ReadonlyMap<string, number> = new Map(
  Array.from({ length: 256 }, (_, n) => [protocolName(n), n] as const),
);

/** Scratch for IPv6 parsing: the groups before and after "::" (the record path is synchronous). */
const groups = new Uint16Array(8);
/** Scratch for a dotted IPv4 tail of an IPv6 address. */
const tail = new Uint32Array(1);

export class RecordView {
  /** 4 or 6. */
  version = 0;
  /** Sender and receiver of this direction, four words each (IPv4 in the first). */
  readonly src = new Uint32Array(4);
  readonly dst = new Uint32Array(4);
  proto = 0;
  srcPort = 0;
  dstPort = 0;
  /** This direction's counts (already multiplied by the sampling rate). */
  packets = 0;
  bytes = 0;
  /** The other direction's bytes when the row holds both (a biflow), else 0. */
  otherBytes = 0;
  /** TCP flags of this direction as bits (TcpFlag). */
  tcpFlags = 0;
  firstUs = 0;
  lastUs = 0;
  /** ICMP or ICMPv6 type and code (see the module comment), -1 for other protocols. */
  icmpType = -1;
  icmpCode = -1;
  /** The row read, for sample flows at report time. */
  row: FlowRow | null = null;
  /** True once `reverse` turned the view into the row's second direction. */
  reversed = false;

  /**
   * Reads the sending direction of `row` (src to dst). Null when it could be read, else what is
   * wrong with it.
   */
  read(row: FlowRow): string | null {
    this.row = row;
    this.reversed = false;
    const v = parseAddressInto(row.srcAddr, this.src);
    if (v === 0) return `source address "${row.srcAddr}" is not an IPv4 or IPv6 address`;
    const w = parseAddressInto(row.dstAddr, this.dst);
    if (w === 0) return `destination address "${row.dstAddr}" is not an IPv4 or IPv6 address`;
    if (v !== w) return `source ${row.srcAddr} and destination ${row.dstAddr} are of different IP versions`;
    this.version = v;
    const proto = PROTOCOL_NUMBERS.get(row.protocol);
    if (proto === undefined) return `protocol "${row.protocol}" is not a protocol name or number`;
    this.proto = proto;
    if (!isPort(row.srcPort) || !isPort(row.dstPort))
      return `ports ${row.srcPort} -> ${row.dstPort} are not integers from 0 to 65535`;
    this.srcPort = row.srcPort;
    this.dstPort = row.dstPort;
    // The checks of counts and times are written out: a number above 2^31 passed to a call that is
    // not inlined is boxed, an allocation per record (measured: 16 bytes each).
    const packets = row.packetsToServer;
    const bytes = row.bytesToServer;
    if (
      typeof packets !== 'number' ||
      !(packets >= 1 && packets < Infinity && bytes >= 0 && bytes < Infinity)
    )
      return `counts ${packets} packets, ${bytes} bytes are not a record's (at least one packet)`;
    const backPackets = row.packetsToClient;
    const backBytes = row.bytesToClient;
    if (
      typeof backPackets !== 'number' ||
      !(backPackets >= 0 && backPackets < Infinity && backBytes >= 0 && backBytes < Infinity)
    )
      return `return counts ${backPackets} packets, ${backBytes} bytes are not counts`;
    this.packets = packets;
    this.bytes = bytes;
    this.otherBytes = backPackets > 0 ? backBytes : 0;
    const first = row.firstSeenUs;
    const last = row.lastSeenUs;
    if (typeof first !== 'number' || !(first > 0 && last >= first && last <= Number.MAX_SAFE_INTEGER))
      return `times ${first} to ${last} are not a span of microseconds since the epoch`;
    this.firstUs = first;
    this.lastUs = last;
    const flags = tcpFlagBits(row.tcpFlagsToServer);
    const back = tcpFlagBits(row.tcpFlagsToClient);
    if (flags < 0 || back < 0)
      return `TCP flags "${row.tcpFlagsToServer}"/"${row.tcpFlagsToClient}" are not letters of SFRPAUEWN`;
    this.tcpFlags = proto === IpProto.TCP ? flags : 0;
    if (proto === IpProto.ICMP || proto === IpProto.ICMPV6) {
      this.icmpType = row.dstPort >>> 8;
      this.icmpCode = row.dstPort & 0xff;
    } else {
      this.icmpType = -1;
      this.icmpCode = -1;
    }
    return null;
  }

  /** True when the row read holds a second direction (a biflow: packets back to the client). */
  hasReverse(): boolean {
    return !this.reversed && this.row !== null && this.row.packetsToClient > 0;
  }

  /** Turns the view into the row's second direction (call only when hasReverse()). */
  reverse(): void {
    const row = this.row!;
    this.reversed = true;
    for (let i = 0; i < 4; i++) {
      const a = this.src[i]!;
      this.src[i] = this.dst[i]!;
      this.dst[i] = a;
    }
    this.srcPort = row.dstPort;
    this.dstPort = row.srcPort;
    this.packets = row.packetsToClient;
    this.bytes = row.bytesToClient;
    this.otherBytes = row.bytesToServer;
    this.tcpFlags = this.proto === IpProto.TCP ? tcpFlagBits(row.tcpFlagsToClient) : 0;
    if (this.icmpType >= 0) {
      // A biflow's answer direction: echo requests are answered by echo replies; others unknown.
      const type = this.icmpType;
      this.icmpType = type === 8 ? 0 : type === 128 ? 129 : -1;
      this.icmpCode = 0;
      this.srcPort = 0;
      this.dstPort = this.icmpType >= 0 ? this.icmpType << 8 : 0;
    }
  }
}

function isPort(n: unknown): n is number {
  return Number.isInteger(n) && (n as number) >= 0 && (n as number) <= 65535;
}

/** TCP flags as letters (S F R P A U E W N, any order) to TcpFlag bits; -1 when not such letters. */
export function tcpFlagBits(letters: string): number {
  if (typeof letters !== 'string') return -1;
  let bits = 0;
  for (let i = 0; i < letters.length; i++) {
    switch (letters.charCodeAt(i)) {
      case 83: // S
        bits |= TcpFlag.SYN;
        break;
      case 70: // F
        bits |= TcpFlag.FIN;
        break;
      case 82: // R
        bits |= TcpFlag.RST;
        break;
      case 80: // P
        bits |= TcpFlag.PSH;
        break;
      case 65: // A
        bits |= TcpFlag.ACK;
        break;
      case 85: // U
        bits |= TcpFlag.URG;
        break;
      case 69: // E
        bits |= TcpFlag.ECE;
        break;
      case 87: // W
        bits |= TcpFlag.CWR;
        break;
      case 78: // N
        bits |= TcpFlag.NS;
        break;
      default:
        return -1;
    }
  }
  return bits;
}

/**
 * Parses an IPv4 or IPv6 address in text into four words at the start of `out` (IPv4 in the
 * first, the rest 0), without allocating. Returns the IP version, or 0 when `text` is neither.
 */
export function parseAddressInto(text: string, out: Uint32Array): 0 | 4 | 6 {
  if (typeof text !== 'string') return 0;
  if (parseIpv4Into(text, 0, text.length, out, 0)) {
    out[1] = out[2] = out[3] = 0;
    return 4;
  }
  return parseIpv6Into(text, out) ? 6 : 0;
}

/**
 * Parses the dotted quad in text[start, end) into out[at]; false when it is none. (It writes
 * rather than returns the address: a number above 2^31 returned from a call is boxed, an
 * allocation per record.)
 */
function parseIpv4Into(text: string, start: number, end: number, out: Uint32Array, at: number): boolean {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return false;
    } else if (c === 46 && digits > 0 && dots < 3) {
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else {
      return false;
    }
  }
  if (dots !== 3 || digits === 0) return false;
  out[at] = value * 256 + octet;
  return true;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** RFC 4291 section 2.2 text (with "::" and a dotted IPv4 tail; no zone) into four words. */
function parseIpv6Into(text: string, out: Uint32Array): boolean {
  const n = text.length;
  if (n < 2 || n > 45) return false;
  let count = 0;
  /** Groups before the "::", -1 when there is none. */
  let gap = -1;
  let i = 0;
  if (text.charCodeAt(0) === 58) {
    if (text.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
  }
  while (i < n) {
    const start = i;
    let value = 0;
    let digits = 0;
    for (; i < n; i++) {
      const h = hexValue(text.charCodeAt(i));
      if (h < 0) break;
      value = value * 16 + h;
      digits++;
    }
    if (i < n && text.charCodeAt(i) === 46) {
      // The dotted IPv4 tail ("::ffff:192.0.2.1") takes the last two groups.
      if (count > 6 || !parseIpv4Into(text, start, n, tail, 0)) return false;
      groups[count++] = tail[0]! >>> 16;
      groups[count++] = tail[0]! & 0xffff;
      break;
    }
    if (digits === 0 || digits > 4 || count === 8) return false;
    groups[count++] = value;
    if (i === n) break;
    if (text.charCodeAt(i) !== 58) return false;
    i++;
    if (i < n && text.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = count;
      i++;
    } else if (i === n) {
      return false;
    }
  }
  if (gap < 0 ? count !== 8 : count > 7) return false;
  const zeros = 8 - count;
  for (let w = 0; w < 4; w++) {
    out[w] = ((groupAt(2 * w, gap, zeros) << 16) | groupAt(2 * w + 1, gap, zeros)) >>> 0;
  }
  return true;
}

/** Group `j` of the full address, with `zeros` groups of 0 at `gap` (none when gap < 0). */
function groupAt(j: number, gap: number, zeros: number): number {
  if (gap < 0 || j < gap) return groups[j]!;
  if (j < gap + zeros) return 0;
  return groups[j - zeros]!;
}

/** True for a server's half of an exchange: from a well-known port to an ephemeral one. */
export function fromServerPort(srcPort: number, dstPort: number): boolean {
  return srcPort < 1024 && dstPort >= 1024;
}

/** A flow record as alert evidence (built at report time only). */
export function sampleOfRecord(row: FlowRow): SampleFlow {
  const ports = row.protocol === 'tcp' || row.protocol === 'udp' || row.protocol === 'sctp';
  const flags = row.tcpFlagsToServer ? `, flags ${row.tcpFlagsToServer}` : '';
  return {
    protocol: row.protocol,
    client: ports ? `${row.srcAddr}:${row.srcPort}` : row.srcAddr,
    server: ports ? `${row.dstAddr}:${row.dstPort}` : row.dstAddr,
    packets: row.packetsToServer + row.packetsToClient,
    bytes: row.bytesToServer + row.bytesToClient,
    state: `flow record${flags}`,
  };
}
