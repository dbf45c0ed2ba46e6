/**
 * `flowtrack scan` (the built CLI) against real services in network namespaces, checked against
 * nmap on the same ports from the same namespace:
 * - TCP: an HTTP server (Python's), an SSH banner, Redis from Debian without a password, dnsmasq,
 *   closed ports and a listening port dropped by nftables: open/closed/filtered equal `nmap -sT`,
 *   and the services are named (OpenSSH with its version, http with its Server header, Redis
 *   without authentication judged critical);
 * - UDP: dnsmasq on 53 (named, with its version), closed ports, a port dropped by nftables:
 *   verdicts equal `nmap -sU`;
 * - a sweep of a /24 with 20 live hosts (each its own namespace with its own listeners) finds
 *   exactly those hosts and their open ports, and the scanner itself with none.
 *
 * Traffic stays on LANs of namespaces with no default route (test/helpers/netns.ts); every
 * process is bounded in time and goes with its namespace. Needs root; skipped with a message
 * otherwise, except under CI=true where a missing tool fails.
 */

import { resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseNmapXml } from '../src/scan/nmap-engine.js';
import type { ScanReport } from '../src/scan/port-scanner.js';
import type { PortState } from '../src/scan/scan-types.js';
import { portStateIn } from '../src/scan/port-scanner.js';
import { Lan, removeStaleLans, type BackgroundProcess } from './helpers/netns.js';
import { describeUnlessMissing, hasTool } from './helpers/system-tools.js';

const TOOLS = ['ip', 'nft', 'nmap', 'python3', 'redis-server', 'dnsmasq'];
const CLI = resolve(import.meta.dirname, '../dist/cli/main.js');
const root = process.getuid?.() === 0;
const missing = [...TOOLS.filter((t) => !hasTool(t)), ...(root ? [] : ['root'])];
const HOW = 'run as root after scripts/setup.sh --test (network namespaces and nftables need root)';

const SCANNER = '10.81.0.1';
const TARGET = '10.81.0.2';
const SSH_BANNER = 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3';
const TCP_PORTS = [22, 53, 80, 81, 6379, 6380, 8080, 9999];
const UDP_PORTS = [53, 54, 123, 5000];

/** A Node process listening on `ports` of `address` (TCP; each connection gets `banner` if given, then closes). */
function listenerScript(address: string, ports: readonly number[], banner?: string): string {
  return (
    `const net=require('node:net');let n=0;` +
    `for(const p of ${JSON.stringify(ports)})net.createServer(s=>{s.on('error',()=>{});` +
    (banner
      ? `s.write(${JSON.stringify(`${banner}\r\n`)});setTimeout(()=>s.destroy(),3000);`
      : 's.destroy();') +
    `}).listen(p,${JSON.stringify(address)},()=>{if(++n===${ports.length})console.log('ready')});`
  );
}

async function flowtrackScan(lan: Lan, role: string, args: readonly string[]): Promise<ScanReport> {
  const { stdout } = await lan.exec(role, process.execPath, [CLI, 'scan', ...args, '--json'], {
    timeoutSeconds: 120,
  });
  return JSON.parse(stdout) as ScanReport;
}

async function nmapStates(lan: Lan, args: readonly string[]): Promise<Map<number, PortState>> {
  const { stdout } = await lan.exec('scanner', 'nmap', [...args, '-Pn', '-n', '-oX', '-', TARGET], {
    timeoutSeconds: 120,
  });
  return new Map(parseNmapXml(stdout).map((r) => [r.port, r.state]));
}

describeUnlessMissing(
  missing.length === 0 ? null : missing.join(', '),
  HOW,
  'flowtrack scan against real services in network namespaces, compared with nmap',
  () => {
    let lan: Lan | undefined;
    const started: BackgroundProcess[] = [];

    beforeAll(async () => {
      await removeStaleLans();
      lan = await Lan.create([
        { role: 'scanner', addresses: [SCANNER] },
        { role: 'target', addresses: [TARGET] },
      ]);
      const start = async (cmd: string, args: string[], ready: RegExp) => {
        const p = lan!.start('target', cmd, args, 300);
        started.push(p);
        await p.waitFor(ready, 10_000);
      };
      await start('python3', ['-u', '-m', 'http.server', '8080', '--bind', TARGET], /Serving HTTP/);
      await start(process.execPath, ['-e', listenerScript(TARGET, [22], SSH_BANNER)], /ready/);
      await start(process.execPath, ['-e', listenerScript(TARGET, [9999])], /ready/);
      await start(
        'redis-server',
        ['--port', '6379', '--bind', TARGET, '--protected-mode', 'no', '--save', '', '--appendonly', 'no'],
        /Ready to accept connections/,
      );
      await start(
        'dnsmasq',
        [
          '--keep-in-foreground',
          '--log-facility=-',
          '--conf-file=/dev/null',
          '--port=53',
          `--listen-address=${TARGET}`,
          '--bind-interfaces',
          '--no-resolv',
          '--no-hosts',
          '--user=root',
          '--pid-file=',
          '--address=/flowtrack.test/10.81.0.2',
        ],
        /started, version/,
      );
      // A port something listens on, dropped by the firewall: nmap's "filtered".
      await lan.exec('target', 'bash', [
        '-c',
        'nft add table inet t && nft add chain inet t input "{ type filter hook input priority 0; }" && ' +
          'nft add rule inet t input tcp dport 9999 drop && nft add rule inet t input udp dport 5000 drop',
      ]);
    }, 60_000);

    afterAll(async () => {
      await lan?.remove();
    });

    it('finds TCP ports open, closed and filtered as nmap -sT does, and names the services', async () => {
      const ports = TCP_PORTS.join(',');
      const report = await flowtrackScan(lan!, 'scanner', [TARGET, '-p', ports]);
      const nmap = await nmapStates(lan!, ['-sT', '-p', ports]);
      const host = report.hosts.find((h) => h.address === TARGET);
      expect(host, JSON.stringify(report)).toBeDefined();
      const ours = new Map(TCP_PORTS.map((p) => [p, portStateIn(host!, 'tcp', p)]));
      expect(Object.fromEntries(ours)).toEqual(Object.fromEntries(nmap));
      expect(Object.fromEntries(ours)).toEqual({
        22: 'open',
        53: 'open',
        80: 'closed',
        81: 'closed',
        6379: 'open',
        6380: 'closed',
        8080: 'open',
        9999: 'filtered',
      });
      const service = (port: number) =>
        host!.ports.find((p) => p.port === port && p.protocol === 'tcp')?.service;
      expect(service(22)).toMatchObject({ name: 'ssh', product: 'OpenSSH', version: '9.2p1' });
      expect(service(8080)).toMatchObject({ name: 'http' });
      expect(service(8080)?.banner).toMatch(/SimpleHTTP/);
      expect(service(6379)).toMatchObject({ name: 'redis', details: { auth: 'none' } });
      const redis = report.findings.find((f) => f.port === 6379);
      expect(redis).toMatchObject({ risk: 'critical', service: 'redis' });
      expect(redis?.fix).toBeTruthy();
    }, 120_000);

    it('finds UDP ports open, closed and open|filtered as nmap -sU does, and names DNS', async () => {
      const ports = UDP_PORTS.join(',');
      const report = await flowtrackScan(lan!, 'scanner', [TARGET, '--udp', '-p', ports]);
      const nmap = await nmapStates(lan!, ['-sU', '-p', ports]);
      const host = report.hosts.find((h) => h.address === TARGET);
      expect(host, JSON.stringify(report)).toBeDefined();
      const ours = new Map(UDP_PORTS.map((p) => [p, portStateIn(host!, 'udp', p)]));
      expect(Object.fromEntries(ours)).toEqual(Object.fromEntries(nmap));
      expect(Object.fromEntries(ours)).toEqual({
        53: 'open',
        54: 'closed',
        123: 'closed',
        5000: 'open|filtered',
      });
      const dns = host!.ports.find((p) => p.port === 53 && p.protocol === 'udp')?.service;
      expect(dns).toMatchObject({ name: 'dns', product: 'dnsmasq' });
    }, 120_000);
  },
);

describeUnlessMissing(
  missing.length === 0 ? null : missing.join(', '),
  HOW,
  'flowtrack scan sweeping a /24 of network namespaces with 20 live hosts',
  () => {
    let lan: Lan | undefined;
    const SWEEP_SCANNER = '10.82.0.1';
    /** Host i's address and the ports it listens on: each host its own set. */
    const hosts = Array.from({ length: 20 }, (_, i) => ({
      role: `h${i + 1}`,
      address: `10.82.0.${(i + 1) * 12 + 2}`,
      ports: [...(i % 2 === 0 ? [22] : []), ...(i % 3 === 0 ? [80] : []), 1000 + i, 8000 + (i % 7)],
    }));

    beforeAll(async () => {
      await removeStaleLans();
      lan = await Lan.create([
        { role: 'scanner', addresses: [SWEEP_SCANNER] },
        ...hosts.map((h) => ({ role: h.role, addresses: [h.address] })),
      ]);
      await Promise.all(
        hosts.map(async (h) => {
          const p = lan!.start(h.role, process.execPath, ['-e', listenerScript(h.address, h.ports)], 300);
          await p.waitFor(/ready/, 20_000);
        }),
      );
    }, 120_000);

    afterAll(async () => {
      await lan?.remove();
    });

    it('finds exactly the live hosts and their open ports', async () => {
      const report = await flowtrackScan(lan!, 'scanner', [
        '10.82.0.0/24',
        '-p',
        '22,80,443,1000-1030,8000-8010',
      ]);
      expect(report.addresses).toBe(256);
      const found = Object.fromEntries(
        report.hosts.map((h) => [h.address, h.ports.filter((p) => p.state === 'open').map((p) => p.port)]),
      );
      const expected: Record<string, number[]> = { [SWEEP_SCANNER]: [] };
      for (const h of hosts) expected[h.address] = [...h.ports].sort((a, b) => a - b);
      expect(found).toEqual(expected);
    }, 180_000);
  },
);
