/**
 * One alert through real HTTP (GET /api/anomalies/:id), as the dashboard's alert page reads it: a
 * viewer gets the stored record with its figures, evidence and status, who acknowledged it after an
 * analyst did, and a 404 that says so for an unknown id.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../src/alerts/alert.js';
import type { AlertRecord } from '../src/store/alert-repository.js';
import { startTestServer, type TestServer } from './helpers/api-server.js';

const SCAN: Alert = {
  id: 'port_scan-7',
  type: 'port_scan',
  severity: 'high',
  src: '192.0.2.7',
  dst: '198.51.100.1',
  start: 1_700_000_000_000_000,
  end: 1_700_000_004_500_000,
  updates: 3,
  counters: { ports: 812, synPackets: 830 },
  summary: '192.0.2.7 probed 812 ports of 198.51.100.1',
  evidence: {
    thresholds: [{ metric: 'ports', value: 812, threshold: 500 }],
    sampleFlows: [
      {
        protocol: 'tcp',
        client: '192.0.2.7:40001',
        server: '198.51.100.1:22',
        packets: 2,
        bytes: 104,
        state: 'rejected',
      },
    ],
    topSources: [],
  },
};

let t: TestServer;
let viewer: string;
let analyst: string;

beforeAll(async () => {
  t = await startTestServer();
  viewer = (await t.signIn('vic', 'viewer')).accessToken;
  analyst = (await t.signIn('ana', 'analyst')).accessToken;
  await t.server.store.alerts.upsertAlerts([SCAN], Date.now());
  // Written by an older version: its evidence has no sample flows or top sources.
  await t.server.store.alerts.upsertAlerts(
    [{ ...SCAN, id: 'syn_flood-2', type: 'syn_flood', evidence: { thresholds: [] } } as unknown as Alert],
    Date.now(),
  );
}, 60_000);

afterAll(async () => {
  await t.close();
});

describe('GET /api/anomalies/:id (real HTTP)', () => {
  it('gives a viewer the stored alert with its figures, sample flows and open status', async () => {
    const res = await t.request('GET', '/api/anomalies/port_scan-7', { token: viewer });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: 'port_scan-7',
      type: 'port_scan',
      severity: 'high',
      src: '192.0.2.7',
      dst: '198.51.100.1',
      start: SCAN.start,
      end: SCAN.end,
      counters: { ports: 812, synPackets: 830 },
      summary: SCAN.summary,
      evidence: SCAN.evidence,
      updates: 3,
      status: 'open',
      acknowledgedBy: null,
      acknowledgedAt: null,
    });
  });

  it('says who acknowledged the alert and when, once an analyst has', async () => {
    const before = Date.now();
    const ack = await t.request('POST', '/api/anomalies/port_scan-7/acknowledge', { token: analyst });
    expect(ack.status).toBe(200);
    const res = await t.request('GET', '/api/anomalies/port_scan-7', { token: viewer });
    const alert = res.body as AlertRecord;
    expect(alert.status).toBe('acknowledged');
    expect(alert.acknowledgedBy).toBe('ana');
    expect(alert.acknowledgedAt).toBeGreaterThanOrEqual(before);
  });

  it('fills in the evidence lists an older record lacks', async () => {
    const res = await t.request('GET', '/api/anomalies/syn_flood-2', { token: viewer });
    expect(res.status).toBe(200);
    expect((res.body as AlertRecord).evidence).toEqual({ thresholds: [], sampleFlows: [], topSources: [] });
  });

  it('answers 404 with a message naming the id for an unknown alert', async () => {
    const res = await t.request('GET', '/api/anomalies/ddos-404', { token: viewer });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: 'NOT_FOUND' });
    expect((res.body as { message: string }).message).toContain('no alert with id ddos-404');
  });

  it('refuses a malformed id with 400 and an anonymous caller with 401', async () => {
    const bad = await t.request('GET', `/api/anomalies/${encodeURIComponent("x' OR '1'='1")}`, {
      token: viewer,
    });
    expect(bad.status).toBe(400);
    const anonymous = await t.request('GET', '/api/anomalies/port_scan-7');
    expect(anonymous.status).toBe(401);
  });
});

describe('GET /api/anomalies/summary (real HTTP)', () => {
  it('counts the matching alerts by severity and gives the newest few, as the overview shows them', async () => {
    const low = {
      ...SCAN,
      id: 'port_scan-8',
      severity: 'low' as const,
      start: SCAN.end + 500_000,
      end: SCAN.end + 1_000_000,
    };
    await t.server.store.alerts.upsertAlerts([low], Date.now());
    const all = await t.request('GET', '/api/anomalies/summary?newest=2', { token: viewer });
    expect(all.status).toBe(200);
    const body = all.body as { total: number; bySeverity: Record<string, number>; newest: { id: string }[] };
    const listed = await t.request('GET', '/api/anomalies?limit=1000', { token: viewer });
    const items = (listed.body as { items: { id: string; severity: string }[] }).items;
    expect(body.total).toBe(items.length);
    expect(body.bySeverity.low).toBe(items.filter((a) => a.severity === 'low').length);
    expect(body.newest.map((a) => a.id)).toEqual(items.slice(0, 2).map((a) => a.id));

    // Filters as the list's: a window that ends before the newest alert began leaves it out.
    const before = await t.request(
      'GET',
      `/api/anomalies/summary?to=${Math.floor(SCAN.end / 1000)}&status=open`,
      {
        token: viewer,
      },
    );
    expect((before.body as { bySeverity: Record<string, number> }).bySeverity.low ?? 0).toBe(0);
    const bad = await t.request('GET', '/api/anomalies/summary?newest=0', { token: viewer });
    expect(bad.status).toBe(400);
  });
});
