import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeCapture } from '../../analyze/analyze-capture.js';
import { ethernet, ipv4, ipv4Tcp, pcapFile, type PcapRecord } from '../../../test/helpers/pcap-builder.js';

const dir = mkdtempSync(join(tmpdir(), 'flowtrack-brute-force-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = 1_700_000_000;
const CLIENT = ipv4('203.0.113.9');
const SERVER = ipv4('198.51.100.22');
const SYN = 0x02;
const ACK = 0x10;
const FIN = 0x01;
const RST = 0x04;
const PSH = 0x08;

interface Connection {
  at: number;
  clientPort: number;
  serverPort: number;
  /** Seconds from SYN to the close. */
  lasts: number;
  /** Payload bytes each way. */
  payload?: number;
  refused?: boolean;
}

function record(at: number, frame: Buffer): PcapRecord {
  return { sec: T0 + Math.floor(at), frac: Math.round((at % 1) * 1e6), data: ethernet(frame) };
}

/** One TCP connection: handshake, one exchange, FIN both ways (or SYN then RST when refused). */
function connection(c: Connection): PcapRecord[] {
  const up = (flags: number, payload = 0) =>
    ipv4Tcp({
      src: CLIENT,
      dst: SERVER,
      srcPort: c.clientPort,
      dstPort: c.serverPort,
      flags,
      payload: new Uint8Array(payload),
    });
  const down = (flags: number, payload = 0) =>
    ipv4Tcp({
      src: SERVER,
      dst: CLIENT,
      srcPort: c.serverPort,
      dstPort: c.clientPort,
      flags,
      payload: new Uint8Array(payload),
    });
  if (c.refused) return [record(c.at, up(SYN)), record(c.at + 0.001, down(RST | ACK))];
  const p = c.payload ?? 500;
  return [
    record(c.at, up(SYN)),
    record(c.at + 0.001, down(SYN | ACK)),
    record(c.at + 0.002, up(ACK)),
    record(c.at + 0.1, down(PSH | ACK, p)),
    record(c.at + 0.2, up(PSH | ACK, p)),
    record(c.at + c.lasts - 0.01, up(FIN | ACK)),
    record(c.at + c.lasts, down(FIN | ACK)),
  ];
}

async function bruteForceAlerts(connections: Connection[], name: string) {
  const records = connections.flatMap(connection).sort((a, b) => a.sec - b.sec || a.frac - b.frac);
  const path = join(dir, name);
  writeFileSync(path, pcapFile(records));
  const report = await analyzeCapture(path);
  return report.alerts.filter((a) => a.type === 'brute_force');
}

const every = (n: number, f: (i: number) => Connection): Connection[] =>
  Array.from({ length: n }, (_, i) => f(i));

describe('brute_force', () => {
  it('alerts at the 10th short SSH connection, while the attack runs, naming the service', async () => {
    const alerts = await bruteForceAlerts(
      every(40, (i) => ({ at: i * 5, clientPort: 50_000 + i, serverPort: 22, lasts: 3 })),
      'ssh.pcap',
    );
    expect(alerts).toHaveLength(1);
    const a = alerts[0]!;
    expect([a.src, a.dst]).toEqual(['203.0.113.9', '198.51.100.22']);
    expect(a.summary).toMatch(/40 short SSH connections to 198\.51\.100\.22:22/);
    expect(a.start).toBe(T0 * 1e6);
    // Counted at each close, not 15 s later when the flow table lets the flow go.
    expect(a.evidence.sampleFlows.length).toBeGreaterThan(0);
    expect(a.counters['attempts']).toBe(40);
  });

  it('counts per service: 9 SSH and 9 MySQL attempts are not 18 of one', async () => {
    const conns = [
      ...every(9, (i) => ({ at: i * 5, clientPort: 50_000 + i, serverPort: 22, lasts: 2 })),
      ...every(9, (i) => ({ at: i * 5 + 1, clientPort: 51_000 + i, serverPort: 3306, lasts: 1 })),
    ];
    expect(await bruteForceAlerts(conns, 'split.pcap')).toEqual([]);
  });

  it('ignores long sessions, large transfers, refused connections and web traffic', async () => {
    const conns = [
      ...every(20, (i) => ({ at: i * 5, clientPort: 50_000 + i, serverPort: 22, lasts: 45 })),
      ...every(20, (i) => ({ at: i * 5, clientPort: 51_000 + i, serverPort: 21, lasts: 2, payload: 12_000 })),
      ...every(20, (i) => ({ at: i * 5, clientPort: 52_000 + i, serverPort: 3389, lasts: 0, refused: true })),
      ...every(20, (i) => ({ at: i * 5, clientPort: 53_000 + i, serverPort: 443, lasts: 1 })),
    ];
    expect(await bruteForceAlerts(conns, 'benign.pcap')).toEqual([]);
  });

  it('carries the final count when a fast, parallel attack ends between two updates', async () => {
    // 40 overlapping RDP attempts in 4 s (a tool with many threads): updates come at most once a
    // second, the end of input brings the alert up to date.
    const alerts = await bruteForceAlerts(
      every(40, (i) => ({ at: i * 0.1, clientPort: 50_000 + i, serverPort: 3389, lasts: 0.5 })),
      'fast.pcap',
    );
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.counters['attempts']).toBe(40);
    expect(alerts[0]!.summary).toMatch(/40 short RDP connections/);
  });

  it('forgets attempts older than the window (10 attempts spread over an hour)', async () => {
    const conns = every(10, (i) => ({ at: i * 400, clientPort: 50_000 + i, serverPort: 22, lasts: 2 }));
    expect(await bruteForceAlerts(conns, 'slow.pcap')).toEqual([]);
  });
});
