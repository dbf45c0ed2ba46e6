#!/usr/bin/env node
/**
 * Port scan speed: all 65,535 TCP ports of one host in a network namespace, scanned from another
 * namespace by `flowtrack scan`, `nmap -sT -p- -T4` and `masscan`, in alternating rounds of one
 * run, each tool's open ports checked against the ports the target really listens on.
 *
 *   node bench/scan-bench.mjs [--rounds N] [--tools flowtrack,nmap,masscan] [--masscan-rate N]
 *
 * - FlowTrack: `flowtrack scan 10.98.0.2 -p- --no-identify -P --json` (TCP connect, no privileges;
 *   no service identification, as nmap -sT without -sV and masscan do none). The time is the whole
 *   command, Node's start included; the report's own start and end are printed beside it.
 * - nmap: `nmap -sT -p- -T4 -n -Pn 10.98.0.2` (connect scan; -n -Pn: no DNS, no ping first, as
 *   FlowTrack with -P does none).
 * - masscan: SYN scan from its own user-space stack, `--rate` packets a second (default 20,000: faster, it lost open ports over the veth pair here;
 *   masscan's own default is 100), `--wait 1` (it waits 10 s for late answers by default, which
 *   would measure only the wait), the target's MAC as router MAC (same link, no gateway).
 *
 * Network safety: two namespaces made here (ftscan-<pid>-a/-b) joined only by their veth pair,
 * addresses in 10.98.0.0/30, no default route; every command runs under `timeout`; the namespaces
 * go at the end, on failure and on Ctrl-C. Needs root, nmap, masscan and a build (`npm run build`).
 */

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist/cli/main.js');
const SCANNER = '10.98.0.1';
const TARGET = '10.98.0.2';
/** What the target listens on: a few services spread over the port range. */
const OPEN_PORTS = [22, 80, 443, 3306, 6379, 8080, 27017, 50000, 65535];

function parseArgs(argv) {
  const opts = { rounds: 5, tools: ['flowtrack', 'nmap', 'masscan'], masscanRate: 20_000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i] ?? '';
    if (a === '--rounds') opts.rounds = Number(next());
    else if (a === '--tools') opts.tools = next().split(',');
    else if (a === '--masscan-rate') opts.masscanRate = Number(next());
    else throw new Error(`unknown option ${a} (see the header of bench/scan-bench.mjs)`);
  }
  if (!(opts.rounds >= 1)) throw new Error('--rounds must be 1 or more');
  return opts;
}

const ns = { a: `ftscan-${process.pid}-a`, b: `ftscan-${process.pid}-b` };
const children = new Set();

function ip(...args) {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function setUp() {
  ip('netns', 'add', ns.a);
  ip('netns', 'add', ns.b);
  ip('-n', ns.a, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.b);
  for (const [name, address] of [
    [ns.a, SCANNER],
    [ns.b, TARGET],
  ]) {
    ip('-n', name, 'link', 'set', 'lo', 'up');
    ip('-n', name, 'addr', 'add', `${address}/30`, 'dev', 'eth0');
    ip('-n', name, 'link', 'set', 'eth0', 'up');
    const routes = execFileSync('ip', ['-n', name, 'route', 'show', 'default'], { encoding: 'utf8' });
    if (routes.trim() !== '') throw new Error(`namespace ${name} has a default route`);
  }
}

function tearDown() {
  for (const child of children) child.kill('SIGKILL');
  for (const name of [ns.a, ns.b]) {
    // `ip netns exec`'s children outlive a killed `ip`: end whatever still runs inside, by pid.
    const pids = spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).stdout ?? '';
    for (const pid of pids.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    spawnSync('ip', ['netns', 'delete', name], { stdio: 'ignore' });
  }
}

/** Listeners in the target namespace, one Node process holding every open port. */
async function startListeners() {
  const script = `const net=require('node:net');let n=0;for(const p of ${JSON.stringify(OPEN_PORTS)})net.createServer(s=>s.destroy()).listen(p,'${TARGET}',()=>{if(++n===${OPEN_PORTS.length})console.log('ready')});`;
  const child = spawn('ip', ['netns', 'exec', ns.b, 'timeout', '3600', process.execPath, '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  await new Promise((resolveReady, reject) => {
    child.stdout.on('data', (d) => {
      if (String(d).includes('ready')) resolveReady();
    });
    child.on('exit', (code) => reject(new Error(`listeners ended (${code})`)));
  });
}

function macOf(name) {
  return execFileSync('ip', ['-n', name, '-br', 'link', 'show', 'eth0'], { encoding: 'utf8' }).split(
    /\s+/,
  )[2];
}

/** Runs a command in the scanner's namespace; wall time and stdout. */
function timed(cmd, args) {
  const start = process.hrtime.bigint();
  const r = spawnSync('ip', ['netns', 'exec', ns.a, 'timeout', '300', cmd, ...args], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return { ms, stdout: r.stdout, stderr: r.stderr };
}

const TOOLS = {
  flowtrack: () => {
    const r = timed(process.execPath, [CLI, 'scan', TARGET, '-p-', '--no-identify', '-P', '--json']);
    const report = JSON.parse(r.stdout);
    const open = report.hosts.flatMap((h) => h.ports.filter((p) => p.state === 'open').map((p) => p.port));
    return { ms: r.ms, open, note: `scan itself ${report.finishedAt - report.startedAt} ms` };
  },
  nmap: () => {
    const r = timed('nmap', ['-sT', '-p-', '-T4', '-n', '-Pn', '-oX', '-', TARGET]);
    const open = [...r.stdout.matchAll(/<port protocol="tcp" portid="(\d+)"><state state="open"/g)].map((m) =>
      Number(m[1]),
    );
    const elapsed = /elapsed="([\d.]+)"/.exec(r.stdout)?.[1];
    return { ms: r.ms, open, note: `nmap says ${elapsed} s` };
  },
  masscan: (opts) => {
    const r = timed('masscan', [
      TARGET,
      '-p0-65535',
      '--rate',
      String(opts.masscanRate),
      '--wait',
      '1',
      '--adapter',
      'eth0',
      '--adapter-ip',
      SCANNER,
      '--router-mac',
      macOf(ns.b),
      '-oL',
      '-',
    ]);
    const open = [...r.stdout.matchAll(/^open tcp (\d+) /gm)].map((m) => Number(m[1]));
    return { ms: r.ms, open, note: `--rate ${opts.masscanRate} --wait 1` };
  },
};

function median(values) {
  const s = [...values].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('needs root (network namespaces, masscan)');
  for (const tool of opts.tools) if (!TOOLS[tool]) throw new Error(`unknown tool ${tool}`);
  console.log(
    `scan-bench: ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; ${opts.rounds} rounds of ${opts.tools.join(', ')}`,
  );
  setUp();
  await startListeners();
  const times = Object.fromEntries(opts.tools.map((t) => [t, []]));
  const expected = [...OPEN_PORTS].sort((x, y) => x - y).join(',');
  for (let round = 1; round <= opts.rounds; round++) {
    // Each round in another order, so that no tool always follows the same one.
    const order = opts.tools.map((_, i) => opts.tools[(i + round) % opts.tools.length]);
    for (const tool of order) {
      const r = TOOLS[tool](opts);
      const found = [...new Set(r.open)].sort((x, y) => x - y).join(',');
      const ok = found === expected;
      times[tool].push(r.ms);
      console.log(
        `round ${round} ${tool.padEnd(9)} ${r.ms.toFixed(0).padStart(6)} ms  open ${found}${ok ? '' : ` (expected ${expected})`}  ${r.note}`,
      );
      if (!ok) process.exitCode = 1;
    }
  }
  console.log('\ntool       median ms   min ms   vs nmap (median)');
  const nmapMedian = times.nmap ? median(times.nmap) : null;
  for (const tool of opts.tools) {
    const m = median(times[tool]);
    const ratio = nmapMedian ? `${(nmapMedian / m).toFixed(2)}x ${m < nmapMedian ? 'faster' : 'slower'}` : '';
    console.log(
      `${tool.padEnd(10)} ${m.toFixed(0).padStart(9)} ${Math.min(...times[tool])
        .toFixed(0)
        .padStart(8)}   ${tool === 'nmap' ? '' : ratio}`,
    );
  }
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    tearDown();
    process.exit(130);
  });
}
try {
  await main();
} finally {
  tearDown();
}
