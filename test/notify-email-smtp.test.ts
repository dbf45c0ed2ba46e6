/**
 * The email channel against a real SMTP server (the `smtp-server` package on 127.0.0.1, on an
 * ephemeral port) with a throw-away self-signed certificate made by openssl: the message arrives
 * over an upgraded, authenticated session with the subject, sender, recipients, headers and
 * bodies an admin would read (HTML escaped); a wrong password, a temporary refusal, a dead port
 * and a server without STARTTLS each end in the NotifyError the dispatcher needs, and nothing is
 * ever sent in clear when TLS was asked for.
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Alert } from '../src/alerts/alert.js';
import { EmailNotifier, type EmailNotifierOptions } from '../src/alerts/notify/email-notifier.js';
import { NotifyError, type Notification } from '../src/alerts/notify/notifier.js';
import { describeWithTools } from './helpers/system-tools.js';

const USER = 'flowtrack';
const PASSWORD = 'c0rrect-h0rse-battery';
const WRONG_PASSWORD = 'wr0ng-but-secret-99';

/** What the server got: the session as it stood at DATA, and the parsed message. */
interface Received {
  secure: boolean;
  user: unknown;
  mail: ParsedMail;
}

interface TestServer {
  port: number;
  received: Received[];
  /** Every AUTH and MAIL FROM the server saw, secure or not (to prove nothing went in clear). */
  commands: { command: 'AUTH' | 'MAIL'; secure: boolean }[];
  close(): Promise<void>;
}

const servers: { close(): Promise<void> }[] = [];
let certDir = '';
let key = '';
let cert = '';

async function startSmtp(options: SMTPServerOptions): Promise<TestServer> {
  const received: Received[] = [];
  const commands: TestServer['commands'] = [];
  const server = new SMTPServer({
    key,
    cert,
    logger: false,
    authMethods: ['PLAIN', 'LOGIN'],
    onAuth(auth, session, callback) {
      commands.push({ command: 'AUTH', secure: session.secure });
      if (auth.username === USER && auth.password === PASSWORD) {
        callback(null, { user: auth.username });
      } else {
        // An indiscreet server that echoes what it got: the channel must not repeat it.
        callback(new Error(`Invalid login for ${String(auth.username)} with ${String(auth.password)}`));
      }
    },
    onMailFrom(_address, session, callback) {
      commands.push({ command: 'MAIL', secure: session.secure });
      callback();
    },
    onData(stream, session, callback) {
      const secure = session.secure;
      const user: unknown = session.user;
      simpleParser(stream).then(
        (mail) => {
          received.push({ secure, user, mail });
          callback();
        },
        (err: unknown) => {
          callback(err instanceof Error ? err : new Error(String(err)));
        },
      );
    },
    closeTimeout: 1000,
    ...options,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve();
    });
  });
  const { port } = server.server.address() as AddressInfo;
  const handle = {
    port,
    received,
    commands,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  };
  servers.push(handle);
  return handle;
}

/** A TCP server that accepts and then says nothing (no SMTP greeting). */
async function startSilent(): Promise<{ port: number }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push({
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          resolve();
        });
      }),
  });
  return { port: (server.address() as AddressInfo).port };
}

/** A port that was free a moment ago and has nothing listening now. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function notifierFor(port: number, overrides: Partial<EmailNotifierOptions> = {}): EmailNotifier {
  return new EmailNotifier({
    host: '127.0.0.1',
    port,
    security: 'starttls',
    auth: { user: USER, password: PASSWORD },
    from: 'flowtrack@example.net',
    to: ['soc@example.net', 'oncall@example.org'],
    tls: { ca: cert },
    timeoutMs: 5_000,
    ...overrides,
  });
}

const MICROS = 1_000;
const alert: Alert = {
  id: 'port_scan:203.0.113.7:198.51.100.20:1',
  type: 'port_scan',
  severity: 'high',
  src: '203.0.113.7',
  dst: '198.51.100.20',
  start: Date.UTC(2026, 2, 1, 12, 0, 0) * MICROS,
  end: Date.UTC(2026, 2, 1, 12, 0, 42) * MICROS,
  counters: { ports: 912 },
  summary: '203.0.113.7 probed 912 ports <script>alert("x")</script> & more',
  evidence: { thresholds: [], sampleFlows: [], topSources: [] },
  updates: 3,
};

const alertNotification: Notification = {
  id: 'n-7f3a9c',
  kind: 'alert',
  title: '[high] port_scan from 203.0.113.7',
  text: 'A port scan from 203.0.113.7 against 198.51.100.20 is under way.',
  alert: { ...alert, status: 'open' },
  link: 'https://flowtrack.example.net/alerts/port_scan:203.0.113.7:198.51.100.20:1',
  at: Date.UTC(2026, 2, 1, 12, 0, 43),
  host: 'sensor-1',
};

function headerText(mail: ParsedMail, name: string): string {
  const value = mail.headers.get(name);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

async function sendFailure(notifier: EmailNotifier, n: Notification): Promise<NotifyError> {
  try {
    await notifier.send(n);
  } catch (err) {
    expect(err).toBeInstanceOf(NotifyError);
    return err as NotifyError;
  } finally {
    await notifier.close();
  }
  throw new Error('the send succeeded but was expected to fail');
}

describeWithTools(['openssl'], 'email notifier against a real SMTP server', () => {
  beforeAll(() => {
    certDir = mkdtempSync(join(tmpdir(), 'flowtrack-smtp-'));
    // The notifier connects to 127.0.0.1, and Node checks an IP address against the
    // certificate's IP subjectAltName only (a CN is never matched against an address).
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(certDir, 'key.pem'),
        '-out',
        join(certDir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    key = readFileSync(join(certDir, 'key.pem'), 'utf8');
    cert = readFileSync(join(certDir, 'cert.pem'), 'utf8');
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    if (certDir !== '') rmSync(certDir, { recursive: true, force: true });
  });

  it('delivers an alert over STARTTLS after AUTH, with the fields an admin reads and escaped HTML', async () => {
    const smtp = await startSmtp({ secure: false });
    const notifier = notifierFor(smtp.port);
    await notifier.send(alertNotification);
    await notifier.close();

    expect(smtp.received).toHaveLength(1);
    const [got] = smtp.received;
    expect(got?.secure).toBe(true);
    expect(got?.user).toBe(USER);
    expect(smtp.commands.every((c) => c.secure)).toBe(true);

    const mail = got!.mail;
    expect(mail.subject).toBe('[FlowTrack] [high] port_scan from 203.0.113.7');
    expect(mail.from?.value).toEqual([{ name: 'FlowTrack (sensor-1)', address: 'flowtrack@example.net' }]);
    const to = Array.isArray(mail.to) ? mail.to : [mail.to];
    expect(to.flatMap((a) => a?.value.map((v) => v.address) ?? [])).toEqual([
      'soc@example.net',
      'oncall@example.org',
    ]);
    expect(headerText(mail, 'x-flowtrack-notification')).toBe('n-7f3a9c');
    expect(mail.messageId).toBe('<flowtrack.n-7f3a9c@example.net>');

    const text = mail.text ?? '';
    expect(text).toContain('A port scan from 203.0.113.7 against 198.51.100.20 is under way.');
    expect(text).toMatch(/Severity:\s+high/);
    expect(text).toMatch(/Type:\s+port_scan/);
    expect(text).toMatch(/Source:\s+203\.0\.113\.7/);
    expect(text).toMatch(/Target:\s+198\.51\.100\.20/);
    expect(text).toMatch(/Started:\s+2026-03-01T12:00:00\.000Z/);
    expect(text).toMatch(/Last seen:\s+2026-03-01T12:00:42\.000Z/);
    expect(text).toContain(alert.summary);
    expect(text).toContain(`Link: ${alertNotification.link ?? ''}`);

    const html = typeof mail.html === 'string' ? mail.html : '';
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more');
    expect(html).not.toContain('<script>');
    expect(html).toContain(`<a href="${alertNotification.link ?? ''}">`);
  });

  it('gives a retried notification the same Message-ID', async () => {
    const smtp = await startSmtp({ secure: false });
    const notifier = notifierFor(smtp.port);
    await notifier.send(alertNotification);
    await notifier.send(alertNotification);
    await notifier.close();
    const ids = smtp.received.map((r) => r.mail.messageId);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBe(ids[1]);
  });

  it('delivers a digest with the held-back count and the counts by type and severity', async () => {
    const smtp = await startSmtp({ secure: false });
    const notifier = notifierFor(smtp.port);
    await notifier.send({
      id: 'digest-2026-03-01T12',
      kind: 'digest',
      title: '37 more alerts in the last 10 minutes',
      text: 'The rate limit held back these alert updates.',
      digest: {
        count: 37,
        fromMs: Date.UTC(2026, 2, 1, 12, 0, 0),
        toMs: Date.UTC(2026, 2, 1, 12, 10, 0),
        byType: { port_scan: 30, syn_flood: 7 },
        bySeverity: { medium: 30, critical: 7 },
        examples: [alert],
      },
      at: Date.UTC(2026, 2, 1, 12, 10, 0),
      host: 'sensor-1',
    });
    await notifier.close();

    const mail = smtp.received[0]!.mail;
    expect(mail.subject).toBe('[FlowTrack] 37 more alerts in the last 10 minutes');
    const text = mail.text ?? '';
    expect(text).toContain('37 more alert updates');
    expect(text).toMatch(/By type:\n\s+port_scan:\s+30\n\s+syn_flood:\s+7/);
    expect(text).toMatch(/By severity:\n\s+critical:\s+7\n\s+medium:\s+30/);
    expect(text).toMatch(/From:\s+2026-03-01T12:00:00\.000Z/);
    const html = typeof mail.html === 'string' ? mail.html : '';
    expect(html).toContain('<td>37 more alert updates</td>');
    expect(html).not.toContain('<script>');
  });

  it('delivers over implicit TLS (port 465 style)', async () => {
    const smtp = await startSmtp({ secure: true });
    const notifier = notifierFor(smtp.port, { security: 'tls' });
    await notifier.send(alertNotification);
    await notifier.close();
    expect(smtp.received.map((r) => [r.secure, r.user])).toEqual([[true, USER]]);
  });

  it('fails for good on a wrong password, and never repeats the password', async () => {
    const smtp = await startSmtp({ secure: false });
    const err = await sendFailure(
      notifierFor(smtp.port, { auth: { user: USER, password: WRONG_PASSWORD } }),
      alertNotification,
    );
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('EAUTH');
    expect(err.message).toContain('[redacted]');
    expect(err.message).not.toContain(WRONG_PASSWORD);
    const cause = err.cause as Error;
    expect(`${cause.message} ${cause.stack ?? ''} ${JSON.stringify(cause)}`).not.toContain(WRONG_PASSWORD);
    expect(smtp.received).toHaveLength(0);
  });

  it('fails for good on a certificate it does not trust', async () => {
    const smtp = await startSmtp({ secure: true });
    const err = await sendFailure(notifierFor(smtp.port, { security: 'tls', tls: {} }), alertNotification);
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('certificate');
    expect(smtp.commands).toHaveLength(0);
  });

  it.each([
    ['RCPT TO', { onRcptTo: tempFail }],
    ['MAIL FROM', { onMailFrom: tempFail }],
  ] as const)('may retry after a temporary 451 to %s', async (_command, hooks) => {
    const smtp = await startSmtp({ secure: false, ...hooks });
    const err = await sendFailure(notifierFor(smtp.port), alertNotification);
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('451');
    expect(smtp.received).toHaveLength(0);
  });

  it('may retry when nothing listens on the port (connection refused)', async () => {
    const err = await sendFailure(notifierFor(await deadPort()), alertNotification);
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('may retry when the server never greets (timeout)', async () => {
    const silent = await startSilent();
    const err = await sendFailure(notifierFor(silent.port, { timeoutMs: 300 }), alertNotification);
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('ETIMEDOUT');
  });

  it('stops when the dispatcher aborts the send, and says it may be tried again', async () => {
    const silent = await startSilent();
    const controller = new AbortController();
    const notifier = notifierFor(silent.port);
    const sending = notifier.send(alertNotification, controller.signal);
    setTimeout(() => {
      controller.abort();
    }, 50);
    const err: unknown = await sending.catch((e: unknown) => e);
    await notifier.close();
    expect(err).toBeInstanceOf(NotifyError);
    expect((err as NotifyError).retryable).toBe(true);
    expect((err as NotifyError).message).toContain('EABORT');
  });

  it("with security 'none' sends in clear, even to a server that offers STARTTLS", async () => {
    const smtp = await startSmtp({ secure: false, authOptional: true });
    const notifier = notifierFor(smtp.port, { security: 'none', auth: undefined });
    await notifier.send(alertNotification);
    await notifier.close();
    expect(smtp.received.map((r) => r.secure)).toEqual([false]);
  });

  it('refuses to go on in clear when the server does not offer STARTTLS', async () => {
    const smtp = await startSmtp({
      secure: false,
      hideSTARTTLS: true,
      disabledCommands: ['STARTTLS'],
      // So that a client willing to talk in clear could log in and send here.
      allowInsecureAuth: true,
    });
    const err = await sendFailure(notifierFor(smtp.port), alertNotification);
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('ETLS');
    expect(smtp.commands).toEqual([]);
    expect(smtp.received).toHaveLength(0);
  });

  it('still upgrades when the server only hides STARTTLS from its EHLO reply', async () => {
    // smtp-server's hideSTARTTLS leaves the command working; requireTLS tries it regardless of
    // the EHLO list, so a stripped capability line does not push the session into clear text.
    const smtp = await startSmtp({ secure: false, hideSTARTTLS: true, allowInsecureAuth: true });
    const notifier = notifierFor(smtp.port);
    await notifier.send(alertNotification);
    await notifier.close();
    expect(smtp.commands.length).toBeGreaterThan(0);
    expect(smtp.commands.every((c) => c.secure)).toBe(true);
    expect(smtp.received.map((r) => r.secure)).toEqual([true]);
  });
});

function tempFail(_address: unknown, _session: unknown, callback: (err?: Error | null) => void): void {
  callback(Object.assign(new Error('Greylisted, try again later'), { responseCode: 451 }));
}
