#!/usr/bin/env node
/**
 * NetFlow/IPFIX collector throughput: FlowTrack's FlowCollector against nfdump's nfcapd (1.7.x),
 * both fed the same real export datagrams over loopback UDP at paced offered rates. For each
 * version and rate it reports the records each one processed per second, what it lost (and how
 * much of that the kernel dropped at its socket), and its CPU seconds per million records (from
 * /proc/PID/stat), and at the end the CPU ratio FlowTrack/nfcapd. A table, then one JSON line.
 *
 *   npm run build   (or: npx tsc -p tsconfig.build.json --outDir /tmp/ftbuild-collector)
 *   node bench/collector-bench.mjs [--dist DIR] [--versions 9,10] [--rates 100000,300000,...]
 *                                  [--records N] [--capture FILE]... [--flowtrack-only]
 *
 * --dist (or FLOWTRACK_DIST): the build to import FlowTrack from (default dist/). --rates: offered
 * records per second. --records: records offered per run (default 1,000,000). --capture: corpus
 * captures softflowd exports (default: pkt.TCP.synflood.spoofed, 37,669 flows, and
 * amp.dns.RRSIG.fragmented, a mix with IPv6 and ICMP).
 *
 * How: softflowd -v 9 and -v 10 export each capture once to a socket of this process, which keeps
 * the datagrams (checked against softflowd's "Flows exported" count). Each collector then runs
 * alone, in its own process: FlowTrack as a child Node process that counts the flows handed to
 * it (no store), nfcapd writing its usual file (so it does a little more work: its output). The
 * datagrams are sent in a cycle, paced per millisecond, to 127.0.0.1; once the collector's CPU
 * time stops growing it is stopped and asked what it got: FlowTrack its stats, nfcapd through
 * `nfdump -I` on its file. Both get the same socket buffer (8 MiB as the kernel reports it).
 *
 * Network safety: UDP to 127.0.0.1 only. Every run is bounded in records and time; softflowd and
 * nfcapd run under `timeout`; the FlowTrack child exits when this process's pipe closes; temp
 * dirs are removed at the end, also after a failure or Ctrl-C.
 */

import { execFileSync, spawn } from 'node:child_process';
import { Buffer } from 'node:buffer';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CORPUS = process.env.FLOWTRACK_PCAPS ?? resolve(ROOT, '../shared/pcaps');
const DEFAULT_CAPTURES = [
  'StopDDoS-packet-captures/attacks/pkt.TCP.synflood.spoofed.pcap',
  'StopDDoS-packet-captures/attacks/amp.dns.RRSIG.fragmented.pcap',
].map((f) => join(CORPUS, f));
/** The receive buffer both collectors get, as the kernel reports it (it doubles what is set). */
const SOCKET_BUFFER = 8 << 20;
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
/** The longest any one collector run may take beyond its sending time. */
const RUN_SLACK_MS = 30_000;

function parseArgs(argv) {
  const opts = {
    dist: process.env.FLOWTRACK_DIST ?? join(ROOT, 'dist'),
    versions: [9, 10],
    rates: [100_000, 300_000, 1_000_000],
    records: 1_000_000,
    captures: [],
    flowtrackOnly: false,
    child: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i] ?? '';
    if (a === '--dist') opts.dist = resolve(next());
    else if (a === '--versions') opts.versions = next().split(',').map(Number);
    else if (a === '--rates') opts.rates = next().split(',').map(Number);
    else if (a === '--records') opts.records = Number(next());
    else if (a === '--capture') opts.captures.push(resolve(next()));
    else if (a === '--flowtrack-only') opts.flowtrackOnly = true;
    else if (a === '--child-flowtrack') opts.child = Number(next());
    else throw new Error(`unknown option ${a} (see the header of bench/collector-bench.mjs)`);
  }
  if (opts.captures.length === 0) opts.captures = DEFAULT_CAPTURES;
  if (opts.versions.some((v) => v !== 9 && v !== 10)) throw new Error('--versions takes 9 and/or 10');
  if (opts.rates.some((r) => !(r > 0)) || !(opts.records > 0)) {
    throw new Error('--rates and --records take positive numbers');
  }
  return opts;
}

// ---- The FlowTrack side, run as a child process --------------------------------------------

/** Child mode: a FlowCollector on 127.0.0.1:port; prints its stats as JSON on SIGTERM. */
async function runFlowTrackChild(port, dist) {
  const file = join(dist, 'capture/flow-collector/flow-collector.js');
  const { FlowCollector } = await import(pathToFileURL(file).href);
  let flows = 0;
  const collector = new FlowCollector({
    address: '127.0.0.1',
    port,
    receiveBufferBytes: SOCKET_BUFFER / 2,
    onFlows: (batch) => {
      flows += batch.length;
    },
  });
  await collector.start();
  const report = (extra) =>
    process.stdout.write(`${JSON.stringify({ ...extra, ...collector.stats(), flows })}\n`);
  report({ ready: true });
  process.on('SIGTERM', () => {
    void collector.stop().then(() => {
      report({ done: true });
      process.exit(0);
    });
  });
  // Never outlive the bench: its pipe closing (it ended or crashed) ends this process too.
  process.stdin.on('end', () => process.exit(1));
  process.stdin.resume();
}

// ---- Export datagrams, captured once --------------------------------------------------------

/** softflowd -v `version` exporting `capture` to a socket here; the datagrams it sent. */
async function exportDatagrams(capture, version) {
  const socket = createSocket('udp4');
  await new Promise((ok) => socket.bind(0, '127.0.0.1', ok));
  socket.setRecvBufferSize(SOCKET_BUFFER / 2);
  const datagrams = [];
  socket.on('message', (msg) => datagrams.push(Buffer.from(msg)));
  const { port } = socket.address();
  const out = await runTool('timeout', [
    '60',
    'softflowd',
    '-r',
    capture,
    '-n',
    `127.0.0.1:${port}`,
    '-v',
    String(version),
    '-d',
  ]);
  const sent = /Flows exported: (\d+) \(\d+ records\) in (\d+) packets/.exec(out);
  if (!sent) throw new Error(`softflowd said no "Flows exported" line:\n${out}`);
  for (let i = 0; i < 100 && datagrams.length < Number(sent[2]); i++) await sleep(20);
  socket.close();
  if (datagrams.length !== Number(sent[2])) {
    throw new Error(
      `softflowd sent ${sent[2]} datagrams from ${capture}, ${datagrams.length} arrived: retry`,
    );
  }
  return { datagrams, flows: Number(sent[1]) };
}

/**
 * Flows in each datagram, counted with FlowTrack's decoder and checked against softflowd's own
 * total, so the offered count does not rest on the decoder alone.
 */
async function recordsPerDatagram(datagrams, expectedFlows, dist) {
  const file = join(dist, 'capture/flow-collector/netflow-decoder.js');
  const { NetflowDecoder } = await import(pathToFileURL(file).href);
  const decoder = new NetflowDecoder();
  const counts = datagrams.map(
    (d) => decoder.decode(d, { address: '127.0.0.1', port: 1 }, Date.now()).flows.length,
  );
  const total = counts.reduce((a, b) => a + b, 0);
  if (total !== expectedFlows) throw new Error(`decoded ${total} flows, softflowd exported ${expectedFlows}`);
  return counts;
}

// ---- Measuring one collector -----------------------------------------------------------------

/** utime + stime of `pid`, in seconds. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Datagrams the kernel dropped at the UDP socket bound to 127.0.0.1:`port` (/proc/net/udp). */
function socketDrops(port) {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === `0100007F:${hexPort}`) return Number(f[f.length - 1]);
  }
  return 0;
}

/** Sends the datagrams in a cycle at `rate` records/s until `records` are offered. */
async function replay(set, port, records, rate) {
  const socket = createSocket('udp4');
  await new Promise((ok) => socket.bind(0, '127.0.0.1', ok));
  let offered = 0;
  let datagrams = 0;
  const started = process.hrtime.bigint();
  const limitNs = BigInt(Math.ceil((records / rate) * 2e9) + 10e9);
  for (let i = 0; offered < records;) {
    const elapsedNs = process.hrtime.bigint() - started;
    if (elapsedNs > limitNs) break;
    const due = Math.min(records, (Number(elapsedNs) / 1e9) * rate);
    while (offered < due) {
      const k = i++ % set.datagrams.length;
      socket.send(set.datagrams[k], port, '127.0.0.1');
      offered += set.counts[k];
      datagrams++;
    }
    await sleep(1);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await new Promise((ok) => socket.close(ok));
  return { offered, datagrams, seconds };
}

/** Waits until `pid`'s CPU time stops growing (the backlog is processed), at most 10 s. */
async function settle(pid) {
  let last = -1;
  for (let quiet = 0, i = 0; quiet < 3 && i < 100; i++) {
    await sleep(100);
    const now = cpuSeconds(pid);
    quiet = now === last ? quiet + 1 : 0;
    last = now;
  }
}

async function measureFlowTrack(opts, set, port, rate) {
  const child = spawn(
    process.execPath,
    [fileURLToPath(import.meta.url), '--child-flowtrack', String(port), '--dist', opts.dist],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  cleanups.push(() => child.kill('SIGKILL'));
  const lines = lineReader(child.stdout);
  const ready = JSON.parse(await lines.next(10_000));
  const cpuBefore = cpuSeconds(child.pid);
  const sent = await replay(set, port, opts.records, rate);
  await settle(child.pid);
  const cpu = cpuSeconds(child.pid) - cpuBefore;
  const drops = socketDrops(port);
  child.kill('SIGTERM');
  const done = JSON.parse(await lines.next(RUN_SLACK_MS));
  child.stdin.end();
  return {
    ...sent,
    received: done.flows,
    cpu,
    drops,
    buffer: ready.receiveBufferBytes,
    malformed: done.malformed,
  };
}

async function measureNfcapd(set, port, rate, opts, workDir) {
  const dir = mkdtempSync(join(workDir, 'nfcapd-'));
  const limit = String(Math.ceil(opts.records / rate + RUN_SLACK_MS / 1000 + 30));
  // nfcapd forces SO_RCVBUF (SO_RCVBUFFORCE as root), which the kernel doubles: half of 8 MiB.
  const wrapper = spawn(
    'timeout',
    [
      limit,
      'nfcapd',
      '-b',
      '127.0.0.1',
      '-p',
      String(port),
      '-w',
      dir,
      '-t',
      '3600',
      '-B',
      String(SOCKET_BUFFER / 2),
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  cleanups.push(() => wrapper.kill('SIGKILL'));
  let log = '';
  const collect = (chunk) => {
    if (log.length < 1 << 20) log += chunk.toString();
  };
  wrapper.stdout.on('data', collect);
  wrapper.stderr.on('data', collect);
  const exited = new Promise((ok) => wrapper.once('exit', ok));
  for (let i = 0; i < 100 && !log.includes('Startup nfcapd'); i++) await sleep(50);
  if (!log.includes('Startup nfcapd')) throw new Error(`nfcapd did not start:\n${log}`);
  const pid = Number(
    readFileSync(`/proc/${wrapper.pid}/task/${wrapper.pid}/children`, 'utf8').trim().split(/\s+/)[0],
  );
  const cpuBefore = cpuSeconds(pid);
  const sent = await replay(set, port, opts.records, rate);
  await settle(pid);
  const cpu = cpuSeconds(pid) - cpuBefore;
  const drops = socketDrops(port);
  wrapper.kill('SIGTERM'); // coreutils timeout passes it on to nfcapd, which closes its file
  await exited;
  const info = await runTool('timeout', ['60', 'nfdump', '-R', dir, '-I']);
  const flows = /^Flows: (\d+)$/m.exec(info);
  if (!flows) throw new Error(`nfdump -I gave no flow count:\n${info}\nnfcapd said:\n${log}`);
  return { ...sent, received: Number(flows[1]), cpu, drops, buffer: SOCKET_BUFFER, malformed: null };
}

// ---- Small helpers ----------------------------------------------------------------------------

const cleanups = [];

function runTool(cmd, args) {
  return new Promise((ok, fail) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c.toString()));
    child.stderr.on('data', (c) => (out += c.toString()));
    child.once('error', fail);
    child.once('exit', (code) =>
      code === 0 ? ok(out) : fail(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${out}`)),
    );
  });
}

/** Reads a stream line by line; next() waits at most `ms` for the next line. */
function lineReader(stream) {
  const lines = [];
  let buffered = '';
  let waiting = null;
  stream.on('data', (chunk) => {
    buffered += chunk.toString();
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      lines.push(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
    }
    if (waiting && lines.length > 0) waiting();
  });
  return {
    async next(ms) {
      if (lines.length === 0) {
        await Promise.race([new Promise((ok) => (waiting = ok)), sleep(ms)]);
        waiting = null;
      }
      if (lines.length === 0) throw new Error(`no answer from the FlowTrack collector within ${ms} ms`);
      return lines.shift();
    },
  };
}

/** A free UDP port on 127.0.0.1 (bound and released; the collector binds it next). */
async function freePort() {
  const socket = createSocket('udp4');
  await new Promise((ok) => socket.bind(0, '127.0.0.1', ok));
  const { port } = socket.address();
  await new Promise((ok) => socket.close(ok));
  return port;
}

const fmt = (n, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

// ---- Main -------------------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.child !== null) return runFlowTrackChild(opts.child, opts.dist);
  if (!existsSync(join(opts.dist, 'capture/flow-collector/flow-collector.js'))) {
    throw new Error(`no FlowTrack build in ${opts.dist}: run npm run build, or give --dist`);
  }
  for (const c of opts.captures)
    if (!existsSync(c)) throw new Error(`capture ${c} not found (FLOWTRACK_PCAPS?)`);
  const workDir = mkdtempSync(join(tmpdir(), 'ft-collector-bench-'));
  cleanups.push(() => rmSync(workDir, { recursive: true, force: true }));
  const nfcapdVersion = opts.flowtrackOnly ? null : execFileSync('nfcapd', ['-V']).toString().trim();

  const rows = [];
  for (const version of opts.versions) {
    const set = { datagrams: [], counts: [] };
    for (const capture of opts.captures) {
      const { datagrams, flows } = await exportDatagrams(capture, version);
      set.datagrams.push(...datagrams);
      set.counts.push(...(await recordsPerDatagram(datagrams, flows, opts.dist)));
    }
    const perDatagram = set.counts.reduce((a, b) => a + b, 0) / set.datagrams.length;
    console.error(
      `v${version}: ${set.datagrams.length} datagrams, ${fmt(perDatagram, 1)} records each on average`,
    );
    for (const rate of opts.rates) {
      for (const collector of opts.flowtrackOnly ? ['flowtrack'] : ['flowtrack', 'nfcapd']) {
        const port = await freePort();
        const r =
          collector === 'flowtrack'
            ? await measureFlowTrack(opts, set, port, rate)
            : await measureNfcapd(set, port, rate, opts, workDir);
        const row = {
          version,
          collector,
          offeredPerSecond: Math.round(r.offered / r.seconds),
          offered: r.offered,
          received: r.received,
          lost: r.offered - r.received,
          socketDropDatagrams: r.drops,
          processedPerSecond: Math.round(r.received / r.seconds),
          cpuSecondsPerMillion: r.received > 0 ? r.cpu / (r.received / 1e6) : null,
          receiveBuffer: r.buffer,
        };
        rows.push(row);
        console.error(
          `  v${version} ${collector.padEnd(9)} offered ${fmt(row.offeredPerSecond)}/s: ${fmt(row.received)} of ${fmt(row.offered)} records, ${fmt(row.cpuSecondsPerMillion ?? 0, 2)} CPU s per million`,
        );
      }
    }
  }
  report(rows, opts, nfcapdVersion);
}

function report(rows, opts, nfcapdVersion) {
  console.log('');
  console.log('version  collector  offered rec/s  processed rec/s   lost records  socket drops  CPU s/M rec');
  for (const r of rows) {
    console.log(
      [
        `v${r.version}`.padEnd(8),
        r.collector.padEnd(10),
        fmt(r.offeredPerSecond).padStart(13),
        fmt(r.processedPerSecond).padStart(16),
        `${fmt(r.lost)} (${fmt((100 * r.lost) / r.offered, 2)}%)`.padStart(14),
        fmt(r.socketDropDatagrams).padStart(13),
        (r.cpuSecondsPerMillion === null ? '-' : fmt(r.cpuSecondsPerMillion, 2)).padStart(12),
      ].join(' '),
    );
  }
  // CPU per record compared where both lost nothing (a lossy run's CPU is spent on fewer records).
  const ratios = [];
  for (const f of rows.filter((r) => r.collector === 'flowtrack' && r.lost === 0)) {
    const n = rows.find(
      (r) =>
        r.collector === 'nfcapd' &&
        r.version === f.version &&
        r.offered === f.offered &&
        r.offeredPerSecond > 0.9 * f.offeredPerSecond &&
        r.lost === 0,
    );
    if (n && f.cpuSecondsPerMillion !== null && n.cpuSecondsPerMillion) {
      ratios.push({
        version: f.version,
        offeredPerSecond: f.offeredPerSecond,
        ratio: f.cpuSecondsPerMillion / n.cpuSecondsPerMillion,
      });
    }
  }
  for (const r of ratios) {
    console.log(
      `CPU per record, FlowTrack/nfcapd, v${r.version} at ${fmt(r.offeredPerSecond)} rec/s offered: ${fmt(r.ratio, 2)}`,
    );
  }
  console.log(
    JSON.stringify({
      bench: 'collector',
      nfcapd: nfcapdVersion,
      records: opts.records,
      rows,
      cpuRatioFlowTrackToNfcapd: ratios,
    }),
  );
}

let cleaned = false;
function cleanUp() {
  if (cleaned) return;
  cleaned = true;
  for (const c of cleanups.reverse()) {
    try {
      c();
    } catch {
      // Already gone.
    }
  }
}
process.on('SIGINT', () => {
  cleanUp();
  process.exit(130);
});

main().then(
  () => {
    if (parseArgs(process.argv.slice(2)).child === null) cleanUp();
  },
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    cleanUp();
    process.exit(1);
  },
);
