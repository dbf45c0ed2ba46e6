/**
 * A capture for replaying an attack to a watching dashboard: quiet, ordinary traffic (a web
 * client and DNS) for `leadSeconds`, then every packet of a real attack capture from the corpus at
 * its own pace, then ordinary traffic again for `tailSeconds`. Timestamps start at `startMs`, so
 * a replay at speed 1 that begins then shows the traffic at wall-clock times. The corpus file is
 * read at test time and the result written to a temporary path, never into the repository.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { ethernet, ipv4, ipv4Tcp, ipv4Udp, pcapFile, type PcapRecord } from './pcap-builder.js';

/** The records of a classic little-endian microsecond pcap (the corpus's attack traces). */
function pcapRecords(file: string): { tsUs: number; data: Buffer }[] {
  const bytes = readFileSync(file);
  if (bytes.readUInt32LE(0) !== 0xa1b2c3d4 || bytes.readUInt32LE(20) !== 1) {
    throw new Error(`${file}: expected a little-endian microsecond pcap of Ethernet frames`);
  }
  const records: { tsUs: number; data: Buffer }[] = [];
  for (let at = 24; at + 16 <= bytes.length;) {
    const capLen = bytes.readUInt32LE(at + 8);
    const tsUs = bytes.readUInt32LE(at) * 1e6 + bytes.readUInt32LE(at + 4);
    records.push({ tsUs, data: bytes.subarray(at + 16, at + 16 + capLen) });
    at += 16 + capLen;
  }
  return records;
}

function record(tsUs: number, data: Buffer): PcapRecord {
  return { sec: Math.floor(tsUs / 1e6), frac: Math.round(tsUs % 1e6), data };
}

const CLIENT = ipv4('198.51.100.10');
const WEB = ipv4('198.51.100.20');
const DNS = ipv4('198.51.100.53');

/** Ordinary traffic from `fromUs` for `seconds`: a new HTTPS connection every 2 s, DNS twice a second. */
function ordinary(fromUs: number, seconds: number, firstPort: number): PcapRecord[] {
  const out: PcapRecord[] = [];
  for (let tick = 0; tick < seconds * 10; tick++) {
    const t = fromUs + tick * 100_000;
    const port = firstPort + Math.floor(tick / 20);
    const tcp = (src: number, dst: number, sp: number, dp: number, flags: number, size: number) =>
      ethernet(ipv4Tcp({ src, dst, srcPort: sp, dstPort: dp, flags, payload: new Uint8Array(size) }));
    if (tick % 20 === 0) {
      out.push(record(t, tcp(CLIENT, WEB, port, 443, 0x02, 0)));
      out.push(record(t + 300, tcp(WEB, CLIENT, 443, port, 0x12, 0)));
      out.push(record(t + 600, tcp(CLIENT, WEB, port, 443, 0x10, 0)));
    }
    out.push(record(t + 1000, tcp(CLIENT, WEB, port, 443, 0x18, 180 + (tick % 7) * 40)));
    out.push(record(t + 1500, tcp(WEB, CLIENT, 443, port, 0x18, 900 + (tick % 5) * 110)));
    if (tick % 5 === 0) {
      // One source port per query, and none shared with the other stretch of ordinary traffic.
      const dnsPort = firstPort - 10_000 + tick;
      out.push(record(t + 2000, ethernet(ipv4Udp(CLIENT, DNS, dnsPort, 53, 32))));
      out.push(record(t + 2600, ethernet(ipv4Udp(DNS, CLIENT, 53, dnsPort, 96))));
    }
  }
  return out;
}

/** Writes the capture to `out`: ordinary traffic, the attack from `attackFile`, ordinary traffic. */
export function writeAttackReplay(
  attackFile: string,
  out: string,
  { startMs, leadSeconds, tailSeconds }: { startMs: number; leadSeconds: number; tailSeconds: number },
): void {
  const attack = pcapRecords(attackFile);
  const first = attack[0]?.tsUs ?? 0;
  const last = attack.at(-1)?.tsUs ?? 0;
  const startUs = startMs * 1000;
  const attackStartUs = startUs + leadSeconds * 1e6;
  const attackEndUs = attackStartUs + (last - first);
  const records = [
    ...ordinary(startUs, leadSeconds, 50_000),
    ...attack.map((r) => record(attackStartUs + (r.tsUs - first), r.data)),
    ...ordinary(attackEndUs + 100_000, tailSeconds, 51_000),
  ];
  writeFileSync(out, pcapFile(records));
}
