/**
 * The live view's figures from real frames through a real PacketDecoder: rates over the interval
 * since the last take(), the protocol mix, the busiest hosts (both ends of each packet), the hosts
 * beyond the capacity, and a fresh start after each take().
 */

import { describe, expect, it } from 'vitest';
import { LinkType } from '../capture/link-type.js';
import { PacketDecoder } from '../decode/packet-decoder.js';
import { ethernet, ipv4, ipv4Tcp, ipv4Udp } from '../../test/helpers/pcap-builder.js';
import { parseIp } from '../util/ip-address.js';
import { LiveStats, type LiveSecond } from './live-stats.js';

interface Frame {
  linkType: number;
  bytes: Buffer;
}

function tcp(src: string, dst: string): Frame {
  return {
    linkType: LinkType.RAW,
    bytes: ipv4Tcp({ src: ipv4(src), dst: ipv4(dst), srcPort: 40000, dstPort: 443 }),
  };
}

function udp(src: string, dst: string): Frame {
  return { linkType: LinkType.RAW, bytes: ipv4Udp(ipv4(src), ipv4(dst), 5353, 53) };
}

/** IPv4 with `protocol` and 8 bytes after the header (an ICMP echo request for protocol 1). */
function ipv4Other(src: string, dst: string, protocol: number): Frame {
  const b = Buffer.alloc(28);
  b[0] = 0x45;
  b.writeUInt16BE(28, 2);
  b[8] = 64;
  b[9] = protocol;
  b.writeUInt32BE(ipv4(src), 12);
  b.writeUInt32BE(ipv4(dst), 16);
  b[20] = 8; // echo request
  return { linkType: LinkType.RAW, bytes: b };
}

/** IPv6 carrying an ICMPv6 echo request. */
function icmpv6(src: string, dst: string): Frame {
  const b = Buffer.alloc(48);
  b[0] = 0x60;
  b.writeUInt16BE(8, 4);
  b[6] = 58;
  b[7] = 64;
  Buffer.from(parseIp(src)!.words.buffer).swap32().copy(b, 8);
  Buffer.from(parseIp(dst)!.words.buffer).swap32().copy(b, 24);
  b[40] = 128;
  return { linkType: LinkType.RAW, bytes: b };
}

/** An ARP request on Ethernet: no IP header. */
function arp(): Frame {
  const body = Buffer.alloc(28);
  body.writeUInt16BE(1, 0);
  body.writeUInt16BE(0x0800, 2);
  body[4] = 6;
  body[5] = 4;
  body.writeUInt16BE(1, 6);
  body.writeUInt32BE(ipv4('10.9.9.1'), 14);
  body.writeUInt32BE(ipv4('10.9.9.2'), 24);
  return { linkType: LinkType.ETHERNET, bytes: ethernet(body, 0x0806) };
}

const decoder = new PacketDecoder();

/** `count` packets of `frame`, each `wireBytes` long on the wire. */
function add(stats: LiveStats, frame: Frame, wireBytes: number, count = 1): void {
  decoder.decode(frame.linkType, frame.bytes, 0, frame.bytes.length);
  for (let i = 0; i < count; i++) stats.addPacket(decoder, wireBytes);
}

const zeroMix: LiveSecond['protocols'] = {
  tcp: { packetsPerSecond: 0, bytesPerSecond: 0 },
  udp: { packetsPerSecond: 0, bytesPerSecond: 0 },
  icmp: { packetsPerSecond: 0, bytesPerSecond: 0 },
  other: { packetsPerSecond: 0, bytesPerSecond: 0 },
};

describe('LiveStats', () => {
  it('gives packets, bytes and new flows per second over the interval since the last take', () => {
    const stats = new LiveStats(10_000, 5);
    add(stats, tcp('10.0.0.1', '10.0.0.2'), 1500, 8);
    add(stats, tcp('10.0.0.1', '10.0.0.2'), 60, 1);
    // 2.5 s: 9 packets, 12,060 bytes, 20 new flows.
    const s = stats.take(12_500, 25);
    expect(s.at).toBe(12_500);
    expect(s.packetsPerSecond).toBe(3.6);
    expect(s.bytesPerSecond).toBe(4824);
    expect(s.flowsPerSecond).toBe(8);
  });

  it('sorts each packet into tcp, udp, icmp (ICMPv6 too) or other (ARP, other IP protocols)', () => {
    const stats = new LiveStats(0, 0);
    add(stats, tcp('10.0.0.1', '10.0.0.2'), 100, 3);
    add(stats, udp('10.0.0.1', '10.0.0.3'), 80, 2);
    add(stats, ipv4Other('10.0.0.4', '10.0.0.1', 1), 70);
    add(stats, icmpv6('2001:db8::1', '2001:db8::2'), 90);
    add(stats, arp(), 60);
    add(stats, ipv4Other('10.0.0.5', '10.0.0.1', 132), 50); // SCTP
    const s = stats.take(1000, 0);
    expect(s.protocols).toEqual({
      tcp: { packetsPerSecond: 3, bytesPerSecond: 300 },
      udp: { packetsPerSecond: 2, bytesPerSecond: 160 },
      icmp: { packetsPerSecond: 2, bytesPerSecond: 160 },
      other: { packetsPerSecond: 2, bytesPerSecond: 110 },
    });
    expect(s.packetsPerSecond).toBe(9);
    expect(s.bytesPerSecond).toBe(730);
    // ARP has no IP host: it is in the totals, not among the talkers.
    expect(s.topTalkers.map((t) => t.address)).not.toContain('10.9.9.1');
    expect(s.topTalkers.reduce((sum, t) => sum + t.packets, 0)).toBe(2 * 8);
  });

  it('ranks hosts by the bytes they sent and received, both ends of every packet, as rates', () => {
    const stats = new LiveStats(0, 0, 3);
    add(stats, tcp('10.0.0.1', '10.0.0.2'), 1000, 3); // .1 sends to .2
    add(stats, tcp('10.0.0.2', '10.0.0.1'), 200, 2); // .2 answers
    add(stats, udp('10.0.0.3', '10.0.0.2'), 100, 4);
    add(stats, udp('10.0.0.4', '10.0.0.5'), 10, 1);
    add(stats, icmpv6('2001:db8::1', '2001:db8::2'), 150, 2);
    const s = stats.take(2000, 0);
    // .2: 3000 + 400 + 400 bytes, 9 packets; .1: 3400 bytes, 5 packets; 2001:db8::1 and ::2: 300.
    expect(s.topTalkers).toEqual([
      { address: '10.0.0.2', bytes: 1900, packets: 4.5 },
      { address: '10.0.0.1', bytes: 1700, packets: 2.5 },
      { address: '10.0.0.3', bytes: 200, packets: 2 },
    ]);
    expect(s.hostsNotRanked).toBe(0);
  });

  it('counts the hosts beyond its capacity once each, without listing them', () => {
    const stats = new LiveStats(0, 0, 10, 2);
    add(stats, tcp('10.0.0.1', '10.0.0.2'), 100, 5);
    // Three more hosts, each in many packets: three hosts not ranked, not 3 x 20 packets.
    add(stats, tcp('10.0.0.3', '10.0.0.1'), 100, 20);
    add(stats, udp('10.0.0.4', '10.0.0.2'), 100, 20);
    add(stats, icmpv6('2001:db8::7', '2001:db8::8'), 100, 20);
    const s = stats.take(1000, 0);
    expect(s.topTalkers.map((t) => t.address)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(s.topTalkers[0]).toEqual({ address: '10.0.0.1', bytes: 2500, packets: 25 });
    expect(s.hostsNotRanked).toBe(4);
    // Everything is in the totals whether ranked or not.
    expect(s.packetsPerSecond).toBe(65);
  });

  it('estimates the hosts not ranked within 2% in a flood of spoofed sources', () => {
    const stats = new LiveStats(0, 0, 10, 1000);
    for (let i = 0; i < 101_000; i++) {
      const src = `10.${(i >>> 16) & 0xff}.${(i >>> 8) & 0xff}.${i & 0xff}`;
      add(stats, tcp(src, '192.0.2.1'), 60);
    }
    // 999 sources and the victim are ranked; 100,001 sources are not.
    const { hostsNotRanked } = stats.take(1000, 0);
    expect(Math.abs(hostsNotRanked - 100_001) / 100_001).toBeLessThan(0.02);
  });

  it('starts afresh after each take', () => {
    const stats = new LiveStats(0, 100, 10, 1);
    add(stats, tcp('10.0.0.1', '10.0.0.2'), 500, 4);
    const first = stats.take(1000, 110);
    expect(first.packetsPerSecond).toBe(4);
    expect(first.hostsNotRanked).toBe(1);
    const second = stats.take(3000, 116);
    expect(second).toEqual({
      at: 3000,
      packetsPerSecond: 0,
      bytesPerSecond: 0,
      flowsPerSecond: 3,
      protocols: zeroMix,
      topTalkers: [],
      hostsNotRanked: 0,
    });
    add(stats, udp('10.0.0.9', '10.0.0.8'), 100);
    const third = stats.take(4000, 116);
    expect(third.topTalkers).toEqual([{ address: '10.0.0.9', bytes: 100, packets: 1 }]);
    expect(third.hostsNotRanked).toBe(1);
  });

  it('gives finite rates for an interval of no length', () => {
    const stats = new LiveStats(5000, 0);
    add(stats, tcp('10.0.0.1', '10.0.0.2'), 100);
    const s = stats.take(5000, 0);
    expect(Number.isFinite(s.packetsPerSecond)).toBe(true);
    expect(s.packetsPerSecond).toBeGreaterThan(0);
  });
});
