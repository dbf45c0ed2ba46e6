/**
 * The sensor/hub bus against a real nats-server with JetStream, started by this file on a free
 * 127.0.0.1 port with its own store directory and a config that requires NKeys for sensors and a
 * user/password for the hub. Checks what an admin would notice: every flow arrives once, through
 * a server restart, a hub restart and a sensor restart; a store outage loses nothing; block
 * orders reach every sensor, late ones too; wrong credentials are refused and said so; a
 * malformed message is counted and does not stop the next one.
 *
 * The server, every link and the temporary directory are removed in afterEach/afterAll, also when
 * a test fails. Every wait is bounded.
 */

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { encodeAccount, encodeOperator, encodeUser, fmtCreds } from '@nats-io/jwt';
import { createAccount, createOperator, createUser } from '@nats-io/nkeys';
import { connect, nanos, nkeyAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { Alert } from '../src/alerts/alert.js';
import type { BlockOrder, FlowBatch, SensorHealth } from '../src/bus/bus-messages.js';
import { busNames } from '../src/bus/bus-subjects.js';
import { HubLink, type HubLinkOptions } from '../src/bus/hub-link.js';
import type { NatsAuth } from '../src/bus/nats-connection.js';
import { SensorLink, type SensorLinkOptions } from '../src/bus/sensor-link.js';
import type { FlowRow } from '../src/store/flow-repository.js';
import { describeUnlessMissing, hasTool } from './helpers/system-tools.js';

/** Debian installs nats-server in /usr/sbin, which is not on every user's PATH. */
const NATS_SERVER = hasTool('nats-server')
  ? 'nats-server'
  : (['/usr/sbin/nats-server', '/usr/local/bin/nats-server'].find((path) => existsSync(path)) ?? null);

const logger = pino({ level: process.env.FLOWTRACK_TEST_LOG ?? 'silent' });

/** The links a test has running, by name: their stats go into the message of a wait that timed out. */
const running = new Map<string, { stats(): object }>();

/** Polls `check` every 50 ms until it is true; fails after `timeoutMs` saying what it waited for. */
async function waitFor(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) {
      const states = [...running].map(([name, link]) => `${name}: ${JSON.stringify(link.stats())}`);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${states.join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/** A nats-server process with JetStream, restartable on the same port and store. */
class NatsServer {
  private child: ChildProcess | null = null;
  private output = '';

  constructor(private readonly configFile: string) {}

  async start(): Promise<void> {
    // Under coreutils' timeout, so that a server outlives a crashed test run by 5 minutes at most
    // (timeout passes our SIGTERM on to it).
    const child = spawn('timeout', ['--kill-after=5', '300', NATS_SERVER!, '-c', this.configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.output = '';
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`nats-server did not start in 15 s:\n${this.output}`)),
        15_000,
      );
      const collect = (chunk: Buffer): void => {
        if (this.output.length < 65536) this.output += chunk.toString();
        if (this.output.includes('Server is ready')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited (${code}) while starting:\n${this.output}`));
      });
    });
    await ready;
  }

  get running(): boolean {
    return this.child !== null;
  }

  /** SIGTERM, and SIGKILL if it has not exited after 10 s. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
  }
}

describeUnlessMissing(
  NATS_SERVER === null ? 'nats-server' : null,
  "install Debian's nats-server (scripts/setup.sh --test does)",
  'the sensor/hub bus on a real nats-server with JetStream',
  () => {
    let root = '';
    let url = '';
    let server: NatsServer | null = null;
    const hubUser = { kind: 'userPassword', user: 'hub', password: randomBytes(12).toString('hex') } as const;
    /** Seed files of NKey users the server knows (sensor name -> file). */
    const seeds = new Map<string, string>();
    let unknownSeed = '';
    const links: { close(): Promise<void> }[] = [];
    const connections: NatsConnection[] = [];

    beforeAll(async () => {
      root = mkdtempSync(join(tmpdir(), 'flowtrack-bus-'));
      const port = await freePort();
      url = `nats://127.0.0.1:${port}`;
      const users: string[] = [`{ user: "hub", password: "${hubUser.password}" }`];
      for (const name of ['s1', 's2', 's3', 's4']) {
        const user = createUser();
        const file = join(root, `${name}.nk`);
        writeFileSync(file, new TextDecoder().decode(user.getSeed()), { mode: 0o600 });
        seeds.set(name, file);
        users.push(`{ nkey: "${user.getPublicKey()}", permissions: ${sensorPermissions(name)} }`);
      }
      // A well-formed seed the server was never told about.
      unknownSeed = join(root, 'unknown.nk');
      writeFileSync(unknownSeed, new TextDecoder().decode(createUser().getSeed()), { mode: 0o600 });
      const configFile = join(root, 'nats.conf');
      writeFileSync(
        configFile,
        [
          `listen: "127.0.0.1:${port}"`,
          `jetstream { store_dir: "${join(root, 'jetstream')}", max_memory_store: 64MB, max_file_store: 1GB }`,
          `authorization { users: [ ${users.join(', ')} ] }`,
        ].join('\n'),
        { mode: 0o600 },
      );
      server = new NatsServer(configFile);
      await server.start();
    });

    afterEach(async () => {
      running.clear();
      await Promise.all(links.splice(0).map((link) => link.close()));
      await Promise.all(connections.splice(0).map((nc) => nc.close()));
      // A test that failed while the server was stopped must not fail the ones after it.
      if (server !== null && !server.running) await server.start();
    });

    afterAll(async () => {
      await server?.stop();
      rmSync(root, { recursive: true, force: true });
    });

    const uniquePrefix = (): string => `t${randomBytes(4).toString('hex')}`;
    const seed = (name: string): NatsAuth => ({ kind: 'nkey', seedFile: seeds.get(name)! });

    /** What a store that de-duplicates by message id would hold, and how often the handler ran. */
    function recorder() {
      const batches = new Map<string, FlowBatch>();
      const batchOfFlow = new Map<string, string>();
      let deliveries = 0;
      /** Flows that arrived in two different batches: real duplicates, which the store could not catch. */
      let rebatched = 0;
      return {
        batches,
        get deliveries() {
          return deliveries;
        },
        get rebatched() {
          return rebatched;
        },
        flowsFrom: (sensor: string) =>
          [...batchOfFlow.keys()].filter((key) => key.startsWith(`${sensor}:`)).length,
        get flows() {
          return batchOfFlow.size;
        },
        onFlows: (batch: FlowBatch): Promise<void> => {
          deliveries++;
          batches.set(batch.id, batch);
          for (const flow of batch.flows) {
            const key = `${batch.sensor}:${flow.firstSeenUs}`;
            const earlier = batchOfFlow.get(key);
            if (earlier !== undefined && earlier !== batch.id) rebatched++;
            batchOfFlow.set(key, batch.id);
          }
          return Promise.resolve();
        },
      };
    }

    function startHub(prefix: string, options: Partial<HubLinkOptions> = {}): HubLink {
      const hub = HubLink.start({
        servers: [url],
        auth: hubUser,
        prefix,
        logger,
        onFlows: () => Promise.resolve(),
        onAlert: () => Promise.resolve(),
        onHealth: () => undefined,
        retention: { maxBytes: 64 << 20 },
        maxBackoffMs: 1000,
        ...options,
      });
      links.push(hub);
      running.set(`hub ${options.durable ?? 'flowtrack-hub'} #${links.length}`, hub);
      return hub;
    }

    function startSensor(
      sensor: string,
      prefix: string,
      options: Partial<SensorLinkOptions> = {},
    ): SensorLink {
      const link = SensorLink.start({
        servers: [url],
        auth: seed(sensor),
        sensor,
        bufferDir: join(root, `${prefix}-${sensor}`),
        bufferMaxBytes: 16 << 20,
        batchFlows: 100,
        batchMs: 100,
        prefix,
        logger,
        onBlock: () => Promise.resolve(),
        maxBackoffMs: 1000,
        ...options,
      });
      links.push(link);
      running.set(`sensor ${sensor} #${links.length}`, link);
      return link;
    }

    /** Closes one link now (and forgets it for afterEach). */
    async function closeLink(link: { close(): Promise<void> }): Promise<void> {
      links.splice(links.indexOf(link), 1);
      await link.close();
    }

    /** Flows numbered from..to-1 (the number is the flow's first-seen time, unique per sensor). */
    function publishFlows(link: SensorLink, from: number, to: number): void {
      for (let n = from; n < to; n++) link.publishFlow(flowRow(n));
    }

    async function adminConnection(): Promise<NatsConnection> {
      const nc = await connect({
        servers: [url.slice('nats://'.length)],
        user: hubUser.user,
        pass: hubUser.password,
      });
      connections.push(nc);
      return nc;
    }

    it('(1) delivers every flow of three sensors to the hub exactly once, with their alerts and health', async () => {
      const prefix = uniquePrefix();
      const flows = recorder();
      const alerts: { sensor: string; alert: Alert }[] = [];
      const health: SensorHealth[] = [];
      const hub = startHub(prefix, {
        onFlows: flows.onFlows,
        onAlert: (m) => {
          alerts.push({ sensor: m.sensor, alert: m.alert });
          return Promise.resolve();
        },
        onHealth: (h) => health.push(h),
      });
      const sensors = ['s1', 's2', 's3'].map((name) => startSensor(name, prefix));
      const perSensor = 1000;
      for (const sensor of sensors) {
        publishFlows(sensor, 0, perSensor);
        sensor.publishAlert(sampleAlert());
        sensor.publishHealth({
          atMs: Date.now(),
          version: '0.1.0',
          hostname: 'edge',
          capture: { interfaces: ['eth0'] },
        });
      }

      await waitFor('3000 flows at the hub', () => flows.flows === 3 * perSensor);
      await waitFor('three alerts and three health reports', () => alerts.length === 3 && health.length >= 3);
      // 1000 flows in batches of 100: ten batches per sensor, each handled once.
      expect(flows.batches.size).toBe(30);
      expect(flows.deliveries).toBe(30);
      expect(flows.rebatched).toBe(0);
      for (const name of ['s1', 's2', 's3']) expect(flows.flowsFrom(name)).toBe(perSensor);
      expect([...flows.batches.values()][0]?.flows[0]).toEqual(
        flowRow([...flows.batches.values()][0]!.flows[0]!.firstSeenUs),
      );
      expect(alerts.map((a) => a.sensor).sort()).toEqual(['s1', 's2', 's3']);
      expect(alerts[0]?.alert).toEqual(sampleAlert());
      expect(health.map((h) => h.sensor).sort()).toEqual(['s1', 's2', 's3']);
      expect(health[0]).toMatchObject({
        version: '0.1.0',
        hostname: 'edge',
        capture: { interfaces: ['eth0'] },
      });

      await waitFor('the sensors to see their buffers empty', () =>
        sensors.every((s) => s.stats().bufferedMessages === 0),
      );
      // The block consumers started before the hub made the streams: they retry within a second.
      await waitFor('the sensors to report no problem', () =>
        sensors.every((s) => s.stats().lastError === null),
      );
      for (const sensor of sensors) {
        expect(sensor.stats()).toMatchObject({
          connected: true,
          publishedMessages: 11,
          droppedMessages: 0,
          lastError: null,
        });
      }
      await waitFor('the hub to ack everything', () => hub.stats().acked === 36);
      expect(hub.stats()).toMatchObject({ connected: true, received: 36, redelivered: 0, malformed: 0 });
    });

    it('(2) keeps publishing into the disk buffers while the server is down, and a new hub with the same durable resumes where the old one stopped', async () => {
      const prefix = uniquePrefix();
      const first = recorder();
      const hubA = startHub(prefix, { durable: 'hub-main', onFlows: first.onFlows });
      const sensors = ['s1', 's2', 's3'].map((name) => startSensor(name, prefix));
      for (const sensor of sensors) publishFlows(sensor, 0, 300);
      await waitFor('phase 1 at hub A', () => first.flows === 900);
      // Stored is not yet acked: the server must have hub A's acks before it stops, or it would
      // rightly deliver the last batches again.
      await waitFor('hub A to ack phase 1', () => hubA.stats().acked === 9);

      await server!.stop();
      await waitFor('the sensors to notice', () => sensors.every((s) => !s.stats().connected));
      for (const sensor of sensors) publishFlows(sensor, 300, 800);
      await waitFor('500 flows buffered on disk per sensor', () =>
        sensors.every((s) => s.stats().bufferedMessages === 5),
      );
      for (const sensor of sensors) expect(sensor.stats().bufferedBytes).toBeGreaterThan(5 * 100 * 200);
      // The hub cannot publish a block order meanwhile, and says why.
      await expect(hubA.publishBlock(blockOrder('block', '203.0.113.9'))).rejects.toMatchObject({
        code: 'BUS_ERROR',
        message: expect.stringMatching(/the bus is down/) as unknown,
      });
      // Hub A stops while the server is down; hub B takes over its durable consumer.
      await closeLink(hubA);

      await server!.start();
      await waitFor('the sensors to empty their buffers into the stream', () =>
        sensors.every((s) => s.stats().bufferedMessages === 0 && s.stats().connected),
      );
      const second = recorder();
      const hubB = startHub(prefix, { durable: 'hub-main', onFlows: second.onFlows });
      await waitFor('phase 2 at hub B', () => second.flows === 1500);
      // B got only what A had not acked: nothing of phase 1 again.
      expect([...second.batches.values()].every((b) => b.flows.every((f) => f.firstSeenUs >= 300))).toBe(
        true,
      );

      // Phase 3: hub B stops in the middle of a stream of batches; hub C resumes it.
      for (const sensor of sensors) publishFlows(sensor, 800, 1400);
      await waitFor('hub B to get part of phase 3', () => second.flows > 1500);
      await closeLink(hubB);
      const third = recorder();
      startHub(prefix, { durable: 'hub-main', onFlows: third.onFlows });
      const phase3 = (): Set<string> => {
        const keys = new Set<string>();
        for (const r of [second, third]) {
          for (const batch of r.batches.values()) {
            for (const flow of batch.flows)
              if (flow.firstSeenUs >= 800) keys.add(`${batch.sensor}:${flow.firstSeenUs}`);
          }
        }
        return keys;
      };
      await waitFor('all of phase 3 at hub B or C', () => phase3().size === 1800);
      // No flow was put into two different batches (the store's de-duplication by id covers the rest).
      expect(first.rebatched + second.rebatched + third.rebatched).toBe(0);
      const idsB = new Set(second.batches.keys());
      const again = [...third.batches.keys()].filter((id) => idsB.has(id)).length;
      // At most what B was handling when it stopped may come again; everything else resumes after it.
      expect(again).toBeLessThanOrEqual(1);
    });

    it('(3) a sensor restarted while the server is down sends what its previous run buffered', async () => {
      const prefix = uniquePrefix();
      const flows = recorder();
      startHub(prefix, { onFlows: flows.onFlows });
      const before = startSensor('s1', prefix);
      publishFlows(before, 0, 200);
      await waitFor('the first flows at the hub', () => flows.flows === 200);

      await server!.stop();
      publishFlows(before, 200, 500);
      await closeLink(before);
      const bufferDir = join(root, `${prefix}-s1`);
      expect(readdirSync(bufferDir).some((name) => name.endsWith('.seg'))).toBe(true);

      const after = startSensor('s1', prefix);
      expect(after.stats()).toMatchObject({ bufferedMessages: 3, connected: false });
      await server!.start();
      await waitFor('the buffered flows at the hub', () => flows.flows === 500);
      await waitFor('the new run to empty its buffer', () => after.stats().bufferedMessages === 0);
      expect(flows.rebatched).toBe(0);
      expect(after.stats().publishedMessages).toBe(3);
    });

    it('(4) a handler that fails (the store is down) gets its messages again later, and each is stored once', async () => {
      const prefix = uniquePrefix();
      let storeDown = true;
      let failures = 0;
      const stored = recorder();
      const hub = startHub(prefix, {
        redeliveryDelayMs: 100,
        onFlows: (batch) => {
          if (storeDown) {
            failures++;
            return Promise.reject(new Error('connection to the database refused'));
          }
          return stored.onFlows(batch);
        },
      });
      const sensor = startSensor('s1', prefix);
      publishFlows(sensor, 0, 300);
      await waitFor('each batch to fail at least twice', () => failures >= 6);
      expect(stored.flows).toBe(0);
      expect(hub.stats().lastError).toMatch(/connection to the database refused/);

      storeDown = false;
      await waitFor('all flows stored', () => stored.flows === 300);
      expect(stored.deliveries).toBe(3);
      expect(stored.batches.size).toBe(3);
      await waitFor('the hub to ack them', () => hub.stats().acked === 3);
      expect(hub.stats().redelivered).toBeGreaterThanOrEqual(3);
      expect(hub.stats().lastError).toBeNull();
      const jsm = await jetstreamManager(await adminConnection());
      const consumer = await jsm.consumers.info(busNames(prefix).sensorsStream, 'flowtrack-hub');
      expect(consumer.num_ack_pending + consumer.num_pending).toBe(0);
    });

    it('(4b) in groups, as the hub stores them: every batch of three sensors once, and a failed group given back whole', async () => {
      const prefix = uniquePrefix();
      let storeDown = true;
      let failedGroups = 0;
      const groupSizes: number[] = [];
      const stored = recorder();
      const hub = startHub(prefix, {
        redeliveryDelayMs: 100,
        onFlows: () => Promise.reject(new Error('a flow batch must come in a group')),
        onFlowGroup: async (batches) => {
          if (storeDown) {
            failedGroups++;
            throw new Error('connection to the database refused');
          }
          groupSizes.push(batches.length);
          for (const batch of batches) await stored.onFlows(batch);
        },
      });
      const sensors = ['s1', 's2', 's3'].map((name) => startSensor(name, prefix));
      for (const sensor of sensors) publishFlows(sensor, 0, 1000);
      await waitFor('groups to fail twice', () => failedGroups >= 2);
      expect(stored.flows).toBe(0);
      storeDown = false;
      await waitFor('every flow of the three sensors', () => stored.flows === 3000);
      // Each of the 30 batches was handed over once after the store came back, none in two groups.
      expect(stored.batches.size).toBe(30);
      expect(stored.deliveries).toBe(30);
      expect(stored.rebatched).toBe(0);
      expect(Math.max(...groupSizes)).toBeGreaterThan(1);
      await waitFor('the hub to ack them', () => hub.stats().acked === 30);
      expect(hub.stats().lastError).toBeNull();
      const jsm = await jetstreamManager(await adminConnection());
      const consumer = await jsm.consumers.info(busNames(prefix).sensorsStream, 'flowtrack-hub');
      expect(consumer.num_ack_pending + consumer.num_pending).toBe(0);
    });

    it('(5) a block order reaches every sensor, one started later too, and an unblock replaces it', async () => {
      const prefix = uniquePrefix();
      const hub = startHub(prefix);
      const received = new Map<string, BlockOrder[]>();
      let s1Failed = false;
      const onBlockOf =
        (name: string) =>
        (order: BlockOrder): Promise<void> => {
          if (name === 's1' && !s1Failed) {
            // The firewall fails once: the order must come again, not be lost.
            s1Failed = true;
            return Promise.reject(new Error('nft: busy'));
          }
          received.set(name, [...(received.get(name) ?? []), order]);
          return Promise.resolve();
        };
      await waitFor('the hub to connect', () => hub.stats().connected);
      const s1 = startSensor('s1', prefix, { onBlock: onBlockOf('s1') });
      const s2 = startSensor('s2', prefix, { onBlock: onBlockOf('s2') });

      const block = blockOrder('block', '203.0.113.7');
      await publishWhenReady(hub, block);
      await waitFor(
        'the block at s1 and s2',
        () => received.get('s1')?.length === 1 && received.get('s2')?.length === 1,
      );
      expect(received.get('s2')?.[0]).toEqual(block);
      expect(s1Failed).toBe(true);

      const s3 = startSensor('s3', prefix, { onBlock: onBlockOf('s3') });
      await waitFor('the block at s3, started after it was given', () => received.get('s3')?.length === 1);

      // The same address written another way is the same subject: the unblock replaces the block.
      const unblock = { ...blockOrder('unblock', '203.0.113.7'), id: 'order-2' };
      await hub.publishBlock(unblock);
      await waitFor('the unblock everywhere', () =>
        ['s1', 's2', 's3'].every((n) => received.get(n)?.length === 2),
      );
      for (const name of ['s1', 's2', 's3']) expect(received.get(name)?.[1]?.action).toBe('unblock');
      const s4 = startSensor('s4', prefix, { onBlock: onBlockOf('s4') });
      await waitFor('the latest order at s4', () => received.get('s4')?.length === 1);
      expect(received.get('s4')?.[0]?.action).toBe('unblock');
      expect(s1.stats().blocksApplied).toBe(2);
      expect(s2.stats().blocksApplied).toBe(2);
      expect(s4.stats().blocksApplied).toBe(1);
      const jsm = await jetstreamManager(await adminConnection());
      const stream = await jsm.streams.info(busNames(prefix).blocksStream);
      expect(stream.state.messages).toBe(1);
      // A retired sensor's consumer is the server's to delete after 30 days without it.
      const consumer = await jsm.consumers.info(busNames(prefix).blocksStream, 'sensor-s4');
      expect(consumer.config.inactive_threshold).toBe(nanos(30 * 86_400_000));
      // An order for an address that is not one never leaves the hub.
      await expect(hub.publishBlock(blockOrder('block', '203.0.113.300'))).rejects.toThrow(
        /not an IP address/,
      );
      expect(s3.stats().blocksApplied).toBe(2);
    });

    it('(6) refuses a sensor with a wrong or missing NKey (stats say why, messages stay buffered) and takes the right one', async () => {
      const prefix = uniquePrefix();
      const flows = recorder();
      startHub(prefix, { onFlows: flows.onFlows });
      const wrong = startSensor('s1', prefix, { auth: { kind: 'nkey', seedFile: unknownSeed } });
      const missing = startSensor('s2', prefix, { auth: { kind: 'none' } });
      const right = startSensor('s3', prefix);
      for (const link of [wrong, missing, right]) publishFlows(link, 0, 100);

      await waitFor(
        'the refusals',
        () => wrong.stats().lastError !== null && missing.stats().lastError !== null,
      );
      expect(wrong.stats().lastError).toMatch(
        /refused the NKey seed in .*unknown\.nk.*Authorization Violation/i,
      );
      expect(missing.stats().lastError).toMatch(
        /refused a connection without credentials.*Authorization Violation/i,
      );
      await waitFor("the right sensor's flows", () => flows.flows === 100);
      expect(flows.flowsFrom('s3')).toBe(100);
      await waitFor('their batches on disk', () =>
        [wrong, missing].every((l) => l.stats().bufferedMessages === 1),
      );
      for (const link of [wrong, missing]) {
        expect(link.stats()).toMatchObject({ connected: false, bufferedMessages: 1, publishedMessages: 0 });
      }
      // Bad credentials given at start are reported at once, by what is wrong, without the secret.
      expect(() =>
        startSensor('s4', prefix, { auth: { kind: 'nkey', seedFile: join(root, 'no-such.nk') } }),
      ).toThrow(/cannot read the NATS NKey seed file .*no-such\.nk/);
      const junk = join(root, 'junk.nk');
      writeFileSync(junk, 'not a seed');
      expect(() => startSensor('s4', prefix, { auth: { kind: 'nkey', seedFile: junk } })).toThrow(
        /does not hold an NKey seed/,
      );
      expect(() => startSensor('s4', prefix, { servers: ['http://hub:secret@127.0.0.1:4222'] })).toThrow(
        /"http:\/\/hub:\*\*\*@127\.0\.0\.1:4222" is not a NATS server URL/,
      );
      // A hub with a wrong password is refused too, and says so.
      const badHub = startHub(prefix, {
        auth: { kind: 'userPassword', user: 'hub', password: 'wrong' },
        durable: 'other',
      });
      await waitFor('the hub refusal', () => badHub.stats().lastError !== null);
      expect(badHub.stats().lastError).toMatch(/refused user "hub"/);
      expect(badHub.stats().lastError).not.toContain('wrong');
    });

    it('(7) counts and terminates a malformed message, and the next good one still arrives', async () => {
      const prefix = uniquePrefix();
      const flows = recorder();
      const hub = startHub(prefix, { onFlows: flows.onFlows });
      const names = busNames(prefix);
      const nc = await adminConnection();
      const js = jetstream(nc);
      await waitFor(
        'the hub to set up the streams',
        () => hub.stats().connected && hub.stats().lastError === null,
      );
      await waitForStream(nc, names.sensorsStream);
      const subject = names.sensorSubject('s1', 'flows');
      await js.publish(subject, 'this is not JSON');
      await js.publish(subject, JSON.stringify({ id: 'x-1', sensor: 's1', flows: [{ srcPort: 'eighty' }] }));
      // A sensor speaking for another: s2's name on s1's subject.
      await js.publish(subject, JSON.stringify({ id: 'x-2', sensor: 's2', flows: [flowRow(1)] }));
      await js.publish(
        names.sensorSubject('s1', 'alerts'),
        JSON.stringify({ id: 'x-3', sensor: 's1', alert: {} }),
      );
      // With the server's permissions, a sensor cannot even publish on another sensor's subject.
      const s1Raw = await connect({
        servers: [url.slice('nats://'.length)],
        authenticator: nkeyAuthenticator(new TextEncoder().encode(readFileSync(seeds.get('s1')!, 'utf8'))),
      });
      connections.push(s1Raw);
      await expect(jetstream(s1Raw).publish(names.sensorSubject('s2', 'flows'), '{}')).rejects.toThrow(
        /permissions violation/i,
      );
      const sensor = startSensor('s1', prefix);
      publishFlows(sensor, 0, 50);
      await waitFor('the good flows', () => flows.flows === 50);
      await waitFor('the hub to ack them', () => hub.stats().acked === 1);
      expect(hub.stats()).toMatchObject({ malformed: 4, acked: 1, received: 5 });
      const consumer = await (
        await jetstreamManager(nc)
      ).consumers.info(names.sensorsStream, 'flowtrack-hub');
      expect(consumer.num_ack_pending + consumer.num_pending).toBe(0);
    });

    /** The hub publishes once its streams exist (right after start they may not yet). */
    async function publishWhenReady(hub: HubLink, order: BlockOrder): Promise<void> {
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          await hub.publishBlock(order);
          return;
        } catch (err) {
          if (Date.now() > deadline) throw err;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    }

    async function waitForStream(nc: NatsConnection, stream: string): Promise<void> {
      const jsm = await jetstreamManager(nc);
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          await jsm.streams.info(stream);
          return;
        } catch (err) {
          if (Date.now() > deadline) throw err;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    }
  },
);

describeUnlessMissing(
  NATS_SERVER === null ? 'nats-server' : hasTool('openssl') ? null : 'openssl',
  "install Debian's nats-server and openssl (scripts/setup.sh --test does)",
  'the bus over TLS (tls://), with a private certificate authority',
  () => {
    let root = '';
    let tlsUrl = '';
    let server: NatsServer | null = null;
    const links: { close(): Promise<void> }[] = [];

    beforeAll(async () => {
      root = mkdtempSync(join(tmpdir(), 'flowtrack-bus-tls-'));
      const file = (name: string): string => join(root, name);
      const openssl = (...args: string[]): void => {
        execFileSync('openssl', args, { stdio: 'ignore' });
      };
      // An authority of the test's own, and the server's certificate it signs for 127.0.0.1.
      const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
      openssl(
        'req',
        '-x509',
        ...ec,
        '-keyout',
        file('ca.key'),
        '-out',
        file('ca.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=flowtrack test authority',
      );
      openssl(
        'req',
        ...ec,
        '-keyout',
        file('server.key'),
        '-out',
        file('server.csr'),
        '-subj',
        '/CN=127.0.0.1',
      );
      writeFileSync(file('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
      openssl(
        'x509',
        '-req',
        '-in',
        file('server.csr'),
        '-CA',
        file('ca.pem'),
        '-CAkey',
        file('ca.key'),
        '-CAcreateserial',
        '-out',
        file('server.pem'),
        '-days',
        '1',
        '-extfile',
        file('san.ext'),
      );
      const port = await freePort();
      tlsUrl = `tls://127.0.0.1:${port}`;
      writeFileSync(
        file('nats.conf'),
        [
          `listen: "127.0.0.1:${port}"`,
          `tls { cert_file: "${file('server.pem')}", key_file: "${file('server.key')}" }`,
          `jetstream { store_dir: "${file('jetstream')}", max_memory_store: 64MB, max_file_store: 256MB }`,
        ].join('\n'),
      );
      server = new NatsServer(file('nats.conf'));
      await server.start();
    });

    afterAll(async () => {
      await Promise.all(links.splice(0).map((link) => link.close()));
      await server?.stop();
      rmSync(root, { recursive: true, force: true });
    });

    it('delivers over tls:// with bus.tlsCaFile; refuses a server the system does not trust, or one its certificate does not name, and says why', async () => {
      const prefix = `t${randomBytes(4).toString('hex')}`;
      const ca = join(root, 'ca.pem');
      const stored: FlowBatch[] = [];
      const hub = HubLink.start({
        servers: [tlsUrl],
        auth: { kind: 'none' },
        tlsCaFile: ca,
        prefix,
        logger,
        onFlows: (batch) => {
          stored.push(batch);
          return Promise.resolve();
        },
        onAlert: () => Promise.resolve(),
        onHealth: () => undefined,
        retention: { maxBytes: 64 << 20 },
        maxBackoffMs: 1000,
      });
      links.push(hub);
      running.set('tls hub', hub);
      const sensorOptions = {
        auth: { kind: 'none' } as const,
        prefix,
        logger,
        batchFlows: 10,
        batchMs: 100,
        bufferMaxBytes: 16 << 20,
        onBlock: () => Promise.resolve(),
        maxBackoffMs: 1000,
      };
      const trusting = SensorLink.start({
        ...sensorOptions,
        servers: [tlsUrl],
        tlsCaFile: ca,
        sensor: 'tls1',
        bufferDir: join(root, 'buffer-tls1'),
      });
      links.push(trusting);
      running.set('tls1', trusting);
      // The system's authorities do not know the test's: this one must not connect.
      const doubting = SensorLink.start({
        ...sensorOptions,
        servers: [tlsUrl],
        sensor: 'tls2',
        bufferDir: join(root, 'buffer-tls2'),
      });
      links.push(doubting);
      // Trusting the authority is not enough: the certificate must name the server as it was given.
      const misnamed = SensorLink.start({
        ...sensorOptions,
        servers: [tlsUrl.replace('127.0.0.1', 'localhost')],
        tlsCaFile: ca,
        sensor: 'tls4',
        bufferDir: join(root, 'buffer-tls4'),
      });
      links.push(misnamed);
      for (let n = 0; n < 30; n++) trusting.publishFlow(flowRow(n));
      for (let n = 0; n < 30; n++) doubting.publishFlow(flowRow(n));
      misnamed.publishFlow(flowRow(0));
      await waitFor('30 flows over TLS', () => stored.reduce((sum, b) => sum + b.flows.length, 0) === 30);
      expect(new Set(stored.map((b) => b.sensor))).toEqual(new Set(['tls1']));
      await waitFor(
        'the untrusting sensor to buffer its flows and say why',
        () => doubting.stats().lastError !== null && doubting.stats().bufferedMessages === 3,
      );
      expect(doubting.stats()).toMatchObject({ connected: false, bufferedMessages: 3 });
      expect(doubting.stats().lastError).toMatch(/certificate/i);
      await waitFor('the misnamed server to be refused', () => misnamed.stats().lastError !== null);
      expect(misnamed.stats()).toMatchObject({ connected: false });
      expect(misnamed.stats().lastError).toMatch(/localhost.*altnames|altnames.*localhost/i);
      // A TLS authority for servers without TLS is a mistake the link names at once.
      expect(() =>
        SensorLink.start({
          ...sensorOptions,
          servers: ['nats://127.0.0.1:4222'],
          tlsCaFile: ca,
          sensor: 'tls3',
          bufferDir: join(root, 'buffer-tls3'),
        }),
      ).toThrow(/do not use TLS: write them tls:\/\/HOST:4222/);
    });
  },
);

describeUnlessMissing(
  NATS_SERVER === null ? 'nats-server' : null,
  "install Debian's nats-server (scripts/setup.sh --test does)",
  'the bus with JWT credentials (.creds files, operator mode)',
  () => {
    let root = '';
    let natsUrl = '';
    let server: NatsServer | null = null;
    const creds = new Map<string, string>();
    const links: { close(): Promise<void> }[] = [];

    beforeAll(async () => {
      root = mkdtempSync(join(tmpdir(), 'flowtrack-bus-jwt-'));
      // An operator, its system account, and an account with JetStream whose users are the hub
      // and a sensor, each with a .creds file (its JWT and its seed), as nsc would make them.
      const operator = createOperator();
      const system = createAccount();
      const account = createAccount();
      const operatorJwt = await encodeOperator('flowtrack-test', operator, {
        system_account: system.getPublicKey(),
      });
      const systemJwt = await encodeAccount('SYS', system, {}, { signer: operator });
      const accountJwt = await encodeAccount(
        'FLOWTRACK',
        account,
        // No limits (an account's JWT defaults to none of anything on nats-server 2.9).
        {
          limits: {
            conn: -1,
            subs: -1,
            data: -1,
            payload: -1,
            imports: -1,
            exports: -1,
            leaf: -1,
            wildcards: true,
            mem_storage: -1,
            disk_storage: -1,
            streams: -1,
            consumer: -1,
          },
        },
        { signer: operator },
      );
      for (const name of ['hub', 'edge1']) {
        const user = createUser();
        const jwt = await encodeUser(name, user, account);
        const file = join(root, `${name}.creds`);
        writeFileSync(file, fmtCreds(jwt, user), { mode: 0o600 });
        creds.set(name, file);
      }
      const port = await freePort();
      natsUrl = `nats://127.0.0.1:${port}`;
      writeFileSync(
        join(root, 'nats.conf'),
        [
          `listen: "127.0.0.1:${port}"`,
          `operator: "${operatorJwt}"`,
          `system_account: "${system.getPublicKey()}"`,
          'resolver: MEMORY',
          `resolver_preload: { ${system.getPublicKey()}: "${systemJwt}", ${account.getPublicKey()}: "${accountJwt}" }`,
          `jetstream { store_dir: "${join(root, 'jetstream')}", max_memory_store: 64MB, max_file_store: 256MB }`,
        ].join('\n'),
        { mode: 0o600 },
      );
      server = new NatsServer(join(root, 'nats.conf'));
      await server.start();
    });

    afterAll(async () => {
      await Promise.all(links.splice(0).map((link) => link.close()));
      await server?.stop();
      rmSync(root, { recursive: true, force: true });
    });

    it("delivers with each side's .creds file, and refuses a sensor without credentials, saying why", async () => {
      const prefix = `t${randomBytes(4).toString('hex')}`;
      const stored: FlowBatch[] = [];
      const hub = HubLink.start({
        servers: [natsUrl],
        auth: { kind: 'creds', file: creds.get('hub')! },
        prefix,
        logger,
        onFlows: (batch) => {
          stored.push(batch);
          return Promise.resolve();
        },
        onAlert: () => Promise.resolve(),
        onHealth: () => undefined,
        retention: { maxBytes: 64 << 20 },
        maxBackoffMs: 1000,
      });
      links.push(hub);
      running.set('jwt hub', hub);
      const sensorOptions = {
        servers: [natsUrl],
        prefix,
        logger,
        batchFlows: 10,
        batchMs: 100,
        bufferMaxBytes: 16 << 20,
        onBlock: () => Promise.resolve(),
        maxBackoffMs: 1000,
      };
      const sensor = SensorLink.start({
        ...sensorOptions,
        auth: { kind: 'creds', file: creds.get('edge1')! },
        sensor: 'edge1',
        bufferDir: join(root, 'buffer-edge1'),
      });
      links.push(sensor);
      running.set('jwt edge1', sensor);
      const anonymous = SensorLink.start({
        ...sensorOptions,
        auth: { kind: 'none' },
        sensor: 'edge2',
        bufferDir: join(root, 'buffer-edge2'),
      });
      links.push(anonymous);
      for (let n = 0; n < 30; n++) sensor.publishFlow(flowRow(n));
      anonymous.publishFlow(flowRow(0));
      await waitFor(
        '30 flows with JWT credentials',
        () => stored.reduce((sum, b) => sum + b.flows.length, 0) === 30,
      );
      expect(new Set(stored.map((b) => b.sensor))).toEqual(new Set(['edge1']));
      // Its flow stays in its disk buffer (written there after batchMs), and it says why.
      await waitFor(
        'the anonymous sensor to buffer its flow and say why',
        () => anonymous.stats().lastError !== null && anonymous.stats().bufferedMessages === 1,
      );
      expect(anonymous.stats()).toMatchObject({ connected: false, bufferedMessages: 1 });
      expect(anonymous.stats().lastError).toMatch(/authoriz|authentic/i);
    });
  },
);

/**
 * What a sensor needs and nothing more (any bus prefix, as each test has its own): publish on its
 * own subjects, read its own durable consumer of the block orders, and get replies. So a sensor
 * cannot speak for another one, nor touch the streams.
 */
function sensorPermissions(sensor: string): string {
  // Wildcards stand for whole tokens: `*` is the stream (<P>_BLOCKS in production).
  const blocks = `*.sensor-${sensor}`;
  const publish = [
    `*.sensor.${sensor}.*`,
    '$JS.API.INFO',
    `$JS.API.CONSUMER.INFO.${blocks}`,
    `$JS.API.CONSUMER.CREATE.${blocks}`,
    `$JS.API.CONSUMER.CREATE.${blocks}.>`,
    `$JS.API.CONSUMER.DURABLE.CREATE.${blocks}`,
    `$JS.API.CONSUMER.MSG.NEXT.${blocks}`,
    `$JS.ACK.${blocks}.>`,
  ];
  return `{ publish: { allow: ${JSON.stringify(publish)} }, subscribe: { allow: ["_INBOX.>"] } }`;
}

function flowRow(n: number): FlowRow {
  return {
    firstSeenUs: n,
    lastSeenUs: n + 1000,
    ipVersion: 4,
    protocol: 'tcp',
    srcAddr: `192.0.2.${n % 250}`,
    dstAddr: '198.51.100.1',
    srcPort: 40000 + (n % 20000),
    dstPort: 443,
    packetsToServer: 10,
    bytesToServer: 1200,
    packetsToClient: 8,
    bytesToClient: 9000,
    tcpFlagsToServer: 'SPA',
    tcpFlagsToClient: 'SPA',
    state: 'closed',
    endReason: 'fin',
    process: null,
  };
}

function sampleAlert(): Alert {
  return {
    id: 'port_scan-1',
    type: 'port_scan',
    severity: 'high',
    src: '203.0.113.7',
    dst: '192.0.2.10',
    start: 1_700_000_000_000_000,
    end: 1_700_000_005_000_000,
    counters: { ports: 120 },
    summary: '203.0.113.7 probed 120 ports of 192.0.2.10',
    evidence: {
      thresholds: [{ metric: 'ports', value: 120, threshold: 50 }],
      sampleFlows: [],
      topSources: [],
    },
    updates: 1,
  };
}

function blockOrder(action: 'block' | 'unblock', address: string): BlockOrder {
  return {
    id: 'order-1',
    action,
    address,
    expiresAtMs: null,
    reason: 'port scan',
    atMs: Date.now(),
    by: 'admin',
  };
}
