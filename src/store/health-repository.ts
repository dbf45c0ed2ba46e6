/**
 * The host's health over time: the probe's samples at full resolution (a day by default) and
 * minute rollups for longer (health_samples, health_rollups; migration 0007). A chart asks for a
 * time range and a number of points; the answer comes from the samples when they still cover the
 * range and from the rollups otherwise, grouped in SQL into buckets of a whole number of steps.
 *
 * Reading must never fail on one bad row: a sample or detail whose JSON does not parse is left
 * out of what needs it (the latest sample, an interface's series) and the rest is answered.
 */

import { sql, type Kysely } from 'kysely';
import type { HealthPoint, HostSample } from '../system/host-sample.js';
import { ErrorCode, FlowTrackError } from '../util/errors.js';
import type { Database, HealthRollupsTable } from './schema.js';

const MINUTE_MS = 60_000;

/** A minute's averages per interface and core, and each file system's highest use. */
export interface HealthRollupDetail {
  interfaces: Record<string, { rxBytesPerSecond: number; txBytesPerSecond: number }>;
  fileSystems: Record<string, number>;
  perCore: number[];
}

/** A minute of samples, as the system monitor sums them up. */
export interface HealthRollup {
  minuteMs: number;
  samples: number;
  point: Omit<HealthPoint, 'at'>;
  detail: HealthRollupDetail;
}

export interface HealthSeries {
  /** Where the points come from: full-resolution samples or minute rollups. */
  source: 'samples' | 'minutes';
  /** Milliseconds each point covers. */
  stepMs: number;
  points: HealthPoint[];
}

export interface HealthSeriesRequest {
  fromMs: number;
  toMs: number;
  /** At most this many points (buckets grow to fit). */
  maxPoints: number;
  /** Samples older than this are gone: a range starting before it reads the rollups. */
  samplesSinceMs: number;
  /** The probe's interval: the samples' own step. */
  sampleIntervalMs: number;
}

/** One interface's traffic over time, for its chart. */
export interface InterfaceSeries {
  source: 'samples' | 'minutes';
  stepMs: number;
  points: { at: number; rxBytesPerSecond: number; txBytesPerSecond: number }[];
}

/** The figures of a sample that become columns (and are summed up in rollups). */
export function pointOf(sample: HostSample): Omit<HealthPoint, 'at'> {
  let rx = 0;
  let tx = 0;
  // Loopback traffic is the host talking to itself: not network load.
  for (const i of sample.interfaces) {
    if (i.name === 'lo') continue;
    rx += i.rxBytesPerSecond;
    tx += i.txBytesPerSecond;
  }
  let read = 0;
  let write = 0;
  for (const d of sample.disks) {
    read += d.readBytesPerSecond;
    write += d.writeBytesPerSecond;
  }
  return {
    cpu: sample.cpu.percent,
    cpuMax: sample.cpu.percent,
    memory: sample.memory.percent,
    memoryMax: sample.memory.percent,
    swap: sample.memory.swapPercent,
    load1: sample.load[0],
    disk: Math.max(0, ...sample.fileSystems.map((f) => f.percent)),
    netRxBytesPerSecond: rx,
    netTxBytesPerSecond: tx,
    diskReadBytesPerSecond: read,
    diskWriteBytesPerSecond: write,
  };
}

export class HealthRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insertSample(sample: HostSample): Promise<void> {
    const p = pointOf(sample);
    const figures = {
      cpu: p.cpu,
      memory: p.memory,
      swap: p.swap,
      load1: p.load1,
      disk: p.disk,
      net_rx_bps: p.netRxBytesPerSecond,
      net_tx_bps: p.netTxBytesPerSecond,
      disk_read_bps: p.diskReadBytesPerSecond,
      disk_write_bps: p.diskWriteBytesPerSecond,
      sample: JSON.stringify(sample),
    };
    await this.db
      .insertInto('health_samples')
      .values({ ts_ms: sample.at, ...figures })
      // Two samples in one millisecond (a clock stepped back): the later one wins.
      .onConflict((oc) => oc.column('ts_ms').doUpdateSet(figures))
      .execute();
  }

  /** Writes a minute's rollup; a minute written again (a restart within it) is replaced. */
  async upsertRollup(rollup: HealthRollup): Promise<void> {
    const p = rollup.point;
    const figures = {
      samples: rollup.samples,
      cpu: p.cpu,
      cpu_max: p.cpuMax,
      memory: p.memory,
      memory_max: p.memoryMax,
      swap: p.swap,
      load1: p.load1,
      disk: p.disk,
      net_rx_bps: p.netRxBytesPerSecond,
      net_tx_bps: p.netTxBytesPerSecond,
      disk_read_bps: p.diskReadBytesPerSecond,
      disk_write_bps: p.diskWriteBytesPerSecond,
      detail: JSON.stringify(rollup.detail),
    };
    await this.db
      .insertInto('health_rollups')
      .values({ minute_ms: rollup.minuteMs, ...figures })
      .onConflict((oc) => oc.column('minute_ms').doUpdateSet(figures))
      .execute();
  }

  /** The newest sample, or null when there is none (or it cannot be read). */
  async latest(): Promise<HostSample | null> {
    const row = await this.db
      .selectFrom('health_samples')
      .select('sample')
      .orderBy('ts_ms', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? (parseJson(row.sample) as HostSample | null) : null;
  }

  /** The chart's points over [fromMs, toMs], at most `maxPoints` of them. */
  async series(request: HealthSeriesRequest): Promise<HealthSeries> {
    const { fromMs, toMs } = checkRange(request);
    const useSamples = fromMs >= request.samplesSinceMs;
    const baseStep = useSamples ? request.sampleIntervalMs : MINUTE_MS;
    const stepMs = stepFor(fromMs, toMs, baseStep, request.maxPoints);
    const step = sql.lit(stepMs);
    if (useSamples) {
      const bucket = sql<number>`(ts_ms / ${step}) * ${step}`;
      const rows = await this.db
        .selectFrom('health_samples')
        .where('ts_ms', '>=', fromMs)
        .where('ts_ms', '<=', toMs)
        .select([
          bucket.as('at'),
          sql<number>`avg(cpu)`.as('cpu'),
          sql<number>`max(cpu)`.as('cpu_max'),
          sql<number>`avg(memory)`.as('memory'),
          sql<number>`max(memory)`.as('memory_max'),
          sql<number>`max(swap)`.as('swap'),
          sql<number>`avg(load1)`.as('load1'),
          sql<number>`max(disk)`.as('disk'),
          sql<number>`avg(net_rx_bps)`.as('net_rx_bps'),
          sql<number>`avg(net_tx_bps)`.as('net_tx_bps'),
          sql<number>`avg(disk_read_bps)`.as('disk_read_bps'),
          sql<number>`avg(disk_write_bps)`.as('disk_write_bps'),
        ])
        .groupBy(bucket)
        .orderBy(bucket)
        .execute();
      return { source: 'samples', stepMs, points: rows.map(healthPointOf) };
    }
    const bucket = sql<number>`(minute_ms / ${step}) * ${step}`;
    const rows = await this.db
      .selectFrom('health_rollups')
      .where('minute_ms', '>=', Math.floor(fromMs / MINUTE_MS) * MINUTE_MS)
      .where('minute_ms', '<=', toMs)
      .select([
        bucket.as('at'),
        // Each minute weighed by its samples, so a minute the probe half missed counts half.
        sql<number>`sum(cpu * samples) / sum(samples)`.as('cpu'),
        sql<number>`max(cpu_max)`.as('cpu_max'),
        sql<number>`sum(memory * samples) / sum(samples)`.as('memory'),
        sql<number>`max(memory_max)`.as('memory_max'),
        sql<number>`max(swap)`.as('swap'),
        sql<number>`sum(load1 * samples) / sum(samples)`.as('load1'),
        sql<number>`max(disk)`.as('disk'),
        sql<number>`sum(net_rx_bps * samples) / sum(samples)`.as('net_rx_bps'),
        sql<number>`sum(net_tx_bps * samples) / sum(samples)`.as('net_tx_bps'),
        sql<number>`sum(disk_read_bps * samples) / sum(samples)`.as('disk_read_bps'),
        sql<number>`sum(disk_write_bps * samples) / sum(samples)`.as('disk_write_bps'),
      ])
      .groupBy(bucket)
      .orderBy(bucket)
      .execute();
    return { source: 'minutes', stepMs, points: rows.map(healthPointOf) };
  }

  /** One interface's receive and send rates over [fromMs, toMs] (from the samples' or minutes' JSON). */
  async interfaceSeries(request: HealthSeriesRequest, name: string): Promise<InterfaceSeries> {
    const { fromMs, toMs } = checkRange(request);
    const useSamples = fromMs >= request.samplesSinceMs;
    const stepMs = stepFor(
      fromMs,
      toMs,
      useSamples ? request.sampleIntervalMs : MINUTE_MS,
      request.maxPoints,
    );
    const rates: { at: number; rx: number; tx: number }[] = [];
    if (useSamples) {
      const rows = await this.db
        .selectFrom('health_samples')
        .select(['ts_ms', 'sample'])
        .where('ts_ms', '>=', fromMs)
        .where('ts_ms', '<=', toMs)
        .orderBy('ts_ms')
        .execute();
      for (const row of rows) {
        const i = (parseJson(row.sample) as HostSample | null)?.interfaces.find((x) => x.name === name);
        if (i) rates.push({ at: row.ts_ms, rx: i.rxBytesPerSecond, tx: i.txBytesPerSecond });
      }
    } else {
      const rows = await this.db
        .selectFrom('health_rollups')
        .select(['minute_ms', 'detail'])
        .where('minute_ms', '>=', Math.floor(fromMs / MINUTE_MS) * MINUTE_MS)
        .where('minute_ms', '<=', toMs)
        .orderBy('minute_ms')
        .execute();
      for (const row of rows) {
        const i = (parseJson(row.detail) as HealthRollupDetail | null)?.interfaces[name];
        if (i) rates.push({ at: row.minute_ms, rx: i.rxBytesPerSecond, tx: i.txBytesPerSecond });
      }
    }
    // Averaged into the buckets here, as SQL cannot reach inside the JSON portably.
    const points: InterfaceSeries['points'] = [];
    let sum = { at: Number.NaN, rx: 0, tx: 0, n: 0 };
    const close = () => {
      if (sum.n > 0)
        points.push({ at: sum.at, rxBytesPerSecond: sum.rx / sum.n, txBytesPerSecond: sum.tx / sum.n });
    };
    for (const r of rates) {
      const at = Math.floor(r.at / stepMs) * stepMs;
      if (at !== sum.at) {
        close();
        sum = { at, rx: 0, tx: 0, n: 0 };
      }
      sum.rx += r.rx;
      sum.tx += r.tx;
      sum.n++;
    }
    close();
    return { source: useSamples ? 'samples' : 'minutes', stepMs, points };
  }
}

function checkRange(request: HealthSeriesRequest): { fromMs: number; toMs: number } {
  const { fromMs, toMs, maxPoints } = request;
  if (!Number.isSafeInteger(fromMs) || !Number.isSafeInteger(toMs) || fromMs > toMs) {
    throw new FlowTrackError(
      ErrorCode.BAD_REQUEST,
      `a health range needs whole epoch milliseconds with from <= to, not ${fromMs} to ${toMs}`,
    );
  }
  if (!Number.isSafeInteger(maxPoints) || maxPoints < 1) {
    throw new FlowTrackError(
      ErrorCode.BAD_REQUEST,
      `points must be a whole number above 0, not ${maxPoints}`,
    );
  }
  return { fromMs, toMs };
}

/** The smallest whole multiple of `baseStepMs` that fits the range into `maxPoints` buckets. */
function stepFor(fromMs: number, toMs: number, baseStepMs: number, maxPoints: number): number {
  const base = Math.max(1, Math.round(baseStepMs));
  return Math.max(1, Math.ceil((toMs - fromMs + 1) / maxPoints / base)) * base;
}

function healthPointOf(
  row: Omit<HealthRollupsTable, 'minute_ms' | 'samples' | 'detail'> & { at: number },
): HealthPoint {
  return {
    at: row.at,
    cpu: row.cpu,
    cpuMax: row.cpu_max,
    memory: row.memory,
    memoryMax: row.memory_max,
    swap: row.swap,
    load1: row.load1,
    disk: row.disk,
    netRxBytesPerSecond: row.net_rx_bps,
    netTxBytesPerSecond: row.net_tx_bps,
    diskReadBytesPerSecond: row.disk_read_bps,
    diskWriteBytesPerSecond: row.disk_write_bps,
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
