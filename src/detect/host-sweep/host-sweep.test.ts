import { describe, expect, it } from 'vitest';
import { AlertTracker } from '../../alerts/alert-tracker.js';
import type { Alert } from '../../alerts/alert.js';
import { LinkType } from '../../capture/link-type.js';
import { PacketDecoder, TcpFlag } from '../../decode/packet-decoder.js';
import { FlowTable } from '../../flows/flow-table.js';
import { ethernet, ipv4, ipv4Tcp, ipv4Udp } from '../../../test/helpers/pcap-builder.js';
import { DetectionEngine } from '../detection-engine.js';
import type { PacketEvent } from '../detector.js';
import { hostSweepFactory, type HostSweepOptions } from './host-sweep.js';

/** Feeds Ethernet frames through decoder, flow table and the host_sweep detector. */
function replay(options: Partial<HostSweepOptions> = {}) {
  const firstReports = new Map<string, number>();
  const alerts = new AlertTracker({}, (a, isNew) => {
    if (isNew) firstReports.set(a.id, a.end);
  });
  const engine = new DetectionEngine([
    hostSweepFactory.create({ ...hostSweepFactory.defaults, ...options } as HostSweepOptions, alerts),
  ]);
  const flows = new FlowTable({}, (t, s, r) => engine.onFlowEnd(t, s, r));
  const packet = new PacketDecoder();
  const event: PacketEvent = { packet, ts: 0, frameBytes: 0, flows, slot: -1, newFlow: false };
  return {
    send(frame: Uint8Array, ts: number): void {
      packet.decode(LinkType.ETHERNET, frame, 0, frame.length);
      const created = flows.flowsCreated;
      event.ts = ts;
      event.slot = packet.ipVersion !== 0 ? flows.add(packet, ts, frame.length) : -1;
      event.newFlow = flows.flowsCreated !== created;
      engine.onPacket(event);
    },
    finish(ts: number): Alert[] {
      engine.finish(ts);
      return [...alerts.alerts()];
    },
    firstReports,
  };
}

/** ARP request (op 1) or reply (op 2) for IPv4 over Ethernet. */
function arp(op: number, sender: number, target: number): Buffer {
  const b = Buffer.alloc(28);
  b.writeUInt16BE(1, 0);
  b.writeUInt16BE(0x0800, 2);
  b[4] = 6;
  b[5] = 4;
  b.writeUInt16BE(op, 6);
  b.writeUInt32BE(sender >>> 0, 14);
  b.writeUInt32BE(target >>> 0, 24);
  return ethernet(b, 0x0806);
}

/** ICMP echo request (type 8) or reply (type 0) with identifier `id`. */
function icmpEcho(src: number, dst: number, type: number, id: number): Buffer {
  const b = Buffer.alloc(28);
  b[0] = 0x45;
  b.writeUInt16BE(28, 2);
  b[8] = 64;
  b[9] = 1;
  b.writeUInt32BE(src >>> 0, 12);
  b.writeUInt32BE(dst >>> 0, 16);
  b[20] = type;
  b.writeUInt16BE(id, 24);
  return ethernet(b);
}

const SCANNER = ipv4('10.0.0.128');
const NET = ipv4('10.0.0.0');
const T0 = 1_700_000_000_000_000;

describe('PacketDecoder ARP addresses', () => {
  it('reads the sender and target IPv4 address of an Ethernet ARP packet, and clears them after', () => {
    const d = new PacketDecoder();
    const frame = arp(1, SCANNER, NET + 7);
    d.decode(LinkType.ETHERNET, frame, 0, frame.length);
    expect(d.arpOp).toBe(1);
    expect(d.arpSenderIp).toBe(SCANNER);
    expect(d.arpTargetIp).toBe(NET + 7);
    const udp = ethernet(ipv4Udp(SCANNER, NET + 7, 1000, 53));
    d.decode(LinkType.ETHERNET, udp, 0, udp.length);
    expect(d.arpSenderIp).toBe(0);
    expect(d.arpTargetIp).toBe(0);
  });
});

describe('host_sweep', () => {
  it('reports an ARP sweep of a /24 within its first second, with the sweeper and the subnet', () => {
    const r = replay();
    for (let host = 1; host < 255; host++) {
      r.send(arp(1, SCANNER, NET + host), T0 + host * 4000);
      if (host % 50 === 0) r.send(arp(2, NET + host, SCANNER), T0 + host * 4000 + 100);
    }
    const alerts = r.finish(T0 + 2_000_000);
    expect(alerts).toHaveLength(1);
    const a = alerts[0]!;
    expect(a).toMatchObject({
      type: 'host_sweep',
      severity: 'medium',
      src: '10.0.0.128',
      dst: '10.0.0.0/24',
    });
    expect(a.counters.answered).toBe(5);
    expect(a.summary).toMatch(
      /^10\.0\.0\.128 swept about 2\d\d hosts of 10\.0\.0\.0\/24 with ARP in 1\.0 s \(5 answered\)$/,
    );
    expect(r.firstReports.get(a.id)! - a.start).toBeLessThan(1_000_000);
  });

  it('reports ICMP echo and TCP SYN sweeps', () => {
    const r = replay();
    for (let host = 1; host < 100; host++) {
      r.send(icmpEcho(SCANNER, NET + host, 8, 7), T0 + host * 1000);
      r.send(
        ethernet(ipv4Tcp({ src: SCANNER, dst: NET + host, srcPort: 5555, dstPort: 80 })),
        T0 + host * 1000 + 1,
      );
    }
    const alerts = r.finish(T0 + 1_000_000);
    // Both sweeps have the same sweeper and subnet: one alert, as the tracker merges them.
    expect(alerts.map((a) => [a.type, a.src, a.dst])).toEqual([['host_sweep', '10.0.0.128', '10.0.0.0/24']]);
  });

  it('does not flag a client whose contacts with many hosts are answered', () => {
    const r = replay();
    for (let i = 0; i < 400; i++) {
      const server = ipv4('93.184.0.0') + i * 17;
      const ts = T0 + i * 5000;
      r.send(ethernet(ipv4Tcp({ src: SCANNER, dst: server, srcPort: 20000 + i, dstPort: 443 })), ts);
      // One in twenty is never answered; the rest are.
      if (i % 20 !== 0)
        r.send(
          ethernet(
            ipv4Tcp({
              src: server,
              dst: SCANNER,
              srcPort: 443,
              dstPort: 20000 + i,
              flags: TcpFlag.SYN | TcpFlag.ACK,
            }),
          ),
          ts + 2000,
        );
    }
    for (let i = 0; i < 100; i++) {
      r.send(icmpEcho(SCANNER, NET + i, 8, 9), T0 + i * 7000);
      r.send(icmpEcho(NET + i, SCANNER, 0, 9), T0 + i * 7000 + 300);
    }
    expect(r.finish(T0 + 3_000_000)).toEqual([]);
  });

  it('does not add up a few new neighbours an hour (ARP cache refreshes)', () => {
    const r = replay();
    for (let host = 1; host < 200; host++) r.send(arp(1, SCANNER, NET + host), T0 + host * 120_000_000);
    expect(r.finish(T0 + 200 * 120_000_000)).toEqual([]);
  });

  it('ignores broadcast and multicast destinations, ARP probes and gratuitous ARP', () => {
    const r = replay();
    for (let i = 0; i < 100; i++) {
      r.send(ethernet(ipv4Udp(SCANNER, ipv4('239.1.0.250') + i * 256, 40000, 1900)), T0 + i);
      r.send(arp(1, 0, NET + i), T0 + 1000 + i);
      r.send(arp(1, NET + i, NET + i), T0 + 2000 + i);
    }
    expect(r.finish(T0 + 10_000)).toEqual([]);
  });

  it('does not flag a host resolving 20 new clients at once when every request is answered within milliseconds', () => {
    const r = replay();
    // A victim hears 20 new sources at once: 20 ARP requests within a millisecond, then the replies.
    for (let burst = 0; burst < 3; burst++) {
      const at = T0 + burst * 5_000_000;
      for (let host = 1; host <= 20; host++) r.send(arp(1, SCANNER, NET + burst * 20 + host), at + host * 50);
      for (let host = 1; host <= 20; host++)
        r.send(arp(2, NET + burst * 20 + host, SCANNER), at + 2000 + host * 150);
    }
    expect(r.finish(T0 + 20_000_000)).toEqual([]);
  });

  it('reports the same burst of 20 ARP requests when none is answered, within the grace time', () => {
    const r = replay();
    for (let host = 1; host <= 20; host++) r.send(arp(1, SCANNER, NET + host), T0 + host * 50);
    // One later packet of anyone's ends the grace time.
    r.send(arp(1, NET + 200, NET + 201), T0 + 300_000);
    const alerts = r.finish(T0 + 10_000_000);
    expect(alerts.map((a) => [a.type, a.src, a.dst])).toEqual([['host_sweep', '10.0.0.128', '10.0.0.0/24']]);
    expect(r.firstReports.get(alerts[0]!.id)! - alerts[0]!.start).toBeLessThan(300_000);
  });
});
