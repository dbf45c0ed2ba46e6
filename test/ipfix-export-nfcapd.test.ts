/**
 * `flowtrack analyze --ipfix` into nfdump's real collector: nfcapd listens on a free port of
 * 127.0.0.1 into a temporary directory, the built CLI analyses real captures and exports every
 * flow to it, nfcapd is stopped with SIGTERM so it writes its file, and nfdump reads it back.
 * nfdump must find exactly the uniflow records FlowTrack says it sent, record by record, with
 * FlowTrack's packet and byte totals, and no sequence number gap. Those totals are checked once
 * more against tshark's own count of the capture's IP frames.
 *
 * The capture is two corpus files merged (mergecap) in the temp dir: a DNS amplification trace
 * (TCP, UDP, ICMP, IP fragments, a little IPv6, one-way traffic) and an nDPI trace (two-way TCP
 * and UDP, IPv6). Needs the built CLI (dist/, `npm test` builds it first; FLOWTRACK_TEST_CLI
 * names another build), nfcapd, nfdump, tshark and mergecap. nfcapd runs under coreutils
 * `timeout`, so it ends even if this test dies; nothing is sent beyond 127.0.0.1.
 */

import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { corpusAvailable, corpusDir, corpusPath, repoRoot } from './helpers/corpus.js';
import { BackgroundProcess, run, type CommandResult } from './helpers/netns.js';
import { describeUnlessMissing, hasTool } from './helpers/system-tools.js';

const CLI = process.env.FLOWTRACK_TEST_CLI ?? join(repoRoot, 'dist/cli/main.js');
const CAPTURES = [
  'StopDDoS-packet-captures/attacks/amp.dns.RRSIG.fragmented.pcap',
  'nDPI/protocols/1kxun.pcap',
];
const TOOLS = ['nfcapd', 'nfdump', 'tshark', 'mergecap', 'timeout'];
/** nfcapd's hard limit: far more than the test needs, so a crashed test leaves nothing behind. */
const NFCAPD_LIMIT_SECONDS = 300;

const missing = [
  ...TOOLS.filter((t) => !hasTool(t)),
  ...(corpusAvailable ? [] : [`the capture corpus at ${corpusDir}`]),
];

/** A flow as `--flows FILE.jsonl` writes it (the fields this test reads). */
interface FlowLine {
  ipVersion: number;
  protocol: string;
  clientAddress: string;
  clientPort: number;
  serverAddress: string;
  serverPort: number;
  firstSeen: number;
  lastSeen: number;
  packetsToServer: number;
  packetsToClient: number;
  bytesToServer: number;
  bytesToClient: number;
}

interface ExportReport {
  packets: number;
  flows: { total: number };
  ipfixExport: {
    collector: string;
    flows: number;
    records: number;
    packets: number;
    bytes: number;
    messages: number;
    sendErrors: number;
    droppedFlows: number;
    invalidFlows: number;
    bufferedFlows: number;
  };
}

/** Runs the built CLI to its end (at most 120 s). */
function flowtrack(args: readonly string[]): Promise<CommandResult> {
  if (!existsSync(CLI))
    throw new Error(`${CLI} is missing: run \`npm run build\` first (\`npm test\` does it)`);
  return run(process.execPath, [CLI, ...args], { allowFailure: true, timeoutSeconds: 120 });
}

/** A UDP port of 127.0.0.1 free a moment ago (bound, then closed again). */
async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}

/** `nfdump -I`'s "Name: value" lines as numbers. */
function nfdumpStats(text: string): Map<string, number> {
  const stats = new Map<string, number>();
  for (const m of text.matchAll(/^([A-Za-z_ ]+):\s+(\d+)$/gm)) stats.set(m[1]!, Number(m[2]));
  return stats;
}

/** nfdump's protocol names for the ones in these captures. */
const NFDUMP_PROTOCOL: Record<string, string> = { tcp: 'TCP', udp: 'UDP', icmp: 'ICMP', icmpv6: 'ICMP6' };

/** One uniflow as "src|dst|srcPort|dstPort|protocol|packets|bytes". */
const uniflowKey = (...parts: (string | number)[]): string => parts.join('|');

/**
 * The uniflow records FlowTrack's flows make: one per direction that has packets. ICMP records
 * carry ports 0 (FlowTrack's echo flows hold the echo identifier there, which is no port).
 */
function expectedUniflows(flows: readonly FlowLine[]): string[] {
  const out: string[] = [];
  for (const flow of flows) {
    const icmp = flow.protocol === 'icmp' || flow.protocol === 'icmpv6';
    const f = icmp ? { ...flow, clientPort: 0, serverPort: 0 } : flow;
    const proto = NFDUMP_PROTOCOL[f.protocol] ?? f.protocol;
    if (f.packetsToServer > 0) {
      out.push(
        uniflowKey(
          f.clientAddress,
          f.serverAddress,
          f.clientPort,
          f.serverPort,
          proto,
          f.packetsToServer,
          f.bytesToServer,
        ),
      );
    }
    if (f.packetsToClient > 0) {
      out.push(
        uniflowKey(
          f.serverAddress,
          f.clientAddress,
          f.serverPort,
          f.clientPort,
          proto,
          f.packetsToClient,
          f.bytesToClient,
        ),
      );
    }
  }
  return out.sort();
}

describeUnlessMissing(
  missing.length === 0 ? null : missing.join(', '),
  'scripts/setup.sh --test installs nfdump and tshark (Debian packages nfdump, tshark, wireshark-common); the corpus is ../shared/pcaps',
  'flowtrack analyze --ipfix into nfdump nfcapd',
  () => {
    let dir = '';
    let capture = '';
    let nfcapd: BackgroundProcess | null = null;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'flowtrack-ipfix-nfcapd-'));
      capture = join(dir, 'merged.pcap');
      await run('mergecap', ['-F', 'pcap', '-w', capture, ...CAPTURES.map(corpusPath)], {
        timeoutSeconds: 60,
      });
    });

    afterEach(async () => {
      await nfcapd?.stop('SIGKILL', 5000);
      nfcapd = null;
    });

    afterAll(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    /** Starts nfcapd on a free loopback port writing into `flowDir`; resolves once it is bound. */
    async function startNfcapd(flowDir: string): Promise<number> {
      mkdirSync(flowDir);
      const port = await freeUdpPort();
      const args = ['-b', '127.0.0.1', '-p', String(port), '-w', flowDir, '-t', '3600'];
      const child = spawn('timeout', ['-k', '5', String(NFCAPD_LIMIT_SECONDS), 'nfcapd', ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      nfcapd = new BackgroundProcess(child);
      await nfcapd.waitFor(/Startup nfcapd/, 10_000);
      return port;
    }

    /** SIGTERM (forwarded by `timeout`): nfcapd writes its file and exits. */
    async function stopNfcapd(): Promise<string> {
      const collector = nfcapd!;
      const code = await collector.stop('SIGTERM', 20_000);
      nfcapd = null;
      expect(code, collector.text).toBe(0);
      return collector.text;
    }

    it('nfdump reads back exactly the uniflows, packets and bytes FlowTrack exported', async () => {
      const flowDir = join(dir, 'nfcapd');
      const flowsFile = join(dir, 'flows.jsonl');
      const port = await startNfcapd(flowDir);

      const cli = await flowtrack([
        'analyze',
        '--json',
        '--no-progress',
        '--ipfix',
        `127.0.0.1:${port}`,
        '--flows',
        flowsFile,
        capture,
      ]);
      expect(cli.code, cli.stderr).toBe(0);
      expect(cli.stderr).toBe('');
      const report = JSON.parse(cli.stdout) as ExportReport;
      const exported = report.ipfixExport;
      expect(exported).toMatchObject({
        collector: `127.0.0.1:${port}`,
        sendErrors: 0,
        droppedFlows: 0,
        invalidFlows: 0,
        bufferedFlows: 0,
      });
      expect(exported.flows).toBe(report.flows.total);

      // FlowTrack's own flow totals, from the flow file written beside the export.
      const flows = readFileSync(flowsFile, 'utf8')
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as FlowLine);
      expect(flows).toHaveLength(report.flows.total);
      const packets = flows.reduce((n, f) => n + f.packetsToServer + f.packetsToClient, 0);
      const bytes = flows.reduce((n, f) => n + f.bytesToServer + f.bytesToClient, 0);
      const uniflows = expectedUniflows(flows);
      expect(exported).toMatchObject({ records: uniflows.length, packets, bytes });
      // The merged capture has both kinds: flows with an answer (two records) and without (one).
      expect(uniflows.length).toBeGreaterThan(flows.length);
      expect(uniflows.length).toBeLessThan(2 * flows.length);
      expect(flows.some((f) => f.ipVersion === 6)).toBe(true);
      expect(flows.some((f) => f.protocol === 'icmp')).toBe(true);

      const log = await stopNfcapd();
      expect(log).toMatch(
        new RegExp(`Flows: ${uniflows.length}, Packets: ${packets}, Bytes: ${bytes}, Sequence Errors: 0`),
      );

      // nfdump's summary of what nfcapd stored.
      const stats = nfdumpStats((await run('nfdump', ['-R', flowDir, '-I'], { timeoutSeconds: 60 })).stdout);
      expect(stats.get('Flows')).toBe(exported.records);
      expect(stats.get('Packets')).toBe(packets);
      expect(stats.get('Bytes')).toBe(bytes);
      expect(stats.get('Sequence failures')).toBe(0);
      const byProtocol = (protocol: string, field: 'packets' | 'records'): number =>
        flows
          .filter((f) => f.protocol === protocol)
          .reduce(
            (n, f) =>
              n +
              (field === 'packets'
                ? f.packetsToServer + f.packetsToClient
                : Number(f.packetsToServer > 0) + Number(f.packetsToClient > 0)),
            0,
          );
      expect(stats.get('Flows_tcp')).toBe(byProtocol('tcp', 'records'));
      expect(stats.get('Packets_tcp')).toBe(byProtocol('tcp', 'packets'));
      expect(stats.get('Flows_udp')).toBe(byProtocol('udp', 'records'));
      expect(stats.get('Packets_icmp')).toBe(byProtocol('icmp', 'packets') + byProtocol('icmpv6', 'packets'));
      // The capture's time span, to the millisecond (flowStart/EndMilliseconds).
      const firstMs = Math.floor(Math.min(...flows.map((f) => f.firstSeen)) / 1000);
      const lastMs = Math.floor(Math.max(...flows.map((f) => f.lastSeen)) / 1000);
      expect((stats.get('First') ?? 0) * 1000 + (stats.get('msec_first') ?? 0)).toBe(firstMs);
      expect((stats.get('Last') ?? 0) * 1000 + (stats.get('msec_last') ?? 0)).toBe(lastMs);

      // Record by record: addresses (IPv4 and IPv6), ports, protocol, packets and bytes.
      const csv = await run('nfdump', ['-R', flowDir, '-q', '-o', 'csv'], { timeoutSeconds: 60 });
      const stored = csv.stdout
        .trimEnd()
        .split('\n')
        .map((line) => {
          // ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,...
          const c = line.split(',');
          return uniflowKey(c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[11]!, c[12]!);
        })
        .sort();
      expect(stored).toEqual(uniflows);

      // An independent count of the same capture: tshark's IP frames and their lengths on the
      // wire. FlowTrack's flows hold IP packets only, and count frame bytes (the original frame
      // length, link layer included), as frame.len is; every frame of this capture is IP.
      const frames = await run(
        'tshark',
        ['-r', capture, '-Y', 'ip || ipv6', '-T', 'fields', '-e', 'frame.len'],
        {
          timeoutSeconds: 60,
        },
      );
      const frameLengths = frames.stdout.trimEnd().split('\n').map(Number);
      expect(frameLengths).toHaveLength(packets);
      expect(frameLengths.reduce((n, len) => n + len, 0)).toBe(bytes);
      expect(report.packets).toBe(packets);
    });

    it('reports a bad --ipfix address in one line, before reading anything', async () => {
      const cli = await flowtrack(['analyze', '--ipfix', '127.0.0.1', capture]);
      expect(cli.code).toBe(1);
      expect(cli.stderr.trim().split('\n')).toHaveLength(1);
      expect(cli.stderr).toMatch(/--ipfix must be HOST:PORT/);
      expect(cli.stdout).toBe('');
    });

    it('still finishes the analysis when no collector listens, and says the export failed', async () => {
      const port = await freeUdpPort();
      const cli = await flowtrack([
        'analyze',
        '--json',
        '--no-progress',
        '--ipfix',
        `127.0.0.1:${port}`,
        capture,
      ]);
      expect(cli.code, cli.stderr).toBe(0);
      const report = JSON.parse(cli.stdout) as ExportReport;
      // The first message meets the closed port; the kernel's port-unreachable fails the next.
      expect(report.ipfixExport.sendErrors).toBeGreaterThan(0);
      expect(report.ipfixExport.bufferedFlows).toBeGreaterThan(0);
      expect(cli.stderr).toMatch(
        new RegExp(`IPFIX export to 127\\.0\\.0\\.1:${port}: \\d+ send errors? .*ECONNREFUSED`),
      );
    });
  },
);
