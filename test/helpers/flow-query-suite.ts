/**
 * The flow list's sorts and keyset pages, the talk graph and the host summary, run against each
 * database by `runFlowQuerySuite('sqlite', make)` and `runFlowQuerySuite('postgres', make)` as
 * store-suite.ts runs the rest of the store. `make` returns a new, migrated, empty store; the
 * suite closes it. Every expectation is computed from the inserted rows in plain TypeScript.
 *
 * Why no index for the size sorts (measured on a million flows over a week, stored in the order
 * they end as the writer stores them): a page sorted by bytes, packets or duration over every
 * flow took 130-280 ms in SQLite (260-280 ms in PostgreSQL), over the last day 37-88 ms (66 ms),
 * of one host 3-8 ms (6-8 ms), of the last hour 2-4 ms. Three more indexes on every insert of
 * the busiest table would buy the first case only.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  FlowGraphFilter,
  FlowMatch,
  FlowRow,
  FlowSort,
  SortOrder,
  StoredFlow,
} from '../../src/store/flow-repository.js';
import { FLOW_SORTS, SORT_ORDERS } from '../../src/store/flow-repository.js';
import { MAX_PAGE_SIZE } from '../../src/store/page.js';
import type { Store } from '../../src/store/store.js';
import { BASE_US, flowRow, random, talkersByMinutes } from './store-suite.js';

const MINUTE_US = 60_000_000;
const HOUR_US = 3_600_000_000;
const DAY_US = 86_400_000_000;

const HOSTS = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '192.0.2.7', '198.51.100.9', '2001:db8::1', '2001:db8::2'];

/**
 * `count` flows over two hours from BASE_US, drawn from few values of each field so that every
 * sort has long runs of ties (the id must break them, in the sort's direction), a few flows of a
 * host to itself, and protocols with and without ports.
 */
function talkFlows(seed: number, count = 160): FlowRow[] {
  const rand = random(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(rand() * values.length)]!;
  const rows: FlowRow[] = [];
  for (let i = 0; i < count; i++) {
    const firstSeenUs = BASE_US + pick([0, 1, 2, 3, 4, 5, 6, 7]) * 15 * MINUTE_US;
    const srcAddr = pick(HOSTS);
    const self = rand() < 0.03;
    const dstAddr = self ? srcAddr : pick(HOSTS.filter((h) => h !== srcAddr));
    const protocol = pick(['tcp', 'tcp', 'udp', 'icmp']);
    const ported = protocol !== 'icmp';
    rows.push(
      flowRow({
        firstSeenUs,
        lastSeenUs: firstSeenUs + pick([0, 1, 30, 600]) * 1_000_000,
        ipVersion: srcAddr.includes(':') ? 6 : 4,
        protocol,
        srcAddr,
        dstAddr,
        srcPort: ported ? pick([40000, 40001, 53000]) : 0,
        dstPort: ported ? pick([22, 53, 443]) : 0,
        packetsToServer: pick([1, 2, 10]),
        packetsToClient: pick([0, 1, 10]),
        bytesToServer: pick([60, 600, 6000]),
        bytesToClient: pick([0, 600, 90_000]),
        state: pick(['established', 'closed-fin', 'rejected']),
      }),
    );
  }
  return rows;
}

const KEY: Record<FlowSort, (f: StoredFlow) => number> = {
  time: (f) => f.lastSeenUs,
  bytes: (f) => f.bytesToServer + f.bytesToClient,
  packets: (f) => f.packetsToServer + f.packetsToClient,
  duration: (f) => f.lastSeenUs - f.firstSeenUs,
};

/** What `match` selects, as the store documents it. */
function matches(f: StoredFlow | FlowRow, match: FlowMatch): boolean {
  return (
    (match.fromUs === undefined || f.lastSeenUs >= match.fromUs) &&
    (match.toUs === undefined || f.firstSeenUs <= match.toUs) &&
    (match.address === undefined || f.srcAddr === match.address || f.dstAddr === match.address) &&
    (match.port === undefined || f.srcPort === match.port || f.dstPort === match.port) &&
    (match.protocol === undefined || f.protocol === match.protocol) &&
    (match.state === undefined || f.state === match.state) &&
    (match.minBytes === undefined || f.bytesToServer + f.bytesToClient >= match.minBytes)
  );
}

/** The ids `filter` should list, in order: by the sort's key, ties by id, both in its direction. */
function expectedOrder(all: StoredFlow[], match: FlowMatch, sort: FlowSort, order: SortOrder): number[] {
  const sign = order === 'desc' ? -1 : 1;
  return all
    .filter((f) => matches(f, match))
    .sort((a, b) => sign * (KEY[sort](a) - KEY[sort](b) || a.id - b.id))
    .map((f) => f.id);
}

async function allFlows(store: Store): Promise<StoredFlow[]> {
  return (await store.flows.queryFlows({ limit: MAX_PAGE_SIZE })).items;
}

/** Every page of the list, following the cursors; fails on a page longer than `limit`. */
async function pageThrough(
  store: Store,
  filter: Parameters<Store['flows']['queryFlows']>[0],
  limit: number,
): Promise<{ ids: number[]; pages: number }> {
  const ids: number[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page = await store.flows.queryFlows({ ...filter, limit, cursor });
    expect(page.items.length).toBeLessThanOrEqual(limit);
    ids.push(...page.items.map((f) => f.id));
    cursor = page.nextCursor;
    pages++;
    if (pages > 1000) throw new Error('the cursors never end');
  } while (cursor !== null);
  return { ids, pages };
}

/** An undirected pair as a key that does not depend on which side the database put first. */
const pairKey = (a: string, b: string): string => (a < b ? `${a} ${b}` : `${b} ${a}`);

export function runFlowQuerySuite(label: string, make: () => Promise<Store>): void {
  describe(`flow queries: ${label}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await make();
    });
    afterEach(async () => {
      await store.close();
    });

    describe('sorted pages', () => {
      const filters: FlowMatch[] = [
        {},
        { address: '10.0.0.1' },
        { port: 443 },
        { protocol: 'tcp', fromUs: BASE_US + 30 * MINUTE_US, toUs: BASE_US + 80 * MINUTE_US },
        { state: 'established', minBytes: 600 },
        { address: '2001:db8::1', port: 53 },
      ];

      it('list every flow once, in the order of each sort and direction, ties by id, across pages', async () => {
        await store.flows.insertFlows(talkFlows(1));
        const all = await allFlows(store);
        expect(all).toHaveLength(160);
        for (const sort of FLOW_SORTS) {
          for (const order of SORT_ORDERS) {
            for (const match of filters) {
              const what = JSON.stringify({ sort, order, ...match });
              const expected = expectedOrder(all, match, sort, order);
              expect(expected.length, what).toBeGreaterThan(3);
              const { ids, pages } = await pageThrough(store, { ...match, sort, order }, 7);
              expect(ids, what).toEqual(expected);
              expect(pages, what).toBe(Math.max(1, Math.ceil(expected.length / 7)));
              // One page of all, and an offset page, agree with the cursor pages.
              const whole = await store.flows.queryFlows({ ...match, sort, order, limit: MAX_PAGE_SIZE });
              expect(
                whole.items.map((f) => f.id),
                what,
              ).toEqual(expected);
              expect(whole.nextCursor, what).toBeNull();
              const third = await store.flows.queryFlows({ ...match, sort, order, limit: 3, offset: 3 });
              expect(
                third.items.map((f) => f.id),
                what,
              ).toEqual(expected.slice(3, 6));
            }
          }
        }
      });

      it('neither repeat nor skip a flow when flows are stored between two pages', async () => {
        await store.flows.insertFlows(talkFlows(2, 60));
        for (const sort of FLOW_SORTS) {
          for (const order of SORT_ORDERS) {
            const what = `${sort} ${order}`;
            const before = (await allFlows(store)).map((f) => f.id);
            const first = await store.flows.queryFlows({ sort, order, limit: 10 });
            // Flows that sort before the cursor, after it and equal to its row's key.
            const edge = first.items.at(-1)!;
            await store.flows.insertFlows([
              flowRow({
                lastSeenUs: BASE_US + 10 * HOUR_US,
                bytesToServer: 10 ** 9,
                packetsToServer: 10 ** 6,
              }),
              flowRow({ firstSeenUs: BASE_US - HOUR_US, lastSeenUs: BASE_US - HOUR_US, bytesToServer: 1 }),
              flowRow({
                firstSeenUs: edge.firstSeenUs,
                lastSeenUs: edge.lastSeenUs,
                packetsToServer: edge.packetsToServer,
                packetsToClient: edge.packetsToClient,
                bytesToServer: edge.bytesToServer,
                bytesToClient: edge.bytesToClient,
              }),
            ]);
            const rest: number[] = [];
            let cursor = first.nextCursor;
            while (cursor !== null) {
              const page = await store.flows.queryFlows({ sort, order, limit: 10, cursor });
              rest.push(...page.items.map((f) => f.id));
              cursor = page.nextCursor;
            }
            const seen = [...first.items.map((f) => f.id), ...rest];
            expect(new Set(seen).size, what).toBe(seen.length);
            expect(
              seen.filter((id) => before.includes(id)).sort((a, b) => a - b),
              what,
            ).toEqual([...before].sort((a, b) => a - b));
            // What the list holds now, from the cursor on, is exactly what the later pages gave.
            const now = await allFlows(store);
            const order_ = expectedOrder(now, {}, sort, order);
            expect(rest, what).toEqual(order_.slice(order_.indexOf(edge.id) + 1));
          }
        }
      });

      it('refuse a cursor of another sort, a cursor with an offset, and a sort not on the list', async () => {
        await store.flows.insertFlows(talkFlows(3, 30));
        const bytes = await store.flows.queryFlows({ sort: 'bytes', limit: 5 });
        expect(bytes.nextCursor).not.toBeNull();
        await expect(
          store.flows.queryFlows({ sort: 'packets', cursor: bytes.nextCursor }),
        ).rejects.toMatchObject({
          code: 'BAD_REQUEST',
          message: expect.stringContaining('sorted by bytes desc, not by packets desc') as string,
        });
        await expect(
          store.flows.queryFlows({ sort: 'bytes', order: 'asc', cursor: bytes.nextCursor }),
        ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
        await expect(
          store.flows.queryFlows({ sort: 'bytes', cursor: bytes.nextCursor, offset: 5 }),
        ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
        await expect(
          store.flows.queryFlows({ sort: 'src_addr; drop table flows' as FlowSort }),
        ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
        await expect(store.flows.queryFlows({ order: 'sideways' as SortOrder })).rejects.toMatchObject({
          code: 'BAD_REQUEST',
        });
        const forged = Buffer.from(JSON.stringify([1, 2, 'bytes', 'desc', 'extra'])).toString('base64url');
        await expect(store.flows.queryFlows({ sort: 'bytes', cursor: forged })).rejects.toMatchObject({
          code: 'BAD_REQUEST',
        });
        const fractional = Buffer.from(JSON.stringify([1.5, 2, 'bytes', 'desc'])).toString('base64url');
        await expect(store.flows.queryFlows({ sort: 'bytes', cursor: fractional })).rejects.toMatchObject({
          code: 'BAD_REQUEST',
        });
      });

      it('take a cursor given out before the list had sorts as one of the newest-first list', async () => {
        await store.flows.insertFlows(talkFlows(4, 30));
        const all = await allFlows(store);
        const fifth = all[4]!;
        const legacy = Buffer.from(JSON.stringify([fifth.lastSeenUs, fifth.id])).toString('base64url');
        const page = await store.flows.queryFlows({ cursor: legacy, limit: 3 });
        expect(page.items.map((f) => f.id)).toEqual(all.slice(5, 8).map((f) => f.id));
      });
    });

    describe('talk graph', () => {
      const range = { fromUs: BASE_US + 20 * MINUTE_US, toUs: BASE_US + 95 * MINUTE_US };
      const inRange = (f: FlowRow) => matches(f, range);

      /** The edges among `hosts` of the flows `match` selects, largest first, as pair keys. */
      const expectedEdges = (rows: FlowRow[], match: FlowMatch, hosts: string[]) => {
        const sums = new Map<string, { bytes: number; packets: number; flows: number }>();
        for (const f of rows) {
          if (!matches(f, match) || f.srcAddr === f.dstAddr) continue;
          if (!hosts.includes(f.srcAddr) || !hosts.includes(f.dstAddr)) continue;
          const key = pairKey(f.srcAddr, f.dstAddr);
          const sum = sums.get(key) ?? { bytes: 0, packets: 0, flows: 0 };
          sum.bytes += f.bytesToServer + f.bytesToClient;
          sum.packets += f.packetsToServer + f.packetsToClient;
          sum.flows += 1;
          sums.set(key, sum);
        }
        return [...sums].map(([pair, sum]) => ({ pair, ...sum }));
      };
      const byBytesThenPair = (a: { bytes: number; pair: string }, b: { bytes: number; pair: string }) =>
        b.bytes - a.bytes || (a.pair < b.pair ? -1 : a.pair > b.pair ? 1 : 0);

      it('has the top talkers of the range as its hosts and their largest pairs as its edges', async () => {
        const rows = talkFlows(5, 200);
        await store.flows.insertFlows(rows);
        const graph = await store.flows.flowGraph({ ...range, hosts: 5 });
        const talkers = await talkersByMinutes(store, range.fromUs, range.toUs, 5, 'bytes');
        expect(graph.nodes).toEqual(talkers.map(({ host, ...totals }) => ({ address: host, ...totals })));
        const hosts = graph.nodes.map((n) => n.address);
        const expected = expectedEdges(rows, range, hosts).sort(byBytesThenPair);
        expect(expected.length).toBeGreaterThan(3);
        const got = graph.edges.map(({ a, b, ...sums }) => ({ pair: pairKey(a, b), ...sums }));
        expect(got.sort(byBytesThenPair)).toEqual(expected);
        for (const edge of graph.edges) expect(hosts).toEqual(expect.arrayContaining([edge.a, edge.b]));

        // The edge limit keeps the largest.
        const three = await store.flows.flowGraph({ ...range, hosts: 5, edges: 3 });
        expect(three.edges.map((e) => e.bytes)).toEqual(expected.slice(0, 3).map((e) => e.bytes));
      });

      it('groups its hosts from the flows a filter selects, each flow counted for both ends once', async () => {
        const rows = talkFlows(6, 200);
        await store.flows.insertFlows(rows);
        for (const match of [
          { ...range, protocol: 'udp' },
          { ...range, address: '10.0.0.2' },
          { ...range, port: 22, minBytes: 600 },
          { ...range, state: 'rejected' },
        ] satisfies FlowGraphFilter[]) {
          const what = JSON.stringify(match);
          const sums = new Map<string, { bytes: number; packets: number; flows: number }>();
          for (const f of rows.filter((r) => matches(r, match))) {
            for (const host of new Set([f.srcAddr, f.dstAddr])) {
              const sum = sums.get(host) ?? { bytes: 0, packets: 0, flows: 0 };
              sum.bytes += f.bytesToServer + f.bytesToClient;
              sum.packets += f.packetsToServer + f.packetsToClient;
              sum.flows += 1;
              sums.set(host, sum);
            }
          }
          const nodes = [...sums]
            .map(([address, sum]) => ({ address, ...sum }))
            .sort((a, b) => b.bytes - a.bytes || (a.address < b.address ? -1 : 1))
            .slice(0, 4);
          const graph = await store.flows.flowGraph({ ...match, hosts: 4 });
          expect(graph.nodes, what).toEqual(nodes);
          const hosts = nodes.map((n) => n.address);
          const got = graph.edges.map(({ a, b, ...rest }) => ({ pair: pairKey(a, b), ...rest }));
          expect(got.sort(byBytesThenPair), what).toEqual(
            expectedEdges(rows, match, hosts).sort(byBytesThenPair),
          );
        }
        expect(rows.filter(inRange).length).toBeGreaterThan(0);
      });

      it('is empty when no flow matches, and refuses ranges beyond its bounds', async () => {
        await store.flows.insertFlows(talkFlows(7, 20));
        expect(await store.flows.flowGraph({ ...range, address: '203.0.113.99' })).toEqual({
          nodes: [],
          edges: [],
        });
        expect(await store.flows.flowGraph({ fromUs: BASE_US - DAY_US, toUs: BASE_US - HOUR_US })).toEqual({
          nodes: [],
          edges: [],
        });
        await expect(
          store.flows.flowGraph({ fromUs: BASE_US, toUs: BASE_US + 8 * DAY_US }),
        ).rejects.toMatchObject({
          code: 'BAD_REQUEST',
          message: expect.stringContaining('7 days') as string,
        });
        await expect(
          store.flows.flowGraph({ fromUs: BASE_US, toUs: BASE_US + 2 * DAY_US, protocol: 'tcp' }),
        ).rejects.toMatchObject({
          code: 'BAD_REQUEST',
          message: expect.stringContaining('24 hours') as string,
        });
        // An address narrows the flows through its index: a week is allowed then.
        await expect(
          store.flows.flowGraph({
            fromUs: BASE_US,
            toUs: BASE_US + 7 * DAY_US,
            address: '10.0.0.1',
            protocol: 'tcp',
          }),
        ).resolves.toBeDefined();
        await expect(store.flows.flowGraph({ ...range, hosts: 101 })).rejects.toMatchObject({
          code: 'BAD_REQUEST',
        });
        await expect(store.flows.flowGraph({ ...range, edges: 201 })).rejects.toMatchObject({
          code: 'BAD_REQUEST',
        });
        await expect(store.flows.flowGraph({ fromUs: BASE_US, toUs: BASE_US })).rejects.toMatchObject({
          code: 'BAD_REQUEST',
        });
      });
    });

    describe('host summary', () => {
      it("sums a host's flows of the range: totals, peers, its own ports and its peers' ports", async () => {
        const rows = talkFlows(8, 240);
        await store.flows.insertFlows(rows);
        const range = { fromUs: BASE_US + 10 * MINUTE_US, toUs: BASE_US + 70 * MINUTE_US };
        for (const host of ['10.0.0.1', '2001:db8::2']) {
          const mine = rows.filter((f) => matches(f, range) && (f.srcAddr === host || f.dstAddr === host));
          // From the host's side: a flow it began, or one it answered (a flow to itself once).
          const sides = mine.map((f) => {
            const client = f.srcAddr === host;
            return {
              peer: client ? f.dstAddr : f.srcAddr,
              protocol: f.protocol,
              local: client ? f.srcPort : f.dstPort,
              remote: client ? f.dstPort : f.srcPort,
              sent: client ? f.bytesToServer : f.bytesToClient,
              received: client ? f.bytesToClient : f.bytesToServer,
              packets: f.packetsToServer + f.packetsToClient,
            };
          });
          const sum = <K extends string>(key: (s: (typeof sides)[number]) => K | null) => {
            const out = new Map<K, { sent: number; received: number; packets: number; flows: number }>();
            for (const s of sides) {
              const k = key(s);
              if (k === null) continue;
              const t = out.get(k) ?? { sent: 0, received: 0, packets: 0, flows: 0 };
              t.sent += s.sent;
              t.received += s.received;
              t.packets += s.packets;
              t.flows += 1;
              out.set(k, t);
            }
            return [...out];
          };
          const largest = <T extends { bytes: number }>(items: T[], name: (t: T) => string) =>
            items
              .sort((a, b) => b.bytes - a.bytes || (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0))
              .slice(0, 3);
          const ports = (side: 'local' | 'remote') =>
            largest(
              sum((s) => (s.protocol === 'icmp' ? null : `${s.protocol}/${s[side]}`)).map(([k, t]) => ({
                protocol: k.split('/')[0]!,
                port: Number(k.split('/')[1]),
                bytes: t.sent + t.received,
                flows: t.flows,
              })),
              (p) => `${p.protocol}\u0000${String(p.port).padStart(5, '0')}`,
            );
          const summary = await store.flows.hostSummary(host, range.fromUs, range.toUs, 3);
          expect(summary.totals, host).toEqual({
            bytesSent: sides.reduce((n, s) => n + s.sent, 0),
            bytesReceived: sides.reduce((n, s) => n + s.received, 0),
            packets: sides.reduce((n, s) => n + s.packets, 0),
            flows: mine.length,
          });
          expect(summary.peers, host).toEqual(
            largest(
              sum((s) => s.peer).map(([address, t]) => ({
                address,
                bytesSent: t.sent,
                bytesReceived: t.received,
                bytes: t.sent + t.received,
                packets: t.packets,
                flows: t.flows,
              })),
              (p) => p.address,
            ),
          );
          expect(summary.localPorts, host).toEqual(ports('local'));
          expect(summary.remotePorts, host).toEqual(ports('remote'));
        }
      });

      it('is all zeros for a host without flows, and refuses a bad range or size', async () => {
        await store.flows.insertFlows(talkFlows(9, 20));
        expect(await store.flows.hostSummary('203.0.113.99', BASE_US, BASE_US + HOUR_US)).toEqual({
          totals: { bytesSent: 0, bytesReceived: 0, packets: 0, flows: 0 },
          peers: [],
          localPorts: [],
          remotePorts: [],
          processes: [],
        });
        await expect(store.flows.hostSummary('10.0.0.1', BASE_US, BASE_US - 1)).rejects.toMatchObject({
          code: 'BAD_REQUEST',
        });
        await expect(
          store.flows.hostSummary('10.0.0.1', BASE_US, BASE_US + 8 * DAY_US),
        ).rejects.toMatchObject({
          code: 'BAD_REQUEST',
        });
        await expect(
          store.flows.hostSummary('10.0.0.1', BASE_US, BASE_US + HOUR_US, 0),
        ).rejects.toMatchObject({
          code: 'BAD_REQUEST',
        });
      });

      it("names the processes behind a host's flows, largest first, and leaves out flows without one", async () => {
        const at = { firstSeenUs: BASE_US, lastSeenUs: BASE_US + 1000 };
        const curl = { pid: 4242, name: 'curl', user: 'alice' };
        const sshd = { pid: 77, name: 'sshd', user: 'root' };
        await store.flows.insertFlows([
          flowRow({
            ...at,
            srcAddr: '10.9.0.1',
            srcPort: 40001,
            dstAddr: '192.0.2.80',
            bytesToServer: 300,
            bytesToClient: 700,
            process: curl,
          }),
          flowRow({
            ...at,
            srcAddr: '10.9.0.1',
            srcPort: 40002,
            dstAddr: '192.0.2.81',
            bytesToServer: 100,
            bytesToClient: 900,
            process: curl,
          }),
          // An accepted connection: the host is the server side.
          flowRow({
            ...at,
            srcAddr: '192.0.2.9',
            dstAddr: '10.9.0.1',
            dstPort: 22,
            bytesToServer: 1500,
            bytesToClient: 0,
            process: sshd,
          }),
          flowRow({
            ...at,
            srcAddr: '10.9.0.1',
            srcPort: 40003,
            dstAddr: '192.0.2.82',
            bytesToServer: 5000,
            bytesToClient: 0,
          }),
        ]);
        const summary = await store.flows.hostSummary('10.9.0.1', BASE_US, BASE_US + HOUR_US);
        expect(summary.processes).toEqual([
          { ...curl, bytes: 2000, flows: 2 },
          { ...sshd, bytes: 1500, flows: 1 },
        ]);
        // Another host's view: the local process that talked to it.
        expect((await store.flows.hostSummary('192.0.2.80', BASE_US, BASE_US + HOUR_US)).processes).toEqual([
          { ...curl, bytes: 1000, flows: 1 },
        ]);
      });
    });
  });
}
