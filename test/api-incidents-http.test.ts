/**
 * Issue 10 through the real HTTP API of a real server (SQLite, dry-run firewall): an alert's life
 * (acknowledge with a comment, assign, comment, resolve, reopen, a group at once), suppression
 * rules and severity overrides taking effect in the server's alert center at once, notification
 * channels whose secrets never come back (and a "send test" to a real HTTP receiver), and an
 * incident from report to close with its links, timeline and exported HTML report. Every state
 * change is then looked up in the audit log.
 */

import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../src/alerts/alert.js';
import type { IncidentDetail } from '../src/incidents/incident-types.js';
import type { AlertRecord } from '../src/store/alert-repository.js';
import { startTestServer, type TestServer } from './helpers/api-server.js';

const NOW_US = Date.now() * 1000;
let t: TestServer;
let admin = '';
let analyst = '';
let viewer = '';

function alert(id: string, fields: Partial<Alert> = {}): Alert {
  return {
    id,
    type: 'port_scan',
    severity: 'high',
    src: '203.0.113.5',
    dst: '192.0.2.7',
    start: NOW_US - 60_000_000,
    end: NOW_US - 30_000_000,
    counters: { ports: 200 },
    summary: '203.0.113.5 probed 200 ports of 192.0.2.7 <b>bold?</b>',
    evidence: {
      thresholds: [{ metric: 'ports', value: 200, threshold: 50 }],
      sampleFlows: [],
      topSources: [],
    },
    updates: 3,
    ...fields,
  };
}

const api = async (method: string, path: string, token: string, body?: unknown) => {
  const res = await t.request(method, path, { token, ...(body !== undefined && { body }) });
  return res;
};

interface AuditItem {
  actor: string;
  action: string;
  target: string | null;
  before: unknown;
  after: unknown;
  outcome: string;
}
const auditOf = async (action: string): Promise<AuditItem[]> =>
  ((await api('GET', `/api/logs/audit?action=${action}&limit=1000`, admin)).body as { items: AuditItem[] })
    .items;

beforeAll(async () => {
  t = await startTestServer({ FLOWTRACK_RATE_LIMIT_PER_MINUTE: '100000' });
  admin = (await t.signIn('ada', 'admin')).accessToken;
  analyst = (await t.signIn('ana', 'analyst')).accessToken;
  viewer = (await t.signIn('vic', 'viewer')).accessToken;
  await t.server.store.alerts.upsertAlerts(
    [
      alert('port_scan-t-1'),
      alert('brute_force-t-2', { type: 'brute_force', severity: 'medium', dst: '192.0.2.22' }),
      alert('ddos-t-3', { type: 'ddos', src: null, dst: '192.0.2.80', severity: 'critical' }),
    ],
    Date.now(),
  );
}, 60_000);

afterAll(async () => {
  await t.close();
});

describe('alert lifecycle (real HTTP)', () => {
  it('acknowledges with a comment, assigns, comments, resolves and reopens, each in the history', async () => {
    const id = 'port_scan-t-1';
    expect(
      (await api('POST', `/api/anomalies/${id}/acknowledge`, analyst, { comment: 'on it' })).status,
    ).toBe(200);
    expect(
      (await api('POST', `/api/anomalies/${id}/assign`, analyst, { assignee: 'nobody-here' })).status,
    ).toBe(400);
    expect(
      (await api('POST', `/api/anomalies/${id}/assign`, analyst, { assignee: 'ana' })).body,
    ).toMatchObject({
      assignee: 'ana',
    });
    await api('POST', `/api/anomalies/${id}/comments`, analyst, { text: 'the lab scanner' });
    expect((await api('POST', `/api/anomalies/${id}/resolve`, analyst)).body).toMatchObject({
      status: 'resolved',
      resolvedBy: 'ana',
    });
    expect((await api('POST', `/api/anomalies/${id}/acknowledge`, analyst)).status).toBe(409);
    expect(
      (await api('POST', `/api/anomalies/${id}/reopen`, analyst, { comment: 'again' })).body,
    ).toMatchObject({
      status: 'open',
    });
    expect((await api('POST', `/api/anomalies/${id}/comments`, viewer, { text: 'x' })).status).toBe(403);
    expect((await api('POST', `/api/anomalies/${id}/comments`, analyst, { text: '' })).status).toBe(400);
    const detail = (await api('GET', `/api/anomalies/${id}`, viewer)).body as AlertRecord & {
      history: { kind: string; actor: string; text: string | null }[];
    };
    expect(detail.history.map((e) => [e.kind, e.actor, e.text])).toEqual([
      ['acknowledged', 'ana', 'on it'],
      ['assigned', 'ana', 'ana'],
      ['commented', 'ana', 'the lab scanner'],
      ['resolved', 'ana', null],
      ['reopened', 'ana', 'again'],
    ]);
    expect((await api('GET', '/api/anomalies?assignee=ana', viewer)).body).toMatchObject({
      items: [{ id }],
    });
  });

  it('groups alerts by attacker and acknowledges a group at once', async () => {
    const groups = (await api('GET', '/api/anomalies/groups', viewer)).body as {
      groups: { group: string; count: number; types: string[] }[];
    };
    expect(groups.groups.find((g) => g.group === 'src:203.0.113.5')).toMatchObject({
      count: 2,
      types: ['brute_force', 'port_scan'],
    });
    const res = await api('POST', '/api/anomalies/groups/acknowledge', analyst, { group: 'src:203.0.113.5' });
    expect(res.body).toEqual({
      changed: expect.arrayContaining(['port_scan-t-1', 'brute_force-t-2']) as unknown,
    });
    expect(
      (await api('POST', '/api/anomalies/groups/acknowledge', analyst, { group: 'src:<x>' })).status,
    ).toBe(400);
  });

  it("acknowledges one sensor's alerts of a group, and leaves the others' open", async () => {
    const src = '203.0.113.77';
    await t.server.store.alerts.upsertAlerts(
      [alert('scan-here', { src }), alert('scan-edge', { src, sensor: 'edge-1' })],
      Date.now(),
    );
    const groups = (await api('GET', '/api/anomalies/groups?sensor=edge-1', viewer)).body as {
      groups: { group: string; count: number }[];
    };
    expect(groups.groups.filter((g) => g.group === `src:${src}`)).toEqual([
      expect.objectContaining({ count: 1 }),
    ]);
    const res = await api('POST', '/api/anomalies/groups/acknowledge', analyst, {
      group: `src:${src}`,
      sensor: 'edge-1',
    });
    expect(res.body).toEqual({ changed: ['scan-edge'] });
    expect((await t.server.store.alerts.findById('scan-here'))?.status).toBe('open');
    expect((await auditOf('alert.group.acknowledge')).find((e) => e.target === `src:${src}`)).toMatchObject({
      actor: 'ana',
      after: { sensor: 'edge-1', changed: 1 },
    });
    const bad = await api('POST', '/api/anomalies/groups/acknowledge', analyst, {
      group: `src:${src}`,
      sensor: 'edge.1>',
    });
    expect(bad.status).toBe(400);
  });

  it('suppression rules and severity overrides take effect in the alert center at once', async () => {
    const bad = await api('POST', '/api/alert_suppressions', analyst, { reason: 'x', minutes: 5 });
    expect(bad.status).toBe(400);
    const hostBits = await api('POST', '/api/alert_suppressions', analyst, {
      src: '198.51.100.7/24',
      reason: 'x',
      minutes: 5,
    });
    expect(hostBits.status).toBe(400);
    const made = await api('POST', '/api/alert_suppressions', analyst, {
      type: 'port_scan',
      src: '198.51.100.0/24',
      reason: 'the weekly vulnerability scan',
      minutes: 60,
    });
    expect(made.status).toBe(201);
    const rule = made.body as { id: number; active: boolean; createdBy: string };
    expect(rule).toMatchObject({ active: true, createdBy: 'ana' });
    const center = t.server.alerts;
    expect(center.prepare(alert('p', { src: '198.51.100.9' })).suppressedBy).toBe(rule.id);
    expect(center.prepare(alert('p', { src: '198.51.101.9' })).suppressedBy).toBeNull();

    expect((await api('PUT', '/api/alert_severity_overrides', analyst, { overrides: {} })).status).toBe(403);
    const put = await api('PUT', '/api/alert_severity_overrides', admin, { overrides: { port_scan: 'low' } });
    expect(put.body).toMatchObject({ overrides: { port_scan: 'low' }, updatedBy: 'ada' });
    expect(center.prepare(alert('p'))).toMatchObject({ severity: 'low', detectedSeverity: 'high' });
    expect(
      (await api('PUT', '/api/alert_severity_overrides', admin, { overrides: { nope: 'low' } })).status,
    ).toBe(400);

    const removed = await api('DELETE', `/api/alert_suppressions/${rule.id}`, analyst);
    expect(removed.body).toMatchObject({ active: false, removedBy: 'ana' });
    expect(center.prepare(alert('p', { src: '198.51.100.9' })).suppressedBy).toBeNull();
    await api('PUT', '/api/alert_severity_overrides', admin, { overrides: {} });
    expect(center.prepare(alert('p')).severity).toBe('high');
  });
});

describe('notification channels (real HTTP)', () => {
  it('never sends secrets back, keeps them when an edit leaves them out, refuses a password in clear, and sends a test', async () => {
    const received: { path: string | undefined; auth: string | undefined; body: unknown }[] = [];
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({
          path: req.url,
          auth: req.headers.authorization,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown,
        });
        res.writeHead(200).end('ok');
      });
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    const { port } = receiver.address() as AddressInfo;
    try {
      const url = `http://127.0.0.1:${port}/hooks/SECRET-PATH-123?token=SECRET-QUERY`;
      const made = await api('POST', '/api/notification_channels', admin, {
        name: 'soc',
        kind: 'webhook',
        minSeverity: 'high',
        settings: { url, headers: { Authorization: 'Bearer SECRET-HEADER' } },
      });
      expect(made.status).toBe(201);
      const channel = made.body as { id: number; settings: Record<string, unknown> };
      expect(channel.settings).toEqual({
        url: `http://127.0.0.1:${port}/…`,
        format: 'json',
        headers: ['Authorization'],
      });
      expect((await api('GET', '/api/notification_channels', analyst)).status).toBe(403);
      // An edit without the URL and headers keeps them.
      const edited = await api('PUT', `/api/notification_channels/${channel.id}`, admin, {
        name: 'soc',
        kind: 'webhook',
        minSeverity: 'critical',
        settings: { format: 'slack' },
      });
      expect(edited.body).toMatchObject({
        minSeverity: 'critical',
        settings: { format: 'slack', headers: ['Authorization'] },
      });
      const test = await api('POST', `/api/notification_channels/${channel.id}/test`, admin);
      expect(test.body).toMatchObject({ status: 'sent' });
      expect(received).toHaveLength(1);
      expect(received[0]).toMatchObject({
        path: '/hooks/SECRET-PATH-123?token=SECRET-QUERY',
        auth: 'Bearer SECRET-HEADER',
      });
      expect(JSON.stringify(received[0]?.body)).toContain('FlowTrack');
      const log = (await api('GET', `/api/notification_deliveries?channel=${channel.id}`, analyst)).body as {
        items: { kind: string; status: string }[];
      };
      expect(log.items).toMatchObject([{ kind: 'test', status: 'sent' }]);

      const clear = await api('POST', '/api/notification_channels', admin, {
        name: 'mail',
        kind: 'email',
        settings: {
          host: 'smtp.example.net',
          port: 25,
          security: 'none',
          username: 'u',
          password: 'SECRET-PASSWORD',
          from: 'flowtrack@example.net',
          to: ['soc@example.net'],
        },
      });
      expect(clear.status).toBe(400);
      expect(JSON.stringify(clear.body)).toMatch(
        /security none would send the password in clear to smtp\.example\.net/,
      );
      expect(JSON.stringify(clear.body)).not.toContain('SECRET');

      const deleted = await api('DELETE', `/api/notification_channels/${channel.id}`, admin);
      expect(deleted.status).toBe(200);
      // No secret in the audit log.
      const audit = JSON.stringify([
        ...(await auditOf('channel.create')),
        ...(await auditOf('channel.update')),
        ...(await auditOf('channel.delete')),
        ...(await auditOf('channel.test')),
      ]);
      expect(audit).toContain('soc');
      expect(audit).not.toContain('SECRET');
    } finally {
      receiver.close();
    }
  });
});

describe('incidents (real HTTP)', () => {
  it('reports, links, comments, moves through every status and exports a report holding the linked alerts', async () => {
    const rule = await api('POST', '/api/firewall/rules', admin, {
      kind: 'block',
      source: '203.0.113.5',
      comment: 'scanner of the DMZ',
    });
    expect(rule.status).toBe(201);
    const ruleId = (rule.body as { id: number }).id;

    expect((await api('POST', '/api/incidents', viewer, { title: 'x', severity: 'low' })).status).toBe(403);
    const missing = await api('POST', '/api/incidents', analyst, {
      title: 'x',
      severity: 'low',
      links: [{ kind: 'alert', ref: 'no-such-alert' }],
    });
    expect(missing.status).toBe(400);
    const made = await api('POST', '/api/incidents', analyst, {
      title: 'Scan of the DMZ <script>alert(1)</script>',
      description: 'Seen by the SOC at 09:12.\nSecond line.',
      severity: 'high',
      hosts: ['192.0.2.7', '203.0.113.5'],
      links: [{ kind: 'alert', ref: 'port_scan-t-1', note: 'the scan itself' }],
    });
    expect(made.status).toBe(201);
    let detail = made.body as IncidentDetail;
    const id = detail.incident.id;
    expect(detail.incident).toMatchObject({
      status: 'open',
      createdBy: 'ana',
      hosts: ['192.0.2.7', '203.0.113.5'],
    });

    const withBrute = (
      await api('POST', `/api/incidents/${id}/links`, analyst, { kind: 'alert', ref: 'brute_force-t-2' })
    ).body as IncidentDetail;
    expect(withBrute.links.map((l) => l.ref)).toEqual(['port_scan-t-1', 'brute_force-t-2']);
    expect(
      (await api('POST', `/api/incidents/${id}/links`, analyst, { kind: 'alert', ref: 'brute_force-t-2' }))
        .status,
    ).toBe(409);
    const withBlock = await api('POST', `/api/incidents/${id}/links`, analyst, {
      kind: 'block',
      ref: String(ruleId),
    });
    expect(withBlock.status).toBe(200);
    const scratch = (
      await api('POST', `/api/incidents/${id}/links`, analyst, { kind: 'alert', ref: 'ddos-t-3' })
    ).body as IncidentDetail;
    const ddosLink = scratch.links.find((l) => l.ref === 'ddos-t-3')!;
    detail = (await api('DELETE', `/api/incidents/${id}/links/${ddosLink.id}`, analyst))
      .body as IncidentDetail;
    expect(detail.links.map((l) => [l.kind, l.ref, l.target?.label])).toEqual([
      ['alert', 'port_scan-t-1', 'port_scan from 203.0.113.5 to 192.0.2.7 (high, acknowledged)'],
      ['alert', 'brute_force-t-2', 'brute_force from 203.0.113.5 to 192.0.2.22 (medium, acknowledged)'],
      ['block', String(ruleId), 'block 203.0.113.5 (in force)'],
    ]);

    await api('POST', `/api/incidents/${id}/comments`, analyst, {
      text: 'Blocked at the edge; checking 192.0.2.7.',
    });
    for (const status of ['investigating', 'contained', 'closed']) {
      const res = await api('PATCH', `/api/incidents/${id}`, analyst, { status });
      expect((res.body as IncidentDetail).incident.status).toBe(status);
    }
    detail = (await api('PATCH', `/api/incidents/${id}`, analyst, { severity: 'critical', assignee: 'ana' }))
      .body as IncidentDetail;
    expect(detail.incident).toMatchObject({ severity: 'critical', assignee: 'ana', status: 'closed' });
    expect(detail.incident.closedAt).not.toBeNull();
    expect((await api('PATCH', `/api/incidents/${id}`, analyst, { assignee: 'ghost' })).status).toBe(400);

    const kinds = detail.timeline.map((e) => `${e.source}:${e.kind}`);
    for (const wanted of [
      'alert:raised',
      'alert:acknowledged',
      'alert:commented',
      'incident:created',
      'incident:linked',
      'incident:unlinked',
      'block:blocked',
      'incident:commented',
      'incident:status',
      'incident:edited',
    ]) {
      expect(kinds).toContain(wanted);
    }
    const times = detail.timeline.map((e) => e.at);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    // The alerts' evidence began before anyone reported anything.
    expect(kinds[0]).toBe('alert:raised');

    const list = (await api('GET', '/api/incidents?status=closed', viewer)).body as {
      items: { id: number }[];
    };
    expect(list.items.map((i) => i.id)).toContain(id);
    expect(
      ((await api('GET', '/api/incidents?active=true', viewer)).body as { items: unknown[] }).items,
    ).toEqual([]);

    const report = await t.request('GET', `/api/incidents/${id}/report`, { token: viewer });
    expect(report.status).toBe(200);
    expect(report.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(report.headers.get('content-disposition')).toBe(`attachment; filename="incident-${id}.html"`);
    const html = report.body as string;
    const linked = /<table aria-label="Linked alerts">([\s\S]*?)<\/table>/.exec(html)?.[1] ?? '';
    const rows = [...linked.matchAll(/<tr><td class="mono">([^<]+)<\/td>/g)].map((m) => m[1]);
    expect(rows).toEqual(['port_scan-t-1', 'brute_force-t-2']);
    expect(html).toContain('Scan of the DMZ &#60;script&#62;alert(1)&#60;/script&#62;');
    expect(html).toContain('&#60;b&#62;bold?&#60;/b&#62;');
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
    expect(html).toContain('Blocked at the edge; checking 192.0.2.7.');
    expect(html).toContain('contained → closed');
    expect((await t.request('GET', '/api/incidents/999999/report', { token: viewer })).status).toBe(404);
  });

  it('records every state change in the audit log, with who did it', async () => {
    const expected: [string, string][] = [
      ['alert.acknowledge', 'ana'],
      ['alert.assign', 'ana'],
      ['alert.comment', 'ana'],
      ['alert.resolve', 'ana'],
      ['alert.reopen', 'ana'],
      ['alert.group.acknowledge', 'ana'],
      ['suppression.create', 'ana'],
      ['suppression.remove', 'ana'],
      ['alert.severity_overrides', 'ada'],
      ['channel.create', 'ada'],
      ['channel.update', 'ada'],
      ['channel.test', 'ada'],
      ['channel.delete', 'ada'],
      ['incident.create', 'ana'],
      ['incident.link', 'ana'],
      ['incident.unlink', 'ana'],
      ['incident.comment', 'ana'],
      ['incident.status', 'ana'],
      ['incident.update', 'ana'],
      ['incident.export', 'vic'],
    ];
    for (const [action, actor] of expected) {
      const items = await auditOf(action);
      expect(items.length, action).toBeGreaterThan(0);
      expect(
        items.every((i) => i.actor === actor && i.outcome === 'ok'),
        action,
      ).toBe(true);
    }
    const statuses = (await auditOf('incident.status')).map((i) => [
      (i.before as { status: string }).status,
      (i.after as { status: string }).status,
    ]);
    expect(statuses.reverse()).toEqual([
      ['open', 'investigating'],
      ['investigating', 'contained'],
      ['contained', 'closed'],
    ]);
  });
});
