/**
 * Small helpers the scan detectors share for what they report: group addresses they never count
 * as targets, a flow as evidence, durations as text. Used only when reporting or filtering; no I/O.
 */

import type { SampleFlow } from '../../alerts/alert.js';
import type { PacketDecoder } from '../../decode/packet-decoder.js';
import { EndReason, type FlowTable } from '../../flows/flow-table.js';
import { readFlowRecord } from '../../flows/flow-record.js';

/**
 * True for multicast and limited-broadcast destinations (IPv4 224/4 and 255.255.255.255, IPv6
 * ff00::/8): discovery protocols (mDNS, SSDP, DHCP) talk to them, and they are no host to scan.
 * The reserved 240/4 is not excluded: Pcaphunt's UDP sweep capture uses it as a lab network.
 */
export function isGroupAddress(version: number, addr: Uint32Array): boolean {
  if (version === 4) return addr[0]! >>> 28 === 0xe || addr[0] === 0xffffffff;
  return addr[0]! >>> 24 === 0xff;
}

/**
 * True for a UDP datagram from a well-known service port to an ephemeral one that starts a flow:
 * the answer of a server (DNS, NTP, SNMP) whose request the capture did not see, or reflection
 * backscatter. Scanners send from ephemeral ports.
 */
export function isServerAnswer(p: PacketDecoder): boolean {
  return p.srcPort < 1024 && p.dstPort >= 1024;
}

/** "1,000" when exact, "about 1,010" when estimated. */
export function countText(n: number, exact: boolean): string {
  return `${exact ? '' : 'about '}${n.toLocaleString('en-US')}`;
}

/** The flow in `slot` as evidence, in text form. */
export function sampleFlowOf(flows: FlowTable, slot: number): SampleFlow {
  const r = readFlowRecord(flows, slot, EndReason.FLUSH);
  const port = (p: number): string => (r.protocol === 'tcp' || r.protocol === 'udp' ? `:${p}` : '');
  return {
    protocol: r.protocol,
    client: `${r.clientAddress}${port(r.clientPort)}`,
    server: `${r.serverAddress}${port(r.serverPort)}`,
    packets: r.packetsToServer + r.packetsToClient,
    bytes: r.bytesToServer + r.bytesToClient,
    state: r.state,
  };
}

/** Microseconds as seconds: one decimal ("4.2"), two below a second ("0.03"). */
export function secondsText(micros: number): string {
  const s = Math.max(0, micros) / 1e6;
  return s < 1 ? s.toFixed(2) : s.toFixed(1);
}
