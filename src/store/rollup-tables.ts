/**
 * The three tables of traffic totals, kept in step: flow_rollups (per minute, host and protocol),
 * host_hour_totals and host_day_totals (per hour or UTC day and host, all protocols, `*` too).
 * Every hour or day row is the sum of the minute rows of its period, always: inserts add to all
 * three in one transaction, and retention, which deletes whole minutes, takes what it deletes of
 * an hour or a day that has only partly expired out of that hour's and that day's rows. So any
 * range may be read from the coarsest rows that fit it (flow-rollup.ts `splitRange`) and gives to
 * the unit what its minutes give. Beside them port_rollups (per minute and service port), added
 * to by the same inserts and deleted by the same retention, minute for minute. Nothing here reads
 * or writes `flows`.
 */

import { sql, type Kysely } from 'kysely';
import {
  DAY_US,
  HOUR_US,
  MINUTE_US,
  rollUpPeriods,
  splitRange,
  type FlowRollupRow,
  type PeriodTotalsRow,
  type PortRollupRow,
  type RangeParts,
  type Span,
} from './flow-rollup.js';
import { insertUnnest, type BulkTable } from './bulk-insert.js';
import type { Database } from './schema.js';
import type { DialectName } from './store-dialect.js';

export type RollupTable = 'flow_rollups' | 'host_hour_totals' | 'host_day_totals';

/** Each table by the length of its periods, with the column a period's start is in. */
const MINUTES = { unitUs: MINUTE_US, table: 'flow_rollups', time: 'minute_us' } as const;
const PERIODS = [
  { unitUs: HOUR_US, table: 'host_hour_totals', time: 'hour_us' },
  { unitUs: DAY_US, table: 'host_day_totals', time: 'day_us' },
] as const;

/** Rows per INSERT statement: well under SQLite's 32766 and pg's 65535 parameters. */
const INSERT_CHUNK = 500;

/** The table that keeps periods of `unitUs` (a minute, an hour or a day) and its time column. */
export function rollupTableOf(unitUs: number): { table: RollupTable; time: string } {
  const found = unitUs === MINUTE_US ? MINUTES : PERIODS.find((p) => p.unitUs === unitUs);
  if (!found) throw new Error(`no rollup table keeps periods of ${unitUs} us`);
  return found;
}

/** Rows of the table of `unitUs` whose period starts in `span`, the start as `at_us`. */
export function rollupRowsIn(db: Kysely<Database>, unitUs: number, span: Span) {
  const { table, time } = rollupTableOf(unitUs);
  const start = sql.ref<number>(time);
  return db
    .selectFrom(table)
    .select([start.as('at_us'), 'host', 'packets', 'bytes', 'flows'])
    .where(start, '>=', span.fromUs)
    .where(start, '<', span.toUs);
}

/** A query of `rollupRowsIn`'s shape, for callers that narrow or group it. */
export type RollupRows = ReturnType<typeof rollupRowsIn>;

/** A span with the length of the periods it is read in (MINUTE_US, HOUR_US or DAY_US). */
export interface UnitSpan {
  unitUs: number;
  span: Span;
}

/** The spans of `parts`, each with its unit, coarsest first. */
export function unitSpansOf(parts: RangeParts): UnitSpan[] {
  return [
    ...parts.days.map((span) => ({ unitUs: DAY_US, span })),
    ...parts.hours.map((span) => ({ unitUs: HOUR_US, span })),
    ...parts.minutes.map((span) => ({ unitUs: MINUTE_US, span })),
  ];
}

/**
 * The rows of every span in `spans` as one UNION ALL (null when there is none), each part
 * narrowed by `narrow` (a host, a protocol) before the union so that each can use its index.
 */
export function rollupRowsOf(
  db: Kysely<Database>,
  spans: readonly UnitSpan[],
  narrow: (rows: RollupRows, unitUs: number) => RollupRows = (rows) => rows,
): RollupRows | null {
  let union: RollupRows | null = null;
  for (const { unitUs, span } of spans) {
    const rows = narrow(rollupRowsIn(db, unitUs, span), unitUs);
    union = union === null ? rows : union.unionAll(rows);
  }
  return union;
}

/**
 * `packets`, `bytes` and `flows` summed, for a SELECT that groups rows of these tables. Cast back to
 * BIGINT: PostgreSQL's sum of a bigint is a numeric, which pg would hand over as a string.
 */
export function summedTotals() {
  const sum = <C extends 'packets' | 'bytes' | 'flows'>(column: C) =>
    sql<number>`cast(sum(${sql.ref(column)}) as bigint)`.as(column);
  return [sum('packets'), sum('bytes'), sum('flows')] as const;
}

/** ON CONFLICT DO UPDATE SET for all four tables: the new row adds to the one already there. */
function addedTo(table: RollupTable | 'port_rollups') {
  const plus = (column: 'packets' | 'bytes' | 'flows') =>
    sql<number>`${sql.ref(`${table}.${column}`)} + ${sql.ref(`excluded.${column}`)}`;
  return { packets: plus('packets'), bytes: plus('bytes'), flows: plus('flows') };
}

/** A minute rollup as flow_rollups' columns. */
export function rollupColumnsOf(r: FlowRollupRow): Database['flow_rollups'] {
  return {
    minute_us: r.minuteUs,
    host: r.host,
    protocol: r.protocol,
    packets: r.packets,
    bytes: r.bytes,
    flows: r.flows,
  };
}

const COUNTERS = ['packets', 'bytes', 'flows'] as const;
const COUNTER_COLUMNS = COUNTERS.map((c) => [c, 'bigint'] as const);

/** The four tables as PostgreSQL's bulk insert writes them (bulk-insert.ts). */
const BULK_MINUTES: BulkTable<Database['flow_rollups']> = {
  table: 'flow_rollups',
  columns: [['minute_us', 'bigint'], ['host', 'text'], ['protocol', 'text'], ...COUNTER_COLUMNS],
  addOnConflict: { keys: ['minute_us', 'host', 'protocol'], add: COUNTERS },
};
const BULK_PORTS: BulkTable<Database['port_rollups']> = {
  table: 'port_rollups',
  columns: [['minute_us', 'bigint'], ['protocol', 'text'], ['port', 'integer'], ...COUNTER_COLUMNS],
  addOnConflict: { keys: ['minute_us', 'protocol', 'port'], add: COUNTERS },
};
const bulkPeriod = <T extends 'host_hour_totals' | 'host_day_totals'>(
  table: T,
  time: keyof Database[T] & string,
): BulkTable<Record<string, unknown>> => ({
  table,
  columns: [['host', 'text'], [time, 'bigint'], ...COUNTER_COLUMNS],
  addOnConflict: { keys: ['host', time], add: COUNTERS },
});
const BULK_PERIODS = {
  host_hour_totals: bulkPeriod('host_hour_totals', 'hour_us'),
  host_day_totals: bulkPeriod('host_day_totals', 'day_us'),
};

/**
 * Adds the minute rollups `rows` (from `rollUpFlows`) to flow_rollups and their sums to the hour
 * and day totals. Run it in the transaction that inserts the flows.
 */
export async function addRollups(
  trx: Kysely<Database>,
  rows: readonly FlowRollupRow[],
  dialect: DialectName,
): Promise<void> {
  if (dialect === 'postgres') {
    await insertUnnest(trx, BULK_MINUTES, rows.map(rollupColumnsOf));
    for (const period of PERIODS)
      await addPeriodTotals(trx, period, rollUpPeriods(rows, period.unitUs), dialect);
    return;
  }
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    await trx
      .insertInto('flow_rollups')
      .values(rows.slice(i, i + INSERT_CHUNK).map(rollupColumnsOf))
      .onConflict((oc) => oc.columns(['minute_us', 'host', 'protocol']).doUpdateSet(addedTo('flow_rollups')))
      .execute();
  }
  for (const period of PERIODS)
    await addPeriodTotals(trx, period, rollUpPeriods(rows, period.unitUs), dialect);
}

/**
 * Adds the port rollups `rows` (from `rollUpPorts`) to port_rollups. Run it in the transaction that
 * inserts the flows.
 */
export async function addPortRollups(
  trx: Kysely<Database>,
  rows: readonly PortRollupRow[],
  dialect: DialectName,
): Promise<void> {
  const columns = (r: PortRollupRow): Database['port_rollups'] => ({
    minute_us: r.minuteUs,
    protocol: r.protocol,
    port: r.port,
    packets: r.packets,
    bytes: r.bytes,
    flows: r.flows,
  });
  if (dialect === 'postgres') {
    await insertUnnest(trx, BULK_PORTS, rows.map(columns));
    return;
  }
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    await trx
      .insertInto('port_rollups')
      .values(rows.slice(i, i + INSERT_CHUNK).map(columns))
      .onConflict((oc) => oc.columns(['minute_us', 'protocol', 'port']).doUpdateSet(addedTo('port_rollups')))
      .execute();
  }
}

/** Adds `totals` to the hour or day totals of `period`: negative ones take away. */
async function addPeriodTotals(
  trx: Kysely<Database>,
  { table, time }: (typeof PERIODS)[number],
  totals: readonly PeriodTotalsRow[],
  /** PostgreSQL takes the rows as arrays (bulk-insert.ts); absent, VALUES, which both dialects take. */
  dialect?: DialectName,
): Promise<void> {
  if (dialect === 'postgres') {
    const rows = totals.map((t) => ({
      host: t.host,
      [time]: t.periodUs,
      packets: t.packets,
      bytes: t.bytes,
      flows: t.flows,
    }));
    await insertUnnest(trx, BULK_PERIODS[table], rows);
    return;
  }
  for (let i = 0; i < totals.length; i += INSERT_CHUNK) {
    await trx
      .insertInto(table)
      .values(
        totals.slice(i, i + INSERT_CHUNK).map((t) => ({
          host: t.host,
          [time]: t.periodUs,
          packets: t.packets,
          bytes: t.bytes,
          flows: t.flows,
        })),
      )
      .onConflict((oc) => oc.columns(['host', time]).doUpdateSet(addedTo(table)))
      .execute();
  }
}

/** Rows retention deleted from each table. */
export interface DeletedRollups {
  minutes: number;
  hours: number;
  days: number;
  /** Rows of port_rollups. */
  ports: number;
}

/**
 * Deletes the rollups (host and port) of every minute before `keepFromUs` (a minute's start) and
 * the hour and day totals of the periods wholly before it. Of the hour and the day `keepFromUs`
 * falls inside, what is deleted is taken out of their totals (and a host left with nothing there
 * loses its row), so they stay the sums of the minutes kept. Run it in a transaction: a reader
 * between the steps would see the totals without the minutes they still count.
 */
export async function deleteRollupsBefore(
  trx: Kysely<Database>,
  keepFromUs: number,
): Promise<DeletedRollups> {
  const deleted: DeletedRollups = { minutes: 0, hours: 0, days: 0, ports: 0 };
  // The day first: its share is read from the hour rows that the hour's own step then deletes.
  for (const period of [...PERIODS].reverse()) {
    const { unitUs, table, time } = period;
    const periodUs = Math.floor(keepFromUs / unitUs) * unitUs;
    const finer = PERIODS.filter((p) => p.unitUs < unitUs).map((p) => p.unitUs);
    const going = rollupRowsOf(trx, unitSpansOf(splitRange(periodUs, keepFromUs, finer)));
    if (going !== null) {
      const sums = await trx
        .selectFrom(going.as('going'))
        .select(['host', ...summedTotals()])
        .groupBy('host')
        .execute();
      // Taken away through the inserts' own upsert, as negative totals.
      await addPeriodTotals(
        trx,
        period,
        sums.map((r) => ({ periodUs, host: r.host, packets: -r.packets, bytes: -r.bytes, flows: -r.flows })),
      );
    }
    // Every minute row counts a packet, a byte or a flow, so all three at 0 means no minute left.
    const start = sql.ref<number>(time);
    const emptied = await trx
      .deleteFrom(table)
      .where(start, '=', periodUs)
      .where('packets', '=', 0)
      .where('bytes', '=', 0)
      .where('flows', '=', 0)
      .executeTakeFirst();
    const expired = await trx.deleteFrom(table).where(start, '<', periodUs).executeTakeFirst();
    deleted[unitUs === DAY_US ? 'days' : 'hours'] =
      Number(emptied.numDeletedRows) + Number(expired.numDeletedRows);
  }
  const minutes = await trx.deleteFrom('flow_rollups').where('minute_us', '<', keepFromUs).executeTakeFirst();
  deleted.minutes = Number(minutes.numDeletedRows);
  const ports = await trx.deleteFrom('port_rollups').where('minute_us', '<', keepFromUs).executeTakeFirst();
  deleted.ports = Number(ports.numDeletedRows);
  return deleted;
}
