import { describe, expect, it } from 'vitest';
import { AlertTracker } from '../../alerts/alert-tracker.js';
import type { Alert } from '../../alerts/alert.js';
import { TcpFlag } from '../../decode/packet-decoder.js';
import type { FlowRow } from '../../store/flow-repository.js';
import { FlowTrackError } from '../../util/errors.js';
import { formatIpv4 } from '../../util/ip-address.js';
import { ipv4, ipv4Tcp } from '../../../test/helpers/pcap-builder.js';
import { randomAddresses, replay, T0, type Frame } from '../../../test/helpers/detector-replay.js';
import { bruteForceFactory } from '../brute-force/brute-force.js';
import type { DetectionSettings } from '../detector-registry.js';
import { portScanFactory } from '../port-scan/port-scan.js';
import { FlowRecordDetectors, type FlowRecordStats } from './flow-record-detectors.js';

/** One one-way record, `t` and `dur` in seconds after T0. */
interface Spec {
  src: string;
  dst: string;
  sp?: number;
  dp?: number;
  proto?: string;
  packets?: number;
  bytes?: number;
  flags?: string;
  t: number;
  dur?: number;
}

function rec(s: Spec): FlowRow {
  const first = T0 + Math.round(s.t * 1e6);
  const proto = s.proto ?? 'tcp';
  return {
    firstSeenUs: first,
    lastSeenUs: first + Math.round((s.dur ?? 0) * 1e6),
    ipVersion: s.src.includes(':') ? 6 : 4,
    protocol: proto,
    srcAddr: s.src,
    dstAddr: s.dst,
    srcPort: s.sp ?? 40000,
    dstPort: s.dp ?? 80,
    packetsToServer: s.packets ?? 1,
    bytesToServer: s.bytes ?? 44 * (s.packets ?? 1),
    packetsToClient: 0,
    bytesToClient: 0,
    tcpFlagsToServer: proto === 'tcp' ? (s.flags ?? 'S') : '',
    tcpFlagsToClient: '',
    state: 'flow record',
    endReason: 'exported',
  };
}

/** Feeds `rows` in the order given and finishes at the latest record time. */
function run(
  rows: readonly FlowRow[],
  settings: DetectionSettings = {},
): { alerts: Alert[]; stats: FlowRecordStats } {
  const tracker = new AlertTracker();
  const detectors = new FlowRecordDetectors(tracker, settings);
  let end = 0;
  for (const row of rows) {
    detectors.onFlow(row);
    end = Math.max(end, row.lastSeenUs);
  }
  detectors.finish(end);
  return { alerts: [...tracker.alerts()], stats: detectors.stats() };
}

/** A deterministic shuffle of `rows` within consecutive groups of `group` (records out of order). */
function shuffledWithin<T>(rows: readonly T[], group: number, seed = 11): T[] {
  const out = [...rows];
  const random = randomAddresses(out.length, seed);
  for (let start = 0; start < out.length; start += group) {
    const end = Math.min(out.length, start + group);
    for (let i = end - 1; i > start; i--) {
      const j = start + (random[i]! % (i - start + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
  }
  return out;
}

const SCANNER = '203.0.113.5';
const TARGET = '198.51.100.7';
const OPEN_PORTS = new Set([22, 80, 443]);

/** nmap -sS of ports 1-1000 at 500 probes a second, as a router exports it: one record per probe and answer. */
function synScanRecords(): FlowRow[] {
  const rows: FlowRow[] = [];
  for (let port = 1; port <= 1000; port++) {
    const t = port * 0.002;
    const open = OPEN_PORTS.has(port);
    // The scanner's SYN, and on an open port its kernel's RST after the SYN-ACK.
    rows.push(
      rec({
        src: SCANNER,
        dst: TARGET,
        sp: 40000,
        dp: port,
        t,
        packets: open ? 2 : 1,
        flags: open ? 'SR' : 'S',
      }),
    );
    rows.push(
      rec({ src: TARGET, dst: SCANNER, sp: port, dp: 40000, t: t + 0.0003, flags: open ? 'SA' : 'RA' }),
    );
  }
  return rows;
}

describe('port scans from flow records', () => {
  it('reports an nmap SYN scan of 1,000 ports as one high port_scan that reads like the packet detector’s', () => {
    const { alerts } = run(synScanRecords());
    expect(alerts).toHaveLength(1);
    const a = alerts[0]!;
    expect(a).toMatchObject({ type: 'port_scan', severity: 'high', src: SCANNER, dst: TARGET });
    expect(a.counters.answered).toBe(3);
    expect(a.counters.ports).toBeGreaterThan(970);
    expect(a.counters.ports).toBeLessThanOrEqual(1000);
    expect(a.start).toBe(T0 + 2000);
    expect(a.evidence.sampleFlows[0]?.state).toMatch(/^flow record, flags S/);

    // The same scan as packets through the packet detector: the same sentence, and where it was seen.
    const frames: Frame[] = [];
    for (let port = 1; port <= 1000; port++) {
      const t = port * 0.002;
      const open = OPEN_PORTS.has(port);
      const probe = { src: ipv4(SCANNER), dst: ipv4(TARGET), srcPort: 40000, dstPort: port };
      frames.push({ t, ip: ipv4Tcp({ ...probe, flags: TcpFlag.SYN }) });
      frames.push({
        t: t + 0.0003,
        ip: ipv4Tcp({
          src: ipv4(TARGET),
          dst: ipv4(SCANNER),
          srcPort: port,
          dstPort: 40000,
          flags: open ? TcpFlag.SYN | TcpFlag.ACK : TcpFlag.RST | TcpFlag.ACK,
        }),
      });
      if (open) frames.push({ t: t + 0.0004, ip: ipv4Tcp({ ...probe, flags: TcpFlag.RST }) });
    }
    const fromPackets = replay(portScanFactory, frames).alerts;
    expect(fromPackets).toHaveLength(1);
    expect(a.summary).toBe(fromPackets[0]!.summary.replace(/\)$/, '; seen in flow records)'));
    expect(a.severity).toBe(fromPackets[0]!.severity);
    expect(a.counters).toEqual(fromPackets[0]!.counters);
  });

  it('finds the same scan when the records come in any order (answers before probes included)', () => {
    const inOrder = run(synScanRecords()).alerts;
    const { alerts } = run(shuffledWithin(synScanRecords(), 400));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ type: 'port_scan', src: SCANNER, dst: TARGET, severity: 'high' });
    expect(alerts[0]!.counters.answered).toBe(3);
    expect(alerts[0]!.counters.ports).toBe(inOrder[0]!.counters.ports);
  });

  it('reports a connect scan (closed ports refused, open ones completed and closed at once)', () => {
    const rows: FlowRow[] = [];
    for (let port = 1; port <= 100; port++) {
      const t = port * 0.01;
      const open = port === 22 || port === 80;
      rows.push(
        rec({
          src: SCANNER,
          dst: TARGET,
          sp: 50000 + port,
          dp: port,
          t,
          packets: open ? 3 : 1,
          flags: open ? 'SRA' : 'S',
        }),
      );
      rows.push(rec({ src: TARGET, dst: SCANNER, sp: port, dp: 50000 + port, t, flags: open ? 'SA' : 'RA' }));
    }
    const { alerts } = run(rows);
    expect(alerts.map((a) => `${a.type} ${a.src} -> ${a.dst}`)).toEqual([
      `port_scan ${SCANNER} -> ${TARGET}`,
    ]);
    expect(alerts[0]!.summary).toMatch(/\(connect scan; 2 open; seen in flow records\)$/);
  });

  it('counts answers read before their probes (a client of 40 UDP services of one host, all answering)', () => {
    const answers: FlowRow[] = [];
    const probes: FlowRow[] = [];
    for (let i = 0; i < 40; i++) {
      const port = 20000 + i * 7;
      probes.push(
        rec({ src: SCANNER, dst: TARGET, proto: 'udp', sp: 45000, dp: port, t: i * 0.05, bytes: 80 }),
      );
      answers.push(
        rec({ src: TARGET, dst: SCANNER, proto: 'udp', sp: port, dp: 45000, t: i * 0.05, bytes: 300 }),
      );
    }
    expect(run([...answers, ...probes]).alerts).toEqual([]);
    // Unanswered, the same probes are a UDP scan.
    expect(run(probes).alerts.map((a) => a.summary)).toEqual([
      '203.0.113.5 probed about 40 UDP ports on 198.51.100.7 in 1.9 s (UDP scan; 0 open; seen in flow records)',
    ]);
  });

  it('uses the port_scan options a user configured', () => {
    const { alerts } = run(synScanRecords(), { port_scan: { minPorts: 2000, certainPorts: 5000 } });
    expect(alerts.filter((a) => a.type === 'port_scan')).toEqual([]);
  });
});

describe('host sweeps from flow records', () => {
  it('reports a SYN sweep of a /24 on port 445 with the subnet, and nothing else', () => {
    const rows: FlowRow[] = [];
    for (let host = 1; host <= 254; host++) {
      const t = host * 0.01;
      const alive = host % 50 === 0;
      const dst = `10.1.2.${host}`;
      rows.push(
        rec({ src: SCANNER, dst, sp: 41000, dp: 445, t, packets: alive ? 2 : 1, flags: alive ? 'SR' : 'S' }),
      );
      if (alive) rows.push(rec({ src: dst, dst: SCANNER, sp: 445, dp: 41000, t, flags: 'SA' }));
    }
    const { alerts } = run(rows);
    expect(alerts).toHaveLength(1);
    const a = alerts[0]!;
    expect(a).toMatchObject({ type: 'host_sweep', src: SCANNER, dst: '10.1.2.0/24', severity: 'medium' });
    expect(a.counters.answered).toBe(5);
    expect(a.summary).toMatch(
      /^203\.0\.113\.5 swept about 2\d\d hosts of 10\.1\.2\.0\/24 with TCP port 445 in 2\.5 s \(5 answered; seen in flow records\)$/,
    );
  });

  it('reports a ping sweep (ICMP type and code in the destination port, as NetFlow exports them)', () => {
    const rows: FlowRow[] = [];
    for (let host = 1; host <= 254; host++) {
      rows.push(
        rec({ src: SCANNER, dst: `10.9.0.${host}`, proto: 'icmp', sp: 0, dp: 8 * 256, t: host * 0.004 }),
      );
    }
    rows.push(rec({ src: '10.9.0.7', dst: SCANNER, proto: 'icmp', sp: 0, dp: 0, t: 0.03 }));
    const { alerts } = run(rows);
    expect(alerts.map((a) => `${a.type} ${a.src} -> ${a.dst}`)).toEqual([
      `host_sweep ${SCANNER} -> 10.9.0.0/24`,
    ]);
    expect(alerts[0]!.summary).toContain('with ICMP echo (ping)');
    expect(alerts[0]!.counters.answered).toBe(1);
  });
});

const GUESSER = '203.0.113.9';
const SSH_SERVER = '198.51.100.22';

/** `n` SSH logins that fail: handshake, key exchange, a refused password, closed within 3 s. */
function sshGuesses(n: number, everySeconds: number, shape: Partial<Spec> = {}): FlowRow[] {
  const rows: FlowRow[] = [];
  for (let i = 0; i < n; i++) {
    const t = i * everySeconds;
    const sp = 30000 + i;
    rows.push(
      rec({
        src: GUESSER,
        dst: SSH_SERVER,
        sp,
        dp: 22,
        t,
        dur: 2.5,
        packets: 18,
        bytes: 3200,
        flags: 'SAPF',
        ...shape,
      }),
    );
    rows.push(
      rec({
        src: SSH_SERVER,
        dst: GUESSER,
        sp: 22,
        dp: sp,
        t,
        dur: 2.5,
        packets: 15,
        bytes: 4100,
        flags: 'SAPF',
      }),
    );
  }
  return rows;
}

describe('brute force from flow records', () => {
  it('reports 200 short SSH connections as one brute_force, worded as the packet detector words it', () => {
    const { alerts } = run(sshGuesses(200, 1.5));
    expect(alerts).toHaveLength(1);
    const a = alerts[0]!;
    expect(a).toMatchObject({ type: 'brute_force', severity: 'medium', src: GUESSER, dst: SSH_SERVER });
    expect(a.counters.attempts).toBe(200);
    expect(a.counters.port).toBe(22);
    expect(a.summary).toBe(
      '203.0.113.9 made 200 short SSH connections to 198.51.100.22:22 in 5m1s (password guessing?; seen in flow records)',
    );
    expect(a.evidence.sampleFlows).toHaveLength(3);
    const [threshold] = a.evidence.thresholds;
    expect(threshold?.metric).toBe(`short SSH connections in ${bruteForceFactory.defaults.windowSeconds} s`);
    expect(threshold?.threshold).toBe(10);
    // A 300 s window holds about 200 attempts made 1.5 s apart.
    expect(threshold?.value).toBeGreaterThan(150);
  });

  it('counts the same attempts when records come minutes late and out of order', () => {
    const { alerts } = run(shuffledWithin(sshGuesses(200, 1.5), 160));
    expect(alerts.map((a) => `${a.type} ${a.src} -> ${a.dst}`)).toEqual([
      `brute_force ${GUESSER} -> ${SSH_SERVER}`,
    ]);
    expect(alerts[0]!.counters.attempts).toBe(200);
  });

  it('does not count sessions: long ones, large ones, or a long one split by the active timeout', () => {
    expect(run(sshGuesses(200, 1.5, { dur: 45 })).alerts).toEqual([]);
    expect(run(sshGuesses(200, 1.5, { bytes: 50_000 })).alerts).toEqual([]);
    // A router's active timeout cuts a session into a first record (no FIN) and later ones (no SYN).
    const split = sshGuesses(200, 1.5, { flags: 'SAP' }).concat(
      sshGuesses(200, 1.5, { flags: 'AP', t: 0 }).map((r) => ({ ...r, firstSeenUs: r.firstSeenUs + 60e6 })),
    );
    expect(run(split).alerts).toEqual([]);
  });

  it('does not take port checks (connections opened and closed without data) for login attempts', () => {
    expect(run(sshGuesses(200, 1.5, { packets: 4, bytes: 240, flags: 'SAF' })).alerts).toEqual([]);
  });

  it('adds the server’s bytes when a row holds both directions (a biflow)', () => {
    const biflow = (i: number, serverBytes: number): FlowRow => ({
      ...rec({
        src: GUESSER,
        dst: SSH_SERVER,
        sp: 30000 + i,
        dp: 22,
        t: i,
        dur: 2,
        packets: 18,
        bytes: 3200,
        flags: 'SAPF',
      }),
      packetsToClient: 15,
      bytesToClient: serverBytes,
      tcpFlagsToClient: 'SAPF',
    });
    const small = run(Array.from({ length: 30 }, (_, i) => biflow(i, 4000)));
    expect(small.alerts.map((a) => a.type)).toEqual(['brute_force']);
    expect(small.stats.records).toBe(30);
    const large = run(Array.from({ length: 30 }, (_, i) => biflow(i, 30_000)));
    expect(large.alerts).toEqual([]);
  });
});

const VICTIM = '198.51.100.80';

/** `n` one-packet SYN records from spoofed sources to VICTIM:80, spread over `seconds`. */
function spoofedSynFlood(n: number, seconds: number): FlowRow[] {
  return randomAddresses(n, 99).map((a, i) =>
    rec({ src: formatIpv4(a), dst: VICTIM, sp: 1024 + (a % 60000), dp: 80, t: (i * seconds) / n, bytes: 60 }),
  );
}

describe('floods from flow records', () => {
  it('reports 50,000 spoofed SYN records to one victim as one ddos alert, with bounded state', () => {
    const { alerts, stats } = run(spoofedSynFlood(50_000, 10));
    expect(alerts.map((a) => `${a.type} ${a.src} -> ${a.dst}`)).toEqual([`ddos null -> ${VICTIM}`]);
    const a = alerts[0]!;
    expect(a.severity).toBe('critical');
    expect(a.updates).toBeGreaterThan(1);
    expect(a.counters.sources).toBeGreaterThan(40_000);
    expect(a.counters.sources).toBeLessThan(60_000);
    expect(a.counters.halfOpen).toBe(a.counters.syns);
    expect(a.counters.peakSynPerSecond).toBeGreaterThanOrEqual(4_900);
    expect(a.summary).toMatch(
      /^~[\d,]+ sources sent [\d,]+ SYNs to 198\.51\.100\.80:80 in \d+\.\d s \(peak 5,0\d\d\/s\); 100% never completed a handshake \(distributed SYN flood; seen in flow records\)\.$/,
    );
    expect(a.evidence.sampleFlows[0]?.state).toBe('flow record, flags S');
    // No per-source state: the sources' first contacts stay in the fixed first-contact filters.
    expect(stats.tracked).toBeLessThan(10);
    expect(stats.records).toBe(50_000);
  });

  it('finds the same flood when records arrive out of order by up to a minute', () => {
    const { alerts } = run(shuffledWithin(spoofedSynFlood(50_000, 10), 25_000));
    expect(alerts.map((a) => `${a.type} ${a.dst}`)).toEqual([`ddos ${VICTIM}`]);
    // The records before the victim's first busy window are not the attack's (see RecordVictimMeter).
    expect(alerts[0]!.counters.syns).toBeGreaterThan(49_500);
    expect(alerts[0]!.counters.syns).toBeLessThanOrEqual(50_000);
  });

  it('keeps every table within its size under spoofed sources and victims, counting evictions', () => {
    const sources = randomAddresses(50_000, 5);
    const victims = randomAddresses(50_000, 6);
    const rows = sources.map((s, i) =>
      rec({ src: formatIpv4(s), dst: formatIpv4(victims[i]!), sp: 2000 + (i % 50000), dp: 80, t: i / 5000 }),
    );
    const small = { victims: 64 };
    const { alerts, stats } = run(rows, {
      syn_flood: small,
      volume_flood: small,
      port_scan: { maxPairs: 64 },
    });
    expect(alerts).toEqual([]);
    expect(stats.tracked).toBeLessThanOrEqual(64 * 3 + 65536 + 8192);
    expect(stats.evicted).toBeGreaterThan(40_000);
  });

  it('reports one source’s SYN flood to one port as syn_flood', () => {
    const rows = Array.from({ length: 200 }, (_, i) =>
      rec({ src: '192.0.2.10', dst: '198.51.100.5', sp: 40000 + i, dp: 443, t: i * 0.001 }),
    );
    const { alerts } = run(rows);
    expect(alerts.map((a) => `${a.type} ${a.src} -> ${a.dst}`)).toEqual([
      'syn_flood 192.0.2.10 -> 198.51.100.5',
    ]);
    expect(alerts[0]!.summary).toMatch(
      /^192\.0\.2\.10 sent 1\d\d SYNs to 198\.51\.100\.5:443 in 1\d\d ms \(peak 1,000\/s\); 100% never completed a handshake \(SYN flood; seen in flow records\)\.$/,
    );
  });

  it('reports a UDP flood from one source spread over its 60 s records (20,000 packets/s)', () => {
    const rows = [0, 60, 120].map((t) =>
      rec({
        src: '192.0.2.66',
        dst: VICTIM,
        proto: 'udp',
        sp: 5555,
        dp: 9999,
        t,
        dur: 60,
        packets: 1_200_000,
        bytes: 1_200_000 * 100,
      }),
    );
    const { alerts } = run(rows);
    expect(alerts.map((a) => `${a.type} ${a.src} -> ${a.dst}`)).toEqual([
      `udp_flood 192.0.2.66 -> ${VICTIM}`,
    ]);
    const a = alerts[0]!;
    expect(a.counters.peakPacketsPerSecond).toBe(20_000);
    expect(a.counters.packets).toBe(3_600_000);
    expect(a.summary).toBe(
      '192.0.2.66 sent 3,600,000 UDP packets (360,000 kB) to 198.51.100.80 in 180.0 s (peak 20,000 packets/s, 16.0 Mbit/s; seen in flow records).',
    );
  });

  it('reports an ICMP echo flood from many sources', () => {
    const rows = randomAddresses(20_000, 3).map((a, i) =>
      rec({ src: formatIpv4(a), dst: VICTIM, proto: 'icmp', sp: 0, dp: 8 * 256, t: i / 2000, bytes: 84 }),
    );
    const { alerts } = run(rows);
    expect(alerts.map((a) => `${a.type} ${a.src} -> ${a.dst}`)).toEqual([`icmp_flood null -> ${VICTIM}`]);
    expect(alerts[0]!.counters.sources).toBeGreaterThan(15_000);
  });

  it('does not call a UDP conversation, reflection from one service port, or late records a flood', () => {
    // A QUIC download: 20,000 packets/s to the client, acknowledged at 2,000/s; the server's record first.
    const quic = [0, 60].flatMap((t) => [
      rec({
        src: '192.0.2.80',
        dst: '10.0.0.5',
        proto: 'udp',
        sp: 443,
        dp: 50123,
        t,
        dur: 60,
        packets: 1_200_000,
        bytes: 1.4e9,
      }),
      rec({
        src: '10.0.0.5',
        dst: '192.0.2.80',
        proto: 'udp',
        sp: 50123,
        dp: 443,
        t,
        dur: 60,
        packets: 120_000,
        bytes: 6e6,
      }),
    ]);
    expect(run(quic).alerts).toEqual([]);
    // DNS answers from 2,000 resolvers: amplification's to judge, not a udp_flood.
    const reflection = randomAddresses(40_000, 8).map((a, i) =>
      rec({
        src: formatIpv4(a % 2000),
        dst: VICTIM,
        proto: 'udp',
        sp: 53,
        dp: 80,
        t: i / 20_000,
        bytes: 3000,
      }),
    );
    expect(run(reflection).alerts.filter((a) => a.type === 'udp_flood')).toEqual([]);
  });
});

describe('ordinary traffic from flow records', () => {
  it('raises nothing for a busy site’s records', () => {
    const rows: FlowRow[] = [];
    const clients = Array.from({ length: 50 }, (_, i) => `10.0.1.${i + 1}`);
    const servers = Array.from({ length: 20 }, (_, i) => `192.0.2.${i + 100}`);
    for (const [c, client] of clients.entries()) {
      for (let k = 0; k < 40; k++) {
        const t = k * 1.5 + c * 0.01;
        const server = servers[(c + k) % servers.length]!;
        const sp = 40000 + k;
        rows.push(
          rec({ src: client, dst: server, sp, dp: 443, t, dur: 1, packets: 12, bytes: 1500, flags: 'SAPF' }),
        );
        rows.push(
          rec({
            src: server,
            dst: client,
            sp: 443,
            dp: sp,
            t,
            dur: 1,
            packets: 15,
            bytes: 20_000,
            flags: 'SAPF',
          }),
        );
        rows.push(rec({ src: client, dst: '10.0.0.53', proto: 'udp', sp: 50000 + k, dp: 53, t, bytes: 70 }));
        rows.push(rec({ src: '10.0.0.53', dst: client, proto: 'udp', sp: 53, dp: 50000 + k, t, bytes: 130 }));
      }
      // A few connections to hosts that are down.
      rows.push(rec({ src: client, dst: `198.18.0.${c}`, sp: 45000, dp: 443, t: 5, packets: 3, flags: 'S' }));
    }
    // An application server opening 200 connections a second to its backend, without pooling.
    for (let i = 0; i < 12_000; i++) {
      const t = i * 0.005;
      const sp = 10000 + (i % 50000);
      rows.push(
        rec({
          src: '10.0.2.10',
          dst: '10.0.2.20',
          sp,
          dp: 8080,
          t,
          dur: 0.02,
          packets: 6,
          bytes: 900,
          flags: 'SAPF',
        }),
      );
      rows.push(
        rec({
          src: '10.0.2.20',
          dst: '10.0.2.10',
          sp: 8080,
          dp: sp,
          t,
          dur: 0.02,
          packets: 5,
          bytes: 4000,
          flags: 'SAPF',
        }),
      );
    }
    // A video call (RTP both ways) and a monitor pinging 20 hosts every second.
    rows.push(
      rec({
        src: '10.0.1.7',
        dst: '192.0.2.200',
        proto: 'udp',
        sp: 50000,
        dp: 50002,
        t: 0,
        dur: 60,
        packets: 3000,
        bytes: 3e6,
      }),
    );
    rows.push(
      rec({
        src: '192.0.2.200',
        dst: '10.0.1.7',
        proto: 'udp',
        sp: 50002,
        dp: 50000,
        t: 0,
        dur: 60,
        packets: 3000,
        bytes: 3e6,
      }),
    );
    for (let h = 1; h <= 20; h++) {
      rows.push(
        rec({
          src: '10.0.0.9',
          dst: `10.0.3.${h}`,
          proto: 'icmp',
          sp: 0,
          dp: 8 * 256,
          t: 0,
          dur: 59,
          packets: 60,
        }),
      );
      rows.push(
        rec({ src: `10.0.3.${h}`, dst: '10.0.0.9', proto: 'icmp', sp: 0, dp: 0, t: 0, dur: 59, packets: 60 }),
      );
    }
    rows.sort((a, b) => a.lastSeenUs - b.lastSeenUs);
    const { alerts, stats } = run(rows);
    expect(alerts.map((a) => a.summary)).toEqual([]);
    expect(stats.malformed).toBe(0);
  });
});

describe('ordinary traffic seen one way', () => {
  it('raises nothing when the router exports only the clients’ side (asymmetric routing)', () => {
    const rows: FlowRow[] = [];
    for (let c = 1; c <= 20; c++) {
      for (let k = 0; k < 30; k++) {
        const dst = `192.0.2.${100 + ((c + k) % 30)}`;
        const t = k + c * 0.01;
        rows.push(
          rec({
            src: `10.0.1.${c}`,
            dst,
            sp: 40000 + k,
            dp: 443,
            t,
            dur: 1,
            packets: 12,
            bytes: 1500,
            flags: 'SAPF',
          }),
        );
      }
    }
    expect(run(rows).alerts.map((a) => a.summary)).toEqual([]);
  });
});

describe('bad input', () => {
  it('counts malformed records and says what was wrong, without throwing', () => {
    const good = rec({ src: '192.0.2.1', dst: '192.0.2.2', t: 0 });
    const bad: FlowRow[] = [
      { ...good, srcAddr: '192.0.2.300' },
      { ...good, dstAddr: 'not-an-address' },
      { ...good, dstAddr: '2001:db8::1' },
      { ...good, protocol: 'carrier-pigeon' },
      { ...good, dstPort: 70000 },
      { ...good, packetsToServer: Number.NaN },
      { ...good, packetsToServer: 0 },
      { ...good, lastSeenUs: good.firstSeenUs - 1 },
      { ...good, tcpFlagsToServer: 'SYN' },
      { ...good, srcAddr: '1:2:3:4:5:6:7:8:9' },
    ];
    const tracker = new AlertTracker();
    const detectors = new FlowRecordDetectors(tracker);
    const reasons: (string | null)[] = [];
    for (const row of bad) {
      detectors.onFlow(row);
      reasons.push(detectors.stats().lastMalformed);
    }
    detectors.onFlow(good);
    detectors.finish(good.lastSeenUs);
    expect(detectors.stats()).toMatchObject({ records: 1, malformed: bad.length });
    expect(reasons).toEqual([
      'source address "192.0.2.300" is not an IPv4 or IPv6 address',
      'destination address "not-an-address" is not an IPv4 or IPv6 address',
      'source 192.0.2.1 and destination 2001:db8::1 are of different IP versions',
      'protocol "carrier-pigeon" is not a protocol name or number',
      'ports 40000 -> 70000 are not integers from 0 to 65535',
      "counts NaN packets, 44 bytes are not a record's (at least one packet)",
      "counts 0 packets, 44 bytes are not a record's (at least one packet)",
      `times ${good.firstSeenUs} to ${good.firstSeenUs - 1} are not a span of microseconds since the epoch`,
      'TCP flags "SYN"/"" are not letters of SFRPAUEWN',
      'source address "1:2:3:4:5:6:7:8:9" is not an IPv4 or IPv6 address',
    ]);
  });

  it('rejects bad settings naming each one, and takes IPv6 records', () => {
    expect(
      () => new FlowRecordDetectors(new AlertTracker(), { port_scan: { minPorts: -1, bogus: 3 } }),
    ).toThrow(FlowTrackError);
    expect(
      () => new FlowRecordDetectors(new AlertTracker(), { port_scan: { minPorts: -1, bogus: 3 } }),
    ).toThrow(/port_scan\.minPorts must be a number of at least 0, not "-1"; .*no option "bogus"/);
    const rows = Array.from({ length: 300 }, (_, i) =>
      rec({ src: '2001:db8::5', dst: '2001:db8:0:1::7', sp: 40000, dp: i + 1, t: i * 0.002 }),
    );
    const { alerts } = run(rows);
    expect(alerts.map((a) => `${a.type} ${a.src} -> ${a.dst}`)).toEqual([
      'port_scan 2001:db8::5 -> 2001:db8:0:1::7',
    ]);
  });
});
