import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogFile, rotatedLogPattern, scrubSecrets, type LogFile } from './log-files.js';
import { readLog } from './read-log.js';

let dir = '';
const open: LogFile[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flowtrack-logs-'));
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((f) => f.close()));
  rmSync(dir, { recursive: true, force: true });
});

function logFile(options: Omit<Parameters<typeof createLogFile>[0], 'dir'>): LogFile {
  const file = createLogFile({ dir: join(dir, 'logs'), ...options });
  open.push(file);
  return file;
}

// A JWT as jose would issue one (HS256), and the unsigned `alg: none` variant an attacker sends.
const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIiwicm9sZSI6ImFkbWluIn0.c2lnbmF0dXJlLWJ5dGVzLWhlcmU';
const ALG_NONE = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIiwicm9sZSI6ImFkbWluIn0.';

describe('log files', () => {
  it('rotates by size into gzipped files, keeps at most maxFiles, and reads them back newest first', async () => {
    const file = logFile({ name: 'server', maxSize: '10K', maxFiles: 3, interval: null });
    const padding = 'x'.repeat(100);
    for (let seq = 0; seq < 1500; seq++) file.logger.info({ seq, padding }, 'flow batch stored');
    await file.close();

    const logs = join(dir, 'logs');
    const rotated = readdirSync(logs).filter((n) => rotatedLogPattern('server').test(n));
    expect(rotated).toHaveLength(3);
    for (const name of rotated) {
      expect(name).toMatch(/\.log\.gz$/);
      expect(statSync(join(logs, name)).mode & 0o777).toBe(0o600);
      // Each rotated file is real gzip holding whole JSON lines of about the rotation size.
      const text = gunzipSync(readFileSync(join(logs, name))).toString('utf8');
      expect(text.length).toBeGreaterThanOrEqual(10 * 1024);
      for (const line of text.trimEnd().split('\n')) expect(() => JSON.parse(line) as unknown).not.toThrow();
    }
    expect(statSync(file.path).mode & 0o777).toBe(0o600);
    expect(statSync(logs).mode & 0o777).toBe(0o700);

    // Everything still on disk reads back, newest first, with no gap between files.
    const { entries, skippedLines } = await readLog({ dir: logs, name: 'server', limit: 1000 });
    expect(skippedLines).toBe(0);
    const seqs = entries.map((e) => e.seq as number);
    expect(seqs[0]).toBe(1499);
    // Lines are about 230 bytes: three rotated files of 10 KiB and the current one.
    expect(seqs.length).toBeGreaterThan(3 * 40);
    expect(seqs).toEqual(seqs.map((_, i) => 1499 - i));
    expect(entries[0]).toMatchObject({ level: 'info', msg: 'flow batch stored' });
  });

  it('rotates by age (interval) even when the file is small', async () => {
    const file = logFile({ name: 'server', maxSize: '10M', interval: '1s' });
    file.logger.info('before the rotation');
    const logs = join(dir, 'logs');
    const deadline = Date.now() + 3000;
    while (!readdirSync(logs).some((n) => rotatedLogPattern('server').test(n)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    file.logger.info('after the rotation');
    await file.close();

    expect(readdirSync(logs).some((n) => rotatedLogPattern('server').test(n))).toBe(true);
    const { entries } = await readLog({ dir: logs, name: 'server' });
    expect(entries.map((e) => e.msg)).toEqual(['after the rotation', 'before the rotation']);
  });

  it('never writes passwords, tokens, cookies or authorization headers', async () => {
    const file = logFile({ name: 'server' });
    file.logger.info(
      {
        password: 'hunter2-top',
        token: 'tok-top-level',
        body: { password: 'hunter2-body', newPassword: 'n3w-pass', setupToken: 'setup-abc' },
        req: { headers: { authorization: 'Bearer opaque-bearer-1', cookie: 'sid=cookie-value' } },
        headers: { 'set-cookie': 'sid=set-cookie-value', authorization: 'Basic YWRtaW46aHVudGVyMg==' },
        deep: { a: { b: { c: { refreshToken: 'refresh-deep-1', jwtSecret: 'jwt-secret-deep' } } } },
        rawBody: JSON.stringify({ user: 'admin', password: 'hunter2-raw' }),
        tokenType: 'access',
        accessTokenTtlSeconds: 900,
      },
      `login by admin with ${JWT}`,
    );
    file.logger.warn(`refused Bearer ${ALG_NONE} from postgres://flowtrack:db-pass-1@db/ft`);
    file.logger.error(
      new Error(`GET /ws?token=ws-token-1&x=1 failed for ${JWT}`),
      'websocket upgrade failed',
    );
    await file.close();

    const text = readFileSync(file.path, 'utf8');
    for (const secret of [
      'hunter2',
      'tok-top-level',
      'n3w-pass',
      'setup-abc',
      'opaque-bearer-1',
      'cookie-value',
      'YWRtaW46aHVudGVyMg',
      'refresh-deep-1',
      'jwt-secret-deep',
      'db-pass-1',
      'ws-token-1',
      'eyJ',
    ]) {
      expect(text).not.toContain(secret);
    }
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(first).toMatchObject({
      password: '[redacted]',
      body: { password: '[redacted]' },
      req: { headers: { authorization: '[redacted]' } },
      tokenType: 'access',
      accessTokenTtlSeconds: 900,
      msg: 'login by admin with [redacted]',
    });
    // Lines stay valid JSON after scrubbing.
    for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });

  it('writes nothing below its level and nothing after close', async () => {
    const file = logFile({ name: 'server', level: 'warn' });
    file.logger.info('too chatty');
    file.logger.warn('kept');
    await file.close();
    file.logger.warn('after close');
    const text = readFileSync(file.path, 'utf8');
    expect(text).toContain('kept');
    expect(text).not.toContain('too chatty');
    expect(text).not.toContain('after close');
  });
});

describe('scrubSecrets', () => {
  it('removes JWTs, including unsigned alg-none tokens', () => {
    expect(scrubSecrets(`token ${JWT} end`)).toBe('token [redacted] end');
    expect(scrubSecrets(`x=${ALG_NONE};`)).toBe('x=[redacted];');
  });

  it('removes Bearer and Basic credentials whatever the case', () => {
    expect(scrubSecrets('authorization: bearer abc.def-ghi')).toBe('authorization: bearer [redacted]');
    expect(scrubSecrets('Authorization: Basic YWRtaW46cGFzcw==')).toBe('Authorization: Basic [redacted]');
  });

  it('removes passwords from URLs and secret query parameters', () => {
    expect(scrubSecrets('connect postgres://ft:s3cret@db:5432/ft failed')).toBe(
      'connect postgres://ft:[redacted]@db:5432/ft failed',
    );
    expect(scrubSecrets('/api/x?access_token=abc&page=2')).toBe('/api/x?access_token=[redacted]&page=2');
  });

  it('removes secret keys at any depth of a JSON line, escaped or not, and keeps it valid JSON', () => {
    const line = JSON.stringify({
      a: { b: { c: { d: { e: { password: 'p"w\\d' } } } } },
      raw: JSON.stringify({ Token: 'tt' }),
    });
    const scrubbed = scrubSecrets(line);
    expect(scrubbed).not.toMatch(/p\\"w|tt/);
    expect(JSON.parse(scrubbed)).toEqual({
      a: { b: { c: { d: { e: { password: '[redacted]' } } } } },
      raw: '{"Token":"[redacted]"}',
    });
  });

  it('leaves ordinary text alone', () => {
    const text = '{"tokenType":"refresh","kind":"token_invalid","route":"/api/auth/refresh","n":3}';
    expect(scrubSecrets(text)).toBe(text);
  });
});
