/**
 * Memory stays bounded under a spoofed flood: a pcap of 2,000,000 TCP SYNs from seeded random
 * sources to one victim (2,000,000 flows, four times the default 500,000-flow cap) is written
 * into a temp dir and analysed by the built CLI as a child process. Its peak RSS must stay under
 * 300 MB, the flow table must evict, every packet must be counted, and the detectors (on by
 * default) must raise one ddos alert for the victim, not one per source.
 * Needs `npm run build` (the project's `npm test` builds first).
 */

import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/corpus.js';
import { pcapHeader } from './helpers/pcap-builder.js';

const cliPath = join(repoRoot, 'dist/cli/main.js');
const PACKETS = 2_000_000;
const RSS_LIMIT = 300 * 1024 * 1024;
const SEED = 0x5f10_0d00;

const tmp = mkdtempSync(join(tmpdir(), 'flowtrack-bounded-'));
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

/** Ethernet + IPv4 + TCP SYN: 54 bytes per frame, 70 with its record header. */
const FRAME = 54;
const RECORD = 16 + FRAME;

/**
 * Writes `count` SYN records from random sources (xorshift32 from `seed`) to 10.0.0.1:80,
 * 10 µs apart, in 4.5 MiB buffered writes.
 */
function writeSynFlood(path: string, count: number, seed: number): void {
  const batch = 65536;
  const buf = Buffer.alloc(batch * RECORD);
  for (let i = 0; i < batch; i++) {
    const r = i * RECORD;
    buf.writeUInt32LE(FRAME, r + 8);
    buf.writeUInt32LE(FRAME, r + 12);
    const f = r + 16;
    buf.set([0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x08, 0x00], f); // Ethernet, IPv4
    buf[f + 14] = 0x45;
    buf.writeUInt16BE(40, f + 16);
    buf[f + 22] = 64; // TTL
    buf[f + 23] = 6; // TCP
    buf.writeUInt32BE(0x0a000001, f + 30); // 10.0.0.1
    buf.writeUInt16BE(80, f + 36);
    buf[f + 46] = 5 << 4; // data offset
    buf[f + 47] = 0x02; // SYN
    buf.writeUInt16BE(64240, f + 48);
  }
  let x = seed >>> 0 || 1;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>>= 0);
  };
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, pcapHeader({ snapLen: 65535, linkType: 1 }));
    const startMicros = 1_700_000_000 * 1_000_000;
    for (let done = 0; done < count;) {
      const n = Math.min(batch, count - done);
      for (let i = 0; i < n; i++) {
        const r = i * RECORD;
        const t = startMicros + (done + i) * 10;
        buf.writeUInt32LE(Math.floor(t / 1_000_000), r);
        buf.writeUInt32LE(t % 1_000_000, r + 4);
        const f = r + 16;
        buf.writeUInt32BE(next(), f + 26); // source address
        const ports = next();
        buf.writeUInt16BE(1024 + (ports % 64512), f + 34); // source port
        buf.writeUInt32BE(ports, f + 38); // sequence number
      }
      writeSync(fd, buf, 0, n * RECORD);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
}

interface FloodReport {
  packets: number;
  flows: { total: number; evicted: number; byState: Record<string, number> };
  settings: { maxFlows: number };
  resources: { peakRssBytes: number; elapsedSeconds: number; packetsPerSecond: number };
  input: { readError: unknown };
  alerts: {
    type: string;
    src: string | null;
    dst: string | null;
    severity: string;
    counters: Record<string, number>;
  }[];
}

describe('bounded memory under a spoofed SYN flood', () => {
  it(`analyses ${PACKETS.toLocaleString('en-US')} SYNs from random sources under 300 MB peak RSS`, () => {
    if (!existsSync(cliPath)) {
      throw new Error(`${cliPath} is missing: run \`npm run build\` first (\`npm test\` does it)`);
    }
    const path = join(tmp, 'syn-flood.pcap');
    const t0 = Date.now();
    writeSynFlood(path, PACKETS, SEED);
    expect(statSync(path).size).toBe(24 + PACKETS * RECORD);
    const written = Date.now();

    const r = spawnSync(process.execPath, [cliPath, 'analyze', '--json', path], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      timeout: 120_000,
    });
    if (r.error) throw r.error;
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as FloodReport;
    const peakMb = report.resources.peakRssBytes / 1024 / 1024;
    console.log(
      `SYN flood: wrote ${PACKETS} packets in ${((written - t0) / 1000).toFixed(1)} s; analysed in ` +
        `${report.resources.elapsedSeconds.toFixed(1)} s (${report.resources.packetsPerSecond} packets/s), ` +
        `peak RSS ${peakMb.toFixed(1)} MB, flows ${report.flows.total}, evicted ${report.flows.evicted}`,
    );

    expect(report.input.readError).toBeNull();
    expect(report.packets).toBe(PACKETS);
    expect(report.settings.maxFlows).toBe(500_000);
    expect(report.flows.evicted).toBeGreaterThan(0);
    // Sources and ports are random: a handful of 5-tuples may repeat, no more.
    expect(report.flows.total).toBeGreaterThan(PACKETS - 1000);
    expect(report.flows.evicted).toBe(report.flows.total - 500_000);
    expect(report.flows.byState.attempted).toBe(report.flows.total);
    expect(report.resources.peakRssBytes, `peak RSS ${peakMb.toFixed(1)} MB`).toBeLessThan(RSS_LIMIT);

    // The detectors ran too, within the same memory: one attack, so one alert for the victim.
    const floods = report.alerts.filter((a) => a.type === 'ddos' || a.type === 'syn_flood');
    expect(floods.map((a) => `${a.type} ${a.src} -> ${a.dst}`)).toEqual(['ddos null -> 10.0.0.1']);
    const ddos = floods[0]!;
    expect(ddos.severity).toBe('critical');
    // The flood meter's pre-filter admits the victim after its first dozen SYNs.
    expect(ddos.counters.syns).toBeGreaterThan(PACKETS - 100);
    // HyperLogLog with 128 registers: within 30% (4 standard errors) of 2,000,000 sources.
    expect(ddos.counters.sources).toBeGreaterThan(1_400_000);
    expect(ddos.counters.sources).toBeLessThan(2_600_000);
  });
});
