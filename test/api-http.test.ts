/**
 * The API through real HTTP (a real server on 127.0.0.1, SQLite store, real log files): each role
 * gets exactly what it should, bad and forged tokens are refused, hostile filter values are refused
 * and land in the security log, firewall rules are checked, refused when unsafe and audited, and
 * the login rate limit and lockout hold.
 */

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SignJWT } from 'jose';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { GOOD_PASSWORD, startTestServer, type TestServer } from './helpers/api-server.js';

type Who = 'anonymous' | 'viewer' | 'analyst' | 'admin';
const ORDER: Who[] = ['anonymous', 'viewer', 'analyst', 'admin'];

/** Every route of the API with the least role that may call it. */
/** A scan id no scan has. */
const SCAN_ID = '00000000-0000-4000-8000-000000000000';

const MATRIX: { method: string; path: string; route: string; needs: Who; body?: unknown }[] = [
  { method: 'GET', path: '/api/traffic', route: '/api/traffic', needs: 'viewer' },
  { method: 'GET', path: '/api/flows', route: '/api/flows', needs: 'viewer' },
  { method: 'GET', path: '/api/flows/graph', route: '/api/flows/graph', needs: 'viewer' },
  { method: 'GET', path: '/api/hosts/192.0.2.7', route: '/api/hosts/{address}', needs: 'viewer' },
  { method: 'GET', path: '/api/anomalies', route: '/api/anomalies', needs: 'viewer' },
  { method: 'GET', path: '/api/anomalies/port_scan-1', route: '/api/anomalies/{id}', needs: 'viewer' },
  { method: 'GET', path: '/api/system_health', route: '/api/system_health', needs: 'viewer' },
  {
    method: 'GET',
    path: '/api/system_health/history',
    route: '/api/system_health/history',
    needs: 'viewer',
  },
  { method: 'GET', path: '/api/system/sockets', route: '/api/system/sockets', needs: 'analyst' },
  { method: 'GET', path: '/api/auth/me', route: '/api/auth/me', needs: 'viewer' },
  {
    method: 'POST',
    path: '/api/anomalies/port_scan-1/acknowledge',
    route: '/api/anomalies/{id}/acknowledge',
    needs: 'analyst',
  },
  {
    method: 'POST',
    path: '/api/anomalies/port_scan-1/resolve',
    route: '/api/anomalies/{id}/resolve',
    needs: 'analyst',
  },
  { method: 'GET', path: '/api/capture', route: '/api/capture', needs: 'viewer' },
  {
    method: 'GET',
    path: '/api/anomalies/summary',
    route: '/api/anomalies/summary',
    needs: 'viewer',
  },
  {
    method: 'GET',
    path: '/api/settings/detection',
    route: '/api/settings/detection',
    needs: 'viewer',
  },
  {
    method: 'GET',
    path: '/api/anomalies/port_scan-1/evidence',
    route: '/api/anomalies/{id}/evidence',
    needs: 'analyst',
  },
  { method: 'GET', path: '/api/users', route: '/api/users', needs: 'admin' },
  {
    method: 'POST',
    path: '/api/users',
    route: '/api/users',
    needs: 'admin',
    body: { username: 'new-user', password: GOOD_PASSWORD, role: 'viewer' },
  },
  {
    method: 'PATCH',
    path: '/api/users/999',
    route: '/api/users/{id}',
    needs: 'admin',
    body: { role: 'viewer' },
  },
  { method: 'DELETE', path: '/api/users/999', route: '/api/users/{id}', needs: 'admin' },
  { method: 'GET', path: '/api/firewall/rules', route: '/api/firewall/rules', needs: 'viewer' },
  {
    method: 'POST',
    path: '/api/firewall/rules',
    route: '/api/firewall/rules',
    needs: 'admin',
    body: { kind: 'close', protocol: 'tcp', port: 23, comment: 'no telnet' },
  },
  { method: 'GET', path: '/api/firewall/rules/999', route: '/api/firewall/rules/{id}', needs: 'viewer' },
  {
    method: 'PATCH',
    path: '/api/firewall/rules/999',
    route: '/api/firewall/rules/{id}',
    needs: 'admin',
    body: { comment: 'still no telnet' },
  },
  { method: 'DELETE', path: '/api/firewall/rules/999', route: '/api/firewall/rules/{id}', needs: 'admin' },
  { method: 'GET', path: '/api/firewall/status', route: '/api/firewall/status', needs: 'viewer' },
  {
    method: 'PUT',
    path: '/api/firewall/auto-block',
    route: '/api/firewall/auto-block',
    needs: 'admin',
    body: { enabled: true },
  },
  {
    method: 'POST',
    path: '/api/scans',
    route: '/api/scans',
    needs: 'analyst',
    body: { targets: ['127.0.0.1'], ports: '22' },
  },
  { method: 'GET', path: '/api/scans', route: '/api/scans', needs: 'viewer' },
  { method: 'GET', path: '/api/sensors', route: '/api/sensors', needs: 'viewer' },
  { method: 'GET', path: `/api/scans/${SCAN_ID}`, route: '/api/scans/{id}', needs: 'viewer' },
  { method: 'POST', path: `/api/scans/${SCAN_ID}/cancel`, route: '/api/scans/{id}/cancel', needs: 'analyst' },
  { method: 'GET', path: '/api/backups', route: '/api/backups', needs: 'admin' },
  { method: 'POST', path: '/api/backup/create', route: '/api/backup/create', needs: 'admin' },
  {
    method: 'GET',
    path: '/api/backups/flowtrack-20250101T000000.000Z-v1.ftbak/download',
    route: '/api/backups/{name}/download',
    needs: 'admin',
  },
  {
    method: 'POST',
    path: '/api/backup/restore',
    route: '/api/backup/restore',
    needs: 'admin',
    body: { name: 'flowtrack-20250101T000000.000Z-v1.ftbak' },
  },
  {
    method: 'POST',
    path: '/api/anomalies/port_scan-1/reopen',
    route: '/api/anomalies/{id}/reopen',
    needs: 'analyst',
  },
  {
    method: 'POST',
    path: '/api/anomalies/port_scan-1/assign',
    route: '/api/anomalies/{id}/assign',
    needs: 'analyst',
    body: { assignee: 'ana' },
  },
  {
    method: 'POST',
    path: '/api/anomalies/port_scan-1/comments',
    route: '/api/anomalies/{id}/comments',
    needs: 'analyst',
    body: { text: 'looking' },
  },
  { method: 'GET', path: '/api/anomalies/groups', route: '/api/anomalies/groups', needs: 'viewer' },
  {
    method: 'POST',
    path: '/api/anomalies/groups/acknowledge',
    route: '/api/anomalies/groups/acknowledge',
    needs: 'analyst',
    body: { group: 'src:192.0.2.7' },
  },
  {
    method: 'POST',
    path: '/api/anomalies/groups/resolve',
    route: '/api/anomalies/groups/resolve',
    needs: 'analyst',
    body: { group: 'src:192.0.2.99' },
  },
  { method: 'GET', path: '/api/alert_suppressions', route: '/api/alert_suppressions', needs: 'viewer' },
  {
    method: 'POST',
    path: '/api/alert_suppressions',
    route: '/api/alert_suppressions',
    needs: 'analyst',
    body: { src: '192.0.2.99', reason: 'lab scanner', minutes: 5 },
  },
  {
    method: 'DELETE',
    path: '/api/alert_suppressions/999',
    route: '/api/alert_suppressions/{id}',
    needs: 'analyst',
  },
  {
    method: 'GET',
    path: '/api/alert_severity_overrides',
    route: '/api/alert_severity_overrides',
    needs: 'viewer',
  },
  {
    method: 'PUT',
    path: '/api/alert_severity_overrides',
    route: '/api/alert_severity_overrides',
    needs: 'admin',
    body: { overrides: {} },
  },
  {
    method: 'GET',
    path: '/api/notification_channels',
    route: '/api/notification_channels',
    needs: 'admin',
  },
  {
    method: 'POST',
    path: '/api/notification_channels',
    route: '/api/notification_channels',
    needs: 'admin',
    body: { name: 'matrix', kind: 'syslog', enabled: false, settings: { host: '127.0.0.1' } },
  },
  {
    method: 'PUT',
    path: '/api/notification_channels/999',
    route: '/api/notification_channels/{id}',
    needs: 'admin',
    body: { name: 'matrix-2', kind: 'syslog', settings: { host: '127.0.0.1' } },
  },
  {
    method: 'DELETE',
    path: '/api/notification_channels/999',
    route: '/api/notification_channels/{id}',
    needs: 'admin',
  },
  {
    method: 'POST',
    path: '/api/notification_channels/999/test',
    route: '/api/notification_channels/{id}/test',
    needs: 'admin',
  },
  {
    method: 'GET',
    path: '/api/notification_deliveries',
    route: '/api/notification_deliveries',
    needs: 'analyst',
  },
  { method: 'GET', path: '/api/incidents', route: '/api/incidents', needs: 'viewer' },
  {
    method: 'POST',
    path: '/api/incidents',
    route: '/api/incidents',
    needs: 'analyst',
    body: { title: 'matrix', severity: 'low' },
  },
  { method: 'GET', path: '/api/incidents/999', route: '/api/incidents/{id}', needs: 'viewer' },
  {
    method: 'PATCH',
    path: '/api/incidents/999',
    route: '/api/incidents/{id}',
    needs: 'analyst',
    body: { status: 'closed' },
  },
  {
    method: 'POST',
    path: '/api/incidents/999/comments',
    route: '/api/incidents/{id}/comments',
    needs: 'analyst',
    body: { text: 'x' },
  },
  {
    method: 'POST',
    path: '/api/incidents/999/links',
    route: '/api/incidents/{id}/links',
    needs: 'analyst',
    body: { kind: 'alert', ref: 'port_scan-1' },
  },
  {
    method: 'DELETE',
    path: '/api/incidents/999/links/1',
    route: '/api/incidents/{id}/links/{linkId}',
    needs: 'analyst',
  },
  {
    method: 'GET',
    path: '/api/incidents/999/report',
    route: '/api/incidents/{id}/report',
    needs: 'viewer',
  },
  { method: 'GET', path: '/api/logs', route: '/api/logs', needs: 'admin' },
  { method: 'GET', path: '/api/logs/security', route: '/api/logs/security', needs: 'admin' },
  { method: 'GET', path: '/api/logs/audit', route: '/api/logs/audit', needs: 'admin' },
];
/** Routes anyone may call (they need no token by design). */
const PUBLIC = ['/api/auth/login', '/api/auth/refresh', '/api/auth/setup', '/api/health'];
/** Routes that need a body tested elsewhere in this file, with the role they need. */
const ELSEWHERE: Record<string, string> = {
  'POST /api/auth/logout': 'viewer',
  'POST /api/auth/password': 'viewer',
  'GET /api/stream': 'viewer',
};

let t: TestServer;
const tokens: Partial<Record<Who, { accessToken: string; refreshToken: string; id: number }>> = {};

async function securityEvents(kind: string): Promise<Record<string, unknown>[]> {
  // The log file is written asynchronously: poll briefly.
  for (let i = 0; i < 20; i++) {
    const res = await t.request('GET', `/api/logs/security?kind=${kind}&limit=1000`, {
      token: tokens.admin!.accessToken,
    });
    const entries = (res.body as { entries: Record<string, unknown>[] }).entries;
    if (entries.length > 0) return entries;
    await new Promise((r) => setTimeout(r, 100));
  }
  return [];
}

beforeAll(async () => {
  // Many sign-ins from one address: the login rate limit is tested on its own server below.
  t = await startTestServer({ FLOWTRACK_RATE_LIMIT_LOGIN_PER_MINUTE: '1000' });
  tokens.admin = await t.signIn('ada', 'admin');
  tokens.analyst = await t.signIn('ana', 'analyst');
  tokens.viewer = await t.signIn('vic', 'viewer');
  await t.server.store.alerts.upsertAlerts(
    [
      {
        id: 'port_scan-1',
        type: 'port_scan',
        severity: 'medium',
        src: '192.0.2.7',
        dst: '198.51.100.1',
        start: 1_700_000_000_000_000,
        end: 1_700_000_001_000_000,
        updates: 1,
        counters: { ports: 100 },
        summary: '192.0.2.7 probed 100 ports of 198.51.100.1',
        evidence: { thresholds: [] },
      },
    ] as never,
    Date.now(),
  );
}, 60_000);

afterAll(async () => {
  await t.close();
});

describe('API roles (real HTTP)', () => {
  it('the matrix covers every route the OpenAPI document lists', async () => {
    const doc = (await t.request('GET', '/api/docs')).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    const listed = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
    );
    const covered = new Set([
      ...MATRIX.map((r) => `${r.method} ${r.route}`),
      ...PUBLIC.map((p) => `${p === '/api/health' ? 'GET' : 'POST'} ${p}`),
      'GET /api/auth/setup',
      // No user token by design (a scraper): loopback or metrics.token, test/metrics-prometheus.test.ts.
      'GET /metrics',
      ...Object.keys(ELSEWHERE),
    ]);
    expect(listed.filter((r) => !covered.has(r))).toEqual([]);
  });

  it("documents /api/traffic's top ports in its summary", async () => {
    const doc = (await t.request('GET', '/api/docs')).body as {
      paths: Record<string, Record<string, { summary?: string }>>;
    };
    expect(doc.paths['/api/traffic']?.get?.summary).toMatch(/top talkers and the top ports \(topPorts: /);
  });

  for (const route of MATRIX) {
    for (const who of ORDER) {
      const allowed = ORDER.indexOf(who) >= ORDER.indexOf(route.needs);
      it(`${route.method} ${route.path} as ${who}: ${allowed ? 'allowed' : 'refused'}`, async () => {
        const token = who === 'anonymous' ? undefined : tokens[who]!.accessToken;
        const res = await t.request(route.method, route.path, {
          ...(token === undefined ? {} : { token }),
          ...(route.body === undefined ? {} : { body: { ...(route.body as object) } }),
        });
        if (allowed) {
          expect([401, 403]).not.toContain(res.status);
          expect(res.status).toBeLessThan(500);
        } else {
          expect(res.status).toBe(who === 'anonymous' ? 401 : 403);
        }
      });
    }
  }

  it('a refused role is recorded in the security log', async () => {
    const events = await securityEvents('forbidden');
    expect(events.some((e) => e.user === 'vic' && e.required === 'admin')).toBe(true);
  });
});

describe('API firewall rules (real HTTP)', () => {
  interface Rule {
    id: number;
    kind: string;
    source: string | null;
    comment: string | null;
    createdBy: string;
    expiresAt: number | null;
    removedAt: number | null;
    removedBy: string | null;
  }
  const auditItems = async (action: string) =>
    (
      (await t.request('GET', `/api/logs/audit?action=${action}`, { token: tokens.admin!.accessToken }))
        .body as { items: { target: string | null; actor: string; before: unknown; after: unknown }[] }
    ).items;

  it('adds, shows, changes and lifts rules, each audited before and after', async () => {
    const admin = tokens.admin!.accessToken;
    const viewer = tokens.viewer!.accessToken;
    const before = Date.now();
    const added = await t.request('POST', '/api/firewall/rules', {
      token: admin,
      body: {
        kind: 'block',
        source: '2001:db8:77::/48',
        comment: 'SNMP from outside',
        expiresInSeconds: 3600,
      },
    });
    expect(added.status).toBe(201);
    const rule = added.body as Rule;
    expect(rule).toMatchObject({
      kind: 'block',
      source: '2001:db8:77::/48',
      createdBy: 'ada',
      removedAt: null,
    });
    expect(rule.expiresAt).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(rule.expiresAt).toBeLessThanOrEqual(Date.now() + 3_600_000);

    const listed = await t.request('GET', '/api/firewall/rules', { token: viewer });
    expect((listed.body as { items: Rule[] }).items).toContainEqual(rule);
    expect((await t.request('GET', `/api/firewall/rules/${rule.id}`, { token: viewer })).body).toEqual(rule);
    expect((await t.request('GET', '/api/firewall/rules/99999', { token: viewer })).status).toBe(404);

    const changed = await t.request('PATCH', `/api/firewall/rules/${rule.id}`, {
      token: admin,
      body: { comment: 'until further notice', expiresAt: null },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ id: rule.id, comment: 'until further notice', expiresAt: null });

    const status = await t.request('GET', '/api/firewall/status', { token: viewer });
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ mode: 'dry-run', backend: 'dry-run', autoBlock: { enabled: true } });
    expect(
      (status.body as { wouldHaveDone: { detail: string }[] }).wouldHaveDone.map((a) => a.detail).join(' '),
    ).toContain('2001:db8:77::/48');

    const lifted = await t.request('DELETE', `/api/firewall/rules/${rule.id}`, { token: admin });
    expect(lifted.status).toBe(200);
    expect(lifted.body).toMatchObject({ id: rule.id, removedBy: 'ada' });
    const inForce = (await t.request('GET', '/api/firewall/rules', { token: viewer })).body as {
      items: Rule[];
    };
    expect(inForce.items.map((r) => r.id)).not.toContain(rule.id);
    const all = (await t.request('GET', '/api/firewall/rules?all=true', { token: viewer })).body as {
      items: Rule[];
    };
    expect(all.items.find((r) => r.id === rule.id)).toEqual(lifted.body);
    expect((await t.request('DELETE', `/api/firewall/rules/${rule.id}`, { token: admin })).status).toBe(409);

    const target = String(rule.id);
    expect((await auditItems('firewall.rule.add')).find((e) => e.target === target)).toMatchObject({
      actor: 'ada',
      before: null,
      after: rule,
    });
    expect((await auditItems('firewall.rule.update')).find((e) => e.target === target)).toMatchObject({
      before: rule,
      after: changed.body,
    });
    expect((await auditItems('firewall.rule.remove')).find((e) => e.target === target)).toMatchObject({
      actor: 'ada',
      before: changed.body,
      after: lifted.body,
    });
  });

  it('refuses malformed rules and changes with 400', async () => {
    const admin = tokens.admin!.accessToken;
    for (const body of [
      { kind: 'block', source: '10.0.0.0/33' },
      { kind: 'block', source: '10.0.0.1; flush ruleset' },
      { kind: 'block', source: '10.0.0.1/8' },
      { kind: 'block' },
      { kind: 'block', source: '10.0.0.1', port: 22 },
      { kind: 'block', source: '10.0.0.1', dst: '2001:db8::1' },
      { kind: 'close', port: 22 },
      { kind: 'close', protocol: 'icmp', port: 1 },
      { kind: 'close', protocol: 'tcp', port: 70_000 },
      { kind: 'accept-all' },
      { action: 'drop', src: '10.0.0.1' },
      { kind: 'block', source: '10.0.0.1', interface: 'eth0; nft flush ruleset' },
      { kind: 'block', source: '10.0.0.1', comment: 'x'.repeat(201) },
      { kind: 'block', source: '10.0.0.1', expiresAt: 1 },
      { kind: 'block', source: '10.0.0.1', expiresAt: Date.now() + 60_000, expiresInSeconds: 60 },
      { kind: 'block', source: '10.0.0.1', expiresInSeconds: 0 },
    ]) {
      const res = await t.request('POST', '/api/firewall/rules', { token: admin, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    const rule = (
      await t.request('POST', '/api/firewall/rules', {
        token: admin,
        body: { kind: 'block', source: '203.0.113.200' },
      })
    ).body as Rule;
    for (const body of [{}, { expiresAt: 1 }, { comment: 'ok', source: '203.0.113.201' }]) {
      const res = await t.request('PATCH', `/api/firewall/rules/${rule.id}`, { token: admin, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect((await t.request('DELETE', '/api/firewall/rules/abc', { token: admin })).status).toBe(400);
    expect((await t.request('DELETE', `/api/firewall/rules/${rule.id}`, { token: admin })).status).toBe(200);
  });

  it('refuses an unsafe rule with 409 and the reason, audited as denied', async () => {
    const admin = tokens.admin!.accessToken;
    const apiPort = Number(new URL(t.server.url).port);
    for (const [body, reason] of [
      [{ kind: 'block', source: '127.0.0.1' }, /127\.0\.0\.1 is loopback/],
      [{ kind: 'block', source: '::1' }, /loopback/],
      [{ kind: 'close', protocol: 'tcp', port: 22 }, /22\/tcp is how admins reach this host/],
      [{ kind: 'close', protocol: 'tcp', port: apiPort }, new RegExp(`${apiPort}/tcp is how admins reach`)],
    ] as const) {
      const res = await t.request('POST', '/api/firewall/rules', { token: admin, body });
      expect(res.status, JSON.stringify(body)).toBe(409);
      expect((res.body as { error: string; message: string }).error).toBe('CONFLICT');
      expect((res.body as { message: string }).message).toMatch(reason);
    }
    await vi.waitFor(async () => {
      const denied = (
        (
          await t.request('GET', '/api/logs/audit?action=firewall.rule.add&outcome=denied', {
            token: admin,
          })
        ).body as { items: { after: { source: string | null } }[] }
      ).items;
      expect(denied.map((e) => e.after.source)).toContain('127.0.0.1');
    });
  });

  it('never blocks where a signed-in admin is connected from', async () => {
    const admin = tokens.admin!.accessToken;
    // An admin's request marks the address it comes from.
    expect((await t.request('GET', '/api/auth/me', { token: admin })).status).toBe(200);
    expect(t.server.adminSessions.addresses()).toContain('127.0.0.1');
    // 127.0.0.1 is refused first as loopback: an admin elsewhere shows the admin-session reason.
    t.server.adminSessions.saw('198.51.100.9', 'alice');
    for (const source of ['198.51.100.9', '198.51.100.8/29']) {
      const res = await t.request('POST', '/api/firewall/rules', {
        token: admin,
        body: { kind: 'block', source },
      });
      expect(res.status, source).toBe(409);
      expect((res.body as { message: string }).message).toMatch(
        /includes 198\.51\.100\.9, where a logged-in admin is connected from/,
      );
    }
  });

  it('switches automatic blocking off and on, audited', async () => {
    const admin = tokens.admin!.accessToken;
    const off = await t.request('PUT', '/api/firewall/auto-block', {
      token: admin,
      body: { enabled: false },
    });
    expect(off.status).toBe(200);
    expect(off.body).toEqual({ enabled: false });
    const status = await t.request('GET', '/api/firewall/status', { token: tokens.viewer!.accessToken });
    expect(status.body).toMatchObject({ autoBlock: { enabled: false } });
    for (const body of [{}, { enabled: 'no' }, { enabled: false, forever: true }]) {
      expect((await t.request('PUT', '/api/firewall/auto-block', { token: admin, body })).status).toBe(400);
    }
    const on = await t.request('PUT', '/api/firewall/auto-block', { token: admin, body: { enabled: true } });
    expect(on.body).toEqual({ enabled: true });
    expect((await auditItems('firewall.autoblock')).slice(0, 2)).toMatchObject([
      { actor: 'ada', before: { enabled: false }, after: { enabled: true } },
      { actor: 'ada', before: { enabled: true }, after: { enabled: false } },
    ]);
  });
});

describe('API backup and restore (real HTTP)', () => {
  it('restores the backed-up data, refuses hostile names and corrupt files, and keeps the live data then', async () => {
    const admin = tokens.admin!.accessToken;
    const rules = async (): Promise<unknown> =>
      ((await t.request('GET', '/api/firewall/rules', { token: admin })).body as { items: unknown[] }).items;
    const users = async (): Promise<string[]> =>
      (
        (await t.request('GET', '/api/users', { token: admin })).body as { items: { username: string }[] }
      ).items
        .map((u) => u.username)
        .sort();
    const kept = await t.request('POST', '/api/firewall/rules', {
      token: admin,
      body: { kind: 'block', source: '203.0.113.9', comment: 'before the backup' },
    });
    expect(kept.status).toBe(201);
    const rulesBefore = await rules();
    const usersBefore = await users();

    const made = await t.request('POST', '/api/backup/create', { token: admin });
    expect(made.status).toBe(201);
    const name = (made.body as { name: string }).name;
    expect(JSON.stringify(made.body)).not.toContain(t.dataDir);
    const listed = await t.request('GET', '/api/backups', { token: admin });
    expect((listed.body as { items: { name: string }[] }).items.map((b) => b.name)).toContain(name);

    // Change the data after the backup.
    const later = await t.request('POST', '/api/firewall/rules', {
      token: admin,
      body: { kind: 'block', source: '203.0.113.64/26', comment: 'after the backup' },
    });
    expect(later.status).toBe(201);
    const victim = await t.signIn('temp-user', 'viewer');
    expect(await users()).toContain('temp-user');

    // Hostile names never reach the file system.
    for (const bad of [
      '../flowtrack.db',
      '/etc/passwd',
      '..%2f..%2fx.ftbak',
      `${name}/../../x`,
      'a\u0000.ftbak',
    ]) {
      const res = await t.request('POST', '/api/backup/restore', { token: admin, body: { name: bad } });
      expect(res.status).toBe(400);
    }
    const refused = await securityEvents('bad_input');
    expect(refused.some((e) => e.field === 'body/name')).toBe(true);

    // A corrupt copy of the backup is refused and changes nothing.
    const dir = join(t.dataDir, 'backups');
    const bytes = readFileSync(join(dir, name));
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 100) ^ 0xff, bytes.length - 100);
    const corruptName = name.replace(/\.\d{3}Z/, '.999Z');
    writeFileSync(join(dir, corruptName), bytes);
    const corrupt = await t.request('POST', '/api/backup/restore', {
      token: admin,
      body: { name: corruptName },
    });
    expect(corrupt.status).toBe(400);
    expect((corrupt.body as { error: string }).error).toBe('BAD_BACKUP');
    expect(await users()).toContain('temp-user');

    const restored = await t.request('POST', '/api/backup/restore', { token: admin, body: { name } });
    expect(restored.status).toBe(200);
    expect((restored.body as { previous: string | null }).previous).not.toBeNull();
    expect(await rules()).toEqual(rulesBefore);
    // The firewall follows the restored rules.
    const blocked = (await t.server.firewall.backendInUse.read())?.blocked.map((b) => b.address);
    expect(blocked).toContain('203.0.113.9');
    expect(blocked).not.toContain('203.0.113.64/26');
    expect(await users()).toEqual(usersBefore);
    // The user created after the backup is gone, and so is its session.
    expect((await t.request('GET', '/api/auth/me', { token: victim.accessToken })).status).toBe(401);
    const log = await t.request('GET', '/api/logs/audit?action=backup.restore', { token: admin });
    expect((log.body as { items: { target: string }[] }).items[0]?.target).toBe(name);
  });
});

describe('API live stream (real HTTP)', () => {
  it('streams rates to a viewer as server-sent events, and refuses anonymous clients', async () => {
    expect((await t.request('GET', '/api/stream')).status).toBe(401);
    const abort = new AbortController();
    const res = await fetch(`${t.server.url}/api/stream`, {
      headers: { authorization: `Bearer ${tokens.viewer!.accessToken}` },
      signal: abort.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    let text = '';
    const deadline = Date.now() + 5000;
    for await (const chunk of Readable.fromWeb(res.body!)) {
      text += (chunk as Buffer).toString();
      if (text.includes('event: rates') || Date.now() > deadline) break;
    }
    abort.abort();
    expect(text).toContain('event: rates');
    const data = /event: rates\ndata: (.*)\n/.exec(text)![1]!;
    expect(JSON.parse(data)).toMatchObject({ type: 'rates', flowsPerSecond: 0 });
  });
});

describe('API tokens (real HTTP)', () => {
  const key = (): Uint8Array =>
    new Uint8Array(Buffer.from(readFileSync(join(t.dataDir, 'jwt-secret'), 'utf8').trim(), 'base64'));
  const claims = (role: string) => ({ username: 'vic', role, typ: 'access' });

  it('refuses an expired token', async () => {
    const expired = await new SignJWT(claims('viewer'))
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(String(tokens.viewer!.id))
      .setJti('x')
      .setIssuer('flowtrack')
      .setAudience('flowtrack-api')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 3600)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 1800)
      .sign(key());
    const res = await t.request('GET', '/api/auth/me', { token: expired });
    expect(res.status).toBe(401);
  });

  it('refuses a token whose payload was changed (viewer made admin)', async () => {
    const [header, payload, signature] = tokens.viewer!.accessToken.split('.') as [string, string, string];
    const claimsIn = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claimsIn, role: 'admin' })).toString('base64url');
    const res = await t.request('GET', '/api/users', { token: `${header}.${forged}.${signature}` });
    expect(res.status).toBe(401);
  });

  it('refuses an alg:none token', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(
      JSON.stringify({
        ...claims('admin'),
        sub: String(tokens.viewer!.id),
        jti: 'y',
        iss: 'flowtrack',
        aud: 'flowtrack-api',
        iat: Math.floor(Date.now() / 1000),
        exp: Math.floor(Date.now() / 1000) + 600,
      }),
    ).toString('base64url');
    const res = await t.request('GET', '/api/users', { token: `${header}.${payload}.` });
    expect(res.status).toBe(401);
    const events = await securityEvents('token_invalid');
    expect(events.some((e) => e.reason === 'alg_none' || e.reason === 'malformed')).toBe(true);
  });

  it('refuses a token signed with another key', async () => {
    const other = await new SignJWT(claims('admin'))
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(String(tokens.viewer!.id))
      .setJti('z')
      .setIssuer('flowtrack')
      .setAudience('flowtrack-api')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(new Uint8Array(32).fill(7));
    expect((await t.request('GET', '/api/users', { token: other })).status).toBe(401);
  });

  it('rotates refresh tokens and refuses one used after logout', async () => {
    const session = await t.signIn('rita', 'viewer');
    const refreshed = await t.request('POST', '/api/auth/refresh', {
      body: { refreshToken: session.refreshToken },
    });
    expect(refreshed.status).toBe(200);
    const next = refreshed.body as { accessToken: string; refreshToken: string };
    expect(next.refreshToken).not.toBe(session.refreshToken);
    const out = await t.request('POST', '/api/auth/logout', {
      token: next.accessToken,
      body: { refreshToken: next.refreshToken },
    });
    expect(out.status).toBe(204);
    const after = await t.request('POST', '/api/auth/refresh', { body: { refreshToken: next.refreshToken } });
    expect(after.status).toBe(401);
    // The token rotated away earlier is refused too (reuse).
    expect(
      (await t.request('POST', '/api/auth/refresh', { body: { refreshToken: session.refreshToken } })).status,
    ).toBe(401);
  });

  it('a password change ends the other sessions: their refresh tokens are refused', async () => {
    const session = await t.signIn('pat', 'viewer');
    const other = await t.request('POST', '/api/auth/login', {
      body: { username: 'pat', password: GOOD_PASSWORD },
    });
    const otherTokens = other.body as { refreshToken: string };
    const changed = await t.request('POST', '/api/auth/password', {
      token: session.accessToken,
      body: { currentPassword: GOOD_PASSWORD, newPassword: 'another-long-passphrase-42' },
    });
    expect(changed.status).toBe(204);
    expect(
      (await t.request('POST', '/api/auth/refresh', { body: { refreshToken: otherTokens.refreshToken } }))
        .status,
    ).toBe(401);
  });

  it('a disabled user is refused at once, although its access token has not expired', async () => {
    const session = await t.signIn('dan', 'viewer');
    expect((await t.request('GET', '/api/auth/me', { token: session.accessToken })).status).toBe(200);
    const res = await t.request('PATCH', `/api/users/${session.id}`, {
      token: tokens.admin!.accessToken,
      body: { disabled: true },
    });
    expect(res.status).toBe(200);
    expect((await t.request('GET', '/api/auth/me', { token: session.accessToken })).status).toBe(401);
  });
});

describe('API input (real HTTP)', () => {
  const hostile = [
    ['/api/flows?port=80%27%20OR%201%3D1', 'querystring/port'],
    ['/api/flows?address=1.2.3.4%27%3B%20DROP%20TABLE%20flows%3B--', 'querystring/address'],
    ['/api/anomalies?src=%27%20OR%20%271%27%3D%271', 'querystring/src'],
    ['/api/flows?protocol=tcp%22%29%3B', 'querystring/protocol'],
    ['/api/logs/audit?action=..%2F..%2Fetc%2Fpasswd', 'querystring/action'],
    ['/api/flows?limit=1&sort=1;DROP', 'querystring'],
  ] as const;

  for (const [path, field] of hostile) {
    it(`refuses ${decodeURIComponent(path)} and logs it`, async () => {
      const res = await t.request('GET', path, { token: tokens.admin!.accessToken });
      expect(res.status).toBe(400);
      const events = await securityEvents('bad_input');
      expect(events.some((e) => String(e.field).startsWith(field))).toBe(true);
    });
  }

  it('refuses a hostile top-ports measure on /api/traffic and logs it', async () => {
    const res = await t.request('GET', '/api/traffic?by=bytes%3B%20DROP%20TABLE%20port_rollups', {
      token: tokens.viewer!.accessToken,
    });
    expect(res.status).toBe(400);
    const events = await securityEvents('bad_input');
    expect(events.some((e) => String(e.field).startsWith('querystring/by'))).toBe(true);
  });

  it('the flows table is still there and answers', async () => {
    const res = await t.request('GET', '/api/flows?limit=5', { token: tokens.viewer!.accessToken });
    expect(res.status).toBe(200);
  });

  it('refuses a body larger than the limit and a non-JSON body without crashing', async () => {
    const big = await t.request('POST', '/api/auth/login', {
      body: JSON.stringify({ username: 'x', password: 'y'.repeat(2_000_000) }),
    });
    expect(big.status).toBe(413);
    const bad = await t.request('POST', '/api/auth/login', { body: '{"username":' });
    expect(bad.status).toBe(400);
    expect((await t.request('GET', '/api/health')).status).toBe(200);
  });

  it('sends security headers and no CORS permission by default', async () => {
    const res = await fetch(`${t.server.url}/api/health`, { headers: { origin: 'https://evil.example' } });
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('API login protection (real HTTP)', () => {
  it('locks a user out after repeated failures, even with the right password, and logs it', async () => {
    await t.signIn('lou', 'viewer');
    for (let i = 0; i < 5; i++) {
      const res = await t.request('POST', '/api/auth/login', {
        body: { username: 'lou', password: `wrong-${i}` },
      });
      expect(res.status).toBe(401);
    }
    const locked = await t.request('POST', '/api/auth/login', {
      body: { username: 'lou', password: GOOD_PASSWORD },
    });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    const lockouts = await securityEvents('login_locked_out');
    expect(lockouts.some((e) => e.user === 'lou')).toBe(true);
    const failures = await securityEvents('login_failed');
    expect(failures.filter((e) => e.user === 'lou').length).toBeGreaterThanOrEqual(5);
    // Never the password itself.
    const raw = readFileSync(join(t.dataDir, 'logs', 'security.log'), 'utf8');
    expect(raw).not.toContain('wrong-1');
    expect(raw).not.toContain(GOOD_PASSWORD);
  });

  it('limits login attempts per client address per minute', async () => {
    const limited = await startTestServer({ FLOWTRACK_RATE_LIMIT_LOGIN_PER_MINUTE: '3' });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await limited.request('POST', '/api/auth/login', {
          body: { username: `nobody${i}`, password: 'whatever-it-is' },
        });
        statuses.push(res.status);
      }
      expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
      expect(statuses.slice(3)).toEqual([429, 429]);
    } finally {
      await limited.close();
    }
  });
});
