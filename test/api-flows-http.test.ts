/**
 * The flow list's sorts, the talk graph, the host summary and the overview's top ports through
 * real HTTP (a real server on 127.0.0.1 with a SQLite store): what the dashboard's overview, flow
 * and host pages ask for, and the 400s with a message that says what to send instead.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowRow, StoredFlow } from '../src/store/flow-repository.js';
import type { Page } from '../src/store/page.js';
import { startTestServer, type TestServer } from './helpers/api-server.js';
import { BASE_US, flowRow } from './helpers/store-suite.js';

const BASE_MS = BASE_US / 1000;
const MINUTE_US = 60_000_000;

let t: TestServer;
let token: string;

/** Ten flows a minute apart; 10.0.0.5 talks ssh to 192.0.2.7, everyone else https to 198.51.100.7. */
const ROWS: FlowRow[] = Array.from({ length: 10 }, (_, i) =>
  flowRow({
    firstSeenUs: BASE_US + i * MINUTE_US,
    lastSeenUs: BASE_US + i * MINUTE_US + (i % 3) * 1_000_000,
    srcAddr: i < 4 ? '10.0.0.5' : `10.0.1.${i}`,
    dstAddr: i < 4 ? '192.0.2.7' : '198.51.100.7',
    srcPort: 50000 + i,
    dstPort: i < 4 ? 22 : 443,
    bytesToServer: 1000 * ((i * 7) % 10),
    bytesToClient: 0,
  }),
);

// The type is what each test expects the server to answer; the assertions check it.
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
const get = async <T>(path: string): Promise<{ status: number; body: T }> => {
  const res = await t.request('GET', path, { token });
  return { status: res.status, body: res.body as T };
};

beforeAll(async () => {
  t = await startTestServer();
  token = (await t.signIn('vic', 'viewer')).accessToken;
  await t.server.store.flows.insertFlows(ROWS);
}, 60_000);

afterAll(async () => {
  await t.close();
});

describe('GET /api/flows (real HTTP)', () => {
  it('opens exactly the flows a link of another page names: address, port, protocol, time', async () => {
    const from = BASE_MS + 60_000;
    const to = BASE_MS + 150_000;
    const res = await get<Page<StoredFlow>>(
      `/api/flows?address=10.0.0.5&from=${from}&to=${to}&port=22&protocol=tcp`,
    );
    expect(res.status).toBe(200);
    // Flows 1 and 2 (active in the range); 0 ended before it, 3 began after it.
    expect(res.body.items.map((f) => f.srcPort)).toEqual([50002, 50001]);
  });

  it('sorts by bytes both ways and pages with the cursor it gives', async () => {
    const desc: number[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? '' : `&cursor=${cursor}`;
      const res = await get<Page<StoredFlow>>(`/api/flows?sort=bytes&limit=3${query}`);
      expect(res.status).toBe(200);
      desc.push(...res.body.items.map((f) => f.bytesToServer));
      cursor = res.body.nextCursor;
    } while (cursor !== null);
    const all = ROWS.map((r) => r.bytesToServer);
    expect(desc).toEqual([...all].sort((a, b) => b - a));
    const asc = await get<Page<StoredFlow>>('/api/flows?sort=bytes&order=asc');
    expect(asc.body.items.map((f) => f.bytesToServer)).toEqual([...all].sort((a, b) => a - b));
  });

  it('refuses a sort or order not on its list, saying which it takes', async () => {
    const sort = await get<{ error: string; message: string }>('/api/flows?sort=src_addr');
    expect(sort.status).toBe(400);
    expect(sort.body).toEqual({
      error: 'BAD_REQUEST',
      message: 'invalid request: sort: expected one of time, bytes, packets, duration (time when left out)',
    });
    const order = await get<{ message: string }>('/api/flows?sort=bytes&order=up');
    expect(order.status).toBe(400);
    expect(order.body.message).toBe('invalid request: order: expected desc or asc (desc when left out)');
  });

  it("refuses a cursor of another sort's pages", async () => {
    const first = await get<Page<StoredFlow>>('/api/flows?sort=duration&limit=2');
    const res = await get<{ message: string }>(
      `/api/flows?sort=time&limit=2&cursor=${first.body.nextCursor}`,
    );
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/sorted by duration desc, not by time desc: start again/);
  });
});

describe('GET /api/traffic (real HTTP)', () => {
  interface TrafficBody {
    series: unknown[];
    topTalkers: { host: string }[];
    topPorts: { protocol: string; port: number; packets: number; bytes: number; flows: number }[];
  }

  it('gives the top service ports of the range beside the top talkers, with the same count and measure', async () => {
    const range = `from=${BASE_MS}&to=${BASE_MS + 20 * 60_000}`;
    const res = await get<TrafficBody>(`/api/traffic?${range}&top=5`);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual([
      'bucketSeconds',
      'from',
      'series',
      'to',
      'topPorts',
      'topTalkers',
    ]);
    // The servers' ports (22 and 443), never the clients' (50000 and up).
    expect(res.body.topPorts).toEqual([
      { protocol: 'tcp', port: 443, packets: 54, bytes: 33_000, flows: 6 },
      { protocol: 'tcp', port: 22, packets: 36, bytes: 12_000, flows: 4 },
    ]);
    expect(res.body.topTalkers[0]?.host).toBe('198.51.100.7');
    const one = await get<TrafficBody>(`/api/traffic?${range}&top=1&by=packets`);
    expect(one.body.topPorts).toEqual([{ protocol: 'tcp', port: 443, packets: 54, bytes: 33_000, flows: 6 }]);
    expect(one.body.topTalkers).toHaveLength(1);
    // From the fifth minute on: only the https flows ended there.
    const later = await get<TrafficBody>(
      `/api/traffic?from=${BASE_MS + 4 * 60_000}&to=${BASE_MS + 20 * 60_000}`,
    );
    expect(later.body.topPorts.map((p) => p.port)).toEqual([443]);
    const empty = await get<TrafficBody>(`/api/traffic?from=${BASE_MS - 3_600_000}&to=${BASE_MS}`);
    expect(empty.body.topPorts).toEqual([]);
  });

  it('splits the series by protocol in the same answer with split=protocol', async () => {
    const range = `from=${BASE_MS}&to=${BASE_MS + 20 * 60_000}&bucketSeconds=300`;
    const split = await get<TrafficBody & { byProtocol: Record<string, { start: number; bytes: number }[]> }>(
      `/api/traffic?${range}&split=protocol`,
    );
    expect(split.status).toBe(200);
    const tcp = await get<{ series: { start: number; bytes: number }[] }>(
      `/api/traffic?${range}&protocol=tcp`,
    );
    expect(split.body.byProtocol.tcp).toEqual(tcp.body.series);
    expect(split.body.series).toEqual((await get<TrafficBody>(`/api/traffic?${range}`)).body.series);
    const conflict = await get<{ message: string }>(`/api/traffic?${range}&split=protocol&protocol=tcp`);
    expect(conflict.status).toBe(400);
    expect(conflict.body.message).toMatch(/split=protocol gives every protocol/);
  });

  it('refuses a measure or a count it does not take', async () => {
    for (const query of ['by=port', 'top=0', 'top=1001', 'split=host']) {
      const res = await get<{ message: string }>(`/api/traffic?${query}`);
      expect(res.status, query).toBe(400);
    }
  });
});

describe('GET /api/flows/graph (real HTTP)', () => {
  const range = `from=${BASE_MS}&to=${BASE_MS + 20 * 60_000}`;

  it('gives the hosts and the pairs of the range', async () => {
    const res = await get<{
      from: number;
      to: number;
      nodes: { address: string; bytes: number }[];
      edges: { a: string; b: string; bytes: number; flows: number }[];
    }>(`/api/flows/graph?${range}&hosts=3`);
    expect(res.status).toBe(200);
    expect(res.body.from).toBe(BASE_MS);
    expect(res.body.nodes.map((n) => n.address)).toEqual(['198.51.100.7', '10.0.0.5', '192.0.2.7']);
    expect(res.body.edges).toEqual([{ a: '10.0.0.5', b: '192.0.2.7', bytes: 12_000, packets: 36, flows: 4 }]);
  });

  it('narrows by the flow filters, and refuses bounds it does not take', async () => {
    const ssh = await get<{ nodes: { address: string }[] }>(`/api/flows/graph?${range}&port=22`);
    expect(ssh.body.nodes.map((n) => n.address).sort()).toEqual(['10.0.0.5', '192.0.2.7']);
    for (const [query, message] of [
      ['limit=201', /limit: /],
      ['hosts=0', /hosts: /],
      ['sort=bytes', /Unrecognized key|sort/],
      [`from=${BASE_MS}&to=${BASE_MS}`, /to \(\d+\) must be after from/],
      [`from=${BASE_MS}&to=${BASE_MS + 8 * 86_400_000}`, /at most 7 days/],
      [`from=${BASE_MS}&to=${BASE_MS + 2 * 86_400_000}&protocol=udp`, /at most 24 hours/],
    ] as const) {
      const res = await get<{ message: string }>(`/api/flows/graph?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.message, query).toMatch(message);
    }
  });
});

describe('GET /api/hosts/:address (real HTTP)', () => {
  it("sums the host's flows of the range: totals, peers, ports", async () => {
    const res = await get<Record<string, unknown>>(
      `/api/hosts/10.0.0.5?from=${BASE_MS}&to=${BASE_MS + 20 * 60_000}&top=5`,
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      address: '10.0.0.5',
      from: BASE_MS,
      to: BASE_MS + 20 * 60_000,
      totals: { bytesSent: 12_000, bytesReceived: 0, packets: 36, flows: 4 },
      peers: [
        {
          address: '192.0.2.7',
          bytesSent: 12_000,
          bytesReceived: 0,
          bytes: 12_000,
          packets: 36,
          flows: 4,
        },
      ],
      localPorts: [
        { protocol: 'tcp', port: 50001, bytes: 7000, flows: 1 },
        { protocol: 'tcp', port: 50002, bytes: 4000, flows: 1 },
        { protocol: 'tcp', port: 50003, bytes: 1000, flows: 1 },
        { protocol: 'tcp', port: 50000, bytes: 0, flows: 1 },
      ],
      remotePorts: [{ protocol: 'tcp', port: 22, bytes: 12_000, flows: 4 }],
      processes: [],
    });
  });

  it('takes IPv6 addresses and refuses what is not an address', async () => {
    expect((await get(`/api/hosts/2001:db8::1`)).status).toBe(200);
    const bad = await get<{ message: string }>(`/api/hosts/not-an-address`);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/address: an IPv4 or IPv6 address/);
    expect((await get(`/api/hosts/10.0.0.5?top=101`)).status).toBe(400);
  });
});
