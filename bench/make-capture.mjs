/**
 * Writes a synthetic but realistic pcap for the speed benchmark: a link where tens of thousands of
 * hosts open ~100k+ connections over a few minutes. TCP connections shake hands, move data both
 * ways in MSS-sized flights with delayed ACKs, and end with FIN, RST or not at all; UDP carries
 * DNS, NTP, QUIC and RTP; there is a little ICMP (echo, port unreachable), ARP, IPv6 and 802.1Q.
 *
 * The same seed always gives the same bytes (own PRNG, no Math.random, no clock). Sessions are
 * scheduled on a min-heap by their next packet time, so timestamps only increase; the schedule
 * starts a minute before the first written packet, so the capture opens mid-conversation like a
 * real one. Addresses come from private (10/8), benchmarking (198.18/15, RFC 2544) and
 * documentation (2001:db8::/32) ranges. No traffic is sent: this only writes a file.
 *
 * Usage: node bench/make-capture.mjs OUT.pcap [--packets N] [--seed N] [--seconds S] [--snaplen N]
 */

import { Buffer } from 'node:buffer';
import { closeSync, openSync, writeSync } from 'node:fs';

const USAGE =
  'usage: node bench/make-capture.mjs OUT.pcap [--packets N] [--seed N] [--seconds S] [--snaplen N]';

// ---------------------------------------------------------------------------------------------
// Deterministic randomness

/** sfc32 (Chris Doty-Humphrey's small fast counter): fast, 128-bit state, passes PractRand. */
export class Rng {
  constructor(seed) {
    // splitmix32 spreads a small seed over the whole state.
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32() {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float() {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n) {
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [lo, hi]. */
  range(lo, hi) {
    return lo + this.int(hi - lo + 1);
  }

  chance(p) {
    return this.float() < p;
  }

  /** Exponential with the given mean. */
  exp(mean) {
    return -mean * Math.log(1 - this.float());
  }

  /** Log-normal by its median and the sigma of its logarithm (sizes, RTTs, durations). */
  logNormal(median, sigma) {
    const u = 1 - this.float();
    const v = this.float();
    return median * Math.exp(sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
  }
}

function clamp(x, lo, hi) {
  return x < lo ? lo : x > hi ? hi : x;
}

// ---------------------------------------------------------------------------------------------
// Hosts

const CLIENTS = 24_000;
const SERVERS = 20_000;
const LAN_SERVERS = 240;
const VLANS = [10, 20, 30, 100];

/** Spreads host number i over /24s, skipping .0, .1 and .255. */
function hostInSubnet(base, i) {
  return (base + Math.floor(i / 250) * 256 + (i % 250) + 2) >>> 0;
}
const clientV4 = (i) => hostInSubnet(0x0a100000, i); // 10.16.0.0/12
const serverV4 = (i) => hostInSubnet(0xc6120000, i); // 198.18.0.0/15
const lanServerV4 = (i) => hostInSubnet(0x0a000000, i); // 10.0.0.0/24..
const RESOLVERS = [0x0a003501, 0x0a003502]; // 10.0.53.1, 10.0.53.2
const NTP_SERVERS = [0xc6127b01, 0xc6127b02, 0xc6127b03];

function v6(w0, w1, w2, w3) {
  return [w0 >>> 0, w1 >>> 0, w2 >>> 0, w3 >>> 0];
}
const clientV6 = (i) => v6(0x20010db8, 0x00010000 + (i >>> 12), 0x0000f00d, 0x10000 + i);
const serverV6 = (i) => v6(0x20010db8, 0xffff0000 + (i >>> 12), 0, 0x1000 + i);
const RESOLVER_V6 = v6(0x20010db8, 0x00000053, 0, 0x53);

const GATEWAY_MAC = [0x02, 0x00, 0x5e, 0x00, 0x00, 0x01];
const BROADCAST_MAC = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

/** A popular-first pick: low indices are chosen far more often, like real server popularity. */
function popular(rng, n, skew) {
  return Math.floor(n * rng.float() ** skew);
}

// ---------------------------------------------------------------------------------------------
// Sessions: a script of steps (direction, code, payload length, gap before it in microseconds)

const TCP = 6;
const UDP = 17;
const ICMP = 1;
const ICMPV6 = 58;
const ARP = 0x806;

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const PSH = 0x08;
const ACK = 0x10;

/** Step code for an ICMP error quoting the session's previous (UDP) packet. */
const CODE_PORT_UNREACHABLE = 1003;

class Session {
  constructor() {
    this.proto = TCP;
    this.ipVersion = 4;
    this.vlan = 0;
    this.client = 0;
    this.server = 0;
    this.clientMac = GATEWAY_MAC;
    this.serverMac = GATEWAY_MAC;
    this.cport = 0;
    this.sport = 0;
    this.ttlC = 64;
    this.ttlS = 64;
    this.ipId = 0;
    this.seqC = 0;
    this.seqS = 0;
    this.synSent = false;
    this.winC = 0;
    this.winS = 0;
    this.mss = 1448;
    /** Flat [dir, code, len, gapMicros] quadruples. */
    this.steps = [];
    this.pos = 0;
    this.time = 0;
  }

  step(dir, code, len, gap) {
    this.steps.push(dir, code, Math.round(len), Math.max(0, Math.round(gap)));
  }
}

function macFor(addr) {
  const w = typeof addr === 'number' ? addr : addr[3];
  return [0x02, 0x42, (w >>> 24) & 0xff, (w >>> 16) & 0xff, (w >>> 8) & 0xff, w & 0xff];
}

/**
 * Picks the endpoints of a new session: an internal client and a server inside (`lan`) or outside,
 * or the given `server` (an IPv4 number or IPv6 words, which then decides the IP version).
 */
function endpoints(rng, s, { v6Share = 0, lan = false, server = null }) {
  const c = rng.int(CLIENTS);
  s.ipVersion = (server === null ? rng.chance(v6Share) : typeof server !== 'number') ? 6 : 4;
  s.vlan = rng.chance(0.02) ? VLANS[rng.int(VLANS.length)] : 0;
  if (s.ipVersion === 6) {
    s.client = clientV6(c);
    s.server = server ?? serverV6(popular(rng, SERVERS, 3));
    s.mss = 1428;
  } else {
    s.client = clientV4(c);
    s.server =
      server ?? (lan ? lanServerV4(popular(rng, LAN_SERVERS, 2)) : serverV4(popular(rng, SERVERS, 3)));
    s.mss = 1448;
  }
  s.clientMac = macFor(s.client);
  s.serverMac = lan || server !== null ? macFor(s.server) : GATEWAY_MAC;
  s.cport = rng.range(32768, 60999);
  s.ttlC = 64;
  s.ttlS = lan ? 64 : rng.chance(0.3) ? rng.range(110, 128) : rng.range(46, 64);
  s.ipId = rng.int(65536);
  s.seqC = rng.u32();
  s.seqS = rng.u32();
  s.winC = rng.range(500, 3000);
  s.winS = rng.range(250, 65535);
}

/** Round-trip time in microseconds: a LAN is fast, the Internet is 5-200 ms. */
function rttFor(rng, lan) {
  return lan ? clamp(rng.logNormal(400, 0.6), 80, 5000) : clamp(rng.logNormal(25_000, 0.8), 1500, 400_000);
}

function tcpHandshake(rng, s, rtt) {
  s.step(0, SYN, 0, 0);
  s.step(1, SYN | ACK, 0, rtt / 2);
  s.step(0, ACK, 0, rtt / 2);
}

/** `bytes` from one side in slow-start flights; the receiver ACKs every second segment. */
function tcpTransfer(rng, s, dir, bytes, rtt) {
  let left = bytes;
  let flight = 10;
  let first = true;
  while (left > 0) {
    for (let k = 0; k < flight && left > 0; k++) {
      const len = Math.min(s.mss, left);
      left -= len;
      const gap = first ? rng.exp(300) : k === 0 ? rtt / 2 : rng.exp(25);
      first = false;
      s.step(dir, left === 0 ? PSH | ACK : ACK, len, gap);
      if (k % 2 === 1 || left === 0) s.step(1 - dir, ACK, 0, rng.exp(40));
    }
    flight = Math.min(flight * 2, 200);
  }
}

function tcpClose(rng, s, rtt) {
  const r = rng.float();
  if (r < 0.72) {
    const closer = rng.chance(0.85) ? 0 : 1;
    s.step(closer, FIN | ACK, 0, rng.exp(30_000));
    s.step(1 - closer, ACK, 0, rtt / 2);
    s.step(1 - closer, FIN | ACK, 0, rng.exp(200));
    s.step(closer, ACK, 0, rtt / 2);
  } else if (r < 0.9) {
    s.step(rng.chance(0.8) ? 0 : 1, RST | ACK, 0, rng.exp(30_000));
  }
  // else: still open when the capture ends, or ends after it.
}

function webSession(rng, s) {
  const lan = rng.chance(0.1);
  endpoints(rng, s, { v6Share: lan ? 0 : 0.12, lan });
  const r = rng.float();
  s.sport = lan ? [445, 8080, 3306, 5432, 389][rng.int(5)] : r < 0.72 ? 443 : r < 0.95 ? 80 : 8443;
  const rtt = rttFor(rng, lan);
  tcpHandshake(rng, s, rtt);
  const exchanges = rng.chance(0.3) ? rng.range(2, 6) : 1;
  for (let e = 0; e < exchanges; e++) {
    const request = clamp(rng.logNormal(520, 0.7), 60, 4000);
    tcpTransfer(rng, s, 0, request, rtt);
    if (rng.chance(0.5)) s.step(1, ACK, 0, rtt / 2);
    tcpTransfer(rng, s, 1, clamp(rng.logNormal(7000, 1.6), 150, 3_000_000), rtt);
    if (e + 1 < exchanges) s.step(0, ACK, 0, rng.exp(300_000));
  }
  tcpClose(rng, s, rtt);
}

function bulkSession(rng, s) {
  endpoints(rng, s, { v6Share: 0.1 });
  s.sport = rng.chance(0.7) ? 443 : 22;
  const rtt = rttFor(rng, false);
  tcpHandshake(rng, s, rtt);
  tcpTransfer(rng, s, 0, clamp(rng.logNormal(600, 0.5), 100, 2000), rtt);
  const up = rng.chance(0.2);
  tcpTransfer(rng, s, up ? 0 : 1, clamp(rng.logNormal(3_000_000, 1), 500_000, 40_000_000), rtt);
  tcpClose(rng, s, rtt);
}

function sshSession(rng, s) {
  endpoints(rng, s, { lan: rng.chance(0.6) });
  s.sport = 22;
  const rtt = rttFor(rng, false);
  tcpHandshake(rng, s, rtt);
  tcpTransfer(rng, s, 1, 41, rtt); // banners and key exchange
  tcpTransfer(rng, s, 0, 1500, rtt);
  tcpTransfer(rng, s, 1, 1100, rtt);
  const keys = rng.range(10, 200);
  for (let k = 0; k < keys; k++) {
    s.step(0, PSH | ACK, 36, rng.exp(350_000));
    s.step(1, PSH | ACK, rng.chance(0.2) ? rng.range(60, 1400) : 36, rtt / 2);
    s.step(0, ACK, 0, rtt / 2);
  }
  tcpClose(rng, s, rtt);
}

const SCANNED_PORTS = [21, 23, 25, 110, 135, 139, 445, 1433, 3389, 5900, 8000, 8080, 8888];

function rejectedSession(rng, s) {
  endpoints(rng, s, { lan: rng.chance(0.5) });
  s.sport = SCANNED_PORTS[rng.int(SCANNED_PORTS.length)];
  const rtt = rttFor(rng, false);
  s.step(0, SYN, 0, 0);
  s.step(1, RST | ACK, 0, rtt / 2);
}

function unansweredSession(rng, s) {
  endpoints(rng, s, {});
  s.sport = SCANNED_PORTS[rng.int(SCANNED_PORTS.length)];
  s.step(0, SYN, 0, 0);
  // Linux retransmits a SYN after 1, 2, 4 ... seconds.
  const retries = rng.range(0, 3);
  for (let k = 0; k < retries; k++) s.step(0, SYN, 0, 1_000_000 << k);
}

function dnsSession(rng, s) {
  const upstream = rng.chance(0.3);
  if (upstream) {
    // A resolver asking an authoritative server outside.
    endpoints(rng, s, {});
    s.client = RESOLVERS[rng.int(RESOLVERS.length)];
    s.clientMac = macFor(s.client);
  } else {
    const resolver = rng.chance(0.12) ? RESOLVER_V6 : RESOLVERS[rng.int(RESOLVERS.length)];
    endpoints(rng, s, { server: resolver });
  }
  s.proto = UDP;
  s.sport = 53;
  s.step(0, 0, rng.range(28, 64), 0);
  if (rng.chance(0.97)) s.step(1, 0, clamp(rng.logNormal(110, 0.6), 40, 1200), rttFor(rng, !upstream));
}

function ntpSession(rng, s) {
  endpoints(rng, s, { server: NTP_SERVERS[rng.int(NTP_SERVERS.length)] });
  s.serverMac = GATEWAY_MAC;
  s.proto = UDP;
  s.cport = 123;
  s.sport = 123;
  s.step(0, 0, 48, 0);
  s.step(1, 0, 48, rttFor(rng, false));
}

function quicSession(rng, s) {
  endpoints(rng, s, { v6Share: 0.15 });
  s.proto = UDP;
  s.sport = 443;
  const rtt = rttFor(rng, false);
  s.step(0, 0, 1250, 0); // Initial, padded to 1200+ bytes (RFC 9000 14.1)
  s.step(1, 0, 1250, rtt / 2);
  s.step(1, 0, rng.range(300, 1250), rng.exp(30));
  s.step(0, 0, rng.range(60, 400), rtt / 2);
  let left = Math.round(clamp(rng.logNormal(40, 1.2), 2, 3000));
  while (left > 0) {
    const flight = Math.min(left, rng.range(5, 30));
    left -= flight;
    for (let k = 0; k < flight; k++) {
      s.step(1, 0, k + 1 === flight ? rng.range(100, 1252) : 1252, k === 0 ? rtt / 2 : rng.exp(30));
      if (k % 3 === 2) s.step(0, 0, rng.range(30, 60), rng.exp(40));
    }
  }
}

function rtpSession(rng, s) {
  endpoints(rng, s, { lan: rng.chance(0.5) });
  s.proto = UDP;
  s.cport = 16384 + 2 * rng.int(8000);
  s.sport = 16384 + 2 * rng.int(8000);
  // G.711 at 20 ms packets both ways (160 bytes of voice + 12 of RTP header).
  const frames = rng.range(500, 3000);
  const offset = rng.range(1000, 19000);
  for (let k = 0; k < frames; k++) {
    s.step(0, 0, 172, k === 0 ? 0 : 20_000 - offset + rng.range(-300, 300));
    s.step(1, 0, 172, offset);
  }
}

function syslogSession(rng, s) {
  endpoints(rng, s, { lan: true });
  s.proto = UDP;
  s.server = lanServerV4(0);
  s.serverMac = macFor(s.server);
  s.cport = rng.range(32768, 60999);
  s.sport = rng.chance(0.5) ? 514 : 162;
  const n = rng.range(1, 6);
  for (let k = 0; k < n; k++) s.step(0, 0, clamp(rng.logNormal(140, 0.5), 40, 900), rng.exp(2_000_000));
}

function pingSession(rng, s) {
  endpoints(rng, s, { v6Share: 0.2, lan: rng.chance(0.3) });
  s.proto = s.ipVersion === 6 ? ICMPV6 : ICMP;
  s.cport = rng.int(65536); // echo identifier
  s.sport = 0; // echo sequence number
  const rtt = rttFor(rng, false);
  const answered = rng.chance(0.8);
  const n = rng.range(1, 5);
  for (let k = 0; k < n; k++) {
    s.step(0, s.ipVersion === 6 ? 128 : 8, 56, k === 0 ? 0 : 1_000_000 - rtt);
    if (answered) s.step(1, s.ipVersion === 6 ? 129 : 0, 56, rtt);
  }
}

function unreachableSession(rng, s) {
  endpoints(rng, s, {});
  s.proto = UDP;
  s.sport = rng.range(33434, 33534);
  s.step(0, 0, rng.range(8, 64), 0);
  s.step(1, CODE_PORT_UNREACHABLE, 28, rttFor(rng, false));
}

function arpSession(rng, s) {
  endpoints(rng, s, { lan: true });
  s.proto = ARP;
  s.vlan = 0;
  s.step(0, 1, 28, 0);
  s.step(1, 2, 28, rng.exp(200));
}

/** Session kinds and how often each starts (relative). */
const KINDS = [
  [webSession, 42],
  [bulkSession, 0.06],
  [sshSession, 0.15],
  [rejectedSession, 3],
  [unansweredSession, 2],
  [dnsSession, 44],
  [ntpSession, 1.5],
  [quicSession, 6],
  [rtpSession, 0.05],
  [syslogSession, 4],
  [pingSession, 1.5],
  [unreachableSession, 0.8],
  [arpSession, 1],
];
const KIND_TOTAL = KINDS.reduce((sum, [, w]) => sum + w, 0);

function newSession(rng) {
  const s = new Session();
  let r = rng.float() * KIND_TOTAL;
  for (const [make, weight] of KINDS) {
    r -= weight;
    if (r < 0) {
      make(rng, s);
      return s;
    }
  }
  KINDS[0][0](rng, s);
  return s;
}

/** Mean packets per session, measured on a sample so that N packets span about `seconds`. */
function meanPacketsPerSession(seed) {
  const rng = new Rng(seed ^ 0x5eed);
  const sample = 50_000;
  let packets = 0;
  for (let i = 0; i < sample; i++) packets += newSession(rng).steps.length / 4;
  return packets / sample;
}

// ---------------------------------------------------------------------------------------------
// Frame writer

const out = Buffer.alloc(32 << 20);
let outPos = 0;
let outFd = -1;
let bytesWritten = 0;

function flush() {
  let done = 0;
  while (done < outPos) done += writeSync(outFd, out, done, outPos - done);
  bytesWritten += outPos;
  outPos = 0;
}

function putMac(o, mac) {
  for (let i = 0; i < 6; i++) out[o + i] = mac[i];
}

function putV6(o, addr) {
  for (let i = 0; i < 4; i++) out.writeUInt32BE(addr[i], o + 4 * i);
}

function ipv4Checksum(o) {
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (out[o + i] << 8) | out[o + i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  out.writeUInt16BE(~sum & 0xffff, o + 10);
}

function putIpv4(o, s, dir, proto, payloadLen) {
  out[o] = 0x45;
  out[o + 1] = 0;
  out.writeUInt16BE(20 + payloadLen, o + 2);
  s.ipId = (s.ipId + 1) & 0xffff;
  out.writeUInt16BE(s.ipId, o + 4);
  out.writeUInt16BE(proto === TCP ? 0x4000 : 0, o + 6); // don't-fragment on TCP, as Linux does
  out[o + 8] = dir === 0 ? s.ttlC : s.ttlS;
  out[o + 9] = proto;
  out.writeUInt16BE(0, o + 10);
  out.writeUInt32BE(dir === 0 ? s.client : s.server, o + 12);
  out.writeUInt32BE(dir === 0 ? s.server : s.client, o + 16);
  ipv4Checksum(o);
  return o + 20;
}

function putIpv6(o, s, dir, proto, payloadLen) {
  out.writeUInt32BE((0x60000000 | ((s.cport * 31 + s.sport) % 0xfffff)) >>> 0, o);
  out.writeUInt16BE(payloadLen, o + 4);
  out[o + 6] = proto;
  out[o + 7] = dir === 0 ? s.ttlC : s.ttlS;
  putV6(o + 8, dir === 0 ? s.client : s.server);
  putV6(o + 24, dir === 0 ? s.server : s.client);
  return o + 40;
}

/**
 * Returns the sequence number of a segment from side `dir` and moves that side's next one on. A
 * retransmitted SYN repeats its initial sequence number, as a real stack's does.
 */
function advanceSeq(s, dir, flags, len) {
  const fromClient = dir === 0;
  const resentSyn = flags === SYN && s.synSent;
  const seq = resentSyn ? (s.seqC - 1) >>> 0 : fromClient ? s.seqC : s.seqS;
  if (flags === SYN) s.synSent = true;
  const advance = resentSyn ? 0 : len + (flags & SYN ? 1 : 0) + (flags & FIN ? 1 : 0);
  if (fromClient) s.seqC = (s.seqC + advance) >>> 0;
  else s.seqS = (s.seqS + advance) >>> 0;
  return flags & RST && !(flags & ACK) ? 0 : seq;
}

/** TCP header with the options Linux sends: MSS, SACK-permitted, timestamps, window scale. */
function putTcp(o, s, dir, flags, len, tsMillis) {
  const syn = (flags & SYN) !== 0;
  const hdr = syn ? 40 : 32;
  const fromClient = dir === 0;
  const ack = fromClient ? s.seqS : s.seqC;
  const seq = advanceSeq(s, dir, flags, len);
  out.writeUInt16BE(fromClient ? s.cport : s.sport, o);
  out.writeUInt16BE(fromClient ? s.sport : s.cport, o + 2);
  out.writeUInt32BE(seq, o + 4);
  out.writeUInt32BE(flags & ACK ? ack : 0, o + 8);
  out[o + 12] = (hdr / 4) << 4;
  out[o + 13] = flags;
  out.writeUInt16BE(syn ? 64240 : fromClient ? s.winC : s.winS, o + 14);
  out.writeUInt32BE(0, o + 16); // checksum (offloaded, as on most capturing hosts) and urgent
  let p = o + 20;
  if (syn) {
    out.writeUInt32BE(0x02040000 | (s.mss + 12), p); // MSS
    out.writeUInt16BE(0x0402, p + 4); // SACK permitted
    p += 6;
  } else {
    out.writeUInt16BE(0x0101, p); // NOP NOP
    p += 2;
  }
  out.writeUInt16BE(0x080a, p); // timestamps
  out.writeUInt32BE(tsMillis >>> 0, p + 2);
  out.writeUInt32BE(syn && !(flags & ACK) ? 0 : (tsMillis - 20) >>> 0, p + 6);
  p += 10;
  if (syn) {
    out.writeUInt32BE(0x01030307, p); // NOP, window scale 7
    p += 4;
  }
  return p;
}

function putUdp(o, s, dir, len) {
  out.writeUInt16BE(dir === 0 ? s.cport : s.sport, o);
  out.writeUInt16BE(dir === 0 ? s.sport : s.cport, o + 2);
  out.writeUInt16BE(8 + len, o + 4);
  out.writeUInt16BE(0, o + 6);
  return o + 8;
}

let payloadPool = Buffer.alloc(0);

function putPayload(o, len, rng) {
  const from = rng.int(payloadPool.length - 1600);
  payloadPool.copy(out, o, from, from + len);
  return o + len;
}

/** Writes step `i` of session `s` as one pcap record; returns nothing, advances outPos. */
function writeStep(s, i, rng, snapLen, timeMicros) {
  const dir = s.steps[i];
  const code = s.steps[i + 1];
  const len = s.steps[i + 2];
  if (outPos + 2048 > out.length) flush();
  const rec = outPos;
  const frame = rec + 16;
  let o = frame;
  putMac(o, s.proto === ARP && code === 1 ? BROADCAST_MAC : dir === 0 ? s.serverMac : s.clientMac);
  putMac(o + 6, dir === 0 ? s.clientMac : s.serverMac);
  o += 12;
  if (s.vlan !== 0) {
    out.writeUInt16BE(0x8100, o);
    out.writeUInt16BE(s.vlan, o + 2);
    o += 4;
  }
  if (s.proto === ARP) {
    out.writeUInt16BE(ARP, o);
    o = putArp(o + 2, s, code);
  } else {
    out.writeUInt16BE(s.ipVersion === 6 ? 0x86dd : 0x0800, o);
    o += 2;
    const proto = code === CODE_PORT_UNREACHABLE ? ICMP : s.proto;
    const l4 = proto === TCP ? ((code & SYN) !== 0 ? 40 : 32) : 8;
    const ipPayload = l4 + len;
    o = s.ipVersion === 6 ? putIpv6(o, s, dir, proto, ipPayload) : putIpv4(o, s, dir, proto, ipPayload);
    if (proto === TCP) {
      o = putTcp(o, s, dir, code, len, Math.floor(timeMicros / 1000));
      o = putPayload(o, len, rng);
    } else if (proto === UDP) {
      o = putUdp(o, s, dir, len);
      o = putPayload(o, len, rng);
    } else if (code === CODE_PORT_UNREACHABLE) {
      o = putPortUnreachable(o, s);
    } else {
      out[o] = code; // echo request or reply
      out[o + 1] = 0;
      out.writeUInt16BE(0, o + 2);
      out.writeUInt16BE(s.cport, o + 4);
      out.writeUInt16BE(s.sport, o + 6);
      if (dir === 1) s.sport = (s.sport + 1) & 0xffff;
      o = putPayload(o + 8, len, rng);
    }
  }
  // Ethernet pads short frames to 60 bytes before the FCS; a capture on the receiver keeps it.
  while (o - frame < 60) out[o++] = 0;
  const wire = o - frame;
  const captured = Math.min(wire, snapLen);
  out.writeUInt32LE(Math.floor(timeMicros / 1e6), rec);
  out.writeUInt32LE(timeMicros % 1e6, rec + 4);
  out.writeUInt32LE(captured, rec + 8);
  out.writeUInt32LE(wire, rec + 12);
  outPos = frame + captured;
}

/** ICMP port unreachable quoting the probe's IPv4 header and first 8 bytes (RFC 792). */
function putPortUnreachable(o, s) {
  out[o] = 3;
  out[o + 1] = 3;
  out.writeUInt32BE(0, o + 2);
  out.writeUInt16BE(0, o + 6);
  const probeLen = 8 + 28;
  const q = putIpv4(o + 8, s, 0, UDP, probeLen);
  putUdp(q, s, 0, probeLen - 8);
  return q + 8;
}

function putArp(o, s, op) {
  out.writeUInt32BE(0x00010800, o); // Ethernet, IPv4
  out.writeUInt32BE(0x06040000 | op, o + 4);
  const fromClient = op === 1;
  putMac(o + 8, fromClient ? s.clientMac : s.serverMac);
  out.writeUInt32BE(fromClient ? s.client : s.server, o + 14);
  if (fromClient) out.fill(0, o + 18, o + 24);
  else putMac(o + 18, s.clientMac);
  out.writeUInt32BE(fromClient ? s.server : s.client, o + 24);
  return o + 28;
}

// ---------------------------------------------------------------------------------------------
// Scheduler: a min-heap of sessions by the time of their next packet

class SessionHeap {
  constructor() {
    this.items = [];
  }

  get size() {
    return this.items.length;
  }

  peek() {
    return this.items[0];
  }

  push(s) {
    const a = this.items;
    a.push(s);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent].time <= s.time) break;
      a[i] = a[parent];
      i = parent;
    }
    a[i] = s;
  }

  /** Restores heap order after the root's time grew. */
  siftRoot() {
    const a = this.items;
    const s = a[0];
    const n = a.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && a[r].time < a[l].time ? r : l;
      if (a[c].time >= s.time) break;
      a[i] = a[c];
      i = c;
    }
    a[i] = s;
  }

  popRoot() {
    const a = this.items;
    const last = a.pop();
    if (a.length > 0) {
      a[0] = last;
      this.siftRoot();
    }
  }
}

/** Writes `packets` records to `path`; returns counts for the log line. */
export function makeCapture(path, { packets, seed = 1, seconds = 180, snapLen = 65535 }) {
  const rng = new Rng(seed);
  payloadPool = Buffer.alloc(1 << 20);
  for (let i = 0; i < payloadPool.length; i += 4) payloadPool.writeUInt32LE(rng.u32(), i);

  const meanPackets = meanPacketsPerSession(seed);
  const arrivalGap = (seconds * 1e6 * meanPackets) / packets;
  // Monday 15 January 2024, 09:00:00 UTC; the schedule starts a minute earlier (warm-up).
  const epochMicros = 1_705_309_200 * 1e6;
  const warmUp = 60e6;
  let nextArrival = -warmUp;
  const heap = new SessionHeap();
  let sessions = 0;
  let written = 0;

  outFd = openSync(path, 'w');
  outPos = 0;
  bytesWritten = 0;
  out.writeUInt32LE(0xa1b2c3d4, 0); // pcap, microseconds, little-endian
  out.writeUInt16LE(2, 4);
  out.writeUInt16LE(4, 6);
  out.writeUInt32LE(0, 8);
  out.writeUInt32LE(0, 12);
  out.writeUInt32LE(snapLen, 16);
  out.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  outPos = 24;
  try {
    while (written < packets) {
      while (heap.size === 0 || nextArrival <= heap.peek().time) {
        const s = newSession(rng);
        s.time = nextArrival + s.steps[3];
        heap.push(s);
        sessions++;
        nextArrival += rng.exp(arrivalGap);
      }
      const s = heap.peek();
      const t = Math.round(s.time);
      if (t >= 0) {
        writeStep(s, s.pos, rng, snapLen, epochMicros + t);
        written++;
      } else if (s.proto === TCP) {
        // Before the capture started: keep the sequence numbers moving, write nothing.
        advanceSeq(s, s.steps[s.pos], s.steps[s.pos + 1], s.steps[s.pos + 2]);
      }
      s.pos += 4;
      if (s.pos < s.steps.length) {
        // Never earlier than the packet before it: timestamps in a capture only go forward.
        s.time = Math.max(t, s.time + s.steps[s.pos + 3]);
        heap.siftRoot();
      } else {
        heap.popRoot();
      }
    }
    flush();
  } finally {
    closeSync(outFd);
  }
  return { packets: written, bytes: bytesWritten, sessions, meanPackets };
}

function parseArgs(argv) {
  const opts = { path: null, packets: 4_000_000, seed: 1, seconds: 180, snapLen: 65535 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v <= 0) throw new Error(`${a} needs a positive number\n${USAGE}`);
      return v;
    };
    if (a === '--packets') opts.packets = Math.floor(value());
    else if (a === '--seed') opts.seed = Math.floor(value());
    else if (a === '--seconds') opts.seconds = value();
    else if (a === '--snaplen') opts.snapLen = Math.max(60, Math.floor(value()));
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
  const r = makeCapture(opts.path, opts);
  const secs = (Date.now() - started) / 1000;
  console.error(
    `make-capture: wrote ${r.packets} packets (${(r.bytes / 1048576).toFixed(0)} MiB, ` +
      `${r.sessions} sessions started, ${r.meanPackets.toFixed(1)} packets per session) to ${opts.path} in ${secs.toFixed(1)} s`,
  );
}
