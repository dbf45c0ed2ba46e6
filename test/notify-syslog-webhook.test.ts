/**
 * The syslog and webhook channels against real receivers started here on 127.0.0.1: a UDP socket
 * and a TCP server that parse what arrives as RFC 5424 (with RFC 6587 octet counting on TCP), a
 * TLS server with an openssl-made certificate, util-linux `logger` as a reference sender, and an
 * HTTP server that checks the JSON, Slack and Teams bodies and answers with the statuses a real
 * webhook sends. Errors must say whether a retry can help and never show a webhook's token.
 */

import { execFileSync } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingHttpHeaders,
  type Server as HttpServer,
} from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../src/alerts/alert.js';
import { NotifyError, type Notification } from '../src/alerts/notify/notifier.js';
import { formatSyslog5424, SyslogNotifier } from '../src/alerts/notify/syslog-notifier.js';
import { WebhookNotifier } from '../src/alerts/notify/webhook-notifier.js';
import { describeWithTools } from './helpers/system-tools.js';

// ---- Fixtures ----

const AT = Date.UTC(2024, 0, 2, 3, 4, 5, 678);

function alert(overrides: Partial<Alert> = {}): Alert {
  return {
    id: 'syn_flood:198.51.100.7:10.0.0.1:3',
    type: 'syn_flood',
    severity: 'critical',
    src: '198.51.100.7',
    dst: '10.0.0.1',
    start: 1_704_164_600_000_000,
    end: 1_704_164_645_000_000,
    counters: { synPerSecond: 12000, halfOpen: 5000 },
    summary: 'SYN flood on 10.0.0.1:443',
    evidence: { thresholds: [], sampleFlows: [], topSources: [] },
    updates: 4,
    ...overrides,
  };
}

function notification(overrides: Partial<Notification> = {}): Notification {
  return {
    id: 'ntf-0001',
    kind: 'alert',
    title: 'SYN flood on 10.0.0.1 <critical> & rising',
    text: '12000 SYN/s from 198.51.100.7\nHalf-open: 5000',
    at: AT,
    host: 'sensor-1',
    link: 'https://flowtrack.example/alerts/syn_flood:198.51.100.7:10.0.0.1:3',
    alert: { ...alert(), status: 'active' },
    ...overrides,
  };
}

/** The error `promise` rejects with, which must be a NotifyError. */
async function notifyError(promise: Promise<unknown>): Promise<NotifyError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(NotifyError);
    return err as NotifyError;
  }
  throw new Error('expected a NotifyError, but it resolved');
}

// ---- A strict RFC 5424 parser (header, STRUCTURED-DATA, MSG) ----

interface Syslog5424 {
  facility: number;
  severity: number;
  timestamp: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  /** SD-ID → PARAM-NAME → unescaped PARAM-VALUE. */
  sd: Record<string, Record<string, string>>;
  msg: string;
  bom: boolean;
}

const PRINT = '[\\x21-\\x7e]';
const TIMESTAMP = /^(-|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2}))$/;
const HEADER = new RegExp(
  `^<(\\d{1,3})>1 (\\S+) (${PRINT}{1,255}) (${PRINT}{1,48}) (${PRINT}{1,128}) (${PRINT}{1,32}) `,
);
const SD_NAME = '[\\x21\\x23-\\x3c\\x3e-\\x5c\\x5e-\\x7e]{1,32}'; // printable but not = ] " and SP
const SD_ELEMENT = new RegExp(`^\\[(${SD_NAME})((?: ${SD_NAME}="(?:[^"\\\\\\]]|\\\\.)*")*)\\]`);
const SD_PARAM = new RegExp(`(${SD_NAME})="((?:[^"\\\\\\]]|\\\\.)*)"`, 'g');

/** Parses one SYSLOG-MSG, throwing on anything RFC 5424 does not allow. */
function parse5424(line: string): Syslog5424 {
  const head = HEADER.exec(line);
  if (!head) throw new Error(`not an RFC 5424 header: ${line}`);
  const [, pri, timestamp, hostname, appName, procId, msgId] = head as unknown as string[];
  const priority = Number(pri);
  if (priority > 191 || (pri !== '0' && pri?.startsWith('0'))) throw new Error(`bad PRI ${pri ?? ''}`);
  if (!TIMESTAMP.test(timestamp ?? '')) throw new Error(`bad TIMESTAMP ${timestamp ?? ''}`);
  let rest = line.slice(head[0].length);
  const sd: Record<string, Record<string, string>> = {};
  if (rest.startsWith('-')) {
    rest = rest.slice(1);
  } else {
    for (let element = SD_ELEMENT.exec(rest); element; element = SD_ELEMENT.exec(rest)) {
      const params: Record<string, string> = {};
      for (const [, name, value] of (element[2] ?? '').matchAll(SD_PARAM)) {
        // §6.3.3: only \" \\ \] are escapes; a backslash before anything else is itself.
        params[name ?? ''] = (value ?? '').replace(/\\(["\\\]])/g, '$1');
      }
      sd[element[1] ?? ''] = params;
      rest = rest.slice(element[0].length);
    }
    if (Object.keys(sd).length === 0) throw new Error(`bad STRUCTURED-DATA: ${rest}`);
  }
  if (rest !== '' && !rest.startsWith(' ')) throw new Error(`no SP before MSG: ${rest}`);
  const msgRaw = rest.slice(1);
  const bom = msgRaw.startsWith('\uFEFF');
  return {
    facility: priority >> 3,
    severity: priority & 7,
    timestamp: timestamp ?? '',
    hostname: hostname ?? '',
    appName: appName ?? '',
    procId: procId ?? '',
    msgId: msgId ?? '',
    sd,
    msg: bom ? msgRaw.slice(1) : msgRaw,
    bom,
  };
}

/** RFC 6587 octet-counting frames (`MSG-LEN SP SYSLOG-MSG`) from a byte stream, strictly. */
class OctetCountingReader {
  #buffer = Buffer.alloc(0);
  readonly messages: string[] = [];

  push(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const space = this.#buffer.indexOf(0x20);
      if (space === -1) return;
      const len = this.#buffer.subarray(0, space).toString('ascii');
      if (!/^[1-9]\d*$/.test(len)) throw new Error(`bad MSG-LEN ${JSON.stringify(len)}`);
      const end = space + 1 + Number(len);
      if (this.#buffer.length < end) return;
      this.messages.push(this.#buffer.subarray(space + 1, end).toString('utf8'));
      this.#buffer = this.#buffer.subarray(end);
    }
  }
}

async function listenTcp(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** Resolves when `check` is true, polling; fails the test after 5 s. */
async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// ---- Syslog over UDP ----

describe('syslog over UDP (a real dgram receiver)', () => {
  let receiver: UdpSocket;
  let port: number;
  const datagrams: Buffer[] = [];

  beforeAll(async () => {
    receiver = createSocket('udp4');
    receiver.on('message', (msg) => datagrams.push(msg));
    receiver.bind(0, '127.0.0.1');
    await once(receiver, 'listening');
    port = receiver.address().port;
  });
  afterAll(() => {
    receiver.close();
  });
  afterEach(() => {
    datagrams.length = 0;
  });

  it('delivers one datagram that parses as RFC 5424 with the alert in its SD', async () => {
    const notifier = new SyslogNotifier({ host: '127.0.0.1', port, transport: 'udp', facility: 'local3' });
    await notifier.send(notification());
    await until(() => datagrams.length === 1, 'the datagram');
    await notifier.close();
    const parsed = parse5424(datagrams[0]?.toString('utf8') ?? '');
    expect(parsed).toEqual({
      facility: 19,
      severity: 2,
      timestamp: '2024-01-02T03:04:05.678Z',
      hostname: 'sensor-1',
      appName: 'flowtrack',
      procId: String(process.pid),
      msgId: 'alert',
      sd: {
        'flowtrack@32473': {
          id: 'ntf-0001',
          type: 'syn_flood',
          severity: 'critical',
          src: '198.51.100.7',
          dst: '10.0.0.1',
          alertId: 'syn_flood:198.51.100.7:10.0.0.1:3',
        },
      },
      msg: 'SYN flood on 10.0.0.1 <critical> & rising: 12000 SYN/s from 198.51.100.7 | Half-open: 5000',
      bom: false,
    });
  });

  it('shortens a long notification into one datagram of at most 2048 octets, escapes intact', async () => {
    const notifier = new SyslogNotifier({ host: '127.0.0.1', port, transport: 'udp' });
    const n = notification({ text: 'ü'.repeat(5000), alert: { ...alert(), src: 'odd"src]\\' } });
    await notifier.send(n);
    await until(() => datagrams.length === 1, 'the datagram');
    await notifier.close();
    const datagram = datagrams[0] ?? Buffer.alloc(0);
    expect(datagram.length).toBeLessThanOrEqual(2048);
    expect(datagram.length).toBeGreaterThan(2000);
    const parsed = parse5424(datagram.toString('utf8'));
    expect(parsed.sd['flowtrack@32473']?.src).toBe('odd"src]\\');
    expect(parsed.bom).toBe(true);
    expect(parsed.msg).toMatch(/^SYN flood on 10\.0\.0\.1 <critical> & rising: ü+\.\.\.$/);
  });

  it('sends CEF in the MSG when asked', async () => {
    const notifier = new SyslogNotifier({
      host: '127.0.0.1',
      port,
      transport: 'udp',
      msgFormat: 'cef',
      productVersion: '0.1.0',
    });
    await notifier.send(notification());
    await until(() => datagrams.length === 1, 'the datagram');
    await notifier.close();
    const { msg } = parse5424(datagrams[0]?.toString('utf8') ?? '');
    expect(msg).toMatch(
      /^CEF:0\|FlowTrack\|FlowTrack\|0\.1\.0\|syn_flood\|SYN flood on 10\.0\.0\.1 <critical> & rising\|10\|rt=/,
    );
    expect(msg).toContain(
      ' src=198.51.100.7 dst=10.0.0.1 cs1Label=alertId cs1=syn_flood:198.51.100.7:10.0.0.1:3 ',
    );
    expect(msg.endsWith('msg=12000 SYN/s from 198.51.100.7\\nHalf-open: 5000')).toBe(true);
  });

  it('refuses to send after close', async () => {
    const notifier = new SyslogNotifier({ host: '127.0.0.1', port, transport: 'udp' });
    await notifier.close();
    const err = await notifyError(notifier.send(notification()));
    expect(err.retryable).toBe(false);
  });

  describeWithTools(['logger'], 'util-linux logger as the reference sender', () => {
    it('has the shape of the line util-linux logger --rfc5424 sends (reference sender)', async () => {
      execFileSync('logger', [
        '--rfc5424',
        '--udp',
        '--server',
        '127.0.0.1',
        '--port',
        String(port),
        '--priority',
        'local0.crit',
        '--tag',
        'flowtrack',
        '--msgid',
        'alert',
        '--sd-id',
        'flowtrack@32473',
        '--sd-param',
        'id="ntf-0001"',
        '--sd-param',
        'src="odd\\"src\\]"',
        'SYN flood on 10.0.0.1',
      ]);
      await until(() => datagrams.length === 1, "logger's datagram");
      const reference = parse5424(datagrams[0]?.toString('utf8') ?? '');
      const notifier = new SyslogNotifier({ host: '127.0.0.1', port, transport: 'udp' });
      await notifier.send(notification({ alert: { ...alert(), src: 'odd"src]' } }));
      await until(() => datagrams.length === 2, 'our datagram');
      await notifier.close();
      const ours = parse5424(datagrams[1]?.toString('utf8') ?? '');
      // Same PRI, APP-NAME, MSGID and SD-ID, and the escaped value reads back the same.
      expect([ours.facility, ours.severity, ours.appName, ours.msgId]).toEqual([
        reference.facility,
        reference.severity,
        reference.appName,
        reference.msgId,
      ]);
      expect(reference.sd['flowtrack@32473']).toEqual({ id: 'ntf-0001', src: 'odd"src]' });
      expect(ours.sd['flowtrack@32473']).toMatchObject({ id: 'ntf-0001', src: 'odd"src]' });
      expect(reference.msg).toBe('SYN flood on 10.0.0.1');
    });
  });
});

// ---- Syslog over TCP ----

describe('syslog over TCP (a real net server, RFC 6587 octet counting)', () => {
  let server: Server;
  let port: number;
  let connections: { socket: Socket; reader: OctetCountingReader }[] = [];

  beforeAll(async () => {
    server = createTcpServer((socket) => {
      const reader = new OctetCountingReader();
      socket.on('data', (chunk) => reader.push(chunk));
      socket.on('error', () => undefined);
      connections.push({ socket, reader });
    });
    port = await listenTcp(server);
  });
  afterAll(() => {
    server.close();
  });
  afterEach(() => {
    for (const c of connections) c.socket.destroy();
    connections = [];
  });

  it('sends two messages over one connection, each read back exactly', async () => {
    const notifier = new SyslogNotifier({ host: '127.0.0.1', port, transport: 'tcp' });
    const first = notification();
    const second = notification({ id: 'ntf-0002', text: 'Zürich: "quoted" ] \\ and\nmore' });
    await notifier.send(first);
    await notifier.send(second);
    await until(() => connections[0]?.reader.messages.length === 2, 'two frames');
    expect(connections).toHaveLength(1);
    const expected = [first, second].map((n) => formatSyslog5424(n, { maxBytes: 8192 }));
    expect(connections[0]?.reader.messages).toEqual(expected);
    expect(parse5424(expected[1] ?? '').msg).toBe(
      'SYN flood on 10.0.0.1 <critical> & rising: Zürich: "quoted" ] \\ and | more',
    );
    await notifier.close();
  });

  it('opens a new connection after the collector closed the old one', async () => {
    const notifier = new SyslogNotifier({ host: '127.0.0.1', port, transport: 'tcp' });
    await notifier.send(notification());
    await until(() => connections[0]?.reader.messages.length === 1, 'the first frame');
    const old = connections[0]?.socket;
    old?.end();
    // The server side closes once the notifier has seen the FIN and closed its side too.
    if (old && !old.closed) await once(old, 'close');
    await notifier.send(notification({ id: 'ntf-0002' }));
    await until(() => connections[1]?.reader.messages.length === 1, 'the frame on the new connection');
    expect(parse5424(connections[1]?.reader.messages[0] ?? '').sd['flowtrack@32473']?.id).toBe('ntf-0002');
    await notifier.close();
  });

  it('gives a retryable error when nothing listens, and sends once the collector is back', async () => {
    const spare = createTcpServer();
    const sparePort = await listenTcp(spare);
    spare.close();
    await once(spare, 'close');
    const notifier = new SyslogNotifier({ host: '127.0.0.1', port: sparePort, transport: 'tcp' });
    const err = await notifyError(notifier.send(notification()));
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/tcp:\/\/127\.0\.0\.1:\d+: connect failed: .*ECONNREFUSED/);

    const back = createTcpServer((socket) => {
      const reader = new OctetCountingReader();
      socket.on('data', (chunk) => reader.push(chunk));
      connections.push({ socket, reader });
    });
    back.listen(sparePort, '127.0.0.1');
    await once(back, 'listening');
    await notifier.send(notification());
    await until(() => connections[0]?.reader.messages.length === 1, 'the frame');
    await notifier.close();
    back.close();
  });

  it('times out a connection whose TLS handshake never answers (retryable)', async () => {
    // A plain TCP server that accepts and says nothing: the TLS client waits for a ServerHello.
    const silent = createTcpServer((socket) => {
      socket.on('error', () => undefined);
      connections.push({ socket, reader: new OctetCountingReader() });
    });
    const silentPort = await listenTcp(silent);
    const notifier = new SyslogNotifier({
      host: '127.0.0.1',
      port: silentPort,
      transport: 'tls',
      connectTimeoutMs: 200,
    });
    const err = await notifyError(notifier.send(notification()));
    expect(err.retryable).toBe(true);
    expect(err.message).toBe(`syslog tls://127.0.0.1:${silentPort}: connect timed out after 200 ms`);
    await notifier.close();
    silent.close();
  });
});

describeWithTools(['openssl'], 'syslog over TLS (RFC 5425, an openssl-made certificate)', () => {
  let dir: string;
  let server: Server;
  let port: number;
  let cert: Buffer;
  const reader = new OctetCountingReader();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flowtrack-syslog-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        'key.pem',
        '-out',
        'cert.pem',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { cwd: dir, stdio: 'pipe' },
    );
    cert = readFileSync(join(dir, 'cert.pem'));
    server = createTlsServer({ cert, key: readFileSync(join(dir, 'key.pem')) }, (socket) => {
      socket.on('data', (chunk: Buffer) => reader.push(chunk));
    });
    port = await listenTcp(server);
  });
  afterAll(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers over TLS to a collector whose certificate it trusts', async () => {
    const notifier = new SyslogNotifier({ host: '127.0.0.1', port, transport: 'tls', tls: { ca: cert } });
    await notifier.send(notification());
    await until(() => reader.messages.length === 1, 'the frame');
    expect(parse5424(reader.messages[0] ?? '').msgId).toBe('alert');
    await notifier.close();
  });

  it('refuses a collector whose certificate it does not trust (retryable: the admin may fix it)', async () => {
    const notifier = new SyslogNotifier({ host: '127.0.0.1', port, transport: 'tls' });
    const err = await notifyError(notifier.send(notification()));
    expect(err.message).toMatch(/connect failed: .*(self-signed|SELF_SIGNED)/i);
    await notifier.close();
  });
});

// ---- Webhooks ----

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

describe('webhooks (a real node:http receiver)', () => {
  let server: HttpServer;
  let base: string;
  const received: Received[] = [];
  /** What the receiver answers next: a status (with a body), or 'hang' (never answers). */
  const answers: ({ status: number; body?: string; headers?: Record<string, string> } | 'hang')[] = [];

  beforeAll(async () => {
    server = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        const answer = answers.shift() ?? { status: 200, body: 'ok' };
        if (answer === 'hang') return;
        res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
        res.end(answer.body ?? '');
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });
  afterEach(() => {
    received.length = 0;
    answers.length = 0;
  });

  it('POSTs the JSON body with the idempotency header and the extra headers', async () => {
    const notifier = new WebhookNotifier({
      url: `${base}/hook`,
      headers: { Authorization: 'Bearer s3cr3t-t0ken' },
      productVersion: '0.1.0',
    });
    await notifier.send(notification());
    const [request] = received;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe('/hook');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['user-agent']).toBe('FlowTrack/0.1.0');
    expect(request?.headers['x-flowtrack-notification']).toBe('ntf-0001');
    expect(request?.headers.authorization).toBe('Bearer s3cr3t-t0ken');
    expect(JSON.parse(request?.body ?? '')).toEqual({
      version: 1,
      id: 'ntf-0001',
      kind: 'alert',
      title: 'SYN flood on 10.0.0.1 <critical> & rising',
      text: '12000 SYN/s from 198.51.100.7\nHalf-open: 5000',
      at: '2024-01-02T03:04:05.678Z',
      host: 'sensor-1',
      link: 'https://flowtrack.example/alerts/syn_flood:198.51.100.7:10.0.0.1:3',
      alert: {
        id: 'syn_flood:198.51.100.7:10.0.0.1:3',
        type: 'syn_flood',
        severity: 'critical',
        status: 'active',
        src: '198.51.100.7',
        dst: '10.0.0.1',
        start: '2024-01-02T03:03:20.000Z',
        end: '2024-01-02T03:04:05.000Z',
        summary: 'SYN flood on 10.0.0.1:443',
        counters: { synPerSecond: 12000, halfOpen: 5000 },
      },
    });
  });

  it('POSTs a digest with its counts and examples', async () => {
    const notifier = new WebhookNotifier({ url: `${base}/hook` });
    await notifier.send(
      notification({
        id: 'ntf-d1',
        kind: 'digest',
        title: '37 more alerts',
        text: 'port_scan: 37',
        link: undefined,
        alert: undefined,
        digest: {
          count: 37,
          fromMs: AT - 600_000,
          toMs: AT,
          byType: { port_scan: 37 },
          bySeverity: { medium: 37 },
          examples: [alert({ type: 'port_scan', severity: 'medium' })],
        },
      }),
    );
    const body = JSON.parse(received[0]?.body ?? '') as Record<string, unknown>;
    expect(body).not.toHaveProperty('alert');
    expect(body).not.toHaveProperty('link');
    expect(body.digest).toEqual({
      count: 37,
      from: '2024-01-02T02:54:05.678Z',
      to: '2024-01-02T03:04:05.678Z',
      byType: { port_scan: 37 },
      bySeverity: { medium: 37 },
      examples: [
        {
          id: 'syn_flood:198.51.100.7:10.0.0.1:3',
          type: 'port_scan',
          severity: 'medium',
          src: '198.51.100.7',
          dst: '10.0.0.1',
          start: '2024-01-02T03:03:20.000Z',
          end: '2024-01-02T03:04:05.000Z',
          summary: 'SYN flood on 10.0.0.1:443',
        },
      ],
    });
  });

  it('POSTs a Slack incoming-webhook message with &, < and > escaped', async () => {
    const notifier = new WebhookNotifier({ url: `${base}/services/T000/B000/XXXX`, format: 'slack' });
    await notifier.send(notification());
    const body = JSON.parse(received[0]?.body ?? '') as {
      text: string;
      blocks: {
        type: string;
        text?: { type: string; text: string };
        fields?: { type: string; text: string }[];
      }[];
    };
    expect(body.text).toBe('SYN flood on 10.0.0.1 &lt;critical&gt; &amp; rising');
    expect(body.blocks.every((b) => b.type === 'section')).toBe(true);
    expect(body.blocks[0]?.text).toEqual({
      type: 'mrkdwn',
      text: '*SYN flood on 10.0.0.1 &lt;critical&gt; &amp; rising*\n12000 SYN/s from 198.51.100.7\nHalf-open: 5000',
    });
    expect(body.blocks[1]?.fields).toContainEqual({ type: 'mrkdwn', text: '*Severity*\ncritical' });
    expect(body.blocks[1]?.fields?.length).toBeLessThanOrEqual(10);
    expect(body.blocks[2]?.text?.text).toBe(
      '<https://flowtrack.example/alerts/syn_flood:198.51.100.7:10.0.0.1:3|Open in FlowTrack>',
    );
  });

  it('POSTs a Teams Adaptive Card message', async () => {
    const notifier = new WebhookNotifier({ url: `${base}/workflows/abc`, format: 'teams' });
    await notifier.send(notification());
    const body = JSON.parse(received[0]?.body ?? '') as {
      type: string;
      attachments: {
        contentType: string;
        content: {
          type: string;
          version: string;
          body: { type: string; text?: string; facts?: { title: string; value: string }[] }[];
          actions?: { type: string; url: string }[];
        };
      }[];
    };
    expect(body.type).toBe('message');
    expect(body.attachments).toHaveLength(1);
    const card = body.attachments[0];
    expect(card?.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(card?.content.type).toBe('AdaptiveCard');
    expect(card?.content.version).toBe('1.4');
    expect(card?.content.body.map((b) => b.type)).toEqual(['TextBlock', 'TextBlock', 'FactSet']);
    expect(card?.content.body[0]?.text).toBe('SYN flood on 10.0.0.1 <critical> & rising');
    expect(card?.content.body[2]?.facts).toContainEqual({ title: 'Source', value: '198.51.100.7' });
    expect(card?.content.actions).toEqual([
      {
        type: 'Action.OpenUrl',
        title: 'Open in FlowTrack',
        url: 'https://flowtrack.example/alerts/syn_flood:198.51.100.7:10.0.0.1:3',
      },
    ]);
  });

  it('maps statuses: 500 and 503 and 429 and 408 retryable, 400 and 404 not', async () => {
    const notifier = new WebhookNotifier({ url: `${base}/hook` });
    const outcome = async (status: number): Promise<[number, boolean]> => {
      answers.push({ status, body: `status ${status}` });
      const err = await notifyError(notifier.send(notification()));
      expect(err.message).toContain(`HTTP ${status}: "status ${status}"`);
      return [status, err.retryable];
    };
    const outcomes: [number, boolean][] = [];
    for (const status of [500, 503, 429, 408, 400, 404, 410]) outcomes.push(await outcome(status));
    expect(outcomes).toEqual([
      [500, true],
      [503, true],
      [429, true],
      [408, true],
      [400, false],
      [404, false],
      [410, false],
    ]);
  });

  it('does not follow a redirect (the body and Authorization would go elsewhere)', async () => {
    answers.push({ status: 301, headers: { location: `${base}/elsewhere` } });
    const notifier = new WebhookNotifier({ url: `${base}/hook` });
    const err = await notifyError(notifier.send(notification()));
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/HTTP 301 \(redirects are not followed/);
    expect(received.map((r) => r.url)).toEqual(['/hook']);
  });

  it('times out a receiver that never answers (retryable)', async () => {
    answers.push('hang');
    const notifier = new WebhookNotifier({ url: `${base}/hook`, timeoutMs: 200 });
    const started = Date.now();
    const err = await notifyError(notifier.send(notification()));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(err.retryable).toBe(true);
    expect(err.message).toBe(`webhook POST ${base}: no answer within 200 ms`);
  });

  it("stops when the caller's signal aborts (retryable)", async () => {
    answers.push('hang');
    const notifier = new WebhookNotifier({ url: `${base}/hook` });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const err = await notifyError(notifier.send(notification(), controller.signal));
    expect(err.retryable).toBe(true);
    expect(err.message).toBe(`webhook POST ${base}: aborted`);
  });

  it('never shows the token in the path, the query or the credentials of the URL', async () => {
    const pathToken = 'T0KENinPATH9f8e7d6c';
    const queryToken = 'QUERYsecret1234abcd';
    const url = `${base}/hooks/${pathToken}?sig=${queryToken}&api-version=1`;
    // A receiver that echoes the URL it was called with in its error text.
    answers.push({ status: 403, body: `forbidden: ${url} /hooks/${pathToken}?sig=${queryToken}` });
    const notifier = new WebhookNotifier({ url, headers: { 'X-Api-Key': 'headerSECRET42' } });
    expect(notifier.target).toBe(base);
    const forbidden = await notifyError(notifier.send(notification()));
    expect(forbidden.retryable).toBe(false);
    expect(received[0]?.url).toBe(`/hooks/${pathToken}?sig=${queryToken}&api-version=1`);

    // Nothing listening: a network error.
    const spare = createTcpServer();
    const sparePort = await listenTcp(spare);
    spare.close();
    await once(spare, 'close');
    const refused = await notifyError(
      new WebhookNotifier({
        url: `http://user:PASSW0RDsecret@127.0.0.1:${sparePort}/hooks/${pathToken}?sig=${queryToken}`,
      }).send(notification()),
    );
    expect(refused.retryable).toBe(true);
    expect(refused.message).toMatch(/^webhook POST http:\/\/127\.0\.0\.1:\d+: network error: .*ECONNREFUSED/);

    // Bad URLs at construction.
    const construction = [
      `ftp://${base.slice(7)}/hooks/${pathToken}?sig=${queryToken}`,
      `not a url ${pathToken}`,
    ].map((bad) => {
      try {
        new WebhookNotifier({ url: bad });
      } catch (err) {
        return (err as Error).message;
      }
      return 'accepted';
    });
    expect(construction[0]).toMatch(/must start with http:\/\/ or https:\/\/, not ftp:/);
    expect(construction[1]).toMatch(/not a valid URL/);

    for (const message of [forbidden.message, refused.message, ...construction]) {
      for (const secret of [pathToken, queryToken, 'headerSECRET42', 'PASSW0RDsecret', 'user:']) {
        expect(message).not.toContain(secret);
      }
    }
    expect(forbidden.message).toContain(`webhook POST ${base}: HTTP 403`);
  });

  it('sends URL credentials as HTTP basic auth, not in the URL', async () => {
    const notifier = new WebhookNotifier({ url: base.replace('http://', 'http://alice:pa%24s@') + '/hook' });
    expect(notifier.target).toBe(base);
    await notifier.send(notification());
    expect(received[0]?.headers.authorization).toBe(`Basic ${Buffer.from('alice:pa$s').toString('base64')}`);
  });

  it('refuses header values that could inject or replace its own headers', () => {
    expect(() => new WebhookNotifier({ url: base, headers: { 'X-A': 'v\r\nX-B: 1' } })).toThrow(/line break/);
    expect(() => new WebhookNotifier({ url: base, headers: { 'Bad Name': 'v' } })).toThrow(/header name/);
    expect(() => new WebhookNotifier({ url: base, headers: { 'X-FlowTrack-Notification': 'v' } })).toThrow(
      /set by FlowTrack/,
    );
  });
});
