/**
 * Flows in the database: batched inserts that keep the rollups (per minute, hour and day) in step
 * in the same transaction, the filtered and paged flow list of the API, and the traffic and
 * top-talker figures of the dashboard (read from the rollups: a chart of hours or days reads the
 * hour or day totals, and the top talkers read only the hosts that can make the top). Every
 * filter value reaches the database as a query parameter, never as SQL text.
 */

import type { Kysely } from 'kysely';
import type { FlowRecord } from '../flows/flow-record.js';
import { ErrorCode, FlowTrackError } from '../util/errors.js';
import { ALL_HOSTS, DAY_US, HOUR_US, MINUTE_US, rollUpFlows, splitRange } from './flow-rollup.js';
import { checkInteger, readPageRequest, toPage, type Page, type PageRequest } from './page.js';
import { addRollups, rollupRowsOf, summedTotals, unitSpansOf } from './rollup-tables.js';
import type { Database, FlowsTable } from './schema.js';
import { topTalkersIn } from './top-talkers.js';

/** A flow as the store takes it. `src` is the client (the side that sent the first packet). */
export interface FlowRow {
  firstSeenUs: number;
  lastSeenUs: number;
  ipVersion: number;
  protocol: string;
  srcAddr: string;
  dstAddr: string;
  srcPort: number;
  dstPort: number;
  packetsToServer: number;
  bytesToServer: number;
  packetsToClient: number;
  bytesToClient: number;
  tcpFlagsToServer: string;
  tcpFlagsToClient: string;
  state: string;
  endReason: string;
}

/** A flow as the store gives it back. */
export interface StoredFlow extends FlowRow {
  id: number;
}

/** Which flows to list; every field is optional and they combine with AND. */
export interface FlowFilter extends PageRequest {
  /** Flows still active at or after this time (last packet >= fromUs). */
  fromUs?: number;
  /** Flows that had begun by this time (first packet <= toUs). */
  toUs?: number;
  /** Either side's address, exactly as stored (e.g. "192.0.2.1", "2001:db8::1"). */
  address?: string;
  /** Either side's port. */
  port?: number;
  protocol?: string;
  state?: string;
  /** Bytes in both directions together, at least. */
  minBytes?: number;
}

export interface TrafficBucket {
  startUs: number;
  packets: number;
  bytes: number;
  flows: number;
  packetsPerSecond: number;
  bytesPerSecond: number;
}

export interface Talker {
  host: string;
  packets: number;
  bytes: number;
  flows: number;
}

/** Flows per INSERT statement: well under SQLite's 32766 and pg's 65535 parameters. */
const INSERT_CHUNK = 500;
/** Buckets one traffic query may return: a chart has no use for more points than pixels. */
export const MAX_TRAFFIC_BUCKETS = 10_000;
/** Rows a top-talkers query may return. */
export const MAX_TALKERS = 1000;

/** The store's row for a flow the flow table ended. */
export function flowRowOf(record: FlowRecord): FlowRow {
  return {
    firstSeenUs: record.firstSeen,
    lastSeenUs: record.lastSeen,
    ipVersion: record.ipVersion,
    protocol: record.protocol,
    srcAddr: record.clientAddress,
    dstAddr: record.serverAddress,
    srcPort: record.clientPort,
    dstPort: record.serverPort,
    packetsToServer: record.packetsToServer,
    bytesToServer: record.bytesToServer,
    packetsToClient: record.packetsToClient,
    bytesToClient: record.bytesToClient,
    tcpFlagsToServer: record.tcpFlagsClient,
    tcpFlagsToClient: record.tcpFlagsServer,
    state: record.state,
    endReason: record.endReason,
  };
}

/** One side of a flow matched by an equality: a column and its value. */
type Side = ['src_addr' | 'dst_addr', string] | ['src_port' | 'dst_port', number];

export class FlowRepository {
  /** `db` may be a transaction: then the inserts join it instead of opening their own. */
  constructor(private readonly db: Kysely<Database>) {}

  /** Inserts `rows` and adds them to the rollups, all in one transaction. */
  async insertFlows(rows: readonly FlowRow[]): Promise<void> {
    if (rows.length === 0) return;
    if (this.db.isTransaction) {
      await insertFlowsIn(this.db, rows);
    } else {
      await this.db.transaction().execute((trx) => insertFlowsIn(trx, rows));
    }
  }

  /**
   * Flows matching `filter`, newest (by last packet) first. An address or a port matches either
   * side: the query then reads each side's index in time order (a UNION ALL of two ordered,
   * limited halves) instead of sorting every flow of a busy host.
   */
  async queryFlows(filter: FlowFilter = {}): Promise<Page<StoredFlow>> {
    const { limit, offset, after } = readPageRequest(filter);
    const port = filter.port === undefined ? undefined : checkInteger('port', filter.port, 0, 65535);
    const address = filter.address;
    // The half of the OR that goes through an index: the address if given, else the port.
    const split: [Side, Side] | null =
      address !== undefined
        ? [
            ['src_addr', address],
            ['dst_addr', address],
          ]
        : port !== undefined
          ? [
              ['src_port', port],
              ['dst_port', port],
            ]
          : null;
    const matching = (side: Side | null, excluded: Side | null) => {
      let query = this.db.selectFrom('flows').selectAll();
      if (side) query = query.where(side[0], '=', side[1]);
      // A flow whose both sides match is taken by the first half only.
      if (excluded) query = query.where(excluded[0], '<>', excluded[1]);
      if (filter.fromUs !== undefined)
        query = query.where('last_seen_us', '>=', checkInteger('fromUs', filter.fromUs, 0));
      if (filter.toUs !== undefined)
        query = query.where('first_seen_us', '<=', checkInteger('toUs', filter.toUs, 0));
      if (address !== undefined && split?.[0]?.[0] !== 'src_addr') {
        query = query.where((eb) => eb.or([eb('src_addr', '=', address), eb('dst_addr', '=', address)]));
      }
      if (port !== undefined && split?.[0]?.[0] !== 'src_port') {
        query = query.where((eb) => eb.or([eb('src_port', '=', port), eb('dst_port', '=', port)]));
      }
      if (filter.protocol !== undefined) query = query.where('protocol', '=', filter.protocol);
      if (filter.state !== undefined) query = query.where('state', '=', filter.state);
      if (filter.minBytes !== undefined) {
        const minBytes = checkInteger('minBytes', filter.minBytes, 0);
        query = query.where((eb) =>
          eb(eb.parens('bytes_to_server', '+', eb.ref('bytes_to_client')), '>=', minBytes),
        );
      }
      if (after) {
        const [lastSeen, id] = after;
        if (typeof id !== 'number') throw badCursor();
        // The bound alone first: it lets the index start at the cursor instead of the newest flow.
        query = query
          .where('last_seen_us', '<=', lastSeen)
          .where((eb) =>
            eb.or([
              eb('last_seen_us', '<', lastSeen),
              eb.and([eb('last_seen_us', '=', lastSeen), eb('id', '<', id)]),
            ]),
          );
      }
      return query;
    };
    const wanted = limit + 1 + offset;
    const rows = split
      ? await this.db
          .selectFrom((eb) =>
            eb
              .selectFrom(
                matching(split[0], null)
                  .orderBy('last_seen_us', 'desc')
                  .orderBy('id', 'desc')
                  .limit(wanted)
                  .as('a'),
              )
              .selectAll()
              .unionAll(
                eb
                  .selectFrom(
                    matching(split[1], split[0])
                      .orderBy('last_seen_us', 'desc')
                      .orderBy('id', 'desc')
                      .limit(wanted)
                      .as('b'),
                  )
                  .selectAll(),
              )
              .as('either'),
          )
          .selectAll()
          .orderBy('last_seen_us', 'desc')
          .orderBy('id', 'desc')
          .limit(limit + 1)
          .offset(offset)
          .execute()
      : await matching(null, null)
          .orderBy('last_seen_us', 'desc')
          .orderBy('id', 'desc')
          .limit(limit + 1)
          .offset(offset)
          .execute();
    return toPage(rows, limit, (row) => [row.last_seen_us, row.id], storedFlowOf);
  }

  /**
   * Packets, bytes and flows per bucket of `bucketSeconds` (a whole number of minutes) from
   * `fromUs` (rounded down to its minute) up to `toUs`, every bucket present, zeros included.
   * All hosts by default; `host` narrows it to the traffic one address sent or received.
   */
  async traffic(
    fromUs: number,
    toUs: number,
    bucketSeconds: number,
    options: { host?: string; protocol?: string } = {},
  ): Promise<TrafficBucket[]> {
    const { start, end } = checkRange(fromUs, toUs);
    if (!Number.isSafeInteger(bucketSeconds) || bucketSeconds < 60 || bucketSeconds % 60 !== 0) {
      throw new FlowTrackError(
        ErrorCode.BAD_REQUEST,
        `bucketSeconds must be a whole number of minutes (60, 120, ...), not ${String(bucketSeconds)}: the store keeps traffic per minute`,
      );
    }
    const bucketUs = bucketSeconds * 1_000_000;
    const count = Math.ceil((end - start) / bucketUs);
    if (count > MAX_TRAFFIC_BUCKETS) {
      throw new FlowTrackError(
        ErrorCode.BAD_REQUEST,
        `${count} buckets asked for, at most ${MAX_TRAFFIC_BUCKETS}: choose larger buckets or a shorter range`,
      );
    }
    // Hour or day totals where the buckets are made of whole hours or days (they hold every
    // protocol together, so not for one protocol); minutes for the rest of the range.
    const units = [DAY_US, HOUR_US].filter(
      (unit) => options.protocol === undefined && start % unit === 0 && bucketUs % unit === 0,
    );
    const host = options.host ?? ALL_HOSTS;
    const parts = rollupRowsOf(
      this.db,
      unitSpansOf(splitRange(start, Math.ceil(end / MINUTE_US) * MINUTE_US, units)),
      (rows, unitUs) =>
        rows
          .where('host', '=', host)
          .$if(unitUs === MINUTE_US && options.protocol !== undefined, (q) =>
            q.where('protocol', '=', options.protocol ?? ''),
          ),
    );
    const rows =
      parts === null
        ? []
        : await this.db
            .selectFrom(parts.as('part'))
            .select((eb) => [
              // Both operands cast: better-sqlite3 binds JS numbers as REAL, and a REAL division
              // would put a minute into the wrong bucket's neighbour after rounding.
              eb
                .cast<number>(
                  // Kysely does not bracket nested operators by itself: parens() does.
                  eb(
                    eb.parens('at_us', '-', eb.cast<number>(eb.val(start), 'bigint')),
                    '/',
                    eb.cast<number>(eb.val(bucketUs), 'bigint'),
                  ),
                  'bigint',
                )
                .as('bucket'),
              ...summedTotals(),
            ])
            .groupBy('bucket')
            .execute();
    const buckets: TrafficBucket[] = [];
    for (let i = 0; i < count; i++) {
      buckets.push({
        startUs: start + i * bucketUs,
        packets: 0,
        bytes: 0,
        flows: 0,
        packetsPerSecond: 0,
        bytesPerSecond: 0,
      });
    }
    for (const row of rows) {
      const bucket = buckets[row.bucket];
      if (!bucket) continue;
      bucket.packets = row.packets;
      bucket.bytes = row.bytes;
      bucket.flows = row.flows;
      bucket.packetsPerSecond = row.packets / bucketSeconds;
      bucket.bytesPerSecond = row.bytes / bucketSeconds;
    }
    return buckets;
  }

  /**
   * The `n` hosts that sent and received the most bytes (or packets) from `fromUs` to `toUs`, ties
   * by host: exactly what grouping the range's minute rollups by host gives (see top-talkers.ts).
   */
  async topTalkers(
    fromUs: number,
    toUs: number,
    n: number,
    by: 'bytes' | 'packets' = 'bytes',
  ): Promise<Talker[]> {
    const { start, end } = checkRange(fromUs, toUs);
    const limit = checkInteger('n', n, 1, MAX_TALKERS);
    // The minutes that start before `end`, as the series counts them.
    const measure = by === 'packets' ? 'packets' : 'bytes';
    return topTalkersIn(this.db, start, Math.ceil(end / MINUTE_US) * MINUTE_US, limit, measure);
  }
}

async function insertFlowsIn(trx: Kysely<Database>, rows: readonly FlowRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    await trx
      .insertInto('flows')
      .values(rows.slice(i, i + INSERT_CHUNK).map(flowColumnsOf))
      .execute();
  }
  await addRollups(trx, rollUpFlows(rows));
}

/** The checked time range, its start rounded down to the minute as the rollups are. */
function checkRange(fromUs: number, toUs: number): { start: number; end: number } {
  checkInteger('fromUs', fromUs, 0);
  checkInteger('toUs', toUs, 0);
  if (toUs <= fromUs) {
    throw new FlowTrackError(ErrorCode.BAD_REQUEST, `toUs (${toUs}) must be after fromUs (${fromUs})`);
  }
  return { start: Math.floor(fromUs / MINUTE_US) * MINUTE_US, end: toUs };
}

function badCursor(): FlowTrackError {
  return new FlowTrackError(
    ErrorCode.BAD_REQUEST,
    'the page cursor is not one of the flow list: start again from the first page',
  );
}

/** The `flows` table's columns for `row` (as every schema version so far has them). */
export function flowColumnsOf(row: FlowRow): Omit<FlowsTable, 'id'> {
  return {
    first_seen_us: row.firstSeenUs,
    last_seen_us: row.lastSeenUs,
    ip_version: row.ipVersion,
    protocol: row.protocol,
    src_addr: row.srcAddr,
    dst_addr: row.dstAddr,
    src_port: row.srcPort,
    dst_port: row.dstPort,
    packets_to_server: row.packetsToServer,
    bytes_to_server: row.bytesToServer,
    packets_to_client: row.packetsToClient,
    bytes_to_client: row.bytesToClient,
    tcp_flags_to_server: row.tcpFlagsToServer,
    tcp_flags_to_client: row.tcpFlagsToClient,
    state: row.state,
    end_reason: row.endReason,
  };
}

function storedFlowOf(row: { id: number } & Omit<FlowsTable, 'id'>): StoredFlow {
  return {
    id: row.id,
    firstSeenUs: row.first_seen_us,
    lastSeenUs: row.last_seen_us,
    ipVersion: row.ip_version,
    protocol: row.protocol,
    srcAddr: row.src_addr,
    dstAddr: row.dst_addr,
    srcPort: row.src_port,
    dstPort: row.dst_port,
    packetsToServer: row.packets_to_server,
    bytesToServer: row.bytes_to_server,
    packetsToClient: row.packets_to_client,
    bytesToClient: row.bytes_to_client,
    tcpFlagsToServer: row.tcp_flags_to_server,
    tcpFlagsToClient: row.tcp_flags_to_client,
    state: row.state,
    endReason: row.end_reason,
  };
}
