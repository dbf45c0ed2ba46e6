import { describe, expect, it } from 'vitest';
import { AlertTracker } from '../../alerts/alert-tracker.js';
import type { Alert } from '../../alerts/alert.js';
import { LinkType } from '../../capture/link-type.js';
import { PacketDecoder, TcpFlag } from '../../decode/packet-decoder.js';
import { FlowTable } from '../../flows/flow-table.js';
import { ipv4, ipv4Tcp, ipv4Udp } from '../../../test/helpers/pcap-builder.js';
import { DetectionEngine } from '../detection-engine.js';
import type { PacketEvent } from '../detector.js';
import { portScanFactory, scanKindName, ScanKind, type PortScanOptions } from './port-scan.js';

/** Feeds raw IPv4 packets through decoder, flow table and the port_scan detector. */
function replay(options: Partial<PortScanOptions> = {}) {
  const firstReports = new Map<string, number>();
  const alerts = new AlertTracker({}, (a, isNew) => {
    if (isNew) firstReports.set(a.id, a.end);
  });
  const engine = new DetectionEngine([
    portScanFactory.create({ ...portScanFactory.defaults, ...options } as PortScanOptions, alerts),
  ]);
  const flows = new FlowTable({}, (t, s, r) => engine.onFlowEnd(t, s, r));
  const packet = new PacketDecoder();
  const event: PacketEvent = { packet, ts: 0, frameBytes: 0, flows, slot: -1, newFlow: false };
  return {
    send(frame: Uint8Array, ts: number): void {
      packet.decode(LinkType.RAW, frame, 0, frame.length);
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

const SCANNER = ipv4('203.0.113.5');
const TARGET = ipv4('198.51.100.7');
const T0 = 1_700_000_000_000_000;

describe('port_scan', () => {
  it('reports a fast SYN scan within its first second, with the scanner, the target and the open ports', () => {
    const r = replay();
    for (let port = 1; port <= 1000; port++) {
      const ts = T0 + port * 2000; // 500 probes a second
      r.send(ipv4Tcp({ src: SCANNER, dst: TARGET, srcPort: 40000, dstPort: port, flags: TcpFlag.SYN }), ts);
      const open = port === 22 || port === 80 || port === 443;
      r.send(
        ipv4Tcp({
          src: TARGET,
          dst: SCANNER,
          srcPort: port,
          dstPort: 40000,
          flags: open ? TcpFlag.SYN | TcpFlag.ACK : TcpFlag.RST | TcpFlag.ACK,
        }),
        ts + 300,
      );
    }
    const alerts = r.finish(T0 + 3_000_000);
    expect(alerts).toHaveLength(1);
    const a = alerts[0]!;
    expect(a).toMatchObject({ type: 'port_scan', severity: 'high', src: '203.0.113.5', dst: '198.51.100.7' });
    expect(a.counters.answered).toBe(3);
    expect(a.counters.ports).toBeGreaterThan(970);
    expect(a.counters.ports).toBeLessThanOrEqual(1000);
    expect(a.summary).toMatch(
      /^203\.0\.113\.5 probed about \d[\d,]* TCP ports on 198\.51\.100\.7 in 2\.0 s \(SYN scan; 3 open\)$/,
    );
    expect(a.start).toBe(T0 + 2000);
    expect(r.firstReports.get(a.id)! - a.start).toBeLessThan(1_000_000);
    expect(a.evidence.sampleFlows).toHaveLength(1);
  });

  it('does not flag a client whose connections to many ports of one host are answered (passive FTP data)', () => {
    const r = replay();
    for (let i = 0; i < 300; i++) {
      const port = 50000 + i;
      const ts = T0 + i * 10_000;
      r.send(
        ipv4Tcp({ src: SCANNER, dst: TARGET, srcPort: 30000 + i, dstPort: port, flags: TcpFlag.SYN }),
        ts,
      );
      r.send(
        ipv4Tcp({
          src: TARGET,
          dst: SCANNER,
          srcPort: port,
          dstPort: 30000 + i,
          flags: TcpFlag.SYN | TcpFlag.ACK,
        }),
        ts + 500,
      );
    }
    expect(r.finish(T0 + 4_000_000)).toEqual([]);
  });

  it('does not flag many connections to one port, nor a few closed ports', () => {
    const r = replay();
    for (let i = 0; i < 500; i++)
      r.send(
        ipv4Tcp({ src: SCANNER, dst: TARGET, srcPort: 10000 + i, dstPort: 443, flags: TcpFlag.SYN }),
        T0 + i,
      );
    for (let port = 1; port < 9; port++)
      r.send(
        ipv4Tcp({ src: SCANNER, dst: TARGET, srcPort: 9000, dstPort: port, flags: TcpFlag.SYN }),
        T0 + 1000 + port,
      );
    expect(r.finish(T0 + 1_000_000)).toEqual([]);
  });

  it('names FIN, NULL, Xmas, ACK and UDP scans', () => {
    const cases: [number | 'udp', string][] = [
      [TcpFlag.FIN, 'FIN scan'],
      [0, 'NULL scan'],
      [TcpFlag.FIN | TcpFlag.PSH | TcpFlag.URG, 'Xmas scan'],
      [TcpFlag.ACK, 'ACK scan'],
      ['udp', 'UDP scan'],
    ];
    for (const [flags, name] of cases) {
      const r = replay();
      for (let port = 1; port <= 100; port++) {
        const frame =
          flags === 'udp'
            ? ipv4Udp(SCANNER, TARGET, 50000, port)
            : ipv4Tcp({ src: SCANNER, dst: TARGET, srcPort: 50000, dstPort: port, flags });
        r.send(frame, T0 + port * 1000);
      }
      const alerts = r.finish(T0 + 1_000_000);
      expect(alerts.map((a) => a.type)).toEqual(['port_scan']);
      expect(alerts[0]!.summary).toContain(`(${name};`);
      expect(alerts[0]!.severity).toBe('medium');
    }
  });

  it('ignores UDP traceroute and answers from a service port whose request was not seen', () => {
    const r = replay();
    for (let i = 0; i < 90; i++) r.send(ipv4Udp(SCANNER, TARGET, 45000 + i, 33434 + i), T0 + i * 1000);
    for (let i = 0; i < 90; i++) r.send(ipv4Udp(TARGET, SCANNER, 53, 20000 + i * 7), T0 + 100_000 + i * 1000);
    expect(r.finish(T0 + 1_000_000)).toEqual([]);
  });

  it('keeps state bounded: a spoofed flood of sources evicts pairs instead of growing', () => {
    const r = replay({ maxPairs: 64 });
    for (let i = 0; i < 5000; i++)
      r.send(ipv4Tcp({ src: 0x0a000000 + i, dst: TARGET, srcPort: 1000, dstPort: 80 + (i % 3) }), T0 + i);
    expect(r.finish(T0 + 10_000)).toEqual([]);
  });

  it('spells combined kinds', () => {
    expect(scanKindName(ScanKind.SYN)).toBe('SYN scan');
    expect(scanKindName(ScanKind.SYN | ScanKind.CONNECT)).toBe('connect scan');
    expect(scanKindName(ScanKind.SYN | ScanKind.UDP)).toBe('SYN and UDP scan');
  });
});

describe('port_scan connect scans', () => {
  it('names a scan whose handshakes complete a connect scan', () => {
    const r = replay();
    for (let port = 1; port <= 60; port++) {
      const ts = T0 + port * 1000;
      r.send(
        ipv4Tcp({ src: SCANNER, dst: TARGET, srcPort: 40000 + port, dstPort: port, flags: TcpFlag.SYN }),
        ts,
      );
      if (port % 10 === 0) {
        r.send(
          ipv4Tcp({
            src: TARGET,
            dst: SCANNER,
            srcPort: port,
            dstPort: 40000 + port,
            flags: TcpFlag.SYN | TcpFlag.ACK,
          }),
          ts + 100,
        );
        r.send(
          ipv4Tcp({ src: SCANNER, dst: TARGET, srcPort: 40000 + port, dstPort: port, flags: TcpFlag.ACK }),
          ts + 200,
        );
      } else {
        r.send(
          ipv4Tcp({
            src: TARGET,
            dst: SCANNER,
            srcPort: port,
            dstPort: 40000 + port,
            flags: TcpFlag.RST | TcpFlag.ACK,
          }),
          ts + 100,
        );
      }
    }
    const alerts = r.finish(T0 + 1_000_000);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.summary).toMatch(
      /probed about 60 TCP ports on 198\.51\.100\.7 in 0\.06 s \(connect scan; 6 open\)$/,
    );
  });

  it('finds a scan hidden in a spoofed SYN flood whose every packet is a new source (first-target filter turnover)', () => {
    const r = replay();
    const victim = ipv4('192.0.2.80');
    let ts = T0;
    let spoofed = 0x0a000001;
    // 40 ports at 20 probes a second, each 50 ms apart filled with 10,000 spoofed SYNs (200,000 a
    // second): the filter turns over several times between two probes of the scan.
    for (let port = 1; port <= 40; port++) {
      r.send(ipv4Tcp({ src: SCANNER, dst: TARGET, srcPort: 40000, dstPort: port, flags: TcpFlag.SYN }), ts);
      for (let i = 0; i < 10_000; i++) {
        ts += 5;
        spoofed = (Math.imul(spoofed, 1103515245) + 12345) >>> 0;
        r.send(
          ipv4Tcp({
            src: spoofed,
            dst: victim,
            srcPort: 1024 + (i & 0x7fff),
            dstPort: 80,
            flags: TcpFlag.SYN,
          }),
          ts,
        );
      }
    }
    const alerts = r.finish(ts);
    expect(alerts.map((a) => [a.type, a.src, a.dst])).toEqual([['port_scan', '203.0.113.5', '198.51.100.7']]);
  });
});
