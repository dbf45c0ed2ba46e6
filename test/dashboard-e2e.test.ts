/**
 * The dashboard end to end, in a real browser: playwright-core drives Debian's Chromium (headless)
 * against the real `flowtrack serve --replay` of a real attack capture (a TCP SYN port scan from
 * the corpus, with ordinary traffic before and after it), paced as recorded so the dashboard sees
 * it live. The first admin is made in the browser with the setup token the server printed, signs
 * in, watches the overview's counters move and the scan's alert appear, acknowledges it, opens
 * the flows behind the chart, blocks the scanner (dry-run firewall) and finds the block in the
 * firewall page and the audit log, makes and restores a backup, and scans this host's loopback
 * (ports 1-1024 and those of the machine's database and cache services) to show the Scanner's
 * list and report. A viewer sees no admin control (nor the New scan form, nor Close port), and
 * the API refuses them anyway. softflowd exports the capture as IPFIX to the server's collector:
 * the Sensors page lists the exporter in contact, and its name opens the flows it sent. Every page is saved as a screenshot in test-results/screenshots.
 */

import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GOOD_PASSWORD } from './helpers/api-server.js';
import { writeAttackReplay } from './helpers/attack-replay.js';
import { corpusAvailable, corpusDir, corpusPath, repoRoot } from './helpers/corpus.js';
import { run } from './helpers/netns.js';
import { apiClient, cliEnv, startServe, stopAllServes, type ServeProcess } from './helpers/serve-process.js';
import { describeUnlessMissing, hasTool } from './helpers/system-tools.js';

const ATTACK = 'Pcaphunt/attacks/ps-tcp_syn.pcap';
const ATTACKER = '10.0.0.140';
/** softflowd on this host, exporting to the server's collector. */
const EXPORTER = 'exporter:127.0.0.1';
/**
 * Packets a second that only the scan reaches: the quiet traffic is 24 to 29 a second, the scan
 * up to 800 (fewer in its first second, which may start late in a second).
 */
const ATTACK_RATE = 40;
/** Ordinary traffic before the attack: time to start the server and sign in. */
const LEAD_SECONDS = 20;
const SHOTS = join(repoRoot, 'test-results', 'screenshots');
const CHROMIUM = process.env.FLOWTRACK_CHROMIUM ?? '/usr/bin/chromium';

const missing = [
  ...(hasTool(CHROMIUM) ? [] : [`Chromium at ${CHROMIUM}`]),
  ...(hasTool('softflowd') ? [] : ['softflowd']),
  ...(corpusAvailable ? [] : [`the capture corpus at ${corpusDir}`]),
];

describeUnlessMissing(
  missing.length === 0 ? null : missing.join(', '),
  'run scripts/setup.sh --test (Debian packages chromium, softflowd) and put ../shared/pcaps beside the checkout',
  'the dashboard in Chromium against flowtrack serve --replay of a port scan',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowtrack-e2e-'));
    let server: ServeProcess;
    let api: ReturnType<typeof apiClient>;
    /** The live feed's seconds, as an API client of the test sees them. */
    const liveSeconds: { at: number; packetsPerSecond: number }[] = [];
    const stopFeed = new AbortController();
    let browser: Browser | undefined;
    let page: Page;
    let alertPath: string;
    let scanPath: string;
    let setupToken: string;

    async function shot(name: string, on: Page = page): Promise<void> {
      // The page as a user sees it: loaded, not skeletons. (Not "network idle": the live feed
      // keeps a request open for as long as the page is.)
      await on
        .getByRole('status', { name: 'Loading' })
        .first()
        .waitFor({ state: 'detached', timeout: 10_000 })
        .catch(() => undefined);
      await on.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
    }

    async function signIn(on: Page, username: string): Promise<void> {
      await on.goto(server.url);
      await on.getByLabel('User name').fill(username);
      await on.getByLabel('Password').fill(GOOD_PASSWORD);
      await on.getByRole('button', { name: 'Sign in' }).click();
      await on.getByRole('navigation', { name: 'Pages' }).waitFor();
    }

    beforeAll(async () => {
      mkdirSync(SHOTS, { recursive: true });
      const capture = join(dir, 'attack.pcap');
      writeAttackReplay(corpusPath(ATTACK), capture, {
        startMs: Date.now() + 1000,
        leadSeconds: LEAD_SECONDS,
        tailSeconds: 15,
      });
      const env = cliEnv({
        FLOWTRACK_DATA_DIR: join(dir, 'data'),
        FLOWTRACK_SERVER_PORT: '0',
        FLOWTRACK_BACKUP_INTERVAL_HOURS: '0',
        FLOWTRACK_RATE_LIMIT_PER_MINUTE: '100000',
        FLOWTRACK_COLLECTOR_ENABLED: 'true',
        FLOWTRACK_COLLECTOR_LISTEN: '127.0.0.1:0',
        FLOWTRACK_COLLECTOR_EXPORTERS: '127.0.0.1',
      });
      server = await startServe(['--replay', capture, '--speed', '1'], env);
      api = apiClient(server.url);
      setupToken = (await server.waitFor(/one-time setup token:\n\s+(\S+)/))[1]!;
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
      page = await browser.newPage({ viewport: { width: 1366, height: 860 } });
    });

    afterAll(async () => {
      stopFeed.abort();
      await browser?.close();
      await stopAllServes();
      rmSync(dir, { recursive: true, force: true });
    });

    it('creates the first admin with the printed setup token, then signs in', async () => {
      await expect(api('GET', '/api/auth/setup')).resolves.toMatchObject({ body: { needed: true } });
      await page.goto(server.url);
      await page.getByLabel('Setup token').fill(setupToken);
      await page.getByLabel('User name').fill('ada');
      await page.getByLabel('Password', { exact: true }).fill(GOOD_PASSWORD);
      await page.getByLabel('Repeat the password').fill(GOOD_PASSWORD);
      await shot('setup');
      await page.getByRole('button', { name: 'Create the admin and sign in' }).click();
      await page.getByRole('navigation', { name: 'Pages' }).waitFor();
      await expect(api('GET', '/api/auth/setup')).resolves.toMatchObject({ body: { needed: false } });

      const token = await adminToken();
      void followLiveFeed(`${server.url}/api/stream`, token, stopFeed.signal, (second) =>
        liveSeconds.push(second),
      );
      const viewer = await api('POST', '/api/users', {
        token,
        body: { username: 'vic', password: GOOD_PASSWORD, role: 'viewer' },
      });
      expect(viewer.status, JSON.stringify(viewer.body)).toBe(201);

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByLabel('User name').waitFor();
      await shot('login');
      await signIn(page, 'ada');
      await expect(page.getByRole('banner').getByText('admin', { exact: true }).count()).resolves.toBe(1);
    });

    it("moves the overview's live counters", async () => {
      const packets = page.getByRole('figure', { name: /Packets/ }).locator('.rate-value');
      await packets.waitFor();
      const seen = new Set<string>();
      for (let i = 0; i < 8 && seen.size < 2; i++) {
        seen.add(await packets.innerText());
        await page.waitForTimeout(700);
      }
      expect(seen.size, `packets/s stayed at ${[...seen].join()}`).toBeGreaterThan(1);
      expect([...seen].some((v) => !v.startsWith('0 '))).toBe(true);
      await shot('overview-live');
    });

    it("shows the scan's alert within 2 s of the attack's first packet", async () => {
      const alertLink = page
        .getByRole('region', { name: 'Open alerts' })
        .getByRole('link', { name: new RegExp(ATTACKER.replaceAll('.', '\\.')) })
        .first();
      await alertLink.waitFor({ timeout: (LEAD_SECONDS + 15) * 1000 });
      const shownAt = Date.now();
      // When the server took in the scan's first packet: during the first second of the live
      // feed at the scan's rate, so after the end of the second before it (server clock, which
      // is this machine's). The ordinary traffic before it is about 25 packets a second.
      while ((liveSeconds.at(-1)?.at ?? 0) <= shownAt) await new Promise((r) => setTimeout(r, 100));
      // The feed's first second also counts the replay's start-up: the quiet traffic is from the second on.
      const jump = liveSeconds.findIndex((s, i) => i > 0 && s.packetsPerSecond > ATTACK_RATE);
      expect(
        jump,
        `the live feed saw the quiet traffic before the scan: ${JSON.stringify(liveSeconds)}`,
      ).toBeGreaterThan(1);
      const quietUntil = liveSeconds[jump - 1]!.at;
      expect(liveSeconds[jump - 1]!.packetsPerSecond).toBeLessThan(ATTACK_RATE);
      const latency = shownAt - quietUntil;
      console.log(`e2e: the scan's alert was on the overview at most ${latency} ms after its first packet`);
      expect(latency).toBeLessThan(2000);
      alertPath = (await alertLink.getAttribute('href')) ?? '';
      expect(alertPath).toMatch(/^\/alerts\//);
      await shot('overview-alert');
    });

    it('acknowledges the alert', async () => {
      await page.goto(`${server.url}${alertPath}`);
      await page.getByRole('heading', { level: 1 }).waitFor();
      await shot('alert-detail');
      await page.getByRole('button', { name: 'Acknowledge' }).click();
      await page
        .getByText(/acknowledged by ada/i)
        .first()
        .waitFor();
      const id = decodeURIComponent(alertPath.split('/').pop()!);
      const token = await adminToken();
      const stored = await api('GET', `/api/anomalies/${encodeURIComponent(id)}`, { token });
      expect(stored.body).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'ada' });
      await page.goto(`${server.url}/alerts`);
      await page.getByRole('table', { name: 'Alerts' }).waitFor();
      await shot('alerts');
    });

    it('opens the flows behind the busiest minute of the chart', async () => {
      // The charts of a window are drawn from stored flows, and a flow is stored when it ends:
      // the scan's one-packet flows end when the replay does (or after 60 s without packets).
      await server.waitFor(/replayed /, 90_000);
      await page.goto(server.url);
      await page.getByRole('radio', { name: '15 min' }).check();
      const bars = page.getByRole('link', { name: /open its flows/ });
      await bars.first().waitFor();
      // The busiest bar is the scan's minute: its label carries its packet count.
      const labels = await Promise.all(
        (await bars.all()).map(async (bar) => (await bar.getAttribute('aria-label')) ?? ''),
      );
      const counts = labels.map((l) => Number(/([\d,]+) packets/.exec(l)?.[1]?.replaceAll(',', '') ?? 0));
      const busiest = counts.indexOf(Math.max(...counts));
      await shot('overview-15min');
      await bars.nth(busiest).click();
      const flows = page.getByRole('table', { name: 'Flows' });
      await flows.getByText(ATTACKER).first().waitFor();
      expect(new URL(page.url()).pathname).toBe('/flows');
      await shot('flows');
    });

    it('blocks the source in one click and finds the block in the firewall page and the audit log', async () => {
      await page.goto(`${server.url}${alertPath}`);
      await page.getByRole('button', { name: 'Block source' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByText(ATTACKER).first().waitFor();
      await dialog.getByRole('button', { name: /^Block/ }).click();
      await page
        .getByRole('link', { name: /Firewall/ })
        .last()
        .waitFor();
      await page.goto(`${server.url}/firewall`);
      const rules = page.getByRole('table', { name: 'Firewall rules' });
      await rules.getByText(ATTACKER).first().waitFor();
      await shot('firewall');
      await page.goto(`${server.url}/logs`);
      await page.getByRole('tab', { name: /Audit/ }).click();
      await page.getByRole('table', { name: 'Audit log' }).getByText('firewall.rule.add').first().waitFor();
      await shot('logs-audit');
    });

    it('creates a backup and restores it', async () => {
      await page.goto(`${server.url}/backups`);
      await page.getByRole('button', { name: 'Create backup' }).click();
      const restore = page.getByRole('button', { name: 'Restore' }).first();
      await restore.waitFor();
      await shot('backups');
      await restore.click();
      await page.getByRole('dialog').getByRole('button', { name: 'Restore this backup' }).click();
      await page
        .getByText(/restored/i)
        .first()
        .waitFor({ timeout: 30_000 });
      const token = await adminToken();
      const audit = await api('GET', '/api/logs/audit?limit=50', { token });
      const actions = (audit.body as { items: { action: string; outcome: string }[] }).items;
      expect(actions.find((a) => a.action === 'backup.restore')).toMatchObject({ outcome: 'ok' });
    });

    it('follows the alert through its life and reports an incident from it, whose exported report lists the alert', async () => {
      const id = decodeURIComponent(alertPath.split('/').pop()!);
      await page.goto(`${server.url}${alertPath}`);
      await page.getByRole('button', { name: 'Assign to me' }).click();
      await page.getByLabel('New comment').fill('The scanner is outside our ranges.');
      await page.getByRole('button', { name: 'Add comment', exact: true }).click();
      const history = page.getByRole('table', { name: 'Alert history' });
      await history.getByText('The scanner is outside our ranges.').waitFor();
      await history
        .getByText(/assigned/i)
        .first()
        .waitFor();
      await shot('alert-history');

      await page.getByRole('link', { name: 'Report an incident with this alert' }).click();
      await page.getByRole('heading', { name: 'Report incident' }).waitFor();
      await page.getByLabel('Title').fill(`Port scan from ${ATTACKER}`);
      await page.getByLabel('Severity').selectOption('high');
      await page.getByLabel('Hosts').fill(ATTACKER);
      await page.getByLabel('Description').fill('Seen by the dashboard test; blocked at the firewall.');
      await page.getByRole('button', { name: 'Report incident' }).click();
      await page
        .getByRole('heading', {
          level: 1,
          name: new RegExp(`Port scan from ${ATTACKER.replaceAll('.', '\\.')}`),
        })
        .waitFor();
      const incidentId = Number(new URL(page.url()).pathname.split('/').pop());
      expect(incidentId).toBeGreaterThan(0);
      const links = page.getByRole('table', { name: 'Incident links' });
      await links.getByText(id).first().waitFor();

      const token = await adminToken();
      const rules = (await api('GET', '/api/firewall/rules', { token })).body as {
        items: { id: number; source: string | null }[];
      };
      const block = rules.items.find((r) => r.source?.startsWith(ATTACKER));
      expect(block).toBeDefined();
      await page.getByLabel('Kind').selectOption('block');
      await page.getByLabel('Reference').fill(String(block!.id));
      await page.getByRole('button', { name: 'Add link' }).click();
      await links.getByText(`block ${ATTACKER}`, { exact: false }).first().waitFor();

      const timeline = page.getByRole('region', { name: 'Incident timeline' });
      await page.getByLabel('Comment', { exact: true }).fill('Contained: the scanner is blocked.');
      await page.getByRole('button', { name: 'Add comment', exact: true }).click();
      await timeline.getByText('Contained: the scanner is blocked.').waitFor();
      await page.getByLabel('Status').selectOption('contained');
      await timeline.getByText('open → contained').waitFor();
      await timeline
        .getByText(/Alert raised/)
        .first()
        .waitFor();
      await timeline
        .getByText(/Firewall rule/)
        .first()
        .waitFor();
      await shot('incident');

      const download = page.waitForEvent('download');
      await page.getByRole('button', { name: 'Export report (HTML)' }).click();
      const file = join(dir, 'incident-report.html');
      await (await download).saveAs(file);
      const report = await browser!.newPage({ viewport: { width: 1100, height: 900 } });
      try {
        await report.goto(pathToFileURL(file).href);
        await report
          .getByRole('heading', { level: 1, name: new RegExp(`Incident ${incidentId}: Port scan`) })
          .waitFor();
        const linked = report.getByRole('table', { name: 'Linked alerts' });
        await expect(linked.getByRole('row').count()).resolves.toBe(2);
        await linked.getByRole('cell', { name: id, exact: true }).waitFor();
        await linked.getByRole('cell', { name: ATTACKER, exact: true }).first().waitFor();
        await report
          .getByRole('table', { name: 'Timeline' })
          .getByText('Contained: the scanner is blocked.')
          .waitFor();
        await expect(report.locator('script').count()).resolves.toBe(0);
        await shot('incident-report', report);
      } finally {
        await report.close();
      }
      const audit = (await api('GET', '/api/logs/audit?limit=200', { token })).body as {
        items: { action: string; target: string | null }[];
      };
      const actions = audit.items.map((e) => e.action);
      for (const action of [
        'alert.assign',
        'alert.comment',
        'incident.create',
        'incident.link',
        'incident.comment',
        'incident.status',
        'incident.export',
      ]) {
        expect(actions).toContain(action);
      }
    });

    it('adds a webhook channel, sends a test to a receiver, and shows it in the delivery log', async () => {
      const received: string[] = [];
      const receiver = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          received.push(Buffer.concat(chunks).toString('utf8'));
          res.writeHead(204).end();
        });
      });
      receiver.listen(0, '127.0.0.1');
      await once(receiver, 'listening');
      try {
        const { port } = receiver.address() as AddressInfo;
        await page.goto(`${server.url}/notifications`);
        await page.getByRole('heading', { name: 'Notification channels' }).waitFor();
        await page.getByRole('button', { name: 'Add channel' }).click();
        await page.getByLabel('Name', { exact: true }).fill('SOC webhook');
        await page.getByLabel('Kind', { exact: true }).selectOption('webhook');
        await page.getByLabel('URL', { exact: true }).fill(`http://127.0.0.1:${port}/hooks/SECRET-TOKEN`);
        await page.getByRole('button', { name: 'Save channel' }).click();
        const channels = page.getByRole('table', { name: 'Notification channels' });
        await channels.getByText('SOC webhook').waitFor();
        // The token is never shown again.
        await expect(page.getByText('SECRET-TOKEN').count()).resolves.toBe(0);
        await channels.getByRole('button', { name: 'Send test' }).click();
        await channels.getByText('Sent', { exact: true }).waitFor();
        expect(received).toHaveLength(1);
        expect(received[0]).toContain('"kind":"test"');
        await page.getByRole('table', { name: 'Delivery log' }).getByText(/test/i).first().waitFor();
        await shot('notifications');
      } finally {
        receiver.close();
      }
      await page.goto(`${server.url}/alerts/rules`);
      await page.getByRole('table', { name: 'Severity overrides' }).waitFor();
      await shot('alert-rules');
    });

    it("scans this host's loopback and shows the scan list and its report", async () => {
      const token = await adminToken();
      const started = await api('POST', '/api/scans', {
        token,
        body: { targets: ['127.0.0.1'], ports: '1-1024,3306,5432,6379' },
      });
      expect(started.status, JSON.stringify(started.body)).toBe(202);
      const scanId = (started.body as { id: string }).id;
      scanPath = `/scans/${scanId}`;
      // A connect scan of 1,024 loopback ports ends in seconds; the deadline only bounds a hang.
      const deadline = Date.now() + 60_000;
      let scan: { status: string; error?: string | null } = { status: 'queued' };
      while ((scan.status === 'queued' || scan.status === 'running') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        scan = (await api('GET', `/api/scans/${scanId}`, { token })).body as typeof scan;
      }
      expect(scan, JSON.stringify(scan)).toMatchObject({ status: 'done' });
      await page.goto(`${server.url}/scans`);
      await page
        .getByRole('table', { name: 'Scans' })
        .getByRole('link', { name: '127.0.0.1' })
        .first()
        .waitFor();
      await shot('scanner');
      await page.goto(`${server.url}${scanPath}`);
      await page.getByRole('region', { name: 'Host 127.0.0.1' }).waitFor();
      await shot('scan-report');
    });

    it("shows the host's health, with charts, and the server's own listener with its process", async () => {
      await page.goto(`${server.url}/system`);
      await page.getByTestId('system-cpu').waitFor();
      await expect(page.getByTestId('system-cpu').textContent()).resolves.toMatch(/\d+(\.\d+)?% busy/);
      await page.getByTestId('system-filesystems').waitFor();
      await page.getByTestId('system-charts').waitFor();
      // The admin sees the sockets: the API's listener belongs to this server's node process.
      const port = new URL(server.url).port;
      const row = page
        .getByTestId('system-listening')
        .getByRole('row')
        .filter({ hasText: `:${port}` });
      await row.first().waitFor();
      const text = (await row.first().textContent()) ?? '';
      expect(text).toContain('node');
      expect(text).toContain(String(server.child.pid));
      await shot('system');
    });

    it('shows a viewer no admin controls, and the API refuses them anyway', async () => {
      const context = await browser!.newContext({ viewport: { width: 390, height: 844 } });
      const phone = await context.newPage();
      try {
        await signIn(phone, 'vic');
        const nav = phone.getByRole('navigation', { name: 'Pages' });
        for (const adminPage of ['Backups', 'Logs', 'Users']) {
          await expect(nav.getByRole('link', { name: adminPage }).count()).resolves.toBe(0);
        }
        await shot('overview-viewer-phone', phone);
        await phone.goto(`${server.url}${alertPath}`);
        await phone.getByRole('heading', { level: 1 }).waitFor();
        for (const action of ['Acknowledge', 'Resolve', 'Block source']) {
          await expect(phone.getByRole('button', { name: action }).count()).resolves.toBe(0);
        }
        await phone.goto(`${server.url}/firewall`);
        await phone.getByRole('table', { name: 'Firewall rules' }).waitFor();
        for (const action of ['Add rule', 'Edit', 'Remove']) {
          await expect(phone.getByRole('button', { name: action }).count()).resolves.toBe(0);
        }
        await phone.goto(`${server.url}/scans`);
        await phone.getByRole('table', { name: 'Scans' }).waitFor();
        await expect(phone.getByRole('region', { name: 'New scan' }).count()).resolves.toBe(0);
        await expect(phone.getByRole('button', { name: 'Start scan' }).count()).resolves.toBe(0);
        await phone.goto(`${server.url}${scanPath}`);
        await phone.getByRole('region', { name: 'Host 127.0.0.1' }).waitFor();
        await expect(phone.getByRole('button', { name: 'Close port' }).count()).resolves.toBe(0);
        await phone.goto(`${server.url}/system`);
        await phone.getByTestId('system-cpu').waitFor();
        await phone.getByText('Sockets need the analyst role').waitFor();
        await phone.goto(`${server.url}/backups`);
        await phone.getByText('Not for your role').waitFor();
      } finally {
        await context.close();
      }
      const login = await api('POST', '/api/auth/login', {
        body: { username: 'vic', password: GOOD_PASSWORD },
      });
      const token = (login.body as { accessToken: string }).accessToken;
      const id = decodeURIComponent(alertPath.split('/').pop()!);
      const refused = await Promise.all([
        api('POST', '/api/firewall/rules', { token, body: { kind: 'block', source: '203.0.113.9' } }),
        api('POST', '/api/backup/create', { token }),
        api('POST', `/api/anomalies/${encodeURIComponent(id)}/resolve`, { token }),
        api('GET', '/api/logs/audit', { token }),
        api('POST', '/api/users', {
          token,
          body: { username: 'mal', password: GOOD_PASSWORD, role: 'admin' },
        }),
        api('POST', '/api/scans', { token, body: { targets: ['127.0.0.1'] } }),
      ]);
      expect(refused.map((r) => r.status)).toEqual([403, 403, 403, 403, 403, 403]);
    });

    it('lists a NetFlow exporter on the Sensors page, in contact, and shows its flows behind its name', async () => {
      const token = await adminToken();
      const answer = await api('GET', '/api/sensors', { token });
      const listen = (answer.body as { collector: { listen: string } | null }).collector?.listen ?? '';
      const port = Number(listen.split(':').pop());
      expect(port, listen).toBeGreaterThan(0);
      // A real exporter: softflowd reads the attack capture and sends its flows as IPFIX.
      await run('softflowd', ['-r', corpusPath(ATTACK), '-n', `127.0.0.1:${port}`, '-v', '10', '-d'], {
        timeoutSeconds: 60,
      });
      await page.goto(`${server.url}/sensors`);
      await page.getByRole('heading', { name: 'Sensors', level: 1 }).waitFor();
      const row = page.getByRole('table', { name: 'Sensors' }).getByRole('row').filter({ hasText: EXPORTER });
      // The server notes an exporter's contact every few seconds; the page refreshes every 5 s.
      await row.waitFor({ timeout: 20_000 });
      await expect(row.textContent()).resolves.toContain('in contact');
      await expect(row.textContent()).resolves.toContain('NetFlow/IPFIX exporter');
      await shot('sensors');
      await row.getByRole('link', { name: EXPORTER }).click();
      await page.waitForURL(/\/flows\?sensor=exporter/);
      const flows = page.getByRole('table', { name: 'Flows' });
      await flows.getByRole('row').nth(1).waitFor();
      // Every flow listed came from the exporter, as its Sensor column says.
      const rows = await flows.locator('tbody tr').allTextContents();
      expect(rows.length).toBeGreaterThan(0);
      for (const text of rows) expect(text).toContain(EXPORTER);
      await shot('flows-of-exporter');
    });

    it('saves a screenshot of every page', async () => {
      for (const [name, path] of [
        ['users', '/users'],
        ['account', '/account'],
        ['settings', '/settings'],
        ['logs-server', '/logs'],
        ['host', `/hosts/${ATTACKER}`],
      ] as const) {
        await page.goto(`${server.url}${path}`);
        await page.getByRole('heading', { level: 1 }).first().waitFor();
        await shot(name);
      }
    });

    async function adminToken(): Promise<string> {
      const login = await api('POST', '/api/auth/login', {
        body: { username: 'ada', password: GOOD_PASSWORD },
      });
      return (login.body as { accessToken: string }).accessToken;
    }
  },
);

/** Reads the live feed's `live` events until `signal` aborts, handing each second to `onSecond`. */
async function followLiveFeed(
  url: string,
  token: string,
  signal: AbortSignal,
  onSecond: (second: { at: number; packetsPerSecond: number }) => void,
): Promise<void> {
  try {
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal });
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of res.body!) {
      buffered += decoder.decode(chunk as Uint8Array, { stream: true });
      let end: number;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        const lines = buffered.slice(0, end).split('\n');
        buffered = buffered.slice(end + 2);
        if (!lines.includes('event: live')) continue;
        const data = lines.find((l) => l.startsWith('data: '))?.slice(6) ?? '{}';
        const { live } = JSON.parse(data) as { live: { at: number; packetsPerSecond: number } };
        onSecond({ at: live.at, packetsPerSecond: live.packetsPerSecond });
      }
    }
  } catch (err) {
    if (!signal.aborted) throw err;
  }
}
