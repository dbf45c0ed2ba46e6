import { describe, expect, it } from 'vitest';
import { randomAddresses, replay, type Frame } from '../../../test/helpers/detector-replay.js';
import { ipv4, ipv4Udp } from '../../../test/helpers/pcap-builder.js';
import { volumeFloodFactory } from './volume-flood.js';

const VICTIM = ipv4('198.51.100.7');

/** IPv4 + ICMP echo request (type 8) or reply (type 0) with `payload` bytes. */
function icmpEcho(src: number, dst: number, type = 8, payload = 56): Uint8Array {
  const b = Buffer.alloc(28 + payload);
  b[0] = 0x45;
  b.writeUInt16BE(28 + payload, 2);
  b[8] = 64;
  b[9] = 1;
  b.writeUInt32BE(src >>> 0, 12);
  b.writeUInt32BE(dst >>> 0, 16);
  b[20] = type;
  b.writeUInt16BE(0x1234, 24);
  return b;
}

describe('volume_flood', () => {
  it('raises udp_flood with src for one source over 10,000 packets/s', () => {
    const attacker = ipv4('203.0.113.9');
    const frames = Array.from({ length: 30_000 }, (_, i) => ({
      t: i / 20_000,
      ip: ipv4Udp(attacker, VICTIM, 40000 + (i % 100), 9999, 100),
    }));
    const { alerts, raisedAt } = replay(volumeFloodFactory, frames);
    expect(alerts.map((a) => `${a.type} ${a.src} -> ${a.dst}`)).toEqual([
      'udp_flood 203.0.113.9 -> 198.51.100.7',
    ]);
    expect(raisedAt[0]).toBeLessThan(1);
    expect(alerts[0]!.counters.packets).toBeGreaterThan(29_000);
    expect(alerts[0]!.severity).toBe('medium');
  });

  it('raises udp_flood with src null, distinct count and top sources for many sources', () => {
    const srcs = randomAddresses(50_000);
    const frames = srcs.map((s, i) => ({
      t: i / 50_000,
      ip: ipv4Udp(s, VICTIM, 1024 + (i % 60000), 80, 200),
    }));
    const { alerts } = replay(volumeFloodFactory, frames);
    expect(alerts.map((a) => `${a.type} ${a.src} -> ${a.dst}`)).toEqual(['udp_flood null -> 198.51.100.7']);
    expect(alerts[0]!.counters.sources).toBeGreaterThan(35_000);
    expect(alerts[0]!.counters.sources).toBeLessThan(65_000);
    expect(alerts[0]!.summary).toMatch(/^~[\d,]+ sources sent/);
  });

  it('does not alert on a fast two-way UDP conversation (a QUIC download)', () => {
    const server = ipv4('192.0.2.80');
    const frames: Frame[] = [];
    for (let i = 0; i < 30_000; i++) {
      frames.push({ t: i / 15_000, ip: ipv4Udp(server, VICTIM, 4433, 50000, 1200) });
      if (i % 4 === 0) frames.push({ t: i / 15_000 + 1e-6, ip: ipv4Udp(VICTIM, server, 50000, 4433, 40) });
    }
    expect(replay(volumeFloodFactory, frames).alerts).toEqual([]);
  });

  it('leaves many reflectors answering from one reflector port to amplification', () => {
    const frames = randomAddresses(20_000).map((s, i) => ({
      t: i / 20_000,
      ip: ipv4Udp(s, VICTIM, 53, 7777, 500),
    }));
    expect(replay(volumeFloodFactory, frames).alerts).toEqual([]);
  });

  it('raises icmp_flood for echo requests from many sources', () => {
    const frames = randomAddresses(2000).map((s, i) => ({ t: i / 2000, ip: icmpEcho(s, VICTIM) }));
    const { alerts, raisedAt } = replay(volumeFloodFactory, frames);
    expect(alerts.map((a) => `${a.type} ${a.src} -> ${a.dst}`)).toEqual(['icmp_flood null -> 198.51.100.7']);
    expect(raisedAt[0]).toBeLessThan(0.5);
  });

  // Regression (live hping3 --icmp in test/live-attacks-netns.test.ts): the victim's echo replies
  // were counted as an icmp_flood from the victim to its attacker.
  it('names only the attacker of a ping flood the victim answers, not the victim', () => {
    const attacker = ipv4('192.0.2.66');
    const frames: Frame[] = [];
    for (let i = 0; i < 3000; i++) {
      frames.push({ t: i / 3000, ip: icmpEcho(attacker, VICTIM, 8) });
      frames.push({ t: i / 3000 + 0.0001, ip: icmpEcho(VICTIM, attacker, 0) });
    }
    const { alerts } = replay(volumeFloodFactory, frames);
    expect(alerts.map((a) => `${a.type} ${a.src} -> ${a.dst}`)).toEqual([
      'icmp_flood 192.0.2.66 -> 198.51.100.7',
    ]);
  });

  it('counts unsolicited echo replies (a reflected ping flood) against their victim', () => {
    const frames = randomAddresses(3000).map((s, i) => ({ t: i / 3000, ip: icmpEcho(s, VICTIM, 0) }));
    const { alerts } = replay(volumeFloodFactory, frames);
    expect(alerts.map((a) => `${a.type} ${a.src} -> ${a.dst}`)).toEqual(['icmp_flood null -> 198.51.100.7']);
  });

  it('ignores ordinary pings and ICMP errors', () => {
    const pinger = ipv4('192.0.2.1');
    const frames: Frame[] = [];
    for (let i = 0; i < 600; i++) frames.push({ t: i, ip: icmpEcho(pinger, VICTIM) });
    // Port unreachables (type 3) at a high rate are answers to something else, not an echo flood.
    for (let i = 0; i < 5000; i++) frames.push({ t: 600 + i / 5000, ip: icmpEcho(pinger, VICTIM, 3) });
    expect(replay(volumeFloodFactory, frames).alerts).toEqual([]);
  });
});
