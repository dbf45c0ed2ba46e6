/**
 * The built `flowtrack analyze` command as a user runs it: help, JSON report, flow files,
 * standard input, and one clear line on standard error for every input it cannot read.
 * Needs `npm run build` (the project's `npm test` builds first).
 */

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { corpusPath, readManifest, repoRoot, describeWithCorpus } from './helpers/corpus.js';
import { ethernet, ipv4, ipv4Tcp, ipv4Udp, ipv4UdpFragment, pcapFile } from './helpers/pcap-builder.js';

const cliPath = join(repoRoot, 'dist/cli/main.js');

interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

function flowtrack(args: readonly string[], input?: Buffer, timeoutMs = 60_000): CliResult {
  if (!existsSync(cliPath)) {
    throw new Error(`${cliPath} is missing: run \`npm run build\` first (\`npm test\` does it)`);
  }
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    input,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    env: { ...process.env, NO_COLOR: '1' },
  });
  if (r.error && (r.error as NodeJS.ErrnoException).code !== 'ETIMEDOUT') throw r.error;
  if (r.error) {
    return { status: null, stdout: r.stdout, stderr: `${r.stderr}\n(killed after ${timeoutMs} ms: it hung)` };
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The lines written to standard error (a trailing newline does not make an extra line). */
function stderrLines(r: CliResult): string[] {
  return r.stderr.split('\n').filter((l) => l.length > 0);
}

/** Asserts the one-line failure the issue asks for: non-zero, one line that says why, no stack. */
function expectOneLineFailure(r: CliResult, why: RegExp): void {
  expect(r.status, r.stderr).not.toBe(0);
  expect(r.status).not.toBeNull();
  const lines = stderrLines(r);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(why);
  expect(r.stderr).not.toMatch(/\n\s+at |this is a bug/);
}

interface Report {
  input: {
    file: string;
    format: string;
    compressed: boolean;
    readError: { offset: number; reason: string } | null;
  };
  packets: number;
  protocols: Record<string, number>;
  flows: { total: number; evicted: number };
  topTalkersByBytes: unknown[];
  topPorts: unknown[];
  topFlows: unknown[];
  decodeProblems: Record<string, number>;
  settings: { maxFlows: number; idleTimeoutSeconds: number };
  resources: { peakRssBytes: number };
  alerts: { type: string; src: string | null; dst: string | null }[];
}

function json(r: CliResult): Report {
  return JSON.parse(r.stdout) as Report;
}

const tmp = mkdtempSync(join(tmpdir(), 'flowtrack-cli-'));
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function tmpFile(name: string, bytes: Uint8Array | string): string {
  const path = join(tmp, name);
  writeFileSync(path, bytes);
  return path;
}

// A small capture built here, so the CLI's basics are tested even without the corpus:
// 3 TCP handshakes' SYNs plus 2 DNS queries.
const SEC = 1_700_000_000;
const built = pcapFile([
  ...[1, 2, 3].map((i) => ({
    sec: SEC,
    frac: i,
    data: ethernet(
      ipv4Tcp({ src: ipv4(`10.0.0.${i}`), dst: ipv4('10.0.0.100'), srcPort: 40000 + i, dstPort: 22 }),
    ),
  })),
  ...[4, 5].map((i) => ({
    sec: SEC + 1,
    frac: i,
    data: ethernet(ipv4Udp(ipv4(`10.0.0.${i}`), ipv4('10.0.0.53'), 5000 + i, 53, 20)),
  })),
]);
const builtPath = tmpFile('built.pcap', built);

describe('flowtrack --help', () => {
  it('prints the usage of flowtrack with the analyze command', () => {
    const r = flowtrack(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: flowtrack/);
    expect(r.stdout).toMatch(/analyze/);
  });

  it('prints the usage of analyze with its options and exit statuses', () => {
    for (const args of [
      ['analyze', '--help'],
      ['help', 'analyze'],
    ]) {
      const r = flowtrack(args);
      expect(r.status, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/Usage: flowtrack analyze/);
      for (const option of ['--json', '--flows', '--max-flows', '--top', '--idle-timeout']) {
        expect(r.stdout).toContain(option);
      }
      expect(r.stdout).toMatch(/Exit status/);
    }
  });

  it('prints the version', () => {
    const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      version: string;
    };
    const r = flowtrack(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });
});

describe('flowtrack analyze: reports', () => {
  it('--json prints one valid JSON document with every section', () => {
    const r = flowtrack(['analyze', '--json', builtPath]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const report = json(r);
    for (const key of [
      'packets',
      'protocols',
      'flows',
      'topTalkersByBytes',
      'topPorts',
      'topFlows',
      'decodeProblems',
    ]) {
      expect(report).toHaveProperty(key);
    }
    expect(report.packets).toBe(5);
    expect(report.flows.total).toBe(5);
    expect(report.protocols.tcp).toBe(3);
    expect(report.protocols.udp).toBe(2);
    expect(report.input).toMatchObject({ format: 'pcap', compressed: false, readError: null });
    expect(Array.isArray(report.topTalkersByBytes)).toBe(true);
    expect(report.topPorts).toEqual(
      expect.arrayContaining([expect.objectContaining({ protocol: 'tcp', port: 22, flows: 3 })]),
    );
  });

  it('prints a text report by default', () => {
    const r = flowtrack(['analyze', builtPath]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Packets\s+5\b/m);
    expect(r.stdout).toMatch(/^Flows\s+5\b/m);
  });

  it('--top limits the top lists', () => {
    const report = json(flowtrack(['analyze', '--json', '--top', '2', builtPath]));
    expect(report.topFlows.length).toBeLessThanOrEqual(2);
    expect(report.topTalkersByBytes.length).toBeLessThanOrEqual(2);
    expect(report.topPorts.length).toBeLessThanOrEqual(2);
  });

  it('--max-flows caps the flow table and counts the evictions', () => {
    const report = json(flowtrack(['analyze', '--json', '--max-flows', '2', builtPath]));
    expect(report.settings.maxFlows).toBe(2);
    expect(report.flows.total).toBe(5);
    expect(report.flows.evicted).toBe(3);
  });

  it('--flows FILE.jsonl writes one JSON line per flow', () => {
    const out = join(tmp, 'flows.jsonl');
    const report = json(flowtrack(['analyze', '--json', '--flows', out, builtPath]));
    const lines = readFileSync(out, 'utf8').split('\n').filter(Boolean);
    expect(lines).toHaveLength(report.flows.total);
    const flows = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(new Set(flows.map((f) => f.id)).size).toBe(lines.length);
    expect(flows[0]).toMatchObject({ protocol: 'tcp', clientAddress: '10.0.0.1', serverPort: 22 });
  });

  it('--flows FILE.csv writes a header and one row per flow; --flows-format csv does too', () => {
    for (const [name, extra] of [
      ['flows.csv', []],
      ['flows.out', ['--flows-format', 'csv']],
    ] as const) {
      const out = join(tmp, name);
      const report = json(flowtrack(['analyze', '--json', '--flows', out, ...extra, builtPath]));
      const [header, ...rows] = readFileSync(out, 'utf8').split('\n').filter(Boolean);
      expect(header?.split(',')).toEqual(
        expect.arrayContaining(['id', 'clientAddress', 'serverPort', 'state']),
      );
      expect(rows).toHaveLength(report.flows.total);
      const columns = header!.split(',').length;
      for (const row of rows) expect(row.split(',')).toHaveLength(columns);
    }
  });

  it('reads standard input when the file is "-", plain or gzipped', () => {
    const fromFile = json(flowtrack(['analyze', '--json', builtPath]));
    for (const input of [built, gzipSync(built)]) {
      const r = flowtrack(['analyze', '--json', '-'], input);
      expect(r.status, r.stderr).toBe(0);
      const fromStdin = json(r);
      expect(fromStdin.input.file).toBe('-');
      expect(fromStdin.packets).toBe(fromFile.packets);
      expect(fromStdin.flows).toEqual(fromFile.flows);
      expect(fromStdin.topFlows).toEqual(fromFile.topFlows);
    }
  });
});

describe('flowtrack analyze: regressions', () => {
  it("finishes when a later IP fragment comes after its first fragment's flow timed out", () => {
    // Found by test/fuzz-captures.test.ts (seed 0x1, case 11019). The fragment cache still named
    // the freed slot of the expired flow, so the fragment was accounted to a free slot, which went
    // back on the live list without being in the hash index; ending it at flush then searched the
    // index for ever. Two packets were enough to hang `flowtrack analyze` at 100% CPU.
    const src = ipv4('10.0.0.1');
    const dst = ipv4('10.0.0.2');
    const file = tmpFile(
      'late-fragment.pcap',
      pcapFile([
        {
          sec: SEC,
          frac: 0,
          data: ethernet(ipv4UdpFragment(src, dst, 242, { first: true, srcPort: 1000, dstPort: 2000 })),
        },
        // 61 s later: past the 60 s idle timeout, so the first fragment's flow has ended.
        {
          sec: SEC + 61,
          frac: 0,
          data: ethernet(ipv4UdpFragment(src, dst, 242, { first: false, offset8: 3, last: true })),
        },
      ]),
    );
    const r = flowtrack(['analyze', '--json', file], undefined, 15_000);
    expect(r.status, r.stderr).toBe(0);
    const report = json(r);
    expect(report.packets).toBe(2);
    expect(report.flows.total).toBeGreaterThanOrEqual(1);
  });
});

describe('flowtrack analyze: inputs it cannot read', () => {
  it('a text file: non-zero exit, one line saying it is not a capture', () => {
    const r = flowtrack(['analyze', tmpFile('readme.txt', 'This is a text file.\nIt is not a capture.\n')]);
    expectOneLineFailure(r, /not a pcap or pcapng capture/);
    expect(r.stdout).toBe('');
  });

  it('a gzipped text file: one line saying it is not a capture', () => {
    const r = flowtrack([
      'analyze',
      tmpFile('readme.txt.gz', gzipSync('This is a text file.\nIt is not a capture.\n')),
    ]);
    expectOneLineFailure(r, /not a pcap or pcapng capture/);
  });

  it('a missing file: non-zero exit, one line saying it does not exist', () => {
    expectOneLineFailure(flowtrack(['analyze', join(tmp, 'missing.pcap')]), /missing\.pcap.*no such file/);
  });

  it('a directory, an empty file and a cut file header: one line each', () => {
    expectOneLineFailure(flowtrack(['analyze', tmp]), /directory/);
    expectOneLineFailure(flowtrack(['analyze', tmpFile('empty.pcap', '')]), /empty/);
    expectOneLineFailure(flowtrack(['analyze', tmpFile('short.pcap', built.subarray(0, 12))]), /header/);
    expectOneLineFailure(flowtrack(['analyze', '-'], Buffer.alloc(0)), /empty/);
  });

  it('a flows file that cannot be written: one line', () => {
    expectOneLineFailure(
      flowtrack(['analyze', '--flows', join(tmp, 'no/such/dir/flows.jsonl'), builtPath]),
      /cannot write flows/,
    );
  });

  describe('bad option values: a clear one-line error naming the option', () => {
    const cases: [string[], RegExp][] = [
      [['--max-flows', 'abc'], /--max-flows.*abc/],
      [['--max-flows', '0'], /--max-flows/],
      [['--max-flows', '1.5'], /--max-flows/],
      [['--top', '-3'], /--top/],
      [['--idle-timeout', 'soon'], /--idle-timeout.*soon/],
      [['--active-timeout', '0'], /--active-timeout/],
      [['--closed-timeout', '-1'], /--closed-timeout/],
      [['--flows-format', 'xml'], /--flows-format.*xml/],
      [['--no-such-option'], /no-such-option/],
    ];
    for (const [args, why] of cases) {
      it(args.join(' '), () => {
        expectOneLineFailure(flowtrack(['analyze', ...args, builtPath]), why);
      });
    }
  });
});

describe('flowtrack analyze: a capture corrupt part-way', () => {
  it('a good file truncated mid-record: reports what was read, the byte offset, exit 2', () => {
    const recordStart = 24 + 3 * (16 + 54); // after the three SYN records
    const cut = tmpFile('cut.pcap', built.subarray(0, recordStart + 25));
    const r = flowtrack(['analyze', '--json', cut]);
    expect(r.status).toBe(2);
    const report = json(r);
    expect(report.packets).toBe(3);
    expect(report.input.readError?.offset).toBe(recordStart);
    const lines = stderrLines(r);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`stopped at byte ${recordStart}\\b`));

    const text = flowtrack(['analyze', cut]);
    expect(text.status).toBe(2);
    expect(text.stdout).toMatch(new RegExp(`Stopped\\s+at byte ${recordStart}\\b`));
    expect(text.stdout).toMatch(/^Packets\s+3\b/m);
  });

  describeWithCorpus('corpus', () => {
    it('suricata bug-1450-04 (record length 4325376 at byte 5035): six packets, exit 2', () => {
      const file = corpusPath('suricata-verify/malformed/bug-1450-04__tls_DER-incomplete-header.pcap');
      const flowsOut = join(tmp, 'bug-1450.jsonl');
      const r = flowtrack(['analyze', '--json', '--flows', flowsOut, file]);
      expect(r.status).toBe(2);
      const report = json(r);
      expect(report.packets).toBe(6);
      expect(report.input.readError?.offset).toBe(5035);
      expect(stderrLines(r)).toHaveLength(1);
      expect(r.stderr).toMatch(/stopped at byte 5035/);
      expect(readFileSync(flowsOut, 'utf8').split('\n').filter(Boolean)).toHaveLength(report.flows.total);
    });

    it('pcapng saved as .pcap and pcap saved as .pcapng report capinfos packet counts', () => {
      const manifest = readManifest();
      for (const f of [
        'nDPI/protocols/dns.pcap',
        'StopDDoS-packet-captures/attacks/pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng',
      ]) {
        const r = flowtrack(['analyze', '--json', corpusPath(f)]);
        expect(r.status, r.stderr).toBe(0);
        const expected = manifest.find((m) => m.local_file === f)?.capinfos_packets;
        expect(json(r).packets, f).toBe(Number(expected));
      }
    });

    it('a corpus capture piped to standard input gives the same report as the file', () => {
      const f = corpusPath('zeek/protocols/ldap__modify-request.pcapng');
      const fromFile = json(flowtrack(['analyze', '--json', f]));
      const fromStdin = json(flowtrack(['analyze', '--json', '-'], readFileSync(f)));
      expect(fromStdin.packets).toBe(fromFile.packets);
      expect(fromStdin.flows).toEqual(fromFile.flows);
      expect(fromStdin.protocols).toEqual(fromFile.protocols);
    });

    it('--flows CSV of a corpus capture has one row per flow', () => {
      const out = join(tmp, 'synflood.csv');
      const f = corpusPath('StopDDoS-packet-captures/attacks/pkt.TCP.synflood.spoofed.pcap');
      const r = flowtrack(['analyze', '--json', '--flows', out, f]);
      expect(r.status, r.stderr).toBe(0);
      const rows = readFileSync(out, 'utf8').split('\n').filter(Boolean);
      expect(rows.length - 1).toBe(json(r).flows.total);
    });
  });
});

describe('flowtrack analyze --config and --set', () => {
  const synFlood = corpusPath(
    'suricata-verify/attacks/firewall__tcp-session-syn-flood-drop-precedence__input.pcap',
  );

  it('takes flow limits from the file, and the command line wins over it', () => {
    const config = tmpFile('limits.json', JSON.stringify({ flows: { maxFlows: 7, idleTimeoutSeconds: 5 } }));
    const fromFile = json(flowtrack(['analyze', '--json', '--config', config, builtPath]));
    expect(fromFile.settings).toMatchObject({ maxFlows: 7, idleTimeoutSeconds: 5 });
    const overridden = json(
      flowtrack(['analyze', '--json', '--config', config, '--max-flows', '9', builtPath]),
    );
    expect(overridden.settings).toMatchObject({ maxFlows: 9, idleTimeoutSeconds: 5 });
  });

  describeWithCorpus('on a corpus capture', () => {
    it('a detector threshold from the file or --set changes what is raised', () => {
      const types = (r: CliResult): string[] => json(r).alerts.map((a) => a.type);
      expect(types(flowtrack(['analyze', '--json', synFlood]))).toContain('connection_flood');
      const quiet = tmpFile(
        'quiet.json',
        JSON.stringify({ detection: { connection_flood: { perMinute: 100000 } } }),
      );
      expect(types(flowtrack(['analyze', '--json', '--config', quiet, synFlood]))).not.toContain(
        'connection_flood',
      );
      expect(
        types(flowtrack(['analyze', '--json', '--set', 'connection_flood.perMinute=100000', synFlood])),
      ).not.toContain('connection_flood');
    });
  });

  it('a bad configuration file is one line naming every bad key', () => {
    const config = tmpFile(
      'bad.json',
      JSON.stringify({ flows: { maxFlow: 1 }, detection: { port_scan: { nope: 1 } } }),
    );
    const r = flowtrack(['analyze', '--config', config, builtPath]);
    expectOneLineFailure(r, /unknown key "flows\.maxFlow".*port_scan has no option "nope"/);
  });
});
