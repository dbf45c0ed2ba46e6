/**
 * Flows in the database: batched inserts that keep the rollups (per minute, hour and day; per
 * minute and port) in step in the same transaction, the filtered, sorted and paged flow list of
 * the API, the traffic, top-talker and top-port figures of the dashboard (read from the rollups: a
 * chart of hours or days reads the hour or day totals, the top talkers read only the hosts that
 * can make the top, the top ports group the port rollups of the range), and what
 * the rollups cannot tell because they do not keep pairs: a host's peers and ports, and who talks
 * to whom. Every filter value reaches the database as a query parameter, never as SQL text; a
 * sort is a name from a fixed list, each with its own SQL written here.
 */

import { sql, type ExpressionBuilder, type Kysely, type RawBuilder, type Selectable } from 'kysely';
import type { FlowRecord } from '../flows/flow-record.js';
import { ErrorCode, FlowTrackError } from '../util/errors.js';
import {
  ALL_HOSTS,
  DAY_US,
  HOUR_US,
  MINUTE_US,
  rollUpFlows,
  rollUpPorts,
  splitRange,
} from './flow-rollup.js';
import { insertUnnest, type BulkTable } from './bulk-insert.js';
import { checkInteger, readPageRequest, type Page, type PageRequest } from './page.js';
import { addPortRollups, addRollups, rollupRowsOf, summedTotals, unitSpansOf } from './rollup-tables.js';
import type { Database, FlowsTable } from './schema.js';
import type { DialectName } from './store-dialect.js';
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
  /** The process on this host behind the flow, when the system monitor saw its socket. */
  process?: FlowProcess | null;
  /** The sensor or exporter the flow came from; absent or null for this host's own capture. */
  sensor?: string | null;
}

/** Which process on this host made or accepted a flow: "curl, pid 4242, user alice". */
export interface FlowProcess {
  pid: number;
  name: string;
  user: string;
}

/** A flow as the store gives it back. */
export interface StoredFlow extends FlowRow {
  id: number;
}

/** The name that filters this host's own flows and alerts (a sensor cannot take it). */
export const LOCAL_SENSOR = 'local';

/** What the flow list can be sorted by (the API's `sort`): a fixed list, each with its SQL below. */
export const FLOW_SORTS = ['time', 'bytes', 'packets', 'duration'] as const;
export type FlowSort = (typeof FLOW_SORTS)[number];
export const SORT_ORDERS = ['desc', 'asc'] as const;
export type SortOrder = (typeof SORT_ORDERS)[number];

/** Which flows to match; every field is optional and they combine with AND. */
export interface FlowMatch {
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
  /** The sensor or exporter the flows came from; LOCAL_SENSOR for this host's own capture. */
  sensor?: string;
  /** Bytes in both directions together, at least. */
  minBytes?: number;
}

/** Which flows to list, in which order, and which page of them. */
export interface FlowFilter extends FlowMatch, PageRequest {
  /**
   * time: by the last packet (the default); bytes and packets: both directions together;
   * duration: last packet minus first. Ties in any sort go by id, in the same direction.
   */
  sort?: FlowSort;
  /** desc (the default): newest, largest, longest first. */
  order?: SortOrder;
}

/** A host of the talk graph: what it sent and received in the matching flows. */
export interface GraphNode {
  address: string;
  bytes: number;
  packets: number;
  flows: number;
}

/** Two hosts of the graph that talked, whoever began: `a` and `b` in the database's text order. */
export interface GraphEdge {
  a: string;
  b: string;
  bytes: number;
  packets: number;
  flows: number;
}

export interface FlowGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** Which flows the graph is drawn from, and how large it may be. */
export interface FlowGraphFilter extends Omit<FlowMatch, 'fromUs' | 'toUs'> {
  fromUs: number;
  toUs: number;
  /** Hosts, the largest by bytes (1 to MAX_GRAPH_HOSTS; default 25). */
  hosts?: number;
  /** Edges between them, the largest by bytes (1 to MAX_GRAPH_EDGES; default 100). */
  edges?: number;
}

/** A peer of one host: what the host sent it and received from it. */
export interface HostPeer {
  address: string;
  bytesSent: number;
  bytesReceived: number;
  bytes: number;
  packets: number;
  flows: number;
}

/** A port of one host's flows (its own side's, or the peers'). */
export interface HostPort {
  protocol: string;
  port: number;
  bytes: number;
  flows: number;
}

/** One host's flows over a time range, summed: all of them, per peer and per port. */
export interface HostSummary {
  totals: { bytesSent: number; bytesReceived: number; packets: number; flows: number };
  /** The largest by bytes, ties by address. */
  peers: HostPeer[];
  /** The host's own ports (a server's services, a client's source ports), largest first. */
  localPorts: HostPort[];
  /** The peers' ports (the services a client used, a server's clients' ports), largest first. */
  remotePorts: HostPort[];
  /**
   * The processes on FlowTrack's own host behind the host's flows (for this host: its own
   * programs; for another: the local programs that talked to it), largest first.
   */
  processes: (FlowProcess & { bytes: number; flows: number })[];
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

/** A TCP or UDP service port's totals over a range: the flows that ended in it with it as server port. */
export interface PortTotals {
  protocol: string;
  port: number;
  packets: number;
  bytes: number;
  flows: number;
}

/** What the top ports can be ranked by. */
export const PORT_MEASURES = ['bytes', 'packets', 'flows'] as const;
export type PortMeasure = (typeof PORT_MEASURES)[number];

/** Flows per INSERT statement: well under SQLite's 32766 and pg's 65535 parameters. */
const INSERT_CHUNK = 500;
/** Buckets one traffic query may return: a chart has no use for more points than pixels. */
export const MAX_TRAFFIC_BUCKETS = 10_000;
/** Rows a top-talkers query may return. */
export const MAX_TALKERS = 1000;
/** Rows a top-ports query may return. */
export const MAX_TOP_PORTS = 1000;
/** Hosts a talk graph may have: more is not readable as a drawing. */
export const MAX_GRAPH_HOSTS = 100;
/** Edges a talk graph may have. */
export const MAX_GRAPH_EDGES = 200;
/** The longest time range a talk graph or a host summary may cover: each reads flows, not rollups. */
export const MAX_GRAPH_RANGE_US = 7 * DAY_US;
/**
 * The longest range of a graph whose hosts are grouped from the flows with no address to narrow
 * them (a port, protocol, state or size filter): it reads every flow of the range, 0.5 s a day
 * of a million flows a week in SQLite (a week took 5.2 s).
 */
export const MAX_GRAPH_SCAN_RANGE_US = DAY_US;
/** Peers, and ports of each side, a host summary may list. */
export const MAX_HOST_TOP = 100;
/** Protocols whose flows have ports; the others (icmp, gre, ...) store 0 for both. */
const PORT_PROTOCOLS = ['tcp', 'udp', 'sctp'];

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

type FlowsRow = Selectable<FlowsTable>;

const selectFlows = (db: Kysely<Database>) => db.selectFrom('flows');
/** A query of `flows` before its select list, for the matching conditions to be added to. */
type FlowsQuery = ReturnType<typeof selectFlows>;

/** Bytes and packets of a flow in both directions; unqualified, so they read a derived table too. */
const FLOW_BYTES = sql<number>`(${sql.ref('bytes_to_server')} + ${sql.ref('bytes_to_client')})`;
const FLOW_PACKETS = sql<number>`(${sql.ref('packets_to_server')} + ${sql.ref('packets_to_client')})`;

/**
 * Each sort's key: as SQL over the columns of `flows` (unqualified, so it orders the UNION ALL of
 * two halves as it orders each half) and from a row as the database gave it, for the cursor. The
 * time sort is the bare column, which the time indexes give in order; the others have no index
 * (measured in the flow-query suite's header: a filter's index narrows the rows, then a top-N sort).
 */
const SORT_KEYS: Record<FlowSort, { sql: RawBuilder<number>; of: (row: FlowsRow) => number }> = {
  time: { sql: sql<number>`${sql.ref('last_seen_us')}`, of: (row) => row.last_seen_us },
  bytes: { sql: FLOW_BYTES, of: (row) => row.bytes_to_server + row.bytes_to_client },
  packets: { sql: FLOW_PACKETS, of: (row) => row.packets_to_server + row.packets_to_client },
  duration: {
    sql: sql<number>`(${sql.ref('last_seen_us')} - ${sql.ref('first_seen_us')})`,
    of: (row) => row.last_seen_us - row.first_seen_us,
  },
};

export class FlowRepository {
  /**
   * `db` may be a transaction: then the inserts join it instead of opening their own. `dialect`
   * picks how rows are inserted (PostgreSQL: as arrays, bulk-insert.ts).
   */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: DialectName,
  ) {}

  /** Inserts `rows` and adds them to the rollups, all in one transaction. */
  async insertFlows(rows: readonly FlowRow[]): Promise<void> {
    if (rows.length === 0) return;
    if (this.db.isTransaction) {
      await insertFlowsIn(this.db, rows, this.dialect);
    } else {
      await this.db.transaction().execute((trx) => insertFlowsIn(trx, rows, this.dialect));
    }
  }

  /**
   * Flows matching `filter`, newest (by last packet) first unless `sort` and `order` say
   * otherwise, a page at a time. The cursor is keyset: the sort key and the id of the page's last
   * flow, with the sort it belongs to, so a page costs the same wherever it is and a flow
   * inserted meanwhile neither repeats nor hides one. An address or a port matches either side:
   * the query then reads each side's index (a UNION ALL of two ordered, limited halves) instead
   * of sorting every flow of a busy host.
   */
  async queryFlows(filter: FlowFilter = {}): Promise<Page<StoredFlow>> {
    const sort = filter.sort ?? 'time';
    const order = filter.order ?? 'desc';
    // The API's schema checks these too; the store is also called from elsewhere.
    if (!FLOW_SORTS.includes(sort) || !SORT_ORDERS.includes(order)) {
      throw new FlowTrackError(
        ErrorCode.BAD_REQUEST,
        `flows are sorted by ${FLOW_SORTS.join(', ')}, in order desc or asc; not by ${sort} ${order}`,
      );
    }
    const { limit, offset } = readPageRequest({ limit: filter.limit, offset: filter.offset });
    const cursor = filter.cursor ?? null;
    if (cursor !== null && offset > 0) {
      throw new FlowTrackError(ErrorCode.BAD_REQUEST, 'give either a cursor or an offset, not both');
    }
    const after = cursor === null ? null : decodeFlowCursor(cursor, sort, order);
    const key = SORT_KEYS[sort].sql;
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
      let query = whereMatching(selectFlows(this.db), filter, split === null ? null : side);
      // A flow whose both sides match is taken by the first half only.
      if (excluded) query = query.where(excluded[0], '<>', excluded[1]);
      if (after) {
        const [lastKey, id] = after;
        const beyond = order === 'desc' ? '<' : '>';
        // The bound alone first: it lets an index start at the cursor instead of the first flow.
        query = query
          .where(key, order === 'desc' ? '<=' : '>=', lastKey)
          .where((eb) =>
            eb.or([eb(key, beyond, lastKey), eb.and([eb(key, '=', lastKey), eb('id', beyond, id)])]),
          );
      }
      return query.selectAll();
    };
    const wanted = limit + 1 + offset;
    const rows = split
      ? await this.db
          .selectFrom((eb) =>
            eb
              .selectFrom(
                matching(split[0], null).orderBy(key, order).orderBy('id', order).limit(wanted).as('a'),
              )
              .selectAll()
              .unionAll(
                eb
                  .selectFrom(
                    matching(split[1], split[0])
                      .orderBy(key, order)
                      .orderBy('id', order)
                      .limit(wanted)
                      .as('b'),
                  )
                  .selectAll(),
              )
              .as('either'),
          )
          .selectAll()
          .orderBy(key, order)
          .orderBy('id', order)
          .limit(limit + 1)
          .offset(offset)
          .execute()
      : await matching(null, null)
          .orderBy(key, order)
          .orderBy('id', order)
          .limit(limit + 1)
          .offset(offset)
          .execute();
    const kept = rows.slice(0, limit);
    const last = kept.at(-1);
    return {
      items: kept.map(storedFlowOf),
      nextCursor:
        rows.length > limit && last !== undefined
          ? encodeFlowCursor(sort, order, SORT_KEYS[sort].of(last), last.id)
          : null,
    };
  }

  /** One flow by id, or null (retention may have deleted it). */
  async findById(id: number): Promise<StoredFlow | null> {
    const row = await this.db.selectFrom('flows').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? storedFlowOf(row) : null;
  }

  /**
   * Who talks to whom in the flows matching `filter` (flows active in its time range): the
   * `hosts` hosts with the most bytes sent and received, and the `edges` largest pairs among
   * them, summed over both directions, in one read snapshot. When only the time narrows the
   * flows, the hosts are the top talkers of the rollups (store/top-talkers.ts: milliseconds for a
   * week, where grouping a week of flows by host took 6.7 s on a million flows in SQLite), so a
   * node's bytes are its traffic in the range as /api/traffic counts it; with any other filter
   * they are the matching flows' bytes, grouped from the flows (the filter narrows them: an
   * address through its indexes). The edges are always read from the flows, through the hosts'
   * source-address index. Either way the cost grows with the range, hence MAX_GRAPH_RANGE_US and
   * MAX_GRAPH_SCAN_RANGE_US (a BAD_REQUEST beyond them).
   */
  async flowGraph(filter: FlowGraphFilter): Promise<FlowGraph> {
    const { start, end } = checkRange(filter.fromUs, filter.toUs);
    const hostLimit = checkInteger('hosts', filter.hosts ?? 25, 1, MAX_GRAPH_HOSTS);
    const edgeLimit = checkInteger('edges', filter.edges ?? 100, 1, MAX_GRAPH_EDGES);
    const timeOnly =
      filter.address === undefined &&
      filter.port === undefined &&
      filter.protocol === undefined &&
      filter.state === undefined &&
      filter.sensor === undefined &&
      filter.minBytes === undefined;
    if (filter.toUs - filter.fromUs > MAX_GRAPH_RANGE_US) {
      throw new FlowTrackError(
        ErrorCode.BAD_REQUEST,
        `a talk graph covers at most ${spanText(MAX_GRAPH_RANGE_US)}: choose a shorter time range`,
      );
    }
    if (!timeOnly && filter.address === undefined && filter.toUs - filter.fromUs > MAX_GRAPH_SCAN_RANGE_US) {
      throw new FlowTrackError(
        ErrorCode.BAD_REQUEST,
        `a talk graph filtered by port, protocol, state, sensor or size covers at most ${spanText(MAX_GRAPH_SCAN_RANGE_US)} (it reads every flow of the range): choose a shorter time range or filter by an address`,
      );
    }
    return this.read(async (db) => {
      const matching = () => whereMatching(selectFlows(db), filter, null);
      const nodes = timeOnly
        ? (await topTalkersIn(db, start, Math.ceil(end / MINUTE_US) * MINUTE_US, hostLimit, 'bytes')).map(
            ({ host, ...totals }) => ({ address: host, ...totals }),
          )
        : await topHostsOfFlows(db, matching, hostLimit);
      if (nodes.length === 0) return { nodes: [], edges: [] };
      const addresses = nodes.map((n) => n.address);
      const src = sql.ref('src_addr');
      const dst = sql.ref('dst_addr');
      const a = sql<string>`case when ${src} < ${dst} then ${src} else ${dst} end`;
      const b = sql<string>`case when ${src} < ${dst} then ${dst} else ${src} end`;
      const edges = await matching()
        .where('src_addr', 'in', addresses)
        .where('dst_addr', 'in', addresses)
        .whereRef('src_addr', '<>', 'dst_addr')
        .select((eb) => [
          a.as('a'),
          b.as('b'),
          eb.cast<number>(eb.fn.sum<number>(FLOW_BYTES), 'bigint').as('bytes'),
          eb.cast<number>(eb.fn.sum<number>(FLOW_PACKETS), 'bigint').as('packets'),
          eb.fn.countAll<number>().as('flows'),
        ])
        .groupBy([a, b])
        .orderBy('bytes', 'desc')
        .orderBy('a')
        .orderBy('b')
        .limit(edgeLimit)
        .execute();
      return { nodes, edges };
    });
  }

  /**
   * What `address` sent and received in the flows active from `fromUs` to `toUs`: totals, and
   * the `top` largest peers, own ports and peers' ports (tcp, udp and sctp: the protocols with
   * ports). Read from the flows, through each side's address index, in one read snapshot; at most
   * MAX_GRAPH_RANGE_US, as each statement reads every flow of the host in the range.
   */
  async hostSummary(address: string, fromUs: number, toUs: number, top = 10): Promise<HostSummary> {
    checkRange(fromUs, toUs);
    const limit = checkInteger('top', top, 1, MAX_HOST_TOP);
    if (toUs - fromUs > MAX_GRAPH_RANGE_US) {
      throw new FlowTrackError(
        ErrorCode.BAD_REQUEST,
        `a host's summary covers at most ${spanText(MAX_GRAPH_RANGE_US)} (it reads each of the host's flows): choose a shorter time range`,
      );
    }
    return this.read(async (db) => {
      const inRange = (query: FlowsQuery) =>
        query.where('last_seen_us', '>=', fromUs).where('first_seen_us', '<=', toUs);
      // Each of the host's flows once, from the host's side: as the client, then as the server.
      const sides = inRange(selectFlows(db).where('src_addr', '=', address))
        .select((eb) => [
          eb.ref('dst_addr').as('peer'),
          'protocol',
          eb.ref('src_port').as('local_port'),
          eb.ref('dst_port').as('remote_port'),
          eb.ref('bytes_to_server').as('sent'),
          eb.ref('bytes_to_client').as('received'),
          FLOW_PACKETS.as('packets'),
          'process_pid',
          'process_name',
          'process_user',
        ])
        .unionAll(
          inRange(selectFlows(db).where('dst_addr', '=', address).where('src_addr', '<>', address)).select(
            (eb) => [
              eb.ref('src_addr').as('peer'),
              'protocol',
              eb.ref('dst_port').as('local_port'),
              eb.ref('src_port').as('remote_port'),
              eb.ref('bytes_to_client').as('sent'),
              eb.ref('bytes_to_server').as('received'),
              FLOW_PACKETS.as('packets'),
              'process_pid',
              'process_name',
              'process_user',
            ],
          ),
        );
      const fromSides = () => db.selectFrom(sides.as('side'));
      const total = sql<number>`(${sql.ref('sent')} + ${sql.ref('received')})`;
      const totals = await fromSides()
        .select((eb) => [
          eb.fn.coalesce(eb.cast<number>(eb.fn.sum<number>('sent'), 'bigint'), eb.lit(0)).as('bytesSent'),
          eb.fn
            .coalesce(eb.cast<number>(eb.fn.sum<number>('received'), 'bigint'), eb.lit(0))
            .as('bytesReceived'),
          eb.fn.coalesce(eb.cast<number>(eb.fn.sum<number>('packets'), 'bigint'), eb.lit(0)).as('packets'),
          eb.fn.countAll<number>().as('flows'),
        ])
        .executeTakeFirstOrThrow();
      const peers = await fromSides()
        .select((eb) => [
          'peer as address',
          eb.cast<number>(eb.fn.sum<number>('sent'), 'bigint').as('bytesSent'),
          eb.cast<number>(eb.fn.sum<number>('received'), 'bigint').as('bytesReceived'),
          eb.cast<number>(eb.fn.sum<number>(total), 'bigint').as('bytes'),
          eb.cast<number>(eb.fn.sum<number>('packets'), 'bigint').as('packets'),
          eb.fn.countAll<number>().as('flows'),
        ])
        .groupBy('peer')
        .orderBy('bytes', 'desc')
        .orderBy('peer')
        .limit(limit)
        .execute();
      const portsOf = (column: 'local_port' | 'remote_port') =>
        fromSides()
          .where('protocol', 'in', PORT_PROTOCOLS)
          .select((eb) => [
            'protocol',
            eb.ref(column).as('port'),
            eb.cast<number>(eb.fn.sum<number>(total), 'bigint').as('bytes'),
            eb.fn.countAll<number>().as('flows'),
          ])
          .groupBy(['protocol', column])
          .orderBy('bytes', 'desc')
          .orderBy('protocol')
          .orderBy(column)
          .limit(limit)
          .execute();
      const processes = await fromSides()
        .where('process_pid', 'is not', null)
        .select((eb) => [
          'process_pid',
          'process_name',
          'process_user',
          eb.cast<number>(eb.fn.sum<number>(total), 'bigint').as('bytes'),
          eb.fn.countAll<number>().as('flows'),
        ])
        .groupBy(['process_pid', 'process_name', 'process_user'])
        .orderBy('bytes', 'desc')
        .orderBy('process_pid')
        .limit(limit)
        .execute();
      return {
        totals,
        peers,
        localPorts: await portsOf('local_port'),
        remotePorts: await portsOf('remote_port'),
        processes: processes.map((p) => ({
          pid: p.process_pid ?? 0,
          name: p.process_name ?? '',
          user: p.process_user ?? '',
          bytes: p.bytes,
          flows: p.flows,
        })),
      };
    });
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
    const range = bucketRange(fromUs, toUs, bucketSeconds);
    const { start, end } = range;
    // Hour or day totals where the buckets are made of whole hours or days (they hold every
    // protocol together, so not for one protocol); minutes for the rest of the range.
    const units = [DAY_US, HOUR_US].filter(
      (unit) => options.protocol === undefined && start % unit === 0 && range.bucketUs % unit === 0,
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
            .select((eb) => [bucketOf(eb, start, range.bucketUs).as('bucket'), ...summedTotals()])
            .groupBy('bucket')
            .execute();
    return filledBuckets(range, rows);
  }

  /**
   * `traffic` split by protocol in one query of the minute rollups: a series (every bucket present)
   * for each protocol that has traffic in the range. Their sum is `traffic` for the same range.
   */
  async trafficByProtocol(
    fromUs: number,
    toUs: number,
    bucketSeconds: number,
    options: { host?: string } = {},
  ): Promise<Record<string, TrafficBucket[]>> {
    const range = bucketRange(fromUs, toUs, bucketSeconds);
    const rows = await this.db
      .selectFrom('flow_rollups')
      .select((eb) => [
        'protocol',
        bucketOf(eb, range.start, range.bucketUs, 'minute_us').as('bucket'),
        ...summedTotals(),
      ])
      .where('host', '=', options.host ?? ALL_HOSTS)
      .where('minute_us', '>=', range.start)
      .where('minute_us', '<', range.end)
      .groupBy(['protocol', 'bucket'])
      .execute();
    const byProtocol: Record<string, (typeof rows)[number][]> = {};
    for (const row of rows) (byProtocol[row.protocol] ??= []).push(row);
    return Object.fromEntries(
      Object.entries(byProtocol).map(([protocol, its]) => [protocol, filledBuckets(range, its)]),
    );
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

  /**
   * The `n` TCP and UDP service ports (the server's port of each flow) with the most `by` from
   * `fromUs` to `toUs`, largest first, ties by protocol and port: the flows whose last packet falls
   * in the minutes of the range (from `fromUs`'s minute to the minute `toUs` is in, as the series
   * counts them), each counted wholly there. One GROUP BY over the range's port rollups, whose cost
   * grows with the range (migration 0005's header has the figures: 21 ms for a day and 130 ms for
   * the week of the bench's 5-million-flow store in SQLite).
   */
  async topPorts(fromUs: number, toUs: number, n: number, by: PortMeasure = 'bytes'): Promise<PortTotals[]> {
    const { start, end } = checkRange(fromUs, toUs);
    const limit = checkInteger('n', n, 1, MAX_TOP_PORTS);
    // The API's schema checks it too; the store is also called from elsewhere.
    if (!PORT_MEASURES.includes(by)) {
      throw new FlowTrackError(
        ErrorCode.BAD_REQUEST,
        `top ports are ranked by ${PORT_MEASURES.join(', ')}, not by ${by}`,
      );
    }
    return this.db
      .selectFrom('port_rollups')
      .select(['protocol', 'port', ...summedTotals()])
      .where('minute_us', '>=', start)
      .where('minute_us', '<', Math.ceil(end / MINUTE_US) * MINUTE_US)
      .groupBy(['protocol', 'port'])
      .orderBy(by, 'desc')
      .orderBy('protocol')
      .orderBy('port')
      .limit(limit)
      .execute();
  }

  /** Runs `work` in one read-only snapshot (or in the caller's transaction), as topTalkers does. */
  private read<T>(work: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return work(this.db);
    return this.db
      .transaction()
      .setIsolationLevel('repeatable read')
      .setAccessMode('read only')
      .execute(work);
  }
}

/** The flows table as PostgreSQL's bulk insert writes it (bulk-insert.ts). */
const BULK_FLOWS: BulkTable<Omit<FlowsTable, 'id'>> = {
  table: 'flows',
  columns: [
    ['first_seen_us', 'bigint'],
    ['last_seen_us', 'bigint'],
    ['ip_version', 'integer'],
    ['protocol', 'text'],
    ['src_addr', 'text'],
    ['dst_addr', 'text'],
    ['src_port', 'integer'],
    ['dst_port', 'integer'],
    ['packets_to_server', 'bigint'],
    ['bytes_to_server', 'bigint'],
    ['packets_to_client', 'bigint'],
    ['bytes_to_client', 'bigint'],
    ['tcp_flags_to_server', 'text'],
    ['tcp_flags_to_client', 'text'],
    ['state', 'text'],
    ['end_reason', 'text'],
    ['process_pid', 'integer'],
    ['process_name', 'text'],
    ['process_user', 'text'],
    ['sensor', 'text'],
  ],
};

async function insertFlowsIn(
  trx: Kysely<Database>,
  rows: readonly FlowRow[],
  dialect: DialectName,
): Promise<void> {
  if (dialect === 'postgres') {
    await insertUnnest(trx, BULK_FLOWS, rows.map(flowColumnsOf));
  } else {
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      await trx
        .insertInto('flows')
        .values(rows.slice(i, i + INSERT_CHUNK).map(flowColumnsOf))
        .execute();
    }
  }
  await addRollups(trx, rollUpFlows(rows), dialect);
  await addPortRollups(trx, rollUpPorts(rows), dialect);
}

/** The `limit` hosts with the most bytes in the flows `matching` gives, either side counted. */
async function topHostsOfFlows(
  db: Kysely<Database>,
  matching: () => FlowsQuery,
  limit: number,
): Promise<GraphNode[]> {
  const ends = matching()
    .select((eb) => [eb.ref('src_addr').as('host'), FLOW_BYTES.as('bytes'), FLOW_PACKETS.as('packets')])
    .unionAll(
      matching()
        // A flow from a host to itself counts once.
        .whereRef('dst_addr', '<>', 'src_addr')
        .select((eb) => [eb.ref('dst_addr').as('host'), FLOW_BYTES.as('bytes'), FLOW_PACKETS.as('packets')]),
    );
  return db
    .selectFrom(ends.as('end'))
    .select((eb) => [
      'host as address',
      eb.cast<number>(eb.fn.sum<number>('bytes'), 'bigint').as('bytes'),
      eb.cast<number>(eb.fn.sum<number>('packets'), 'bigint').as('packets'),
      eb.fn.countAll<number>().as('flows'),
    ])
    .groupBy('host')
    .orderBy('bytes', 'desc')
    .orderBy('host')
    .limit(limit)
    .execute();
}

/** A span of whole days as a limit's message says it. */
function spanText(us: number): string {
  return us === DAY_US ? '24 hours' : `${us / DAY_US} days`;
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

/** A traffic query's buckets: `bucketSeconds` checked, the range from its first minute. */
interface BucketRange {
  start: number;
  end: number;
  bucketUs: number;
  bucketSeconds: number;
  count: number;
}

function bucketRange(fromUs: number, toUs: number, bucketSeconds: number): BucketRange {
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
  return { start, end, bucketUs, bucketSeconds, count };
}

/** The bucket a row's time (`at_us` or `minute_us`) falls in: (time - start) / bucketUs. */
function bucketOf<DB, TB extends keyof DB>(
  eb: ExpressionBuilder<DB, TB>,
  start: number,
  bucketUs: number,
  time: 'at_us' | 'minute_us' = 'at_us',
) {
  // Both operands cast: better-sqlite3 binds JS numbers as REAL, and a REAL division would put a
  // minute into the wrong bucket's neighbour after rounding. Kysely does not bracket nested
  // operators by itself: parens() does.
  return eb.cast<number>(
    eb(
      eb.parens(sql.ref<number>(time), '-', eb.cast<number>(eb.val(start), 'bigint')),
      '/',
      eb.cast<number>(eb.val(bucketUs), 'bigint'),
    ),
    'bigint',
  );
}

/** Every bucket of `range`, zeros where `rows` (bucket index and totals) has none. */
function filledBuckets(
  range: BucketRange,
  rows: readonly { bucket: number; packets: number; bytes: number; flows: number }[],
): TrafficBucket[] {
  const buckets: TrafficBucket[] = [];
  for (let i = 0; i < range.count; i++) {
    buckets.push({
      startUs: range.start + i * range.bucketUs,
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
    bucket.packetsPerSecond = row.packets / range.bucketSeconds;
    bucket.bytesPerSecond = row.bytes / range.bucketSeconds;
  }
  return buckets;
}

function badCursor(): FlowTrackError {
  return new FlowTrackError(
    ErrorCode.BAD_REQUEST,
    'the page cursor is not one of the flow list: start again from the first page',
  );
}

/**
 * The conditions of `match` on a query of `flows`. `split` is the side a UNION ALL half already
 * matches by equality (queryFlows): its either-side OR is then left out.
 */
function whereMatching(query: FlowsQuery, match: FlowMatch, split: Side | null): FlowsQuery {
  if (split) query = query.where(split[0], '=', split[1]);
  const splitOn =
    split === null ? null : split[0] === 'src_addr' || split[0] === 'dst_addr' ? 'address' : 'port';
  if (match.fromUs !== undefined)
    query = query.where('last_seen_us', '>=', checkInteger('fromUs', match.fromUs, 0));
  if (match.toUs !== undefined)
    query = query.where('first_seen_us', '<=', checkInteger('toUs', match.toUs, 0));
  const { address } = match;
  if (address !== undefined && splitOn !== 'address') {
    query = query.where((eb) => eb.or([eb('src_addr', '=', address), eb('dst_addr', '=', address)]));
  }
  if (match.port !== undefined && splitOn !== 'port') {
    const port = checkInteger('port', match.port, 0, 65535);
    query = query.where((eb) => eb.or([eb('src_port', '=', port), eb('dst_port', '=', port)]));
  }
  if (match.protocol !== undefined) query = query.where('protocol', '=', match.protocol);
  if (match.state !== undefined) query = query.where('state', '=', match.state);
  if (match.sensor !== undefined) {
    query =
      match.sensor === LOCAL_SENSOR
        ? query.where('sensor', 'is', null)
        : query.where('sensor', '=', match.sensor);
  }
  if (match.minBytes !== undefined) {
    query = query.where(FLOW_BYTES, '>=', checkInteger('minBytes', match.minBytes, 0));
  }
  return query;
}

/**
 * The cursor of the flow list: the last row's sort key and id, and the sort they belong to
 * (a key of one sort means nothing in another). Opaque to clients; data, never SQL.
 */
function encodeFlowCursor(sort: FlowSort, order: SortOrder, key: number, id: number): string {
  return Buffer.from(JSON.stringify([key, id, sort, order])).toString('base64url');
}

/**
 * The key and id of a cursor of the list sorted by `sort` and `order`. A two-element cursor is
 * one given out before the list had sorts: its key is the time, newest first.
 */
function decodeFlowCursor(cursor: string, sort: FlowSort, order: SortOrder): [number, number] {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badCursor();
  }
  if (!Array.isArray(decoded) || (decoded.length !== 2 && decoded.length !== 4)) throw badCursor();
  const [key, id, cursorSort = 'time', cursorOrder = 'desc'] = decoded as unknown[];
  if (
    typeof key !== 'number' ||
    !Number.isSafeInteger(key) ||
    typeof id !== 'number' ||
    !Number.isSafeInteger(id) ||
    !FLOW_SORTS.some((s) => s === cursorSort) ||
    !SORT_ORDERS.some((o) => o === cursorOrder)
  ) {
    throw badCursor();
  }
  if (cursorSort !== sort || cursorOrder !== order) {
    throw new FlowTrackError(
      ErrorCode.BAD_REQUEST,
      `the page cursor is of the flow list sorted by ${String(cursorSort)} ${String(cursorOrder)}, not by ${sort} ${order}: start again from the first page`,
    );
  }
  return [key, id];
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
    process_pid: row.process?.pid ?? null,
    process_name: row.process?.name ?? null,
    process_user: row.process?.user ?? null,
    sensor: row.sensor ?? null,
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
    // Only where one was seen, so a flow without reads as it was inserted.
    ...(row.process_pid !== null && {
      process: { pid: row.process_pid, name: row.process_name ?? '', user: row.process_user ?? '' },
    }),
    ...(row.sensor !== null && { sensor: row.sensor }),
  };
}
