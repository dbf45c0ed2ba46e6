/**
 * Speed benchmark: `flowtrack analyze --json` against the flow tools an admin would otherwise use
 * on the same capture (argus, softflowd, nfpcapd), against `tcpdump -r FILE -w /dev/null` (reads
 * every record and decodes nothing: the floor for reading a capture), and against tshark's TCP
 * conversation table on a slice of the capture (tshark is too slow for the whole file).
 *
 * Two workloads, each with its own table and targets:
 * - mix: a realistic site link (bench/make-capture.mjs), plus the tshark comparison on its slice;
 * - flood: a spoofed SYN flood where every packet is a new flow (bench/make-flood.mjs), so flow
 *   tables fill, evict and churn. argus needs over a minute and gigabytes of memory for it, so it
 *   runs there once without warm-up unless --flood-argus-runs says otherwise.
 *
 * Generates the captures and the slice into bench/out/ when missing, times each command as
 * wall-clock time of the whole process (start-up included, as a user sees it): one untimed
 * warm-up round, then --runs rounds of every tool in turn, keeping each tool's best. Also records
 * the CPU time and peak resident memory of each run, and what other processes used meanwhile (the
 * machine may be shared). Checks that every tool really read the whole file (and, on the flood,
 * made one flow per packet), prints the tables and writes bench/out/results.json. Reads files
 * only; softflowd, which must export somewhere, sends its NetFlow to a socket this script holds
 * on 127.0.0.1.
 *
 * Usage: npm run bench [-- --workload mix|flood|all] [--packets N] [--runs N] [--flood-argus-runs N]
 *                         [--slice N] [--seed N] [--snaplen N] [--tools a,b]
 */

import { Buffer } from 'node:buffer';
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { makeCapture } from './make-capture.mjs';
import { makeFlood } from './make-flood.mjs';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH_DIR);
const OUT = join(BENCH_DIR, 'out');
const FLOWTRACK = join(ROOT, 'flowtrack');

/** The issue's targets (see bench/README.md). */
/** The engine alone (`--no-detect`): capture, decode, flows, report. */
const TARGET_PACKETS_PER_SECOND = 1_500_000;
/** With every detector on (the default). */
const TARGET_PACKETS_PER_SECOND_DETECTING = 1_000_000;
const ENGINE_ONLY = 'flowtrack --no-detect';
const TARGET_RATIO_FLOW_TOOLS = 3;
const TARGET_TCPDUMP_FACTOR = 2;

const WORKLOADS = ['mix', 'flood'];

function parseArgs(argv) {
  const opts = {
    workloads: WORKLOADS,
    packets: 4_000_000,
    runs: 3,
    floodArgusRuns: 1,
    slice: 200_000,
    seed: 1,
    snaplen: 65535,
    tools: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--workload') {
      const w = next();
      if (w !== 'all' && !WORKLOADS.includes(w)) throw new Error('--workload must be mix, flood or all');
      opts.workloads = w === 'all' ? WORKLOADS : [w];
    } else if (a === '--packets') opts.packets = Number(next());
    else if (a === '--runs') opts.runs = Number(next());
    else if (a === '--flood-argus-runs') opts.floodArgusRuns = Number(next());
    else if (a === '--slice') opts.slice = Number(next());
    else if (a === '--seed') opts.seed = Number(next());
    else if (a === '--snaplen') opts.snaplen = Number(next());
    else if (a === '--tools') opts.tools = next().split(',');
    else throw new Error(`unknown argument ${a}`);
  }
  for (const [k, flag] of [
    ['packets', '--packets'],
    ['runs', '--runs'],
    ['floodArgusRuns', '--flood-argus-runs'],
    ['slice', '--slice'],
    ['seed', '--seed'],
    ['snaplen', '--snaplen'],
  ]) {
    if (!Number.isInteger(opts[k]) || opts[k] < 1) throw new Error(`${flag} must be a whole number >= 1`);
  }
  opts.floodArgusRuns = Math.min(opts.floodArgusRuns, opts.runs);
  return opts;
}

// ---------------------------------------------------------------------------------------------
// Running commands

/**
 * GNU time, when installed, adds the CPU seconds a command used (user + system) and its peak
 * resident set size (the largest of the process and its descendants, from wait4's rusage).
 */
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
const CPU_FILE = join(OUT, 'cpu-time.txt');

/**
 * Runs `cmd` to its end; resolves with its exit code, output, wall-clock seconds and, with GNU
 * time, CPU seconds and peak RSS in KiB (null without).
 */
function run(cmd, args, { stdoutFile = null } = {}) {
  return new Promise((resolve, reject) => {
    const [file, argv] = GNU_TIME
      ? [GNU_TIME, ['-f', '%U %S %M', '-o', CPU_FILE, cmd, ...args]]
      : [cmd, args];
    const started = process.hrtime.bigint();
    const child = spawn(file, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const stdout = Buffer.concat(out);
      if (stdoutFile) writeFileSync(stdoutFile, stdout);
      let cpuSeconds = null;
      let maxRssKiB = null;
      if (GNU_TIME) {
        const [user, system, rss] = readFileSync(CPU_FILE, 'utf8')
          .trim()
          .split('\n')
          .pop()
          .split(' ')
          .map(Number);
        cpuSeconds = user + system;
        maxRssKiB = rss;
      }
      const stderr = Buffer.concat(err).toString();
      resolve({ code, signal, seconds, cpuSeconds, maxRssKiB, stdout: stdout.toString(), stderr });
    });
  });
}

/** "tcpdump 4.99.3": the first version number a command prints about itself. */
function toolVersion(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  const m = /\d+\.\d+(\.\d+)*/.exec(`${r.stdout ?? ''}${r.stderr ?? ''}`);
  return m ? `${cmd} ${m[0]}` : `${cmd} (version unknown)`;
}

function haveCommand(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
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

/** Packets in a capture, counted by Wireshark's capinfos (not by any tool under test). */
function countPackets(path) {
  const r = spawnSync('capinfos', ['-c', '-M', path], { encoding: 'utf8' });
  const m = /Number of packets:\s+(\d+)/.exec(r.stdout ?? '');
  if (!m) throw new Error(`capinfos could not count ${path}: ${r.stderr}`);
  return Number(m[1]);
}

// ---------------------------------------------------------------------------------------------
// Output checks: each returns a one-line note, or throws when the tool did not read everything.
// `expectFlows`, when given (the flood: one flow per SYN), is the number of flows a tool must report.

/** Counts the records of an argus output file by walking their headers (length in 32-bit words). */
function argusRecords(path) {
  const b = readFileSync(path);
  let p = 0;
  let flows = 0;
  let management = 0;
  while (p + 4 <= b.length) {
    const words = b.readUInt16BE(p + 2);
    if (words === 0) break;
    if ((b[p] & 0xf0) === 0x80) management++;
    else flows++;
    p += words * 4;
  }
  if (p !== b.length) throw new Error(`argus output ${path} does not parse to its end`);
  return { flows, management };
}

function checkFlowCount(tool, flows, expectFlows) {
  if (expectFlows !== null && flows !== expectFlows) {
    throw new Error(`${tool} reported ${flows} flows, expected ${expectFlows} (one per SYN)`);
  }
}

function checkFlowtrack(packets, expectFlows = null) {
  return (r, ctx) => {
    const report = JSON.parse(readFileSync(ctx.stdoutFile, 'utf8'));
    if (report.packets !== packets || report.input.readError !== null) {
      throw new Error(
        `read ${report.packets} of ${packets} packets (${JSON.stringify(report.input.readError)})`,
      );
    }
    checkFlowCount('FlowTrack', report.flows.total, expectFlows);
    const evicted = report.flows.evicted > 0 ? ` (${report.flows.evicted} evicted)` : '';
    return `${report.packets} packets, ${report.flows.total} flows${evicted}`;
  };
}

function checkArgus(path, expectFlows = null) {
  return () => {
    const { flows, management } = argusRecords(path);
    if (flows === 0 || management < 2) throw new Error(`argus wrote ${flows} flow records`);
    checkFlowCount('argus', flows, expectFlows);
    return `${flows} flow records`;
  };
}

function checkSoftflowd(packets, collector, expectFlows = null) {
  return (r) => {
    const processed = Number(/Packets processed: (\d+)/.exec(r.stdout)?.[1] ?? NaN);
    const ignored = Number(/Ignored packets: (\d+)/.exec(r.stdout)?.[1] ?? NaN);
    const m = /Flows exported: (\d+) \((\d+) records\) in (\d+) packets \((\d+) failures\)/.exec(r.stdout);
    if (processed + ignored !== packets || !m) {
      throw new Error(`softflowd saw ${processed} + ${ignored} ignored of ${packets} packets`);
    }
    // softflowd sends most datagrams in one burst at the end of the file, faster than a socket
    // buffer drains: its own count of failed sends is the check, arrivals only show it exported.
    if (Number(m[4]) !== 0 || collector.datagrams === 0) {
      throw new Error(`softflowd failed ${m[4]} of ${m[3]} NetFlow sends, ${collector.datagrams} arrived`);
    }
    checkFlowCount('softflowd', Number(m[1]), expectFlows);
    return `${processed} IP packets (${ignored} non-IP ignored), ${m[1]} flows exported`;
  };
}

function checkNfpcapd(packets, dir, expectFlows = null) {
  return (r) => {
    const text = r.stdout + r.stderr;
    const processed = Number(/Total: Processed: (\d+)/.exec(text)?.[1] ?? NaN);
    const flows = Number(/Flows: (\d+)/.exec(text)?.[1] ?? NaN);
    const files = readdirSync(dir).filter((f) => f.startsWith('nfcapd.'));
    const bytes = files.reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
    if (processed !== packets || !(flows > 0) || bytes === 0) {
      throw new Error(`nfpcapd processed ${processed} of ${packets} packets, wrote ${bytes} bytes`);
    }
    checkFlowCount('nfpcapd', flows, expectFlows);
    return `${processed} packets, ${flows} flows (one per direction)`;
  };
}

function checkTshark(r) {
  const conversations = r.stdout.split('\n').filter((l) => l.includes('<->')).length;
  if (!r.stdout.includes('TCP Conversations') || conversations === 0)
    throw new Error('no conversation table');
  return `${conversations} TCP conversations`;
}

// ---------------------------------------------------------------------------------------------
// Workloads: the capture each one reads and the commands timed on it

/** Writes the workload's capture (and the mix's slice) when missing; returns their paths and sizes. */
function prepareWorkload(name, opts) {
  const seedSuffix = opts.seed === 1 ? '' : `-seed${opts.seed}`;
  let capture;
  let slice = null;
  if (name === 'flood') {
    capture = join(OUT, `syn-flood-${opts.packets}${seedSuffix}.pcap`);
    if (!existsSync(capture)) {
      console.error(`bench: writing ${relative(ROOT, capture)} (${opts.packets} SYNs) ...`);
      makeFlood(capture, { packets: opts.packets, seed: opts.seed });
    }
  } else {
    const suffix = `${seedSuffix}${opts.snaplen === 65535 ? '' : `-snap${opts.snaplen}`}`;
    capture = join(OUT, `synthetic-${opts.packets}${suffix}.pcap`);
    slice = join(OUT, `synthetic-${opts.packets}${suffix}-first-${opts.slice}.pcap`);
    if (!existsSync(capture)) {
      console.error(`bench: writing ${relative(ROOT, capture)} (${opts.packets} packets) ...`);
      makeCapture(capture, { packets: opts.packets, seed: opts.seed, snapLen: opts.snaplen });
    }
    if (!existsSync(slice)) {
      const r = spawnSync('editcap', ['-r', capture, slice, `1-${opts.slice}`], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`editcap failed: ${r.stderr}`);
    }
  }
  const packets = countPackets(capture);
  // A generator stopped part-way leaves a short file behind; it must not be timed as the real one.
  if (packets !== opts.packets) {
    throw new Error(`${relative(ROOT, capture)} holds ${packets} packets, not ${opts.packets}: delete it`);
  }
  return {
    name,
    capture,
    packets,
    bytes: statSync(capture).size,
    slice,
    slicePackets: slice === null ? null : countPackets(slice),
  };
}

/**
 * The commands timed on workload `w`. A tool may set `runs` (timed runs, fewer than --runs) and
 * `warmUp: false`; `expectFlows` (the flood) makes every flow tool prove one flow per packet.
 */
function toolsFor(w, opts, collector) {
  const flood = w.name === 'flood';
  const expectFlows = flood ? w.packets : null;
  const nfDir = join(OUT, `nfpcapd-${w.name}`);
  const argusFile = join(OUT, `argus-${w.name}.out`);
  const tools = [
    {
      name: 'flowtrack',
      file: 'full',
      cmd: FLOWTRACK,
      args: ['analyze', '--json', w.capture],
      stdoutFile: join(OUT, `flowtrack-${w.name}.json`),
      check: checkFlowtrack(w.packets, expectFlows),
    },
    {
      // The engine without the detectors, to show what detection costs.
      name: ENGINE_ONLY,
      file: 'full',
      cmd: FLOWTRACK,
      args: ['analyze', '--json', '--no-detect', w.capture],
      stdoutFile: join(OUT, `flowtrack-no-detect-${w.name}.json`),
      check: checkFlowtrack(w.packets, expectFlows),
    },
    {
      name: 'tcpdump',
      file: 'full',
      cmd: 'tcpdump',
      args: ['-r', w.capture, '-w', '/dev/null'],
      check: () => 'read and copied every record, decoded nothing',
    },
    {
      name: 'argus',
      file: 'full',
      cmd: 'argus',
      // -X: built-in defaults, so /etc/argus.conf adds no second output file or status interval.
      args: ['-X', '-r', w.capture, '-w', argusFile],
      // On the flood one run takes over a minute (and gigabytes of memory): it runs once by default
      // and needs no warm-up, as the tools before it in round 1 have already read the file.
      runs: flood ? opts.floodArgusRuns : opts.runs,
      warmUp: !flood,
      prepare: () => rmSync(argusFile, { force: true }),
      check: checkArgus(argusFile, expectFlows),
    },
    {
      name: 'softflowd',
      file: 'full',
      cmd: 'softflowd',
      // -d foreground; -6 track IPv6 too, -v 9 so it can be exported; a flow table as big as FlowTrack's.
      args: [
        ...['-d', '-r', w.capture, '-n', `127.0.0.1:${collector.port}`, '-v', '9', '-6', '-m', '500000'],
        ...['-p', join(OUT, 'softflowd.pid')],
      ],
      prepare: () => {
        collector.datagrams = 0;
        collector.bytes = 0;
      },
      // Let the last datagrams reach the socket before counting them.
      settle: () => sleep(200),
      check: checkSoftflowd(w.packets, collector, expectFlows),
    },
    {
      name: 'nfpcapd',
      file: 'full',
      cmd: 'nfpcapd',
      args: ['-r', w.capture, '-w', nfDir],
      prepare: () => {
        rmSync(nfDir, { recursive: true, force: true });
        mkdirSync(nfDir);
      },
      check: checkNfpcapd(w.packets, nfDir, expectFlows),
    },
  ];
  if (w.slice !== null) {
    tools.push(
      {
        name: 'tshark',
        file: 'slice',
        cmd: 'tshark',
        args: ['-r', w.slice, '-q', '-z', 'conv,tcp'],
        check: checkTshark,
      },
      {
        name: 'flowtrack',
        file: 'slice',
        cmd: FLOWTRACK,
        args: ['analyze', '--json', w.slice],
        stdoutFile: join(OUT, `flowtrack-${w.name}-slice.json`),
        check: checkFlowtrack(w.slicePackets),
      },
    );
  }
  return tools;
}

/**
 * Round-robin: every tool once per round, so that load from elsewhere on the machine falls on all
 * of them alike. Round 0 only warms the page cache and the binaries.
 */
async function measure(w, tools, opts) {
  const state = tools.map(() => ({ times: [], cpu: [], rss: [], others: [], note: '', failure: null }));
  for (let round = 0; round <= opts.runs; round++) {
    for (const [k, tool] of tools.entries()) {
      const st = state[k];
      const wanted = round === 0 ? tool.warmUp !== false : round <= (tool.runs ?? opts.runs);
      if (st.failure !== null || !wanted) continue;
      tool.prepare?.();
      const busyBefore = busyCpuSeconds();
      const r = await run(tool.cmd, tool.args, { stdoutFile: tool.stdoutFile ?? null });
      const busy = busyCpuSeconds() - busyBefore;
      await tool.settle?.();
      if (r.code !== 0) {
        st.failure = `exit status ${r.code ?? r.signal}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`;
        continue;
      }
      try {
        st.note = tool.check(r, tool);
      } catch (err) {
        st.failure = err.message;
        continue;
      }
      if (round > 0) {
        st.times.push(r.seconds);
        st.cpu.push(r.cpuSeconds);
        st.rss.push(r.maxRssKiB);
        st.others.push(r.cpuSeconds === null || Number.isNaN(busy) ? null : Math.max(0, busy - r.cpuSeconds));
      }
    }
    console.error(`bench: ${w.name}: round ${round} of ${opts.runs} done${round === 0 ? ' (warm-up)' : ''}`);
  }
  return state;
}

/** One result row per tool, FlowTrack's speed-up over each, and the targets. */
function summarize(w, tools, state) {
  const results = tools.map((tool, k) => {
    const st = state[k];
    const n = tool.file === 'full' ? w.packets : w.slicePackets;
    const best = st.times.length > 0 ? Math.min(...st.times) : null;
    const at = st.times.indexOf(best);
    const label = `${w.name}: ${tool.name} (${tool.file === 'full' ? 'capture' : 'slice'})`;
    console.error(
      `bench: ${label}: ${st.failure ? `FAILED: ${st.failure}` : `best ${best.toFixed(3)} s of ${st.times.map((t) => t.toFixed(3)).join(', ')}; ${st.note}`}`,
    );
    const rss = st.rss.filter((x) => x !== null);
    return {
      tool: tool.name,
      input: tool.file,
      command: [tool.cmd === FLOWTRACK ? './flowtrack' : tool.cmd, ...tool.args]
        .map((a) => (a.startsWith(ROOT) ? relative(ROOT, a) : a))
        .join(' '),
      packets: n,
      runs: st.times.length,
      warmUp: tool.warmUp !== false,
      seconds: best,
      allSeconds: st.times,
      cpuSeconds: best === null ? null : st.cpu[at],
      /** CPU seconds other processes used while the best run ran (both cores; /proc/stat). */
      othersCpuSeconds: best === null ? null : st.others[at],
      /** Largest resident set of any timed run (GNU time %M). */
      peakRssKiB: rss.length > 0 ? Math.max(...rss) : null,
      packetsPerSecond: best ? Math.round(n / best) : null,
      ok: st.failure === null,
      note: st.failure ?? st.note,
    };
  });
  const ft = (input) => results.find((r) => r.tool === 'flowtrack' && r.input === input && r.ok);
  const engineOnly = results.find((r) => r.tool === ENGINE_ONLY && r.ok);
  // The flow tools build flows and detect nothing: compare them with FlowTrack's engine alone
  // (where it ran), and show the cost of detection in its own row and target.
  const base = (input) => (input === 'full' && engineOnly ? engineOnly : ft(input));
  for (const r of results) {
    const own = base(r.input);
    r.flowtrackSpeedup =
      own && r.ok && !r.tool.startsWith('flowtrack') ? own.packetsPerSecond / r.packetsPerSecond : null;
  }
  return { results, targets: evaluateTargets(results, ft('full'), engineOnly) };
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  mkdirSync(OUT, { recursive: true });
  const missing = ['capinfos', 'editcap', 'tcpdump', 'argus', 'softflowd', 'nfpcapd', 'tshark'].filter(
    (c) => !haveCommand(c),
  );
  if (missing.length > 0)
    console.error(`bench: not installed (their rows are skipped): ${missing.join(', ')}`);
  if (!existsSync(join(ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run npm run build');

  const workloads = opts.workloads.map((name) => prepareWorkload(name, opts));
  for (const w of workloads) {
    const slice = w.slice === null ? '' : `; slice: ${w.slicePackets} packets`;
    console.error(
      `bench: ${w.name}: ${relative(ROOT, w.capture)}: ${w.packets} packets, ${(w.bytes / 2 ** 20).toFixed(0)} MiB${slice}`,
    );
  }
  const busyStart = busyCpuSeconds();
  await sleep(1000);
  const othersAtStart = Number((busyCpuSeconds() - busyStart).toFixed(2));
  if (othersAtStart > 0.1) {
    console.error(
      `bench: other processes used ${othersAtStart} CPU seconds in the last second: figures will be low and noisy`,
    );
  }

  // softflowd exports NetFlow over UDP whatever happens; it goes to this socket on loopback.
  const collector = { port: 0, datagrams: 0, bytes: 0 };
  const socket = createSocket('udp4');
  socket.on('message', (msg) => {
    collector.datagrams++;
    collector.bytes += msg.length;
  });
  await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
  collector.port = socket.address().port;

  const report = {
    date: new Date().toISOString(),
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      otherCpuSecondsPerSecondAtStart: othersAtStart,
      cores: cpus().length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      kernel: release(),
      node: process.version,
    },
    versions: {
      tcpdump: toolVersion('tcpdump', ['--version']),
      argus: toolVersion('argus', ['-h']),
      softflowd: toolVersion('softflowd', ['-h']),
      nfpcapd: toolVersion('nfpcapd', ['-V']),
      tshark: toolVersion('tshark', ['-v']),
    },
    runs: opts.runs,
    floodArgusRuns: opts.floodArgusRuns,
    workloads: {},
  };
  try {
    for (const w of workloads) {
      const tools = toolsFor(w, opts, collector).filter(
        (t) => (opts.tools === null || opts.tools.includes(t.name)) && !missing.includes(t.cmd),
      );
      const state = await measure(w, tools, opts);
      report.workloads[w.name] = {
        capture: {
          file: relative(ROOT, w.capture),
          packets: w.packets,
          bytes: w.bytes,
          slice: w.slice === null ? null : relative(ROOT, w.slice),
          slicePackets: w.slicePackets,
        },
        ...summarize(w, tools, state),
      };
    }
  } finally {
    socket.close();
  }
  report.date = new Date().toISOString();
  writeFileSync(join(OUT, 'results.json'), JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(
    Object.entries(report.workloads)
      .map(([name, w]) => renderTable(name, w, opts.runs))
      .join('\n'),
  );
  if (Object.values(report.workloads).some((w) => w.results.some((r) => !r.ok))) process.exitCode = 1;
}

/**
 * Targets of FlowTrack `ft` (detectors on) and `engineOnly` (--no-detect). The ratios to the flow
 * tools and to tcpdump use the engine alone when it ran: those tools detect nothing.
 */
function evaluateTargets(results, ft, engineOnly) {
  if (!ft) return [];
  const byName = (name) => results.find((r) => r.tool === name && r.input === 'full' && r.ok);
  const targets = [];
  if (engineOnly) {
    targets.push({
      target: `FlowTrack engine (--no-detect) >= ${TARGET_PACKETS_PER_SECOND / 1e6}M packets/s`,
      value: `${(engineOnly.packetsPerSecond / 1e6).toFixed(2)}M`,
      met: engineOnly.packetsPerSecond >= TARGET_PACKETS_PER_SECOND,
    });
  }
  targets.push({
    target: `FlowTrack with every detector >= ${TARGET_PACKETS_PER_SECOND_DETECTING / 1e6}M packets/s`,
    value: `${(ft.packetsPerSecond / 1e6).toFixed(2)}M`,
    met: ft.packetsPerSecond >= TARGET_PACKETS_PER_SECOND_DETECTING,
  });
  for (const name of ['argus', 'softflowd', 'nfpcapd']) {
    const r = byName(name);
    if (r) {
      targets.push({
        target: `FlowTrack >= ${TARGET_RATIO_FLOW_TOOLS}x ${name}`,
        value: `${r.flowtrackSpeedup.toFixed(2)}x`,
        met: r.flowtrackSpeedup >= TARGET_RATIO_FLOW_TOOLS,
      });
    }
  }
  const tcpdump = byName('tcpdump');
  if (tcpdump) {
    const factor = (engineOnly ?? ft).seconds / tcpdump.seconds;
    targets.push({
      target: `FlowTrack${engineOnly ? ' engine' : ''} within ${TARGET_TCPDUMP_FACTOR}x of tcpdump -w /dev/null`,
      value: `${factor.toFixed(2)}x its time`,
      met: factor <= TARGET_TCPDUMP_FACTOR,
    });
  }
  return targets;
}

const WORKLOAD_TITLES = {
  mix: 'mixed site traffic',
  flood: 'spoofed SYN flood, one new flow per packet',
};

function renderTable(name, w, runs) {
  const c = w.capture;
  const slice = c.slice === null ? '' : `; slice: first ${c.slicePackets.toLocaleString('en-US')} packets`;
  const title =
    `${name} (${WORKLOAD_TITLES[name]}): ${c.file}, ${c.packets.toLocaleString('en-US')} packets, ` +
    `${(c.bytes / 2 ** 20).toFixed(0)} MiB${slice}`;
  const rows = [
    [
      'tool',
      'input',
      'packets',
      'runs',
      'seconds (best)',
      'CPU s',
      'others CPU s',
      'packets/s',
      'peak RSS MiB',
      'FlowTrack vs it',
    ],
  ];
  for (const r of w.results) {
    rows.push([
      r.tool,
      r.input === 'full' ? 'capture' : 'slice',
      String(r.packets),
      String(r.runs),
      r.ok ? r.seconds.toFixed(3) : 'FAILED',
      r.ok && r.cpuSeconds !== null ? r.cpuSeconds.toFixed(2) : '',
      r.ok && r.othersCpuSeconds !== null ? r.othersCpuSeconds.toFixed(2) : '',
      r.ok ? r.packetsPerSecond.toLocaleString('en-US') : '-',
      r.ok && r.peakRssKiB !== null ? Math.round(r.peakRssKiB / 1024).toLocaleString('en-US') : '',
      r.flowtrackSpeedup === null ? '' : `${r.flowtrackSpeedup.toFixed(2)}x`,
    ]);
  }
  const widths = rows[0].map((_, col) => Math.max(...rows.map((row) => row[col].length)));
  const line = (row) =>
    `| ${row.map((cell, col) => (col >= 2 ? cell.padStart(widths[col]) : cell.padEnd(widths[col]))).join(' | ')} |`;
  const out = [
    title,
    '',
    line(rows[0]),
    `|${widths.map((wd, col) => (col >= 2 ? `${'-'.repeat(wd + 1)}:` : '-'.repeat(wd + 2))).join('|')}|`,
  ];
  for (const row of rows.slice(1)) out.push(line(row));
  out.push('');
  for (const r of w.results.filter((x) => x.ok && (x.runs < runs || !x.warmUp))) {
    out.push(
      `note    ${r.tool}: ${r.runs} timed run${r.runs === 1 ? '' : 's'}${r.warmUp ? '' : ', no warm-up'}` +
        (name === 'flood' && r.tool === 'argus' ? ' (slow on the flood: --flood-argus-runs N for more)' : ''),
    );
  }
  for (const t of w.targets) out.push(`${t.met ? 'met   ' : 'MISSED'}  ${t.target}: ${t.value}`);
  for (const r of w.results.filter((x) => !x.ok)) out.push(`FAILED  ${r.tool}: ${r.note}`);
  return `${out.join('\n')}\n`;
}

main().catch((err) => {
  console.error(`bench: ${err.message}`);
  process.exitCode = 1;
});
