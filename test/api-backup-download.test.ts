/**
 * Downloading a backup through real HTTP (a real server on 127.0.0.1, SQLite store, real backup
 * folder): an admin gets the file's exact bytes as an attachment and the download is audited; other
 * roles are refused; a name that is not a backup's is bad input; an unknown backup is not found;
 * and no name, encoding or link placed in the folder leads to a file outside the backup folder.
 */

import { request as httpRequest } from 'node:http';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/api-server.js';

let t: TestServer;
let admin: string;
let viewer: string;
let analyst: string;
/** The backup made at the start. */
let name: string;

const downloadPath = (backup: string): string => `/api/backups/${backup}/download`;

/** The path sent exactly as written (fetch would resolve `..` segments before sending). */
function rawGet(path: string, token: string): Promise<{ status: number; body: string }> {
  const url = new URL(t.server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: 'GET',
        headers: { authorization: `Bearer ${token}` },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('latin1') });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

interface AuditItem {
  actor: string;
  action: string;
  target: string | null;
  outcome: string;
  after: unknown;
}

async function auditItems(query: string): Promise<AuditItem[]> {
  const res = await t.request('GET', `/api/logs/audit?${query}`, { token: admin });
  expect(res.status).toBe(200);
  return (res.body as { items: AuditItem[] }).items;
}

async function badInputFields(): Promise<string[]> {
  // The security log is written asynchronously: poll briefly.
  for (let i = 0; i < 20; i++) {
    const res = await t.request('GET', '/api/logs/security?kind=bad_input&limit=1000', { token: admin });
    const entries = (res.body as { entries: { field?: string }[] }).entries;
    if (entries.length > 0) return entries.map((e) => String(e.field));
    await new Promise((r) => setTimeout(r, 100));
  }
  return [];
}

beforeAll(async () => {
  t = await startTestServer();
  admin = (await t.signIn('ada', 'admin')).accessToken;
  analyst = (await t.signIn('ana', 'analyst')).accessToken;
  viewer = (await t.signIn('vic', 'viewer')).accessToken;
  const made = await t.request('POST', '/api/backup/create', { token: admin });
  expect(made.status).toBe(201);
  name = (made.body as { name: string }).name;
}, 60_000);

afterAll(async () => {
  await t.close();
});

describe('GET /api/backups/:name/download (real HTTP)', () => {
  it('gives an admin the backup file byte for byte, as an attachment named after it, and audits it', async () => {
    const startedAt = Date.now();
    const res = await fetch(`${t.server.url}${downloadPath(name)}`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${name}"`);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const bytes = Buffer.from(await res.arrayBuffer());
    const onDisk = readFileSync(join(t.dataDir, 'backups', name));
    expect(bytes.length).toBe(onDisk.length);
    expect(bytes.equals(onDisk)).toBe(true);
    expect(Number(res.headers.get('content-length'))).toBe(onDisk.length);

    // Found by the audit log's own filters: user, action, outcome and time.
    const audited = await auditItems(
      `actor=ada&action=backup.download&outcome=ok&from=${startedAt}&to=${Date.now()}`,
    );
    expect(audited).toHaveLength(1);
    expect(audited[0]).toMatchObject({
      actor: 'ada',
      action: 'backup.download',
      target: name,
      outcome: 'ok',
      after: { bytes: onDisk.length },
    });
  });

  it('refuses viewers and analysts (403) and anonymous callers (401), and sends them nothing', async () => {
    for (const token of [viewer, analyst]) {
      const res = await t.request('GET', downloadPath(name), { token });
      expect(res.status).toBe(403);
      expect(JSON.stringify(res.body)).not.toContain('SQLite');
    }
    expect((await t.request('GET', downloadPath(name))).status).toBe(401);
  });

  it('refuses a name that is not a backup name as bad input (400) and logs it', async () => {
    for (const bad of ['flowtrack.db', 'jwt-secret', 'backup.ftbak', `${name}.tmp`, 'x'.repeat(150)]) {
      const res = await t.request('GET', downloadPath(encodeURIComponent(bad)), { token: admin });
      expect(res.status).toBe(400);
      expect((res.body as { error: string }).error).toBe('BAD_REQUEST');
    }
    expect((await badInputFields()).some((field) => field.startsWith('params/name'))).toBe(true);
  });

  it('answers 404 for a well-formed name with no backup, and audits the failed attempt', async () => {
    const missing = 'flowtrack-20200101T000000.000Z-v1.ftbak';
    const res = await t.request('GET', downloadPath(missing), { token: admin });
    expect(res.status).toBe(404);
    expect((res.body as { error: string }).error).toBe('NOT_FOUND');
    const audited = await auditItems('action=backup.download&outcome=failed');
    expect(audited.map((a) => a.target)).toContain(missing);
  });

  it('refuses path traversal however it is written', async () => {
    const secret = readFileSync(join(t.dataDir, 'jwt-secret'), 'latin1').trim();
    // Encoded so the separators reach the route as part of the name.
    for (const encoded of [
      '..%2Fjwt-secret',
      '..%2F..%2F..%2Fetc%2Fpasswd',
      '%2e%2e%2fflowtrack.db',
      '..%5Cjwt-secret',
      `${name}%2F..%2F..%2Fjwt-secret`,
      '%2Fetc%2Fpasswd',
      `${name}%00`,
    ]) {
      const res = await rawGet(downloadPath(encoded), admin);
      expect(res.status, encoded).toBe(400);
      expect(res.body).not.toContain(secret);
    }
    // Sent as written: the `..` segments must not reach a file either.
    for (const raw of [
      '/api/backups/../../jwt-secret/download',
      '/api/backups/../../../etc/passwd/download',
    ]) {
      const res = await rawGet(raw, admin);
      expect([400, 404]).toContain(res.status);
      expect(res.body).not.toContain(secret);
      expect(res.body).not.toContain('root:');
    }
  });

  it('never follows a link or opens a folder placed in the backup folder under a backup name', async () => {
    const dir = join(t.dataDir, 'backups');
    const secret = readFileSync(join(t.dataDir, 'jwt-secret'), 'latin1').trim();
    const link = 'flowtrack-20210101T000000.000Z-v1.ftbak';
    symlinkSync(join(t.dataDir, 'jwt-secret'), join(dir, link));
    const folder = 'flowtrack-20210102T000000.000Z-v1.ftbak';
    mkdirSync(join(dir, folder));
    writeFileSync(join(dir, folder, 'inside'), 'not a backup');
    for (const trap of [link, folder]) {
      const res = await rawGet(downloadPath(trap), admin);
      expect(res.status, trap).toBe(404);
      expect(res.body).not.toContain(secret);
    }
    // The real backup is still served.
    expect((await rawGet(downloadPath(name), admin)).status).toBe(200);
  });
});
