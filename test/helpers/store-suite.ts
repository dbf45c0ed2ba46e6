/**
 * The store's conformance suite (hono's common-case pattern): every behaviour the API and the
 * pipeline rely on, run against each database by `runStoreSuite('sqlite', make)` and
 * `runStoreSuite('postgres', make)`. `make` must return a new, migrated, empty store each time;
 * the suite closes it. Expectations are computed from the inserted rows in plain TypeScript, not
 * read back from the store, so a wrong query cannot agree with itself.
 */

import {
  sql,
  type CreateTableBuilder,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
} from 'kysely';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import type {
  FlowRow,
  PortMeasure,
  PortTotals,
  StoredFlow,
  Talker,
  TrafficBucket,
} from '../../src/store/flow-repository.js';
import { pointOf, type HealthRollup } from '../../src/store/health-repository.js';
import { migrateStore } from '../../src/store/migrate-store.js';
import { LATEST_SCHEMA_VERSION } from '../../src/store/migrations/migration-list.js';
import { MAX_PAGE_SIZE } from '../../src/store/page.js';
import type { NewScan, ScanRecord } from '../../src/store/scan-repository.js';
import { runRetention } from '../../src/store/retention.js';
import { StoreWriter } from '../../src/store/store-writer.js';
import type { Store } from '../../src/store/store.js';
import type { HostSample } from '../../src/system/host-sample.js';

/** A minute boundary (1_699_999_980 s is 28_333_333 minutes), in microseconds. */
export const BASE_US = 1_699_999_980_000_000;
export const BASE_MS = BASE_US / 1000;
const MINUTE_US = 60_000_000;
const HOUR_US = 3_600_000_000;
const DAY_US = 86_400_000_000;
const DAY_MS = 86_400_000;

const HOSTILE = [`' OR 1=1 --`, `1; DROP TABLE flows`, `%`, `") OR ("1"="1`, `\\'; DELETE FROM users; --`];

/** Deterministic numbers, so a failure repeats. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** A Kysely plugin that makes every query fail while `down`, as a database that went away. */
class Outage implements KyselyPlugin {
  down = false;
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    if (this.down) throw new Error('connection terminated unexpectedly');
    return args.node;
  }
  transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return Promise.resolve(args.result);
  }
}

export function flowRow(overrides: Partial<FlowRow> = {}): FlowRow {
  return {
    firstSeenUs: BASE_US,
    lastSeenUs: BASE_US + 1_000_000,
    ipVersion: 4,
    protocol: 'tcp',
    srcAddr: '192.0.2.1',
    dstAddr: '198.51.100.7',
    srcPort: 40000,
    dstPort: 443,
    packetsToServer: 5,
    bytesToServer: 600,
    packetsToClient: 4,
    bytesToClient: 9000,
    tcpFlagsToServer: 'SFPA',
    tcpFlagsToClient: 'SFPA',
    state: 'closed-fin',
    endReason: 'closed',
    ...overrides,
  };
}

/** Twenty varied flows; pairs share a last-seen time so the id tie-break is exercised. */
function variedFlows(): FlowRow[] {
  const addresses = ['10.0.0.1', '10.0.0.2', '192.0.2.7', '2001:db8::1'];
  const protocols = ['tcp', 'udp', 'icmp'];
  const states = ['established', 'closed-fin', 'attempted', 'active'];
  const ports = [22, 53, 80, 443];
  const rows: FlowRow[] = [];
  for (let i = 0; i < 20; i++) {
    const lastSeenUs = BASE_US + Math.floor(i / 2) * 10_000_000;
    rows.push(
      flowRow({
        firstSeenUs: lastSeenUs - (i % 4) * 30_000_000,
        lastSeenUs,
        ipVersion: i % 4 === 3 ? 6 : 4,
        protocol: protocols[i % 3]!,
        srcAddr: addresses[i % 4]!,
        dstAddr: addresses[(i + 1) % 4]!,
        srcPort: 40000 + i,
        dstPort: ports[i % 4]!,
        bytesToServer: 100 * (i + 1),
        bytesToClient: 1000 * (i % 5),
        state: states[i % 4]!,
      }),
    );
  }
  return rows;
}

/** Where `skewedTraffic` begins: 5 hours before a UTC midnight, on a minute but not on an hour. */
export const SKEWED_START_US = Math.floor(BASE_US / DAY_US) * DAY_US + DAY_US - 5 * HOUR_US + 17 * MINUTE_US;
/** Where `skewedTraffic` ends: 2 days and 11 hours later, the last flows' minutes included. */
export const SKEWED_END_US = SKEWED_START_US + 2 * DAY_US + 11 * HOUR_US;

/**
 * `count` flows of a site from SKEWED_START_US to SKEWED_END_US: hosts picked with a heavy skew
 * among `hosts`, sizes over five orders of magnitude, a third of them one-packet 60-byte probes
 * (so hosts tie), durations from part of a minute to 40 minutes (so a flow spreads over minutes,
 * hours and midnight). `even` picks hosts alike and sizes within 10% instead: every host's
 * totals are close, so the top of each hour says little about the top of the range.
 */
export function skewedTraffic(seed: number, count: number, hosts = 200, even = false): FlowRow[] {
  const rand = random(seed);
  const address = (i: number) => (i % 7 === 6 ? `2001:db8::${i.toString(16)}` : `10.9.${i >> 8}.${i & 255}`);
  const pick = () => address(Math.floor(hosts * (even ? rand() : rand() ** 3)));
  const protocols = ['tcp', 'udp', 'icmp'];
  const rows: FlowRow[] = [];
  for (let i = 0; i < count; i++) {
    const long = rand();
    const durationUs = Math.floor(rand() * (long < 0.7 ? 50e6 : long < 0.95 ? 600e6 : 2400e6));
    const first = SKEWED_START_US + Math.floor(rand() * (SKEWED_END_US - SKEWED_START_US - durationUs - 1));
    const probe = !even && rand() < 0.33;
    const bytes = probe ? 60 : even ? 1000 + Math.floor(100 * rand()) : Math.floor(10 ** (2 + 5 * rand()));
    const packets = probe ? 1 : 1 + Math.floor((bytes / 700) * rand());
    const toServer = probe ? 1 : rand();
    rows.push(
      flowRow({
        firstSeenUs: first,
        lastSeenUs: first + durationUs,
        protocol: protocols[i % 3]!,
        srcAddr: pick(),
        dstAddr: probe ? address(hosts + i) : pick(),
        srcPort: 1024 + (i % 60000),
        packetsToServer: Math.ceil(packets * toServer),
        packetsToClient: packets - Math.ceil(packets * toServer),
        bytesToServer: Math.ceil(bytes * toServer),
        bytesToClient: bytes - Math.ceil(bytes * toServer),
      }),
    );
  }
  return rows;
}

/**
 * `count` flows from SKEWED_START_US to SKEWED_END_US on service ports a site sees: a few busy ones
 * (443, 53, 80, 22) with a heavy skew, a tail of random ports (scans: one-packet 60-byte probes,
 * so ports tie), and flows the port rollups leave out: port 0, icmp and sctp. Durations up to
 * 40 minutes, so a flow's first and last packets often fall in different minutes and hours.
 */
export function portTraffic(seed: number, count: number): FlowRow[] {
  const rand = random(seed);
  const busy = [443, 53, 80, 22, 123, 3389];
  const rows: FlowRow[] = [];
  for (let i = 0; i < count; i++) {
    const durationUs = Math.floor(rand() * (rand() < 0.8 ? 50e6 : 2400e6));
    const first = SKEWED_START_US + Math.floor(rand() * (SKEWED_END_US - SKEWED_START_US - durationUs - 1));
    const kind = rand();
    const probe = kind < 0.3;
    const protocol = kind < 0.9 ? (rand() < 0.7 ? 'tcp' : 'udp') : kind < 0.95 ? 'icmp' : 'sctp';
    const dstPort =
      protocol === 'icmp' || kind > 0.985
        ? 0
        : probe
          ? 1 + Math.floor(rand() * 200)
          : busy[Math.floor(busy.length * rand() ** 3)]!;
    const bytes = probe ? 60 : Math.floor(10 ** (2 + 5 * rand()));
    const packets = probe ? 1 : 1 + Math.floor((bytes / 700) * rand());
    const toServer = probe ? 1 : rand();
    rows.push(
      flowRow({
        firstSeenUs: first,
        lastSeenUs: first + durationUs,
        protocol,
        srcAddr: `10.8.${i & 7}.${(i >> 3) & 255}`,
        // The client's port is never the service's: a rollup by the wrong side would show it.
        srcPort: protocol === 'icmp' ? 0 : 30000 + (i % 30000),
        dstPort,
        packetsToServer: Math.ceil(packets * toServer),
        packetsToClient: packets - Math.ceil(packets * toServer),
        bytesToServer: Math.ceil(bytes * toServer),
        bytesToClient: bytes - Math.ceil(bytes * toServer),
      }),
    );
  }
  return rows;
}

/**
 * The top ports as grouping the flows themselves gives them: tcp and udp flows with a server port,
 * whose last packet is in the minutes from `fromUs`'s to the one `toUs` is in; the reference.
 */
export function portsOfFlows(
  rows: readonly FlowRow[],
  fromUs: number,
  toUs: number,
  n: number,
  by: PortMeasure,
): PortTotals[] {
  const start = Math.floor(fromUs / MINUTE_US) * MINUTE_US;
  const end = Math.ceil(toUs / MINUTE_US) * MINUTE_US;
  const ports = new Map<string, PortTotals>();
  for (const f of rows) {
    if ((f.protocol !== 'tcp' && f.protocol !== 'udp') || f.dstPort === 0) continue;
    if (f.lastSeenUs < start || f.lastSeenUs >= end) continue;
    const key = `${f.protocol}/${f.dstPort}`;
    const totals = ports.get(key) ?? {
      protocol: f.protocol,
      port: f.dstPort,
      packets: 0,
      bytes: 0,
      flows: 0,
    };
    totals.packets += f.packetsToServer + f.packetsToClient;
    totals.bytes += f.bytesToServer + f.bytesToClient;
    totals.flows += 1;
    ports.set(key, totals);
  }
  return [...ports.values()]
    .sort(
      (a, b) =>
        b[by] - a[by] || (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0) || a.port - b.port,
    )
    .slice(0, n);
}

/** Every row of port_rollups, in key order. */
async function portRollupRows(store: Store) {
  return store.db
    .selectFrom('port_rollups')
    .selectAll()
    .orderBy('minute_us')
    .orderBy('protocol')
    .orderBy('port')
    .execute();
}

/**
 * A range as a dashboard might ask for it, inside [firstUs, lastUs]: on the microsecond, a
 * minute, an hour or a midnight, lasting part of a minute up to all of it.
 */
export function randomRange(rand: () => number, firstUs: number, lastUs: number): [number, number] {
  const grains = [1, MINUTE_US, HOUR_US, DAY_US];
  const lengths = [30e6, 5 * MINUTE_US, 50 * MINUTE_US, 3 * HOUR_US, 30 * HOUR_US, lastUs - firstUs];
  const snap = (us: number) => {
    const grain = grains[Math.floor(rand() * grains.length)]!;
    return Math.max(firstUs, Math.floor(us / grain) * grain);
  };
  const length = Math.max(1, Math.floor(lengths[Math.floor(rand() * lengths.length)]! * (0.2 + rand())));
  const from = snap(firstUs + Math.floor(rand() * (lastUs - firstUs)));
  const to = Math.max(from + 1, Math.min(lastUs, snap(from + length)));
  return [from, to];
}

/** The top talkers as grouping the range's minute rollups gives them: the reference. */
export async function talkersByMinutes(
  store: Store,
  fromUs: number,
  toUs: number,
  n: number,
  by: 'bytes' | 'packets',
): Promise<Talker[]> {
  return store.db
    .selectFrom('flow_rollups')
    .select((eb) => [
      'host',
      eb.cast<number>(eb.fn.sum<number>('packets'), 'bigint').as('packets'),
      eb.cast<number>(eb.fn.sum<number>('bytes'), 'bigint').as('bytes'),
      eb.cast<number>(eb.fn.sum<number>('flows'), 'bigint').as('flows'),
    ])
    .where('host', '!=', '*')
    .where('minute_us', '>=', Math.floor(fromUs / MINUTE_US) * MINUTE_US)
    .where('minute_us', '<', toUs)
    .groupBy('host')
    .orderBy(by, 'desc')
    .orderBy('host')
    .limit(n)
    .execute();
}

/** The series as the minute rollups of `host` alone give it: the reference. */
export async function seriesByMinutes(
  store: Store,
  fromUs: number,
  toUs: number,
  bucketSeconds: number,
  host = '*',
): Promise<Pick<TrafficBucket, 'startUs' | 'packets' | 'bytes' | 'flows'>[]> {
  const start = Math.floor(fromUs / MINUTE_US) * MINUTE_US;
  const bucketUs = bucketSeconds * 1_000_000;
  const buckets = Array.from({ length: Math.ceil((toUs - start) / bucketUs) }, (_, i) => ({
    startUs: start + i * bucketUs,
    packets: 0,
    bytes: 0,
    flows: 0,
  }));
  const minutes = await store.db
    .selectFrom('flow_rollups')
    .selectAll()
    .where('host', '=', host)
    .where('minute_us', '>=', start)
    .where('minute_us', '<', toUs)
    .execute();
  for (const row of minutes) {
    const bucket = buckets[Math.floor((row.minute_us - start) / bucketUs)]!;
    bucket.packets += row.packets;
    bucket.bytes += row.bytes;
    bucket.flows += row.flows;
  }
  return buckets;
}

/** Fails unless every hour and day total is the sum of the minute rollups of its period. */
export async function expectTotalsInStep(store: Store): Promise<void> {
  const minutes = await store.db.selectFrom('flow_rollups').selectAll().execute();
  for (const [table, unitUs] of [
    ['host_hour_totals', HOUR_US],
    ['host_day_totals', DAY_US],
  ] as const) {
    const expected = new Map<string, [number, number, number]>();
    for (const m of minutes) {
      const key = `${m.host} ${m.minute_us - (m.minute_us % unitUs)}`;
      const sums = expected.get(key) ?? [0, 0, 0];
      expected.set(key, [sums[0] + m.packets, sums[1] + m.bytes, sums[2] + m.flows]);
    }
    const rows = await store.db
      .selectFrom(table)
      .select((eb) => [
        'host',
        eb.ref(table === 'host_hour_totals' ? 'hour_us' : 'day_us').as('start'),
        'packets',
        'bytes',
        'flows',
      ])
      .execute();
    const stored = new Map(rows.map((r) => [`${r.host} ${r.start}`, [r.packets, r.bytes, r.flows]]));
    expect(Object.fromEntries(stored), table).toEqual(Object.fromEntries(expected));
  }
}

function newestFirst(a: StoredFlow, b: StoredFlow): number {
  return b.lastSeenUs - a.lastSeenUs || b.id - a.id;
}

/** A port-scan alert with id `id`, changed by `overrides`. */
export function alert(id: string, overrides: Partial<Alert> = {}): Alert {
  return {
    id,
    type: 'port_scan',
    severity: 'high',
    src: '203.0.113.5',
    dst: '192.0.2.7',
    start: BASE_US,
    end: BASE_US + 5_000_000,
    counters: { ports: 100 },
    summary: '203.0.113.5 probed 100 ports of 192.0.2.7',
    evidence: {
      thresholds: [{ metric: 'ports', value: 100, threshold: 50 }],
      sampleFlows: [
        {
          protocol: 'tcp',
          client: '203.0.113.5:40000',
          server: '192.0.2.7:22',
          packets: 1,
          bytes: 60,
          state: 'rejected',
        },
      ],
      topSources: [],
    },
    updates: 1,
    ...overrides,
  };
}

async function allFlows(store: Store): Promise<StoredFlow[]> {
  return (await store.flows.queryFlows({ limit: MAX_PAGE_SIZE })).items;
}

async function countRows(
  store: Store,
  table: 'flows' | 'flow_rollups' | 'alerts' | 'health_samples' | 'health_rollups' | 'audit_events' | 'users',
): Promise<number> {
  const row = await store.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return row.n;
}

/**
 * Takes `store` back to schema version 8 by hand (migrations have no down): 0009's tables go,
 * and flows and alerts lose their sensor.
 */
export async function undoSensorsMigration(store: Store): Promise<void> {
  const s = store.db.schema;
  await s.dropTable('sensors').execute();
  await s.dropTable('bus_messages').execute();
  await s.dropIndex('flows_sensor_idx').execute();
  await s.alterTable('flows').dropColumn('sensor').execute();
  await s.alterTable('alerts').dropColumn('sensor').execute();
  await sql`delete from kysely_migration where name = '0009-sensors'`.execute(store.db);
}

/**
 * Takes `store` back to schema version 7 by hand (migrations have no down): 0008's tables go,
 * 0001's incidents comes back empty, and alerts lose their lifecycle columns.
 */
export async function undoAlertLifecycleMigration(store: Store): Promise<void> {
  await undoSensorsMigration(store);
  const s = store.db.schema;
  for (const table of [
    'alert_events',
    'suppression_rules',
    'notification_channels',
    'notification_deliveries',
    'incident_links',
    'incident_events',
    'incidents',
  ]) {
    await s.dropTable(table).execute();
  }
  const id =
    store.dialect === 'sqlite'
      ? s.createTable('incidents').addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      : s
          .createTable('incidents')
          .addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity());
  await id
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('alert_ids', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await s.dropIndex('alerts_group_idx').execute();
  for (const column of [
    'assignee',
    'resolved_by',
    'resolved_at',
    'group_key',
    'detected_severity',
    'suppressed_by',
  ]) {
    await s.alterTable('alerts').dropColumn(column).execute();
  }
  await sql`delete from kysely_migration where name = '0008-alert-lifecycle'`.execute(store.db);
}

/**
 * Takes `store` back to schema version 6 by hand (migrations have no down): 0007's health tables
 * go, 0001's health_samples comes back empty, and flows lose their process columns.
 */
async function undoHostHealthMigration(store: Store): Promise<void> {
  await undoAlertLifecycleMigration(store);
  const s = store.db.schema;
  await s.dropTable('health_rollups').execute();
  await s.dropTable('health_samples').execute();
  await s
    .createTable('health_samples')
    .addColumn('ts_ms', 'bigint', (c) => c.notNull())
    .addColumn('cpu', 'double precision', (c) => c.notNull())
    .addColumn('memory', 'double precision', (c) => c.notNull())
    .addColumn('disk', 'double precision', (c) => c.notNull())
    .addColumn('net_rx_bytes', 'bigint', (c) => c.notNull())
    .addColumn('net_tx_bytes', 'bigint', (c) => c.notNull())
    .addColumn('load', 'text', (c) => c.notNull())
    .execute();
  await s.createIndex('health_samples_ts_idx').on('health_samples').column('ts_ms').execute();
  for (const column of ['process_pid', 'process_name', 'process_user']) {
    await s.alterTable('flows').dropColumn(column).execute();
  }
  await sql`delete from kysely_migration where name = '0007-host-health'`.execute(store.db);
}

/**
 * Takes `store` back to schema version 5 by hand (migrations have no down): 0006's scans goes and
 * 0001's comes back, empty.
 */
async function undoScansMigration(store: Store): Promise<void> {
  const s = store.db.schema;
  await s.dropTable('scans').execute();
  const table = s.createTable('scans');
  await (
    store.dialect === 'sqlite'
      ? table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      : table.addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity())
  )
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('ports', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint')
    .addColumn('result', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .execute();
  await sql`delete from kysely_migration where name = '0006-scans'`.execute(store.db);
}

/** Takes `store` back to schema version 4 by hand (migrations have no down): port_rollups goes. */
async function undoPortRollupsMigration(store: Store): Promise<void> {
  await store.db.schema.dropTable('port_rollups').execute();
  await sql`delete from kysely_migration where name = '0005-port-rollups'`.execute(store.db);
}

/**
 * Takes `store` back to schema version 3 by hand (migrations have no down): 0004's firewall_rules
 * goes, and 0001's firewall_rules and blocks come back, empty.
 */
async function undoFirewallRulesMigration(store: Store): Promise<void> {
  const s = store.db.schema;
  const withId = <T extends string>(table: CreateTableBuilder<T>): CreateTableBuilder<T, 'id'> =>
    store.dialect === 'sqlite'
      ? table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      : table.addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity());
  await s.dropTable('firewall_rules').execute();
  await withId(s.createTable('firewall_rules'))
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('family', 'text', (c) => c.notNull())
    .addColumn('src', 'text')
    .addColumn('dst', 'text')
    .addColumn('protocol', 'text')
    .addColumn('port', 'integer')
    .addColumn('comment', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .execute();
  await withId(s.createTable('blocks'))
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('alert_id', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('removed_at', 'bigint')
    .execute();
  await s.createIndex('blocks_address_idx').on('blocks').column('address').execute();
  await sql`delete from kysely_migration where name = '0004-firewall-rules'`.execute(store.db);
}

/** A host sample at `at` whose figures are given (the rest plausible and fixed). */
export function healthSample(
  at: number,
  figures: { cpu?: number; memory?: number; eth0Rx?: number; disk?: number } = {},
): HostSample {
  const iface = (name: string, rx: number): HostSample['interfaces'][number] => ({
    name,
    rxBytesPerSecond: rx,
    txBytesPerSecond: rx / 2,
    rxPacketsPerSecond: 1,
    txPacketsPerSecond: 1,
    rxErrorsPerSecond: 0,
    txErrorsPerSecond: 0,
    rxDropsPerSecond: 0,
    txDropsPerSecond: 0,
    rxBytes: 1,
    txBytes: 1,
    rxErrors: 0,
    txErrors: 0,
    rxDrops: 0,
    txDrops: 0,
  });
  return {
    at,
    intervalSeconds: 2,
    hostname: 'sensor-1',
    uptimeSeconds: 1000,
    load: [0.5, 0.4, 0.3],
    cpu: {
      percent: figures.cpu ?? 10,
      perCore: [figures.cpu ?? 10],
      user: 5,
      system: 5,
      iowait: 0,
      steal: 0,
    },
    memory: {
      totalBytes: 1000,
      usedBytes: (figures.memory ?? 50) * 10,
      availableBytes: 1000 - (figures.memory ?? 50) * 10,
      percent: figures.memory ?? 50,
      swapTotalBytes: 0,
      swapUsedBytes: 0,
      swapPercent: 0,
    },
    fileSystems: [
      {
        mount: '/',
        device: '/dev/sda1',
        type: 'ext4',
        sizeBytes: 100,
        usedBytes: figures.disk ?? 40,
        availableBytes: 100 - (figures.disk ?? 40),
        percent: figures.disk ?? 40,
        inodesPercent: 1,
      },
    ],
    disks: [],
    // Loopback is left out of the network totals.
    interfaces: [iface('lo', 1e9), iface('eth0', figures.eth0Rx ?? 1000)],
    processes: { total: 100, topCpu: [], topMemory: [] },
  };
}

/** A minute's rollup with `samples` samples of the given CPU and eth0 rate. */
export function healthRollup(minuteMs: number, cpu = 20, samples = 30, eth0Rx = 100): HealthRollup {
  return {
    minuteMs,
    samples,
    point: {
      ...pointOf(healthSample(minuteMs, { cpu, eth0Rx })),
      cpuMax: cpu + 5,
    },
    detail: {
      interfaces: { eth0: { rxBytesPerSecond: eth0Rx, txBytesPerSecond: eth0Rx / 2 } },
      fileSystems: { '/': 40 },
      perCore: [cpu],
    },
  };
}

export function runStoreSuite(label: string, make: () => Promise<Store>): void {
  describe(`store conformance: ${label}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await make();
    });
    afterEach(async () => {
      await store.close();
    });

    describe('migrations', () => {
      it('leave the schema at the latest version, and applying them again changes nothing', async () => {
        expect(await store.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
        expect(await migrateStore(store)).toEqual([]);
        expect(await store.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
        expect(await countRows(store, 'flows')).toBe(0);
        expect(await store.sizeBytes()).toBeGreaterThan(0);
      });
    });

    describe('flows', () => {
      it('give back what was inserted, BIGINTs as numbers, newest first', async () => {
        const rows = variedFlows();
        await store.flows.insertFlows(rows);
        const stored = await allFlows(store);
        expect(stored).toHaveLength(rows.length);
        expect([...stored].sort(newestFirst)).toEqual(stored);
        const withoutIds = stored.map(({ id, ...row }) => {
          expect(typeof id).toBe('number');
          return row;
        });
        expect(withoutIds).toEqual(expect.arrayContaining(rows));
        expect(typeof stored[0]?.lastSeenUs).toBe('number');
      });

      it('filter by time, address (either side), port (either side), protocol, state and size', async () => {
        await store.flows.insertFlows(variedFlows());
        const all = await allFlows(store);
        const cases: [Parameters<Store['flows']['queryFlows']>[0], (f: StoredFlow) => boolean][] = [
          [
            { fromUs: BASE_US + 30_000_000, toUs: BASE_US + 60_000_000 },
            (f) => f.lastSeenUs >= BASE_US + 30_000_000 && f.firstSeenUs <= BASE_US + 60_000_000,
          ],
          [{ address: '10.0.0.1' }, (f) => f.srcAddr === '10.0.0.1' || f.dstAddr === '10.0.0.1'],
          [{ address: '2001:db8::1' }, (f) => f.srcAddr === '2001:db8::1' || f.dstAddr === '2001:db8::1'],
          [{ port: 443 }, (f) => f.srcPort === 443 || f.dstPort === 443],
          [{ port: 40005 }, (f) => f.srcPort === 40005 || f.dstPort === 40005],
          [{ protocol: 'udp' }, (f) => f.protocol === 'udp'],
          [{ state: 'established' }, (f) => f.state === 'established'],
          [{ minBytes: 3000 }, (f) => f.bytesToServer + f.bytesToClient >= 3000],
          [
            { address: '192.0.2.7', protocol: 'tcp', minBytes: 500 },
            (f) =>
              (f.srcAddr === '192.0.2.7' || f.dstAddr === '192.0.2.7') &&
              f.protocol === 'tcp' &&
              f.bytesToServer + f.bytesToClient >= 500,
          ],
        ];
        for (const [filter, predicate] of cases) {
          const expected = all.filter(predicate).map((f) => f.id);
          expect(expected.length, JSON.stringify(filter)).toBeGreaterThan(0);
          expect(expected.length, JSON.stringify(filter)).toBeLessThan(all.length);
          const got = (await store.flows.queryFlows(filter)).items.map((f) => f.id);
          expect(got, JSON.stringify(filter)).toEqual(expected);
        }
      });

      it('page with a cursor and with an offset, and never return more than the hard maximum', async () => {
        await store.flows.insertFlows(variedFlows());
        const all = (await allFlows(store)).map((f) => f.id);
        const paged: number[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const page = await store.flows.queryFlows({ limit: 7, cursor });
          paged.push(...page.items.map((f) => f.id));
          cursor = page.nextCursor;
          pages++;
        } while (cursor !== null);
        expect(paged).toEqual(all);
        expect(pages).toBe(3);
        const second = await store.flows.queryFlows({ limit: 7, offset: 7 });
        expect(second.items.map((f) => f.id)).toEqual(all.slice(7, 14));
        // Cursor pages within a filter.
        const tcp = await store.flows.queryFlows({ protocol: 'tcp', limit: 3 });
        const tcpNext = await store.flows.queryFlows({ protocol: 'tcp', limit: 3, cursor: tcp.nextCursor });
        const allTcp = (await store.flows.queryFlows({ protocol: 'tcp' })).items.map((f) => f.id);
        expect([...tcp.items, ...tcpNext.items].map((f) => f.id)).toEqual(allTcp.slice(0, 6));

        const many = Array.from({ length: MAX_PAGE_SIZE + 5 }, (_, i) =>
          flowRow({ lastSeenUs: BASE_US + i, srcPort: 1024 + i }),
        );
        await store.flows.insertFlows(many);
        const big = await store.flows.queryFlows({ limit: 50_000 });
        expect(big.items).toHaveLength(MAX_PAGE_SIZE);
        expect(big.nextCursor).not.toBeNull();
      });

      it('reject bad filter values as BAD_REQUEST', async () => {
        await expect(store.flows.queryFlows({ port: 70000 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
        await expect(store.flows.queryFlows({ limit: 0 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
        await expect(store.flows.queryFlows({ fromUs: 1.5 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
        await expect(store.flows.queryFlows({ cursor: 'not-a-cursor' })).rejects.toMatchObject({
          code: 'BAD_REQUEST',
        });
        await expect(store.flows.queryFlows({ cursor: 'WzEsMl0', offset: 3 })).rejects.toMatchObject({
          code: 'BAD_REQUEST',
        });
        await expect(store.flows.traffic(BASE_US, BASE_US + MINUTE_US, 90)).rejects.toMatchObject({
          code: 'BAD_REQUEST',
        });
        await expect(store.flows.traffic(BASE_US, BASE_US - 1, 60)).rejects.toMatchObject({
          code: 'BAD_REQUEST',
        });
      });

      it('keep rollups whose traffic and top talkers add up to the inserted flows', async () => {
        const rand = random(7);
        const hosts = ['10.1.0.1', '10.1.0.2', '10.1.0.3', '10.1.0.4', '2001:db8::5'];
        const rows: FlowRow[] = [];
        for (let i = 0; i < 60; i++) {
          const first = BASE_US + Math.floor(rand() * 10 * MINUTE_US);
          const src = hosts[Math.floor(rand() * hosts.length)]!;
          let dst = hosts[Math.floor(rand() * hosts.length)]!;
          if (dst === src) dst = '198.51.100.99';
          rows.push(
            flowRow({
              firstSeenUs: first,
              // Some flows stay inside a minute, some cover up to four.
              lastSeenUs: first + Math.floor(rand() * (i % 3 === 0 ? 4 * MINUTE_US : 20_000_000)),
              protocol: i % 4 === 0 ? 'udp' : 'tcp',
              srcAddr: src,
              dstAddr: dst,
              packetsToServer: 1 + Math.floor(rand() * 1000),
              packetsToClient: Math.floor(rand() * 1000),
              bytesToServer: 60 + Math.floor(rand() * 1_000_000),
              bytesToClient: Math.floor(rand() * 5_000_000),
            }),
          );
        }
        // Two transactions: the second adds to the rows the first created.
        await store.flows.insertFlows(rows.slice(0, 25));
        await store.flows.insertFlows(rows.slice(25));
        const bytesOf = (f: FlowRow) => f.bytesToServer + f.bytesToClient;
        const packetsOf = (f: FlowRow) => f.packetsToServer + f.packetsToClient;
        const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

        const from = BASE_US;
        const to = BASE_US + 20 * MINUTE_US;
        const perMinute = await store.flows.traffic(from, to, 60);
        expect(perMinute).toHaveLength(20);
        expect(perMinute.map((b) => b.startUs)).toEqual(
          Array.from({ length: 20 }, (_, i) => from + i * MINUTE_US),
        );
        expect(sum(perMinute.map((b) => b.bytes))).toBe(sum(rows.map(bytesOf)));
        expect(sum(perMinute.map((b) => b.packets))).toBe(sum(rows.map(packetsOf)));
        expect(sum(perMinute.map((b) => b.flows))).toBe(rows.length);
        // A flow is counted in the minute of its last packet.
        for (const bucket of perMinute) {
          const ending = rows.filter(
            (f) => f.lastSeenUs >= bucket.startUs && f.lastSeenUs < bucket.startUs + MINUTE_US,
          );
          expect(bucket.flows).toBe(ending.length);
          expect(bucket.bytesPerSecond).toBeCloseTo(bucket.bytes / 60, 6);
        }
        // Nothing before the first flow's minute; wider buckets hold the sum of their minutes.
        const fiveMinutes = await store.flows.traffic(from, to, 300);
        expect(fiveMinutes).toHaveLength(4);
        for (const [i, bucket] of fiveMinutes.entries()) {
          expect(bucket.bytes).toBe(sum(perMinute.slice(i * 5, i * 5 + 5).map((b) => b.bytes)));
        }
        // Flows inside one minute land wholly in it: a range of minutes with no multi-minute flow.
        const udp = await store.flows.traffic(from, to, 60, { protocol: 'udp' });
        expect(sum(udp.map((b) => b.bytes))).toBe(sum(rows.filter((f) => f.protocol === 'udp').map(bytesOf)));
        const one = await store.flows.traffic(from, to, 60, { host: '10.1.0.1' });
        const touching = rows.filter((f) => f.srcAddr === '10.1.0.1' || f.dstAddr === '10.1.0.1');
        expect(sum(one.map((b) => b.bytes))).toBe(sum(touching.map(bytesOf)));
        // Split by protocol in one query: each protocol's series equals traffic() for it alone,
        // bucket for bucket, and the protocols add up to the total.
        for (const [bucketSeconds, host] of [
          [60, undefined],
          [300, undefined],
          [120, '10.1.0.1'],
        ] as const) {
          const split = await store.flows.trafficByProtocol(from, to, bucketSeconds, host ? { host } : {});
          expect(Object.keys(split).sort()).toEqual(['tcp', 'udp']);
          for (const protocol of ['tcp', 'udp']) {
            const alone = await store.flows.traffic(from, to, bucketSeconds, {
              protocol,
              ...(host && { host }),
            });
            expect(split[protocol], `${protocol} ${bucketSeconds} s ${host ?? 'all'}`).toEqual(alone);
          }
          const all = await store.flows.traffic(from, to, bucketSeconds, host ? { host } : {});
          expect(all.map((_, i) => split.tcp![i]!.bytes + split.udp![i]!.bytes)).toEqual(
            all.map((b) => b.bytes),
          );
        }
        expect(await store.flows.trafficByProtocol(to, to + MINUTE_US, 60)).toEqual({});
        await expect(store.flows.trafficByProtocol(from, to, 90)).rejects.toMatchObject({
          code: 'BAD_REQUEST',
        });

        const expectedTalkers = [...hosts, '198.51.100.99']
          .map((host) => {
            const mine = rows.filter((f) => f.srcAddr === host || f.dstAddr === host);
            return {
              host,
              packets: sum(mine.map(packetsOf)),
              bytes: sum(mine.map(bytesOf)),
              flows: mine.length,
            };
          })
          .filter((t) => t.flows > 0);
        const byBytes = [...expectedTalkers].sort((a, b) => b.bytes - a.bytes);
        const byPackets = [...expectedTalkers].sort((a, b) => b.packets - a.packets);
        expect(await store.flows.topTalkers(from, to, 10, 'bytes')).toEqual(byBytes);
        expect(await store.flows.topTalkers(from, to, 3, 'packets')).toEqual(byPackets.slice(0, 3));
        expect(await store.flows.topTalkers(to, to + MINUTE_US, 10)).toEqual([]);
      });

      it('spread a long flow over its minutes in proportion to its time in each', async () => {
        // 30 s in the first minute, all of the second, 30 s in the third: 1/4, 1/2, 1/4.
        await store.flows.insertFlows([
          flowRow({
            firstSeenUs: BASE_US + 30_000_000,
            lastSeenUs: BASE_US + 150_000_000,
            bytesToServer: 1000,
            bytesToClient: 200,
            packetsToServer: 8,
            packetsToClient: 4,
          }),
        ]);
        const buckets = await store.flows.traffic(BASE_US, BASE_US + 4 * MINUTE_US, 60);
        expect(buckets.map((b) => [b.bytes, b.packets, b.flows])).toEqual([
          [300, 3, 0],
          [600, 6, 0],
          [300, 3, 1],
          [0, 0, 0],
        ]);
      });
    });

    describe('traffic totals', () => {
      it('give any range the top talkers and series that grouping its minute rollups gives', async () => {
        const rows = skewedTraffic(11, 1500);
        // In several transactions, as the writer sends them: each adds to the rows of the others.
        for (let i = 0; i < rows.length; i += 400) await store.flows.insertFlows(rows.slice(i, i + 400));
        await expectTotalsInStep(store);
        const rand = random(5);
        for (let i = 0; i < 40; i++) {
          const [from, to] = randomRange(rand, SKEWED_START_US - HOUR_US, SKEWED_END_US + HOUR_US);
          const by = i % 2 === 0 ? 'bytes' : 'packets';
          const n = [1, 7, 30, 300][i % 4]!;
          expect(
            await store.flows.topTalkers(from, to, n, by),
            `top ${n} by ${by} of ${from}..${to}`,
          ).toEqual(await talkersByMinutes(store, from, to, n, by));
        }
        // Buckets of whole hours or days read the hour and day totals; the rest, minutes.
        const midnight = Math.floor(SKEWED_END_US / DAY_US) * DAY_US - DAY_US;
        const busiest = (await talkersByMinutes(store, SKEWED_START_US, SKEWED_END_US, 1, 'bytes'))[0]!.host;
        for (const [from, to, bucketSeconds, host] of [
          [midnight - 3 * HOUR_US, SKEWED_END_US + 7, 3600, '*'],
          [midnight - DAY_US, SKEWED_END_US, 86_400, '*'],
          [midnight - DAY_US, SKEWED_END_US, 7200, busiest],
          [SKEWED_START_US - 5 * MINUTE_US, midnight + 5, 600, busiest],
        ] as const) {
          const series = await store.flows.traffic(from, to, bucketSeconds, { host });
          expect(
            series.map(({ startUs, packets, bytes, flows }) => ({ startUs, packets, bytes, flows })),
            `${host} by ${bucketSeconds} s from ${from}`,
          ).toEqual(await seriesByMinutes(store, from, to, bucketSeconds, host));
        }
      });

      it('are filled by migration 0003 from the minute rollups a store already has', async () => {
        await store.flows.insertFlows(skewedTraffic(13, 800));
        const totals = async () =>
          Promise.all([
            store.db.selectFrom('host_hour_totals').selectAll().orderBy('host').orderBy('hour_us').execute(),
            store.db.selectFrom('host_day_totals').selectAll().orderBy('host').orderBy('day_us').execute(),
          ]);
        const keptByInserts = await totals();
        // Back to schema version 2 by hand (migrations have no down), with the minutes kept.
        await undoHostHealthMigration(store);
        await undoScansMigration(store);
        await undoPortRollupsMigration(store);
        await undoFirewallRulesMigration(store);
        await store.db.schema.dropTable('host_hour_totals').execute();
        await store.db.schema.dropTable('host_day_totals').execute();
        await store.db.schema.dropIndex('flow_rollups_host_minute_idx').execute();
        await sql`delete from kysely_migration where name = '0003-rollup-totals'`.execute(store.db);
        expect(await migrateStore(store)).toEqual([
          '0003-rollup-totals',
          '0004-firewall-rules',
          '0005-port-rollups',
          '0006-scans',
          '0007-host-health',
          '0008-alert-lifecycle',
          '0009-sensors',
        ]);
        expect(await totals()).toEqual(keptByInserts);
        await expectTotalsInStep(store);
      });

      it('stay the sums of the minutes kept when retention deletes part of an hour and of a day', async () => {
        const rows = skewedTraffic(12, 600, 60);
        await store.flows.insertFlows(rows);
        const ageMs = 7 * DAY_MS;
        let deleted = { minutes: 0, hours: 0, days: 0 };
        // Cutoffs inside an hour, on the hour after it and inside the next day: each run takes
        // out of the totals only what is left of their period.
        for (const cutoffUs of [
          SKEWED_START_US + 6 * HOUR_US + 23 * MINUTE_US + 5_000_000,
          SKEWED_START_US + 6 * HOUR_US + 43 * MINUTE_US,
          SKEWED_START_US + 7 * HOUR_US - 17 * MINUTE_US,
          SKEWED_START_US + 30 * HOUR_US + 11 * MINUTE_US,
        ]) {
          const result = await runRetention(store, { rollupsMaxAgeMs: ageMs }, cutoffUs / 1000 + ageMs);
          deleted = {
            minutes: deleted.minutes + result.flowRollups,
            hours: deleted.hours + result.hostHourTotals,
            days: deleted.days + result.hostDayTotals,
          };
          await expectTotalsInStep(store);
          const [from, to] = [SKEWED_START_US, SKEWED_END_US];
          expect(await store.flows.topTalkers(from, to, 20, 'bytes')).toEqual(
            await talkersByMinutes(store, from, to, 20, 'bytes'),
          );
        }
        expect(deleted.minutes).toBeGreaterThan(0);
        expect(deleted.hours).toBeGreaterThan(0);
        expect(deleted.days).toBeGreaterThan(0);
      });
    });

    describe('top ports', () => {
      it('are the inserted flows grouped by service port, for any range, count and measure', async () => {
        const rows = portTraffic(31, 2500);
        // In several transactions, as the writer sends them: each adds to the rows of the others.
        for (let i = 0; i < rows.length; i += 400) await store.flows.insertFlows(rows.slice(i, i + 400));
        const rand = random(32);
        const measures = ['bytes', 'packets', 'flows'] as const;
        for (let i = 0; i < 45; i++) {
          const [from, to] = randomRange(rand, SKEWED_START_US - HOUR_US, SKEWED_END_US + HOUR_US);
          const by = measures[i % 3]!;
          const n = [1, 7, 30, 300][i % 4]!;
          expect(await store.flows.topPorts(from, to, n, by), `top ${n} by ${by} of ${from}..${to}`).toEqual(
            portsOfFlows(rows, from, to, n, by),
          );
        }
        // Ranges that cut hours at both ends, off the minute, and the whole of the traffic.
        const cut = SKEWED_START_US + 3 * HOUR_US + 17 * MINUTE_US + 4_000_000;
        for (const [from, to] of [
          [cut, cut + 2 * HOUR_US + 29 * MINUTE_US],
          [cut, cut + 25 * HOUR_US + 1],
          [SKEWED_START_US - DAY_US, SKEWED_END_US + DAY_US],
        ] as const) {
          const expected = portsOfFlows(rows, from, to, 20, 'bytes');
          expect(expected.length).toBe(20);
          expect(await store.flows.topPorts(from, to, 20, 'bytes')).toEqual(expected);
        }
        // Only tcp and udp with a port: no icmp, sctp or port 0, and never the client's port.
        const all = await store.flows.topPorts(SKEWED_START_US, SKEWED_END_US + HOUR_US, 1000, 'flows');
        expect(all.every((p) => (p.protocol === 'tcp' || p.protocol === 'udp') && p.port > 0)).toBe(true);
        expect(all.some((p) => p.port >= 30000)).toBe(false);
        expect(await store.flows.topPorts(SKEWED_END_US + HOUR_US, SKEWED_END_US + DAY_US, 10)).toEqual([]);
      });

      it('reject bad ranges, counts and measures as BAD_REQUEST', async () => {
        await expect(store.flows.topPorts(BASE_US, BASE_US - 1, 10)).rejects.toMatchObject({
          code: 'BAD_REQUEST',
        });
        await expect(store.flows.topPorts(BASE_US, BASE_US + 1, 0)).rejects.toMatchObject({
          code: 'BAD_REQUEST',
        });
        await expect(
          store.flows.topPorts(BASE_US, BASE_US + 1, 10, `bytes; drop table flows` as PortMeasure),
        ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
      });

      it('are filled by migration 0005 from the flows a store already has', async () => {
        const rows = portTraffic(33, 900);
        await store.flows.insertFlows(rows.slice(0, 500));
        await store.flows.insertFlows(rows.slice(500));
        const keptByInserts = await portRollupRows(store);
        expect(keptByInserts.length).toBeGreaterThan(100);
        // Back to schema version 4 by hand (migrations have no down), with the flows kept.
        await undoHostHealthMigration(store);
        await undoScansMigration(store);
        await undoPortRollupsMigration(store);
        expect(await migrateStore(store)).toEqual([
          '0005-port-rollups',
          '0006-scans',
          '0007-host-health',
          '0008-alert-lifecycle',
          '0009-sensors',
        ]);
        expect(await portRollupRows(store)).toEqual(keptByInserts);
        const [from, to] = [SKEWED_START_US + 5 * MINUTE_US + 1, SKEWED_END_US - 7 * HOUR_US];
        expect(await store.flows.topPorts(from, to, 25, 'packets')).toEqual(
          portsOfFlows(rows, from, to, 25, 'packets'),
        );
      });

      it('lose the minutes retention deletes, and keep the rest', async () => {
        const rows = portTraffic(34, 1200);
        await store.flows.insertFlows(rows);
        const before = await portRollupRows(store);
        const ageMs = 7 * DAY_MS;
        // A cutoff inside a minute: that minute is kept whole, as the host rollups keep it.
        const cutoffUs = SKEWED_START_US + 9 * HOUR_US + 21 * MINUTE_US + 5_000_000;
        const keepFromUs = cutoffUs - (cutoffUs % MINUTE_US);
        const result = await runRetention(store, { rollupsMaxAgeMs: ageMs }, cutoffUs / 1000 + ageMs);
        const kept = before.filter((r) => r.minute_us >= keepFromUs);
        expect(result.portRollups).toBe(before.length - kept.length);
        expect(result.portRollups).toBeGreaterThan(0);
        expect(await portRollupRows(store)).toEqual(kept);
        expect(await store.flows.topPorts(SKEWED_START_US, SKEWED_END_US, 30, 'bytes')).toEqual(
          portsOfFlows(
            rows.filter((f) => f.lastSeenUs >= keepFromUs),
            SKEWED_START_US,
            SKEWED_END_US,
            30,
            'bytes',
          ),
        );
      });
    });

    describe('alerts', () => {
      it('upsert by id, keep the analyst status across updates, list with filters and pages', async () => {
        await store.alerts.upsertAlerts(
          [
            alert('port_scan-1'),
            alert('syn_flood-2', {
              type: 'syn_flood',
              severity: 'critical',
              src: null,
              dst: '192.0.2.80',
              start: BASE_US + 10_000_000,
              end: BASE_US + 20_000_000,
            }),
            alert('brute_force-3', {
              type: 'brute_force',
              severity: 'medium',
              src: '198.51.100.3',
              dst: '192.0.2.22',
              start: BASE_US + 30_000_000,
              end: BASE_US + 40_000_000,
            }),
          ],
          BASE_MS,
        );
        const acked = await store.alerts.acknowledge('port_scan-1', 'alice', BASE_MS + 1);
        expect(acked).toMatchObject({
          status: 'acknowledged',
          acknowledgedBy: 'alice',
          acknowledgedAt: BASE_MS + 1,
        });
        // The scan goes on: the pipeline's update replaces the figures, not the status.
        await store.alerts.upsertAlerts(
          [alert('port_scan-1', { counters: { ports: 250 }, end: BASE_US + 50_000_000, updates: 4 })],
          BASE_MS + 2,
        );
        const updated = await store.alerts.findById('port_scan-1');
        expect(updated).toMatchObject({
          counters: { ports: 250 },
          end: BASE_US + 50_000_000,
          updates: 4,
          status: 'acknowledged',
          acknowledgedBy: 'alice',
          updatedAt: BASE_MS + 2,
        });
        expect(updated?.evidence).toEqual(alert('x').evidence);

        const ids = async (filter: Parameters<Store['alerts']['listAlerts']>[0]) =>
          (await store.alerts.listAlerts(filter)).items.map((a) => a.id);
        expect(await ids({})).toEqual(['port_scan-1', 'brute_force-3', 'syn_flood-2']);
        expect(await ids({ type: 'syn_flood' })).toEqual(['syn_flood-2']);
        expect(await ids({ severity: 'medium' })).toEqual(['brute_force-3']);
        expect(await ids({ status: 'open' })).toEqual(['brute_force-3', 'syn_flood-2']);
        expect(await ids({ src: '203.0.113.5' })).toEqual(['port_scan-1']);
        expect(await ids({ dst: '192.0.2.80' })).toEqual(['syn_flood-2']);
        expect(await ids({ fromUs: BASE_US + 25_000_000, toUs: BASE_US + 35_000_000 })).toEqual([
          'port_scan-1',
          'brute_force-3',
        ]);
        const first = await store.alerts.listAlerts({ limit: 2 });
        const rest = await store.alerts.listAlerts({ limit: 2, cursor: first.nextCursor });
        expect([...first.items, ...rest.items].map((a) => a.id)).toEqual(await ids({}));
        expect(rest.nextCursor).toBeNull();
      });

      it('acknowledge and resolve, with NOT_FOUND and CONFLICT where they do not apply', async () => {
        await store.alerts.upsertAlerts([alert('a-1')], BASE_MS);
        const resolved = await store.alerts.resolve('a-1', 'bob', BASE_MS + 5);
        expect(resolved).toMatchObject({
          status: 'resolved',
          acknowledgedBy: 'bob',
          acknowledgedAt: BASE_MS + 5,
        });
        await expect(store.alerts.acknowledge('a-1', 'alice', BASE_MS + 6)).rejects.toMatchObject({
          code: 'CONFLICT',
        });
        await expect(store.alerts.acknowledge('nope', 'alice', BASE_MS)).rejects.toMatchObject({
          code: 'NOT_FOUND',
        });
        await expect(store.alerts.resolve('nope', 'alice', BASE_MS)).rejects.toMatchObject({
          code: 'NOT_FOUND',
        });
        expect(await store.alerts.findById('nope')).toBeNull();
      });
    });

    describe('users', () => {
      it('create, find, list, change and delete; a taken name is a CONFLICT', async () => {
        const admin = await store.users.create(
          { username: 'admin', passwordHash: '$argon2id$a', role: 'admin' },
          BASE_MS,
        );
        expect(admin).toEqual({
          id: admin.id,
          username: 'admin',
          passwordHash: '$argon2id$a',
          role: 'admin',
          disabled: false,
          createdAt: BASE_MS,
          updatedAt: BASE_MS,
          passwordChangedAt: BASE_MS,
        });
        expect(typeof admin.id).toBe('number');
        await expect(
          store.users.create({ username: 'admin', passwordHash: 'x', role: 'viewer' }, BASE_MS),
        ).rejects.toMatchObject({ code: 'CONFLICT' });
        await expect(
          store.users.create({ username: 'eve', passwordHash: 'x', role: 'root' as 'admin' }, BASE_MS),
        ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
        const analyst = await store.users.create(
          { username: 'alice', passwordHash: '$argon2id$b', role: 'analyst' },
          BASE_MS,
        );
        expect(await store.users.findByUsername('alice')).toEqual(analyst);
        expect(await store.users.findById(admin.id)).toEqual(admin);
        expect(await store.users.findByUsername('Alice')).toBeNull();
        expect((await store.users.list()).map((u) => u.username)).toEqual(['admin', 'alice']);
        expect(await store.users.countAdmins()).toBe(1);

        expect(await store.users.setPassword(analyst.id, '$argon2id$c', BASE_MS + 10)).toMatchObject({
          passwordHash: '$argon2id$c',
          passwordChangedAt: BASE_MS + 10,
          updatedAt: BASE_MS + 10,
        });
        expect(await store.users.setRole(analyst.id, 'admin', BASE_MS + 11)).toMatchObject({ role: 'admin' });
        expect(await store.users.countAdmins()).toBe(2);
        expect(await store.users.disable(admin.id, BASE_MS + 12)).toMatchObject({ disabled: true });
        expect(await store.users.countAdmins()).toBe(1);
        expect(await store.users.enable(admin.id, BASE_MS + 13)).toMatchObject({ disabled: false });

        await store.users.delete(analyst.id);
        expect(await store.users.findById(analyst.id)).toBeNull();
        await expect(store.users.delete(analyst.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
        await expect(store.users.setRole(9999, 'viewer', BASE_MS)).rejects.toMatchObject({
          code: 'NOT_FOUND',
        });
        // A deleted user's id is not given to the next one.
        const next = await store.users.create(
          { username: 'carol', passwordHash: 'x', role: 'viewer' },
          BASE_MS,
        );
        expect(next.id).toBeGreaterThan(analyst.id);
      });
    });

    describe('refresh tokens', () => {
      it('insert, find, revoke once, revoke a family and all of a user; deleting the user removes them', async () => {
        const user = await store.users.create(
          { username: 'alice', passwordHash: 'h', role: 'analyst' },
          BASE_MS,
        );
        const other = await store.users.create(
          { username: 'bob', passwordHash: 'h', role: 'viewer' },
          BASE_MS,
        );
        const tokens = store.refreshTokens;
        await tokens.insert({ tokenHash: 'a1', userId: user.id, family: 'fa', expiresAt: BASE_MS + DAY_MS });
        await tokens.insert({ tokenHash: 'a2', userId: user.id, family: 'fa', expiresAt: BASE_MS + DAY_MS });
        await tokens.insert({ tokenHash: 'b1', userId: user.id, family: 'fb', expiresAt: BASE_MS + DAY_MS });
        await tokens.insert({ tokenHash: 'c1', userId: other.id, family: 'fc', expiresAt: BASE_MS + DAY_MS });
        expect(await tokens.find('a1')).toEqual({
          tokenHash: 'a1',
          userId: user.id,
          family: 'fa',
          expiresAt: BASE_MS + DAY_MS,
          revokedAt: null,
        });
        expect(await tokens.find('zz')).toBeNull();

        expect(await tokens.revoke('a1', BASE_MS + 1)).toBe(true);
        expect(await tokens.revoke('a1', BASE_MS + 2)).toBe(false);
        expect(await tokens.revoke('zz', BASE_MS + 2)).toBe(false);
        expect((await tokens.find('a1'))?.revokedAt).toBe(BASE_MS + 1);

        await tokens.revokeFamily('fa', BASE_MS + 3);
        expect((await tokens.find('a1'))?.revokedAt).toBe(BASE_MS + 1);
        expect((await tokens.find('a2'))?.revokedAt).toBe(BASE_MS + 3);
        expect((await tokens.find('b1'))?.revokedAt).toBeNull();

        await tokens.revokeAllForUser(user.id, BASE_MS + 4);
        expect((await tokens.find('b1'))?.revokedAt).toBe(BASE_MS + 4);
        expect((await tokens.find('c1'))?.revokedAt).toBeNull();

        await store.users.delete(other.id);
        expect(await tokens.find('c1')).toBeNull();
        await expect(
          tokens.insert({ tokenHash: 'd1', userId: 424242, family: 'fd', expiresAt: BASE_MS }),
        ).rejects.toThrow();
      });
    });

    describe('audit log', () => {
      it('appends events and lists them by actor, action, outcome and time, newest first, in pages', async () => {
        const ids: number[] = [];
        for (let i = 0; i < 6; i++) {
          ids.push(
            await store.audit.append({
              tsMs: BASE_MS + i * 1000,
              actor: i % 2 === 0 ? 'alice' : 'bob',
              actorIp: '192.0.2.10',
              action: i < 3 ? 'user.create' : 'block.add',
              target: `t${i}`,
              before: i === 0 ? null : { n: i - 1 },
              after: { n: i, tags: ['x'] },
              outcome: i === 5 ? 'denied' : 'ok',
            }),
          );
        }
        const list = async (filter: Parameters<Store['audit']['list']>[0]) =>
          (await store.audit.list(filter)).items.map((e) => e.id);
        expect(await list({})).toEqual([...ids].reverse());
        expect(await list({ actor: 'alice' })).toEqual([ids[4], ids[2], ids[0]]);
        expect(await list({ action: 'block.add' })).toEqual([ids[5], ids[4], ids[3]]);
        expect(await list({ outcome: 'denied' })).toEqual([ids[5]]);
        expect(await list({ fromMs: BASE_MS + 1000, toMs: BASE_MS + 2000 })).toEqual([ids[2], ids[1]]);
        const first = await store.audit.list({ limit: 4 });
        const second = await store.audit.list({ limit: 4, cursor: first.nextCursor });
        expect([...first.items, ...second.items].map((e) => e.id)).toEqual([...ids].reverse());
        const event = (await store.audit.list({ limit: 1 })).items[0];
        expect(event).toEqual({
          id: ids[5],
          tsMs: BASE_MS + 5000,
          actor: 'bob',
          actorIp: '192.0.2.10',
          action: 'block.add',
          target: 't5',
          before: { n: 4 },
          after: { n: 5, tags: ['x'] },
          outcome: 'denied',
        });
        const bare = await store.audit.append({
          tsMs: BASE_MS,
          actor: 'system',
          action: 'start',
          outcome: 'ok',
        });
        expect((await store.audit.list({ actor: 'system' })).items[0]).toMatchObject({
          id: bare,
          before: null,
          after: null,
          target: null,
          actorIp: null,
        });
      });
    });

    describe('settings', () => {
      it('keeps JSON values by key with who changed them', async () => {
        expect(await store.settings.get('retention')).toBeNull();
        await store.settings.set('retention', { flowsDays: 30 }, 'alice', BASE_MS);
        await store.settings.set('retention', { flowsDays: 7, sizeGb: 2 }, 'bob', BASE_MS + 1);
        await store.settings.set('theme', 'dark', 'bob', BASE_MS + 2);
        expect(await store.settings.get('retention')).toEqual({
          key: 'retention',
          value: { flowsDays: 7, sizeGb: 2 },
          updatedAt: BASE_MS + 1,
          updatedBy: 'bob',
        });
        expect((await store.settings.list()).map((s) => [s.key, s.value])).toEqual([
          ['retention', { flowsDays: 7, sizeGb: 2 }],
          ['theme', 'dark'],
        ]);
        await expect(store.settings.set('bad', undefined, 'bob', BASE_MS)).rejects.toMatchObject({
          code: 'BAD_REQUEST',
        });
        expect(await store.settings.delete('theme')).toBe(true);
        expect(await store.settings.delete('theme')).toBe(false);
      });
    });

    describe('firewall rules', () => {
      const base = {
        kind: 'block' as const,
        source: '192.0.2.0/24',
        protocol: null,
        port: null,
        interface: null,
        comment: 'scanner',
        alertId: null,
        createdBy: 'alice',
        createdAt: BASE_MS,
      };

      it('keeps rules, lists those in force, and lifts one keeping its history', async () => {
        const lasting = await store.firewallRules.create({ ...base, expiresAt: null });
        const brief = await store.firewallRules.create({
          ...base,
          kind: 'close',
          source: null,
          protocol: 'tcp',
          port: 23,
          interface: 'eth0',
          expiresAt: BASE_MS + 1000,
        });
        expect(await store.firewallRules.findById(lasting.id)).toEqual({
          ...base,
          id: lasting.id,
          expiresAt: null,
          removedAt: null,
          removedBy: null,
        });
        expect((await store.firewallRules.active(BASE_MS + 500)).map((r) => r.id)).toEqual([
          lasting.id,
          brief.id,
        ]);
        expect((await store.firewallRules.active(BASE_MS + 1000)).map((r) => r.id)).toEqual([lasting.id]);

        const { before, after } = await store.firewallRules.remove(lasting.id, BASE_MS + 10, 'bob');
        expect(before.removedAt).toBeNull();
        expect(after).toMatchObject({ removedAt: BASE_MS + 10, removedBy: 'bob' });
        await expect(store.firewallRules.remove(lasting.id, BASE_MS + 20, 'bob')).rejects.toMatchObject({
          code: 'CONFLICT',
        });
        await expect(store.firewallRules.remove(9999, BASE_MS, 'bob')).rejects.toMatchObject({
          code: 'NOT_FOUND',
        });
        expect((await store.firewallRules.history(10)).map((r) => r.id)).toEqual([brief.id, lasting.id]);
      });

      it('changes a rule in force and expires rules at their time', async () => {
        const rule = await store.firewallRules.create({ ...base, expiresAt: BASE_MS + 1000 });
        const { after } = await store.firewallRules.update(rule.id, {
          comment: null,
          expiresAt: BASE_MS + 5000,
        });
        expect(after).toMatchObject({ comment: null, expiresAt: BASE_MS + 5000 });
        expect(await store.firewallRules.expireDue(BASE_MS + 4999)).toEqual([]);
        const expired = await store.firewallRules.expireDue(BASE_MS + 6000);
        expect(expired.map((r) => [r.id, r.removedAt, r.removedBy])).toEqual([
          [rule.id, BASE_MS + 5000, 'expired'],
        ]);
        expect(await store.firewallRules.expireDue(BASE_MS + 7000)).toEqual([]);
      });

      it('counts what an author made since a time, for one source or all', async () => {
        await store.firewallRules.create({
          ...base,
          createdBy: 'policy',
          source: '198.51.100.7',
          expiresAt: null,
        });
        await store.firewallRules.create({
          ...base,
          createdBy: 'policy',
          source: '198.51.100.7',
          createdAt: BASE_MS + 60_000,
          expiresAt: null,
        });
        await store.firewallRules.create({
          ...base,
          createdBy: 'policy',
          source: '198.51.100.8',
          expiresAt: null,
        });
        expect(await store.firewallRules.countCreated('policy', BASE_MS)).toBe(3);
        expect(await store.firewallRules.countCreated('policy', BASE_MS + 1)).toBe(1);
        expect(await store.firewallRules.countCreated('policy', BASE_MS, '198.51.100.7')).toBe(2);
        expect(await store.firewallRules.countCreated('alice', BASE_MS)).toBe(0);
      });

      it('are carried over by migration 0004 from the first schema where they mean the same', async () => {
        await undoHostHealthMigration(store);
        await undoScansMigration(store);
        await undoPortRollupsMigration(store);
        await undoFirewallRulesMigration(store);
        const old = [
          ['drop', 'ip', '203.0.113.7', null, null, null, 'scanner', null],
          ['reject', 'ip6', '2001:db8:9::/48', null, null, null, null, BASE_MS + DAY_MS],
          ['allow', 'ip', '192.0.2.50', null, null, null, 'monitoring', null],
          ['drop', 'inet', null, null, 'tcp', 23, 'no telnet', null],
          ['reject', 'inet', null, null, 'udp', 161, null, BASE_MS + DAY_MS],
          // Not carried over: a destination, a source with a port, no port, a port left open,
          // a source FlowTrack no longer reads (bits past the prefix length, /0, a zone).
          ['drop', 'ip', null, '192.0.2.80', 'tcp', 80, null, null],
          ['drop', 'ip', '203.0.113.8', '192.0.2.80', null, null, null, null],
          ['drop', 'ip', '203.0.113.9', null, 'tcp', 22, null, null],
          ['drop', 'ip', null, null, 'icmp', null, null, null],
          ['allow', 'inet', null, null, 'tcp', 22, null, null],
          ['drop', 'ip', '10.0.0.5/24', null, null, null, null, null],
          ['drop', 'ip', '0.0.0.0/0', null, null, null, null, null],
          ['drop', 'ip6', '2001:db8::1/64', null, null, null, null, null],
          ['drop', 'ip6', 'fe80::1%eth0', null, null, null, null, null],
        ] as const;
        for (const [i, [action, family, src, dst, protocol, port, comment, expiresAt]] of old.entries()) {
          await sql`insert into firewall_rules
            (action, family, src, dst, protocol, port, comment, created_by, created_at, expires_at)
            values (${action}, ${family}, ${src}, ${dst}, ${protocol}, ${port}, ${comment}, 'alice',
              ${BASE_MS + i}, ${expiresAt})`.execute(store.db);
        }
        expect(await migrateStore(store)).toEqual([
          '0004-firewall-rules',
          '0005-port-rollups',
          '0006-scans',
          '0007-host-health',
          '0008-alert-lifecycle',
          '0009-sensors',
        ]);
        const carried = (await store.firewallRules.history(100)).reverse();
        const rule = { interface: null, alertId: null, createdBy: 'alice', removedAt: null, removedBy: null };
        // Every field but the new id.
        expect(carried).toMatchObject([
          {
            ...rule,
            kind: 'block',
            source: '203.0.113.7',
            protocol: null,
            port: null,
            comment: 'scanner',
            createdAt: BASE_MS,
            expiresAt: null,
          },
          {
            ...rule,
            kind: 'block',
            source: '2001:db8:9::/48',
            protocol: null,
            port: null,
            comment: null,
            createdAt: BASE_MS + 1,
            expiresAt: BASE_MS + DAY_MS,
          },
          {
            ...rule,
            kind: 'allow',
            source: '192.0.2.50',
            protocol: null,
            port: null,
            comment: 'monitoring',
            createdAt: BASE_MS + 2,
            expiresAt: null,
          },
          {
            ...rule,
            kind: 'close',
            source: null,
            protocol: 'tcp',
            port: 23,
            comment: 'no telnet',
            createdAt: BASE_MS + 3,
            expiresAt: null,
          },
          {
            ...rule,
            kind: 'close',
            source: null,
            protocol: 'udp',
            port: 161,
            comment: null,
            createdAt: BASE_MS + 4,
            expiresAt: BASE_MS + DAY_MS,
          },
        ]);
        // 0001's blocks (never written) are gone, and new rules follow the carried ones.
        await expect(sql`select 1 from blocks`.execute(store.db)).rejects.toThrow();
        const next = await store.firewallRules.create({ ...base, source: '198.51.100.7', expiresAt: null });
        expect(next.id).toBeGreaterThan(Math.max(...carried.map((r) => r.id)));
      });
    });

    describe('scans', () => {
      /** A UUID-shaped id whose order is that of `n`. */
      const scanId = (n: number): string => `${n.toString(16).padStart(8, '0')}-7e57-4000-8000-00000000c0de`;
      const newScan = (n: number, overrides: Partial<NewScan> = {}): NewScan => ({
        id: scanId(n),
        requestedBy: 'alice',
        schedule: null,
        targets: ['192.0.2.0/28', 'gw.example.test'],
        request: { ports: '22,80,443', udp: false, engine: 'flowtrack' },
        baselineKey: '192.0.2.0/28,gw.example.test|t:22,80,443',
        createdAt: BASE_MS + n * 1000,
        ...overrides,
      });
      /** What a new run reads back as. */
      const queued = (scan: NewScan): ScanRecord => ({
        id: scan.id,
        requestedBy: scan.requestedBy,
        schedule: scan.schedule ?? null,
        targets: [...scan.targets],
        request: { ...scan.request },
        baselineKey: scan.baselineKey,
        status: 'queued',
        createdAt: scan.createdAt,
        startedAt: null,
        finishedAt: null,
        error: null,
        report: null,
        openPorts: 0,
        findings: 0,
        maxRisk: null,
        unreadable: [],
      });
      /** Newest first, as the list orders them: by creation, then by id. */
      const newestScanFirst = (a: ScanRecord, b: ScanRecord): number =>
        b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

      it('go from queued to running to an end once, and refuse a second end', async () => {
        const scan = newScan(1);
        expect(await store.scans.create(scan)).toEqual(queued(scan));
        expect(await store.scans.findById(scan.id)).toEqual(queued(scan));
        await expect(store.scans.create({ ...scan, requestedBy: 'bob' })).rejects.toMatchObject({
          code: 'CONFLICT',
        });

        const running = await store.scans.markRunning(scan.id, BASE_MS + 1500);
        expect(running).toEqual({ ...queued(scan), status: 'running', startedAt: BASE_MS + 1500 });
        // Only a queued scan starts.
        expect(await store.scans.markRunning(scan.id, BASE_MS + 1600)).toBeNull();
        expect(await store.scans.markRunning(scanId(99), BASE_MS)).toBeNull();

        const report = {
          hosts: [{ address: '192.0.2.3', ports: [{ port: 22, state: 'open' }] }],
          findings: [],
        };
        const done = await store.scans.finish(scan.id, {
          status: 'done',
          finishedAt: BASE_MS + 9000,
          report,
          openPorts: 1,
          findings: 2,
          maxRisk: 'high',
        });
        const ended: ScanRecord = {
          ...queued(scan),
          status: 'done',
          startedAt: BASE_MS + 1500,
          finishedAt: BASE_MS + 9000,
          report,
          openPorts: 1,
          findings: 2,
          maxRisk: 'high',
        };
        expect(done).toEqual(ended);
        // A cancel arriving after the end changes nothing and is told so.
        expect(
          await store.scans.finish(scan.id, {
            status: 'cancelled',
            finishedAt: BASE_MS + 9500,
            error: 'late',
          }),
        ).toBeNull();
        expect(await store.scans.markRunning(scan.id, BASE_MS + 9600)).toBeNull();
        expect(await store.scans.findById(scan.id)).toEqual(ended);
        expect(await store.scans.finish(scanId(99), { status: 'failed', finishedAt: BASE_MS })).toBeNull();
        expect(await store.scans.findById(scanId(99))).toBeNull();

        // A queued scan can be cancelled before it starts; what is not given keeps its value.
        const other = newScan(2, { requestedBy: 'schedule:nightly', schedule: 'nightly' });
        await store.scans.create(other);
        expect(
          await store.scans.finish(other.id, {
            status: 'cancelled',
            finishedAt: BASE_MS + 3000,
            error: 'by bob',
          }),
        ).toEqual({ ...queued(other), status: 'cancelled', finishedAt: BASE_MS + 3000, error: 'by bob' });

        // Only an end status and a known risk are taken.
        const third = newScan(3);
        await store.scans.create(third);
        for (const end of [
          { status: 'queued' as 'done', finishedAt: BASE_MS },
          { status: 'done' as const, finishedAt: BASE_MS, maxRisk: 'severe' as 'high' },
          { status: 'done' as const, finishedAt: -1 },
          { status: 'done' as const, finishedAt: BASE_MS, openPorts: 1.5 },
        ]) {
          await expect(store.scans.finish(third.id, end), JSON.stringify(end)).rejects.toMatchObject({
            code: 'BAD_REQUEST',
          });
        }
        expect((await store.scans.findById(third.id))?.status).toBe('queued');
      });

      it('list newest first, page with a cursor or an offset, and filter', async () => {
        const statuses = ['queued', 'running', 'done', 'failed', 'cancelled'] as const;
        // Ids out of creation order, and three runs in each millisecond: the id breaks ties.
        for (let i = 0; i < 23; i++) {
          const n = (i * 7) % 23;
          await store.scans.create(
            newScan(n, {
              createdAt: BASE_MS + Math.floor(i / 3),
              requestedBy: i % 4 === 0 ? 'schedule:nightly' : i % 2 === 0 ? 'bob' : 'alice',
              schedule: i % 4 === 0 ? 'nightly' : null,
            }),
          );
          const status = statuses[i % 5]!;
          if (status !== 'queued') await store.scans.markRunning(scanId(n), BASE_MS + 100);
          if (status !== 'queued' && status !== 'running') {
            await store.scans.finish(scanId(n), { status, finishedAt: BASE_MS + 200, report: { n } });
          }
        }
        const all = await Promise.all(
          Array.from({ length: 23 }, async (_, n) => (await store.scans.findById(scanId(n)))!),
        );
        const expected = [...all].sort(newestScanFirst);
        expect((await store.scans.listScans()).items).toEqual(expected);
        expect(new Set(expected.map((s) => s.createdAt)).size).toBe(8);

        const paged: ScanRecord[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const page: { items: ScanRecord[]; nextCursor: string | null } = await store.scans.listScans({
            limit: 4,
            cursor,
          });
          paged.push(...page.items);
          cursor = page.nextCursor;
          pages++;
        } while (cursor !== null);
        expect(pages).toBe(6);
        expect(paged).toEqual(expected);
        // A run created meanwhile does not shift a page already handed out.
        const second = await store.scans.listScans({ limit: 4 });
        const newest = await store.scans.create(newScan(50, { createdAt: BASE_MS + 60_000 }));
        expect((await store.scans.listScans({ limit: 4, cursor: second.nextCursor })).items).toEqual(
          expected.slice(4, 8),
        );
        expect((await store.scans.listScans({ limit: 5, offset: 6 })).items.map((s) => s.id)).toEqual(
          [newScan(50).id, ...expected.map((s) => s.id)].slice(6, 11),
        );

        const cases: [Parameters<Store['scans']['listScans']>[0], (s: ScanRecord) => boolean][] = [
          [{ status: 'done' }, (s) => s.status === 'done'],
          [{ status: 'queued' }, (s) => s.status === 'queued'],
          [{ requestedBy: 'bob' }, (s) => s.requestedBy === 'bob'],
          [{ schedule: 'nightly' }, (s) => s.schedule === 'nightly'],
          [
            { schedule: 'nightly', status: 'failed' },
            (s) => s.schedule === 'nightly' && s.status === 'failed',
          ],
        ];
        for (const [filter, predicate] of cases) {
          const wanted = [newest, ...expected].filter(predicate);
          expect(wanted.length, JSON.stringify(filter)).toBeGreaterThan(0);
          const got = await store.scans.listScans({ ...filter, limit: 2 });
          expect(got.items, JSON.stringify(filter)).toEqual(wanted.slice(0, 2));
          const rest =
            got.nextCursor === null
              ? []
              : (await store.scans.listScans({ ...filter, cursor: got.nextCursor })).items;
          expect([...got.items, ...rest], JSON.stringify(filter)).toEqual(wanted);
        }
        // A list that shows no report need not read any.
        const summaries = await store.scans.listScans({ status: 'done', withReports: false });
        expect(summaries.items).toEqual(
          expected.filter((s) => s.status === 'done').map((s) => ({ ...s, report: null })),
        );

        await expect(store.scans.listScans({ status: 'finished' as 'done' })).rejects.toMatchObject({
          code: 'BAD_REQUEST',
        });
        // A cursor of another list (a number id) is refused, as is one nobody gave out.
        const alertsCursor = Buffer.from(JSON.stringify([BASE_MS, 7])).toString('base64url');
        await expect(store.scans.listScans({ cursor: alertsCursor })).rejects.toMatchObject({
          code: 'BAD_REQUEST',
        });
        for (const value of HOSTILE) {
          expect((await store.scans.listScans({ requestedBy: value })).items).toEqual([]);
          expect((await store.scans.listScans({ schedule: value })).items).toEqual([]);
          expect(await store.scans.findById(value)).toBeNull();
          expect(await store.scans.previousDone(value, BASE_MS + DAY_MS)).toBeNull();
          expect(await store.scans.lastRunOf(value)).toBeNull();
          await expect(store.scans.listScans({ cursor: value })).rejects.toMatchObject({
            code: 'BAD_REQUEST',
          });
        }
        expect((await store.scans.listScans({ limit: MAX_PAGE_SIZE })).items).toHaveLength(24);
      });

      it('find the previous done run of the same baseline before a time', async () => {
        const key = 'k:192.0.2.0/28|t:1-1024';
        const runs: [number, string, 'done' | 'failed' | 'cancelled' | 'running', number][] = [
          // [n, baseline key, status, created at]
          [1, key, 'done', BASE_MS + 1000],
          [2, key, 'done', BASE_MS + 2000],
          // Same millisecond as 2 with a higher id: the later of the two.
          [3, key, 'done', BASE_MS + 2000],
          [4, key, 'failed', BASE_MS + 3000],
          [5, key, 'cancelled', BASE_MS + 4000],
          [6, 'k:other', 'done', BASE_MS + 4500],
          [7, key, 'running', BASE_MS + 5000],
          [8, key, 'done', BASE_MS + 6000],
        ];
        for (const [n, baselineKey, status, createdAt] of runs) {
          await store.scans.create(newScan(n, { baselineKey, createdAt }));
          await store.scans.markRunning(scanId(n), createdAt + 10);
          if (status !== 'running') {
            // Finished out of order: the choice is by creation, not by end.
            await store.scans.finish(scanId(n), { status, finishedAt: BASE_MS + 100_000 - n, report: { n } });
          }
        }
        const previous = async (beforeMs: number) =>
          (await store.scans.previousDone(key, beforeMs))?.id ?? null;
        // The run being compared (8, created at +6000) against the runs before it: 4, 5 and 7
        // did not finish well, 6 is another scan.
        expect(await previous(BASE_MS + 6000)).toBe(scanId(3));
        expect(await previous(BASE_MS + 6001)).toBe(scanId(8));
        expect(await previous(BASE_MS + 2000)).toBe(scanId(1));
        expect(await previous(BASE_MS + 1000)).toBeNull();
        expect(await store.scans.previousDone('k:other', BASE_MS + DAY_MS)).toMatchObject({
          id: scanId(6),
          status: 'done',
          report: { n: 6 },
        });
        expect(await store.scans.previousDone('k:none', BASE_MS + DAY_MS)).toBeNull();
      });

      it('fail the runs a stopped server left queued or running, and only those', async () => {
        const endings = ['queued', 'running', 'done', 'cancelled', 'running', 'failed'] as const;
        for (const [n, status] of endings.entries()) {
          await store.scans.create(newScan(n));
          if (status !== 'queued') await store.scans.markRunning(scanId(n), BASE_MS + 50_000);
          if (status !== 'queued' && status !== 'running') {
            await store.scans.finish(scanId(n), { status, finishedAt: BASE_MS + 60_000, error: null });
          }
        }
        const before = await Promise.all(
          endings.map(async (_, n) => (await store.scans.findById(scanId(n)))!),
        );
        const now = BASE_MS + DAY_MS;
        expect(await store.scans.failUnfinished(now, 'the server stopped during the scan')).toBe(3);
        for (const [n, status] of endings.entries()) {
          const after = await store.scans.findById(scanId(n));
          if (status === 'queued' || status === 'running') {
            expect(after, status).toEqual({
              ...before[n],
              status: 'failed',
              finishedAt: now,
              error: 'the server stopped during the scan',
            });
          } else {
            expect(after, status).toEqual(before[n]);
          }
        }
        expect(await store.scans.failUnfinished(now + 1, 'again')).toBe(0);
      });

      it("give a schedule's latest run whatever its status", async () => {
        await store.scans.create(newScan(1, { schedule: 'nightly', requestedBy: 'schedule:nightly' }));
        await store.scans.finish(scanId(1), { status: 'done', finishedAt: BASE_MS + 1500 });
        await store.scans.create(newScan(2, { schedule: 'weekly', requestedBy: 'schedule:weekly' }));
        await store.scans.create(newScan(3, { schedule: 'nightly', requestedBy: 'schedule:nightly' }));
        await store.scans.markRunning(scanId(3), BASE_MS + 3500);
        // Someone's own run, later: not the schedule's.
        await store.scans.create(newScan(4, { requestedBy: 'schedule:nightly' }));
        expect(await store.scans.lastRunOf('nightly')).toMatchObject({ id: scanId(3), status: 'running' });
        await store.scans.finish(scanId(3), {
          status: 'failed',
          finishedAt: BASE_MS + 4000,
          error: 'no route',
        });
        expect(await store.scans.lastRunOf('nightly')).toMatchObject({ id: scanId(3), status: 'failed' });
        expect(await store.scans.lastRunOf('weekly')).toMatchObject({ id: scanId(2), status: 'queued' });
        expect(await store.scans.lastRunOf('hourly')).toBeNull();
      });

      it('keep a 1 MB report whole, and store nothing for a report that is not JSON', async () => {
        const rand = random(61);
        const hosts = Array.from({ length: 2600 }, (_, i) => ({
          address: `10.${(i >> 8) & 255}.${i & 255}.${1 + (i % 250)}`,
          up: true,
          ports: Array.from({ length: 3 }, (_, j) => ({
            protocol: 'tcp',
            port: 1 + Math.floor(rand() * 65535),
            state: j === 0 ? 'open' : 'filtered',
            rttMs: Math.round(rand() * 1e6) / 1e3,
            // Quotes, backslashes, control characters, astral and non-Latin text survive.
            service: {
              name: 'http',
              banner: `Server: "nginx" \\ \u0007 ${i} ünïcødé 🛰 ${'x'.repeat(j * 10)}`,
            },
          })),
        }));
        const report = { engine: 'flowtrack', hosts, findings: [], nothing: null, flag: false };
        expect(JSON.stringify(report).length).toBeGreaterThan(1_000_000);
        await store.scans.create(newScan(1));
        await store.scans.markRunning(scanId(1), BASE_MS + 1100);
        const done = await store.scans.finish(scanId(1), {
          status: 'done',
          finishedAt: BASE_MS + 5000,
          report,
          openPorts: hosts.length,
        });
        expect(done?.report).toEqual(report);
        expect((await store.scans.findById(scanId(1)))?.report).toEqual(report);
        expect((await store.scans.listScans()).items[0]?.report).toEqual(report);

        await store.scans.create(newScan(2));
        const cyclic: Record<string, unknown> = {};
        cyclic.self = cyclic;
        for (const bad of [cyclic, { big: 1n }]) {
          await expect(
            store.scans.finish(scanId(2), { status: 'done', finishedAt: BASE_MS, report: bad }),
          ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
        }
        expect(await store.scans.findById(scanId(2))).toEqual(queued(newScan(2)));
      });

      it('list a row whose JSON is damaged, showing those columns empty and naming them', async () => {
        await store.scans.create(newScan(1));
        await store.scans.finish(scanId(1), {
          status: 'done',
          finishedAt: BASE_MS + 2000,
          report: { ok: true },
        });
        for (const [n, set] of [
          [2, { report: '{"hosts": [{"address": "192.0.2.1"' }],
          [3, { targets: 'not json', request: '[1, 2]' }],
          [4, { targets: '["192.0.2.1", 7]', request: 'null', report: '' }],
        ] as const) {
          await store.scans.create(newScan(n));
          await store.db.updateTable('scans').set(set).where('id', '=', scanId(n)).execute();
        }
        const listed = (await store.scans.listScans()).items;
        expect(listed.map((s) => [s.id, s.unreadable])).toEqual([
          [scanId(4), ['targets', 'request', 'report']],
          [scanId(3), ['targets', 'request']],
          [scanId(2), ['report']],
          [scanId(1), []],
        ]);
        expect(listed[0]).toMatchObject({ targets: [], request: {}, report: null, status: 'queued' });
        expect(listed[2]).toMatchObject({ targets: newScan(2).targets, report: null });
        expect(listed[3]?.report).toEqual({ ok: true });
        // Left out of a list, a damaged report is not even read.
        expect((await store.scans.listScans({ withReports: false })).items[2]?.unreadable).toEqual([]);
      });

      it('replace the first schema’s scans table, which no build wrote, in migration 0006', async () => {
        await undoHostHealthMigration(store);
        await undoScansMigration(store);
        await sql`insert into scans (target, ports, status, started_at, created_by)
          values ('192.0.2.1', '1-1024', 'done', ${BASE_MS}, 'alice')`.execute(store.db);
        expect(await migrateStore(store)).toEqual([
          '0006-scans',
          '0007-host-health',
          '0008-alert-lifecycle',
          '0009-sensors',
        ]);
        expect((await store.scans.listScans()).items).toEqual([]);
        const scan = newScan(1);
        expect(await store.scans.create(scan)).toEqual(queued(scan));
        // The database itself keeps statuses, risks and counts to their values.
        for (const set of [{ status: 'paused' }, { max_risk: 'severe' }, { open_ports: -1 }]) {
          await expect(
            store.db
              .updateTable('scans')
              .set(set as never)
              .where('id', '=', scan.id)
              .execute(),
            JSON.stringify(set),
          ).rejects.toThrow();
        }
        expect(await store.scans.findById(scan.id)).toEqual(queued(scan));
      });
    });

    describe('host health', () => {
      const since = { samplesSinceMs: BASE_MS - DAY_MS, sampleIntervalMs: 2000 };

      it('keeps samples and gives back the newest, and a chart of buckets with averages and peaks', async () => {
        const cpus = [10, 30, 50, 70, 90, 20];
        for (const [i, cpu] of cpus.entries()) {
          await store.health.insertSample(healthSample(BASE_MS + i * 2000, { cpu, memory: 40 + i }));
        }
        expect(await store.health.latest()).toEqual(healthSample(BASE_MS + 10_000, { cpu: 20, memory: 45 }));
        // Three buckets of 4 s: (10, 30), (50, 70), (90, 20).
        const series = await store.health.series({
          fromMs: BASE_MS,
          toMs: BASE_MS + 11_999,
          maxPoints: 3,
          ...since,
        });
        expect(series.source).toBe('samples');
        expect(series.stepMs).toBe(4000);
        expect(series.points.map((p) => [p.at - BASE_MS, p.cpu, p.cpuMax, p.memoryMax])).toEqual([
          [0, 20, 30, 41],
          [4000, 60, 70, 43],
          [8000, 55, 90, 45],
        ]);
        // Loopback is not network load: only eth0 counts.
        expect(series.points[0]?.netRxBytesPerSecond).toBe(1000);
        expect(series.points[0]?.disk).toBe(40);
      });

      it('reads minute rollups for a range the samples no longer cover, weighing minutes by their samples', async () => {
        // Buckets start at whole multiples of their step since the epoch, so a chart keeps its points as time moves.
        const base = Math.ceil(BASE_MS / 180_000) * 180_000;
        await store.health.upsertRollup(healthRollup(base, 10, 30));
        await store.health.upsertRollup(healthRollup(base + 60_000, 40, 10));
        // A minute written again (a restart within it) is replaced, not added.
        await store.health.upsertRollup(healthRollup(base + 120_000, 99, 30));
        await store.health.upsertRollup(healthRollup(base + 120_000, 70, 30));
        const request = {
          fromMs: base,
          toMs: base + 179_999,
          maxPoints: 1,
          samplesSinceMs: BASE_MS + DAY_MS,
          sampleIntervalMs: 2000,
        };
        const series = await store.health.series(request);
        expect(series.source).toBe('minutes');
        expect(series.stepMs).toBe(180_000);
        expect(series.points).toHaveLength(1);
        expect(series.points[0]?.cpu).toBeCloseTo((10 * 30 + 40 * 10 + 70 * 30) / 70, 9);
        expect(series.points[0]?.cpuMax).toBe(75);
        const perMinute = await store.health.series({ ...request, maxPoints: 10 });
        expect(perMinute.points.map((p) => p.cpu)).toEqual([10, 40, 70]);
      });

      it("gives one interface's series from the samples and from the minutes", async () => {
        for (const [i, rx] of [100, 300, 500].entries()) {
          await store.health.insertSample(healthSample(BASE_MS + i * 2000, { eth0Rx: rx }));
        }
        const fromSamples = await store.health.interfaceSeries(
          { fromMs: BASE_MS, toMs: BASE_MS + 5999, maxPoints: 3, ...since },
          'eth0',
        );
        expect(fromSamples.points.map((p) => p.rxBytesPerSecond)).toEqual([100, 300, 500]);
        expect(fromSamples.points.map((p) => p.txBytesPerSecond)).toEqual([50, 150, 250]);
        expect(
          (
            await store.health.interfaceSeries(
              { fromMs: BASE_MS, toMs: BASE_MS + 5999, maxPoints: 3, ...since },
              'wlan9',
            )
          ).points,
        ).toEqual([]);
        await store.health.upsertRollup(healthRollup(BASE_MS, 10, 30, 800));
        const fromMinutes = await store.health.interfaceSeries(
          {
            fromMs: BASE_MS,
            toMs: BASE_MS + 59_999,
            maxPoints: 10,
            samplesSinceMs: BASE_MS + 1,
            sampleIntervalMs: 2000,
          },
          'eth0',
        );
        expect(fromMinutes.source).toBe('minutes');
        expect(fromMinutes.points.map((p) => p.rxBytesPerSecond)).toEqual([800]);
      });

      it("replace the first schema's health_samples, which no build wrote, and add flows' process columns in migration 0007", async () => {
        await store.flows.insertFlows([flowRow({ srcPort: 40003 })]);
        await undoHostHealthMigration(store);
        await store.db
          .insertInto('health_samples')
          .values({
            ts_ms: 1,
            cpu: 1,
            memory: 1,
            disk: 1,
            net_rx_bytes: 1,
            net_tx_bytes: 1,
            load: '[]',
          } as never)
          .execute();
        expect(await migrateStore(store)).toEqual([
          '0007-host-health',
          '0008-alert-lifecycle',
          '0009-sensors',
        ]);
        expect(await countRows(store, 'health_samples')).toBe(0);
        // The flow is kept, with no process.
        expect((await allFlows(store)).map((f) => [f.srcPort, f.process])).toEqual([[40003, undefined]]);
        await store.health.insertSample(healthSample(BASE_MS));
        expect((await store.health.latest())?.at).toBe(BASE_MS);
      });

      it('answers around a sample whose JSON is damaged, and refuses a backwards range', async () => {
        await store.health.insertSample(healthSample(BASE_MS, { cpu: 33 }));
        await store.db.updateTable('health_samples').set({ sample: '{not json' }).execute();
        expect(await store.health.latest()).toBeNull();
        const series = await store.health.series({
          fromMs: BASE_MS,
          toMs: BASE_MS + 1,
          maxPoints: 10,
          ...since,
        });
        expect(series.points.map((p) => p.cpu)).toEqual([33]);
        await expect(
          store.health.series({ fromMs: BASE_MS + 1, toMs: BASE_MS, maxPoints: 10, ...since }),
        ).rejects.toThrow(/from <= to/);
      });

      it('keeps the process behind a flow, and a flow without one reads as it was inserted', async () => {
        const withProcess = flowRow({ srcPort: 40001, process: { pid: 4242, name: 'curl', user: 'alice' } });
        const without = flowRow({ srcPort: 40002 });
        await store.flows.insertFlows([withProcess, without]);
        const stored = await allFlows(store);
        expect(stored.find((f) => f.srcPort === 40001)?.process).toEqual({
          pid: 4242,
          name: 'curl',
          user: 'alice',
        });
        expect(stored.find((f) => f.srcPort === 40002)).not.toHaveProperty('process');
      });
    });

    describe('hostile filter values', () => {
      it('are plain values: they match nothing and change nothing', async () => {
        await store.flows.insertFlows(variedFlows());
        await store.alerts.upsertAlerts([alert('a-1')], BASE_MS);
        await store.users.create({ username: 'admin', passwordHash: 'h', role: 'admin' }, BASE_MS);
        await store.audit.append({ tsMs: BASE_MS, actor: 'admin', action: 'login', outcome: 'ok' });
        await store.settings.set('k', 1, 'admin', BASE_MS);
        for (const value of HOSTILE) {
          for (const filter of [{ address: value }, { protocol: value }, { state: value }]) {
            expect((await store.flows.queryFlows(filter)).items, JSON.stringify(filter)).toEqual([]);
          }
          expect((await store.alerts.listAlerts({ src: value })).items).toEqual([]);
          expect((await store.alerts.listAlerts({ type: value, status: value })).items).toEqual([]);
          expect((await store.audit.list({ actor: value })).items).toEqual([]);
          expect((await store.audit.list({ action: value })).items).toEqual([]);
          expect(await store.users.findByUsername(value)).toBeNull();
          expect(await store.settings.get(value)).toBeNull();
          expect(await store.refreshTokens.find(value)).toBeNull();
          expect(await store.flows.traffic(BASE_US, BASE_US + MINUTE_US, 60, { host: value })).toEqual([
            expect.objectContaining({ bytes: 0 }),
          ]);
          await expect(store.flows.queryFlows({ cursor: value })).rejects.toMatchObject({
            code: 'BAD_REQUEST',
          });
        }
        expect(await countRows(store, 'flows')).toBe(20);
        expect(await countRows(store, 'users')).toBe(1);
        expect(await store.alerts.findById('a-1')).not.toBeNull();
      });
    });

    describe('retention', () => {
      it('deletes flows, rollups, alerts, health samples and audit events older than their ages', async () => {
        const now = BASE_MS + 10 * DAY_MS;
        const daysAgoUs = (days: number) => (now - days * DAY_MS) * 1000;
        const old = Array.from({ length: 7 }, (_, i) =>
          flowRow({ firstSeenUs: daysAgoUs(9) + i, lastSeenUs: daysAgoUs(9) + i + 1 }),
        );
        const recent = Array.from({ length: 4 }, (_, i) =>
          flowRow({ firstSeenUs: daysAgoUs(1) + i, lastSeenUs: daysAgoUs(1) + i + 1 }),
        );
        await store.flows.insertFlows([...old, ...recent]);
        await store.alerts.upsertAlerts(
          [
            alert('old', { start: daysAgoUs(9), end: daysAgoUs(8) }),
            alert('new', { start: daysAgoUs(2), end: daysAgoUs(1) }),
          ],
          now,
        );
        for (const days of [40, 20, 1]) {
          await store.db
            .insertInto('health_samples')
            .values({
              ts_ms: now - days * DAY_MS,
              cpu: 50,
              memory: 25,
              swap: 0,
              load1: 0.1,
              disk: 75,
              net_rx_bps: 10,
              net_tx_bps: 20,
              disk_read_bps: 0,
              disk_write_bps: 0,
              sample: '{}',
            })
            .execute();
          await store.health.upsertRollup(healthRollup(now - days * DAY_MS));
          await store.audit.append({ tsMs: now - days * DAY_MS, actor: 'a', action: 'x', outcome: 'ok' });
        }
        const result = await runRetention(
          store,
          {
            flowsMaxAgeMs: 7 * DAY_MS,
            rollupsMaxAgeMs: 7 * DAY_MS,
            alertsMaxAgeMs: 7 * DAY_MS,
            healthSamplesMaxAgeMs: 30 * DAY_MS,
            healthRollupsMaxAgeMs: 10 * DAY_MS,
            auditEventsMaxAgeMs: 10 * DAY_MS,
            batchSize: 3,
          },
          now,
        );
        // The old flows fall in one minute: its three rollup rows (total, src, dst) go, and its
        // one port rollup (tcp/443).
        expect(result).toMatchObject({
          flows: 7,
          flowRollups: 3,
          portRollups: 1,
          alerts: 1,
          healthSamples: 1,
          healthRollups: 2,
          auditEvents: 2,
          flowsForSize: 0,
        });
        expect((await allFlows(store)).map((f) => f.lastSeenUs).sort()).toEqual(
          recent.map((f) => f.lastSeenUs),
        );
        expect(await store.alerts.findById('old')).toBeNull();
        expect(await store.alerts.findById('new')).not.toBeNull();
        expect(await countRows(store, 'flow_rollups')).toBe(3);
        expect(await countRows(store, 'health_samples')).toBe(2);
        expect(await countRows(store, 'health_rollups')).toBe(1);
        expect(await countRows(store, 'audit_events')).toBe(1);
        // Nothing is older any more: a second run deletes nothing.
        expect(await runRetention(store, { flowsMaxAgeMs: 7 * DAY_MS }, now)).toMatchObject({ flows: 0 });
      });

      it('deletes the oldest flows, and only them, until the data is under the size limit', async () => {
        const empty = await store.dataBytes();
        const hosts = ['10.2.0.1', '10.2.0.2', '10.2.0.3'];
        const rows = Array.from({ length: 4000 }, (_, i) =>
          flowRow({
            firstSeenUs: BASE_US + i * 10_000,
            lastSeenUs: BASE_US + i * 10_000 + 5000,
            srcAddr: hosts[i % 3]!,
            srcPort: 1024 + (i % 60000),
            tcpFlagsToServer: 'SPAFSPAFSPAFSPAF',
            endReason: 'idle-timeout-after-a-long-quiet-time',
          }),
        );
        for (let i = 0; i < rows.length; i += 1000) await store.flows.insertFlows(rows.slice(i, i + 1000));
        const full = await store.dataBytes();
        expect(full).toBeGreaterThan(empty);
        const limit = empty + Math.floor((full - empty) / 2);
        const result = await runRetention(store, { maxSizeBytes: limit, batchSize: 250 }, BASE_MS);
        expect(result.dataBytes).toBeLessThanOrEqual(limit);
        expect(result.flowsForSize).toBeGreaterThan(0);
        expect(result.flowsForSize).toBeLessThan(rows.length);
        const kept = await countRows(store, 'flows');
        expect(kept).toBe(rows.length - result.flowsForSize);
        // The survivors are exactly the newest flows.
        const oldestKept = (await store.flows.queryFlows({ limit: MAX_PAGE_SIZE, offset: kept - 1 }))
          .items[0];
        expect(oldestKept?.lastSeenUs).toBe(rows[result.flowsForSize]?.lastSeenUs);
        // Already under the limit: nothing more goes.
        expect(await runRetention(store, { maxSizeBytes: limit }, BASE_MS)).toMatchObject({
          flowsForSize: 0,
        });
      });
    });

    describe('writer', () => {
      it('writes in batches of its size, counts what is committed, and flush waits for it', async () => {
        const writer = new StoreWriter(store.db, { batchSize: 100, intervalMs: 60_000 });
        try {
          for (let i = 0; i < 99; i++) expect(writer.enqueueFlow(flowRow({ srcPort: 1024 + i }))).toBe(true);
          // Short of a batch, with the timer far off: nothing is written.
          await new Promise((resolve) => setTimeout(resolve, 50));
          expect(writer.acknowledged.flows).toBe(0);
          expect(writer.queued).toBe(99);
          // The hundredth row fills a batch: it is written at once, without a flush.
          writer.enqueueFlow(flowRow({ srcPort: 2000 }));
          await vi.waitFor(() => {
            expect(writer.acknowledged.flows).toBe(100);
          });
          expect(await countRows(store, 'flows')).toBe(100);
          for (let i = 0; i < 150; i++) writer.enqueueFlow(flowRow({ srcPort: 3000 + i }));
          await writer.flush();
          expect(writer.queued).toBe(0);
          expect(writer.acknowledged).toEqual({ flows: 250, alerts: 0 });
          expect(await countRows(store, 'flows')).toBe(250);
          // Rollups were kept in the same transactions.
          const traffic = await store.flows.traffic(BASE_US, BASE_US + MINUTE_US, 60);
          expect(traffic[0]?.flows).toBe(250);
        } finally {
          await writer.close();
        }
      });

      it('writes on its timer, merges queued updates of one alert, and flushes on close', async () => {
        const writer = new StoreWriter(store.db, { intervalMs: 20, now: () => BASE_MS });
        writer.enqueueFlow(flowRow());
        writer.enqueueAlert(alert('a-1', { updates: 1 }));
        writer.enqueueAlert(alert('a-1', { updates: 2, counters: { ports: 300 } }));
        expect(writer.queued).toBe(2);
        await vi.waitFor(() => {
          expect(writer.acknowledged).toEqual({ flows: 1, alerts: 1 });
        });
        expect(await store.alerts.findById('a-1')).toMatchObject({ updates: 2, counters: { ports: 300 } });
        writer.enqueueFlow(flowRow());
        await writer.close();
        expect(writer.acknowledged.flows).toBe(2);
        expect(writer.enqueueFlow(flowRow())).toBe(false);
        expect(writer.enqueueAlert(alert('a-2'))).toBe(false);
        expect(writer.dropped).toEqual({ flows: 1, alerts: 1 });
        expect(await countRows(store, 'flows')).toBe(2);
      });

      it('drops and counts rows beyond its bound without waiting', async () => {
        const writer = new StoreWriter(store.db, { maxQueued: 10, batchSize: 1000, intervalMs: 60_000 });
        let accepted = 0;
        for (let i = 0; i < 15; i++) if (writer.enqueueFlow(flowRow())) accepted++;
        expect(writer.enqueueAlert(alert('a-1'))).toBe(false);
        expect(accepted).toBe(10);
        expect(writer.dropped).toEqual({ flows: 5, alerts: 1 });
        await writer.close();
        expect(writer.acknowledged).toEqual({ flows: 10, alerts: 0 });
      });

      it('keeps a failed batch while the database is down and writes it once it is back', async () => {
        const outage = new Outage();
        const errors: string[] = [];
        const writer = new StoreWriter(store.db.withPlugin(outage), {
          intervalMs: 60_000,
          onError: (err) => errors.push(err.code),
        });
        writer.enqueueFlow(flowRow());
        writer.enqueueAlert(alert('a-1'));
        outage.down = true;
        await expect(writer.flush()).rejects.toMatchObject({ code: 'STORE_ERROR' });
        await expect(writer.flush()).rejects.toMatchObject({ code: 'STORE_ERROR' });
        expect(writer.queued).toBe(2);
        expect(writer.acknowledged).toEqual({ flows: 0, alerts: 0 });
        expect(errors).toEqual(['STORE_ERROR', 'STORE_ERROR']);
        expect(writer.lastError?.message).toMatch(/could not write 1 flows and 1 alerts/);
        outage.down = false;
        writer.enqueueFlow(flowRow());
        await writer.close();
        expect(writer.acknowledged).toEqual({ flows: 2, alerts: 1 });
        expect(writer.failed).toEqual({ flows: 0, alerts: 0 });
        expect(await countRows(store, 'flows')).toBe(2);
      });

      it('gives a batch up after its last attempt, and refuses rows the database would reject', async () => {
        const outage = new Outage();
        const writer = new StoreWriter(store.db.withPlugin(outage), { intervalMs: 60_000, maxAttempts: 2 });
        // Corrupt records: refused at once instead of failing their whole batch later.
        expect(writer.enqueueFlow(flowRow({ state: null as unknown as string }))).toBe(false);
        expect(writer.enqueueFlow(flowRow({ bytesToServer: Number.NaN }))).toBe(false);
        expect(writer.failed.flows).toBe(2);
        expect(writer.lastError?.message).toMatch(/bytesToServer is NaN/);
        writer.enqueueFlow(flowRow());
        outage.down = true;
        await expect(writer.flush()).rejects.toMatchObject({ code: 'STORE_ERROR' });
        await expect(writer.flush()).rejects.toMatchObject({ code: 'STORE_ERROR' });
        expect(writer.queued).toBe(0);
        expect(writer.failed.flows).toBe(3);
        // The writer goes on with later rows.
        outage.down = false;
        writer.enqueueFlow(flowRow());
        await writer.close();
        expect(writer.acknowledged.flows).toBe(1);
        expect(await countRows(store, 'flows')).toBe(1);
      });
    });

    describe('sensors', () => {
      it("store a sensor's batch once however often it is delivered, with its sensor on every flow", async () => {
        const batch = [flowRow({ srcPort: 1 }), flowRow({ srcPort: 2 }), flowRow({ srcPort: 3 })];
        expect(await store.sensors.storeBatch('edge-1-7', 'edge-1', batch, BASE_MS)).toBe(true);
        expect(await store.sensors.storeBatch('edge-1-7', 'edge-1', batch, BASE_MS + 5)).toBe(false);
        expect(await store.sensors.storeBatch('edge-2-7', 'edge-2', batch.slice(0, 1), BASE_MS + 9)).toBe(
          true,
        );
        await store.flows.insertFlows([flowRow({ srcPort: 4 })]);
        expect(await countRows(store, 'flows')).toBe(5);
        const of = async (sensor: string) =>
          (await store.flows.queryFlows({ sensor })).items.map((f) => [f.sensor ?? null, f.srcPort]);
        expect(await of('edge-1')).toEqual(
          expect.arrayContaining([
            ['edge-1', 1],
            ['edge-1', 2],
            ['edge-1', 3],
          ]),
        );
        expect(await of('edge-1')).toHaveLength(3);
        expect(await of('edge-2')).toEqual([['edge-2', 1]]);
        expect(await of('local')).toEqual([[null, 4]]);
        // The rollups count each stored flow once, the duplicate not at all.
        const top = await store.flows.topTalkers(BASE_US - MINUTE_US, BASE_US + MINUTE_US, 5);
        expect(top.find((t) => t.host === '192.0.2.1')?.flows).toBe(5);
      });

      it('store several batches of several sensors in one go, each once, and say which were new', async () => {
        expect(await store.sensors.storeBatch('sa-1', 'sa', [flowRow({ srcPort: 1 })], BASE_MS)).toBe(true);
        const fresh = await store.sensors.storeBatches(
          [
            { id: 'sa-1', sensor: 'sa', flows: [flowRow({ srcPort: 1 })] },
            { id: 'sa-2', sensor: 'sa', flows: [flowRow({ srcPort: 2 }), flowRow({ srcPort: 3 })] },
            { id: 'sb-1', sensor: 'sb', flows: [flowRow({ srcPort: 4 })] },
            // The same message twice in one pull (a redelivery): stored once.
            { id: 'sb-1', sensor: 'sb', flows: [flowRow({ srcPort: 4 })] },
          ],
          BASE_MS + 10,
        );
        expect([...fresh].sort()).toEqual(['sa-2', 'sb-1']);
        const ports = async (sensor: string) =>
          (await store.flows.queryFlows({ sensor })).items.map((f) => f.srcPort).sort((a, b) => a - b);
        expect(await ports('sa')).toEqual([1, 2, 3]);
        expect(await ports('sb')).toEqual([4]);
        const contacts = (await store.sensors.list()).map((r) => [r.name, r.lastContactMs]);
        expect(contacts.sort()).toEqual([
          ['sa', BASE_MS + 10],
          ['sb', BASE_MS + 10],
        ]);
        expect(await store.sensors.storeBatches([], BASE_MS)).toEqual(new Set());
      });

      it("keep each sensor's first and last contact and latest health, and list the latest first", async () => {
        await store.sensors.recordContact('edge-1', 'sensor', BASE_MS, { bufferedMessages: 3 });
        await store.sensors.storeBatch('edge-1-1', 'edge-1', [flowRow()], BASE_MS + 1000);
        await store.sensors.recordContact('exporter:192.0.2.9', 'exporter', BASE_MS + 500, { records: 12 });
        expect(await store.sensors.list()).toEqual([
          {
            name: 'edge-1',
            kind: 'sensor',
            firstSeenMs: BASE_MS,
            lastContactMs: BASE_MS + 1000,
            health: { bufferedMessages: 3 },
          },
          {
            name: 'exporter:192.0.2.9',
            kind: 'exporter',
            firstSeenMs: BASE_MS + 500,
            lastContactMs: BASE_MS + 500,
            health: { records: 12 },
          },
        ]);
        expect(await store.sensors.pruneMessageIds(BASE_MS + 1001)).toBe(1);
      });

      it('filter alerts by sensor, this host\'s own under "local"', async () => {
        await store.alerts.upsertAlerts([alert('a-local'), alert('a-edge', { sensor: 'edge-1' })], BASE_MS);
        const ids = async (sensor: string) =>
          (await store.alerts.listAlerts({ sensor })).items.map((a) => a.id);
        expect(await ids('edge-1')).toEqual(['a-edge']);
        expect(await ids('local')).toEqual(['a-local']);
        // The groups view and a change to a whole group take the sensor too.
        const groups = await store.alerts.groups({ sensor: 'edge-1' }, 10);
        expect(groups.map((g) => [g.group, g.count])).toEqual([['src:203.0.113.5', 1]]);
        expect(await store.alerts.idsInGroup('src:203.0.113.5', ['open'], 'edge-1')).toEqual(['a-edge']);
        expect(await store.alerts.idsInGroup('src:203.0.113.5', ['open'], 'local')).toEqual(['a-local']);
        expect((await store.alerts.idsInGroup('src:203.0.113.5', ['open'])).sort()).toEqual([
          'a-edge',
          'a-local',
        ]);
      });
    });
  });
}
