import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogFile } from './log-files.js';
import { readLog } from './read-log.js';
import { SecurityLog, sampleValue } from './security-log.js';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flowtrack-security-log-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const request = { ip: '203.0.113.7', method: 'post', route: '/api/auth/login' };

describe('security log', () => {
  it('records failed logins and a lock-out that read-log can filter, without the password', async () => {
    const file = createLogFile({ dir, name: 'security' });
    const log = new SecurityLog(file.logger);
    for (let i = 0; i < 3; i++)
      log.record({ ...request, kind: 'login_failed', user: 'admin', reason: 'bad_password' });
    log.record({ ...request, kind: 'login_locked_out', user: 'admin', failures: 5, lockedForSeconds: 60 });
    log.record({ ...request, kind: 'setup_token_used', user: 'admin' });
    // A caller that passes more than the event type allows must not get it written.
    const sloppy = { ...request, kind: 'login_failed', reason: 'bad_password', password: 'hunter2' } as const;
    log.record(sloppy);
    await file.close();

    expect(readFileSync(file.path, 'utf8')).not.toContain('hunter2');
    const failed = await readLog({ dir, name: 'security', kind: 'login_failed' });
    expect(failed.entries).toHaveLength(4);
    expect(failed.entries[1]).toMatchObject({
      level: 'warn',
      kind: 'login_failed',
      ip: '203.0.113.7',
      method: 'POST',
      route: '/api/auth/login',
      user: 'admin',
      reason: 'bad_password',
      msg: 'login_failed: bad_password',
    });
    const locked = await readLog({ dir, name: 'security', kind: ['login_locked_out', 'setup_token_used'] });
    expect(locked.entries.map((e) => [e.kind, e.level])).toEqual([
      ['setup_token_used', 'info'],
      ['login_locked_out', 'warn'],
    ]);
  });

  it('records bad tokens by reason, never the token, and drops the query string of the route', () => {
    const written: object[] = [];
    const log = new SecurityLog({ info: (f) => written.push(f), warn: (f) => written.push(f) });
    log.record({
      ip: '198.51.100.2',
      method: 'GET',
      route: '/api/ws?token=eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.',
      kind: 'token_invalid',
      tokenType: 'access',
      reason: 'alg_none',
    });
    expect(written).toEqual([
      {
        kind: 'token_invalid',
        ip: '198.51.100.2',
        method: 'GET',
        route: '/api/ws',
        reason: 'alg_none',
        tokenType: 'access',
      },
    ]);
  });

  it('keeps a short escaped sample of an injection attempt', () => {
    const written: Record<string, unknown>[] = [];
    const log = new SecurityLog({
      info: () => undefined,
      warn: (f) => written.push(f as Record<string, unknown>),
    });
    const attack = `x'; DROP TABLE users; --\n{"level":"info","msg":"forged"}` + 'A'.repeat(200);
    log.record({
      ...request,
      kind: 'bad_input',
      field: 'body.name',
      value: attack,
      reason: 'not a user name',
    });
    const sample = written[0]?.sample as string;
    expect(sample.startsWith(`x'; DROP TABLE users; --\\x0a{"level"`)).toBe(true);
    expect(sample).not.toContain('\n');
    expect(sample.endsWith(`…(${attack.length} chars)`)).toBe(true);
    expect(written[0]).toMatchObject({ field: 'body.name', reason: 'not a user name', kind: 'bad_input' });
  });

  it('samples non-string values and escapes look-alike characters', () => {
    expect(sampleValue({ $gt: '' })).toBe('{"$gt":""}');
    expect(sampleValue('аdmin')).toBe('\\u0430dmin');
    expect(sampleValue(undefined)).toBe('undefined');
  });
});
