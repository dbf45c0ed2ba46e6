import { describe, expect, it } from 'vitest';
import { randomAddresses, replay, T0, type Frame } from '../../../test/helpers/detector-replay.js';
import { ipv4, ipv4Tcp } from '../../../test/helpers/pcap-builder.js';
import { synFloodFactory } from './syn-flood.js';

const VICTIM = ipv4('198.51.100.7');
const SYN = 0x02;
const SYN_ACK = 0x12;
const ACK = 0x10;

/** A SYN from `src`:`port` to VICTIM:`dstPort`. */
function syn(t: number, src: number, port: number, dstPort = 443): Frame {
  return { t, ip: ipv4Tcp({ src, dst: VICTIM, srcPort: port, dstPort, flags: SYN }) };
}

describe('syn_flood', () => {
  it('raises one ddos alert for SYNs from thousands of spoofed sources, within 2 s', () => {
    const sources = randomAddresses(3000);
    const frames = sources.map((s, i) => syn(i / 1000, s, 1024 + (i % 60000)));
    const { alerts, raisedAt } = replay(synFloodFactory, frames);
    expect(alerts.map((a) => `${a.type} ${a.src} -> ${a.dst}`)).toEqual(['ddos null -> 198.51.100.7']);
    const a = alerts[0]!;
    expect(raisedAt[0]).toBeLessThan(2);
    expect(a.start).toBe(T0);
    // HyperLogLog, 128 registers: within 30% of 3,000.
    expect(a.counters.sources).toBeGreaterThan(2100);
    expect(a.counters.sources).toBeLessThan(3900);
    expect(a.counters.syns).toBeGreaterThan(2950);
    expect(a.counters.completedHandshakes).toBe(0);
    expect(a.summary).toMatch(/sources sent .* SYNs to 198\.51\.100\.7:443/);
    expect(a.evidence.topSources.length).toBeGreaterThan(0);
    // Spoofed one-packet sources are never shown as heavy.
    expect(a.evidence.topSources[0]!.packets).toBeLessThan(5);
  });

  it('raises syn_flood with the attacker as src for one source hammering one port', () => {
    const attacker = ipv4('192.0.2.10');
    const frames = Array.from({ length: 300 }, (_, i) => syn(i / 1000, attacker, 40000 + i));
    const { alerts, raisedAt } = replay(synFloodFactory, frames);
    expect(alerts.map((a) => `${a.type} ${a.src} -> ${a.dst}`)).toEqual([
      'syn_flood 192.0.2.10 -> 198.51.100.7',
    ]);
    expect(raisedAt[0]).toBeLessThan(0.2);
    expect(alerts[0]!.counters.sources).toBe(1);
    expect(alerts[0]!.evidence.sampleFlows.length).toBe(1);
    expect(alerts[0]!.summary).toMatch(/^192\.0\.2\.10 sent \d+ SYNs to 198\.51\.100\.7:443/);
  });

  it('leaves one source probing many ports (a port scan) to port_scan', () => {
    const scanner = ipv4('192.0.2.66');
    const frames = Array.from({ length: 1000 }, (_, i) => syn(i / 2000, scanner, 50000, 1 + i));
    expect(replay(synFloodFactory, frames).alerts).toEqual([]);
  });

  it('does not alert on a busy server whose clients complete their handshakes', () => {
    const frames: Frame[] = [];
    const clients = randomAddresses(3000, 99);
    clients.forEach((c, i) => {
      const t = i / 500; // 500 new connections a second for 6 s
      const port = 1024 + (i % 60000);
      frames.push(syn(t, c, port));
      frames.push({
        t: t + 0.02,
        ip: ipv4Tcp({ src: VICTIM, dst: c, srcPort: 443, dstPort: port, flags: SYN_ACK }),
      });
      frames.push({
        t: t + 0.04,
        ip: ipv4Tcp({ src: c, dst: VICTIM, srcPort: port, dstPort: 443, flags: ACK }),
      });
    });
    frames.sort((a, b) => a.t - b.t);
    expect(replay(synFloodFactory, frames).alerts).toEqual([]);
  });

  it('sees through SYN cookies: answered SYNs whose clients never ACK are still a flood', () => {
    const frames: Frame[] = [];
    randomAddresses(2000, 5).forEach((c, i) => {
      const t = i / 1000;
      frames.push(syn(t, c, 2000 + i));
      frames.push({
        t: t + 0.0001,
        ip: ipv4Tcp({ src: VICTIM, dst: c, srcPort: 443, dstPort: 2000 + i, flags: SYN_ACK }),
      });
    });
    const { alerts } = replay(synFloodFactory, frames);
    expect(alerts.map((a) => a.type)).toEqual(['ddos']);
  });

  it('keeps one alert with whole-attack totals when a flood pauses and resumes', () => {
    const sources = randomAddresses(4000, 11);
    const frames = sources.map((s, i) => syn(i < 2000 ? i / 1000 : 30 + (i - 2000) / 1000, s, 1024 + i));
    const { alerts } = replay(synFloodFactory, frames);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.counters.syns).toBeGreaterThan(3950);
    expect(alerts[0]!.end - alerts[0]!.start).toBeGreaterThan(31_000_000);
  });

  it('ignores a trickle of unanswered SYNs (a dead server, retries)', () => {
    const frames = randomAddresses(200, 3).map((s, i) => syn(i / 20, s, 3000 + i));
    expect(replay(synFloodFactory, frames).alerts).toEqual([]);
  });
});
