/**
 * The firewall API as the dashboard's Firewall page and an alert's "Block source" use it, through
 * real HTTP (a real server on 127.0.0.1, SQLite store, dry-run firewall): a rule made from an
 * alert keeps that alert and its audit entry names it, an unknown alert is refused, and the status
 * shows the policy the configuration file sets. Its own server, so the configured policy can
 * differ from the defaults without touching the other API tests.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../src/alerts/alert.js';
import { startTestServer, type TestServer } from './helpers/api-server.js';

let t: TestServer;
let admin: string;
let viewer: string;

const SCAN: Alert = {
  id: 'port_scan-42',
  type: 'port_scan',
  severity: 'high',
  src: '203.0.113.42',
  dst: '198.51.100.1',
  start: 1_700_000_000_000_000,
  end: 1_700_000_001_000_000,
  updates: 1,
  counters: { ports: 300 },
  summary: '203.0.113.42 probed 300 ports of 198.51.100.1',
  evidence: { thresholds: [{ metric: 'ports', value: 300, threshold: 20 }], sampleFlows: [], topSources: [] },
};

interface Rule {
  id: number;
  source: string | null;
  alertId: string | null;
  createdBy: string;
}

interface AuditItem {
  target: string | null;
  actor: string;
  outcome: string;
  after: { alertId?: string | null } | null;
}

async function auditItems(query: string): Promise<AuditItem[]> {
  return (
    (await t.request('GET', `/api/logs/audit?${query}`, { token: admin })).body as { items: AuditItem[] }
  ).items;
}

beforeAll(async () => {
  t = await startTestServer({
    FLOWTRACK_FIREWALL_ALLOW_LIST: '10.20.0.0/16,2001:db8:aa::/48',
    FLOWTRACK_FIREWALL_PROTECTED_PORTS: '22/tcp,443/tcp',
    FLOWTRACK_FIREWALL_AUTO_BLOCK_DURATIONS: '5m,1h,permanent',
    FLOWTRACK_FIREWALL_AUTO_BLOCK_MIN_SEVERITY: 'critical',
    FLOWTRACK_FIREWALL_AUTO_BLOCK_ALERT_TYPES: 'port_scan,brute_force',
    FLOWTRACK_FIREWALL_AUTO_BLOCK_MAX_PER_MINUTE: '30',
  });
  admin = (await t.signIn('ada', 'admin')).accessToken;
  viewer = (await t.signIn('vic', 'viewer')).accessToken;
  await t.server.store.alerts.upsertAlerts([SCAN], Date.now());
}, 60_000);

afterAll(async () => {
  await t.close();
});

describe('API firewall rules from an alert (real HTTP)', () => {
  it('keeps the alert behind an admin’s block, shows it to viewers and names it in the audit entry', async () => {
    const added = await t.request('POST', '/api/firewall/rules', {
      token: admin,
      body: { kind: 'block', source: SCAN.src, alertId: SCAN.id, expiresInSeconds: 600 },
    });
    expect(added.status).toBe(201);
    const rule = added.body as Rule;
    expect(rule).toMatchObject({ source: '203.0.113.42', alertId: 'port_scan-42', createdBy: 'ada' });

    const listed = (await t.request('GET', '/api/firewall/rules', { token: viewer })).body as {
      items: Rule[];
    };
    expect(listed.items.find((r) => r.id === rule.id)?.alertId).toBe('port_scan-42');
    const one = await t.request('GET', `/api/firewall/rules/${rule.id}`, { token: viewer });
    expect((one.body as Rule).alertId).toBe('port_scan-42');

    const entry = (await auditItems('action=firewall.rule.add')).find((e) => e.target === String(rule.id));
    expect(entry).toMatchObject({ actor: 'ada', outcome: 'ok', after: { alertId: 'port_scan-42' } });

    // Lifting it keeps the alert on the rule's history.
    const lifted = await t.request('DELETE', `/api/firewall/rules/${rule.id}`, { token: admin });
    expect(lifted.body).toMatchObject({ id: rule.id, alertId: 'port_scan-42', removedBy: 'ada' });
  });

  it('refuses an alert that does not exist with 404 and makes no rule', async () => {
    const before = (await t.request('GET', '/api/firewall/rules?all=true', { token: admin })).body as {
      items: Rule[];
    };
    const res = await t.request('POST', '/api/firewall/rules', {
      token: admin,
      body: { kind: 'block', source: '203.0.113.43', alertId: 'port_scan-404' },
    });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: 'NOT_FOUND' });
    expect((res.body as { message: string }).message).toMatch(/no alert port_scan-404/);
    const after = (await t.request('GET', '/api/firewall/rules?all=true', { token: admin })).body as {
      items: Rule[];
    };
    expect(after.items).toEqual(before.items);
  });

  it('refuses a malformed alert id with 400', async () => {
    for (const alertId of ['', '../etc/passwd', 'a b', 'x'.repeat(129), 42]) {
      const res = await t.request('POST', '/api/firewall/rules', {
        token: admin,
        body: { kind: 'block', source: '203.0.113.44', alertId },
      });
      expect(res.status, JSON.stringify(alertId)).toBe(400);
    }
  });

  it('a refused block from an alert is audited as denied with the alert', async () => {
    const res = await t.request('POST', '/api/firewall/rules', {
      token: admin,
      body: { kind: 'block', source: '10.20.1.1', alertId: SCAN.id },
    });
    expect(res.status).toBe(409);
    const denied = await auditItems('action=firewall.rule.add&outcome=denied');
    expect(denied.map((e) => e.after?.alertId)).toContain('port_scan-42');
  });

  it('an alert id is for admins only, as every rule is', async () => {
    const res = await t.request('POST', '/api/firewall/rules', {
      token: viewer,
      body: { kind: 'block', source: '203.0.113.45', alertId: SCAN.id },
    });
    expect(res.status).toBe(403);
  });
});

describe('API firewall status (real HTTP)', () => {
  it('shows a viewer the mode, backend, allow-list, protected ports and automatic blocking as configured', async () => {
    const apiPort = Number(new URL(t.server.url).port);
    const res = await t.request('GET', '/api/firewall/status', { token: viewer });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      mode: 'dry-run',
      backend: 'dry-run',
      configuredBackend: 'auto',
      allowList: ['10.20.0.0/16', '2001:db8:aa::/48'],
      protectedPorts: ['22/tcp', '443/tcp', `${apiPort}/tcp`],
      autoBlock: {
        enabled: true,
        blocksLastMinute: 0,
        maxPerMinute: 30,
        durations: ['5m', '1h', 'permanent'],
        minSeverity: 'critical',
        minSeverityByType: { connection_flood: 'low' },
        alertTypes: ['port_scan', 'brute_force'],
        forgetAfter: '30d',
        ipv6PrefixLength: 64,
      },
      counts: { blocked: 0, cappedOut: 0, refused: 0, failed: 0 },
      recentRefusals: [],
    });
    expect(Array.isArray((res.body as { wouldHaveDone: unknown }).wouldHaveDone)).toBe(true);
  });

  it('reports the kill switch’s live state, not the configured one', async () => {
    expect(
      (await t.request('PUT', '/api/firewall/auto-block', { token: admin, body: { enabled: false } })).status,
    ).toBe(200);
    const off = await t.request('GET', '/api/firewall/status', { token: viewer });
    expect(off.body).toMatchObject({ autoBlock: { enabled: false, durations: ['5m', '1h', 'permanent'] } });
    await t.request('PUT', '/api/firewall/auto-block', { token: admin, body: { enabled: true } });
    const on = await t.request('GET', '/api/firewall/status', { token: viewer });
    expect(on.body).toMatchObject({ autoBlock: { enabled: true } });
  });
});
