/**
 * Service identification against real servers on 127.0.0.1: Redis (with and without a password),
 * memcached (TCP and UDP), dnsmasq and snmpd started here on free ports; the PostgreSQL and
 * MariaDB servers the machine runs on their usual ports; and Node servers that speak HTTP, HTTPS
 * with a self-signed certificate (made with openssl), TLS alone, and SSH, FTP, SMTP, VNC and
 * telnet greetings, plus hostile ones (a flood, a reset, silence). What is checked is what a user
 * sees in a scan report: the service's name, product, version and the facts that decide a risk
 * (auth none or required, anonymous FTP, STARTTLS, the public SNMP community, a self-signed
 * certificate), within the time budget and without a throw.
 *
 * Everything listens on 127.0.0.1 only, and every process and server started here is stopped in
 * afterAll, also when a test fails.
 */

import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, TLSSocket } from 'node:tls';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceInfo } from '../src/scan/scan-types.js';
import { identifyTcpService } from '../src/scan/service-probes.js';
import { snmpGetRequest, udpProbesFor, type UdpProbe } from '../src/scan/udp-probes.js';
import { PG_TEST_URL } from './helpers/postgres.js';
import { describeUnlessMissing, describeWithTools, hasTool } from './helpers/system-tools.js';

const LOOPBACK = '127.0.0.1';
/** A roomier budget than the default 3 s, so that a loaded test machine does not fail a test. */
const BUDGET_MS = 6000;
const AS_ROOT = process.getuid?.() === 0;

// ---------------------------------------------------------------------------------------------
// Helpers: ports, processes, servers

/** A TCP port nothing listens on now. */
function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/** True when UDP `port` on 127.0.0.1 can be bound. */
function udpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, LOOPBACK, () => {
      socket.close(() => {
        resolve(true);
      });
    });
  });
}

/** A port free over both TCP and UDP (memcached listens on both with one number). */
async function freeTcpAndUdpPort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await freeTcpPort();
    if (await udpPortFree(port)) return port;
  }
  throw new Error('no port free over both TCP and UDP');
}

async function freeUdpPort(): Promise<number> {
  return freeTcpAndUdpPort();
}

interface Child {
  process: ChildProcess;
  output(): string;
}

const children: Child[] = [];

/** Starts `command` with its output kept for error messages; stopAll() ends it. */
function start(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Child {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let output = '';
  const keep = (chunk: Buffer): void => {
    if (output.length < 64 * 1024) output += chunk.toString('utf8');
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.on('error', (err) => (output += `\nspawn failed: ${err.message}`));
  const entry = { process: child, output: () => output };
  children.push(entry);
  return entry;
}

async function stopAll(): Promise<void> {
  await Promise.all(
    children.splice(0).map(
      ({ process: child }) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
            resolve();
            return;
          }
          const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
          child.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}

/** Resolves once TCP `port` accepts a connection; fails with the child's output after `timeoutMs`. */
async function waitForTcp(port: number, child: Child, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, LOOPBACK, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => {
        resolve(false);
      });
    });
    if (ok) return;
    if (child.process.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${port}: ${child.output()}`);
}

/**
 * Sends `payload` to UDP `port` until an answer comes (resent every `everyMs`, `attempts` times):
 * the answer, or null. Replies from anything but 127.0.0.1 are ignored.
 */
function udpExchange(port: number, payload: Buffer, attempts = 5, everyMs = 1000): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = (reply: Buffer | null): void => {
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    };
    socket.on('message', (reply, from) => {
      if (from.address === LOOPBACK && from.port === port) finish(reply);
    });
    socket.on('error', () => undefined);
    const send = (): void => {
      if (sent++ >= attempts) {
        finish(null);
        return;
      }
      socket.send(payload, port, LOOPBACK);
      timer = setTimeout(send, everyMs);
    };
    send();
  });
}

/** What `probe` makes of the answer it gets from `port`. */
async function askUdp(port: number, probe: UdpProbe): Promise<ServiceInfo | null> {
  const reply = await udpExchange(port, probe.payload);
  if (!reply) throw new Error(`no answer to ${probe.name} on UDP ${port}`);
  return probe.recognize(reply);
}

function probeNamed(port: number, name: string): UdpProbe {
  const probe = udpProbesFor(port).find((p) => p.name === name);
  if (!probe) throw new Error(`no ${name} probe for ${port}`);
  return probe;
}

const servers: (Server | HttpServer)[] = [];

/** Starts `server` on a free port of 127.0.0.1; stopped in afterAll. */
function listen(server: Server | HttpServer): Promise<number> {
  servers.push(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      if (address !== null && typeof address === 'object') resolve(address.port);
      else reject(new Error('no port'));
    });
  });
}

const sockets = new Set<Socket>();

function track(socket: Socket): void {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
  socket.on('error', () => undefined);
}

async function closeServers(): Promise<void> {
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
}

/**
 * A line-based server (FTP, SMTP): `greeting` on connect, then each line the client sends is
 * logged in `lines` and answered with `answer(line)`; an answer ending the session closes it.
 */
function lineServer(
  greeting: string,
  answer: (line: string) => { reply: string; close?: boolean },
): {
  server: Server;
  lines: string[];
} {
  const lines: string[] = [];
  const server = createServer((socket) => {
    track(socket);
    socket.write(greeting);
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      let end: number;
      while ((end = pending.indexOf('\r\n')) !== -1) {
        const line = pending.slice(0, end);
        pending = pending.slice(end + 2);
        lines.push(line);
        const { reply, close } = answer(line);
        if (close === true) socket.end(reply);
        else socket.write(reply);
      }
    });
  });
  return { server, lines };
}

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await work;
  return { value, ms: Date.now() - started };
}

afterAll(async () => {
  await closeServers();
  await stopAll();
});

// ---------------------------------------------------------------------------------------------
// Node servers: HTTP, greetings, hostile peers

describe('services spoken by Node servers on 127.0.0.1', () => {
  it('HTTP: names nginx and its version from the Server header, asking politely', async () => {
    const requests: { url: string; headers: Record<string, string | string[] | undefined> }[] = [];
    const port = await listen(
      createHttpServer((req, res) => {
        requests.push({ url: req.url ?? '', headers: req.headers });
        res.setHeader('Server', 'nginx/1.22.1');
        res.end('<html>hello</html>');
      }),
    );
    const service = await identifyTcpService(LOOPBACK, port, { timeoutMs: BUDGET_MS });
    expect(service).toEqual({ name: 'http', product: 'nginx', version: '1.22.1', banner: 'nginx/1.22.1' });
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      url: '/',
      headers: { host: `${LOOPBACK}:${port}`, 'user-agent': 'FlowTrack-scan' },
    });
  });

  it('HTTP without a Server header: the status line is the banner; a 5 MB body is cut, not read', async () => {
    const port = await listen(
      createHttpServer((_req, res) => {
        res.removeHeader('Date');
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('x'.repeat(5 * 1024 * 1024));
      }),
    );
    const service = await identifyTcpService(LOOPBACK, port, { timeoutMs: BUDGET_MS });
    expect(service).toEqual({ name: 'http', banner: 'HTTP/1.1 200 OK' });
  });

  it('an HTTP API off its usual port: the Docker Engine API by its headers, auth none', async () => {
    const port = await listen(
      createHttpServer((req, res) => {
        res.setHeader('Api-Version', '1.43');
        res.setHeader('Server', 'Docker/24.0.7 (linux)');
        res.setHeader('Content-Type', 'application/json');
        if (req.url === '/version') res.end(JSON.stringify({ Version: '24.0.7', ApiVersion: '1.43' }));
        else res.writeHead(404).end('{"message":"page not found"}');
      }),
    );
    expect(await identifyTcpService(LOOPBACK, port, { timeoutMs: BUDGET_MS })).toEqual({
      name: 'docker',
      product: 'Docker',
      version: '24.0.7',
      banner: 'Docker/24.0.7 (linux)',
      details: { auth: 'none', apiVersion: '1.43' },
    });
  });

  it('SSH: reads product and version from the identification string', async () => {
    const port = await listen(
      createServer((socket) => {
        track(socket);
        socket.write('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n');
      }),
    );
    const { value, ms } = await timed(identifyTcpService(LOOPBACK, port, { timeoutMs: BUDGET_MS }));
    expect(value).toEqual({
      name: 'ssh',
      product: 'OpenSSH',
      version: '9.2p1',
      banner: 'SSH-2.0-OpenSSH_9.2p1 Debian-2',
      details: { protocol: '2.0' },
    });
    expect(ms).toBeLessThan(1000);
  });

  it('FTP: tries the anonymous login (USER anonymous, PASS scanner@), reads AUTH TLS, and quits', async () => {
    const { server, lines } = lineServer('220 (vsFTPd 3.0.3)\r\n', (line) => {
      if (line === 'FEAT') return { reply: '211-Features:\r\n EPRT\r\n AUTH TLS\r\n PASV\r\n211 End\r\n' };
      if (line.startsWith('USER ')) return { reply: '331 Please specify the password.\r\n' };
      if (line.startsWith('PASS ')) return { reply: '230 Login successful.\r\n' };
      if (line === 'QUIT') return { reply: '221 Goodbye.\r\n', close: true };
      return { reply: '500 Unknown command.\r\n' };
    });
    const port = await listen(server);
    const service = await identifyTcpService(LOOPBACK, port, { timeoutMs: BUDGET_MS });
    expect(service).toEqual({
      name: 'ftp',
      product: 'vsftpd',
      version: '3.0.3',
      banner: '220 (vsFTPd 3.0.3)',
      details: { starttls: true, anonymous: true },
    });
    expect(lines).toEqual(['FEAT', 'USER anonymous', 'PASS scanner@', 'QUIT']);
  });

  it('FTP that refuses anonymous logins and FEAT: anonymous false, nothing said about TLS', async () => {
    const { server } = lineServer('220-Welcome\r\n220 ProFTPD 1.3.8 Server ready.\r\n', (line) => {
      if (line.startsWith('USER ')) return { reply: '331 Password required for anonymous\r\n' };
      if (line.startsWith('PASS ')) return { reply: '530 Login incorrect.\r\n' };
      if (line === 'QUIT') return { reply: '221 Goodbye.\r\n', close: true };
      return { reply: '500 FEAT not understood\r\n' };
    });
    const port = await listen(server);
    expect(await identifyTcpService(LOOPBACK, port, { timeoutMs: BUDGET_MS })).toEqual({
      name: 'ftp',
      product: 'ProFTPD',
      version: '1.3.8',
      banner: '220-Welcome',
      details: { anonymous: false },
    });
  });

  it('a 220 greeting that names nothing: EHLO is refused and USER is known, so it is FTP', async () => {
    const { server, lines } = lineServer('220 Service ready for new user.\r\n', (line) => {
      if (line.startsWith('USER ')) return { reply: '230 User logged in, proceed.\r\n' };
      if (line === 'QUIT') return { reply: '221 Bye\r\n', close: true };
      return { reply: '500 Syntax error, command unrecognized.\r\n' };
    });
    const port = await listen(server);
    expect(await identifyTcpService(LOOPBACK, port, { timeoutMs: BUDGET_MS })).toEqual({
      name: 'ftp',
      banner: '220 Service ready for new user.',
      details: { anonymous: true },
    });
    expect(lines).toEqual(['EHLO flowtrack-scan', 'USER anonymous', 'QUIT']);
  });

  it('SMTP: names Postfix and reads STARTTLS from the EHLO answer', async () => {
    const { server, lines } = lineServer('220 mail.flowtrack.test ESMTP Postfix (Debian/GNU)\r\n', (line) => {
      if (line.startsWith('EHLO ')) {
        return {
          reply:
            '250-mail.flowtrack.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n250 8BITMIME\r\n',
        };
      }
      if (line === 'QUIT') return { reply: '221 2.0.0 Bye\r\n', close: true };
      return { reply: '502 5.5.2 Error: command not recognized\r\n' };
    });
    const port = await listen(server);
    expect(await identifyTcpService(LOOPBACK, port, { timeoutMs: BUDGET_MS })).toEqual({
      name: 'smtp',
      product: 'Postfix',
      banner: '220 mail.flowtrack.test ESMTP Postfix (Debian/GNU)',
      details: { starttls: true },
    });
    expect(lines).toEqual(['EHLO flowtrack-scan', 'QUIT']);
  });

  it('VNC: completes the version exchange and sees the None security type: auth none', async () => {
    let clientVersion = '';
    const port = await listen(
      createServer((socket) => {
        track(socket);
        socket.write('RFB 003.008\n');
        socket.once('data', (chunk: Buffer) => {
          clientVersion = chunk.toString('latin1');
          socket.write(Buffer.from([1, 1]));
        });
      }),
    );
    expect(await identifyTcpService(LOOPBACK, port, { timeoutMs: BUDGET_MS })).toEqual({
      name: 'vnc',
      version: '3.8',
      banner: 'RFB 003.008',
      details: { auth: 'none' },
    });
    expect(clientVersion).toBe('RFB 003.008\n');
  });

  it('telnet: answers the option negotiation and keeps the login prompt as the banner', async () => {
    let answers = '';
    const port = await listen(
      createServer((socket) => {
        track(socket);
        // DO TERMINAL-TYPE, DO TERMINAL-SPEED, WILL ECHO, WILL SUPPRESS-GO-AHEAD.
        socket.write(Buffer.from('fffd18fffd20fffb01fffb03', 'hex'));
        socket.once('data', (chunk: Buffer) => {
          answers = chunk.toString('hex');
          socket.write('\r\nDebian GNU/Linux 12\r\nflowtrack login: ');
        });
      }),
    );
    expect(await identifyTcpService(LOOPBACK, port, { timeoutMs: BUDGET_MS })).toEqual({
      name: 'telnet',
      banner: 'Debian GNU/Linux 12 flowtrack login:',
    });
    expect(answers).toBe('fffc18fffc20fffd01fffd03');
  });

  it('a flood of bytes is cut at 16 KiB: a 200-character banner, within the budget, no throw', async () => {
    const port = await listen(
      createServer((socket) => {
        track(socket);
        socket.write(Buffer.alloc(1024 * 1024, 'A'));
      }),
    );
    const { value, ms } = await timed(identifyTcpService(LOOPBACK, port, { timeoutMs: 2000 }));
    expect(value).toEqual({ name: 'unknown', banner: 'A'.repeat(200) });
    expect(ms).toBeLessThan(2500);
  });

  it('random binary garbage never throws and never yields more than a cleaned, cut banner', async () => {
    const port = await listen(
      createServer((socket) => {
        track(socket);
        const garbage = Buffer.alloc(64 * 1024);
        for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919 + 13) & 0xff;
        socket.write(garbage);
      }),
    );
    const service = await identifyTcpService(LOOPBACK, port, { timeoutMs: 2000 });
    if (service?.banner !== undefined) {
      expect(service.banner.length).toBeLessThanOrEqual(200);
      expect(service.banner).toMatch(/^[\x20-\x7e]*$/);
    }
  });

  it('a server that resets every connection, one that stays silent, and a closed port: null in time', async () => {
    const reset = await listen(
      createServer((socket) => {
        socket.on('error', () => undefined);
        socket.resetAndDestroy();
      }),
    );
    const silent = await listen(
      createServer((socket) => {
        track(socket);
      }),
    );
    const closed = await freeTcpPort();
    const r = await timed(identifyTcpService(LOOPBACK, reset, { timeoutMs: 2000 }));
    expect(r.value).toBeNull();
    expect(r.ms).toBeLessThan(2500);
    const s = await timed(identifyTcpService(LOOPBACK, silent, { timeoutMs: 2000 }));
    expect(s.value).toBeNull();
    expect(s.ms).toBeLessThan(2500);
    const c = await timed(identifyTcpService(LOOPBACK, closed, { timeoutMs: 2000 }));
    expect(c.value).toBeNull();
    expect(c.ms).toBeLessThan(500);
  });

  it('an abort ends the probing at once and resolves with what was learned (nothing)', async () => {
    const silent = await listen(
      createServer((socket) => {
        track(socket);
      }),
    );
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const { value, ms } = await timed(identifyTcpService(LOOPBACK, silent, { signal: controller.signal }));
    expect(value).toBeNull();
    expect(ms).toBeLessThan(700);
  });
});

// ---------------------------------------------------------------------------------------------
// TLS with a self-signed certificate made by openssl

describeWithTools(['openssl'], 'TLS and HTTPS with a self-signed certificate', () => {
  let dir = '';
  let key: Buffer;
  let cert: Buffer;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'flowtrack-tls-'));
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=flowtrack.test', '-days', '1'].concat([
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ]),
      { stdio: 'ignore' },
    );
    key = readFileSync(join(dir, 'key.pem'));
    cert = readFileSync(join(dir, 'cert.pem'));
  });
  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('HTTPS: the Server header, the TLS version and the certificate, self-signed; SNI from hostName', async () => {
    const serverNames: (string | false | null)[] = [];
    const server = createHttpsServer({ key, cert }, (req, res) => {
      serverNames.push(req.socket instanceof TLSSocket ? req.socket.servername : null);
      res.setHeader('Server', 'Apache/2.4.57 (Debian)');
      res.end('ok');
    });
    const port = await listen(server);
    const service = await identifyTcpService(LOOPBACK, port, {
      timeoutMs: BUDGET_MS,
      hostName: 'flowtrack.test',
    });
    expect(service).toEqual({
      name: 'https',
      product: 'Apache',
      version: '2.4.57',
      banner: 'Apache/2.4.57 (Debian)',
      tls: true,
      details: {
        tlsVersion: 'TLSv1.3',
        certSubject: 'flowtrack.test',
        certIssuer: 'flowtrack.test',
        selfSigned: true,
      },
    });
    expect(serverNames).toEqual(['flowtrack.test']);
  });

  it('TLS with nothing we know behind it: tls and the certificate facts; no SNI for an address', async () => {
    const serverNames: (string | false | null)[] = [];
    const server = createTlsServer({ key, cert }, (socket) => {
      track(socket);
      serverNames.push(socket.servername);
    });
    const port = await listen(server);
    const service = await identifyTcpService(LOOPBACK, port, { timeoutMs: BUDGET_MS });
    expect(service).toEqual({
      name: 'tls',
      tls: true,
      details: {
        tlsVersion: 'TLSv1.3',
        certSubject: 'flowtrack.test',
        certIssuer: 'flowtrack.test',
        selfSigned: true,
      },
    });
    expect(serverNames).toEqual([false]);
  });
});

// ---------------------------------------------------------------------------------------------
// Redis

describeWithTools(['redis-server'], 'Redis started here (redis-server)', () => {
  let open = 0;
  let locked = 0;
  let dir = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flowtrack-redis-'));
    open = await freeTcpPort();
    locked = await freeTcpPort();
    const common = [
      '--bind',
      LOOPBACK,
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      '--dir',
      dir,
    ];
    const a = start('redis-server', ['--port', String(open), ...common]);
    const b = start('redis-server', [
      '--port',
      String(locked),
      '--requirepass',
      'flowtrack-secret',
      ...common,
    ]);
    await waitForTcp(open, a);
    await waitForTcp(locked, b);
  });
  afterAll(async () => {
    await stopAll();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('without a password: redis, its version, auth none (found off its usual port)', async () => {
    const service = await identifyTcpService(LOOPBACK, open, { timeoutMs: BUDGET_MS });
    expect(service).toMatchObject({
      name: 'redis',
      product: 'Redis',
      banner: '+PONG',
      details: { auth: 'none' },
    });
    expect(service?.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('with requirepass: redis, auth required', async () => {
    expect(await identifyTcpService(LOOPBACK, locked, { timeoutMs: BUDGET_MS })).toEqual({
      name: 'redis',
      product: 'Redis',
      banner: '-NOAUTH Authentication required.',
      details: { auth: 'required' },
    });
  });
});

// ---------------------------------------------------------------------------------------------
// memcached, TCP and UDP

describeWithTools(['memcached'], 'memcached started here, TCP and UDP', () => {
  let port = 0;

  beforeAll(async () => {
    port = await freeTcpAndUdpPort();
    // memcached refuses to run as root unless told which user to be.
    const child = start('memcached', [
      '-l',
      LOOPBACK,
      '-p',
      String(port),
      '-U',
      String(port),
      ...(AS_ROOT ? ['-u', 'root'] : []),
    ]);
    await waitForTcp(port, child);
  });
  afterAll(stopAll);

  it('TCP: memcached, its version, auth none', async () => {
    const service = await identifyTcpService(LOOPBACK, port, { timeoutMs: BUDGET_MS });
    expect(service).toMatchObject({ name: 'memcached', product: 'memcached', details: { auth: 'none' } });
    expect(service?.version).toMatch(/^1\.\d+\.\d+$/);
  });

  it('UDP: the stats probe gets STAT lines: memcached over UDP, its version', async () => {
    const service = await askUdp(port, probeNamed(11211, 'memcached-stats'));
    expect(service).toMatchObject({ name: 'memcached', details: { udp: true, auth: 'none' } });
    expect(service?.version).toMatch(/^1\.\d+\.\d+$/);
  });
});

// ---------------------------------------------------------------------------------------------
// dnsmasq

/** A daemon from /usr/sbin, which is not on every user's PATH: its path, or null when absent. */
function sbinTool(name: string): string | null {
  if (hasTool(name)) return name;
  try {
    accessSync(`/usr/sbin/${name}`, constants.X_OK);
    return `/usr/sbin/${name}`;
  } catch {
    return null;
  }
}

const DNSMASQ = sbinTool('dnsmasq');
const SNMPD = sbinTool('snmpd');

describeUnlessMissing(
  DNSMASQ === null ? 'dnsmasq' : null,
  'install dnsmasq-base (scripts/setup.sh --test)',
  'dnsmasq started here',
  () => {
    let port = 0;
    let dir = '';

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'flowtrack-dnsmasq-'));
      port = await freeUdpPort();
      const child = start(DNSMASQ ?? 'dnsmasq', [
        '--no-daemon',
        '--conf-file=/dev/null',
        `--port=${port}`,
        `--listen-address=${LOOPBACK}`,
        '--bind-interfaces',
        '--no-resolv',
        '--no-hosts',
        `--pid-file=${join(dir, 'dnsmasq.pid')}`,
        `--user=${userInfo().username}`,
        '--address=/flowtrack.test/127.0.0.1',
      ]);
      await waitForTcp(port, child);
    });
    afterAll(async () => {
      await stopAll();
      if (dir !== '') rmSync(dir, { recursive: true, force: true });
    });

    it('version.bind: dns, product dnsmasq and its version', async () => {
      const service = await askUdp(port, probeNamed(53, 'dns-version-bind'));
      expect(service).toMatchObject({ name: 'dns', product: 'dnsmasq' });
      expect(service?.version).toMatch(/^\d+\.\d+/);
      expect(service?.banner).toBe(`dnsmasq-${service?.version ?? ''}`);
    });

    it('the root NS question without recursion is answered too: dns', async () => {
      expect(await askUdp(port, probeNamed(53, 'dns-root-ns'))).toMatchObject({ name: 'dns' });
    });

    it('an answer to another query id is not taken for ours', async () => {
      const mine = probeNamed(53, 'dns-version-bind');
      const other = probeNamed(53, 'dns-version-bind');
      const reply = await udpExchange(port, other.payload);
      expect(reply).not.toBeNull();
      expect(mine.recognize(reply!)).toBeNull();
    });
  },
);

// ---------------------------------------------------------------------------------------------
// snmpd

describeUnlessMissing(
  SNMPD === null ? 'snmpd' : null,
  'install snmpd (scripts/setup.sh --test)',
  'snmpd started here',
  () => {
    let publicPort = 0;
    let privatePort = 0;
    let dir = '';

    function startSnmpd(port: number, community: string): void {
      const conf = join(dir, `snmpd-${port}.conf`);
      writeFileSync(conf, `rocommunity ${community} 127.0.0.1\nsysDescr FlowTrack test agent\n`);
      // -C: no configuration but ours; -f: stay in the foreground; -Lo: log to standard output.
      // SNMP_PERSISTENT_DIR keeps its state files out of /var/lib/snmp; MIBS='' spares loading MIBs.
      start(SNMPD ?? 'snmpd', ['-f', '-Lo', '-C', '-c', conf, `udp:${LOOPBACK}:${port}`], {
        ...process.env,
        SNMP_PERSISTENT_DIR: dir,
        MIBS: '',
      });
    }

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'flowtrack-snmpd-'));
      publicPort = await freeUdpPort();
      privatePort = await freeUdpPort();
      startSnmpd(publicPort, 'public');
      startSnmpd(privatePort, 'flowtrack-secret');
      // Up when it answers its own community.
      for (const [port, community] of [
        [publicPort, 'public'],
        [privatePort, 'flowtrack-secret'],
      ] as const) {
        if (!(await udpExchange(port, snmpGetRequest(community, 1), 10, 500))) {
          throw new Error(`snmpd on ${port} did not answer: ${children.map((c) => c.output()).join('\n')}`);
        }
      }
    });
    afterAll(async () => {
      await stopAll();
      if (dir !== '') rmSync(dir, { recursive: true, force: true });
    });

    it('an agent with the public community: snmp, community public, sysDescr as the banner', async () => {
      expect(await askUdp(publicPort, probeNamed(161, 'snmp-v2c-public'))).toEqual({
        name: 'snmp',
        banner: 'FlowTrack test agent',
        details: { community: 'public', snmpVersion: '2c' },
      });
    });

    it('an agent with another community stays silent: no public-community finding', async () => {
      expect(await udpExchange(privatePort, probeNamed(161, 'snmp-v2c-public').payload, 2, 750)).toBeNull();
    });
  },
);

// ---------------------------------------------------------------------------------------------
// The machine's PostgreSQL and MariaDB

function tcpReachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, LOOPBACK, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => {
      resolve(false);
    });
    socket.setTimeout(3000, () => {
      socket.destroy();
      resolve(false);
    });
  });
}

const postgresUp = await tcpReachable(5432);
const mariadbUp = await tcpReachable(3306);

describeUnlessMissing(
  postgresUp ? null : 'a PostgreSQL server at 127.0.0.1:5432',
  'install postgresql (scripts/setup.sh --test)',
  'PostgreSQL at 127.0.0.1:5432',
  () => {
    it('postgresql, and whether it offers TLS as the server itself says', async () => {
      const service = await identifyTcpService(LOOPBACK, 5432, { timeoutMs: BUDGET_MS });
      expect(service).toMatchObject({ name: 'postgresql', product: 'PostgreSQL' });
      expect(typeof service?.details?.ssl).toBe('boolean');
      const url = new URL(PG_TEST_URL);
      if (url.hostname === LOOPBACK && (url.port === '' || url.port === '5432')) {
        const client = new pg.Client({ connectionString: PG_TEST_URL });
        client.on('error', () => undefined);
        await client.connect();
        try {
          const { rows } = await client.query<{ ssl: string }>('show ssl');
          expect(service?.details?.ssl).toBe(rows[0]?.ssl === 'on');
        } finally {
          await client.end();
        }
      }
    });
  },
);

describeUnlessMissing(
  mariadbUp ? null : 'a MariaDB or MySQL server at 127.0.0.1:3306',
  'install mariadb-server (scripts/setup.sh --test)',
  'MariaDB at 127.0.0.1:3306',
  () => {
    it('mysql, the product and its version from the handshake', async () => {
      const { value, ms } = await timed(identifyTcpService(LOOPBACK, 3306, { timeoutMs: BUDGET_MS }));
      expect(value?.name).toBe('mysql');
      expect(['MariaDB', 'MySQL']).toContain(value?.product);
      expect(value?.version).toMatch(/^\d+\.\d+\.\d+$/);
      expect(value?.banner).toContain(value?.version ?? '?');
      expect(ms).toBeLessThan(1500);
    });
  },
);
