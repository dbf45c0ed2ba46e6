/**
 * Load benchmark of the HTTP API: autocannon against `/api/traffic` and `/api/flows` of a real
 * `flowtrack serve` whose SQLite store holds millions of flows (5,000,000 by default) over a week.
 *
 * 1. The store: built once into bench/out/ (gitignored) and reused while its flow count matches
 *    (`--rebuild` forces a new one). openStore (dist/store/store.js) creates and migrates it, so
 *    the schema, indexes and pragmas are the server's own; the flows are a deterministic synthetic
 *    week of a site (own seeded PRNG, no Math.random, no clock): a few thousand internal hosts
 *    talking to a hundred thousand outside servers, resolvers, LAN services, a DMZ taking inbound
 *    connections and scans; ports skewed (443, 53, 80, ...), tcp/udp/icmp, log-normal sizes and
 *    durations, fewer flows at night and at the weekend. Flows reach the store in the order they
 *    end, as the flow writer sends them, with the rollups that writer makes: each batch goes
 *    through `rollUpFlows` and `rollUpPeriods` (dist/store/flow-rollup.js, the repository's own
 *    functions) and its minute rows and hour and day totals are upserted with the repository's
 *    ON CONFLICT rule, by better-sqlite3 prepared statements in large transactions
 *    (`--build-via repository` uses `store.flows.insertFlows` instead: the same rows, about half
 *    as fast).
 * 2. The server: `node dist/cli/main.js serve` as a child process (so the load generator and the
 *    server do not share one event loop; on 2 cores each gets one), on 127.0.0.1 and a free port,
 *    with a rate limit high enough not to cut the bench, retention and backups out of the way and
 *    log level warn. A viewer user is created in the store and signs in through the API.
 * 3. The load, scenario by scenario (`--list` shows them): one checked request (200, rows in it),
 *    a warm-up (`--warmup` s, skipped when that request took 100 ms or more: a burst of slow
 *    requests would only queue up), then `--duration` seconds with `--connections` connections
 *    (autocannon's programmatic API). Every response must be a 200: non-2xx answers, errors and
 *    timeouts are counted and fail the bench. After each run the bench waits until the server has
 *    answered what was left in flight (up to 20 s; beyond that it restarts the server, which only
 *    reads here), so one scenario's queue does not fall into the next one's figures.
 *    Before the load, each scenario's store queries are also run in this process, straight
 *    through the repository, to time the database alone and keep the SQL and EXPLAIN QUERY PLAN of
 *    every statement they run; the plans of the slow ones (p99 over 200 ms) are printed under the
 *    table.
 *
 * Prints a table (requests/s, latency p50/p99, throughput, non-2xx, server CPU, database time)
 * and writes bench/out/api-results.json. Takes about 4.5 minutes, plus 2.5 to build the store.
 *
 * Usage: npm run build && node bench/api-bench.mjs [--flows N] [--days N] [--duration S]
 *          [--warmup S] [--connections N] [--scenarios a,b] [--rebuild] [--build-via direct|repository]
 *          [--seed N] [--list]
 */

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearTimeout, setTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, URLSearchParams } from 'node:url';
import autocannon from 'autocannon';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { Rng } from './make-capture.mjs';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH_DIR);
const OUT = join(BENCH_DIR, 'out');
const DIST = join(ROOT, 'dist');
const { fetch } = globalThis;

if (!existsSync(join(DIST, 'cli/main.js'))) {
  console.error('api-bench: dist/ is missing: run npm run build');
  process.exit(1);
}
const { openStore } = await import('../dist/store/store.js');
const { FlowRepository } = await import('../dist/store/flow-repository.js');
const { DAY_US, HOUR_US, rollUpFlows, rollUpPeriods } = await import('../dist/store/flow-rollup.js');
const { hashPassword } = await import('../dist/api/auth/passwords.js');
const { encodeCursor } = await import('../dist/store/page.js');

const MINUTE_US = 60_000_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/**
 * The synthetic data ends on a Friday at 15:00 UTC, a busy working hour, so "the last hour" of a
 * dashboard is not a quiet night. Fixed, so a seed always gives the same store.
 */
const END_MS = Date.UTC(2026, 10, 6, 15);
/** Flows per transaction (and per rollUpFlows call) while building. */
const BUILD_BATCH = 50_000;
/** p99 above this (ms) marks a scenario slow: its query plans are printed. */
const SLOW_P99_MS = 200;
const USERNAME = 'bench-viewer';
const PASSWORD = 'bench-plover-quartz-umbrella-71';

const USAGE =
  'usage: node bench/api-bench.mjs [--flows N] [--days N] [--duration S] [--warmup S] [--connections N]\n' +
  '         [--scenarios a,b] [--rebuild] [--build-via direct|repository] [--seed N] [--list]';

function parseArgs(argv) {
  const opts = {
    flows: 5_000_000,
    days: 7,
    duration: 10,
    warmup: 2,
    connections: 10,
    scenarios: null,
    rebuild: false,
    buildVia: 'direct',
    seed: 1,
    list: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const number = (min) => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < min) throw new Error(`${a} needs a whole number of at least ${min}`);
      return v;
    };
    if (a === '--flows') opts.flows = number(1000);
    else if (a === '--days') opts.days = number(1);
    else if (a === '--duration') opts.duration = number(1);
    else if (a === '--warmup') opts.warmup = number(0);
    else if (a === '--connections') opts.connections = number(1);
    else if (a === '--seed') opts.seed = number(0);
    else if (a === '--scenarios') opts.scenarios = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (a === '--rebuild') opts.rebuild = true;
    else if (a === '--build-via') {
      opts.buildVia = argv[++i];
      if (opts.buildVia !== 'direct' && opts.buildVia !== 'repository')
        throw new Error('--build-via must be direct or repository');
    } else if (a === '--list') opts.list = true;
    else if (a === '-h' || a === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  return opts;
}

// ---------------------------------------------------------------------------------------------
// The synthetic week

/** Spreads host number i over /24s, skipping .0, .1 and .255 (as make-capture.mjs does). */
function hostInSubnet(base, i) {
  return (base + Math.floor(i / 250) * 256 + (i % 250) + 2) >>> 0;
}
function v4(n) {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}
/** Popular-first pick: low indices are chosen far more often (skew 1 is uniform). */
function popular(rng, n, skew) {
  return Math.floor(n * rng.float() ** skew);
}
function clamp(x, lo, hi) {
  return x < lo ? lo : x > hi ? hi : x;
}

const CLIENTS = 3000;
const SERVERS = 100_000;
const SERVERS_V6 = 20_000;
const SCANNERS = 5000;

/** Every address the generator uses, as the store keeps them (strings), made once. */
function makeHosts(rng) {
  const clients = Array.from({ length: CLIENTS }, (_, i) => v4(hostInSubnet(0x0a100000, i))); // 10.16/12
  const clientsV6 = Array.from(
    { length: CLIENTS },
    (_, i) => `2001:db8:1:${(i >>> 8).toString(16)}::${(0x1000 + i).toString(16)}`,
  );
  const servers = Array.from({ length: SERVERS }, (_, i) => v4(hostInSubnet(0xc6120000, i))); // 198.18/15
  const serversV6 = Array.from(
    { length: SERVERS_V6 },
    (_, i) => `2001:db8:ffff:${(i >>> 12).toString(16)}::${(0x1000 + (i & 0xfff)).toString(16)}`,
  );
  // Addresses of the internet at large for inbound connections and scans (public unicast).
  const internet = () => {
    for (;;) {
      const n = rng.u32();
      const a = n >>> 24;
      if (a === 0 || a === 10 || a === 127 || a >= 224 || a === 100 || a === 169 || a === 172 || a === 192)
        continue;
      return v4(n);
    }
  };
  return {
    clients,
    clientsV6,
    servers,
    serversV6,
    scanners: Array.from({ length: SCANNERS }, internet),
    internet,
    resolvers: ['10.0.53.1', '10.0.53.2'],
    resolverV6: '2001:db8:53::53',
    ntp: ['198.18.123.1', '198.18.123.2', '198.18.123.3'],
    collector: '10.0.0.10',
    devices: Array.from({ length: 50 }, (_, i) => `10.0.0.${200 + i}`),
    lan: [
      { addr: '10.0.0.20', port: 445 },
      { addr: '10.0.0.21', port: 445 },
      { addr: '10.0.0.30', port: 22 },
      { addr: '10.0.0.31', port: 22 },
      { addr: '10.0.0.40', port: 3389 },
      { addr: '10.0.0.50', port: 389 },
      { addr: '10.0.0.51', port: 389 },
      { addr: '10.0.0.60', port: 8080 },
      { addr: '10.0.0.61', port: 5432 },
    ],
    dmz: ['10.0.1.10', '10.0.1.11', '10.0.1.12', '10.0.1.13', '10.0.1.14'],
  };
}

/** A flow's row with its endpoints set; tcp() or udp() fills in the rest. */
function flow(startUs, ipVersion, protocol, src, dst, sport, dport) {
  return {
    firstSeenUs: startUs,
    lastSeenUs: startUs,
    ipVersion,
    protocol,
    srcAddr: src,
    dstAddr: dst,
    srcPort: sport,
    dstPort: dport,
    packetsToServer: 0,
    bytesToServer: 0,
    packetsToClient: 0,
    bytesToClient: 0,
    tcpFlagsToServer: '',
    tcpFlagsToClient: '',
    state: 'active',
    endReason: 'idle',
  };
}

const ACTIVE_TIMEOUT_US = 1800 * 1_000_000;

/**
 * A TCP connection: handshake, `req` bytes up and `resp` down in MSS-sized segments with an ACK
 * every second one, closed by FIN (most), RST, left idle, or never answered / refused.
 */
function tcp(rng, f, req, resp, { unanswered = 0.02, refused = 0.01, durMedianS = 1.5 } = {}) {
  const hdr = f.ipVersion === 6 ? 86 : 66;
  const r = rng.float();
  if (r < unanswered) {
    // SYN retransmitted after 1 and 3 s, or not at all.
    const tries = 1 + rng.int(3);
    f.packetsToServer = tries;
    f.bytesToServer = tries * (hdr + 8);
    f.lastSeenUs = f.firstSeenUs + [0, 1, 3][tries - 1] * 1_000_000;
    f.tcpFlagsToServer = 'S';
    f.state = 'attempted';
    return f;
  }
  if (r < unanswered + refused) {
    f.packetsToServer = 1;
    f.bytesToServer = hdr + 8;
    f.packetsToClient = 1;
    f.bytesToClient = hdr - 12;
    f.lastSeenUs = f.firstSeenUs + rng.range(200, 80_000);
    f.tcpFlagsToServer = 'S';
    f.tcpFlagsToClient = 'RA';
    f.state = 'rejected';
    f.endReason = 'closed';
    return f;
  }
  const segDown = Math.ceil(resp / 1400);
  const segUp = Math.ceil(req / 1400);
  f.packetsToClient = 2 + segDown + Math.floor(segUp / 2);
  f.packetsToServer = 3 + segUp + Math.floor(segDown / 2);
  f.bytesToClient = resp + f.packetsToClient * hdr;
  f.bytesToServer = req + f.packetsToServer * hdr;
  // Time: a few round trips, think time, and the transfer at a log-normal rate.
  const seconds = rng.logNormal(durMedianS, 1.6) + resp / rng.logNormal(2e6, 1.2);
  let durUs = Math.round(seconds * 1e6);
  const end = rng.float();
  if (durUs >= ACTIVE_TIMEOUT_US) {
    durUs = ACTIVE_TIMEOUT_US;
    f.tcpFlagsToServer = 'SPA';
    f.tcpFlagsToClient = 'SPA';
    f.state = 'established';
    f.endReason = 'active-timeout';
  } else if (end < 0.74) {
    f.tcpFlagsToServer = 'SFPA';
    f.tcpFlagsToClient = 'SFPA';
    f.state = 'closed-fin';
    f.endReason = 'closed';
  } else if (end < 0.9) {
    f.tcpFlagsToServer = rng.chance(0.5) ? 'SRPA' : 'SPA';
    f.tcpFlagsToClient = f.tcpFlagsToServer === 'SPA' ? 'SRPA' : 'SPA';
    f.state = 'closed-rst';
    f.endReason = 'closed';
  } else {
    f.tcpFlagsToServer = 'SPA';
    f.tcpFlagsToClient = 'SPA';
    f.state = 'established';
    f.endReason = 'idle';
  }
  f.lastSeenUs = f.firstSeenUs + durUs;
  return f;
}

/** A UDP exchange of `pu` datagrams up and `pd` down (`pd` 0: one-way or unanswered). */
function udp(rng, f, pu, bu, pd, bd, durUs) {
  const hdr = f.ipVersion === 6 ? 62 : 42;
  f.packetsToServer = pu;
  f.bytesToServer = bu + pu * hdr;
  f.packetsToClient = pd;
  f.bytesToClient = bd + pd * hdr;
  f.lastSeenUs = f.firstSeenUs + Math.max(0, Math.round(durUs));
  return f;
}

const ephemeral = (rng) => rng.range(32768, 60999);
const size = (rng, median, sigma, max) => Math.round(clamp(rng.logNormal(median, sigma), 1, max));

/** One flow kind: its share of all flows, and how to make one starting at `t` (µs). */
const KINDS = [
  {
    name: 'https',
    share: 34,
    make(rng, h, t) {
      const c = popular(rng, CLIENTS, 2);
      const six = rng.chance(0.12);
      const f = six
        ? flow(t, 6, 'tcp', h.clientsV6[c], h.serversV6[popular(rng, SERVERS_V6, 3)], ephemeral(rng), 443)
        : flow(t, 4, 'tcp', h.clients[c], h.servers[popular(rng, SERVERS, 3)], ephemeral(rng), 443);
      return tcp(rng, f, size(rng, 1500, 1.2, 50e6), size(rng, 9000, 2.0, 2e9));
    },
  },
  {
    name: 'dns',
    share: 22,
    make(rng, h, t) {
      const c = popular(rng, CLIENTS, 2);
      const six = rng.chance(0.12);
      const f = six
        ? flow(t, 6, 'udp', h.clientsV6[c], h.resolverV6, ephemeral(rng), 53)
        : flow(t, 4, 'udp', h.clients[c], h.resolvers[rng.int(2)], ephemeral(rng), 53);
      const answered = rng.chance(0.97);
      return udp(
        rng,
        f,
        1,
        rng.range(30, 60),
        answered ? 1 : 0,
        answered ? size(rng, 120, 0.6, 1400) : 0,
        answered ? rng.range(300, 40_000) : 0,
      );
    },
  },
  {
    name: 'dns-recursive',
    share: 8,
    make(rng, h, t) {
      const f = flow(
        t,
        4,
        'udp',
        h.resolvers[rng.int(2)],
        h.servers[popular(rng, 4000, 2)],
        ephemeral(rng),
        53,
      );
      const answered = rng.chance(0.95);
      return udp(
        rng,
        f,
        1,
        rng.range(30, 70),
        answered ? 1 : 0,
        answered ? size(rng, 150, 0.7, 1400) : 0,
        answered ? size(rng, 30_000, 0.8, 2e6) : 0,
      );
    },
  },
  {
    name: 'quic',
    share: 7,
    make(rng, h, t) {
      const c = popular(rng, CLIENTS, 2);
      const six = rng.chance(0.15);
      const f = six
        ? flow(t, 6, 'udp', h.clientsV6[c], h.serversV6[popular(rng, SERVERS_V6, 3)], ephemeral(rng), 443)
        : flow(t, 4, 'udp', h.clients[c], h.servers[popular(rng, 2000, 2)], ephemeral(rng), 443);
      const down = size(rng, 20_000, 2.0, 2e9);
      const pd = Math.ceil(down / 1252) + 2;
      const pu = 2 + Math.ceil(pd / 3);
      const seconds = rng.logNormal(2, 1.4) + down / rng.logNormal(3e6, 1);
      return udp(rng, f, pu, pu * 60 + 1200, pd, down, Math.min(seconds * 1e6, ACTIVE_TIMEOUT_US));
    },
  },
  {
    name: 'http',
    share: 6,
    make(rng, h, t) {
      const f = flow(
        t,
        4,
        'tcp',
        h.clients[popular(rng, CLIENTS, 2)],
        h.servers[popular(rng, SERVERS, 3)],
        ephemeral(rng),
        80,
      );
      return tcp(rng, f, size(rng, 600, 1, 5e6), size(rng, 5000, 2.2, 2e9));
    },
  },
  {
    name: 'lan',
    share: 5,
    make(rng, h, t) {
      const s = h.lan[popular(rng, h.lan.length, 1.5)];
      const f = flow(t, 4, 'tcp', h.clients[popular(rng, CLIENTS, 2)], s.addr, ephemeral(rng), s.port);
      const interactive = s.port === 22 || s.port === 3389;
      return tcp(
        rng,
        f,
        size(rng, interactive ? 20_000 : 2000, 1.8, 1e9),
        size(rng, interactive ? 80_000 : 30_000, 2.2, 4e9),
        {
          unanswered: 0.005,
          refused: 0.005,
          durMedianS: interactive ? 120 : 0.5,
        },
      );
    },
  },
  {
    name: 'ntp',
    share: 2,
    make(rng, h, t) {
      const f = flow(t, 4, 'udp', h.clients[rng.int(CLIENTS)], h.ntp[rng.int(3)], 123, 123);
      return udp(rng, f, 1, 48, 1, 48, rng.range(5_000, 60_000));
    },
  },
  {
    name: 'syslog-snmp',
    share: 3,
    make(rng, h, t) {
      const device = h.devices[rng.int(h.devices.length)];
      if (rng.chance(0.6)) {
        const f = flow(t, 4, 'udp', device, h.collector, 514, 514);
        const n = 1 + popular(rng, 200, 4);
        return udp(rng, f, n, n * size(rng, 180, 0.5, 1400), 0, 0, n === 1 ? 0 : rng.range(1e6, 50e6));
      }
      const f = flow(t, 4, 'udp', h.collector, device, ephemeral(rng), 161);
      const n = rng.range(1, 20);
      return udp(rng, f, n, n * 80, n, n * size(rng, 300, 0.6, 1400), rng.range(10_000, 2e6));
    },
  },
  {
    name: 'icmp',
    share: 2,
    make(rng, h, t) {
      const id = rng.int(65536);
      const six = rng.chance(0.2);
      const f = six
        ? flow(t, 6, 'icmpv6', h.clientsV6[rng.int(CLIENTS)], h.serversV6[popular(rng, 200, 2)], id, id)
        : flow(
            t,
            4,
            'icmp',
            h.clients[rng.int(CLIENTS)],
            rng.chance(0.5) ? h.lan[rng.int(h.lan.length)].addr : h.servers[popular(rng, 500, 2)],
            id,
            id,
          );
      const n = rng.range(1, 10);
      const answered = n - (rng.chance(0.05) ? n : 0);
      return udp(rng, f, n, n * 56, answered, answered * 56, (n - 1) * 1e6 + rng.range(1000, 50_000));
    },
  },
  {
    name: 'inbound',
    share: 6,
    make(rng, h, t) {
      const port = rng.chance(0.7) ? 443 : rng.chance(0.67) ? 80 : 25;
      const client = rng.chance(0.5) ? h.internet() : h.scanners[popular(rng, SCANNERS, 2)];
      const f = flow(t, 4, 'tcp', client, h.dmz[popular(rng, h.dmz.length, 2)], ephemeral(rng), port);
      return tcp(rng, f, size(rng, port === 25 ? 30_000 : 900, 1.3, 50e6), size(rng, 15_000, 1.8, 1e9), {
        unanswered: 0.01,
        refused: 0.01,
      });
    },
  },
  {
    name: 'scan',
    share: 4,
    make(rng, h, t) {
      const r = rng.float();
      const port = r < 0.4 ? 22 : r < 0.55 ? 23 : r < 0.65 ? 3389 : rng.range(1, 65535);
      const f = flow(
        t,
        4,
        'tcp',
        h.scanners[popular(rng, SCANNERS, 3)],
        h.dmz[rng.int(h.dmz.length)],
        ephemeral(rng),
        port,
      );
      // SSH brute force gets a short session; the rest is refused or dropped.
      if (port === 22)
        return tcp(rng, f, size(rng, 2500, 0.5, 1e5), size(rng, 3500, 0.5, 1e5), {
          unanswered: 0.1,
          refused: 0.1,
          durMedianS: 3,
        });
      return tcp(rng, f, 0, 0, { unanswered: 0.45, refused: 0.55 });
    },
  },
  {
    name: 'other-out',
    share: 1,
    make(rng, h, t) {
      const ports = [993, 587, 8443, 5222, 22, 995, 465, 1194];
      const f = flow(
        t,
        4,
        'tcp',
        h.clients[popular(rng, CLIENTS, 2)],
        h.servers[popular(rng, SERVERS, 3)],
        ephemeral(rng),
        ports[popular(rng, ports.length, 1.5)],
      );
      return tcp(rng, f, size(rng, 3000, 1.5, 1e8), size(rng, 12_000, 2, 1e9), { durMedianS: 20 });
    },
  },
];
const KIND_TOTAL = KINDS.reduce((s, k) => s + k.share, 0);

/** Relative flow rate of a minute: quiet nights and weekends, busy working hours, some noise. */
function minuteWeight(rng, ms) {
  const day = new Date(ms).getUTCDay(); // 0 is Sunday
  const hour = (ms % DAY_MS) / HOUR_MS;
  const weekday = day >= 1 && day <= 5 ? 1 : 0.4;
  const office = Math.exp(-(((hour - 13) / 4) ** 2));
  return weekday * (0.25 + 1.25 * office) * (0.9 + 0.2 * rng.float());
}

/** Min-heap of flows by last packet: flows leave the generator in the order they end. */
class EndHeap {
  constructor() {
    this.items = [];
  }
  get size() {
    return this.items.length;
  }
  peek() {
    return this.items[0];
  }
  push(f) {
    const a = this.items;
    a.push(f);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p].lastSeenUs <= f.lastSeenUs) break;
      a[i] = a[p];
      i = p;
    }
    a[i] = f;
  }
  pop() {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const c = l + 1 < a.length && a[l + 1].lastSeenUs < a[l].lastSeenUs ? l + 1 : l;
        if (a[c].lastSeenUs >= last.lastSeenUs) break;
        a[i] = a[c];
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

/**
 * Generates exactly `total` flows over `days` days and hands them to `sink` in batches of
 * BUILD_BATCH, in the order they end. Returns the first and last packet times (µs).
 */
async function generateFlows(total, days, seed, sink) {
  const rng = new Rng(seed);
  const hosts = makeHosts(rng);
  const minutes = days * 1440;
  const startMs = END_MS - days * DAY_MS;
  const weights = Array.from({ length: minutes }, (_, m) => minuteWeight(rng, startMs + m * 60_000));
  const weightSum = weights.reduce((s, w) => s + w, 0);
  const cumulativeShares = [];
  let acc = 0;
  for (const k of KINDS) cumulativeShares.push((acc += k.share / KIND_TOTAL));
  const heap = new EndHeap();
  let batch = [];
  let made = 0;
  let expected = 0;
  let firstUs = Infinity;
  let lastUs = 0;
  const emit = async (f) => {
    batch.push(f);
    if (f.lastSeenUs > lastUs) lastUs = f.lastSeenUs;
    if (batch.length >= BUILD_BATCH) {
      await sink(batch);
      batch = [];
    }
  };
  for (let m = 0; m < minutes; m++) {
    const minuteStart = startMs * 1000 + m * MINUTE_US;
    while (heap.size > 0 && heap.peek().lastSeenUs < minuteStart) await emit(heap.pop());
    expected += (weights[m] / weightSum) * total;
    const count = m === minutes - 1 ? total - made : Math.round(expected) - made;
    for (let i = 0; i < count; i++) {
      const t = minuteStart + rng.int(MINUTE_US);
      const r = rng.float();
      let k = 0;
      while (cumulativeShares[k] <= r && k < KINDS.length - 1) k++;
      const f = KINDS[k].make(rng, hosts, t);
      if (t < firstUs) firstUs = t;
      heap.push(f);
    }
    made += count;
  }
  while (heap.size > 0) await emit(heap.pop());
  if (batch.length > 0) await sink(batch);
  return { firstUs, lastUs, busiestClient: hosts.clients[0], hosts };
}

// ---------------------------------------------------------------------------------------------
// The store

function storePaths(opts) {
  const base = join(OUT, `api-store-${opts.flows}-${opts.days}d-seed${opts.seed}`);
  return { db: `${base}.db`, meta: `${base}.json` };
}

function fileSize(path) {
  let size = 0;
  for (const suffix of ['', '-wal', '-shm'])
    if (existsSync(path + suffix)) size += statSync(path + suffix).size;
  return size;
}

/** The cached store when it holds the right number of flows, else null. */
function cachedStore(paths, opts) {
  if (opts.rebuild || !existsSync(paths.db) || !existsSync(paths.meta)) return null;
  const meta = JSON.parse(readFileSync(paths.meta, 'utf8'));
  const db = new BetterSqlite3(paths.db, { readonly: true });
  try {
    const n = db.prepare('select count(*) as n from flows').get().n;
    if (n !== opts.flows || meta.flows !== opts.flows) {
      console.error(`api-bench: ${relative(ROOT, paths.db)} holds ${n} flows, not ${opts.flows}: rebuilding`);
      return null;
    }
  } finally {
    db.close();
  }
  return meta;
}

async function buildStore(paths, opts) {
  for (const suffix of ['', '-wal', '-shm']) rmSync(paths.db + suffix, { force: true });
  rmSync(paths.meta, { force: true });
  const started = performance.now();
  // The server's own open: creates the file with its pragmas (auto_vacuum, WAL) and migrates it.
  const store = await openStore(paths.db);
  let done = 0;
  const progress = (n) => {
    const step = Math.max(1, Math.floor(opts.flows / 10));
    if (Math.floor((done + n) / step) > Math.floor(done / step)) {
      const secs = (performance.now() - started) / 1000;
      console.error(`api-bench: ${done + n} of ${opts.flows} flows written (${secs.toFixed(0)} s)`);
    }
    done += n;
  };
  let range;
  if (opts.buildVia === 'repository') {
    // The flow writer's path: insertFlows in batches of a few thousand, one transaction each.
    range = await generateFlows(opts.flows, opts.days, opts.seed, async (rows) => {
      for (let i = 0; i < rows.length; i += 5000) await store.flows.insertFlows(rows.slice(i, i + 5000));
      progress(rows.length);
    });
    await store.close();
  } else {
    await store.close();
    const db = new BetterSqlite3(paths.db);
    // Connection settings for the build only (none is kept in the file): no fsync, a large page
    // cache for the four flow indexes that grow in address order.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -1048576');
    const insertFlow = db.prepare(
      `insert into flows (first_seen_us, last_seen_us, ip_version, protocol, src_addr, dst_addr, src_port,
         dst_port, packets_to_server, bytes_to_server, packets_to_client, bytes_to_client,
         tcp_flags_to_server, tcp_flags_to_client, state, end_reason)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // The repository's upsert (flow-repository.ts insertFlowsIn): minutes shared between batches add up.
    const upsertRollup = db.prepare(
      `insert into flow_rollups (minute_us, host, protocol, packets, bytes, flows) values (?, ?, ?, ?, ?, ?)
       on conflict (minute_us, host, protocol) do update set
         packets = flow_rollups.packets + excluded.packets,
         bytes = flow_rollups.bytes + excluded.bytes,
         flows = flow_rollups.flows + excluded.flows`,
    );
    // And its hour and day totals of the same rows (rollup-tables.ts addRollups).
    const upsertTotals = [
      [HOUR_US, 'host_hour_totals', 'hour_us'],
      [DAY_US, 'host_day_totals', 'day_us'],
    ].map(([unitUs, table, time]) => ({
      unitUs,
      statement: db.prepare(
        `insert into ${table} (host, ${time}, packets, bytes, flows) values (?, ?, ?, ?, ?)
         on conflict (host, ${time}) do update set
           packets = ${table}.packets + excluded.packets,
           bytes = ${table}.bytes + excluded.bytes,
           flows = ${table}.flows + excluded.flows`,
      ),
    }));
    const writeBatch = db.transaction((rows) => {
      for (const f of rows) {
        insertFlow.run(
          f.firstSeenUs,
          f.lastSeenUs,
          f.ipVersion,
          f.protocol,
          f.srcAddr,
          f.dstAddr,
          f.srcPort,
          f.dstPort,
          f.packetsToServer,
          f.bytesToServer,
          f.packetsToClient,
          f.bytesToClient,
          f.tcpFlagsToServer,
          f.tcpFlagsToClient,
          f.state,
          f.endReason,
        );
      }
      const rollups = rollUpFlows(rows);
      for (const r of rollups) upsertRollup.run(r.minuteUs, r.host, r.protocol, r.packets, r.bytes, r.flows);
      for (const { unitUs, statement } of upsertTotals) {
        for (const t of rollUpPeriods(rollups, unitUs))
          statement.run(t.host, t.periodUs, t.packets, t.bytes, t.flows);
      }
    });
    range = await generateFlows(opts.flows, opts.days, opts.seed, (rows) => {
      writeBatch(rows);
      progress(rows.length);
    });
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
  }
  const check = new BetterSqlite3(paths.db, { readonly: true });
  const flows = check.prepare('select count(*) as n from flows').get().n;
  const rollupRows = check.prepare('select count(*) as n from flow_rollups').get().n;
  check.close();
  if (flows !== opts.flows) throw new Error(`the store holds ${flows} flows, expected ${opts.flows}`);
  const meta = {
    flows,
    rollupRows,
    days: opts.days,
    seed: opts.seed,
    builtVia: opts.buildVia,
    buildSeconds: Number(((performance.now() - started) / 1000).toFixed(1)),
    bytes: fileSize(paths.db),
    firstUs: range.firstUs,
    lastUs: range.lastUs,
    startMs: END_MS - opts.days * DAY_MS,
    endMs: END_MS,
    busiestClient: range.busiestClient,
    builtAt: new Date().toISOString(),
  };
  writeFileSync(paths.meta, JSON.stringify(meta, null, 2) + '\n');
  return meta;
}

// ---------------------------------------------------------------------------------------------
// Scenarios

/**
 * Each scenario: the API path, and the same request as repository calls (the route's own
 * translation: milliseconds to microseconds, the route's defaults) to time and explain the queries.
 */
function scenarios(meta, cursor, deepCursor) {
  const end = meta.endMs;
  const host = meta.busiestClient;
  const traffic = (label, from, bucketSeconds, extra = {}) => ({
    path: `/api/traffic?${new URLSearchParams({ from: String(from), to: String(end), bucketSeconds: String(bucketSeconds), ...extra })}`,
    label,
    queries: (repo) => [
      () => repo.traffic(from * 1000, end * 1000, bucketSeconds, extra.host ? { host: extra.host } : {}),
      () => repo.topTalkers(from * 1000, end * 1000, 10, 'bytes'),
    ],
  });
  const flows = (label, params, filter) => ({
    path: `/api/flows${Object.keys(params).length ? `?${new URLSearchParams(params)}` : ''}`,
    label,
    queries: (repo) => [() => repo.queryFlows(filter)],
  });
  return {
    'traffic-hour': traffic('last hour, 1 min buckets', end - HOUR_MS, 60),
    'traffic-day': traffic('last day, 5 min buckets', end - DAY_MS, 300),
    'traffic-week': traffic(`all ${meta.days} days, 1 h buckets`, meta.startMs, 3600),
    'traffic-host': traffic(`host ${host}, last day, 5 min`, end - DAY_MS, 300, { host }),
    'flows-newest': flows('newest page (100)', {}, {}),
    'flows-page2': flows('second page by cursor', { cursor }, { cursor }),
    'flows-deep-page': flows('page by cursor, a day back', { cursor: deepCursor }, { cursor: deepCursor }),
    'flows-address': flows(`address=${host}`, { address: host }, { address: host }),
    'flows-port22': flows('port=22', { port: '22' }, { port: 22 }),
    // A port next to no flow used: the newest 100 matches are not near the top of the time index.
    'flows-port-rare': flows('port=3306 (rare)', { port: '3306' }, { port: 3306 }),
    'flows-udp-big': flows(
      'protocol=udp&minBytes=1000000',
      { protocol: 'udp', minBytes: '1000000' },
      { protocol: 'udp', minBytes: 1_000_000 },
    ),
  };
}

/**
 * Runs each scenario's repository calls in this process on a connection of its own: the database
 * time alone (best of a few runs, warm cache), the SQL and its EXPLAIN QUERY PLAN.
 */
async function profileQueries(dbPath, list) {
  const handle = new BetterSqlite3(dbPath, { readonly: true });
  let captured = [];
  const kysely = new Kysely({
    dialect: new SqliteDialect({ database: handle }),
    log: (event) => {
      if (event.level === 'query') captured.push(event.query);
    },
  });
  const repo = new FlowRepository(kysely);
  const out = {};
  for (const [name, s] of list) {
    const queries = s.queries(repo);
    const best = [];
    const sqls = [];
    for (const q of queries) {
      // Best of three, or of one when it is slow (the week's top talkers take seconds).
      let min = Infinity;
      for (let i = 0; i < 3 && (i === 0 || min < 300); i++) {
        captured = [];
        const t = performance.now();
        await q();
        min = Math.min(min, performance.now() - t);
      }
      best.push(min);
      // Every statement of the call (the top talkers run several, in a read transaction).
      const statements = captured
        .filter((query) => !/^(begin|commit|rollback)\b/i.test(query.sql))
        .map((query) => ({
          sql: query.sql,
          parameters: query.parameters,
          plan: handle
            .prepare(`explain query plan ${query.sql}`)
            .all(...query.parameters)
            .map((r) => r.detail),
        }));
      sqls.push({ bestMs: Number(min.toFixed(2)), statements });
    }
    out[name] = { dbMs: Number(best.reduce((a, b) => a + b, 0).toFixed(2)), queries: sqls };
  }
  await kysely.destroy();
  return out;
}

// ---------------------------------------------------------------------------------------------
// The server

/** CPU seconds a process has used (Linux /proc; NaN elsewhere). */
function processCpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, USER_HZ
  } catch {
    return NaN;
  }
}

/** CPU seconds all processes have used since boot (Linux /proc/stat; NaN elsewhere). */
function busyCpuSeconds() {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: all but idle and iowait, in USER_HZ (100/s).
    const [user, nice, system, , , irq, softirq, steal] = fields;
    return (user + nice + system + irq + softirq + steal) / 100;
  } catch {
    return NaN;
  }
}

/** `flowtrack serve` from dist/ as a child process, on 127.0.0.1 and a free port. */
async function startServerProcess(dbPath) {
  const dataDir = join(OUT, 'api-server');
  mkdirSync(dataDir, { recursive: true });
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FLOWTRACK_')));
  Object.assign(env, {
    FLOWTRACK_DATA_DIR: dataDir,
    FLOWTRACK_STORE_URL: dbPath,
    FLOWTRACK_SERVER_HOST: '127.0.0.1',
    FLOWTRACK_SERVER_PORT: '0',
    FLOWTRACK_LOGS_LEVEL: 'warn',
    FLOWTRACK_RATE_LIMIT_PER_MINUTE: '1000000',
    // The synthetic week is in the past: retention must not delete it, nor a backup copy it mid-run.
    FLOWTRACK_RETENTION_FLOWS_DAYS: '36500',
    FLOWTRACK_BACKUP_INTERVAL_HOURS: '0',
    FLOWTRACK_AUTH_ACCESS_TOKEN_TTL_SECONDS: '3600',
  });
  const child = spawn(process.execPath, [join(DIST, 'cli/main.js'), 'serve'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start in 30 s:\n${stderr}`)), 30_000);
    const onData = () => {
      const m = /serving the API at (\S+)\/api/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        child.stderr.off('data', onData);
        child.off('exit', onExit);
        resolve(m[1]);
      }
    };
    const onExit = (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code ?? signal}) before listening:\n${stderr}`));
    };
    child.stderr.on('data', onData);
    child.once('exit', onExit);
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    url,
    pid: child.pid,
    /** What it printed, less the start-up lines and the setup token. */
    said: () =>
      stderr
        .replace(/^flowtrack: (serving|stopping).*\n/gm, '')
        .replace(/^flowtrack: no admin exists yet\.[^\n]*\n(?: {2}[^\n]*\n)*/gm, '')
        .trim(),
    /** SIGTERM (a clean close); SIGKILL when `now` or when it has not exited within 10 s. */
    async stop(now = false) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(now ? 'SIGKILL' : 'SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Waits until the server has used no CPU for a while: requests autocannon left in flight at the
 * end of a run are still being answered (a synchronous SQLite query cannot be interrupted), and
 * they must not land in the next scenario. False when it is still busy after `maxSeconds`.
 */
async function waitIdle(pid, maxSeconds) {
  const deadline = performance.now() + maxSeconds * 1000;
  let quiet = 0;
  let last = processCpuSeconds(pid);
  while (performance.now() < deadline) {
    await sleep(250);
    const now = processCpuSeconds(pid);
    if (!Number.isFinite(now)) return true;
    quiet = now - last < 0.03 ? quiet + 1 : 0;
    last = now;
    if (quiet >= 2) return true;
  }
  return false;
}

/**
 * Opens the store as the server does, which applies this build's pending migrations (a cached
 * store made by an older build gets its new indexes here, before anything is timed), and puts a
 * fresh viewer with a known password in it (as `flowtrack user add` would). Returns the schema
 * version.
 */
async function prepareStore(dbPath) {
  const store = await openStore(dbPath);
  try {
    const old = await store.users.findByUsername(USERNAME);
    if (old) await store.users.delete(old.id);
    await store.users.create(
      { username: USERNAME, passwordHash: await hashPassword(PASSWORD), role: 'viewer' },
      Date.now(),
    );
    return await store.schemaVersion();
  } finally {
    await store.close();
  }
}

async function signIn(url) {
  const res = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: USERNAME, password: PASSWORD }),
  });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(body)}`);
  return body.accessToken;
}

/** One request, checked: 200 and JSON. Returns the body and the time it took. */
async function getJson(url, token) {
  const started = performance.now();
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${JSON.stringify(body)}`);
  return { body, ms: performance.now() - started };
}

/** What one answer holds, as a sanity check before loading the scenario. */
function describeAnswer(body) {
  if (Array.isArray(body.series)) {
    const nonEmpty = body.series.filter((b) => b.flows > 0).length;
    return `${body.series.length} buckets (${nonEmpty} with flows), ${body.topTalkers.length} talkers`;
  }
  return `${body.items.length} flow${body.items.length === 1 ? '' : 's'}${body.nextCursor ? ', more' : ''}`;
}

function runAutocannon(options) {
  return new Promise((resolve, reject) => {
    autocannon(options, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/**
 * One scenario: a checked single request (it must answer 200 with rows), a warm-up, the timed run,
 * then a wait until the server has answered what was left in flight. Returns the result row and
 * whether the server had to be restarted because that wait did not end.
 */
async function measureScenario(server, token, name, s, profile, opts) {
  const url = `${server.url}${s.path}`;
  const first = await getJson(url, token);
  const answer = describeAnswer(first.body);
  const base = { url, headers: { authorization: `Bearer ${token}` }, timeout: opts.duration + 30 };
  // A request slower than 100 ms is its own warm-up: a burst of them would only queue up.
  if (opts.warmup > 0 && first.ms < 100) {
    await runAutocannon({ ...base, connections: opts.connections, duration: opts.warmup });
    await waitIdle(server.pid, 30);
  }
  const cpuBefore = processCpuSeconds(server.pid);
  const busyBefore = busyCpuSeconds();
  const ownBefore = process.cpuUsage();
  const r = await runAutocannon({ ...base, connections: opts.connections, duration: opts.duration });
  const cpu = processCpuSeconds(server.pid) - cpuBefore;
  const own = process.cpuUsage(ownBefore);
  const others = busyCpuSeconds() - busyBefore - cpu - (own.user + own.system) / 1e6;
  const drainStarted = performance.now();
  const idle = await waitIdle(server.pid, 20);
  const drainSeconds = (performance.now() - drainStarted) / 1000;
  const ok2xx = r['2xx'];
  const failures = [];
  if (r.non2xx > 0) failures.push(`${r.non2xx} non-2xx answers (${JSON.stringify(r.statusCodeStats)})`);
  if (r.errors > 0 || r.timeouts > 0) failures.push(`${r.errors} errors, ${r.timeouts} timeouts`);
  const result = {
    scenario: name,
    label: s.label,
    path: s.path,
    answer,
    ok: failures.length === 0,
    failure: failures.join('; ') || null,
    /** Fewer answers than connections: each connection waited on a queue of slow queries. */
    tooFewAnswers: ok2xx < opts.connections,
    requestsSent: r.requests.sent,
    ok2xx,
    seconds: r.duration,
    requestsPerSecond: ok2xx / r.duration,
    requestsPerSecondSamples: { mean: r.requests.mean, stddev: r.requests.stddev },
    latencyMs:
      ok2xx > 0
        ? {
            p50: r.latency.p50,
            p90: r.latency.p90,
            p99: r.latency.p99,
            max: r.latency.max,
            mean: r.latency.mean,
          }
        : null,
    throughputBytesPerSecond: r.throughput.mean,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    /** The server's CPU during the timed run, in % of one core (it serves on one thread). */
    serverCpuPercent: Number(((cpu / r.duration) * 100).toFixed(0)),
    /** autocannon's CPU (this process), and that of every other process on the machine (noise). */
    loadGeneratorCpuPercent: Number((((own.user + own.system) / 1e6 / r.duration) * 100).toFixed(0)),
    othersCpuPercent: Number.isFinite(others)
      ? Number(((Math.max(0, others) / r.duration) * 100).toFixed(0))
      : null,
    /** Time the server went on answering requests left in flight after the run. */
    drainSeconds: idle ? Number(drainSeconds.toFixed(1)) : null,
    dbMs: profile.dbMs,
    queries: profile.queries,
  };
  const lat = result.latencyMs;
  console.error(
    `api-bench: ${name}: ${result.requestsPerSecond.toFixed(1)} req/s, ` +
      (lat ? `p50 ${lat.p50} ms, p99 ${lat.p99} ms` : 'no answer within the run') +
      ` (${answer}; database alone ${result.dbMs} ms; server CPU ${result.serverCpuPercent}%, autocannon ${result.loadGeneratorCpuPercent}%, others ${result.othersCpuPercent}%` +
      `${idle ? `, busy ${result.drainSeconds} s after the run` : ', still busy 20 s after the run: restarting it'})` +
      (result.ok ? '' : `: FAILED: ${result.failure}`),
  );
  return { result, restart: !idle };
}

// ---------------------------------------------------------------------------------------------

function renderTable(report) {
  const rows = [
    [
      'scenario',
      'request',
      'req/s',
      'p50 ms',
      'p99 ms',
      'max ms',
      'MiB/s',
      'non-2xx',
      'errors',
      'server CPU',
      'DB ms',
    ],
  ];
  const ms = (v) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
  for (const r of report.results) {
    const lat = r.latencyMs;
    rows.push([
      r.scenario,
      r.label,
      r.requestsPerSecond >= 10 ? r.requestsPerSecond.toFixed(0) : r.requestsPerSecond.toFixed(2),
      lat ? ms(lat.p50) : '-',
      lat ? ms(lat.p99) : `> ${r.seconds * 1000}`,
      lat ? ms(lat.max) : '-',
      (r.throughputBytesPerSecond / 2 ** 20).toFixed(2),
      String(r.non2xx),
      String(r.errors + r.timeouts),
      `${r.serverCpuPercent}%`,
      ms(r.dbMs),
    ]);
  }
  const widths = rows[0].map((_, col) => Math.max(...rows.map((row) => row[col].length)));
  const line = (row) =>
    `| ${row.map((cell, col) => (col >= 2 ? cell.padStart(widths[col]) : cell.padEnd(widths[col]))).join(' | ')} |`;
  const st = report.store;
  const out = [
    `API load: ${st.flows.toLocaleString('en-US')} flows over ${st.days} days ` +
      `(${st.rollupRows.toLocaleString('en-US')} rollup rows, ${(st.bytes / 2 ** 20).toFixed(0)} MiB); ` +
      `${report.connections} connections, ${report.duration} s per scenario`,
    '',
    line(rows[0]),
    `|${widths.map((wd, col) => (col >= 2 ? `${'-'.repeat(wd + 1)}:` : '-'.repeat(wd + 2))).join('|')}|`,
    ...rows.slice(1).map(line),
    '',
  ];
  const noisy = report.results.filter((x) => x.othersCpuPercent !== null && x.othersCpuPercent > 10);
  if (noisy.length > 0) {
    out.push(
      `note    other processes used CPU meanwhile (figures may be low): ` +
        noisy.map((x) => `${x.scenario} ${x.othersCpuPercent}%`).join(', '),
    );
  }
  for (const r of report.results.filter((x) => x.tooFewAnswers)) {
    out.push(
      `note    ${r.scenario}: ${r.ok2xx} answer${r.ok2xx === 1 ? '' : 's'} in ${r.seconds} s with ${report.connections} connections: ` +
        'each request queued behind the others on the server; its latency figures are the few that finished',
    );
  }
  for (const r of report.results.filter((x) => x.latencyMs === null || x.latencyMs.p99 > SLOW_P99_MS)) {
    out.push(
      `SLOW    ${r.scenario}: p99 ${r.latencyMs ? `${r.latencyMs.p99.toFixed(0)} ms` : `over ${r.seconds} s`}; its queries (database alone):`,
    );
    for (const q of r.queries) {
      out.push(`          ${q.bestMs} ms, ${q.statements.length} statement(s):`);
      for (const st of q.statements) {
        out.push(`            ${st.sql}`, `            parameters ${JSON.stringify(st.parameters)}`);
        for (const step of st.plan) out.push(`              plan: ${step}`);
      }
    }
  }
  for (const r of report.results.filter((x) => !x.ok)) out.push(`FAILED  ${r.scenario}: ${r.failure}`);
  return `${out.join('\n')}\n`;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  mkdirSync(OUT, { recursive: true });
  const paths = storePaths(opts);

  let meta = cachedStore(paths, opts);
  if (meta) {
    console.error(
      `api-bench: reusing ${relative(ROOT, paths.db)}: ${meta.flows} flows, ${meta.rollupRows} rollup rows, ` +
        `${(fileSize(paths.db) / 2 ** 20).toFixed(0)} MiB (built in ${meta.buildSeconds} s; --rebuild for a new one)`,
    );
  } else {
    console.error(
      `api-bench: building ${relative(ROOT, paths.db)} (${opts.flows} flows over ${opts.days} days, via ${opts.buildVia})`,
    );
    meta = await buildStore(paths, opts);
    console.error(
      `api-bench: built in ${meta.buildSeconds} s: ${meta.flows} flows, ${meta.rollupRows} rollup rows, ` +
        `${(meta.bytes / 2 ** 20).toFixed(0)} MiB`,
    );
  }

  const opened = performance.now();
  const schemaVersion = await prepareStore(paths.db);
  console.error(
    `api-bench: store at schema version ${schemaVersion} (opened and migrated in ${((performance.now() - opened) / 1000).toFixed(1)} s)`,
  );

  // Page 2 needs the cursor page 1 hands out: the repository makes the same one the API does.
  const cursorDb = new Kysely({
    dialect: new SqliteDialect({ database: new BetterSqlite3(paths.db, { readonly: true }) }),
  });
  const cursor = (await new FlowRepository(cursorDb).queryFlows({})).nextCursor;
  await cursorDb.destroy();
  // And a page deep in the list: the one after the newest flow that ended a day before the end.
  const keyDb = new BetterSqlite3(paths.db, { readonly: true });
  const dayBack = keyDb
    .prepare(
      'select last_seen_us, id from flows where last_seen_us < ? order by last_seen_us desc, id desc limit 1',
    )
    .get((meta.endMs - DAY_MS) * 1000);
  keyDb.close();
  const all = scenarios(meta, cursor, encodeCursor([dayBack.last_seen_us, dayBack.id]));
  if (opts.list) {
    for (const [name, s] of Object.entries(all)) console.log(`${name.padEnd(16)} ${s.path}`);
    return;
  }
  const unknown = (opts.scenarios ?? []).filter((n) => !(n in all));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')} (--list shows them)`);
  const chosen = Object.entries(all).filter(
    ([name]) => opts.scenarios === null || opts.scenarios.includes(name),
  );

  console.error('api-bench: timing the queries alone (repository, this process)');
  const profiles = await profileQueries(paths.db, chosen);

  const report = {
    date: new Date().toISOString(),
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      kernel: release(),
      node: process.version,
    },
    store: { file: relative(ROOT, paths.db), ...meta, schemaVersion, bytes: fileSize(paths.db) },
    connections: opts.connections,
    duration: opts.duration,
    warmup: opts.warmup,
    results: [],
    restarts: [],
  };
  let server = await startServerProcess(paths.db);
  console.error(`api-bench: server ${server.pid} listening at ${server.url}`);
  const said = [];
  try {
    const token = await signIn(server.url);
    for (const [name, s] of chosen) {
      const { result, restart } = await measureScenario(server, token, name, s, profiles[name], opts);
      report.results.push(result);
      if (restart) {
        // Nothing is written meanwhile (the workload only reads), so killing it loses nothing.
        await server.stop(true);
        said.push(server.said());
        server = await startServerProcess(paths.db);
        report.restarts.push(name);
        console.error(`api-bench: server ${server.pid} listening at ${server.url}`);
      }
    }
  } finally {
    await server.stop();
    said.push(server.said());
    const text = said.filter(Boolean).join('\n');
    if (text) console.error(`api-bench: the server said:\n${text}`);
  }
  report.date = new Date().toISOString();
  writeFileSync(join(OUT, 'api-results.json'), JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(renderTable(report));
  if (report.results.some((r) => !r.ok)) process.exitCode = 1;
}

main().catch((err) => {
  console.error(`api-bench: ${err.message}`);
  process.exitCode = 1;
});
