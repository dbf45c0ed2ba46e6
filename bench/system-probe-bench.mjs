#!/usr/bin/env node
/**
 * What watching the host costs: the CPU time of FlowTrack's host monitor over a minute, against
 * Netdata (the reference: it claims 1-5% of a core) over the same length of time, in one run.
 *
 *   node bench/system-probe-bench.mjs [--seconds 60] [--interval 2] [--tools flowtrack,netdata]
 *
 * - FlowTrack: a child Node process doing exactly what `serve`'s monitor does each interval
 *   (system/system-monitor.ts): HostProbe.sample(), SocketOwners.snapshot(), the owner cache, and
 *   the sample turned into the JSON the store keeps. Its own CPU (utime + stime from
 *   /proc/PID/stat) is read after a warm-up of two intervals and again `--seconds` later. An idle
 *   Node process with the same timer is measured the same way, so the probe's own share shows.
 * - Netdata: `netdata -D` with Debian's default configuration (every collector, a sample each
 *   second, its own web server on 127.0.0.1:19999), measured as the CPU of netdata and every
 *   process it started (its plugins), after a 15 s warm-up.
 *
 * Nothing is sent over any network. Needs a build (`npm run build`); Netdata from Debian
 * (`apt-get install netdata`), left out with a message when missing.
 */

import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

function parseArgs(argv) {
  const opts = { seconds: 60, interval: 2, tools: ['flowtrack', 'netdata'] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i] ?? '';
    if (a === '--seconds') opts.seconds = Number(next());
    else if (a === '--interval') opts.interval = Number(next());
    else if (a === '--tools') opts.tools = next().split(',');
    else throw new Error(`unknown option ${a}`);
  }
  return opts;
}

/** CPU seconds (user + system) of `pid`, or 0 once it is gone. */
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return 0;
  }
}

/** `pid` and every process below it. */
function tree(pid) {
  const parents = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // Gone meanwhile.
    }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) for (const [p, pp] of parents) if (pp === out[i]) out.push(p);
  return out;
}

/** The loop `serve` runs each interval, in a child of its own; `idle` keeps only the timer. */
const CHILD = (interval, idle) => `
import { HostProbe } from ${JSON.stringify(join(ROOT, 'dist/system/host-probe.js'))};
import { ConnectionOwnerCache, SocketOwners } from ${JSON.stringify(join(ROOT, 'dist/system/socket-owners.js'))};
const probe = new HostProbe(), sockets = new SocketOwners(), owners = new ConnectionOwnerCache();
let bytes = 0, listening = 0;
setInterval(() => {
  if (${idle}) return;
  const sample = probe.sample();
  const snapshot = sockets.snapshot();
  owners.add(snapshot);
  bytes += JSON.stringify(sample).length;
  listening = snapshot.listening.length;
}, ${interval * 1000});
process.on('SIGTERM', () => { console.log(JSON.stringify({ bytes, listening, processes: probe.sample().processes.total })); process.exit(0); });
`;

async function measureNode(opts, idle) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD(opts.interval, idle)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await sleep(opts.interval * 2000 + 500);
  const before = cpuSeconds(child.pid);
  const started = Date.now();
  await sleep(opts.seconds * 1000);
  const used = cpuSeconds(child.pid) - before;
  const wall = (Date.now() - started) / 1000;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return { cpuSeconds: used, wall, info: out.trim() ? JSON.parse(out.trim()) : null };
}

async function measureNetdata(opts) {
  if (spawnSync('which', ['netdata']).status !== 0) return null;
  const child = spawn('netdata', ['-D', '-i', '127.0.0.1', '-p', '19999'], { stdio: 'ignore' });
  try {
    await sleep(15_000);
    const pids = () => tree(child.pid);
    const total = () => pids().reduce((sum, p) => sum + cpuSeconds(p), 0);
    // Plugins that start or end during the minute are counted while they live.
    const seen = new Map();
    const sampleTree = () => {
      for (const p of pids()) seen.set(p, cpuSeconds(p));
    };
    sampleTree();
    const first = new Map(seen);
    const started = Date.now();
    const until = started + opts.seconds * 1000;
    while (Date.now() < until) {
      await sleep(1000);
      sampleTree();
    }
    let used = 0;
    for (const [p, last] of seen) used += last - (first.get(p) ?? 0);
    return {
      cpuSeconds: used,
      wall: (Date.now() - started) / 1000,
      processes: pids().length,
      total: total(),
    };
  } finally {
    for (const p of tree(child.pid).reverse()) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}

const percent = (r) => (100 * r.cpuSeconds) / r.wall;

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  console.log(
    `host monitor cost: ${opts.seconds} s each, FlowTrack every ${opts.interval} s, ${cpus().length} cores (${cpus()[0]?.model ?? '?'})`,
  );
  const rows = [];
  if (opts.tools.includes('flowtrack')) {
    const idle = await measureNode(opts, true);
    const busy = await measureNode(opts, false);
    const samples = Math.round(busy.wall / opts.interval);
    console.log(
      `FlowTrack monitor: ${(busy.cpuSeconds * 1000).toFixed(0)} ms CPU in ${busy.wall.toFixed(1)} s = ${percent(busy).toFixed(2)}% of a core ` +
        `(${((busy.cpuSeconds * 1000) / samples).toFixed(1)} ms a sample; ${busy.info?.processes} processes, ${busy.info?.listening} listening sockets)`,
    );
    console.log(
      `  idle Node with the same timer: ${percent(idle).toFixed(2)}% of a core; the probe's own share: ${(percent(busy) - percent(idle)).toFixed(2)}%`,
    );
    rows.push(['flowtrack', percent(busy)]);
  }
  if (opts.tools.includes('netdata')) {
    const netdata = await measureNetdata(opts);
    if (netdata === null) console.log('Netdata: not installed (apt-get install netdata), left out');
    else {
      console.log(
        `Netdata (defaults, every 1 s): ${(netdata.cpuSeconds * 1000).toFixed(0)} ms CPU in ${netdata.wall.toFixed(1)} s = ${percent(netdata).toFixed(2)}% of a core (${netdata.processes} processes)`,
      );
      rows.push(['netdata', percent(netdata)]);
    }
  }
  const ft = rows.find((r) => r[0] === 'flowtrack');
  const nd = rows.find((r) => r[0] === 'netdata');
  if (ft && nd) console.log(`Netdata / FlowTrack: ${(nd[1] / ft[1]).toFixed(1)}x the CPU`);
}

await main();
