/**
 * Scans in `flowtrack serve` (the real CLI, enforcing its firewall with nftables, capturing on
 * its eth0) in a network namespace, driven through the API as the dashboard drives it:
 * - a port that opens between two runs of the same scan raises an `exposure` alert; the finding
 *   (Redis without a password, critical) is closed with the firewall rule the dashboard's "Close
 *   port" makes, and a new connection to it from another host then fails; every step is audited;
 * - the server's own scan of a neighbour raises no scan alert, while the same scan by nmap from
 *   another namespace does (the detector is on; only FlowTrack's own scans are left out).
 *
 * Traffic stays on a LAN of network namespaces with no default route (test/helpers/netns.ts);
 * the namespaces go, and with them every rule and process. Needs root; skipped with a message
 * otherwise, except under CI=true where a missing tool fails.
 */

import { afterAll, beforeAll, expect, it } from 'vitest';
import { sleep, waitFor } from './helpers/netns.js';
import { NetnsServe } from './helpers/netns-serve.js';
import { describeUnlessMissing, hasTool } from './helpers/system-tools.js';

const TOOLS = ['ip', 'tcpdump', 'nft', 'nmap', 'curl', 'bash', 'redis-server'];

const SERVER = '10.83.0.1';
const CLIENT = '10.83.0.20';
const ADMIN = '10.83.0.30';
const REDIS = 6379;

const root = process.getuid?.() === 0;
const missing = [...TOOLS.filter((t) => !hasTool(t)), ...(root ? [] : ['root'])];

interface Scan {
  id: string;
  status: string;
  openPorts: number;
  error: string | null;
  report: {
    findings: {
      address: string;
      port: number;
      protocol: string;
      risk: string;
      ruleId: string;
      title: string;
    }[];
    hosts: { address: string; local: boolean }[];
    diff: { opened: { port: number }[] } | null;
  } | null;
}

interface AlertItem {
  id: string;
  type: string;
  severity: string;
  src: string | null;
  dst: string | null;
  summary: string;
}

describeUnlessMissing(
  missing.length === 0 ? null : missing.join(', '),
  'run as root after scripts/setup.sh --test (network namespaces and nftables need root)',
  'scans in flowtrack serve: exposure alerts, closing a finding, and no alerts about its own scans',
  () => {
    const flowtrack = new NetnsServe({
      tmpPrefix: 'flowtrack-scan-serve-',
      hosts: { server: SERVER, client: CLIENT, admin: ADMIN },
      // The API at the server's address, called from the admin's namespace.
      serveOn: 'server',
      port: 18081,
      apiFrom: 'admin',
      env: {
        FLOWTRACK_FIREWALL_MODE: 'enforce',
        FLOWTRACK_FIREWALL_BACKEND: 'nftables',
        FLOWTRACK_CAPTURE_EVIDENCE_ENABLED: 'false',
      },
      users: { ada: 'admin' },
    });
    /** The API from the admin's namespace, as the signed-in admin. */
    const api = flowtrack.api;

    async function scan(targets: string[], ports: string, identify = true): Promise<Scan> {
      const started = await api('/api/scans', { method: 'POST', body: { targets, ports, identify } });
      expect(started.status, JSON.stringify(started.body)).toBe(202);
      const { id } = started.body as { id: string };
      return waitFor(
        `scan ${id} to end`,
        async () => {
          const s = (await api(`/api/scans/${id}`)).body as Scan;
          return s.status === 'queued' || s.status === 'running' ? null : s;
        },
        60_000,
        200,
      );
    }

    async function alerts(type: string): Promise<AlertItem[]> {
      return ((await api(`/api/anomalies?type=${type}`)).body as { items: AlertItem[] }).items;
    }

    /** 'open' when a TCP connection from the client to `port` succeeds, 'silent' when unanswered. */
    async function connect(port: number): Promise<'open' | 'refused' | 'silent'> {
      const script = `exec 3<>/dev/tcp/${SERVER}/${port}`;
      const r = await flowtrack.lan.exec('client', 'timeout', ['2', 'bash', '-c', script], {
        allowFailure: true,
      });
      return r.code === 0 ? 'open' : r.code === 124 ? 'silent' : 'refused';
    }

    beforeAll(() => flowtrack.start(), 60_000);
    afterAll(() => flowtrack.stop());

    it('alerts on a port opened since the last run, and closing the finding drops new connections to it', async () => {
      const before = await scan([SERVER], `22,${REDIS},8080`);
      expect(before).toMatchObject({ status: 'done', openPorts: 0 });
      expect(before.report?.hosts).toMatchObject([{ address: SERVER, local: true }]);

      const redis = flowtrack.lan.start(
        'server',
        'redis-server',
        [
          '--port',
          String(REDIS),
          '--bind',
          SERVER,
          '--protected-mode',
          'no',
          '--save',
          '',
          '--appendonly',
          'no',
        ],
        300,
      );
      await redis.waitFor(/Ready to accept connections/, 10_000);
      expect(await connect(REDIS)).toBe('open');

      const after = await scan([SERVER], `22,${REDIS},8080`);
      expect(after).toMatchObject({ status: 'done', openPorts: 1 });
      const finding = after.report!.findings.find((f) => f.port === REDIS);
      expect(finding).toMatchObject({
        address: SERVER,
        protocol: 'tcp',
        risk: 'critical',
        ruleId: 'redis-no-auth',
      });
      expect(after.report!.diff?.opened.map((o) => o.port)).toEqual([REDIS]);
      const exposure = await alerts('exposure');
      expect(exposure).toHaveLength(1);
      expect(exposure[0]).toMatchObject({ severity: 'critical', dst: SERVER, src: null });
      expect(exposure[0]!.summary).toContain(`New open port ${REDIS}/tcp (redis) on ${SERVER}`);

      // The dashboard's "Close port" on the finding.
      const closed = await api('/api/firewall/rules', {
        method: 'POST',
        body: { kind: 'close', protocol: 'tcp', port: REDIS, comment: `scan ${after.id}: ${finding!.title}` },
      });
      expect(closed.status, JSON.stringify(closed.body)).toBe(201);
      await waitFor(
        'new connections to the closed port to fail',
        async () => ((await connect(REDIS)) === 'open' ? null : true),
        10_000,
      );
      expect(await connect(REDIS)).not.toBe('open');
      // Redis itself still runs: the firewall, not a stopped service, keeps clients out.
      expect(redis.running).toBe(true);

      const audit = (await api('/api/logs/audit?limit=100')).body as {
        items: { action: string; actor: string; outcome: string }[];
      };
      const actions = audit.items.map((e) => `${e.action} ${e.actor} ${e.outcome}`);
      expect(actions.filter((a) => a === 'scan.start ada ok')).toHaveLength(2);
      expect(actions).toContain('firewall.rule.add ada ok');
    }, 120_000);

    it("raises no scan alert about its own scan of a neighbour, while nmap's same scan from elsewhere does", async () => {
      const own = await scan([CLIENT], '1-1500', false);
      expect(own.status).toBe('done');
      // Flows end and detectors report within a few seconds of the last packet.
      await sleep(5000);
      expect((await alerts('port_scan')).filter((a) => a.src === SERVER)).toEqual([]);
      // The detector did see it: the server says it left the alert out, and why.
      const log = (await api(`/api/logs?contains=${encodeURIComponent("FlowTrack's own port scan")}`))
        .body as { entries: Record<string, unknown>[] };
      expect(log.entries.length, JSON.stringify(log)).toBeGreaterThan(0);
      expect(log.entries[0]).toMatchObject({ type: 'port_scan', src: SERVER, dst: CLIENT });

      await flowtrack.lan.exec('admin', 'nmap', ['-sT', '-p', '1-1500', '-T4', '-n', '-Pn', SERVER], {
        timeoutSeconds: 60,
      });
      const theirs = await waitFor(
        "the admin namespace's scan alert",
        async () => {
          const found = (await alerts('port_scan')).filter((a) => a.src === ADMIN);
          return found.length > 0 ? found : null;
        },
        15_000,
        250,
      );
      expect(theirs[0]).toMatchObject({ dst: SERVER });
      expect((await alerts('port_scan')).filter((a) => a.src === SERVER)).toEqual([]);
    }, 120_000);
  },
);
