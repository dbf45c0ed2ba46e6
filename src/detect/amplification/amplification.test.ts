import { describe, expect, it } from 'vitest';
import { randomAddresses, replay, type Frame } from '../../../test/helpers/detector-replay.js';
import { ipv4, ipv4Tcp, ipv4Udp, ipv4UdpFragment } from '../../../test/helpers/pcap-builder.js';
import { amplificationFactory } from './amplification.js';

const VICTIM = ipv4('198.51.100.7');

describe('amplification', () => {
  it('raises amplification for unrequested DNS answers from many reflectors, within 2 s', () => {
    const refl = randomAddresses(200);
    const frames = Array.from({ length: 2000 }, (_, i) => ({
      t: i / 500,
      ip: ipv4Udp(refl[i % 200]!, VICTIM, 53, 80, 1400),
    }));
    const { alerts, raisedAt } = replay(amplificationFactory, frames);
    expect(alerts.map((a) => `${a.type} ${a.src} -> ${a.dst}`)).toEqual([
      'amplification null -> 198.51.100.7',
    ]);
    const a = alerts[0]!;
    expect(raisedAt[0]).toBeLessThan(2);
    expect(a.counters.reflectors).toBeGreaterThan(150);
    expect(a.counters.reflectors).toBeLessThan(260);
    expect(a.counters.requests).toBe(0);
    expect(a.summary).toMatch(/DNS \(UDP 53\) reflection; it sent no requests/);
    expect(a.evidence.topSources[0]!.packets).toBeGreaterThanOrEqual(1);
  });

  it('does not alert on a busy resolver client whose answers follow its own queries', () => {
    const servers = [ipv4('192.0.2.53'), ipv4('192.0.2.54'), ipv4('192.0.2.55'), ipv4('192.0.2.56')];
    const frames: Frame[] = [];
    for (let i = 0; i < 3000; i++) {
      const s = servers[i % 4]!;
      const port = 10000 + i;
      frames.push({ t: i / 300, ip: ipv4Udp(VICTIM, s, port, 53, 300) });
      frames.push({ t: i / 300 + 0.001, ip: ipv4Udp(s, VICTIM, 53, port, 600) });
    }
    expect(replay(amplificationFactory, frames).alerts).toEqual([]);
  });

  it('counts the later fragments of large responses with their first fragment', () => {
    const refl = randomAddresses(100, 3);
    const frames: Frame[] = [];
    for (let i = 0; i < 600; i++) {
      const src = refl[i % 100]!;
      const t = i / 200;
      frames.push({
        t,
        ip: ipv4UdpFragment(src, VICTIM, i, { first: true, srcPort: 53, dstPort: 4444 }, 1480),
      });
      frames.push({
        t: t + 1e-6,
        ip: ipv4UdpFragment(src, VICTIM, i, { first: false, offset8: 185, last: false }, 1480),
      });
      frames.push({
        t: t + 2e-6,
        ip: ipv4UdpFragment(src, VICTIM, i, { first: false, offset8: 370, last: true }, 800),
      });
    }
    const { alerts } = replay(amplificationFactory, frames);
    expect(alerts).toHaveLength(1);
    // Every fragment's bytes (a frame is IP + 14 of Ethernet here).
    const perDatagram = 1500 + 14 + (1500 + 14) + (820 + 14);
    expect(alerts[0]!.counters.responses).toBeGreaterThan(1700);
    expect(alerts[0]!.counters.bytes).toBeGreaterThan(0.95 * 600 * perDatagram);
  });

  it('reports SYN-ACK reflection: SYN-ACKs the victim never sent SYNs for', () => {
    const frames = randomAddresses(3000, 9).map((s, i) => ({
      t: i / 5000,
      ip: ipv4Tcp({ src: s, dst: VICTIM, srcPort: 80, dstPort: 1024 + i, flags: 0x12 }),
    }));
    const { alerts } = replay(amplificationFactory, frames);
    expect(alerts.map((a) => `${a.type} ${a.src} -> ${a.dst}`)).toEqual([
      'amplification null -> 198.51.100.7',
    ]);
    expect(alerts[0]!.summary).toMatch(/TCP SYN-ACK reflection/);
    expect(alerts[0]!.counters.synAckReflections).toBeGreaterThan(2900);
  });

  it("does not count SYN-ACKs that answer the host's own SYNs (a crawler)", () => {
    const frames: Frame[] = [];
    randomAddresses(3000, 13).forEach((s, i) => {
      frames.push({
        t: i / 2000,
        ip: ipv4Tcp({ src: VICTIM, dst: s, srcPort: 1024 + i, dstPort: 80, flags: 0x02 }),
      });
      frames.push({
        t: i / 2000 + 1e-4,
        ip: ipv4Tcp({ src: s, dst: VICTIM, srcPort: 80, dstPort: 1024 + i, flags: 0x12 }),
      });
    });
    expect(replay(amplificationFactory, frames).alerts).toEqual([]);
  });

  it('ignores a single large NTP response and answers to a multicast group', () => {
    const one = [{ t: 0, ip: ipv4Udp(ipv4('192.0.2.123'), VICTIM, 123, 80, 440) }];
    expect(replay(amplificationFactory, one).alerts).toEqual([]);
    const group = ipv4('239.255.255.250');
    const ssdp = randomAddresses(500, 17).map((s, i) => ({
      t: i / 1000,
      ip: ipv4Udp(s, group, 1900, 1900, 1200),
    }));
    expect(replay(amplificationFactory, ssdp).alerts).toEqual([]);
  });

  it('raises a low alert for slow SYN-ACK reflection: reflectors retransmitting unanswered SYN-ACKs', () => {
    const synAck = (t: number, src: string, port: number): Frame => ({
      t,
      ip: ipv4Tcp({ src: ipv4(src), dst: VICTIM, srcPort: 21, dstPort: port, flags: 0x12 }),
    });
    const one: Frame[] = [];
    for (let i = 0; i < 6; i++) one.push(synAck(i * 2, '192.0.2.21', 21));
    expect(replay(amplificationFactory, one).alerts).toEqual([]);
    const two = [...one];
    for (let i = 0; i < 6; i++) two.push(synAck(1 + i * 3, '192.0.2.22', 2121));
    two.sort((a, b) => a.t - b.t);
    const { alerts } = replay(amplificationFactory, two);
    expect(alerts.map((a) => `${a.type} ${a.severity} ${a.src} -> ${a.dst}`)).toEqual([
      'amplification low null -> 198.51.100.7',
    ]);
    expect(alerts[0]!.evidence.topSources.map((t) => t.address).sort()).toEqual(['192.0.2.21', '192.0.2.22']);
  });
});
