/**
 * The nmap engine against the real nmap, on 127.0.0.1 only: a TCP server this test starts (an
 * SSH-like banner, so that -sV names it), a silent one (to outlast a timeout), a TCP port just freed
 * (closed), and, as root, a UDP port nothing listens on; nmap run as nobody (setpriv) shows what a
 * UDP scan without root says.
 */

import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { assessAll, loadExposureRules } from '../src/scan/exposure.js';
import { nmapAvailable, runNmap } from '../src/scan/nmap-engine.js';
import { describeUnlessMissing, describeWithTools, hasTool } from './helpers/system-tools.js';

const LOOPBACK = '127.0.0.1';
const isRoot = process.getuid?.() === 0;

/** A port on 127.0.0.1 that nothing listens on: bound by the kernel's choice, then released. */
async function freedTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function freedUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, LOOPBACK, resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

describeWithTools(['nmap'], 'nmap engine with the real nmap on 127.0.0.1', () => {
  let server: Server;
  let silent: Server;
  let openPort: number;
  let silentPort: number;
  let closedPort: number;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      // What OpenSSH sends first; nmap's NULL probe recognises it.
      socket.write('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n');
    });
    await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
    openPort = (server.address() as { port: number }).port;
    // Accepts and says nothing: nmap -sV waits for it (6 s for the first probe alone).
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, LOOPBACK, resolve));
    silentPort = (silent.address() as { port: number }).port;
    closedPort = await freedTcpPort();
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all([server, silent].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  });

  it('finds nmap', async () => {
    expect(await nmapAvailable()).toBe(true);
  });

  it('sees the open port open and the freed port closed, as nmap words it', async () => {
    const results = await runNmap([LOOPBACK], { tcpPorts: [openPort, closedPort], timeoutMs: 60_000 });
    const byPort = new Map(results.map((r) => [r.port, r]));
    expect(results).toHaveLength(2);
    expect(byPort.get(openPort)).toMatchObject({
      address: LOOPBACK,
      protocol: 'tcp',
      state: 'open',
      reason: 'syn-ack',
    });
    expect(byPort.get(closedPort)).toMatchObject({
      protocol: 'tcp',
      state: 'closed',
      reason: 'conn-refused',
    });
    // Without -sV nmap only guesses from its port table: that is not an identified service.
    expect(byPort.get(openPort)?.service).toBeUndefined();
  });

  it('names the service with -sV, and the exposure rules judge it', async () => {
    const results = await runNmap([LOOPBACK], {
      tcpPorts: [openPort, closedPort],
      serviceDetection: true,
      timeoutMs: 120_000,
    });
    const open = results.find((r) => r.port === openPort);
    expect(open?.service).toMatchObject({ name: 'ssh', product: 'OpenSSH' });
    expect(open?.service?.version).toMatch(/^9\.2p1/);
    expect(assessAll(results, loadExposureRules())).toEqual([
      expect.objectContaining({ address: LOOPBACK, port: openPort, ruleId: 'ssh', risk: 'low' }),
    ]);
  });

  it('stops nmap at the timeout', async () => {
    const started = performance.now();
    await expect(
      runNmap([LOOPBACK], { tcpPorts: [silentPort], serviceDetection: true, timeoutMs: 300 }),
    ).rejects.toThrow(/nmap did not finish within 0\.3 s and was stopped/);
    expect(performance.now() - started).toBeLessThan(5000);
  });
});

const missingForUdp = [...['nmap', 'setpriv'].filter((t) => !hasTool(t)), ...(isRoot ? [] : ['root'])];

// nmap's UDP scan needs raw sockets: root. Skipped with the reason in its name where root or a
// tool is missing; under CI=true, a failure.
describeUnlessMissing(
  missingForUdp.length === 0 ? null : missingForUdp.join(', '),
  'run as root after scripts/setup.sh --test (nmap -sU needs raw sockets)',
  'nmap engine UDP scans with the real nmap on 127.0.0.1',
  () => {
    let closedTcpPort: number;
    let dir = '';
    let nmapAsNobody = '';

    beforeAll(async () => {
      closedTcpPort = await freedTcpPort();
      dir = mkdtempSync(join(tmpdir(), 'flowtrack-nmap-nobody-'));
      const nmap = execFileSync('sh', ['-c', 'command -v nmap'], { encoding: 'utf8' }).trim();
      nmapAsNobody = join(dir, 'nmap-as-nobody');
      writeFileSync(
        nmapAsNobody,
        `#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups '${nmap}' "$@"\n`,
      );
      chmodSync(nmapAsNobody, 0o755);
    });

    afterAll(() => {
      if (dir !== '') rmSync(dir, { recursive: true, force: true });
    });

    it('scans UDP and TCP in one run: a UDP port nothing listens on is closed (ICMP port unreachable)', async () => {
      const udpPort = await freedUdpPort();
      const results = await runNmap([LOOPBACK], {
        tcpPorts: [closedTcpPort],
        udpPorts: [udpPort],
        timeoutMs: 60_000,
      });
      expect(results).toEqual([
        expect.objectContaining({
          protocol: 'tcp',
          port: closedTcpPort,
          state: 'closed',
          reason: 'conn-refused',
        }),
        expect.objectContaining({ protocol: 'udp', port: udpPort, state: 'closed', reason: 'port-unreach' }),
      ]);
    });

    it('run without root, a UDP scan fails saying it needs root', async () => {
      await expect(
        runNmap([LOOPBACK], { udpPorts: [await freedUdpPort()], nmapPath: nmapAsNobody, timeoutMs: 60_000 }),
      ).rejects.toThrow(/^nmap's UDP scan \(-sU\) needs root/);
    });
  },
);
