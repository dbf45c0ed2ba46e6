/**
 * Three sensors and a hub, as a site runs them (issue 11's first must-show): the real CLI, a real
 * nats-server with JetStream and PostgreSQL.
 * - The hub (`flowtrack serve` with bus.url) and a nats-server of the test's own run in one
 *   namespace of a test LAN; the hub's store is a new PostgreSQL database, reached over its Unix
 *   socket (a namespace has its own loopback). The hub signs in to NATS with a user and password,
 *   each sensor with an nkey of its own.
 * - Each sensor (`flowtrack sensor --hub nats://...`) captures on its namespace's eth0 what its
 *   own traffic generator sends: hping3 UDP, one datagram per source port, so every datagram is a
 *   flow of its own and the flows to expect are the datagrams sent.
 * - The hub and nats-server stop for 30 s while the generators go on; the sensors buffer on disk.
 *   Once both are back every flow is at the hub, none twice, and each sensor's count at the hub
 *   equals the count the sensor says it sent.
 * - A block made at the hub's API is put in force by all three sensors' nftables: an attacker's
 *   pings that were answered before go unanswered after.
 *
 * Traffic stays on a LAN of network namespaces with no default route (test/helpers/netns.ts), every
 * tool is bounded in packets and time, and the namespaces (with their rules) and the database are
 * removed afterwards. Needs root; skipped with a message otherwise, except under CI=true.
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createUser } from '@nats-io/nkeys';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sleep, waitFor, type BackgroundProcess, type Lan } from './helpers/netns.js';
import { NetnsServe } from './helpers/netns-serve.js';
import { createTestDatabase, PG_TEST_URL, postgresReachable, type TestDatabase } from './helpers/postgres.js';
import { CLI } from './helpers/serve-process.js';
import { describeUnlessMissing, hasTool } from './helpers/system-tools.js';

const NATS_SERVER = '/usr/sbin/nats-server';
const TOOLS = ['ip', 'tcpdump', 'hping3', 'nft', 'curl', 'ping'];
const HUB = '10.91.0.1';
const ATTACKER = '10.91.0.66';
const SENSORS = [
  { name: 'sa', address: '10.91.0.11', generator: '10.91.0.21' },
  { name: 'sb', address: '10.91.0.12', generator: '10.91.0.22' },
  { name: 'sc', address: '10.91.0.13', generator: '10.91.0.23' },
] as const;
/** Datagrams (so flows) each generator sends before, during and after the outage. */
const BEFORE = 200;
const DURING = 600;
const AFTER = 200;
const OUTAGE_MS = 30_000;

const root = process.getuid?.() === 0;
const pgUp = await postgresReachable();
const missing = [
  ...TOOLS.filter((t) => !hasTool(t)),
  ...(hasTool('nats-server') || hasTool(NATS_SERVER) ? [] : ['nats-server']),
  ...(root ? [] : ['root']),
  ...(pgUp ? [] : [`PostgreSQL at ${PG_TEST_URL}`]),
];

interface SensorRow {
  name: string;
  kind: string;
  inContact: boolean;
  health: { capture: { flowsSent: number; interfaces: { state: string }[] } } | null;
}

describeUnlessMissing(
  missing.length > 0 ? missing.join(', ') : null,
  'run scripts/setup.sh --test as root, with PostgreSQL running',
  'sensors and a hub over NATS JetStream (real nats-server, PostgreSQL, nftables, netns)',
  () => {
    let db: TestDatabase;
    let nats: BackgroundProcess | null = null;
    const sensors = new Map<string, BackgroundProcess>();
    const natsPassword = randomBytes(12).toString('hex');
    let hub: NetnsServe;
    let natsDir = '';

    /** Resolves once `check` holds; fails saying `what` did not happen in time. */
    async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
      await waitFor(what, async () => ((await check()) ? true : null), timeoutMs, 500);
    }

    async function startNats(lan: Lan): Promise<void> {
      nats = lan.start('hub', NATS_SERVER, ['-c', join(natsDir, 'nats.conf')], 300);
      await nats.waitFor(/Server is ready/, 15_000);
    }

    async function query<T>(text: string): Promise<T[]> {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        return (await client.query(text)).rows as T[];
      } finally {
        await client.end();
      }
    }

    /** Flows stored per sensor, and how many distinct source ports (a flow stored twice would repeat one). */
    async function stored(): Promise<Map<string, { flows: number; ports: number }>> {
      const rows = await query<{ sensor: string; flows: string; ports: string }>(
        `select sensor, count(*) as flows, count(distinct src_port) as ports from flows
         where sensor is not null group by sensor`,
      );
      return new Map(rows.map((r) => [r.sensor, { flows: Number(r.flows), ports: Number(r.ports) }]));
    }

    function generate(count: number, firstPort: number): Promise<unknown> {
      return Promise.all(
        SENSORS.map((s) =>
          hub.lan.exec(
            `g${s.name}`,
            'hping3',
            [
              '--udp',
              '-q',
              '-c',
              String(count),
              '-i',
              'u20000',
              '-s',
              String(firstPort),
              '-p',
              '9',
              s.address,
            ],
            { timeoutSeconds: 60, allowFailure: true },
          ),
        ),
      );
    }

    beforeAll(async () => {
      db = await createTestDatabase(PG_TEST_URL);
      // The namespaces reach PostgreSQL over its Unix socket: their loopback is their own.
      const url = new URL(db.url);
      const storeUrl = `postgresql://${url.username}@localhost${url.pathname}?host=/var/run/postgresql`;
      natsDir = mkdtempSync(join(tmpdir(), 'flowtrack-nats-'));
      const keys = SENSORS.map(() => createUser());
      SENSORS.forEach((s, i) =>
        writeFileSync(join(natsDir, `${s.name}.nk`), new TextDecoder().decode(keys[i]!.getSeed()), {
          mode: 0o600,
        }),
      );
      writeFileSync(join(natsDir, 'hub.password'), natsPassword, { mode: 0o600 });
      writeFileSync(
        join(natsDir, 'nats.conf'),
        [
          'listen: 0.0.0.0:4222',
          `jetstream { store_dir: "${join(natsDir, 'js')}" }`,
          'authorization {',
          '  users = [',
          `    { user: hub, password: "${natsPassword}" }`,
          // Each sensor may do only what docs/deployment.md allows it: publish its own subjects
          // and read its own block consumer.
          ...SENSORS.map(
            (s, i) => `    { nkey: ${keys[i]!.getPublicKey()}, permissions: ${sensorPermissions(s.name)} }`,
          ),
          '  ]',
          '}',
        ].join('\n'),
      );
      hub = new NetnsServe({
        tmpPrefix: 'flowtrack-hub-',
        hosts: {
          hub: HUB,
          atk: ATTACKER,
          ...Object.fromEntries(
            SENSORS.flatMap((s) => [
              [s.name, s.address],
              [`g${s.name}`, s.generator],
            ]),
          ),
        },
        serveOn: 'hub',
        port: 8080,
        users: { ada: 'admin' },
        env: {
          FLOWTRACK_STORE_URL: storeUrl,
          FLOWTRACK_BUS_URL: `nats://${HUB}:4222`,
          FLOWTRACK_BUS_USER: 'hub',
          FLOWTRACK_BUS_PASSWORD_FILE: join(natsDir, 'hub.password'),
          // The hub's own capture sees none of the test's traffic.
          FLOWTRACK_CAPTURE_BPF: 'host 10.91.0.250',
          FLOWTRACK_SYSTEM_ENABLED: 'false',
        },
        beforeServe: (lan) => startNats(lan),
      });
      await hub.start();
      for (const s of SENSORS) {
        const env = Object.entries({
          FLOWTRACK_DATA_DIR: join(hub.dir, s.name),
          FLOWTRACK_FIREWALL_MODE: 'enforce',
          FLOWTRACK_SYSTEM_ENABLED: 'false',
          FLOWTRACK_CAPTURE_EVIDENCE_ENABLED: 'false',
          FLOWTRACK_CAPTURE_FLOW_TIMEOUTS_IDLE_SECONDS: '2',
        }).map(([k, v]) => `${k}=${v}`);
        const proc = hub.lan.start(
          s.name,
          'env',
          [
            ...env,
            process.execPath,
            CLI,
            'sensor',
            '--hub',
            `nats://${HUB}:4222`,
            '--name',
            s.name,
            '--nkey',
            join(natsDir, `${s.name}.nk`),
            '-i',
            'eth0',
            '-f',
            `udp and src host ${s.generator}`,
          ],
          300,
        );
        sensors.set(s.name, proc);
        await proc.waitFor(/capturing on eth0/, 20_000);
      }
      // Each sensor's tcpdump runs, as its health report at the hub says.
      await until(
        'the three sensors capturing, by their health reports',
        async () => {
          const { body } = await hub.api('/api/sensors');
          const rows = (body as { sensors: SensorRow[] }).sensors;
          return SENSORS.every(
            (s) => rows.find((r) => r.name === s.name)?.health?.capture.interfaces[0]?.state === 'running',
          );
        },
        30_000,
      );
    }, 120_000);

    afterAll(async () => {
      for (const proc of sensors.values()) await proc.stop('SIGTERM', 5000);
      await hub.stop();
      await db.drop();
      if (natsDir !== '') rmSync(natsDir, { recursive: true, force: true });
    }, 60_000);

    it('stores every flow of each sensor once, across 30 s without the hub and its nats-server', async () => {
      await generate(BEFORE, 20_000);
      await until(
        'the first flows of all three sensors at the hub',
        async () => [...(await stored()).values()].filter((c) => c.flows >= BEFORE).length === 3,
        30_000,
      );

      // The hub and its bus go away; the sensors keep capturing.
      const stoppedAt = Date.now();
      await hub.serve.stop('SIGTERM', 15_000);
      await nats!.stop('SIGTERM', 10_000);
      await generate(DURING, 30_000);
      // Flows end 2 s after their datagram: let them reach the sensors' buffers, then wait out the 30 s.
      await sleep(Math.max(3000, OUTAGE_MS - (Date.now() - stoppedAt)));
      expect((await stored()).get('sa')?.flows).toBeLessThan(BEFORE + DURING);
      await startNats(hub.lan);
      await hub.startServe();
      await generate(AFTER, 40_000);

      const total = BEFORE + DURING + AFTER;
      await until(
        `${total} flows of each sensor at the hub`,
        async () => [...(await stored()).values()].filter((c) => c.flows >= total).length === 3,
        60_000,
      );
      // Late duplicates would come now, if any.
      await sleep(3000);
      const counts = await stored();
      for (const s of SENSORS) expect(counts.get(s.name)).toEqual({ flows: total, ports: total });

      // Each sensor's own count, from its latest health report, is the hub's.
      await until(
        'each sensor to report the flows it sent',
        async () => {
          const { body } = await hub.api('/api/sensors');
          const rows = (body as { sensors: SensorRow[] }).sensors;
          return SENSORS.every(
            (s) => rows.find((r) => r.name === s.name)?.health?.capture.flowsSent === total,
          );
        },
        20_000,
      );
      const { body } = await hub.api('/api/sensors');
      const rows = (body as { sensors: SensorRow[]; hub: { connected: boolean } }).sensors;
      expect(
        rows
          .filter((r) => r.kind === 'sensor' && r.inContact)
          .map((r) => r.name)
          .sort(),
      ).toEqual(['sa', 'sb', 'sc']);
      // The flow list filters by sensor.
      const list = await hub.api('/api/flows?sensor=sb&limit=5');
      expect((list.body as { items: { sensor: string }[] }).items.map((f) => f.sensor)).toEqual(
        Array(5).fill('sb'),
      );
      // A sensor's own Prometheus figures: connected, its buffer emptied, and nothing dropped.
      const sensorScrape = await metricsOf('sa');
      expect(figure(sensorScrape, 'flowtrack_sensor_connected')).toBe(1);
      expect(figure(sensorScrape, 'flowtrack_sensor_buffered_messages')).toBe(0);
      expect(figure(sensorScrape, 'flowtrack_sensor_dropped_messages_total')).toBe(0);
      expect(figure(sensorScrape, 'flowtrack_sensor_published_messages_total')).toBeGreaterThan(0);
      // Prometheus on the hub's host: connected, and the hub started again after the outage
      // stored at least what was sent during and after it, and never more than all.
      const scrape = await metricsOf('hub');
      expect(figure(scrape, 'flowtrack_hub_connected')).toBe(1);
      const storedHere = figure(scrape, 'flowtrack_hub_flows_total');
      expect(storedHere).toBeGreaterThanOrEqual(3 * (DURING + AFTER));
      expect(storedHere).toBeLessThanOrEqual(3 * total);
    }, 240_000);

    /** GET /metrics of the hub or a sensor from its own host (loopback: no token), as its Prometheus would. */
    async function metricsOf(host: string): Promise<string> {
      const file = join(natsDir, `metrics-${host}.txt`);
      const { status } = await hub.lan.curl(host, 'http://127.0.0.1:8080/metrics', { out: file });
      expect(status).toBe(200);
      return readFileSync(file, 'utf8');
    }

    it('puts a block made at the hub in force on all three sensors', async () => {
      const answered = async (sensor: (typeof SENSORS)[number]): Promise<boolean> =>
        (
          await hub.lan.exec('atk', 'ping', ['-c', '2', '-W', '1', '-i', '0.3', sensor.address], {
            allowFailure: true,
            timeoutSeconds: 10,
          })
        ).code === 0;
      for (const s of SENSORS) expect(await answered(s)).toBe(true);
      const made = await hub.api('/api/firewall/rules', {
        method: 'POST',
        body: { kind: 'block', source: ATTACKER, comment: 'seen at the hub' },
      });
      expect(made.status).toBe(201);
      for (const s of SENSORS) {
        await until(
          `the block in ${s.name}'s nftables`,
          async () =>
            (await hub.lan.exec(s.name, 'nft', ['list', 'ruleset'], { allowFailure: true })).stdout.includes(
              ATTACKER,
            ),
          20_000,
        );
        expect(await answered(s)).toBe(false);
      }
      // Lifted at the hub, lifted everywhere.
      const id = (made.body as { id: number }).id;
      expect((await hub.api(`/api/firewall/rules/${id}`, { method: 'DELETE' })).status).toBe(200);
      for (const s of SENSORS) {
        await until(`${s.name} to answer the attacker again`, () => answered(s), 20_000);
      }
      // Both orders went out on the bus, and none waits for it.
      const scrape = await metricsOf('hub');
      expect(figure(scrape, 'flowtrack_hub_block_orders_total')).toBeGreaterThanOrEqual(2);
      expect(figure(scrape, 'flowtrack_hub_pending_block_orders')).toBe(0);
    }, 120_000);
  },
);

/** The least a sensor needs of NATS, as docs/deployment.md gives it (default prefix). */
function sensorPermissions(name: string): string {
  const consumer = `FLOWTRACK_BLOCKS.sensor-${name}`;
  const publish = [
    `flowtrack.sensor.${name}.>`,
    '$JS.API.INFO',
    `$JS.API.CONSUMER.INFO.${consumer}`,
    `$JS.API.CONSUMER.CREATE.${consumer}`,
    `$JS.API.CONSUMER.CREATE.${consumer}.>`,
    `$JS.API.CONSUMER.MSG.NEXT.${consumer}`,
    `$JS.ACK.${consumer}.>`,
  ];
  return `{ publish: { allow: ${JSON.stringify(publish)} }, subscribe: { allow: ["_INBOX.>"] } }`;
}

/** The value of an unlabelled metric in a Prometheus scrape (NaN when absent). */
function figure(scrape: string, name: string): number {
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(scrape)?.[1]);
}
