/**
 * Small helpers the scan detectors share for what they report: server answers they never count
 * as probes, counts and durations as text. Used only when reporting or filtering; no I/O.
 */

import type { PacketDecoder } from '../../decode/packet-decoder.js';

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

/** Microseconds as seconds: one decimal ("4.2"), two below a second ("0.03"). */
export function secondsText(micros: number): string {
  const s = Math.max(0, micros) / 1e6;
  return s < 1 ? s.toFixed(2) : s.toFixed(1);
}
