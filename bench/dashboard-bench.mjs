/**
 * Dashboard benchmark: the overview in a real browser (playwright-core driving Debian's Chromium)
 * against a real `flowtrack serve` (dist/cli/main.js) on a store of millions of flows. It measures
 * the dashboard issue's must-show: "the overview with a 24 h range over 5 million stored flows and
 * 1,000 alerts is interactive in under 1 s, and an hour of live updates leaves the page's JS heap
 * flat (measured through the browser). The initial bundle stays under 400 KB gzipped."
 *
 * 1. Seed: a fresh SQLite store in a temporary directory, created and migrated by openStore
 *    (dist/store/store.js), filled through the store's own repositories: `store.flows.insertFlows`
 *    in batches of 5,000 (the store writer's transaction size; each batch writes its flows and
 *    their minute rollups and hour and day totals as the server does), then
 *    `store.alerts.upsertAlerts` for the alerts. The flows are a deterministic synthetic day of a
 *    site ending now (own seeded PRNG): 2,500 internal clients (and their IPv6 addresses), 5,000
 *    outside servers and 1,000 outside clients, each picked with a skewed popularity; web, DNS,
 *    QUIC, LAN services, NTP, syslog/SNMP, ICMP, inbound connections and scans; log-normal sizes;
 *    busier in the afternoon (UTC). They reach the store in the order they end, as the flow
 *    writer hands them over.
 * 2. Overview 24 h: `flowtrack serve --no-capture` on that data directory (127.0.0.1, a free port);
 *    the admin is created with the one-time setup token the server prints, signs in through the
 *    sign-in page, then each load opens a fresh page of the same browser context (the session's
 *    refresh token carried over, as a reload of the tab does) at /?range=24h and waits until the
 *    page is interactive: a traffic bar (a link "... open its flows") is drawn, the top talkers
 *    table has rows and the alerts panel shows its counts. The first load is cold (new context,
 *    nothing cached, the server's first queries); the figure is the median of the next `--loads`.
 *    The API requests' times come from the page's resource timing and from the same requests
 *    timed again with fetch from this process.
 * 3. Live heap: `flowtrack serve --replay FILE --speed 1` on a capture of ordinary traffic written
 *    here (about 25 packets a second, as long as `--minutes` plus a margin), so the live feed
 *    brings an update every second. The overview stays open in Live mode; every minute the bench
 *    forces a garbage collection in the page (`--js-flags=--expose-gc`, window.gc()) and reads the
 *    used JS heap (performance.memory with --enable-precise-memory-info, and CDP
 *    Performance.getMetrics), then prints the series, its first-to-last change and its
 *    least-squares slope.
 * 4. Bundle: the gzipped size (node:zlib, level 9) of what dist/web/index.html loads initially:
 *    its entry script and style sheet and every chunk the entry imports statically.
 *
 * Everything listens on 127.0.0.1. The temporary directory, the servers and the browsers are
 * removed and stopped on exit, on error and on Ctrl-C.
 *
 * Usage: npm run build && node bench/dashboard-bench.mjs [--flows N] [--alerts N] [--minutes M]
 *          [--loads N] [--seed N] [--parts seed,overview,heap,bundle] [--snapshots DIR]
 *        --snapshots DIR: heap snapshots of the page at minutes 5 and the last into DIR
 *        (compare them with bench/heap-diff.mjs)
 */

import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearTimeout, setTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { constants as zlibConstants, gzipSync } from 'node:zlib';
import BetterSqlite3 from 'better-sqlite3';
import { chromium } from 'playwright-core';
import { Rng } from './make-capture.mjs';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH_DIR);
const DIST = join(ROOT, 'dist');
const CLI = join(DIST, 'cli/main.js');
const WEB = join(DIST, 'web');
const CHROMIUM = process.env.FLOWTRACK_CHROMIUM ?? '/usr/bin/chromium';
const { fetch } = globalThis;

const USERNAME = 'ada';
const PASSWORD = 'plover-quartz-umbrella-71';
/** The web app's sessionStorage key of the refresh token (web/src/api/api-client.ts). */
const REFRESH_TOKEN_KEY = 'flowtrack.refreshToken';
const TARGET_INTERACTIVE_MS = 1000;
const TARGET_BUNDLE_BYTES = 400 * 1024;
/** Flows per insertFlows call: the store writer's transaction size. */
const SEED_BATCH = 5000;
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const VIEWPORT = { width: 1366, height: 860 };

const USAGE =
  'usage: node bench/dashboard-bench.mjs [--flows N] [--alerts N] [--minutes M] [--loads N] [--seed N]\n' +
  '         [--parts seed,overview,heap,bundle] [--snapshots DIR]';

function parseArgs(argv) {
  const opts = {
    flows: 5_000_000,
    alerts: 1000,
    minutes: 60,
    loads: 5,
    seed: 1,
    parts: new Set(['overview', 'heap', 'bundle']),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const number = (min) => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < min) throw new Error(`${a} needs a whole number of at least ${min}`);
      return v;
    };
    if (a === '--flows') opts.flows = number(1000);
    else if (a === '--alerts') opts.alerts = number(0);
    else if (a === '--minutes') opts.minutes = number(1);
    else if (a === '--snapshots') opts.snapshots = argv[++i] ?? '';
    else if (a === '--loads') opts.loads = number(1);
    else if (a === '--seed') opts.seed = number(0);
    else if (a === '--parts') {
      opts.parts = new Set((argv[++i] ?? '').split(',').filter(Boolean));
      for (const p of opts.parts)
        if (!['seed', 'overview', 'heap', 'bundle'].includes(p))
          throw new Error(`unknown part ${p}\n${USAGE}`);
    } else if (a === '-h' || a === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  // The overview and the live heap are measured over the seeded store.
  if (opts.parts.has('overview') || opts.parts.has('heap')) opts.parts.add('seed');
  return opts;
}

const log = (text) => console.error(`dashboard-bench: ${text}`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const count = (n) => n.toLocaleString('en-US');

// ---------------------------------------------------------------------------------------------
// Clean-up: every server, browser and the temporary directory, whatever way the bench ends.

const cleanups = [];
let cleaning = null;
function cleanUp() {
  cleaning ??= (async () => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (err) {
        log(`clean-up: ${err.message}`);
      }
    }
  })();
  return cleaning;
}
/** Synchronous last resort when the process exits without the asynchronous clean-up. */
const children = new Set();
let tempDir = null;
process.on('exit', () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    log(`${signal}: stopping`);
    void cleanUp().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------
// CPU used by other processes (the machine may be shared): per-process times from /proc

/** CPU seconds of every process that is not this one or one of its descendants (Linux; empty elsewhere). */
function othersCpu() {
  const procs = new Map();
  let pids;
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return procs;
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(pid), {
        ppid: Number(fields[1]),
        cpu: (Number(fields[11]) + Number(fields[12])) / 100,
      });
    } catch {
      // ended meanwhile
    }
  }
  const ours = new Set([process.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, p] of procs)
      if (!ours.has(pid) && ours.has(p.ppid)) {
        ours.add(pid);
        grew = true;
      }
  }
  for (const pid of ours) procs.delete(pid);
  return procs;
}

/** Seconds of CPU other processes used since `before` (a snapshot of othersCpu()). */
function othersCpuSince(before) {
  let total = 0;
  for (const [pid, p] of othersCpu()) total += p.cpu - (before.get(pid)?.cpu ?? 0);
  return total;
}

// ---------------------------------------------------------------------------------------------
// 1. The synthetic day of flows

function v4(n) {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}
/** Host number i of a /16, spread over /24s, skipping .0, .1 and .255. */
function hostInSubnet(base, i) {
  return (base + Math.floor(i / 250) * 256 + (i % 250) + 2) >>> 0;
}
/** Popular-first pick in [0, n): low indices far more often (skew 1 is uniform). */
function popular(rng, n, skew) {
  return Math.floor(n * rng.float() ** skew);
}
const clamp = (x, lo, hi) => (x < lo ? lo : x > hi ? hi : x);
const ephemeral = (rng) => rng.range(32768, 60999);
const size = (rng, medianBytes, sigma, max) => Math.round(clamp(rng.logNormal(medianBytes, sigma), 1, max));

const CLIENTS = 2500;
const SERVERS = 5000;
const OUTSIDE = 1000;
const ACTIVE_TIMEOUT_US = 1800 * 1_000_000;

function makeHosts() {
  return {
    clients: Array.from({ length: CLIENTS }, (_, i) => v4(hostInSubnet(0x0a140000, i))), // 10.20/16
    clientsV6: Array.from({ length: CLIENTS }, (_, i) => `2001:db8:20::${(0x1000 + i).toString(16)}`),
    servers: Array.from({ length: SERVERS }, (_, i) => v4(hostInSubnet(0xc6120000, i))), // 198.18/16
    serversV6: Array.from({ length: 500 }, (_, i) => `2001:db8:ffff::${(0x1000 + i).toString(16)}`),
    outside: Array.from({ length: OUTSIDE }, (_, i) => v4(hostInSubnet(0xc6130000, i))), // 198.19/16
    resolvers: ['10.0.53.1', '10.0.53.2'],
    resolverV6: '2001:db8:53::53',
    ntp: ['198.18.123.1', '198.18.123.2'],
    collector: '10.0.0.10',
    devices: Array.from({ length: 40 }, (_, i) => `10.0.0.${200 + i}`),
    lan: [
      { addr: '10.0.0.20', port: 445 },
      { addr: '10.0.0.21', port: 445 },
      { addr: '10.0.0.30', port: 22 },
      { addr: '10.0.0.40', port: 3389 },
      { addr: '10.0.0.50', port: 389 },
      { addr: '10.0.0.60', port: 8080 },
      { addr: '10.0.0.61', port: 5432 },
    ],
    dmz: ['10.0.1.10', '10.0.1.11', '10.0.1.12', '10.0.1.13'],
  };
}

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

/** A TCP connection: unanswered, refused, or `req` bytes up and `resp` down, closed in some way. */
function tcp(rng, f, req, resp, { unanswered = 0.02, refused = 0.01, durMedianS = 1.5 } = {}) {
  const hdr = f.ipVersion === 6 ? 86 : 66;
  const r = rng.float();
  if (r < unanswered) {
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
    f.tcpFlagsToServer = 'SRPA';
    f.tcpFlagsToClient = 'SPA';
    f.state = 'closed-rst';
    f.endReason = 'closed';
  } else {
    f.tcpFlagsToServer = 'SPA';
    f.tcpFlagsToClient = 'SPA';
  }
  f.lastSeenUs = f.firstSeenUs + durUs;
  return f;
}

/** A UDP (or ICMP) exchange of `pu` packets up and `pd` down. */
function udp(f, pu, bu, pd, bd, durUs) {
  const hdr = f.ipVersion === 6 ? 62 : 42;
  f.packetsToServer = pu;
  f.bytesToServer = bu + pu * hdr;
  f.packetsToClient = pd;
  f.bytesToClient = bd + pd * hdr;
  f.lastSeenUs = f.firstSeenUs + Math.max(0, Math.round(durUs));
  return f;
}

/** Flow kinds: share of all flows, and how to make one starting at `t` (µs). */
const KINDS = [
  {
    share: 36,
    make(rng, h, t) {
      const c = popular(rng, CLIENTS, 2.5);
      const f = rng.chance(0.1)
        ? flow(t, 6, 'tcp', h.clientsV6[c], h.serversV6[popular(rng, 500, 3)], ephemeral(rng), 443)
        : flow(t, 4, 'tcp', h.clients[c], h.servers[popular(rng, SERVERS, 3)], ephemeral(rng), 443);
      return tcp(rng, f, size(rng, 1500, 1.2, 50e6), size(rng, 9000, 2.0, 2e9));
    },
  },
  {
    share: 26,
    make(rng, h, t) {
      const c = popular(rng, CLIENTS, 2.5);
      const f = rng.chance(0.1)
        ? flow(t, 6, 'udp', h.clientsV6[c], h.resolverV6, ephemeral(rng), 53)
        : flow(t, 4, 'udp', h.clients[c], h.resolvers[rng.int(2)], ephemeral(rng), 53);
      const answered = rng.chance(0.97);
      return udp(
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
    share: 7,
    make(rng, h, t) {
      const c = popular(rng, CLIENTS, 2.5);
      const f = flow(t, 4, 'udp', h.clients[c], h.servers[popular(rng, 300, 2)], ephemeral(rng), 443);
      const down = size(rng, 20_000, 2.0, 2e9);
      const pd = Math.ceil(down / 1252) + 2;
      const pu = 2 + Math.ceil(pd / 3);
      const seconds = rng.logNormal(2, 1.4) + down / rng.logNormal(3e6, 1);
      return udp(f, pu, pu * 60 + 1200, pd, down, Math.min(seconds * 1e6, ACTIVE_TIMEOUT_US));
    },
  },
  {
    share: 6,
    make(rng, h, t) {
      const f = flow(
        t,
        4,
        'tcp',
        h.clients[popular(rng, CLIENTS, 2.5)],
        h.servers[popular(rng, SERVERS, 3)],
        ephemeral(rng),
        80,
      );
      return tcp(rng, f, size(rng, 600, 1, 5e6), size(rng, 5000, 2.2, 2e9));
    },
  },
  {
    share: 6,
    make(rng, h, t) {
      const s = h.lan[popular(rng, h.lan.length, 1.5)];
      const f = flow(t, 4, 'tcp', h.clients[popular(rng, CLIENTS, 2)], s.addr, ephemeral(rng), s.port);
      const interactive = s.port === 22 || s.port === 3389;
      return tcp(
        rng,
        f,
        size(rng, interactive ? 20_000 : 2000, 1.8, 1e9),
        size(rng, interactive ? 80_000 : 30_000, 2.2, 4e9),
        { unanswered: 0.005, refused: 0.005, durMedianS: interactive ? 120 : 0.5 },
      );
    },
  },
  {
    share: 2,
    make(rng, h, t) {
      const f = flow(t, 4, 'udp', h.clients[rng.int(CLIENTS)], h.ntp[rng.int(2)], 123, 123);
      return udp(f, 1, 48, 1, 48, rng.range(5_000, 60_000));
    },
  },
  {
    share: 3,
    make(rng, h, t) {
      const device = h.devices[rng.int(h.devices.length)];
      if (rng.chance(0.6)) {
        const f = flow(t, 4, 'udp', device, h.collector, 514, 514);
        const n = 1 + popular(rng, 200, 4);
        return udp(f, n, n * size(rng, 180, 0.5, 1400), 0, 0, n === 1 ? 0 : rng.range(1e6, 50e6));
      }
      const f = flow(t, 4, 'udp', h.collector, device, ephemeral(rng), 161);
      const n = rng.range(1, 20);
      return udp(f, n, n * 80, n, n * size(rng, 300, 0.6, 1400), rng.range(10_000, 2e6));
    },
  },
  {
    share: 3,
    make(rng, h, t) {
      const id = rng.int(65536);
      const f = rng.chance(0.2)
        ? flow(t, 6, 'icmpv6', h.clientsV6[rng.int(CLIENTS)], h.serversV6[popular(rng, 100, 2)], id, id)
        : flow(
            t,
            4,
            'icmp',
            h.clients[rng.int(CLIENTS)],
            rng.chance(0.5) ? h.lan[rng.int(h.lan.length)].addr : h.servers[popular(rng, 200, 2)],
            id,
            id,
          );
      const n = rng.range(1, 10);
      const answered = rng.chance(0.05) ? 0 : n;
      return udp(f, n, n * 56, answered, answered * 56, (n - 1) * 1e6 + rng.range(1000, 50_000));
    },
  },
  {
    share: 6,
    make(rng, h, t) {
      const port = rng.chance(0.7) ? 443 : rng.chance(0.67) ? 80 : 25;
      const f = flow(
        t,
        4,
        'tcp',
        h.outside[popular(rng, OUTSIDE, 2)],
        h.dmz[popular(rng, h.dmz.length, 2)],
        ephemeral(rng),
        port,
      );
      return tcp(rng, f, size(rng, port === 25 ? 30_000 : 900, 1.3, 50e6), size(rng, 15_000, 1.8, 1e9), {
        unanswered: 0.01,
        refused: 0.01,
      });
    },
  },
  {
    share: 5,
    make(rng, h, t) {
      const r = rng.float();
      const port = r < 0.4 ? 22 : r < 0.55 ? 23 : r < 0.65 ? 3389 : rng.range(1, 65535);
      const f = flow(
        t,
        4,
        'tcp',
        h.outside[popular(rng, 100, 3)],
        h.dmz[rng.int(h.dmz.length)],
        ephemeral(rng),
        port,
      );
      if (port === 22)
        return tcp(rng, f, size(rng, 2500, 0.5, 1e5), size(rng, 3500, 0.5, 1e5), {
          unanswered: 0.1,
          refused: 0.1,
          durMedianS: 3,
        });
      return tcp(rng, f, 0, 0, { unanswered: 0.45, refused: 0.55 });
    },
  },
];
const KIND_TOTAL = KINDS.reduce((s, k) => s + k.share, 0);

/** Relative flow rate of a minute: quiet at night, busy in the afternoon (UTC), some noise. */
function minuteWeight(rng, ms) {
  const hour = (ms % DAY_MS) / HOUR_MS;
  const office = Math.exp(-(((hour - 14) / 4) ** 2));
  return (0.25 + 1.25 * office) * (0.9 + 0.2 * rng.float());
}

/**
 * Exactly `total` flows over the day before `endMs`, handed to `sink` in batches in the order
 * they end (flows are queued by the minute of their last packet; a minute's flows are sorted
 * when it is over). No flow ends after `endMs`.
 */
async function generateFlows(total, endMs, seed, sink) {
  const rng = new Rng(seed);
  const hosts = makeHosts();
  const minutes = 1440;
  const startMs = endMs - DAY_MS;
  const endUs = endMs * 1000;
  const weights = Array.from({ length: minutes }, (_, m) => minuteWeight(rng, startMs + m * MINUTE_MS));
  const weightSum = weights.reduce((s, w) => s + w, 0);
  const cumulative = [];
  let acc = 0;
  for (const k of KINDS) cumulative.push((acc += k.share / KIND_TOTAL));
  /** Flows waiting to be stored, by the minute (index) of their last packet. */
  const ending = Array.from({ length: minutes }, () => []);
  let batch = [];
  const emit = async (f) => {
    batch.push(f);
    if (batch.length >= SEED_BATCH) {
      const full = batch;
      batch = [];
      await sink(full);
    }
  };
  const flush = async (m) => {
    const due = ending[m].sort((a, b) => a.lastSeenUs - b.lastSeenUs);
    ending[m] = null;
    for (const f of due) await emit(f);
  };
  let made = 0;
  let expected = 0;
  for (let m = 0; m < minutes; m++) {
    const minuteStartUs = (startMs + m * MINUTE_MS) * 1000;
    expected += (weights[m] / weightSum) * total;
    const n = m === minutes - 1 ? total - made : Math.round(expected) - made;
    for (let i = 0; i < n; i++) {
      const t = minuteStartUs + rng.int(MINUTE_MS * 1000);
      const r = rng.float();
      let k = 0;
      while (cumulative[k] <= r && k < KINDS.length - 1) k++;
      const f = KINDS[k].make(rng, hosts, t);
      if (f.lastSeenUs >= endUs) f.lastSeenUs = endUs - 1;
      ending[Math.floor((f.lastSeenUs / 1000 - startMs) / MINUTE_MS)].push(f);
    }
    made += n;
    // Every flow that ends in minute m started in it or before: minute m is complete now.
    await flush(m);
  }
  if (batch.length > 0) await sink(batch);
  return hosts;
}

const ALERT_KINDS = [
  // type, weight, severities to draw from, attacker outside?, has a single victim?
  ['port_scan', 30, ['low', 'medium', 'medium', 'high'], true, true],
  ['host_sweep', 12, ['low', 'medium'], true, false],
  ['brute_force', 18, ['medium', 'high', 'high', 'critical'], true, true],
  ['connection_flood', 8, ['medium', 'high'], true, true],
  ['syn_flood', 5, ['high', 'critical'], false, true],
  ['udp_flood', 3, ['high'], false, true],
  ['icmp_flood', 3, ['medium', 'high'], false, true],
  ['ddos', 2, ['critical'], false, true],
  ['amplification', 2, ['high', 'critical'], false, true],
  ['traffic_anomaly', 14, ['info', 'low', 'low', 'medium'], false, false],
  ['capture_loss', 3, ['info', 'low'], false, false],
];

/** `n` alerts whose evidence lies in the day before `endMs`, in the pipeline's Alert shape. */
function makeAlerts(n, endMs, seed, hosts) {
  const rng = new Rng(seed + 1000);
  const weightSum = ALERT_KINDS.reduce((s, k) => s + k[1], 0);
  const alerts = [];
  for (let i = 0; i < n; i++) {
    let r = rng.float() * weightSum;
    let kind = ALERT_KINDS[0];
    for (const k of ALERT_KINDS) {
      if (r < k[1]) {
        kind = k;
        break;
      }
      r -= k[1];
    }
    const [type, , severities, outsideAttacker, oneVictim] = kind;
    const durUs = Math.round(rng.logNormal(90, 1.5) * 1e6);
    const endUs = (endMs - 60_000) * 1000 - rng.int((DAY_MS - 20 * MINUTE_MS) * 1000);
    const startUs = Math.max(endUs - durUs, (endMs - DAY_MS) * 1000 + 1);
    const victim = oneVictim ? hosts.dmz[rng.int(hosts.dmz.length)] : null;
    const src = outsideAttacker
      ? hosts.outside[popular(rng, 100, 3)]
      : type === 'traffic_anomaly'
        ? hosts.clients[popular(rng, CLIENTS, 3)]
        : null;
    const packets = Math.round(rng.logNormal(type.includes('flood') || type === 'ddos' ? 2e5 : 800, 1));
    const sampleFlows = Array.from({ length: 1 + rng.int(5) }, () => ({
      protocol:
        type === 'udp_flood' || type === 'amplification' ? 'udp' : type === 'icmp_flood' ? 'icmp' : 'tcp',
      client: src ?? hosts.outside[rng.int(OUTSIDE)],
      server: victim ?? hosts.dmz[rng.int(hosts.dmz.length)],
      packets: 1 + rng.int(20),
      bytes: 60 + rng.int(4000),
      state: rng.chance(0.7) ? 'attempted' : 'rejected',
    }));
    alerts.push({
      id: `${type}:${src ?? '*'}:${victim ?? '*'}:${i + 1}`,
      type,
      severity: severities[rng.int(severities.length)],
      src,
      dst: victim,
      start: startUs,
      end: endUs,
      counters: {
        packets,
        flows: Math.round(packets / (1 + rng.int(4))),
        sources: src ? 1 : 1 + rng.int(5000),
      },
      summary: `${type.replaceAll('_', ' ')}${src ? ` from ${src}` : ''}${victim ? ` against ${victim}` : ''}: ${count(packets)} packets in ${Math.round(durUs / 1e6)} s`,
      evidence: {
        thresholds: [{ metric: 'packets', value: packets, threshold: Math.round(packets / 2) }],
        sampleFlows,
        topSources: src
          ? []
          : Array.from({ length: 5 }, () => ({
              address: hosts.outside[rng.int(OUTSIDE)],
              packets: rng.int(packets),
            })),
      },
      updates: 1 + popular(rng, 40, 3),
    });
  }
  return alerts;
}

function fileBytes(path) {
  let total = 0;
  for (const suffix of ['', '-wal', '-shm'])
    if (existsSync(path + suffix)) total += statSync(path + suffix).size;
  return total;
}

async function seedStore(dataDir, opts) {
  const { openStore } = await import('../dist/store/store.js');
  const dbPath = join(dataDir, 'flowtrack.db');
  // The data's day ends now (to the minute): the overview's 24 h range is the last 24 h.
  const endMs = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
  const started = performance.now();
  const store = await openStore(dbPath);
  let hosts;
  let flowSeconds;
  let alertSeconds;
  try {
    let done = 0;
    const step = Math.max(SEED_BATCH, Math.floor(opts.flows / 10));
    hosts = await generateFlows(opts.flows, endMs, opts.seed, async (rows) => {
      await store.flows.insertFlows(rows);
      if (Math.floor((done + rows.length) / step) > Math.floor(done / step))
        log(
          `${count(done + rows.length)} of ${count(opts.flows)} flows stored (${((performance.now() - started) / 1000).toFixed(0)} s)`,
        );
      done += rows.length;
    });
    flowSeconds = (performance.now() - started) / 1000;
    const alertsStarted = performance.now();
    await store.alerts.upsertAlerts(makeAlerts(opts.alerts, endMs, opts.seed, hosts), Date.now());
    alertSeconds = (performance.now() - alertsStarted) / 1000;
  } finally {
    await store.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const db = new BetterSqlite3(dbPath, { readonly: true });
  const rows = (table) => db.prepare(`select count(*) as n from ${table}`).get().n;
  const result = {
    endMs,
    flows: rows('flows'),
    alerts: rows('alerts'),
    rollupRows: rows('flow_rollups'),
    hourTotalRows: rows('host_hour_totals'),
    hosts: db.prepare("select count(distinct host) as n from host_day_totals where host != '*'").get().n,
    seconds,
    flowSeconds,
    alertSeconds,
    bytes: fileBytes(dbPath),
  };
  db.close();
  if (result.flows !== opts.flows)
    throw new Error(`the store holds ${result.flows} flows, expected ${opts.flows}`);
  return result;
}

// ---------------------------------------------------------------------------------------------
// The server

/** `flowtrack serve ARGS` on `dataDir`, 127.0.0.1 and a free port; resolves once it listens. */
async function startServe(dataDir, args) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FLOWTRACK_')));
  Object.assign(env, {
    FLOWTRACK_DATA_DIR: dataDir,
    FLOWTRACK_SERVER_HOST: '127.0.0.1',
    FLOWTRACK_SERVER_PORT: '0',
    FLOWTRACK_LOGS_LEVEL: 'warn',
    FLOWTRACK_RATE_LIMIT_PER_MINUTE: '100000',
    FLOWTRACK_BACKUP_INTERVAL_HOURS: '0',
  });
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, 'serve', ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  const waiters = new Set();
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text) => {
    stderr += text;
    for (const w of waiters) w();
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const waitFor = (pattern, timeoutMs = 60_000) =>
    new Promise((resolve, reject) => {
      const finish = (settle) => {
        clearTimeout(timer);
        waiters.delete(check);
        child.off('exit', check);
        settle();
      };
      const check = () => {
        const m = pattern.exec(stderr);
        if (m) finish(() => resolve(m));
        else if (child.exitCode !== null || child.signalCode !== null)
          finish(() => reject(new Error(`flowtrack serve exited before ${pattern}:\n${stderr}`)));
      };
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(new Error(`flowtrack serve printed no ${pattern} in ${timeoutMs} ms:\n${stderr}`)),
          ),
        timeoutMs,
      );
      waiters.add(check);
      child.once('exit', check);
      check();
    });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  cleanups.push(stop);
  const url = (await waitFor(/serving the API at (https?:\/\/\S+)\/api /))[1];
  if (!/^https?:\/\/127\.0\.0\.1:/.test(url))
    throw new Error(`the server listens at ${url}, not on 127.0.0.1`);
  return {
    child,
    url,
    waitFor,
    stop,
    stderr: () => stderr,
    startSeconds: (performance.now() - started) / 1000,
  };
}

async function postJson(url, body, token) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Creates the first admin with the setup token the server printed (a fresh store). */
async function createAdmin(server) {
  const setupToken = (await server.waitFor(/one-time setup token:\n\s+(\S+)/))[1];
  const res = await postJson(`${server.url}/api/auth/setup`, {
    setupToken,
    username: USERNAME,
    password: PASSWORD,
  });
  if (res.status !== 201) throw new Error(`setup failed: ${res.status} ${JSON.stringify(res.body)}`);
}

async function apiToken(url) {
  const res = await postJson(`${url}/api/auth/login`, { username: USERNAME, password: PASSWORD });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.accessToken;
}

// ---------------------------------------------------------------------------------------------
// The browser

async function launchBrowser(extraArgs = []) {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', ...extraArgs],
  });
  cleanups.push(() => browser.close());
  return browser;
}

/** Signs in through the sign-in page of `page` (at the server's root). */
async function signIn(page, url) {
  await page.goto(url);
  await page.getByLabel('User name').fill(USERNAME);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Pages' }).waitFor();
}

/**
 * Runs in every new document of a measured page, before the app's scripts: puts the session's
 * refresh token in the tab's sessionStorage (what a reload of a signed-in tab finds there), and
 * records when each part of the overview first shows its data (performance.now(): milliseconds
 * since the navigation started) in `globalThis.__overview`.
 */
function overviewWatcher({ key, token }) {
  const g = globalThis;
  if (g.sessionStorage.getItem(key) === null) g.sessionStorage.setItem(key, token);
  const marks = { bars: null, talkers: null, alerts: null, alertsText: null, dom: null, painted: null };
  g.__overview = marks;
  const now = () => g.performance.now();
  const check = () => {
    const doc = g.document;
    if (marks.bars === null) {
      const bar = doc.querySelector('svg.chart-bars a[aria-label$="open its flows"]');
      const box = bar?.getBoundingClientRect();
      if (box && box.width > 0 && box.height > 0) marks.bars = now();
    }
    if (marks.talkers === null && doc.querySelector('table[aria-label="Top talkers"] tbody tr'))
      marks.talkers = now();
    if (marks.alerts === null) {
      const panel = doc.querySelector('section[aria-label="Alerts in this range"]');
      if (panel?.querySelector('.severities .severity-count')) {
        marks.alerts = now();
        marks.alertsText = panel.querySelector('.panel-note')?.textContent ?? '';
      } else if (panel?.querySelector('.state-empty, .state-error')) {
        marks.alertsText = panel.textContent;
      }
    }
    if (marks.dom === null && marks.bars !== null && marks.talkers !== null && marks.alerts !== null) {
      marks.dom = now();
      observer.disconnect();
      // Drawn: the frame after the DOM holds all three.
      g.requestAnimationFrame(() => g.setTimeout(() => (marks.painted = now()), 0));
    }
  };
  const observer = new g.MutationObserver(check);
  observer.observe(g.document, { childList: true, subtree: true });
}

/** One load of /?range=24h in a fresh page of `context`; returns its figures and the next refresh token. */
async function loadOverview(context, url, token) {
  const page = await context.newPage();
  try {
    await page.addInitScript(overviewWatcher, { key: REFRESH_TOKEN_KEY, token });
    // The renderer's main-thread time (cumulative counters of the page).
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const mainThread = async () => {
      const { metrics } = await cdp.send('Performance.getMetrics');
      const get = (name) => (metrics.find((m) => m.name === name)?.value ?? NaN) * 1000;
      return {
        task: get('TaskDuration'),
        script: get('ScriptDuration'),
        layout: get('LayoutDuration') + get('RecalcStyleDuration'),
      };
    };
    const before = await mainThread();
    const t0 = performance.now();
    await page.goto(`${url}/?range=24h`, { waitUntil: 'commit' });
    const handle = await page.waitForFunction(
      () => {
        const m = globalThis.__overview;
        return m?.painted != null ? m : null;
      },
      null,
      { polling: 'raf', timeout: 120_000 },
    );
    const wallMs = performance.now() - t0;
    const after = await mainThread();
    await cdp.detach();
    const busy = {
      task: after.task - before.task,
      script: after.script - before.script,
      layout: after.layout - before.layout,
    };
    const marks = await handle.jsonValue();
    const resources = await page.evaluate(() =>
      globalThis.performance
        .getEntriesByType('resource')
        .filter((e) => e.name.includes('/api/') && !e.name.includes('/api/stream'))
        .map((e) => ({
          path: new globalThis.URL(e.name).pathname + new globalThis.URL(e.name).search,
          start: e.startTime,
          ttfb: e.responseStart - e.requestStart,
          duration: e.duration,
          bytes: e.encodedBodySize,
        })),
    );
    const next = await page.evaluate((key) => globalThis.sessionStorage.getItem(key), REFRESH_TOKEN_KEY);
    if (!next) throw new Error('the page lost its session');
    // Where the time went: the app asks for its session once its scripts have run; the data
    // requests follow; the marks say when their answers were on the screen.
    const refresh = resources.find((r) => r.path === '/api/auth/refresh');
    const data = resources.filter(
      (r) => r.path.startsWith('/api/traffic') || r.path.startsWith('/api/anomalies'),
    );
    const phases = {
      booted: refresh?.start ?? NaN,
      dataAsked: Math.min(...data.map((r) => r.start)),
      dataAnswered: Math.max(...data.map((r) => r.start + r.duration)),
    };
    return { wallMs, marks, resources, phases, busy, token: next };
  } finally {
    await page.close();
  }
}

/** Times `path` with fetch from this process, `n` times in a row: the server's time on loopback. */
async function timeRequest(url, path, token, n) {
  const times = [];
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const text = await res.text();
    times.push(performance.now() - t);
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${text.slice(0, 200)}`);
    bytes = text.length;
  }
  return { medianMs: median(times), minMs: Math.min(...times), bytes };
}

const shortPath = (path) =>
  path
    .replace(/from=\d+&to=\d+/, 'from=…&to=…')
    .replace(/^\/api\/anomalies\?.*limit=(\d+).*$/, '/api/anomalies?from=…&to=…&limit=$1');

async function measureOverview(dataDir, opts) {
  const server = await startServe(dataDir, ['--no-capture']);
  log(
    `server ${server.child.pid} listening at ${server.url} (started in ${server.startSeconds.toFixed(1)} s)`,
  );
  await createAdmin(server);
  const browser = await launchBrowser();
  const context = await browser.newContext({ viewport: VIEWPORT });
  const first = await context.newPage();
  await signIn(first, server.url);
  let token = await first.evaluate((key) => globalThis.sessionStorage.getItem(key), REFRESH_TOKEN_KEY);
  // Closed before its refresh token is used by the next page: refresh tokens rotate.
  await first.close();
  const loads = [];
  const othersBefore = othersCpu();
  const loadsStarted = performance.now();
  for (let i = 0; i <= opts.loads; i++) {
    const load = await loadOverview(context, server.url, token);
    token = load.token;
    loads.push(load);
    const m = load.marks;
    log(
      `load ${i === 0 ? 'cold' : i}: interactive in ${load.wallMs.toFixed(0)} ms ` +
        `(in the page: bars ${m.bars.toFixed(0)}, talkers ${m.talkers.toFixed(0)}, alerts ${m.alerts.toFixed(0)}, ` +
        `drawn ${m.painted.toFixed(0)} ms after navigation start; app booted at ${load.phases.booted.toFixed(0)} ms, ` +
        `data asked from ${load.phases.dataAsked.toFixed(0)} ms, all answered by ${load.phases.dataAnswered.toFixed(0)} ms; ` +
        `alerts panel: "${m.alertsText}"; page main thread busy ${load.busy.task.toFixed(0)} ms: ` +
        `script ${load.busy.script.toFixed(0)}, style and layout ${load.busy.layout.toFixed(0)})`,
    );
    for (const r of load.resources)
      log(
        `    ${shortPath(r.path)}: at ${r.start.toFixed(0)} ms, first byte after ${r.ttfb.toFixed(1)} ms, done in ${r.duration.toFixed(1)} ms, ${count(r.bytes)} bytes`,
      );
  }
  const othersPercent = (othersCpuSince(othersBefore) / ((performance.now() - loadsStarted) / 1000)) * 100;
  log(`other processes used ${othersPercent.toFixed(0)}% of a core during the loads`);
  await context.close();
  // The data requests of the page, timed again one at a time from here.
  const apiPaths = [
    ...new Set(
      loads
        .at(-1)
        .resources.map((r) => r.path)
        .filter((p) => p.startsWith('/api/traffic') || p.startsWith('/api/anomalies')),
    ),
  ];
  const access = await apiToken(server.url);
  const fetched = [];
  for (const path of apiPaths) {
    const t = await timeRequest(server.url, path, access, 7);
    fetched.push({ path, ...t });
    log(
      `fetch ${shortPath(path)}: median ${t.medianMs.toFixed(1)} ms, best ${t.minMs.toFixed(1)} ms, ${count(t.bytes)} bytes`,
    );
  }
  await server.stop();
  const said = server
    .stderr()
    .replace(/^flowtrack: (serving|the dashboard|stopping).*\n/gm, '')
    .replace(/^flowtrack: no admin exists yet\.[^\n]*\n(?: {2}[^\n]*\n)*/gm, '')
    .trim();
  if (said) log(`the server said:\n${said}`);
  const warm = loads.slice(1);
  const inPage = (load) => load.marks.painted;
  const perRequest = (pick) =>
    apiPaths.map((path) => {
      const values = warm.map((l) => l.resources.find((r) => r.path === path)).filter(Boolean);
      return { path, medianMs: median(values.map(pick)) };
    });
  return {
    serverStartSeconds: server.startSeconds,
    othersPercent,
    coldMs: loads[0].wallMs,
    coldInPageMs: inPage(loads[0]),
    medianMs: median(warm.map((l) => l.wallMs)),
    medianInPageMs: median(warm.map(inPage)),
    warmMs: warm.map((l) => l.wallMs),
    medianParts: {
      booted: median(warm.map((l) => l.phases.booted)),
      dataAsked: median(warm.map((l) => l.phases.dataAsked)),
      dataAnswered: median(warm.map((l) => l.phases.dataAnswered)),
      mainThread: median(warm.map((l) => l.busy.task)),
      script: median(warm.map((l) => l.busy.script)),
      layout: median(warm.map((l) => l.busy.layout)),
      bars: median(warm.map((l) => l.marks.bars)),
      talkers: median(warm.map((l) => l.marks.talkers)),
      alerts: median(warm.map((l) => l.marks.alerts)),
    },
    alertsText: loads.at(-1).marks.alertsText,
    pageTtfb: perRequest((r) => r.ttfb),
    pageDuration: perRequest((r) => r.duration),
    fetched,
  };
}

// ---------------------------------------------------------------------------------------------
// 3. Live updates and the page's heap

function ipv4Bytes(text) {
  return text.split('.').map(Number);
}
function ipChecksum(header) {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += (header[i] << 8) | header[i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
/** An Ethernet frame with an IPv4 packet of `protocol` (6 TCP, 17 UDP, 1 ICMP) and `l4` as its payload. */
function ipv4Frame(src, dst, protocol, l4) {
  const frame = Buffer.alloc(14 + 20 + l4.length);
  Buffer.from([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]).copy(frame, 0);
  const ip = frame.subarray(14, 34);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + l4.length, 2);
  ip.writeUInt16BE(0x4000, 6); // don't fragment
  ip[8] = 64;
  ip[9] = protocol;
  ip.set(ipv4Bytes(src), 12);
  ip.set(ipv4Bytes(dst), 16);
  ip.writeUInt16BE(ipChecksum(ip), 10);
  l4.copy(frame, 34);
  return frame;
}
function tcpFrame(src, dst, sport, dport, flags, payloadBytes, seq = 1) {
  const tcpHeader = Buffer.alloc(20 + payloadBytes);
  tcpHeader.writeUInt16BE(sport, 0);
  tcpHeader.writeUInt16BE(dport, 2);
  tcpHeader.writeUInt32BE(seq >>> 0, 4);
  tcpHeader.writeUInt32BE(flags & 0x10 ? 1 : 0, 8);
  tcpHeader[12] = 5 << 4;
  tcpHeader[13] = flags;
  tcpHeader.writeUInt16BE(64240, 14);
  return ipv4Frame(src, dst, 6, tcpHeader);
}
function udpFrame(src, dst, sport, dport, payloadBytes) {
  const u = Buffer.alloc(8 + payloadBytes);
  u.writeUInt16BE(sport, 0);
  u.writeUInt16BE(dport, 2);
  u.writeUInt16BE(8 + payloadBytes, 4);
  return ipv4Frame(src, dst, 17, u);
}
function icmpEcho(src, dst, type, id, seq) {
  const m = Buffer.alloc(8 + 56);
  m[0] = type; // 8 request, 0 reply
  m.writeUInt16BE(id, 4);
  m.writeUInt16BE(seq, 6);
  return ipv4Frame(src, dst, 1, m);
}

/**
 * A capture of ordinary traffic from `startMs` for `seconds` (the idea of
 * test/helpers/attack-replay.ts's quiet traffic, with a few more hosts): every 100 ms a request
 * and a response on one of eight clients' HTTPS connections to four servers (a new connection
 * every 2 s, with its handshake), DNS twice a second, a ping and an NTP exchange every 10 s.
 * About 25 packets a second. Written as a little-endian microsecond pcap of Ethernet frames.
 */
function writeOrdinaryCapture(path, startMs, seconds) {
  const clients = Array.from({ length: 8 }, (_, i) => `10.20.0.${10 + i}`);
  const servers = ['198.18.0.20', '198.18.0.21', '198.18.0.22', '198.18.0.23'];
  const dns = '10.0.53.1';
  const parts = [];
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20);
  parts.push(header);
  let packets = 0;
  const record = (tsUs, frame) => {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(Math.floor(tsUs / 1e6), 0);
    h.writeUInt32LE(tsUs % 1e6, 4);
    h.writeUInt32LE(frame.length, 8);
    h.writeUInt32LE(frame.length, 12);
    parts.push(h, frame);
    packets++;
  };
  const startUs = startMs * 1000;
  for (let tick = 0; tick < seconds * 10; tick++) {
    const t = startUs + tick * 100_000;
    const conn = Math.floor(tick / 20);
    const client = clients[conn % clients.length];
    const server = servers[conn % servers.length];
    const port = 40_000 + (conn % 20_000);
    if (tick % 20 === 0) {
      record(t, tcpFrame(client, server, port, 443, 0x02, 0));
      record(t + 300, tcpFrame(server, client, 443, port, 0x12, 0));
      record(t + 600, tcpFrame(client, server, port, 443, 0x10, 0));
    }
    record(t + 1000, tcpFrame(client, server, port, 443, 0x18, 180 + (tick % 7) * 40));
    record(t + 1500, tcpFrame(server, client, 443, port, 0x18, 900 + (tick % 5) * 110));
    if (tick % 5 === 0) {
      const c = clients[(tick / 5) % clients.length];
      record(t + 2000, udpFrame(c, dns, 30_000 + (tick % 30_000), 53, 32));
      record(t + 2600, udpFrame(dns, c, 53, 30_000 + (tick % 30_000), 96));
    }
    if (tick % 100 === 50) {
      const c = clients[Math.floor(tick / 100) % clients.length];
      record(t + 3000, icmpEcho(c, servers[0], 8, 0x1234, tick));
      record(t + 3400, icmpEcho(servers[0], c, 0, 0x1234, tick));
      record(t + 4000, udpFrame(c, '198.18.123.1', 123, 123, 48));
      record(t + 4600, udpFrame('198.18.123.1', c, 123, 123, 48));
    }
  }
  writeFileSync(path, Buffer.concat(parts));
  return { packets, bytes: statSync(path).size };
}

/** Least-squares slope of y over x, and the residuals' standard deviation. */
function fitLine(xs, ys) {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  const residuals = ys.map((y, i) => y - (my + slope * (xs[i] - mx)));
  const sd = Math.sqrt(residuals.reduce((s, r) => s + r * r, 0) / Math.max(1, n - 2));
  return { slope, sd };
}

/** A heap snapshot of the page through CDP, written to `file` (after the GC above). */
async function writeHeapSnapshot(cdp, file) {
  const chunks = [];
  const onChunk = (event) => chunks.push(event.chunk);
  cdp.on('HeapProfiler.addHeapSnapshotChunk', onChunk);
  await cdp.send('HeapProfiler.enable');
  await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  cdp.off('HeapProfiler.addHeapSnapshotChunk', onChunk);
  writeFileSync(file, chunks.join(''));
}

async function measureLiveHeap(dataDir, tmp, opts) {
  // Time to start the server and sign in before the series, and a margin at the end.
  const leadSeconds = 60;
  const seconds = opts.minutes * 60 + leadSeconds + 60;
  const capture = join(tmp, 'ordinary.pcap');
  const written = writeOrdinaryCapture(capture, Date.now() + 5000, seconds);
  log(
    `capture of ordinary traffic: ${count(written.packets)} packets over ${seconds} s ` +
      `(${(written.packets / seconds).toFixed(1)} packets/s), ${mib(written.bytes)}`,
  );
  const server = await startServe(dataDir, ['--replay', capture, '--speed', '1']);
  log(
    `server ${server.child.pid} replaying at ${server.url} (started in ${server.startSeconds.toFixed(1)} s)`,
  );
  // The overview part made the admin; without it the store has none yet.
  if (!opts.parts.has('overview')) await createAdmin(server);
  const browser = await launchBrowser(['--js-flags=--expose-gc', '--enable-precise-memory-info']);
  const context = await browser.newContext({ viewport: VIEWPORT });
  const page = await context.newPage();
  await signIn(page, server.url);
  // Live is the overview without a range.
  const packetsFigure = page.getByRole('figure', { name: /Packets/ }).locator('.rate-value');
  await packetsFigure.waitFor();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  // Let the live minute fill a little before the first reading.
  await sleep(10_000);
  const samples = [];
  const othersBefore = othersCpu();
  const t0 = performance.now();
  for (let minute = 0; minute <= opts.minutes; minute++) {
    const due = t0 + minute * 60_000;
    if (performance.now() < due) await sleep(due - performance.now());
    const usedJsHeap = await page.evaluate(() => {
      globalThis.gc();
      globalThis.gc();
      return globalThis.performance.memory.usedJSHeapSize;
    });
    const { metrics } = await cdp.send('Performance.getMetrics');
    const metric = (name) => metrics.find((m) => m.name === name)?.value ?? NaN;
    const sample = {
      minute,
      usedJsHeap,
      cdpHeapUsed: metric('JSHeapUsedSize'),
      nodes: metric('Nodes'),
      listeners: metric('JSEventListeners'),
      packetsShown: (await packetsFigure.innerText()).trim(),
    };
    samples.push(sample);
    if (opts.snapshots && (minute === 5 || minute === opts.minutes)) {
      const file = join(opts.snapshots, `heap-minute-${minute}.heapsnapshot`);
      await writeHeapSnapshot(cdp, file);
      log(`heap snapshot of minute ${minute}: ${file}`);
    }
    log(
      `minute ${minute}: JS heap ${kib(sample.usedJsHeap)} (CDP ${kib(sample.cdpHeapUsed)}), ` +
        `${sample.nodes} DOM nodes, ${sample.listeners} listeners; the page shows ${sample.packetsShown}`,
    );
  }
  const othersPercent = (othersCpuSince(othersBefore) / ((performance.now() - t0) / 1000)) * 100;
  log(`other processes used ${othersPercent.toFixed(0)}% of a core during the series`);
  const streamProblem = await page
    .getByText(/reconnecting|not updating/i)
    .count()
    .catch(() => 0);
  await cdp.detach();
  await context.close();
  await server.stop();
  const xs = samples.map((s) => s.minute);
  const all = fitLine(
    xs,
    samples.map((s) => s.usedJsHeap / 1024),
  );
  const afterFirst =
    samples.length >= 3
      ? fitLine(
          xs.slice(1),
          samples.slice(1).map((s) => s.usedJsHeap / 1024),
        )
      : null;
  return {
    capture: written,
    othersPercent,
    samples,
    firstKiB: samples[0].usedJsHeap / 1024,
    lastKiB: samples.at(-1).usedJsHeap / 1024,
    minKiB: Math.min(...samples.map((s) => s.usedJsHeap)) / 1024,
    maxKiB: Math.max(...samples.map((s) => s.usedJsHeap)) / 1024,
    slopeKiBPerMin: all.slope,
    residualKiB: all.sd,
    slopeAfterFirstKiBPerMin: afterFirst?.slope ?? null,
    residualAfterFirstKiB: afterFirst?.sd ?? null,
    streamProblem: streamProblem > 0,
  };
}

// ---------------------------------------------------------------------------------------------
// 4. The initial bundle

function measureBundle() {
  const html = readFileSync(join(WEB, 'index.html'), 'utf8');
  const initial = new Set();
  for (const m of html.matchAll(/<script[^>]*\ssrc="\/([^"]+)"/g)) initial.add(m[1]);
  for (const m of html.matchAll(/<link[^>]*\srel="(?:stylesheet|modulepreload)"[^>]*\shref="\/([^"]+)"/g))
    initial.add(m[1]);
  for (const m of html.matchAll(/<link[^>]*\shref="\/([^"]+)"[^>]*\srel="(?:stylesheet|modulepreload)"/g))
    initial.add(m[1]);
  // Chunks the entry scripts import statically load with them (dynamic import() ones do not).
  const queue = [...initial].filter((f) => f.endsWith('.js'));
  while (queue.length > 0) {
    const file = queue.pop();
    const text = readFileSync(join(WEB, file), 'utf8');
    for (const m of text.matchAll(
      /(?:^|[;\n}])\s*import\s*(?:[\w$*{}\s,]+from\s*)?["']\.\/([^"']+\.js)["']/g,
    )) {
      const dep = join(dirname(file), m[1]);
      if (!initial.has(dep)) {
        initial.add(dep);
        queue.push(dep);
      }
    }
  }
  const files = [...initial].map((file) => {
    const bytes = readFileSync(join(WEB, file));
    return {
      file,
      bytes: bytes.length,
      gzip: gzipSync(bytes, { level: zlibConstants.Z_BEST_COMPRESSION }).length,
    };
  });
  return {
    files,
    gzip: files.reduce((s, f) => s + f.gzip, 0),
    bytes: files.reduce((s, f) => s + f.bytes, 0),
  };
}

// ---------------------------------------------------------------------------------------------

function table(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r) => `| ${r.map((cell, c) => cell.padEnd(widths[c])).join(' | ')} |`;
  return [
    line(rows[0]),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.slice(1).map(line),
  ].join('\n');
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!existsSync(CLI) || !existsSync(join(WEB, 'index.html'))) {
    throw new Error('dist/ or dist/web is missing: run npm run build');
  }
  tempDir = mkdtempSync(join(tmpdir(), 'flowtrack-dashboard-bench-'));
  const tmp = tempDir;
  cleanups.unshift(() => {
    rmSync(tmp, { recursive: true, force: true });
    tempDir = null;
  });
  const dataDir = join(tmp, 'data');
  log(
    `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; temporary directory ${tmp}`,
  );
  const report = {};
  if (opts.parts.has('bundle')) {
    report.bundle = measureBundle();
    for (const f of report.bundle.files) log(`bundle: ${f.file}: ${kib(f.bytes)}, ${kib(f.gzip)} gzipped`);
  }
  if (opts.parts.has('seed')) {
    log(`seeding ${count(opts.flows)} flows over the last 24 h and ${count(opts.alerts)} alerts`);
    report.seed = await seedStore(dataDir, opts);
    const s = report.seed;
    log(
      `seeded in ${s.seconds.toFixed(1)} s (flows ${s.flowSeconds.toFixed(1)} s, ${count(Math.round(s.flows / s.flowSeconds))} flows/s; ` +
        `alerts ${s.alertSeconds.toFixed(1)} s): ${count(s.flows)} flows, ${count(s.alerts)} alerts, ${count(s.hosts)} hosts, ` +
        `${count(s.rollupRows)} minute rollup rows, ${count(s.hourTotalRows)} hour total rows; database ${mib(s.bytes)}`,
    );
  }
  if (opts.parts.has('overview')) report.overview = await measureOverview(dataDir, opts);
  if (opts.parts.has('heap')) report.heap = await measureLiveHeap(dataDir, tmp, opts);

  const rows = [['measure', 'result', 'target']];
  if (report.seed) {
    const s = report.seed;
    rows.push([
      'seed',
      `${count(s.flows)} flows + ${count(s.alerts)} alerts in ${s.seconds.toFixed(0)} s; DB ${mib(s.bytes)}`,
      '',
    ]);
  }
  if (report.overview) {
    const o = report.overview;
    rows.push(
      ['overview 24h, cold load', `${o.coldMs.toFixed(0)} ms`, '< 1000 ms'],
      [
        `overview 24h, median of ${opts.loads}`,
        `${o.medianMs.toFixed(0)} ms (${o.warmMs.map((x) => x.toFixed(0)).join(', ')})`,
        `< 1000 ms: ${o.medianMs < TARGET_INTERACTIVE_MS ? 'met' : 'MISSED'}`,
      ],
    );
    const p = o.medianParts;
    rows.push([
      '  where the time went (medians, each on its own)',
      `app booted ${p.booted.toFixed(0)} ms, data asked ${p.dataAsked.toFixed(0)}, answered ${p.dataAnswered.toFixed(0)}, ` +
        `bars ${p.bars.toFixed(0)}, talkers ${p.talkers.toFixed(0)}, alerts ${p.alerts.toFixed(0)}, drawn ${o.medianInPageMs.toFixed(0)}`,
      '',
    ]);
    rows.push([
      '  page main thread (median)',
      `busy ${p.mainThread.toFixed(0)} ms: script ${p.script.toFixed(0)}, style and layout ${p.layout.toFixed(0)}`,
      '',
    ]);
    for (const f of o.fetched) {
      const ttfb = o.pageTtfb.find((p) => p.path === f.path)?.medianMs ?? NaN;
      rows.push([
        `  ${shortPath(f.path)}`,
        `${f.medianMs.toFixed(1)} ms alone (in the page: first byte ${ttfb.toFixed(1)} ms); ${kib(f.bytes)}`,
        '',
      ]);
    }
  }
  if (report.heap) {
    const h = report.heap;
    rows.push(
      [
        `JS heap, ${opts.minutes} min live`,
        `${kib(h.firstKiB * 1024)} -> ${kib(h.lastKiB * 1024)} (${h.lastKiB - h.firstKiB >= 0 ? '+' : ''}${(h.lastKiB - h.firstKiB).toFixed(1)} KiB); range ${kib(h.minKiB * 1024)}-${kib(h.maxKiB * 1024)}`,
        'flat',
      ],
      [
        '  slope (least squares)',
        `${h.slopeKiBPerMin.toFixed(2)} KiB/min (residual sd ${h.residualKiB.toFixed(1)} KiB)` +
          (h.slopeAfterFirstKiBPerMin === null
            ? ''
            : `; from minute 1: ${h.slopeAfterFirstKiBPerMin.toFixed(2)} KiB/min (sd ${h.residualAfterFirstKiB.toFixed(1)})`),
        '',
      ],
    );
  }
  if (report.bundle) {
    const b = report.bundle;
    rows.push([
      'initial bundle (gzip -9)',
      `${kib(b.gzip)} (${b.files.length} files, ${kib(b.bytes)} raw)`,
      `< 400 KiB: ${b.gzip < TARGET_BUNDLE_BYTES ? 'met' : 'MISSED'}`,
    ]);
  }
  process.stdout.write(`\n${table(rows)}\n`);
  for (const [part, r] of [
    ['overview loads', report.overview],
    ['heap series', report.heap],
  ]) {
    if (r && r.othersPercent > 10)
      process.stdout.write(
        `note: other processes used ${r.othersPercent.toFixed(0)}% of a core during the ${part} (figures may be slow)\n`,
      );
  }
  if (report.heap) {
    process.stdout.write(
      `\nJS heap after GC, KiB by minute: ${report.heap.samples.map((s) => (s.usedJsHeap / 1024).toFixed(0)).join(' ')}\n`,
    );
    if (report.heap.streamProblem)
      process.stdout.write('note: the page showed a live-feed problem at the end\n');
  }
}

try {
  await main();
} catch (err) {
  log(err.stack ?? err.message);
  process.exitCode = 1;
} finally {
  await cleanUp();
}
