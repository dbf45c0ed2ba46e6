/**
 * `flowtrack serve` over HTTPS, as an admin sets it up: a certificate issued by a throw-away CA
 * (made with openssl in a temporary folder) and its key, given through FLOWTRACK_SERVER_TLS_*,
 * to the real process. A client that trusts only that CA signs in and reads the API, and sees
 * exactly the configured certificate; plain HTTP to the same port gets no API answer; and a
 * missing file, a certificate and key that do not belong together, or the two files swapped stop
 * the server at start-up with one line that names the file and what to do, never a stack trace.
 */

import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GOOD_PASSWORD } from './helpers/api-server.js';
import { cliEnv, runCli, startServe, stopAllServes, type ServeProcess } from './helpers/serve-process.js';
import { describeWithTools } from './helpers/system-tools.js';

interface HttpsAnswer {
  status: number;
  body: unknown;
  /** SHA-256 fingerprint of the certificate the server presented. */
  peerFingerprint: string;
}

/** One request on a new TLS connection that trusts `ca` only (full chain and host name checks). */
function httpsCall(
  url: string,
  ca: Buffer,
  method: string,
  options: { token?: string; body?: unknown } = {},
): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const req = httpsRequest(url, { method, ca, headers, agent: false }, (res) => {
      if (!(res.socket instanceof TLSSocket)) {
        reject(new Error('the answer did not come over TLS'));
        return;
      }
      const peerFingerprint = res.socket.getPeerCertificate().fingerprint256;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        resolve({
          status: res.statusCode ?? 0,
          body: text === '' ? null : JSON.parse(text),
          peerFingerprint,
        });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** What a plain-HTTP client gets from `port`: every byte until the server closes. */
function plainHttpExchange(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write('GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    });
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.setTimeout(10_000, () => {
      socket.destroy();
      reject(new Error(`the server kept a plain-HTTP connection open 10 s; got ${JSON.stringify(received)}`));
    });
    // A reset is also "no answer"; what was received so far is what counts.
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(received));
  });
}

describeWithTools(['openssl'], 'flowtrack serve over HTTPS (real process, openssl-made certificates)', () => {
  let dir: string;
  let ca: Buffer;
  let cert: string;
  let key: string;
  let otherKey: string;
  let server: ServeProcess;

  /** Runs openssl in the temporary folder; `command` is split at spaces (no argument has one). */
  const openssl = (command: string): void => {
    execFileSync('openssl', command.split(' '), { cwd: dir, stdio: 'pipe' });
  };
  const env = (tls: { certFile: string; keyFile: string }, data = 'data') =>
    cliEnv({
      FLOWTRACK_DATA_DIR: join(dir, data),
      FLOWTRACK_SERVER_PORT: '0',
      FLOWTRACK_SERVER_TLS_CERT_FILE: tls.certFile,
      FLOWTRACK_SERVER_TLS_KEY_FILE: tls.keyFile,
      FLOWTRACK_BACKUP_INTERVAL_HOURS: '0',
      FLOWTRACK_CAPTURE_ENABLED: 'false',
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flowtrack-tls-'));
    const ec = '-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes';
    openssl(`req -x509 ${ec} -keyout ca.key -out ca.pem -days 2 -subj /CN=flowtrack-test-ca`);
    openssl(`req ${ec} -keyout server.key -out server.csr -subj /CN=localhost`);
    writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    openssl(
      'x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile server.ext',
    );
    // A second key of the same kind: the mismatch is in the key, not in the algorithm.
    openssl('genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out other.key');
    ca = readFileSync(join(dir, 'ca.pem'));
    cert = join(dir, 'server.pem');
    key = join(dir, 'server.key');
    otherKey = join(dir, 'other.key');

    const add = await runCli(
      ['user', 'add', 'tess', '--admin', '--password-stdin'],
      env({ certFile: cert, keyFile: key }),
      `${GOOD_PASSWORD}\n`,
    );
    if (add.code !== 0) throw new Error(`flowtrack user add failed: ${add.stderr}`);
    server = await startServe([], env({ certFile: cert, keyFile: key }));
  });

  afterAll(async () => {
    await stopAllServes();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves the API over HTTPS with the configured certificate, to a client trusting only the test CA', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const expected = new X509Certificate(readFileSync(cert)).fingerprint256;

    const health = await httpsCall(`${server.url}/api/health`, ca, 'GET');
    expect(health).toEqual({ status: 200, body: { status: 'ok' }, peerFingerprint: expected });

    const login = await httpsCall(`${server.url}/api/auth/login`, ca, 'POST', {
      body: { username: 'tess', password: GOOD_PASSWORD },
    });
    expect(login.status).toBe(200);
    const { accessToken } = login.body as { accessToken: string };
    const me = await httpsCall(`${server.url}/api/auth/me`, ca, 'GET', { token: accessToken });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ username: 'tess', role: 'admin' });
    expect(me.peerFingerprint).toBe(expected);
  });

  it("is refused by a client that trusts another issuer (the first test's verification is real)", async () => {
    // The leaf as the only trust anchor: its issuer, the test CA, is then unknown.
    await expect(httpsCall(`${server.url}/api/health`, readFileSync(cert), 'GET')).rejects.toThrow(
      /issuer certificate|self[- ]signed|verify/i,
    );
  });

  it('gives plain HTTP on the TLS port no API answer', async () => {
    const port = Number(new URL(server.url).port);
    const received = await plainHttpExchange(port);
    expect(received).not.toMatch(/^HTTP\/1\.[01] 2/);
    expect(received).not.toContain('"status"');
    await expect(fetch(`http://127.0.0.1:${port}/api/health`)).rejects.toThrow();
    // The server is still there for TLS clients afterwards.
    expect((await httpsCall(`${server.url}/api/health`, ca, 'GET')).status).toBe(200);
  });

  /** Runs serve with `tls`, expects it to stop by itself at once, and returns what it printed. */
  async function failedStart(tls: { certFile: string; keyFile: string }, data: string): Promise<string> {
    // A server that starts after all is killed after 20 s and fails the code check with its output.
    const result = await runCli(['serve'], env(tls, data), '', 20_000);
    expect(result, result.stderr).toMatchObject({ code: 1, stdout: '' });
    // One line of its own, no stack trace and no "this is a bug".
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^flowtrack: /);
    expect(result.stderr).not.toMatch(/\n\s+at |this is a bug/);
    return result.stderr;
  }

  it('stops at start-up naming a certificate file that does not exist and the setting to fix', async () => {
    const missing = join(dir, 'no-such-cert.pem');
    const printed = await failedStart({ certFile: missing, keyFile: key }, 'data-missing');
    expect(printed).toContain(missing);
    expect(printed).toMatch(/no such file.*server\.tls\.certFile/);
  });

  it('stops at start-up naming a key file that does not exist', async () => {
    const missing = join(dir, 'no-such-key.pem');
    const printed = await failedStart({ certFile: cert, keyFile: missing }, 'data-missing-key');
    expect(printed).toContain(missing);
    expect(printed).toMatch(/no such file.*server\.tls\.keyFile/);
  });

  it('stops at start-up when the key does not belong to the certificate, naming both files', async () => {
    const printed = await failedStart({ certFile: cert, keyFile: otherKey }, 'data-mismatch');
    expect(printed).toContain(otherKey);
    expect(printed).toContain(cert);
    expect(printed).toMatch(/does not belong to the certificate/);
    expect(printed).toContain(new X509Certificate(readFileSync(cert)).fingerprint256);
    // Not a byte of either key in the message.
    expect(printed).not.toContain('PRIVATE KEY');
  });

  it('stops at start-up when the certificate and key files are swapped', async () => {
    const printed = await failedStart({ certFile: key, keyFile: cert }, 'data-swapped');
    expect(printed).toContain(key);
    expect(printed).toMatch(/holds no PEM certificate.*server\.tls\.certFile/);
  });
});
