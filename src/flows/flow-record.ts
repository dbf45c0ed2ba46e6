/**
 * A flow as a plain object, for export (JSON lines, CSV), reports and the store. Read from a
 * FlowTable slot when the flow ends; never built on the packet path.
 */

import { formatIp } from '../util/ip-address.js';
import { END_REASON_NAMES, FLOW_STATE_NAMES, type EndReason, type FlowTable } from './flow-table.js';

export interface FlowRecord {
  id: number;
  ipVersion: number;
  protocol: string;
  /** The initiator: the side that sent the first packet (the SYN for TCP). */
  clientAddress: string;
  clientPort: number;
  serverAddress: string;
  serverPort: number;
  /** Microseconds since the Unix epoch. */
  firstSeen: number;
  lastSeen: number;
  packetsToServer: number;
  packetsToClient: number;
  bytesToServer: number;
  bytesToClient: number;
  /** TCP flags seen from each side, as letters (S F R P A U E W N); empty for other protocols. */
  tcpFlagsClient: string;
  tcpFlagsServer: string;
  state: (typeof FLOW_STATE_NAMES)[number];
  /** ICMP type and code of the first packet; null when not ICMP. */
  icmpType: number | null;
  icmpCode: number | null;
  /** IP fragments that belonged to this flow. */
  fragments: number;
  endReason: (typeof END_REASON_NAMES)[number];
}

const PROTOCOL_NAMES = new Map<number, string>([
  [1, 'icmp'],
  [2, 'igmp'],
  [4, 'ipip'],
  [6, 'tcp'],
  [17, 'udp'],
  [41, 'ipv6'],
  [47, 'gre'],
  [50, 'esp'],
  [51, 'ah'],
  [58, 'icmpv6'],
  [89, 'ospf'],
  [103, 'pim'],
  [112, 'vrrp'],
  [132, 'sctp'],
]);

/** "tcp", "udp", ... or the protocol number as text. */
export function protocolName(ipProto: number): string {
  return PROTOCOL_NAMES.get(ipProto) ?? String(ipProto);
}

const FLAG_LETTERS: readonly [number, string][] = [
  [0x02, 'S'],
  [0x01, 'F'],
  [0x04, 'R'],
  [0x08, 'P'],
  [0x10, 'A'],
  [0x20, 'U'],
  [0x40, 'E'],
  [0x80, 'W'],
  [0x100, 'N'],
];

/** TCP flags as letters, in the order S F R P A U E W N. */
export function tcpFlagLetters(flags: number): string {
  let out = '';
  for (const [bit, letter] of FLAG_LETTERS) if (flags & bit) out += letter;
  return out;
}

/** Reads the flow in `slot` of `table` into a FlowRecord. */
export function readFlowRecord(table: FlowTable, slot: number, reason: EndReason): FlowRecord {
  const version = table.ipVersion[slot]!;
  const proto = table.ipProto[slot]!;
  const isIcmp = proto === 1 || proto === 58;
  const icmpType = table.icmpType[slot]!;
  return {
    id: table.flowId[slot]!,
    ipVersion: version,
    protocol: protocolName(proto),
    clientAddress: formatIp(version, table.addrA, slot * 4),
    clientPort: table.portA[slot]!,
    serverAddress: formatIp(version, table.addrB, slot * 4),
    serverPort: table.portB[slot]!,
    firstSeen: table.firstSeen[slot]!,
    lastSeen: table.lastSeen[slot]!,
    packetsToServer: table.packetsAB[slot]!,
    packetsToClient: table.packetsBA[slot]!,
    bytesToServer: table.bytesAB[slot]!,
    bytesToClient: table.bytesBA[slot]!,
    tcpFlagsClient: tcpFlagLetters(table.tcpFlagsAB[slot]!),
    tcpFlagsServer: tcpFlagLetters(table.tcpFlagsBA[slot]!),
    state: FLOW_STATE_NAMES[table.state[slot]!] ?? 'active',
    icmpType: isIcmp && icmpType >= 0 ? icmpType : null,
    icmpCode: isIcmp && icmpType >= 0 ? table.icmpCode[slot]! : null,
    fragments: table.fragments[slot]!,
    endReason: END_REASON_NAMES[reason],
  };
}
