/**
 * Hub ingest: flows per second from sensors, over NATS JetStream, into PostgreSQL, through the
 * hub's own path (HubLink's durable consumer, then SensorRepository.storeBatches: the batches
 * pulled together, their message ids and flows with their rollups in one transaction, each
 * acknowledged after the commit).
 *
 *   npm run build && node bench/hub-ingest-bench.mjs [--flows 200000] [--sensors 3]
 *     [--nats nats://127.0.0.1:4222] [--pg postgres://postgres@127.0.0.1:5432/postgres]
 *
 * 1. Each of `--sensors` SensorLinks (dist/bus/sensor-link.js) publishes its share of `--flows`
 *    synthetic flows (seeded, no clock) in batches of 500 while the hub is not running: they
 *    wait in the stream, as after a hub outage.
 * 2. The hub starts (a new PostgreSQL database of the bench's own, migrated by openStore) and the
 *    clock runs from its start until every flow is stored. Reported: flows/s, batches/s. Then the
 *    store alone, without the bus: storeBatch of as many new flows in transactions of 500, then
 *    of 5,000 (what the database costs, and what larger transactions would give).
 * 3. As a reference on the same flows: nfdump's nfcapd receiving them as IPFIX (dist's
 *    IpfixExporter, paced as it is by default) and writing its files: records/s from the first
 *    datagram to nfcapd's file holding them all. The two do different work (a database with
 *    indexes and rollups, a flat file), so the ratio says what the hub's durability costs.
 * The streams use a prefix of their own and are deleted at the end, as is the database.
 */

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout } from 'node:timers';
import { URL } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import pg from 'pg';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';

const dist = new URL('../dist/', import.meta.url);
const { SensorLink } = await import(new URL('bus/sensor-link.js', dist).href);
const { HubLink } = await import(new URL('bus/hub-link.js', dist).href);
const { openStore } = await import(new URL('store/store.js', dist).href);
const { IpfixExporter } = await import(new URL('flows/ipfix-exporter.js', dist).href);

const { values: args } = parseArgs({
  options: {
    flows: { type: 'string', default: '200000' },
    sensors: { type: 'string', default: '3' },
    nats: { type: 'string', default: process.env.FLOWTRACK_TEST_NATS_URL ?? 'nats://127.0.0.1:4222' },
    pg: {
      type: 'string',
      default: process.env.FLOWTRACK_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    },
  },
});
const FLOWS = Number(args.flows);
const SENSORS = Number(args.sensors);
const logger = pino({ level: 'warn' });
const prefix = `bench${Date.now().toString(36)}`;
const work = mkdtempSync(join(tmpdir(), 'flowtrack-hub-bench-'));

/** Deterministic flows: the i-th of sensor s. */
function flowOf(s, i) {
  const t = 1_700_000_000_000_000 + i * 1000;
  return {
    firstSeenUs: t,
    lastSeenUs: t + 250_000,
    ipVersion: 4,
    protocol: i % 5 === 0 ? 'udp' : 'tcp',
    srcAddr: `10.${s}.${(i >> 8) & 255}.${i & 255}`,
    dstAddr: `192.0.2.${i % 200}`,
    srcPort: 1024 + (i % 60000),
    dstPort: [443, 80, 53, 22][i % 4],
    packetsToServer: 5 + (i % 7),
    bytesToServer: 400 + (i % 1500),
    packetsToClient: 4,
    bytesToClient: 3000 + (i % 9000),
    tcpFlagsToServer: 'SFPA',
    tcpFlagsToClient: 'SFPA',
    state: 'closed-fin',
    endReason: 'closed',
  };
}

function waitUntil(check, ms, what) {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = async () => {
      if (await check()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`${what}: not within ${ms} ms`));
      setTimeout(tick, 100);
    };
    void tick();
  });
}

// The hub creates the streams and its durable consumer; then it goes, as in an outage.
const hubOptions = {
  servers: [args.nats],
  auth: { kind: 'none' },
  prefix,
  durable: 'bench-hub',
  logger,
  onAlert: async () => undefined,
  onHealth: () => undefined,
};
const primer = HubLink.start({ ...hubOptions, onFlows: async () => undefined });
await waitUntil(() => primer.stats().connected, 30_000, 'the hub to connect');
await new Promise((r) => setTimeout(r, 2000));
await primer.close();

// 1. The sensors publish while no hub runs.
const perSensor = Math.floor(FLOWS / SENSORS);
const links = [];
for (let s = 0; s < SENSORS; s++) {
  const link = SensorLink.start({
    servers: [args.nats],
    auth: { kind: 'none' },
    sensor: `bench-${s}`,
    bufferDir: join(work, `buffer-${s}`),
    bufferMaxBytes: 2 ** 32,
    prefix,
    logger,
    onBlock: async () => undefined,
  });
  for (let i = 0; i < perSensor; i++) link.publishFlow(flowOf(s, i));
  links.push(link);
}
await waitUntil(
  () => links.every((l) => l.stats().bufferedMessages === 0 && l.stats().connected),
  600_000,
  'the sensors to publish',
);
for (const link of links) await link.close();
const total = perSensor * SENSORS;

// 2. The hub.
const admin = new pg.Client({ connectionString: args.pg });
await admin.connect();
const dbName = `flowtrack_bench_${Date.now().toString(36)}`;
await admin.query(`create database ${dbName}`);
const dbUrl = new URL(args.pg);
dbUrl.pathname = `/${dbName}`;
const store = await openStore(dbUrl.href);
let stored = 0;
let batches = 0;
const started = performance.now();
const hub = HubLink.start({
  ...hubOptions,
  onFlows: async (batch) => {
    if (await store.sensors.storeBatch(batch.id, batch.sensor, batch.flows, Date.now())) {
      stored += batch.flows.length;
      batches++;
    }
  },
  // As the hub's HubService: the batches pulled together, in one transaction.
  onFlowGroup: async (group) => {
    const fresh = await store.sensors.storeBatches(group, Date.now());
    for (const batch of group) {
      if (!fresh.delete(batch.id)) continue;
      stored += batch.flows.length;
      batches++;
    }
  },
});
await waitUntil(() => stored >= total, 1_800_000, 'every flow in PostgreSQL');
const hubSeconds = (performance.now() - started) / 1000;
await hub.close();

// 2b. The store alone, without the bus: storeBatch in transactions of 500 and of 5,000 flows.
const storeOnly = {};
for (const size of [500, 5000]) {
  const batchCount = Math.max(1, Math.floor(total / size));
  const t0 = performance.now();
  for (let b = 0; b < batchCount; b++) {
    const flows = [];
    for (let i = 0; i < size; i++) flows.push(flowOf(SENSORS + 1 + (size === 500 ? 0 : 1), b * size + i));
    await store.sensors.storeBatch(`alone-${size}-${b}`, 'bench-alone', flows, Date.now());
  }
  storeOnly[size] = Math.round((batchCount * size) / ((performance.now() - t0) / 1000));
}
await store.close();
await admin.query(`drop database ${dbName} with (force)`);
await admin.end();
// The bench's streams go.
const nc = await connect({ servers: args.nats });
const jsm = await jetstreamManager(nc);
for await (const name of jsm.streams.names()) {
  if (name.startsWith(prefix.toUpperCase())) await jsm.streams.delete(name);
}
await nc.close();

// 3. nfcapd on the same flows, as IPFIX.
let nfcapd;
try {
  const dir = join(work, 'nfcapd');
  execFileSync('mkdir', ['-p', dir]);
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const proc = spawn('nfcapd', ['-w', dir, '-b', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 1000));
  const exporter = new IpfixExporter({ host: '127.0.0.1', port });
  const t0 = performance.now();
  for (let s = 0; s < SENSORS; s++) {
    for (let i = 0; i < perSensor; i++) {
      exporter.export(flowOf(s, i));
      const room = exporter.waitForRoom();
      if (room) await room;
    }
  }
  await exporter.close();
  const sent = exporter.stats();
  proc.kill('SIGTERM');
  await new Promise((r) => proc.on('exit', r));
  const seconds = (performance.now() - t0) / 1000;
  const summary = execFileSync('nfdump', ['-R', dir, '-I'], { encoding: 'utf8' });
  const records = Number(/Flows:\s*(\d+)/.exec(summary)?.[1] ?? 0);
  nfcapd = { records, sentRecords: sent.records, seconds, recordsPerSecond: Math.round(records / seconds) };
} catch (err) {
  nfcapd = { error: String(err) };
}
rmSync(work, { recursive: true, force: true });

const hubRate = Math.round(total / hubSeconds);
console.log(
  `hub ingest: ${total} flows from ${SENSORS} sensors into PostgreSQL in ${hubSeconds.toFixed(1)} s: ${hubRate} flows/s (${batches} batches)`,
);
if ('records' in nfcapd) {
  console.log(
    `nfcapd (same flows as IPFIX, ${nfcapd.sentRecords} records sent): ${nfcapd.records} stored in ${nfcapd.seconds.toFixed(1)} s: ${nfcapd.recordsPerSecond} records/s`,
  );
} else console.log(`nfcapd: ${nfcapd.error}`);
console.log(
  `storeBatch alone (no bus): ${storeOnly[500]} flows/s in transactions of 500, ${storeOnly[5000]} of 5,000`,
);
console.log(
  JSON.stringify({
    flows: total,
    sensors: SENSORS,
    hubSeconds,
    hubFlowsPerSecond: hubRate,
    storeOnlyFlowsPerSecond: storeOnly,
    nfcapd,
  }),
);
process.exit(0);
