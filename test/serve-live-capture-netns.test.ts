/**
 * `flowtrack serve` capturing live, as an admin runs it: the real CLI in the victim's network
 * namespace listening on its eth0 through tcpdump, real tools sending from other namespaces.
 * - hping3's own counts of what it sent and got back equal the flows FlowTrack stored;
 * - an hping3 SYN flood is an alert in the API within 2 s of the flood's first packet, and the
 *   alert's evidence pcap (downloaded through the API) opens in tshark with the attacker's SYNs;
 * - tcpdump killed under FlowTrack is started again, the gap is an alert, the API keeps answering;
 * - SIGTERM stores every flow still open and stops tcpdump;
 * - without the right to capture, serve says so in one line and serves the rest.
 *
 * Traffic stays on a LAN of network namespaces with no default route (test/helpers/netns.ts),
 * every tool bounded in packets and time. Needs root; skipped with a message otherwise, except
 * under CI=true where a missing tool fails.
 */

import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitFor } from './helpers/netns.js';
import { NetnsServe } from './helpers/netns-serve.js';
import { describeUnlessMissing, hasTool } from './helpers/system-tools.js';

const TOOLS = ['ip', 'tcpdump', 'hping3', 'tshark', 'curl', 'setpriv'];
const CLI = resolve(import.meta.dirname, '../dist/cli/main.js');

const VICTIM = '10.78.0.1';
const CLIENT = '10.78.0.20';
const ATTACKER = '10.78.0.66';

const root = process.getuid?.() === 0;
const missing = [...TOOLS.filter((t) => !hasTool(t)), ...(root ? [] : ['root'])];

interface Capture {
  mode: string;
  interfaces: {
    interface: string;
    state: string;
    pid: number | null;
    counters: { restarts: number; packets: number };
  }[];
}
interface AlertRow {
  id: string;
  type: string;
  src: string | null;
  dst: string | null;
  startUs: number;
  summary: string;
}

describeUnlessMissing(
  missing.length === 0 ? null : missing.join(', '),
  'run as root after scripts/setup.sh --test (network namespaces and tcpdump need root)',
  'flowtrack serve capturing live between network namespaces',
  () => {
    const flowtrack = new NetnsServe({
      tmpPrefix: 'flowtrack-serve-live-',
      hosts: { victim: VICTIM, client: CLIENT, attacker: ATTACKER },
      // The API at 127.0.0.1:18080 inside the victim's namespace (its own port space: no clash
      // with the host), called from there.
      serveOn: 'victim',
      port: 18080,
      env: { FLOWTRACK_CAPTURE_EVIDENCE_QUIET_SECONDS: '2' },
      users: { ana: 'analyst', ada: 'admin' },
    });
    /** The API from the victim's namespace, as the analyst unless `as` names another user. */
    const api = flowtrack.api;

    async function alerts(type: string): Promise<AlertRow[]> {
      const res = await api(`/api/anomalies?type=${type}`);
      return (res.body as { items: AlertRow[] }).items;
    }

    async function capture(): Promise<Capture> {
      return (await api('/api/capture')).body as Capture;
    }

    beforeAll(() => flowtrack.start(), 60_000);
    afterAll(() => flowtrack.stop());

    it('raises syn_flood in the API within 2 s of the flood, with an evidence pcap of the attacker', async () => {
      const started = Date.now();
      // 3,000 SYNs at about 5,000 a second: hping3 stops by itself.
      const flood = flowtrack.lan.exec(
        'attacker',
        'hping3',
        ['-q', '-S', '-p', '80', '-c', '3000', '-i', 'u200', VICTIM],
        {
          timeoutSeconds: 30,
          allowFailure: true,
        },
      );
      const alert = await waitFor(
        'syn_flood alert',
        async () => (await alerts('syn_flood')).find((a) => a.src === ATTACKER && a.dst === VICTIM) ?? null,
        10_000,
      );
      const seenAfterMs = Date.now() - started;
      await flood;
      expect(seenAfterMs).toBeLessThan(2000);
      expect(alert.summary).toContain('SYN flood');

      // The file is complete once the attack has been quiet for 2 s (the configured quiet time).
      const file = join(flowtrack.dir, 'evidence.pcap');
      const download = await waitFor(
        'evidence file',
        async () => {
          const res = await api(`/api/anomalies/${alert.id}/evidence`, { out: file });
          return res.status === 200 ? res : null;
        },
        15_000,
      );
      expect(download.status).toBe(200);
      const fields = execFileSync(
        'tshark',
        ['-r', file, '-T', 'fields', '-e', 'ip.src', '-e', 'tcp.flags.syn'],
        {
          encoding: 'utf8',
        },
      );
      const fromAttacker = fields.split('\n').filter((l) => l.startsWith(`${ATTACKER}\t`));
      expect(fromAttacker.length).toBeGreaterThan(1000);
      expect(fromAttacker.every((l) => l.endsWith('\tTrue') || l.endsWith('\t1'))).toBe(true);
      // The download is in the audit log, with who took it.
      const audit = await api('/api/logs/audit?action=evidence.download', { as: 'ada' });
      const events = (audit.body as { items: { actor: string; target: string }[] }).items;
      expect(events.some((e) => e.actor === 'ana' && e.target === alert.id)).toBe(true);
    }, 60_000);

    it('restarts a killed tcpdump, records the gap as an alert and keeps serving', async () => {
      const before = await capture();
      const pid = before.interfaces[0]?.pid;
      expect(pid).toBeGreaterThan(0);
      process.kill(pid!, 'SIGKILL');
      const after = await waitFor(
        'tcpdump restarted',
        async () => {
          const c = await capture();
          const i = c.interfaces[0];
          return i && i.state === 'running' && i.pid !== pid && i.counters.restarts >= 1 ? c : null;
        },
        15_000,
      );
      expect(after.interfaces[0]!.pid).not.toBe(pid);
      const gap = await waitFor(
        'capture_gap alert',
        async () => (await alerts('capture_gap'))[0] ?? null,
        10_000,
      );
      expect(gap.summary).toContain('eth0');
      expect((await api('/api/health')).status).toBe(200);
    }, 40_000);

    it('stores flows whose counts equal what hping3 says it sent and got back, flushed on SIGTERM', async () => {
      // One UDP flow (fixed source port) of 400 datagrams and one ICMP echo flow of 300 requests.
      const udp = await flowtrack.lan.exec(
        'client',
        'hping3',
        ['--udp', '-s', '40000', '-k', '-p', '9', '-c', '400', '-i', 'u2000', VICTIM],
        { timeoutSeconds: 30, allowFailure: true },
      );
      const icmp = await flowtrack.lan.exec('client', 'hping3', ['-1', '-c', '300', '-i', 'u2000', VICTIM], {
        timeoutSeconds: 30,
        allowFailure: true,
      });
      const counts = (text: string) => {
        const m =
          /(\d+) packets tramitted, (\d+) packets received/.exec(text) ??
          /(\d+) packets transmitted, (\d+) packets received/.exec(text);
        if (!m) throw new Error(`no counts in hping3's output: ${text}`);
        return { sent: Number(m[1]), received: Number(m[2]) };
      };
      const udpCounts = counts(udp.stdout + udp.stderr);
      const icmpCounts = counts(icmp.stdout + icmp.stderr);
      expect(udpCounts.sent).toBe(400);
      expect(icmpCounts.sent).toBe(300);

      // The flows are still open: SIGTERM must end them and store them before the process exits.
      const code = await flowtrack.serve.stop('SIGTERM', 20_000);
      expect(code).toBe(0);
      expect(flowtrack.serve.text).toContain('stopping');
      const db = new Database(join(flowtrack.dataDir, 'flowtrack.db'), { readonly: true });
      try {
        const flow = (protocol: string) =>
          db
            .prepare(
              'SELECT sum(packets_to_server) AS up, sum(packets_to_client) AS down FROM flows WHERE src_addr = ? AND dst_addr = ? AND protocol = ?',
            )
            .get(CLIENT, VICTIM, protocol) as { up: number; down: number };
        expect(flow('udp').up).toBe(udpCounts.sent);
        // hping3 counts as received the ICMP port-unreachable answers to its UDP, FlowTrack the
        // answers within the flow: both must agree on the requests and the echo replies.
        const echo = flow('icmp');
        expect(echo.up).toBe(icmpCounts.sent);
        expect(echo.down).toBe(icmpCounts.received);
      } finally {
        db.close();
      }
      // tcpdump went with it: no capture process left in the namespace but what the LAN runs.
      const { stdout } = await flowtrack.lan.exec('victim', 'sh', ['-c', 'pgrep -x tcpdump || true']);
      expect(stdout.trim()).toBe('');
    }, 90_000);
  },
);

describeUnlessMissing(
  root && hasTool('setpriv') && hasTool('tcpdump') ? null : 'root, setpriv or tcpdump',
  'run as root after scripts/setup.sh --test',
  'flowtrack serve without the right to capture',
  () => {
    it('says so in one line and serves the API anyway', () => {
      const dir = mkdtempSync(join(tmpdir(), 'flowtrack-nocap-'));
      // Run as nobody, with no capability: tcpdump cannot open the interface.
      chmodSync(dir, 0o777);
      try {
        // timeout's TERM after 6 s is the admin's Ctrl-C: serve stops cleanly.
        const result = spawnSync(
          'timeout',
          [
            ...['-s', 'TERM', '6', 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'],
            ...['--inh-caps=-all', '--bounding-set=-all', 'env', `FLOWTRACK_DATA_DIR=${join(dir, 'data')}`],
            ...['FLOWTRACK_SERVER_PORT=0', process.execPath, CLI, 'serve', '-i', 'lo'],
          ],
          { encoding: 'utf8', timeout: 20_000 },
        );
        const stderr = result.stderr;
        expect(stderr).toMatch(/serving the API at http/);
        const lines = stderr.split('\n').filter((l) => l.includes('no live capture on lo'));
        expect(lines).toHaveLength(1);
        expect(lines[0]).toContain('cap_net_raw');
        expect(stderr).not.toMatch(/at .*\.js:\d+/);
        expect(stderr).toContain('stopping');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 30_000);
  },
);
