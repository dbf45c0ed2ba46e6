/**
 * Seeded fuzzing of the capture path: real captures from the corpus (pcap in both byte orders,
 * nanosecond pcap, pcapng with several interfaces, a dozen link types) plus pcapng built here,
 * mutated (bit flips, random bytes, record and block lengths overwritten with random or extreme
 * values, bytes inserted, deleted, duplicated, spliced from another capture, header fields
 * swapped) and truncated, then fed to CaptureParser + PacketDecoder + FlowTable +
 * TrafficSummaryBuilder in random chunks. Nothing may throw except a FlowTrackError for a bad
 * file header; the packets handed out must lie inside their buffer; parsing in different chunks
 * must give the same packets; every so often a case goes through analyzeCapture from a temp file
 * (plain or gzipped) and is rendered as text and JSON.
 *
 * Reproduce a failure with the seed and case it prints:
 *   FLOWTRACK_FUZZ_SEED=<seed> FLOWTRACK_FUZZ_CASE=<n> npx vitest run test/fuzz-captures.test.ts
 * FLOWTRACK_FUZZ_CASES sets how many cases run (default 4000); FLOWTRACK_FUZZ_SECONDS the time cap.
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Script, createContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeCapture } from '../src/analyze/analyze-capture.js';
import { renderReportText } from '../src/analyze/render-text.js';
import { TrafficSummaryBuilder } from '../src/analyze/traffic-summary.js';
import { CaptureParser, sniffCaptureFormat, type CapturedPacket } from '../src/capture/capture-parser.js';
import { PacketDecoder } from '../src/decode/packet-decoder.js';
import { readFlowRecord } from '../src/flows/flow-record.js';
import { FlowTable, type FlowTableOptions } from '../src/flows/flow-table.js';
import { FlowTrackError } from '../src/util/errors.js';
import { corpusAvailable, corpusDir, corpusPath } from './helpers/corpus.js';
import {
  customBlock,
  epb,
  ethernet,
  idb,
  ipv4,
  ipv4Tcp,
  ipv4Udp,
  isb,
  linuxSll,
  nrb,
  obsoletePacketBlock,
  pcapFile,
  shb,
  spb,
} from './helpers/pcap-builder.js';

const SEED = parseSeed(process.env.FLOWTRACK_FUZZ_SEED ?? '0x5eedf10e');
const ONLY_CASE =
  process.env.FLOWTRACK_FUZZ_CASE === undefined ? null : Number(process.env.FLOWTRACK_FUZZ_CASE);
const CASES = Number(process.env.FLOWTRACK_FUZZ_CASES ?? 4000);
const TIME_LIMIT_MS = Number(process.env.FLOWTRACK_FUZZ_SECONDS ?? 60) * 1000;
/** Every Nth case also goes through analyzeCapture from a file. */
const FILE_CASE_EVERY = 20;
/** A case normally takes milliseconds; one that runs this long is stuck in a loop. */
const CASE_TIMEOUT_MS = 5000;
/** Seeds are cut to this many bytes so every case stays cheap. */
const MAX_SEED_BYTES = 64 * 1024;

function parseSeed(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n)) throw new Error(`FLOWTRACK_FUZZ_SEED must be an integer, not "${text}"`);
  return n >>> 0;
}

// ---------------------------------------------------------------- PRNG

/** mulberry32: small, fast, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  u32(): number {
    return (this.int(0x10000) * 0x10000 + this.int(0x10000)) >>> 0;
  }
}

/** A different, reproducible stream per case. */
function caseSeed(seed: number, n: number): number {
  let h = (seed ^ Math.imul(n + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

// ---------------------------------------------------------------- seeds

interface Seed {
  name: string;
  bytes: Buffer;
  /** Offsets of record or block headers (where length fields live). */
  structure: number[];
  format: 'pcap' | 'pcapng';
}

const CORPUS_SEEDS = [
  'zeek/protocols/http__get.pcap', // pcap LE, Ethernet
  'nDPI/protocols/nfsv3.pcap', // pcap BE
  'tcpdump/protocols/tcp-handshake-nano.pcap', // nanosecond, Linux SLL
  'nDPI/protocols/dns.pcap', // pcapng saved as .pcap
  'zeek/protocols/pcapng-multi-interface.pcapng',
  'zeek/protocols/ldap__modify-request.pcapng', // three link types
  'zeek/protocols/snap-arp.pcapng',
  'nDPI/malformed/quic-fuzz-overflow.pcapng', // pcapng, LINKTYPE_IPV4
  'nDPI/malformed/dhcp-fuzz.pcapng',
  'zeek/protocols/linux_dlt_sll2.pcap',
  'zeek/protocols/radiotap.pcap',
  'zeek/protocols/nflog-http.pcap',
  'nDPI/protocols/dlt_ppp.pcap',
  'tcpdump/malformed/ppp-invalid-lengths.pcap',
  'suricata-verify/protocols/http-ipv6__input.pcap', // NULL
  'tcpdump/protocols/LINKTYPE_RAW_ipv4.pcap',
  'tcpdump/protocols/LINKTYPE_IPV6.pcap',
  'tcpdump/malformed/icmp6_nodeinfo_oobr.pcap', // SLIP
  'zeek/protocols/tunnels__Teredo.pcap',
  'zeek/protocols/tunnels__vxlan.pcap',
  'zeek/protocols/tunnels__gre-sample.pcap',
  'nDPI/protocols/4in6tunnel.pcap',
  'zeek/protocols/pppoe.pcap',
  'zeek/protocols/mixed-vlan-mpls.pcap',
  'zeek/protocols/vlan-qinqinq.pcap',
  'zeek/protocols/ipv6-fragmented-dns.pcap',
  'zeek/protocols/ipv4__fragmented-1.pcap',
  'zeek/protocols/icmp__icmp6-nd-options.pcap',
  'tcpdump/protocols/mptcp-v1.pcap',
  'StopDDoS-packet-captures/attacks/pkt.TCP.synflood.spoofed.pcap', // many flows (prefix)
  'StopDDoS-packet-captures/attacks/amp.TCP.reflection.SYNACK.pcap',
  'suricata-verify/malformed/bug-1450-04__tls_DER-incomplete-header.pcap',
];

function syntheticSeeds(): { name: string; bytes: Buffer }[] {
  const tcp = (i: number): Buffer =>
    ipv4Tcp({
      src: ipv4('10.0.0.1') + i,
      dst: ipv4('10.0.1.1'),
      srcPort: 1000 + i,
      dstPort: 80,
      flags: 0x12,
    });
  const udp = (i: number): Buffer => ipv4Udp(ipv4('172.16.0.1'), ipv4('172.16.0.2') + i, 53, 2000 + i, 16);
  const ng = (order: 'le' | 'be'): Buffer => {
    const parts: Buffer[] = [
      shb(order),
      idb({ linkType: 1, snapLen: 128 }, order),
      idb({ linkType: 101, tsresol: 9, tsoffset: 100n }, order),
      idb({ linkType: 113, tsresol: 0x80 | 20 }, order),
      nrb(order),
    ];
    for (let i = 0; i < 24; i++) {
      const iface = i % 3;
      const data = iface === 0 ? ethernet(tcp(i)) : iface === 1 ? udp(i) : linuxSll(tcp(i));
      parts.push(
        epb({ interfaceId: iface, units: 1_700_000_000_000_000n + BigInt(i) * 999_999n, data }, order),
      );
      if (i % 6 === 0) parts.push(spb(ethernet(udp(i)), 200, order), isb(iface, order));
      if (i % 8 === 0)
        parts.push(
          customBlock(order),
          obsoletePacketBlock({ interfaceId: 0, units: 5n, data: ethernet(tcp(i)) }, order),
        );
    }
    return Buffer.concat(parts);
  };
  return [
    { name: 'synthetic pcapng LE', bytes: ng('le') },
    { name: 'synthetic pcapng BE', bytes: ng('be') },
    {
      name: 'synthetic pcap BE ns',
      bytes: pcapFile(
        Array.from({ length: 30 }, (_, i) => ({
          sec: 1_700_000_000 + i,
          frac: i * 33_333_333,
          data: ethernet(tcp(i)),
        })),
        { order: 'be', nanos: true },
      ),
    },
    {
      name: 'synthetic modified pcap',
      bytes: pcapFile(
        Array.from({ length: 20 }, (_, i) => ({ sec: i, frac: i, data: ethernet(udp(i)) })),
        { modified: true },
      ),
    },
  ];
}

/** Offsets of record headers (pcap) or blocks (pcapng), by walking the structure. */
function structureOf(bytes: Buffer): { format: 'pcap' | 'pcapng'; offsets: number[] } {
  const format = sniffCaptureFormat(bytes);
  if (format === null) throw new Error('seed is not a capture');
  const offsets: number[] = [];
  if (format === 'pcap') {
    const magicLe = bytes.readUInt32LE(0);
    const le = magicLe === 0xa1b2c3d4 || magicLe === 0xa1b23c4d || magicLe === 0xa1b2cd34;
    const modified = (le ? magicLe : bytes.readUInt32BE(0)) === 0xa1b2cd34;
    const hdr = modified ? 24 : 16;
    offsets.push(0);
    for (let p = 24; p + hdr <= bytes.length;) {
      offsets.push(p);
      const capLen = le ? bytes.readUInt32LE(p + 8) : bytes.readUInt32BE(p + 8);
      p += hdr + capLen;
    }
  } else {
    let le = true;
    for (let p = 0; p + 12 <= bytes.length;) {
      offsets.push(p);
      if (bytes.readUInt32LE(p) === 0x0a0d0d0a) le = bytes.readUInt32LE(p + 8) === 0x1a2b3c4d;
      const len = le ? bytes.readUInt32LE(p + 4) : bytes.readUInt32BE(p + 4);
      if (len < 12) break;
      p += len;
    }
  }
  return { format, offsets };
}

function loadSeeds(): Seed[] {
  const raw = syntheticSeeds();
  if (corpusAvailable) {
    for (const f of CORPUS_SEEDS) raw.push({ name: f, bytes: readFileSync(corpusPath(f)) });
  }
  return raw.map(({ name, bytes }) => {
    // Cut big seeds at a record boundary inside the limit (a prefix of a capture is a capture).
    let b = bytes;
    if (b.length > MAX_SEED_BYTES) {
      const { offsets } = structureOf(b);
      const cut = offsets.filter((o) => o > 0 && o <= MAX_SEED_BYTES).pop() ?? MAX_SEED_BYTES;
      b = b.subarray(0, cut);
    }
    const { format, offsets } = structureOf(b);
    return { name, bytes: Buffer.from(b), structure: offsets, format };
  });
}

// ---------------------------------------------------------------- mutations

const EXTREMES = [
  0,
  1,
  2,
  3,
  4,
  11,
  12,
  13,
  15,
  16,
  20,
  24,
  27,
  28,
  31,
  32,
  36,
  0x7f,
  0xff,
  0x100,
  0xffff,
  0x10000,
  262143,
  262144,
  262145,
  0xffffff,
  16 * 1024 * 1024,
  16 * 1024 * 1024 + 4,
  0x7ffffffc,
  0x7fffffff,
  0x80000000,
  0xfffffff0,
  0xfffffffc,
  0xffffffff,
];
const LINK_TYPES = [0, 1, 8, 9, 12, 14, 101, 105, 108, 113, 127, 228, 229, 239, 274, 276, 147, 0xffff];

function write32(b: Buffer, pos: number, v: number, le: boolean): void {
  if (pos < 0 || pos + 4 > b.length) return;
  if (le) b.writeUInt32LE(v >>> 0, pos);
  else b.writeUInt32BE(v >>> 0, pos);
}

function write16(b: Buffer, pos: number, v: number, le: boolean): void {
  if (pos < 0 || pos + 2 > b.length) return;
  if (le) b.writeUInt16LE(v & 0xffff, pos);
  else b.writeUInt16BE(v & 0xffff, pos);
}

function lengthValue(rng: Rng, near: number): number {
  switch (rng.int(4)) {
    case 0:
      return rng.pick(EXTREMES);
    case 1:
      return rng.u32();
    case 2:
      return Math.max(0, near + rng.range(-8, 8));
    default:
      return rng.int(4096);
  }
}

/** Applies 1-4 mutations; returns the new bytes and what was done (for the failure message). */
function mutate(rng: Rng, seed: Seed, seeds: readonly Seed[]): { bytes: Buffer; steps: string[] } {
  let b = Buffer.from(seed.bytes);
  const steps: string[] = [];
  const count = rng.range(1, 4);
  for (let k = 0; k < count; k++) {
    const at = (): number => rng.int(Math.max(1, b.length));
    const structural = (): number => rng.pick(seed.structure);
    const le = rng.chance(0.5);
    switch (rng.int(13)) {
      case 0: {
        const n = rng.range(1, 8);
        for (let i = 0; i < n && b.length > 0; i++) {
          const p = at();
          b[p] = b[p]! ^ (1 << rng.int(8));
        }
        steps.push(`flip ${n} bits`);
        break;
      }
      case 1: {
        const n = rng.range(1, 16);
        for (let i = 0; i < n && b.length > 0; i++) b[at()] = rng.int(256);
        steps.push(`set ${n} random bytes`);
        break;
      }
      case 2:
      case 3: {
        // A length field: pcap record capLen/origLen (+8/+12), pcapng block length (+4), the
        // trailing block length, or an EPB captured length (+20).
        const base = structural();
        const field = seed.format === 'pcap' ? rng.pick([8, 12]) : rng.pick([4, 20, 24, 8]);
        const old = b.length >= base + field + 4 ? b.readUInt32LE(base + field) : 0;
        const v = lengthValue(rng, old);
        write32(b, base + field, v, le);
        steps.push(`length at ${base}+${field} := ${v} (${le ? 'le' : 'be'})`);
        break;
      }
      case 4: {
        const p = at();
        const v = rng.pick(EXTREMES);
        write32(b, p & ~3, v, le);
        steps.push(`u32 at ${p & ~3} := ${v}`);
        break;
      }
      case 5: {
        const p = at();
        const n = rng.range(1, 64);
        const ins = Buffer.alloc(n);
        for (let i = 0; i < n; i++) ins[i] = rng.int(256);
        b = Buffer.concat([b.subarray(0, p), ins, b.subarray(p)]);
        steps.push(`insert ${n} bytes at ${p}`);
        break;
      }
      case 6: {
        const p = at();
        const n = rng.range(1, rng.chance(0.2) ? 2048 : 64);
        b = Buffer.concat([b.subarray(0, p), b.subarray(p + n)]);
        steps.push(`delete ${n} bytes at ${p}`);
        break;
      }
      case 7: {
        const from = at();
        const n = rng.range(1, 512);
        const to = at();
        b = Buffer.concat([b.subarray(0, to), b.subarray(from, from + n), b.subarray(to)]);
        steps.push(`duplicate ${n} bytes from ${from} to ${to}`);
        break;
      }
      case 8: {
        const other = rng.pick(seeds);
        const from = rng.int(Math.max(1, other.bytes.length));
        const p = at();
        b = Buffer.concat([b.subarray(0, p), other.bytes.subarray(from)]);
        steps.push(`splice ${other.name} from ${from} at ${p}`);
        break;
      }
      case 9: {
        // File header fields: link type, snap length, magic (byte order, resolution, modified).
        if (seed.format === 'pcap') {
          const what = rng.int(3);
          if (what === 0) {
            const lt = rng.pick(LINK_TYPES);
            const fileLe = b.length >= 4 && [0xa1b2c3d4, 0xa1b23c4d, 0xa1b2cd34].includes(b.readUInt32LE(0));
            write32(b, 20, lt, fileLe);
            steps.push(`pcap link type := ${lt}`);
          } else if (what === 1) {
            const v = lengthValue(rng, 65535);
            write32(b, 16, v, le);
            steps.push(`pcap snap length := ${v}`);
          } else {
            const magic = rng.pick([0xa1b2c3d4, 0xa1b23c4d, 0xa1b2cd34]);
            write32(b, 0, magic, le);
            steps.push(`pcap magic := ${magic.toString(16)} ${le ? 'le' : 'be'}`);
          }
        } else {
          // An IDB's link type, snap length or an option byte (if_tsresol lives among them).
          const base = structural();
          const what = rng.int(3);
          if (what === 0) {
            const lt = rng.pick(LINK_TYPES);
            write16(b, base + 8, lt, le);
            steps.push(`pcapng u16 at ${base}+8 := ${lt}`);
          } else if (what === 1) {
            const p = base + rng.range(16, 40);
            if (p < b.length) b[p] = rng.pick([0, 1, 3, 6, 9, 0x80, 0x94, 0xbf, 0xff, 0x7f, 19, 20]);
            steps.push(`pcapng option byte at ${p}`);
          } else {
            write32(b, base + 8, rng.pick([0x1a2b3c4d, 0x4d3c2b1a, 0]), true);
            steps.push(`pcapng u32 at ${base}+8 (byte-order mark if SHB)`);
          }
        }
        break;
      }
      case 10: {
        // Swap two records/blocks' worth of bytes by cutting at a structural offset.
        const p = structural();
        const q = structural();
        if (p < q) b = Buffer.concat([b.subarray(0, p), b.subarray(q)]);
        steps.push(`drop bytes ${p}..${q}`);
        break;
      }
      case 11: {
        // A timestamp jumps (forward past the flow timeouts, backward, to zero or the maximum),
        // so that flows expire between related packets.
        const base = structural();
        const field = seed.format === 'pcap' ? 0 : rng.pick([12, 16]);
        const old = b.length >= base + field + 4 ? b.readUInt32LE(base + field) : 0;
        const v = rng.pick([0, 0xffffffff, old + rng.range(61, 4000), old - rng.range(1, 4000), rng.u32()]);
        write32(b, base + field, v, le);
        steps.push(`timestamp at ${base}+${field} := ${v >>> 0}`);
        break;
      }
      default: {
        const n = rng.chance(0.3) ? rng.int(40) : at();
        b = b.subarray(0, n);
        steps.push(`truncate at ${n}`);
      }
    }
  }
  // Truncation on top of the mutations, often at or near a structure boundary.
  if (rng.chance(0.3)) {
    const n = rng.chance(0.5) ? rng.pick(seed.structure) + rng.range(-3, 20) : rng.int(b.length + 1);
    b = b.subarray(0, Math.max(0, Math.min(b.length, n)));
    steps.push(`final truncate at ${n}`);
  }
  return { bytes: Buffer.from(b), steps };
}

// ---------------------------------------------------------------- running one case

/** Short flow timeouts, so that expiry runs often. */
const SHORT_TIMEOUTS: Partial<FlowTableOptions> = {
  idleTimeoutMicros: 5_000_000,
  activeTimeoutMicros: 60_000_000,
  closedTimeoutMicros: 1_000_000,
};

interface Outcome {
  kind: 'read' | 'stopped' | 'rejected';
  packets: number;
  /** FNV-1a over every packet's fields and a few of its bytes. */
  digest: number;
  stopped: string | null;
  flows: number;
}

function fnv(h: number, v: number): number {
  return Math.imul(h ^ (v >>> 0), 0x01000193) >>> 0;
}

/** Parses, decodes and builds flows from `input` pushed in chunks of the given sizes. */
function analyzeBuffer(
  input: Buffer,
  chunks: () => number,
  maxFlows: number,
  timeouts: Partial<FlowTableOptions>,
  summarise: boolean,
): Outcome {
  const decoder = new PacketDecoder();
  const summary = summarise ? new TrafficSummaryBuilder({ top: 5, hostCapacity: 64 }) : null;
  let flows = 0;
  const table = new FlowTable({ ...timeouts, maxFlows }, (t, slot, reason) => {
    flows++;
    if (summary) {
      summary.addFlow(t, slot, reason);
      const rec = readFlowRecord(t, slot, reason);
      if (rec.clientAddress.length === 0) throw new Error('flow without a client address');
    }
  });
  let packets = 0;
  let digest = 0x811c9dc5;
  let lastOffset = -1;
  const onPacket = (p: CapturedPacket): void => {
    if (!(p.offset >= 0 && p.capLen >= 0 && p.offset + p.capLen <= p.data.length)) {
      throw new Error(
        `packet ${packets} lies outside its buffer: offset ${p.offset}, capLen ${p.capLen}, buffer ${p.data.length}`,
      );
    }
    if (p.origLen < p.capLen) throw new Error(`packet ${packets}: origLen ${p.origLen} < capLen ${p.capLen}`);
    if (!Number.isFinite(p.tsMicros)) throw new Error(`packet ${packets}: timestamp ${p.tsMicros}`);
    if (p.fileOffset <= lastOffset || p.fileOffset >= input.length) {
      throw new Error(
        `packet ${packets}: file offset ${p.fileOffset} after ${lastOffset} (input ${input.length})`,
      );
    }
    lastOffset = p.fileOffset;
    packets++;
    digest = fnv(
      fnv(fnv(fnv(fnv(digest, p.linkType), p.capLen), p.origLen), p.fileOffset),
      p.tsMicros % 0x100000000,
    );
    if (p.capLen > 0) digest = fnv(fnv(digest, p.data[p.offset]!), p.data[p.offset + p.capLen - 1]!);
    decoder.decode(p.linkType, p.data, p.offset, p.capLen);
    summary?.addPacket(decoder, p.tsMicros, p.origLen, p.capLen);
    if (decoder.ipVersion !== 0) table.add(decoder, p.tsMicros, p.origLen);
  };
  const parser = new CaptureParser(onPacket);
  try {
    for (let pos = 0; pos < input.length;) {
      const n = Math.max(1, chunks());
      parser.push(input.subarray(pos, pos + n));
      pos += n;
    }
    parser.end();
  } catch (err) {
    if (!(err instanceof FlowTrackError)) throw err;
    // Only the file header may be refused, and only for a reason the input shows.
    if (err.code === 'NOT_A_CAPTURE') {
      if (sniffCaptureFormat(input) !== null)
        throw new Error(`NOT_A_CAPTURE for input starting with a capture magic: ${err.message}`, {
          cause: err,
        });
    } else if (err.code === 'BAD_CAPTURE_HEADER') {
      if (input.length >= 24) {
        throw new Error(`BAD_CAPTURE_HEADER for ${input.length} bytes: ${err.message}`, { cause: err });
      }
    } else {
      throw err;
    }
    if (packets !== 0) {
      throw new Error(`${packets} packets handed out before the header was refused`, { cause: err });
    }
    return { kind: 'rejected', packets: 0, digest: 0, stopped: err.code, flows: 0 };
  }
  table.flush();
  if (summary) {
    const built = summary.build(table.evicted, table.fragmentsJoined);
    if (built.packets !== packets) throw new Error('summary lost packets');
    if (built.flows.total !== flows) throw new Error('summary lost flows');
    JSON.stringify(built);
  }
  if (parser.stopped) {
    if (parser.stopped.offset !== parser.bytesConsumed || parser.stopped.offset > input.length) {
      throw new Error(
        `stopped at ${parser.stopped.offset}, consumed ${parser.bytesConsumed}, input ${input.length}`,
      );
    }
  } else if (parser.bytesConsumed !== input.length) {
    throw new Error(
      `read to the end without a stop but consumed ${parser.bytesConsumed} of ${input.length} bytes`,
    );
  }
  return {
    kind: parser.stopped ? 'stopped' : 'read',
    packets,
    digest,
    stopped: parser.stopped ? `${parser.stopped.offset}: ${parser.stopped.reason}` : null,
    flows,
  };
}

// A synchronous endless loop cannot be stopped by a test timeout; vm's timeout terminates the
// running JavaScript (host functions included), so a hang becomes a failure with its case number.
const guardContext = createContext({ job: undefined as unknown });
const guardScript = new Script('job()');

function guarded<T>(what: string, fn: () => T): T {
  guardContext.job = fn;
  try {
    return guardScript.runInContext(guardContext, { timeout: CASE_TIMEOUT_MS }) as T;
  } catch (err) {
    if ((err as { code?: unknown } | null)?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
      throw new Error(`${what} did not finish within ${CASE_TIMEOUT_MS} ms: an endless loop`, { cause: err });
    }
    throw err;
  } finally {
    guardContext.job = undefined;
  }
}

const tmp = mkdtempSync(join(tmpdir(), 'flowtrack-fuzz-'));
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

interface Failure {
  caseNo: number;
  seedName: string;
  steps: string[];
  error: string;
  savedAs: string;
}

async function runCase(caseNo: number, seeds: readonly Seed[]): Promise<Outcome> {
  const rng = new Rng(caseSeed(SEED, caseNo));
  const seed = rng.pick(seeds);
  const { bytes, steps } = mutate(rng, seed, seeds);
  const maxFlows = rng.chance(0.5) ? rng.range(1, 64) : 100_000;
  const maxChunk = rng.pick([1, 3, 17, 100, 1500, 65536]);
  const chunkRng = new Rng(rng.u32());
  const context = { seedName: seed.name, steps, bytes };
  if (ONLY_CASE !== null) {
    // Reproducing one case: keep its input and say what was done, before anything can hang.
    const path = join(tmpdir(), `flowtrack-fuzz-${SEED.toString(16)}-case-${caseNo}.bin`);
    writeFileSync(path, bytes);
    console.log(
      `case ${caseNo}: ${seed.name}: ${steps.join('; ')}; max flows ${maxFlows}, chunks 1..${maxChunk}; input saved as ${path}`,
    );
  }
  try {
    // Whole, then in random chunks: the same packets either way.
    const whole = guarded('parsing the whole input', () =>
      analyzeBuffer(bytes, () => bytes.length, maxFlows, SHORT_TIMEOUTS, true),
    );
    const chunked = guarded(`parsing in chunks of 1..${maxChunk} bytes`, () =>
      analyzeBuffer(bytes, () => chunkRng.range(1, maxChunk), maxFlows, SHORT_TIMEOUTS, false),
    );
    if (
      whole.kind !== chunked.kind ||
      whole.packets !== chunked.packets ||
      whole.digest !== chunked.digest ||
      whole.stopped !== chunked.stopped ||
      whole.flows !== chunked.flows
    ) {
      throw new Error(
        `chunked parse differs: whole ${JSON.stringify(whole)} vs chunks of 1..${maxChunk} ${JSON.stringify(chunked)}`,
      );
    }
    if (caseNo % FILE_CASE_EVERY === 0) {
      const gz = rng.chance(0.3);
      const path = join(tmp, `case-${caseNo}${gz ? '.gz' : ''}`);
      // analyzeCapture is asynchronous and cannot be guarded: run its flow settings guarded first.
      guarded('parsing with the default flow timeouts', () =>
        analyzeBuffer(bytes, () => bytes.length, maxFlows, {}, false),
      );
      writeFileSync(path, gz ? gzipSync(bytes) : bytes);
      try {
        const report = await analyzeCapture(path, { flows: { maxFlows } });
        renderReportText(report);
        JSON.stringify(report);
        if (report.packets !== whole.packets) {
          throw new Error(`analyzeCapture read ${report.packets} packets, the parser ${whole.packets}`);
        }
      } catch (err) {
        if (!(err instanceof FlowTrackError) || whole.kind !== 'rejected') throw err;
      } finally {
        rmSync(path, { force: true });
      }
    }
    return whole;
  } catch (err) {
    const savedAs = join(tmpdir(), `flowtrack-fuzz-${SEED.toString(16)}-case-${caseNo}.bin`);
    writeFileSync(savedAs, context.bytes);
    const e = err as Error;
    throw Object.assign(new Error(e.message), {
      failure: {
        caseNo,
        seedName: context.seedName,
        steps: context.steps,
        error: `${e.name}: ${e.message}\n${(e.stack ?? '').split('\n').slice(1, 5).join('\n')}`,
        savedAs,
      } satisfies Failure,
    });
  }
}

describe(
  corpusAvailable
    ? 'fuzzing captures (corpus and synthetic seeds)'
    : `fuzzing captures (synthetic seeds only: no capture corpus at ${corpusDir})`,
  () => {
    it(`mutated and truncated captures never crash the reader, decoder or flow table (seed 0x${SEED.toString(16)})`, async () => {
      const seeds = loadSeeds();
      expect(seeds.length).toBeGreaterThan(corpusAvailable ? 30 : 3);
      const started = Date.now();
      const failures: Failure[] = [];
      const kinds = { read: 0, stopped: 0, rejected: 0 };
      let ran = 0;
      const caseNumbers = ONLY_CASE === null ? Array.from({ length: CASES }, (_, i) => i) : [ONLY_CASE];
      for (const caseNo of caseNumbers) {
        if (Date.now() - started > TIME_LIMIT_MS) break;
        ran++;
        try {
          const outcome = await runCase(caseNo, seeds);
          kinds[outcome.kind]++;
        } catch (err) {
          const failure = (err as { failure?: Failure }).failure;
          if (!failure) throw err;
          failures.push(failure);
          if (failures.length >= 10) break;
        }
      }
      const seconds = (Date.now() - started) / 1000;
      console.log(
        `fuzz seed 0x${SEED.toString(16)}: ${ran} cases in ${seconds.toFixed(1)} s ` +
          `(${kinds.read} read to the end, ${kinds.stopped} stopped part-way, ${kinds.rejected} rejected at the header, ${failures.length} failed)`,
      );
      const report = failures
        .map(
          (f) =>
            `case ${f.caseNo} (seed 0x${SEED.toString(16)}) from ${f.seedName}: ${f.steps.join('; ')}\n` +
            `  ${f.error.replace(/\n/g, '\n  ')}\n  input saved as ${f.savedAs}\n` +
            `  rerun: FLOWTRACK_FUZZ_SEED=0x${SEED.toString(16)} FLOWTRACK_FUZZ_CASE=${f.caseNo} npx vitest run test/fuzz-captures.test.ts`,
        )
        .join('\n');
      expect(failures.length, report).toBe(0);
      if (ONLY_CASE === null)
        expect(ran, `only ${ran} cases ran within the time limit`).toBeGreaterThanOrEqual(
          Math.min(CASES, 3000),
        );
    });
  },
);
