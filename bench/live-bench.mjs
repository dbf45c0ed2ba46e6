#!/usr/bin/env node
/**
 * Live capture under load: a capture replayed by tcpreplay at increasing rates over a veth pair
 * between two network namespaces, received by `tcpdump -w /dev/null` (the reference) and by
 * `flowtrack serve` (tcpdump into the pipeline worker, the store, the API). For each rate it
 * reports what was lost by each and the API's latency while FlowTrack captured, and at the end
 * the highest rate each took without losing a packet.
 *
 *   node bench/live-bench.mjs [--rates 100000,200000,...] [--packets N] [--capture FILE]
 *                             [--immediate true|false] [--snaplen N] [--flowtrack-only] [--keep-store]
 *
 * Network safety: both namespaces are created here (ftbench-<pid>-tx/-rx), joined only by their
 * veth pair, with no default route and no address outside 10.99.0.0/30; every command runs under
 * `timeout`, tcpreplay sends --limit packets and stops; the namespaces are deleted at the end,
 * also after a failure or Ctrl-C. Needs root, tcpdump, tcpreplay and a build (`npm run build`).
 *
 * Loss is counted from what the sender says it sent (tcpreplay's "Actual: N packets") against
 * what each receiver says it got (tcpdump's "packets captured"; FlowTrack's packets parsed, from
 * /api/capture before and after). The API probe asks /api/flows and /api/capture in turn, one
 * request every 50 ms, from inside the receiving namespace. FlowTrack's own losses are counted
 * too: flows its store writer dropped (/api/system_health), and after the SIGTERM at the end, the
 * flows the pipeline handed over (its 'pipeline stopped' log line) against the rows in the store.
 */

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist/cli/main.js');
const OUT = join(ROOT, 'bench/out');
const PASSWORD = 'quartz-lantern-river-7731';
const PORT = 18080;

function parseArgs(argv) {
  const opts = {
    rates: [100_000, 200_000, 300_000, 400_000, 500_000],
    packets: 1_000_000,
    capture: join(OUT, 'live-mix-1m.pcap'),
    immediate: true,
    snaplen: null,
    keepStore: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i] ?? '';
    if (a === '--rates') opts.rates = next().split(',').map(Number);
    else if (a === '--packets') opts.packets = Number(next());
    else if (a === '--capture') opts.capture = resolve(next());
    else if (a === '--immediate') opts.immediate = next() !== 'false';
    else if (a === '--flowtrack-only') opts.flowtrackOnly = true;
    else if (a === '--snaplen') opts.snaplen = Number(next());
    else if (a === '--keep-store') opts.keepStore = true;
    else throw new Error(`unknown option ${a} (see the header of bench/live-bench.mjs)`);
  }
  if (opts.rates.some((r) => !Number.isFinite(r) || r <= 0) || !(opts.packets > 0))
    throw new Error('--rates takes packets per second, comma-separated; --packets a count');
  return opts;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: (options.seconds ?? 60) * 1000, ...options });
  if (r.error) throw r.error;
  if (r.status !== 0 && !options.allowFailure)
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r;
}

const ns = { tx: `ftbench-${process.pid}-tx`, rx: `ftbench-${process.pid}-rx` };

function createPair() {
  run('ip', ['netns', 'add', ns.tx]);
  run('ip', ['netns', 'add', ns.rx]);
  run('ip', ['-n', ns.tx, 'link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth1', 'netns', ns.rx]);
  for (const [n, dev, addr] of [
    [ns.tx, 'veth0', '10.99.0.1/30'],
    [ns.rx, 'veth1', '10.99.0.2/30'],
  ]) {
    run('ip', ['-n', n, 'link', 'set', 'lo', 'up']);
    run('ip', ['-n', n, 'addr', 'add', addr, 'dev', dev]);
    run('ip', ['-n', n, 'link', 'set', dev, 'up']);
    const routes = run('ip', ['-n', n, 'route', 'show', 'default']).stdout.trim();
    if (routes !== '') throw new Error(`namespace ${n} has a default route: ${routes}`);
  }
}

function removePair() {
  for (const n of [ns.tx, ns.rx]) {
    const pids = run('ip', ['netns', 'pids', n], { allowFailure: true }).stdout.split(/\s+/).filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone already
      }
    }
    run('ip', ['netns', 'delete', n], { allowFailure: true });
  }
}

/** Starts `cmd` in namespace `n` under `timeout`; collects its output. */
function startIn(n, seconds, cmd, args, env = {}) {
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      n,
      'timeout',
      String(seconds),
      'env',
      ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
      cmd,
      ...args,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let text = '';
  child.stdout.on('data', (d) => (text += d));
  child.stderr.on('data', (d) => (text += d));
  const exited = new Promise((r) => child.on('exit', (code) => r(code)));
  return {
    child,
    exited,
    get text() {
      return text;
    },
    async waitFor(pattern, ms = 15_000) {
      const deadline = Date.now() + ms;
      while (!pattern.test(text)) {
        if (child.exitCode !== null) throw new Error(`${cmd} ended: ${text}`);
        if (Date.now() > deadline) throw new Error(`no ${pattern} from ${cmd} within ${ms} ms: ${text}`);
        await sleep(50);
      }
    },
  };
}

/** tcpreplay at `pps`, `packets` packets; returns what it says it sent and at what rate. */
function replay(file, pps, packets) {
  const r = run(
    'ip',
    [
      'netns',
      'exec',
      ns.tx,
      'timeout',
      '300',
      'tcpreplay',
      '-i',
      'veth0',
      '--pps',
      String(pps),
      '--limit',
      String(packets),
      file,
    ],
    { seconds: 310 },
  );
  const sent = Number(/Actual: (\d+) packets/.exec(r.stdout)?.[1]);
  const rate = Number(/([\d.]+) pps/.exec(r.stdout)?.[1]);
  if (!Number.isFinite(sent)) throw new Error(`tcpreplay said: ${r.stdout}${r.stderr}`);
  return { sent, rate };
}

async function tcpdumpRun(file, pps, packets) {
  const td = startIn(ns.rx, 600, 'tcpdump', ['-i', 'veth1', '-n', '-B', '131072', '-w', '/dev/null']);
  await td.waitFor(/listening on/);
  const { sent, rate } = replay(file, pps, packets);
  await sleep(1000);
  td.child.kill('SIGINT');
  await td.exited;
  const captured = Number(/(\d+) packets? captured/.exec(td.text)?.[1]);
  const dropped = Number(/(\d+) packets? dropped by kernel/.exec(td.text)?.[1]);
  return { sent, rate, seen: captured, dropped, lost: Math.max(0, sent - captured) };
}

/** The latency probe, run with node inside the receiving namespace: prints JSON when told to stop. */
const PROBE = `
const [url, token] = process.argv.slice(1);
const paths = ['/api/flows?limit=50', '/api/capture'];
const times = []; let failures = 0; let stop = false;
process.on('SIGTERM', () => { stop = true; });
(async () => {
  for (let i = 0; !stop; i++) {
    const t = performance.now();
    try {
      const r = await fetch(url + paths[i % 2], { headers: { authorization: 'Bearer ' + token } });
      await r.arrayBuffer();
      if (r.status !== 200) failures++;
    } catch { failures++; }
    times.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 50));
  }
  times.sort((a, b) => a - b);
  const q = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? null;
  console.log(JSON.stringify({ requests: times.length, failures, p50: q(0.5), p99: q(0.99), max: times[times.length - 1] ?? null }));
})();
`;

async function api(path, token, init = {}) {
  const args = ['netns', 'exec', ns.rx, 'curl', '-s', '-m', '10'];
  if (token) args.push('-H', `authorization: Bearer ${token}`);
  if (init.body) args.push('-H', 'content-type: application/json', '--data', JSON.stringify(init.body));
  const r = run('ip', [...args, `http://127.0.0.1:${PORT}${path}`]);
  return JSON.parse(r.stdout);
}

/** FlowTrack's shutdown after the last rate: time to exit, and flows handed over and stored. */
const shutdown = { seconds: null, exitCode: null, flowsHandedOver: null, flowsStored: null };

async function flowtrackRuns(file, rates, packets, opts, dataDir) {
  execFileSync(process.execPath, [CLI, 'user', 'add', 'bench', '--admin', '--password-stdin'], {
    env: { ...process.env, FLOWTRACK_DATA_DIR: dataDir },
    input: `${PASSWORD}\n`,
  });
  const serve = startIn(ns.rx, 3600, process.execPath, [CLI, 'serve', '-i', 'veth1'], {
    FLOWTRACK_DATA_DIR: dataDir,
    FLOWTRACK_SERVER_PORT: String(PORT),
    FLOWTRACK_LOGS_LEVEL: 'info',
    FLOWTRACK_RATE_LIMIT_PER_MINUTE: '1000000',
    FLOWTRACK_CAPTURE_IMMEDIATE: String(opts.immediate),
    ...(opts.snaplen === null ? {} : { FLOWTRACK_CAPTURE_SNAPLEN: String(opts.snaplen) }),
  });
  const results = [];
  try {
    await serve.waitFor(/capturing on veth1/);
    const token = (await api('/api/auth/login', null, { body: { username: 'bench', password: PASSWORD } }))
      .accessToken;
    const counters = async () => {
      for (let i = 0; i < 50; i++) {
        const c = await api('/api/capture', token);
        const iface = c.interfaces[0];
        if (iface?.state === 'running') return iface.counters;
        await sleep(200);
      }
      throw new Error('capture never ran');
    };
    await counters();
    for (const pps of rates) {
      const before = await counters();
      const probe = startIn(ns.rx, 600, process.execPath, ['-e', PROBE, `http://127.0.0.1:${PORT}`, token]);
      await sleep(500);
      const { sent, rate } = replay(file, pps, packets);
      // The kernel's statistics arrive with the next second's report; the last packets need a moment.
      await sleep(2500);
      probe.child.kill('SIGTERM');
      await probe.exited;
      const latency = JSON.parse(probe.text.trim().split('\n').pop() ?? '{}');
      const after = await counters();
      const seen = after.packets - before.packets;
      const { ingest } = await api('/api/system_health', token);
      results.push({
        pps,
        sent,
        rate,
        seen,
        dropped: after.kernelDropped - before.kernelDropped,
        lost: Math.max(0, sent - seen),
        storeDroppedSoFar: ingest.dropped.flows,
        api: latency,
      });
      process.stderr.write(`live-bench: flowtrack at ${pps} pps: ${JSON.stringify(results.at(-1))}\n`);
    }
  } finally {
    const stopping = Date.now();
    serve.child.kill('SIGTERM');
    const code = await Promise.race([serve.exited, sleep(300_000).then(() => 'still running')]);
    shutdown.seconds = (Date.now() - stopping) / 1000;
    shutdown.exitCode = code;
  }
  // What the pipeline handed over at the end, against what the store holds.
  const stopped = readFileSync(join(dataDir, 'logs', 'server.log'), 'utf8')
    .split('\n')
    .filter((l) => l.includes('"msg":"pipeline stopped"'))
    .pop();
  shutdown.flowsHandedOver = stopped ? JSON.parse(stopped).flows : null;
  const Database = createRequire(import.meta.url)('better-sqlite3');
  const db = new Database(join(dataDir, 'flowtrack.db'), { readonly: true });
  shutdown.flowsStored = db.prepare('select count(*) as n from flows').get().n;
  db.close();
  return results;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('needs root (network namespaces, capture)');
  for (const tool of ['tcpdump', 'tcpreplay', 'ip', 'curl'])
    if (run('sh', ['-c', `command -v ${tool}`], { allowFailure: true }).status !== 0)
      throw new Error(`${tool} is missing: scripts/setup.sh --test installs it`);
  if (!existsSync(CLI)) throw new Error('no build: run npm run build first');
  mkdirSync(OUT, { recursive: true });
  if (!existsSync(opts.capture)) {
    process.stderr.write(`live-bench: making ${opts.capture}\n`);
    execFileSync(
      process.execPath,
      [join(ROOT, 'bench/make-capture.mjs'), opts.capture, '--packets', '1000000', '--seconds', '10'],
      {
        stdio: 'inherit',
      },
    );
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'flowtrack-live-bench-'));
  const stopAll = () => {
    removePair();
    process.exit(130);
  };
  process.once('SIGINT', stopAll);
  createPair();
  try {
    const tcpdump = [];
    for (const pps of opts.flowtrackOnly ? [] : opts.rates) {
      tcpdump.push({ pps, ...(await tcpdumpRun(opts.capture, pps, opts.packets)) });
      process.stderr.write(`live-bench: tcpdump at ${pps} pps: ${JSON.stringify(tcpdump.at(-1))}\n`);
    }
    const flowtrack = await flowtrackRuns(opts.capture, opts.rates, opts.packets, opts, dataDir);
    const best = (rows) => rows.filter((r) => r.lost === 0).reduce((m, r) => Math.max(m, r.rate), 0);
    const lines = [
      `Live capture: ${opts.packets} packets per run of ${opts.capture}, tcpreplay over a veth pair; FlowTrack with immediate mode ${opts.immediate ? 'on' : 'off'}, snap length ${opts.snaplen ?? 'default'}`,
      '',
      '| asked pps | sent at pps | tcpdump lost | FlowTrack lost | FlowTrack kernel drops | API p50 ms | API p99 ms | API max ms | API failures |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...opts.rates.map((pps, i) => {
        const t = tcpdump[i] ?? { lost: '-' };
        const f = flowtrack[i];
        const ms = (v) => (v === null || v === undefined ? '-' : v.toFixed(1));
        return `| ${pps} | ${Math.round(f.rate)} | ${t.lost} | ${f.lost} | ${f.dropped} | ${ms(f.api.p50)} | ${ms(f.api.p99)} | ${ms(f.api.max)} | ${f.api.failures} |`;
      }),
      '',
      `Highest rate without loss: tcpdump ${Math.round(best(tcpdump))} pps, FlowTrack ${Math.round(best(flowtrack))} pps`,
      `FlowTrack's store writer dropped ${flowtrack.at(-1)?.storeDroppedSoFar ?? '-'} flows; on SIGTERM it stopped in ${shutdown.seconds} s (exit ${shutdown.exitCode}) with ${shutdown.flowsStored} flows stored of ${shutdown.flowsHandedOver} handed over`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    writeFileSync(
      join(OUT, 'live-results.json'),
      JSON.stringify({ options: opts, tcpdump, flowtrack, shutdown }, null, 2),
    );
  } finally {
    removePair();
    if (!opts.keepStore) rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`live-bench: ${err.message}\n`);
  removePair();
  process.exit(1);
});
