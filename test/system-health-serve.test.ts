/**
 * The host monitor inside a real server (real probe of this machine, real SQLite, real HTTP):
 * - /api/system_health has the newest sample, /api/system_health/history its chart, and the
 *   live stream a `health` event per sample;
 * - a listener this test starts is in /api/system/sockets with its process name and pid, for
 *   analysts only;
 * - a bounded CPU burn (one busy loop per core, stopped by `timeout`) raises a `resource` alert,
 *   which is resolved once the burn has ended;
 * - a file filling a small tmpfs mounted by the test raises a disk alert naming that mount, and
 *   deleting the file resolves it.
 * Rules are tightened for the test (1 s samples, short holds) so it runs in seconds; the
 * hysteresis itself is proven in src/system/resource-rules.test.ts. The tmpfs part needs root
 * (mount); the rest runs as any user.
 */

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { HostSample } from '../src/system/host-sample.js';
import type { SocketSnapshot } from '../src/system/socket-types.js';
import { startTestServer, type TestServer } from './helpers/api-server.js';
import { waitFor } from './helpers/netns.js';
import { describeUnlessMissing, hasTool } from './helpers/system-tools.js';

const root = process.getuid?.() === 0;
const missing = [...['python3', 'timeout', 'mount'].filter((t) => !hasTool(t)), ...(root ? [] : ['root'])];

interface AlertRow {
  id: string;
  type: string;
  severity: string;
  status: string;
  summary: string;
  evidence: { thresholds: { metric: string; value: number; threshold: number }[] };
}

describeUnlessMissing(
  missing.length === 0 ? null : missing.join(', '),
  'run as root after scripts/setup.sh --test (the tmpfs is mounted by the test)',
  'the host monitor in a real server',
  () => {
    let server: TestServer;
    let viewer = '';
    let analyst = '';
    let tmpfs = '';
    const children: ChildProcess[] = [];

    beforeAll(async () => {
      tmpfs = mkdtempSync(join(tmpdir(), 'flowtrack-tmpfs-'));
      const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', tmpfs], {
        encoding: 'utf8',
      });
      if (mounted.status !== 0) throw new Error(`mount tmpfs: ${mounted.stderr}`);
      server = await startTestServer({
        FLOWTRACK_SYSTEM_ENABLED: 'true',
        FLOWTRACK_SYSTEM_INTERVAL_SECONDS: '1',
        FLOWTRACK_SYSTEM_ALERTS_CPU_RAISE: '90',
        FLOWTRACK_SYSTEM_ALERTS_CPU_CLEAR: '80',
        FLOWTRACK_SYSTEM_ALERTS_CPU_FOR_SECONDS: '2',
        FLOWTRACK_SYSTEM_ALERTS_DISK_RAISE: '80',
        FLOWTRACK_SYSTEM_ALERTS_DISK_CLEAR: '60',
        FLOWTRACK_SYSTEM_ALERTS_DISK_FOR_SECONDS: '0',
      });
      viewer = (await server.signIn('vera', 'viewer')).accessToken;
      analyst = (await server.signIn('ana', 'analyst')).accessToken;
    });

    afterAll(async () => {
      for (const c of children) c.kill('SIGKILL');
      await (server as TestServer | undefined)?.close();
      if (tmpfs) {
        spawnSync('umount', [tmpfs]);
        rmdirSync(tmpfs);
      }
    });

    const get = async <T>(path: string, token = viewer): Promise<T> => {
      const res = await server.request('GET', path, { token });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body as T;
    };

    const resourceAlerts = async (): Promise<AlertRow[]> =>
      (await get<{ items: AlertRow[] }>('/api/anomalies?type=resource&limit=100')).items;

    /** The resource alert whose rule key is `key` (cpu, disk:/mount), when there is one. */
    const alertOf = async (key: string): Promise<AlertRow | null> =>
      (await resourceAlerts()).find((a) => a.evidence.thresholds[0]?.metric === key) ?? null;

    it('serves the newest sample, a chart of the samples and a health event on the stream', async () => {
      const health = await waitFor(
        'two samples',
        async () => {
          const h = await get<{ host: HostSample | null; intervalSeconds: number }>('/api/system_health');
          return h.host && h.host.intervalSeconds > 0 ? h : null;
        },
        10_000,
      );
      expect(health.intervalSeconds).toBe(1);
      expect(health.host?.hostname).toBe(hostname());
      expect(health.host?.cpu.perCore).toHaveLength(availableParallelism());
      expect(health.host?.fileSystems.map((f) => f.mount)).toContain(tmpfs);
      const history = await get<{ source: string; points: { at: number; cpu: number }[] }>(
        `/api/system_health/history?from=${Date.now() - 60_000}&points=100`,
      );
      expect(history.source).toBe('samples');
      expect(history.points.length).toBeGreaterThanOrEqual(2);
      const lo = await get<{ points: { rxBytesPerSecond: number }[] }>(
        `/api/system_health/history?from=${Date.now() - 60_000}&interface=lo`,
      );
      expect(lo.points.length).toBeGreaterThanOrEqual(1);
      const bad = await server.request('GET', '/api/system_health/history?interface=eth0;rm', {
        token: viewer,
      });
      expect(bad.status).toBe(400);

      // The stream: a health event within two intervals.
      const abort = new AbortController();
      const res = await fetch(`${server.server.url}/api/stream`, {
        headers: { authorization: `Bearer ${viewer}` },
        signal: abort.signal,
      });
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let text = '';
      const deadline = Date.now() + 5000;
      while (!text.includes('event: health') && Date.now() < deadline) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      abort.abort();
      expect(text).toContain('event: health');
      const data = /event: health\ndata: (.*)\n/.exec(text)?.[1];
      expect((JSON.parse(data!) as { sample: HostSample }).sample.hostname).toBe(hostname());
    });

    it('lists a listener this test starts with its process name and pid, for analysts only', async () => {
      const listener = spawn(
        'python3',
        [
          '-c',
          'import socket,sys,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen()\nprint(s.getsockname()[1],flush=True)\ntime.sleep(60)',
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      children.push(listener);
      const port = await new Promise<number>((resolve, reject) => {
        listener.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
        listener.once('exit', () => reject(new Error('the listener ended')));
      });
      expect((await server.request('GET', '/api/system/sockets', { token: viewer })).status).toBe(403);
      const entry = await waitFor(
        'the listener in /api/system/sockets',
        async () => {
          const s = await get<SocketSnapshot>('/api/system/sockets', analyst);
          return s.listening.find((l) => l.protocol === 'tcp' && l.localPort === port) ?? null;
        },
        10_000,
        500,
      );
      expect(entry.localAddress).toBe('127.0.0.1');
      expect(entry.state).toBe('LISTEN');
      expect(entry.owners.map((o) => [o.name, o.pid])).toEqual([['python3', listener.pid]]);
      listener.kill();
    });

    it('raises a resource alert during a bounded CPU burn and resolves it after the burn', async () => {
      // One busy loop per core, each killed by timeout after 6 s whatever happens to the test (KILL:
      // a shell started from a test worker may ignore TERM).
      const burners = Array.from({ length: availableParallelism() }, () =>
        spawn('timeout', ['-s', 'KILL', '6', 'sh', '-c', 'while :; do :; done'], { stdio: 'ignore' }),
      );
      children.push(...burners);
      const raised = await waitFor(
        'a cpu resource alert',
        async () => {
          const a = await alertOf('cpu');
          return a?.status === 'open' ? a : null;
        },
        15_000,
        250,
      );
      expect(raised.evidence.thresholds[0]?.value).toBeGreaterThanOrEqual(90);
      expect(raised.summary).toMatch(/^CPU busy on .* at \d+(\.\d)?%: at or above 90%/);
      await Promise.all(burners.map((b) => new Promise((r) => b.once('exit', r))));
      // Below 80% for 2 s after the burn (other work on a shared machine may hold it up a while).
      const resolved = await waitFor(
        'the cpu alert resolved',
        async () => {
          const a = (await resourceAlerts()).find((x) => x.id === raised.id);
          return a?.status === 'resolved' ? a : null;
        },
        60_000,
        500,
      );
      expect(resolved.summary).toMatch(/back to .*below 80%/);
    });

    it('raises a disk alert naming a tmpfs this test fills, and resolves it when the file goes', async () => {
      const key = `disk:${tmpfs}`;
      expect(await alertOf(key)).toBeNull();
      // 7 of 8 MiB: 88% used, above the 80% limit.
      writeFileSync(join(tmpfs, 'fill'), Buffer.alloc(7 * 1024 * 1024, 1));
      const raised = await waitFor('a disk alert for the tmpfs', () => alertOf(key), 10_000, 250);
      expect(raised.status).toBe('open');
      expect(raised.summary).toContain(tmpfs);
      expect(raised.evidence.thresholds[0]?.value).toBeGreaterThanOrEqual(85);
      const health = await get<{ resourceAlerts: string[] }>('/api/system_health');
      expect(health.resourceAlerts).toContain(key);
      rmSync(join(tmpfs, 'fill'));
      await waitFor(
        'the disk alert resolved',
        async () => ((await alertOf(key))?.status === 'resolved' ? true : null),
        10_000,
        250,
      );
      // The monitor's resolution is a state change like an analyst's: audited, as the system.
      const audit = await server.server.store.audit.list({ action: 'alert.resolve', actor: 'system' });
      expect(audit.items.map((e) => e.target)).toContain(raised.id);
      expect((await server.server.store.alerts.events(raised.id)).map((e) => [e.kind, e.actor])).toEqual([
        ['resolved', 'system'],
      ]);
    });
  },
);
