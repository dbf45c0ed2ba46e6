/**
 * Notifications end to end, as an admin sets them up: the real `flowtrack serve` in the victim's
 * network namespace captures an hping3 SYN flood from the attacker's, raises the alert, and tells
 * the channels an admin configured through the API. Their receivers are real servers in the
 * victim's namespace on its 127.0.0.1 (RECEIVERS below): an SMTP server that requires STARTTLS
 * and a login, a webhook, and syslog collectors over UDP and TCP.
 * - each channel is told once of the flood, not once per update of the alert, with what its reader
 *   needs (the email's subject and body, the webhook's JSON, RFC 5424 syslog lines), and the
 *   delivery log says every delivery was sent;
 * - once an analyst muted the attacker, a new flood from it is stored as muted and no channel is told.
 *
 * Traffic stays on a LAN of network namespaces with no default route (test/helpers/netns.ts) and
 * on the victim namespace's loopback, every tool bounded in packets and time. Needs root; skipped
 * with a message otherwise, except under CI=true where a missing tool fails.
 */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sleep, waitFor, type BackgroundProcess } from './helpers/netns.js';
import { NetnsServe } from './helpers/netns-serve.js';
import { describeUnlessMissing, hasTool } from './helpers/system-tools.js';

const TOOLS = ['ip', 'tcpdump', 'hping3', 'curl', 'node'];
/** The receivers load smtp-server and mailparser from these files (whatever their working directory). */
const resolveModule = createRequire(import.meta.url);

const VICTIM = '10.84.0.1';
/** A second address of the victim: a flood to it is a new alert, not an update of the first. */
const VICTIM_OTHER = '10.84.0.2';
const ATTACKER = '10.84.0.66';

/** The receivers' ports on the victim namespace's 127.0.0.1 (its own port space). */
const PORTS = { api: 18080, smtp: 2525, http: 18090, syslogUdp: 5514, syslogTcp: 5515 };
const SMTP_USER = 'flowtrack-alerts';
const SMTP_PASSWORD = 'c0rrect-h0rse-battery-staple';
const WEBHOOK_PATH = '/hooks/flowtrack-7f3a9c';
const DASHBOARD = 'https://flowtrack.example.net';

const root = process.getuid?.() === 0;
const missing = [...TOOLS.filter((t) => !hasTool(t)), ...(root ? [] : ['root'])];

/**
 * The receivers, one process started in the victim's namespace (`node -e`, CommonJS, as the other
 * netns tests start their servers), all on 127.0.0.1 there: SMTP (smtp-server with its built-in
 * self-signed certificate, STARTTLS required before AUTH PLAIN/LOGIN, one user), an HTTP webhook,
 * and syslog over UDP and over TCP (RFC 6587 octet counting). What arrives is appended to the file
 * in argv[1], one JSON object a line with `receiver` and `at`, before the sender is answered;
 * "ready" once all four listen. argv[2] and argv[3]: smtp-server's and mailparser's entry files;
 * the ports and the login in NOTIFY_* variables.
 */
const RECEIVERS = String.raw`
const { appendFileSync } = require('node:fs');
const dgram = require('node:dgram');
const http = require('node:http');
const net = require('node:net');
const [out, smtpServerPath, mailparserPath] = process.argv.slice(1);
const { SMTPServer } = require(smtpServerPath);
const { simpleParser } = require(mailparserPath);
const env = process.env;
const HOST = '127.0.0.1';

const record = (receiver, fields) =>
  appendFileSync(out, JSON.stringify({ receiver, at: Date.now(), ...fields }) + '\n');
const fail = (from, err) => record('error', { from, error: err instanceof Error ? err.message : String(err) });

const smtp = new SMTPServer({
  secure: false,
  logger: false,
  authMethods: ['PLAIN', 'LOGIN'],
  // The defaults, stated: AUTH only after STARTTLS, and no MAIL without AUTH.
  allowInsecureAuth: false,
  authOptional: false,
  closeTimeout: 1000,
  onAuth(auth, session, callback) {
    const ok = session.secure && auth.username === env.NOTIFY_SMTP_USER && auth.password === env.NOTIFY_SMTP_PASSWORD;
    record('smtp-auth', { method: auth.method, username: auth.username, secure: session.secure, ok });
    if (ok) callback(null, { user: auth.username });
    else callback(new Error('Invalid username or password'));
  },
  onMailFrom(address, session, callback) {
    if (session.secure) callback();
    else callback(Object.assign(new Error('Must issue a STARTTLS command first'), { responseCode: 530 }));
  },
  onData(stream, session, callback) {
    simpleParser(stream).then(
      (mail) => {
        const header = mail.headers.get('x-flowtrack-notification');
        record('smtp', {
          secure: session.secure,
          user: session.user === undefined ? null : session.user,
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          subject: mail.subject === undefined ? null : mail.subject,
          text: mail.text === undefined ? null : mail.text,
          notification: typeof header === 'string' ? header : null,
        });
        callback();
      },
      (err) => {
        fail('smtp', err);
        callback(err);
      },
    );
  },
});
smtp.on('error', (err) => fail('smtp', err));

const web = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const text = Buffer.concat(chunks).toString('utf8');
    let body = null;
    try {
      body = JSON.parse(text);
    } catch {
      fail('webhook', 'body is not JSON: ' + text.slice(0, 200));
    }
    const header = (name) => (req.headers[name] === undefined ? null : req.headers[name]);
    record('webhook', {
      method: req.method,
      url: req.url,
      contentType: header('content-type'),
      notification: header('x-flowtrack-notification'),
      body,
    });
    res.writeHead(204);
    res.end();
  });
});

const udp = dgram.createSocket('udp4');
udp.on('message', (msg) => record('syslog-udp', { message: msg.toString('utf8') }));
udp.on('error', (err) => fail('syslog-udp', err));

// RFC 6587 octet counting: MSG-LEN SP SYSLOG-MSG, again and again on one connection.
const tcp = net.createServer((socket) => {
  let buffer = Buffer.alloc(0);
  socket.on('error', () => {});
  socket.on('data', (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      const space = buffer.indexOf(0x20);
      if (space === -1) return;
      const len = buffer.subarray(0, space).toString('latin1');
      if (!/^[1-9]\d{0,5}$/.test(len)) {
        fail('syslog-tcp', 'bad MSG-LEN ' + JSON.stringify(len.slice(0, 40)));
        socket.destroy();
        return;
      }
      const end = space + 1 + Number(len);
      if (buffer.length < end) return;
      record('syslog-tcp', { message: buffer.subarray(space + 1, end).toString('utf8') });
      buffer = buffer.subarray(end);
    }
  });
});

const listening = (server, port) =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, resolve);
  });
Promise.all([
  listening(smtp, Number(env.NOTIFY_SMTP_PORT)),
  listening(web, Number(env.NOTIFY_HTTP_PORT)),
  listening(tcp, Number(env.NOTIFY_SYSLOG_TCP_PORT)),
  new Promise((resolve) => udp.bind(Number(env.NOTIFY_SYSLOG_UDP_PORT), HOST, resolve)),
]).then(
  () => console.log('ready'),
  (err) => {
    console.error('cannot listen: ' + err.message);
    process.exit(1);
  },
);
`;

interface AlertRow {
  id: string;
  type: string;
  severity: string;
  src: string | null;
  dst: string | null;
  updates: number;
  suppressedBy: number | null;
}
interface Delivery {
  id: number;
  channelId: number;
  notificationId: string;
  kind: string;
  alertId: string | null;
  title: string;
  status: string;
  lastError: string | null;
}
/** One line of the receivers' file (see RECEIVERS). */
interface Received {
  receiver: 'smtp' | 'smtp-auth' | 'webhook' | 'syslog-udp' | 'syslog-tcp' | 'error';
  at: number;
  [field: string]: unknown;
}
interface SmtpReceived extends Received {
  secure: boolean;
  user: unknown;
  rcptTo: string[];
  subject: string | null;
  text: string | null;
  notification: string | null;
}
interface WebhookReceived extends Received {
  url: string;
  contentType: string | null;
  notification: string | null;
  body: {
    version: number;
    id: string;
    kind: string;
    title: string;
    link?: string;
    alert?: { id: string; type: string; severity: string; src: string | null; dst: string | null };
  } | null;
}
interface SyslogReceived extends Received {
  message: string;
}

/** `<PRI>1 TIMESTAMP HOSTNAME flowtrack PROCID alert [flowtrack@32473 ...] MSG` (RFC 5424). */
const SYSLOG_LINE =
  /^<(\d{1,3})>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (\S+) flowtrack (\d+) alert (\[flowtrack@32473(?: [^\s="\]]+="(?:[^"\\\]]|\\.)*")*\]) (\S.*)$/;

/** The SD-PARAMs of a `[flowtrack@32473 name="value" ...]` element, unescaped. */
function sdParams(element: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [, name, value] of element.matchAll(/ ([^\s="\]]+)="((?:[^"\\\]]|\\.)*)"/g)) {
    params[name ?? ''] = (value ?? '').replace(/\\(["\\\]])/g, '$1');
  }
  return params;
}

describeUnlessMissing(
  missing.length === 0 ? null : missing.join(', '),
  'run as root after scripts/setup.sh --test (network namespaces and tcpdump need root)',
  'flowtrack serve notifying email, webhook and syslog receivers of a live flood',
  () => {
    let receivers: BackgroundProcess | undefined;
    let receivedFile = '';
    const flowtrack = new NetnsServe({
      tmpPrefix: 'flowtrack-notify-',
      hosts: { victim: [VICTIM, VICTIM_OTHER], attacker: ATTACKER },
      serveOn: 'victim',
      port: PORTS.api,
      // Links in notifications, so an email or a syslog line leads to the alert.
      env: { FLOWTRACK_NOTIFICATIONS_DASHBOARD_URL: DASHBOARD },
      users: { ana: 'analyst', ada: 'admin' },
      // The receivers listen before serve starts, in its namespace, as a site's mail relay would.
      beforeServe: async (lan) => {
        receivedFile = join(flowtrack.dir, 'received.jsonl');
        receivers = lan.start(
          'victim',
          'env',
          [
            `NOTIFY_SMTP_PORT=${PORTS.smtp}`,
            `NOTIFY_HTTP_PORT=${PORTS.http}`,
            `NOTIFY_SYSLOG_UDP_PORT=${PORTS.syslogUdp}`,
            `NOTIFY_SYSLOG_TCP_PORT=${PORTS.syslogTcp}`,
            `NOTIFY_SMTP_USER=${SMTP_USER}`,
            `NOTIFY_SMTP_PASSWORD=${SMTP_PASSWORD}`,
            process.execPath,
            '-e',
            RECEIVERS,
            receivedFile,
            resolveModule.resolve('smtp-server'),
            resolveModule.resolve('mailparser'),
          ],
          120,
        );
        await receivers.waitFor(/^ready$/m, 10_000);
      },
    });
    const api = flowtrack.api;
    /** Channel ids by what they are, once created. */
    const channels = { email: 0, webhook: 0, syslogUdp: 0, syslogTcp: 0 };
    let firstAlert: AlertRow | undefined;

    function received(): Received[] {
      let text: string;
      try {
        text = readFileSync(receivedFile, 'utf8');
      } catch {
        return [];
      }
      return text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Received);
    }

    async function synFlood(dst: string): Promise<AlertRow | null> {
      const res = await api(`/api/anomalies?type=syn_flood&src=${ATTACKER}&dst=${dst}`);
      return (res.body as { items: AlertRow[] }).items[0] ?? null;
    }

    async function deliveries(query = ''): Promise<Delivery[]> {
      const res = await api(`/api/notification_deliveries?limit=100${query}`);
      expect(res.status).toBe(200);
      return (res.body as { items: Delivery[] }).items;
    }

    /**
     * `count` SYNs to port 80 of `dst` at hping3's -i u200 (2,000 to 3,000 a second here: well above
     * the 1,000 a second that make a SYN flood high): hping3 stops by itself.
     */
    function flood(dst: string, count: number) {
      return flowtrack.lan.exec(
        'attacker',
        'hping3',
        ['-q', '-S', '-p', '80', '-c', String(count), '-i', 'u200', dst],
        { timeoutSeconds: 20, allowFailure: true },
      );
    }

    async function addChannel(
      name: string,
      kind: string,
      settings: Record<string, unknown>,
    ): Promise<number> {
      const res = await api('/api/notification_channels', {
        method: 'POST',
        as: 'ada',
        // High and critical alerts only: a flood is raised medium the moment its rate crosses the
        // threshold and is high a second later, and the SOC wants to hear of it once.
        body: { name, kind, minSeverity: 'high', settings },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return (res.body as { id: number }).id;
    }

    beforeAll(() => flowtrack.start(), 60_000);
    afterAll(async () => {
      try {
        await receivers?.stop('SIGTERM', 3000);
      } finally {
        await flowtrack.stop();
      }
    });

    it('tells each channel once of a SYN flood, by email over STARTTLS, JSON webhook and syslog over UDP and TCP', async () => {
      channels.email = await addChannel('SOC mail', 'email', {
        host: '127.0.0.1',
        port: PORTS.smtp,
        security: 'starttls',
        username: SMTP_USER,
        password: SMTP_PASSWORD,
        from: 'flowtrack@example.net',
        to: ['soc@example.net'],
        // smtp-server's built-in self-signed certificate.
        verifyCertificate: false,
      });
      channels.webhook = await addChannel('SOAR hook', 'webhook', {
        url: `http://127.0.0.1:${PORTS.http}${WEBHOOK_PATH}`,
        format: 'json',
      });
      channels.syslogUdp = await addChannel('SIEM udp', 'syslog', {
        host: '127.0.0.1',
        port: PORTS.syslogUdp,
        transport: 'udp',
      });
      channels.syslogTcp = await addChannel('SIEM tcp', 'syslog', {
        host: '127.0.0.1',
        port: PORTS.syslogTcp,
        transport: 'tcp',
        facility: 'local3',
      });
      // The password is kept, never shown back.
      const listed = await api('/api/notification_channels', { as: 'ada' });
      expect(JSON.stringify(listed.body)).not.toContain(SMTP_PASSWORD);

      // About 3 s of flood: the alert is updated every second of it.
      await flood(VICTIM, 9000);
      const alert = await waitFor('syn_flood alert', () => synFlood(VICTIM), 10_000);
      firstAlert = alert;

      // Every channel's delivery of this alert sent (the dispatcher sends every second).
      await waitFor(
        'every channel told',
        async () => {
          const list = await deliveries(`&alert=${encodeURIComponent(alert.id)}`);
          const failed = list.filter((d) => d.status === 'failed');
          if (failed.length > 0) throw new Error(`deliveries failed: ${JSON.stringify(failed)}`);
          const told = new Set(list.filter((d) => d.status === 'sent').map((d) => d.channelId));
          return Object.values(channels).every((id) => told.has(id)) ? list : null;
        },
        20_000,
        250,
      );
      // The flood is over and its alerts quiet: nothing more is on its way.
      await sleep(3000);
      const updated = (await api(`/api/anomalies/${encodeURIComponent(alert.id)}`)).body as AlertRow;
      expect(updated.updates).toBeGreaterThanOrEqual(3);

      // The delivery log: every delivery sent, and each channel told once of each alert (the
      // flood's, and any other the flood raised, e.g. connection_flood), however often it was updated.
      const all = await deliveries();
      expect(all.filter((d) => d.status !== 'sent' || d.kind !== 'alert')).toEqual([]);
      const told = all.map((d) => `${d.channelId} ${d.alertId ?? ''}`);
      expect(new Set(told).size).toBe(told.length);
      const ofFlood = all.filter((d) => d.alertId === alert.id);
      expect(ofFlood.map((d) => d.channelId).sort(byNumber)).toEqual(Object.values(channels).sort(byNumber));
      const idsOf = (channelId: number) =>
        all
          .filter((d) => d.channelId === channelId)
          .map((d) => d.notificationId)
          .sort();
      const floodNotification = (channelId: number) =>
        ofFlood.find((d) => d.channelId === channelId)!.notificationId;

      const got = received();
      expect(got.filter((r) => r.receiver === 'error')).toEqual([]);
      const title = `[${updated.severity.toUpperCase()}] SYN flood from ${ATTACKER} to ${VICTIM}`;
      expect(updated.severity).toBe('high');
      const link = `${DASHBOARD}/alerts/${encodeURIComponent(alert.id)}`;

      // Email: one message per notification, over TLS after a login, with what a reader needs.
      const logins = got.filter((r) => r.receiver === 'smtp-auth');
      expect(logins.length).toBeGreaterThan(0);
      expect(logins.every((r) => r.secure === true && r.ok === true)).toBe(true);
      const mails = got.filter((r): r is SmtpReceived => r.receiver === 'smtp');
      expect(mails.map((m) => m.notification ?? '').sort()).toEqual(idsOf(channels.email));
      const mail = mails.find((m) => m.notification === floodNotification(channels.email))!;
      expect(mail.secure).toBe(true);
      expect(mail.user).toBe(SMTP_USER);
      expect(mail.rcptTo).toEqual(['soc@example.net']);
      expect(mail.subject).toBe(`[FlowTrack] ${title}`);
      const text = mail.text ?? '';
      expect(text).toMatch(/^Type:\s+syn_flood$/m);
      expect(text).toMatch(new RegExp(`^Source:\\s+${escapeRegExp(ATTACKER)}$`, 'm'));
      expect(text).toMatch(new RegExp(`^Target:\\s+${escapeRegExp(VICTIM)}$`, 'm'));
      expect(text).toContain(`${ATTACKER} -> ${VICTIM}`);
      expect(text).toContain(`Link: ${link}`);
      expect(text).toContain(alert.id);

      // Webhook: one JSON POST per notification to the configured path, the alert's fields in it.
      const hooks = got.filter((r): r is WebhookReceived => r.receiver === 'webhook');
      expect(hooks.map((h) => h.notification ?? '').sort()).toEqual(idsOf(channels.webhook));
      const hook = hooks.find((h) => h.notification === floodNotification(channels.webhook))!;
      expect(hook.url).toBe(WEBHOOK_PATH);
      expect(hook.contentType).toBe('application/json');
      expect(hook.body).toMatchObject({
        version: 1,
        id: floodNotification(channels.webhook),
        kind: 'alert',
        title,
        link,
        alert: { id: alert.id, type: 'syn_flood', severity: 'high', src: ATTACKER, dst: VICTIM },
      });

      // Syslog: one RFC 5424 message per notification on each transport, the alert in its SD.
      for (const [receiver, channelId, facility] of [
        ['syslog-udp', channels.syslogUdp, 16],
        ['syslog-tcp', channels.syslogTcp, 19],
      ] as const) {
        const messages = got
          .filter((r): r is SyslogReceived => r.receiver === receiver)
          .map((r) => r.message);
        const parsed = messages.map((line) => {
          const m = SYSLOG_LINE.exec(line);
          if (!m) throw new Error(`${receiver}: not RFC 5424 as FlowTrack writes it: ${line}`);
          const [, pri = '', , host = '', , sd = '', msg = ''] = m;
          return { pri: Number(pri), host, sd: sdParams(sd), msg };
        });
        expect(parsed.map((p) => p.sd.id ?? '').sort()).toEqual(idsOf(channelId));
        const line = parsed.find((p) => p.sd.id === floodNotification(channelId))!;
        // local0 (16) or local3 (19), and high is err (3).
        expect(line.pri).toBe(facility * 8 + 3);
        expect(line.host).toBe(hostname());
        expect(line.sd).toEqual({
          id: floodNotification(channelId),
          type: 'syn_flood',
          severity: 'high',
          src: ATTACKER,
          dst: VICTIM,
          alertId: alert.id,
        });
        expect(line.msg.startsWith(`${title}: `)).toBe(true);
        expect(line.msg).toContain(`Details: ${link}`);
      }
    }, 60_000);

    it('tells no channel of a flood from an attacker an analyst muted', async () => {
      expect(firstAlert, 'the first test raised the alert').toBeDefined();
      const rule = await api('/api/alert_suppressions', {
        method: 'POST',
        as: 'ana',
        body: { src: ATTACKER, reason: 'authorised load test from the lab', minutes: 60 },
      });
      expect(rule.status, JSON.stringify(rule.body)).toBe(201);
      const ruleId = (rule.body as { id: number }).id;
      const before = received().length;
      const deliveriesBefore = await deliveries();

      // Another address of the victim: a new alert, which every channel would be told of unmuted
      // once it is high (a second into the flood: see the first test).
      await flood(VICTIM_OTHER, 6000);
      const muted = await waitFor('muted syn_flood alert', () => synFlood(VICTIM_OTHER), 10_000);
      expect(muted.id).not.toBe(firstAlert!.id);
      expect(muted.suppressedBy).toBe(ruleId);
      // Five dispatcher rounds after the flood with nothing to send.
      await sleep(5000);
      const after = (await api(`/api/anomalies/${encodeURIComponent(muted.id)}`)).body as AlertRow;
      expect(after.suppressedBy).toBe(ruleId);
      expect(after.severity).toBe('high');
      expect(after.updates).toBeGreaterThan(1);
      expect(await deliveries(`&alert=${encodeURIComponent(muted.id)}`)).toEqual([]);
      expect(await deliveries()).toEqual(deliveriesBefore);
      expect(received().slice(before)).toEqual([]);
    }, 40_000);
  },
);

function byNumber(a: number, b: number): number {
  return a - b;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
