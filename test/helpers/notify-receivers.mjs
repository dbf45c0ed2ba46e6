/**
 * The receivers a notification channel talks to, as one process a test starts inside a network
 * namespace (`ip netns exec`), all on 127.0.0.1 there: an SMTP server (smtp-server, its built-in
 * self-signed certificate, STARTTLS required before AUTH PLAIN/LOGIN, one user and password), an
 * HTTP webhook receiver, and syslog collectors over UDP and over TCP (RFC 6587 octet counting).
 * Everything received is appended to a file as one JSON object a line, written before the sender
 * is answered; "ready" is printed once all four listen. SIGTERM or SIGINT close them and exit.
 *
 *   node notify-receivers.mjs <out.jsonl>
 *     with NOTIFY_SMTP_PORT, NOTIFY_HTTP_PORT, NOTIFY_SYSLOG_UDP_PORT, NOTIFY_SYSLOG_TCP_PORT,
 *     NOTIFY_SMTP_USER and NOTIFY_SMTP_PASSWORD in the environment.
 *
 * Every record has `receiver` ('smtp', 'webhook', 'syslog-udp', 'syslog-tcp', or 'error' for
 * what a receiver could not take) and `at` (epoch ms).
 */

import { createSocket } from 'node:dgram';
import { appendFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

const HOST = '127.0.0.1';
const out = process.argv[2];
if (!out) {
  console.error('usage: node notify-receivers.mjs <out.jsonl> (ports and login in NOTIFY_* variables)');
  process.exit(2);
}

function setting(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`notify-receivers: ${name} is not set`);
    process.exit(2);
  }
  return value;
}

const ports = {
  smtp: Number(setting('NOTIFY_SMTP_PORT')),
  http: Number(setting('NOTIFY_HTTP_PORT')),
  udp: Number(setting('NOTIFY_SYSLOG_UDP_PORT')),
  tcp: Number(setting('NOTIFY_SYSLOG_TCP_PORT')),
};
const user = setting('NOTIFY_SMTP_USER');
const password = setting('NOTIFY_SMTP_PASSWORD');

function record(receiver, fields) {
  appendFileSync(out, `${JSON.stringify({ receiver, at: Date.now(), ...fields })}\n`);
}

function fail(receiver, err) {
  record('error', { from: receiver, error: err instanceof Error ? err.message : String(err) });
}

// ---- SMTP: no key or cert given, so STARTTLS uses smtp-server's built-in self-signed one ----

const smtp = new SMTPServer({
  secure: false,
  logger: false,
  authMethods: ['PLAIN', 'LOGIN'],
  // The defaults, stated: AUTH only after STARTTLS, and no MAIL without AUTH.
  allowInsecureAuth: false,
  authOptional: false,
  closeTimeout: 1000,
  onAuth(auth, session, callback) {
    const ok = session.secure && auth.username === user && auth.password === password;
    record('smtp-auth', { method: auth.method, username: auth.username, secure: session.secure, ok });
    if (ok) callback(null, { user: auth.username });
    else callback(new Error('Invalid username or password'));
  },
  onMailFrom(_address, session, callback) {
    if (!session.secure) {
      callback(Object.assign(new Error('Must issue a STARTTLS command first'), { responseCode: 530 }));
      return;
    }
    callback();
  },
  onData(stream, session, callback) {
    simpleParser(stream).then(
      (mail) => {
        const header = mail.headers.get('x-flowtrack-notification');
        record('smtp', {
          secure: session.secure,
          user: session.user ?? null,
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          subject: mail.subject ?? null,
          text: mail.text ?? null,
          messageId: mail.messageId ?? null,
          notification: typeof header === 'string' ? header : null,
        });
        callback();
      },
      (err) => {
        fail('smtp', err);
        callback(err instanceof Error ? err : new Error(String(err)));
      },
    );
  },
});
smtp.on('error', (err) => fail('smtp', err));

// ---- Webhook ----

const http = createHttpServer((req, res) => {
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size <= 1 << 20) chunks.push(chunk);
  });
  req.on('end', () => {
    const text = Buffer.concat(chunks).toString('utf8');
    let body = null;
    try {
      body = JSON.parse(text);
    } catch {
      fail('webhook', `body is not JSON: ${text.slice(0, 200)}`);
    }
    record('webhook', {
      method: req.method,
      url: req.url,
      contentType: req.headers['content-type'] ?? null,
      userAgent: req.headers['user-agent'] ?? null,
      notification: req.headers['x-flowtrack-notification'] ?? null,
      body,
    });
    res.writeHead(204);
    res.end();
  });
});

// ---- Syslog over UDP: one datagram, one message ----

const udp = createSocket('udp4');
udp.on('message', (msg) => record('syslog-udp', { message: msg.toString('utf8') }));
udp.on('error', (err) => fail('syslog-udp', err));

// ---- Syslog over TCP: RFC 6587 octet counting, MSG-LEN SP SYSLOG-MSG ----

const sockets = new Set();
const tcp = createTcpServer((socket) => {
  sockets.add(socket);
  let buffer = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      const space = buffer.indexOf(0x20);
      if (space === -1) return;
      const len = buffer.subarray(0, space).toString('ascii');
      if (!/^[1-9]\d{0,5}$/.test(len)) {
        fail('syslog-tcp', `bad MSG-LEN ${JSON.stringify(len.slice(0, 40))}`);
        socket.destroy();
        return;
      }
      const end = space + 1 + Number(len);
      if (buffer.length < end) return;
      record('syslog-tcp', { message: buffer.subarray(space + 1, end).toString('utf8') });
      buffer = buffer.subarray(end);
    }
  });
  socket.on('error', () => undefined);
  socket.on('close', () => sockets.delete(socket));
});

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

let closing = false;
function close() {
  if (closing) return;
  closing = true;
  for (const socket of sockets) socket.destroy();
  udp.close();
  http.closeAllConnections();
  http.close();
  tcp.close();
  smtp.close(() => process.exit(0));
  // smtp-server waits for open sessions up to closeTimeout; never longer than this.
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', close);
process.on('SIGINT', close);

try {
  await Promise.all([
    listen(smtp, ports.smtp),
    listen(http, ports.http),
    listen(tcp, ports.tcp),
    new Promise((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(ports.udp, HOST, () => {
        udp.off('error', reject);
        resolve();
      });
    }),
  ]);
} catch (err) {
  console.error(`notify-receivers: cannot listen: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
console.log('ready');
