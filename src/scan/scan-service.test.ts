/**
 * ScanService over a real SQLite store, scanning real listeners on 127.0.0.1 (this host, always
 * in scope): a scan is queued, run and stored with its report; a port that opens between two
 * runs of the same scan raises one exposure alert; targets outside the allowed networks are
 * refused before anything is stored (and the refusal audited); a queued scan can be cancelled;
 * the scan alerts of the server's own detectors about its scans are recognised.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Alert } from '../alerts/alert.js';
import type { NewAuditEvent } from '../store/audit-repository.js';
import type { ScanRecord } from '../store/scan-repository.js';
import { openStore, type Store } from '../store/store.js';
import { ErrorCode } from '../util/errors.js';
import type { ScanReport } from './port-scanner.js';
import { scopeFrom } from './scan-scope.js';
import { ScanService, type ScanServiceOptions } from './scan-service.js';

const ALICE = { name: 'alice', ip: '198.51.100.200' };

function listen(): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer((s) => s.destroy());
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function portOf(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('ScanService', () => {
  let dir = '';
  let store: Store;
  let service: ScanService;
  let alerts: Alert[];
  let audits: NewAuditEvent[];
  const servers: Server[] = [];

  const make = (overrides: Partial<ScanServiceOptions> = {}) =>
    new ScanService({
      scans: () => store.scans,
      audit: (event) => {
        audits.push(event);
        return store.audit.append(event);
      },
      raiseAlert: (alert) => {
        alerts.push(alert);
        return store.alerts.upsertAlerts([alert], Date.now());
      },
      scope: () => scopeFrom({ allowedNetworks: ['127.0.0.0/8'] }, {}),
      maxRate: 100_000,
      schedules: [],
      now: Date.now,
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
      ...overrides,
    });

  /** Resolves with the scan's row once it has ended. */
  async function ended(id: string): Promise<ScanRecord> {
    for (let i = 0; i < 200; i++) {
      const scan = await store.scans.findById(id);
      if (scan && scan.status !== 'queued' && scan.status !== 'running') return scan;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`scan ${id} did not end`);
  }

  async function waitForScan(find: () => Promise<ScanRecord | null>): Promise<ScanRecord> {
    for (let i = 0; i < 200; i++) {
      const scan = await find();
      if (scan) return scan;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error('no scan appeared');
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flowtrack-scan-service-'));
    store = await openStore(join(dir, 'store.db'));
    alerts = [];
    audits = [];
    service = make();
    await service.start();
  });

  afterEach(async () => {
    await service.stop();
    for (const s of servers.splice(0)) s.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a scan, stores its report, and alerts once on a port opened since the previous run', async () => {
    const first = await listen();
    servers.push(first);
    // A port nothing listens on yet: take one, then free it.
    const later = await listen();
    const laterPort = portOf(later);
    await new Promise<void>((r) => later.close(() => r()));
    const order = { targets: ['127.0.0.1'], ports: `${portOf(first)},${laterPort}`, identify: false };

    const one = await ended((await service.submit(order, ALICE)).id);
    expect(one).toMatchObject({ status: 'done', openPorts: 1, requestedBy: 'alice' });
    const report = one.report as ScanReport & { diff: unknown };
    expect(report.hosts[0]).toMatchObject({ address: '127.0.0.1', up: true, local: true });
    expect(report.diff).toBeNull();
    expect(alerts).toEqual([]);

    const reopened = createServer((s) => s.destroy());
    servers.push(reopened);
    await new Promise<void>((r) => reopened.listen(laterPort, '127.0.0.1', () => r()));
    const two = await ended((await service.submit(order, ALICE)).id);
    expect(two).toMatchObject({ status: 'done', openPorts: 2 });
    expect((two.report as { diff: unknown }).diff).toMatchObject({
      baselineId: one.id,
      opened: [{ address: '127.0.0.1', protocol: 'tcp', port: laterPort }],
      closed: [],
    });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ type: 'exposure', dst: '127.0.0.1', counters: { port: laterPort } });
    expect(alerts[0]?.summary).toContain(`New open port ${laterPort}/tcp`);
    expect(await store.alerts.findById(alerts[0]!.id)).not.toBeNull();
    expect(audits.filter((a) => a.action === 'scan.start').map((a) => a.outcome)).toEqual(['ok', 'ok']);
  }, 30_000);

  it('runs a configured schedule at start, and not again before its interval has passed', async () => {
    const scheduled = make({
      schedules: [{ name: 'nightly', targets: ['127.0.0.1'], ports: '1', udp: false, every: '1d' }],
    });
    await scheduled.start();
    try {
      const first = await waitForScan(() => store.scans.lastRunOf('nightly'));
      expect(first).toMatchObject({
        requestedBy: 'schedule:nightly',
        schedule: 'nightly',
        targets: ['127.0.0.1'],
      });
      expect(await ended(first.id)).toMatchObject({ status: 'done' });
      // A second start within the day finds the last run and leaves it.
      const again = make({
        schedules: [{ name: 'nightly', targets: ['127.0.0.1'], ports: '1', udp: false, every: '1d' }],
      });
      await again.start();
      await new Promise((r) => setTimeout(r, 200));
      await again.stop();
      expect((await store.scans.listScans({ schedule: 'nightly' })).items).toHaveLength(1);
    } finally {
      await scheduled.stop();
    }
  });

  it('refuses targets outside the allowed networks before storing anything, and audits the refusal', async () => {
    await expect(service.submit({ targets: ['192.0.2.7'], ports: '80' }, ALICE)).rejects.toMatchObject({
      code: ErrorCode.FORBIDDEN,
      message: expect.stringMatching(/outside the networks this server may scan \(192\.0\.2\.7\)/) as unknown,
    });
    expect((await store.scans.listScans()).items).toEqual([]);
    expect(audits).toMatchObject([{ action: 'scan.start', outcome: 'denied', actor: 'alice' }]);
    await expect(service.submit({ targets: ['127.0.0.1'], ports: '0' }, ALICE)).rejects.toMatchObject({
      code: ErrorCode.BAD_REQUEST,
    });
  });

  it('cancels a queued scan behind a running one', async () => {
    const slow = make({
      run: (_request, deps) =>
        new Promise<ScanReport>((_resolve, reject) => {
          deps.signal?.addEventListener('abort', () => reject(new Error('aborted')));
        }),
    });
    await slow.start();
    try {
      const running = await slow.submit({ targets: ['127.0.0.1'], ports: '1' }, ALICE);
      const queued = await slow.submit({ targets: ['127.0.0.1'], ports: '2' }, ALICE);
      expect(await slow.cancel(queued.id, ALICE)).toBe(true);
      expect(await store.scans.findById(queued.id)).toMatchObject({
        status: 'cancelled',
        error: 'cancelled by alice',
      });
      expect(await slow.cancel(running.id, ALICE)).toBe(true);
      expect(await ended(running.id)).toMatchObject({ status: 'cancelled' });
      expect(await slow.cancel(running.id, ALICE)).toBe(false);
    } finally {
      await slow.stop();
    }
  });

  it("takes scan alerts from this host against a scan's targets for its own, and no others", async () => {
    const blocker = make({
      run: (_request, deps) =>
        new Promise<ScanReport>((_resolve, reject) => {
          deps.signal?.addEventListener('abort', () => reject(new Error('aborted')));
        }),
    });
    await blocker.start();
    try {
      await blocker.submit({ targets: ['127.0.0.5'], ports: '1' }, ALICE);
      await new Promise((r) => setTimeout(r, 50));
      const alert = (over: Partial<Alert>): Alert => ({
        id: 'a',
        type: 'port_scan',
        severity: 'high',
        src: '127.0.0.1',
        dst: '127.0.0.5',
        start: 0,
        end: 0,
        counters: {},
        summary: '',
        evidence: { thresholds: [], sampleFlows: [], topSources: [] },
        updates: 1,
        ...over,
      });
      expect(blocker.isOwnScanAlert(alert({}))).toBe(true);
      expect(blocker.isOwnScanAlert(alert({ type: 'host_sweep', dst: null }))).toBe(true);
      expect(blocker.isOwnScanAlert(alert({ dst: '127.0.0.9' }))).toBe(false);
      expect(blocker.isOwnScanAlert(alert({ src: '203.0.113.9' }))).toBe(false);
      expect(blocker.isOwnScanAlert(alert({ type: 'syn_flood' }))).toBe(false);
    } finally {
      await blocker.stop();
    }
  });
});
