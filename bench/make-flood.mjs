/**
 * Writes the benchmark's second workload: a spoofed TCP SYN flood against one web server, the attack
 * a flow monitor must survive. Every packet is a 54-byte SYN (Ethernet, IPv4, TCP without options,
 * as flood tools such as hping3 send them) from its own source address and a random source port to
 * 198.18.0.1:80 (benchmarking range, RFC 2544), 5 microseconds apart (200,000 packets/s), so every
 * packet opens a new flow: flow tables fill, evict and churn, and nothing in them is ever answered.
 *
 * Source addresses are unique by construction (a bijective mix of the packet number, keyed by the
 * seed), so every tool, whatever its flow key, must count exactly one flow per packet; ports, IP
 * IDs, TTLs and sequence numbers come from the seeded PRNG. The same seed always gives the same
 * bytes. IPv4 and TCP checksums are valid, as a victim's stack would only answer such a SYN. No
 * traffic is sent: this only writes a file.
 *
 * Usage: node bench/make-flood.mjs OUT.pcap [--packets N] [--seed N]
 */

import { Buffer } from 'node:buffer';
import { closeSync, openSync, writeSync } from 'node:fs';
import { Rng } from './make-capture.mjs';

const USAGE = 'usage: node bench/make-flood.mjs OUT.pcap [--packets N] [--seed N]';

const VICTIM = 0xc6120001; // 198.18.0.1
const VICTIM_PORT = 80;
const VICTIM_MAC = [0x02, 0x42, 0xc6, 0x12, 0x00, 0x01];
/** Every spoofed packet reaches the victim's segment through its router. */
const ROUTER_MAC = [0x02, 0x00, 0x5e, 0x00, 0x00, 0x01];
const GAP_MICROS = 5;
/** Monday 15 January 2024, 09:00:00 UTC, as the mixed capture. */
const START_MICROS = 1_705_309_200 * 1e6;

const FRAME = 54; // Ethernet 14 + IPv4 20 + TCP 20, no padding: the sender's view of the frame
const RECORD = 16 + FRAME;

/**
 * murmur3's finalizer: each step (xor-shift, multiply by an odd constant) is invertible modulo
 * 2^32, so distinct inputs give distinct outputs, which look random.
 */
function fmix32(x) {
  let h = x ^ (x >>> 16);
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** One's-complement sum of 16-bit big-endian words of buf[from, to), folded to 16 bits. */
function onesComplementSum(buf, from, to, sum) {
  for (let i = from; i < to; i += 2) sum += (buf[i] << 8) | buf[i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** Writes one SYN record at `o` of `buf`. */
function putSyn(buf, o, timeMicros, src, srcPort, rng) {
  buf.writeUInt32LE(Math.floor(timeMicros / 1e6), o);
  buf.writeUInt32LE(timeMicros % 1e6, o + 4);
  buf.writeUInt32LE(FRAME, o + 8);
  buf.writeUInt32LE(FRAME, o + 12);
  const eth = o + 16;
  for (let i = 0; i < 6; i++) {
    buf[eth + i] = VICTIM_MAC[i];
    buf[eth + 6 + i] = ROUTER_MAC[i];
  }
  buf.writeUInt16BE(0x0800, eth + 12);

  const ip = eth + 14;
  buf[ip] = 0x45;
  buf[ip + 1] = 0;
  buf.writeUInt16BE(40, ip + 2);
  buf.writeUInt32BE((rng.u32() & 0xffff0000) >>> 0, ip + 4); // random IP ID, no DF, not a fragment
  buf[ip + 8] = rng.range(40, 250); // spoofed senders set any TTL
  buf[ip + 9] = 6;
  buf.writeUInt16BE(0, ip + 10);
  buf.writeUInt32BE(src, ip + 12);
  buf.writeUInt32BE(VICTIM, ip + 16);
  buf.writeUInt16BE(~onesComplementSum(buf, ip, ip + 20, 0) & 0xffff, ip + 10);

  const tcp = ip + 20;
  buf.writeUInt16BE(srcPort, tcp);
  buf.writeUInt16BE(VICTIM_PORT, tcp + 2);
  buf.writeUInt32BE(rng.u32(), tcp + 4); // initial sequence number
  buf.writeUInt32BE(0, tcp + 8);
  buf[tcp + 12] = 0x50; // 20-byte header
  buf[tcp + 13] = 0x02; // SYN
  buf.writeUInt16BE(512, tcp + 14); // hping3's default window
  buf.writeUInt32BE(0, tcp + 16); // checksum (below) and urgent pointer
  // Pseudo-header (RFC 793 3.1): addresses, protocol, TCP length.
  const pseudo = onesComplementSum(buf, ip + 12, ip + 20, 6 + 20);
  buf.writeUInt16BE(~onesComplementSum(buf, tcp, tcp + 20, pseudo) & 0xffff, tcp + 16);
}

/** Writes `packets` SYNs to `path`; returns counts for the log line. */
export function makeFlood(path, { packets, seed = 1 }) {
  if (packets > 2 ** 32) throw new RangeError('at most 2^32 packets: source addresses must stay unique');
  const rng = new Rng(seed);
  const addressKey = rng.u32();
  const buf = Buffer.alloc(RECORD * 65536);
  const fd = openSync(path, 'w');
  let bytes = 0;
  try {
    const header = Buffer.alloc(24);
    header.writeUInt32LE(0xa1b2c3d4, 0); // pcap, microseconds, little-endian
    header.writeUInt16LE(2, 4);
    header.writeUInt16LE(4, 6);
    header.writeUInt32LE(65535, 16);
    header.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
    bytes += writeSync(fd, header);
    for (let done = 0; done < packets;) {
      const n = Math.min(65536, packets - done);
      for (let k = 0; k < n; k++) {
        const i = done + k;
        const src = fmix32((i + addressKey) >>> 0);
        putSyn(buf, k * RECORD, START_MICROS + i * GAP_MICROS, src, rng.range(1024, 65535), rng);
      }
      let written = 0;
      while (written < n * RECORD) written += writeSync(fd, buf, written, n * RECORD - written);
      bytes += written;
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return { packets, bytes, seconds: (packets * GAP_MICROS) / 1e6 };
}

function parseArgs(argv) {
  const opts = { path: null, packets: 4_000_000, seed: 1 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v <= 0) throw new Error(`${a} needs a whole number >= 1\n${USAGE}`);
      return v;
    };
    if (a === '--packets') opts.packets = value();
    else if (a === '--seed') opts.seed = value();
    else if (a === '-h' || a === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else if (!a.startsWith('-') && opts.path === null) opts.path = a;
    else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  if (opts.path === null) throw new Error(USAGE);
  return opts;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const r = makeFlood(opts.path, opts);
  console.error(
    `make-flood: wrote ${r.packets} SYNs (${(r.bytes / 1048576).toFixed(0)} MiB, ${r.seconds} s of flood) ` +
      `to ${opts.path} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}
