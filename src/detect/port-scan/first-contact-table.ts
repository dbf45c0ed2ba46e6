/**
 * Bounded per-scanner state shared by the port-scan and host-sweep detectors: for each key (a
 * source and its target host, or a source and the service it sweeps) the distinct targets it
 * contacted (ports or hosts), which of them answered, and a Threshold Random Walk over those first
 * contacts (Jung, Paxson, Berger, Balakrishnan, "Fast Portscan Detection Using Sequential
 * Hypothesis Testing", IEEE S&P 2004).
 *
 * TRW judges only first contacts: each distinct target is one Bernoulli trial, success when it
 * answered, failure otherwise. A benign host's first contacts succeed with probability theta0, a
 * scanner's with theta1 << theta0; the log likelihood ratio walks up ln((1-t1)/(1-t0)) per failure
 * and down ln(t1/t0) per success, and says "scanner" at ln(beta/alpha). The answer to a probe comes
 * later (or never, when filtered), so a probe counts as a failure when it is sent and is turned into
 * a success when the answer arrives: the walk is always current and an alert needs no timer. The
 * walk is floored at ln((1-beta)/(1-alpha)), the paper's "benign" boundary, so a long benign history
 * restarts the test instead of hiding a later scan.
 *
 * Distinct targets are counted with a 2048-bit bitmap per key (linear counting, Whang et al. 1990):
 * fixed memory, exact while small (see `isExact`), an estimate within about 1.5% at 1,000 and
 * saturating near 15,000. Keys live in a KeyTable (behind a first-target filter, see FILTER_BITS),
 * so memory is bounded whatever the traffic. Never allocates per packet.
 */

import { KeyTable } from '../key-table.js';
import { mix32 } from '../../util/hash.js';

const BITMAP_BITS = 2048;
const BITMAP_WORDS = BITMAP_BITS / 32;
/** Bits remembered per key so that restarting a key that probed few targets clears only those. */
const SMALL = 4;

/** Threshold Random Walk parameters (the paper's defaults are 0.8, 0.2, 0.01, 0.99). */
export interface TrwParameters {
  benignSuccess: number;
  scannerSuccess: number;
  falseAlarm: number;
  detection: number;
}

/** Per-key fields, packed STRIDE doubles per key so one probe touches one or two cache lines. */
const F = {
  PROBES: 0,
  DISTINCT: 1,
  LLR: 2,
  FIRST_TS: 3,
  LAST_TS: 4,
  REPORTED_AT: 5,
  KINDS: 6,
  FIRST_TARGET: 7,
  ANSWERED: 8,
  REPORTED_PROBES: 9,
  SAME_NET: 10,
  FIRST_BITS: 11,
} as const;
const STRIDE = 16;

/**
 * The first-target filter: most keys (a client and its one server, a host and its resolver) never
 * contact a second target, so they are kept in a small hash table of first contacts (tag and
 * flags, first target, time) and enter the KeyTable only when a second distinct target shows up.
 * Measured on 4M packets of mixed traffic: it spares most KeyTable lookups, the detectors' largest
 * cost. A collision overwrites an older key's entry, which costs that key its first target (its
 * promotion waits for one more target), never memory.
 *
 * Sized for the cache, not for the traffic: under a spoofed flood every packet is a new key and
 * each probe a random access. Measured on 4M spoofed SYNs (both detectors' CPU time): 2^16
 * entries of 32 bytes (2 MB each, one-way) 1.7 s; two-way with 16-byte entries and a cheaper
 * IPv4 hash, 2^17 entries 1.3 s, 2^15 1.0 s, 2^14 (256 KB each) 0.8 s, 2^13 0.7 s. The price of a
 * small filter is an unpromoted entry's life under a flood (2^14 / 200,000 new keys a second:
 * about 80 ms; any scan at nmap's default timing sends its second probe far sooner). A key already in the KeyTable keeps its entry from newcomers while it
 * stays active (PROTECT_MICROS), so a scan hidden in a flood is counted probe by probe, and each
 * bucket holds two entries so that a key kept there blocks no other key.
 */
const FILTER_BITS = 14;
/** Per entry: a Uint32 tag-and-flags word, a Uint32 target, a Float64 time (16 bytes, aligned). */
const FILTER_STRIDE = 4;
/** Two entries per bucket, in one cache line: a key may use either. */
const BUCKET_WORDS = 2 * FILTER_STRIDE;
const BUCKET_MASK = (1 << (FILTER_BITS - 1)) - 1;
const TARGET = 1;
/** Flags in the low bits of an entry's first word; its time is at Float64 index (Uint32 index / 2 + 1). */
const FLAG_BITS = 2;
const PROMOTED = 1;
const ANSWERED = 2;
/** A tag always has this bit set, so an empty entry (0) matches no key. */
const TAG_SET = 1 << FLAG_BITS;
/**
 * A promoted key's entry is not given up to a newcomer while the key probed within this time
 * (1 s: outside a flood an entry outlives far longer gaps anyway).
 */
const PROTECT_MICROS = 1_000_000;

/** The filter tag of a key hash: independent of the bucket bits, flag bits clear, TAG_SET set. */
function tagOf(h: number): number {
  return ((mix32(h ^ 0x5bd1e995) << FLAG_BITS) | TAG_SET) >>> 0;
}

export class FirstContactTable {
  readonly keys: KeyTable;
  /** ln(beta/alpha): at or above it the key is a scanner. */
  readonly upper: number;
  private readonly lower: number;
  private readonly failStep: number;
  private readonly successStep: number;
  /** STRIDE doubles per key (see F). Measured: separate arrays per field cost a cache miss each. */
  private readonly f: Float64Array;
  /** Per key, BITMAP_WORDS pairs of words (probed, answered): one cache line serves both. */
  private readonly bits: Uint32Array;
  /** The first-target filter (see FILTER_BITS): tags, flags and targets. */
  private readonly filter = new Uint32Array((1 << FILTER_BITS) * FILTER_STRIDE);
  /** The same memory: each entry's time (first contact; last probe once promoted). */
  private readonly filterTime = new Float64Array(this.filter.buffer);

  constructor(
    capacity: number,
    trw: TrwParameters,
    private readonly evidenceMicros: number,
    private readonly idleMicros: number,
  ) {
    this.f = new Float64Array(capacity * STRIDE);
    this.keys = new KeyTable(capacity, (slot) => {
      this.f[slot * STRIDE + F.REPORTED_AT] = 0;
    });
    this.bits = new Uint32Array(capacity * BITMAP_WORDS * 2);
    const t0 = trw.benignSuccess;
    const t1 = trw.scannerSuccess;
    this.failStep = Math.log((1 - t1) / (1 - t0));
    this.successStep = Math.log(t1 / t0);
    this.upper = Math.log(trw.detection / trw.falseAlarm);
    this.lower = Math.log((1 - trw.detection) / (1 - trw.falseAlarm));
  }

  /** Probes sent (every first packet of a flow, repeats included). */
  probes(slot: number): number {
    return this.f[slot * STRIDE + F.PROBES]!;
  }
  /** Distinct targets probed (bits set in the probed bitmap). */
  distinct(slot: number): number {
    return this.f[slot * STRIDE + F.DISTINCT]!;
  }
  /** Distinct targets that answered. */
  answered(slot: number): number {
    return this.f[slot * STRIDE + F.ANSWERED]!;
  }
  /** Log likelihood ratio of "scanner" over "benign". */
  llr(slot: number): number {
    return this.f[slot * STRIDE + F.LLR]!;
  }
  firstTs(slot: number): number {
    return this.f[slot * STRIDE + F.FIRST_TS]!;
  }
  lastTs(slot: number): number {
    return this.f[slot * STRIDE + F.LAST_TS]!;
  }
  /** Detector-defined bits (scan kinds seen). */
  kinds(slot: number): number {
    return this.f[slot * STRIDE + F.KINDS]!;
  }
  addKind(slot: number, kind: number): void {
    const i = slot * STRIDE + F.KINDS;
    this.f[i] = this.f[i]! | kind;
  }
  /** Packet time of the last report, 0 when none (or evicted since). */
  reportedAt(slot: number): number {
    return this.f[slot * STRIDE + F.REPORTED_AT]!;
  }
  /** Probes at the last report. */
  reportedProbes(slot: number): number {
    return this.f[slot * STRIDE + F.REPORTED_PROBES]!;
  }
  markReported(slot: number, at: number): void {
    const b = slot * STRIDE;
    this.f[b + F.REPORTED_AT] = at;
    this.f[b + F.REPORTED_PROBES] = this.f[b + F.PROBES]!;
  }
  /** First target seen (host sweeps: an IPv4 address). */
  firstTarget(slot: number): number {
    return this.f[slot * STRIDE + F.FIRST_TARGET]!;
  }
  /** 1 while every target shared the first one's /24 (IPv4 host sweeps). */
  sameNet(slot: number): number {
    return this.f[slot * STRIDE + F.SAME_NET]!;
  }

  /**
   * A probe of `target` by the key set in `keys.key`. Returns the key's slot when the key is in
   * the table and the target is new to it (the caller then judges the slot), else -1. For IPv4
   * host sweeps the target is the host address (see `sameNet`).
   */
  probeKey(ts: number, target: number): number {
    const h = this.keyHash();
    const e = this.filter;
    const time = this.filterTime;
    const i = this.entryOf(h);
    if (i < 0) {
      this.insert(h, target, ts);
      return -1;
    }
    const t = (i >>> 1) + 1;
    const word = e[i]!;
    if (!(word & PROMOTED)) {
      if (ts - time[t]! > this.evidenceMicros) {
        // Too old to be evidence: this probe is the key's first contact now.
        e[i] = word & ~ANSWERED;
        e[i + TARGET] = target;
        time[t] = ts;
        return -1;
      }
      if (e[i + TARGET] === target) return -1;
      const slot = this.open(ts);
      e[i] = word | PROMOTED;
      // The key's first contact, kept by the filter until now.
      if (this.distinct(slot) === 0) this.f[slot * STRIDE + F.FIRST_TS] = time[t]!;
      this.probe(slot, e[i + TARGET]!);
      if (word & ANSWERED) this.answer(slot, e[i + TARGET]!);
      time[t] = ts;
      return this.probe(slot, target) ? slot : -1;
    }
    time[t] = ts;
    const slot = this.open(ts);
    return this.probe(slot, target) ? slot : -1;
  }

  /** `target` answered a probe of the key set in `keys.key`. */
  answerKey(target: number): void {
    const i = this.entryOf(this.keyHash());
    if (i < 0) return;
    const e = this.filter;
    const word = e[i]!;
    if (!(word & PROMOTED)) {
      if (e[i + TARGET] === target) e[i] = word | ANSWERED;
      return;
    }
    const slot = this.keys.find();
    if (slot >= 0) this.answer(slot, target);
  }

  /** The filter entry (its Uint32 index) of the key whose hash is `h`, -1 when it has none. */
  private entryOf(h: number): number {
    const tag = tagOf(h);
    const e = this.filter;
    const i = (h & BUCKET_MASK) * BUCKET_WORDS;
    if ((e[i]! ^ tag) >>> FLAG_BITS === 0) return i;
    if ((e[i + FILTER_STRIDE]! ^ tag) >>> FLAG_BITS === 0) return i + FILTER_STRIDE;
    return -1;
  }

  /**
   * Records the first contact of a key the filter does not hold, in the bucket's older entry, or
   * its only one a promoted key is not keeping (see PROTECT_MICROS); none when both are kept.
   */
  private insert(h: number, target: number, ts: number): void {
    const e = this.filter;
    const time = this.filterTime;
    const b = (h & BUCKET_MASK) * BUCKET_WORDS;
    const t = (b >>> 1) + 1;
    const keep0 = e[b]! & PROMOTED && ts - time[t]! <= PROTECT_MICROS;
    const keep1 = e[b + FILTER_STRIDE]! & PROMOTED && ts - time[t + 2]! <= PROTECT_MICROS;
    let way: number;
    if (keep0) {
      if (keep1) return;
      way = 1;
    } else {
      way = keep1 || time[t]! <= time[t + 2]! ? 0 : 1;
    }
    const i = b + way * FILTER_STRIDE;
    e[i] = tagOf(h);
    e[i + TARGET] = target;
    time[t + way * 2] = ts;
  }

  /**
   * The key's hash. An IPv4 key is its version word and two address words (the others are 0), so
   * it hashes those three: measured, hashing all ten words was a third of a flood probe's cost.
   */
  private keyHash(): number {
    const k = this.keys.key;
    let h = mix32(0x9e3779b9 ^ k[0]!);
    if (((k[0]! >>> 16) & 0xf) === 4) return mix32(mix32(h ^ k[1]!) ^ k[5]! ^ (k[9]! << 16));
    for (let w = 1; w < k.length; w++) h = mix32(h ^ k[w]!);
    return h;
  }

  /**
   * The slot of the key set in `keys.key`, created or restarted when new, quiet for `idleMicros`,
   * or (before it reported) older than `evidenceMicros`: the evidence must gather quickly, so a
   * host that contacts a few new targets an hour (ARP cache refreshes, a resolver list) never adds
   * up to a scan, while a reported scan stays one alert for as long as it goes on.
   */
  private open(ts: number): number {
    const slot = this.keys.upsert();
    const b = slot * STRIDE;
    const f = this.f;
    if (
      this.keys.created ||
      ts - f[b + F.LAST_TS]! > this.idleMicros ||
      (f[b + F.REPORTED_AT] === 0 && ts - f[b + F.FIRST_TS]! > this.evidenceMicros)
    )
      this.reset(slot, ts);
    f[b + F.LAST_TS] = ts;
    return slot;
  }

  /** A probe of `target` (a port, a host address word); true when the target is new. */
  private probe(slot: number, target: number): boolean {
    const f = this.f;
    const b = slot * STRIDE;
    f[b + F.PROBES]!++;
    const bit = mix32(target) & (BITMAP_BITS - 1);
    const w = (slot * BITMAP_WORDS + (bit >>> 5)) << 1;
    const m = 1 << (bit & 31);
    const words = this.bits;
    if (words[w]! & m) return false;
    words[w] = words[w]! | m;
    const n = f[b + F.DISTINCT]!;
    if (n < SMALL) f[b + F.FIRST_BITS + n] = bit;
    if (n === 0) f[b + F.FIRST_TARGET] = target;
    else if ((f[b + F.FIRST_TARGET]! ^ target) >>> 8 !== 0) f[b + F.SAME_NET] = 0;
    f[b + F.DISTINCT] = n + 1;
    f[b + F.LLR] = f[b + F.LLR]! + this.failStep;
    return true;
  }

  /** `target` answered (not with a reset or an error): its first contact was a success. */
  private answer(slot: number, target: number): void {
    const bit = mix32(target) & (BITMAP_BITS - 1);
    const w = (slot * BITMAP_WORDS + (bit >>> 5)) << 1;
    const m = 1 << (bit & 31);
    const words = this.bits;
    if (!(words[w]! & m) || words[w + 1]! & m) return;
    words[w + 1] = words[w + 1]! | m;
    const f = this.f;
    const b = slot * STRIDE;
    f[b + F.ANSWERED]!++;
    const next = f[b + F.LLR]! - this.failStep + this.successStep;
    f[b + F.LLR] = next < this.lower ? this.lower : next;
  }

  /** True when the walk says "scanner". */
  isScanner(slot: number): boolean {
    return this.f[slot * STRIDE + F.LLR]! >= this.upper;
  }

  /**
   * True when the walk says "scanner" without the targets probed after the key's first `distinct`
   * ones, as if they were neither failures nor successes yet (their answers may still come).
   */
  isScannerBefore(slot: number, distinct: number): boolean {
    const young = this.distinct(slot) - distinct;
    return this.llr(slot) - (young > 0 ? young * this.failStep : 0) >= this.upper;
  }

  /** Distinct targets, estimated by linear counting once collisions become likely. */
  estimate(slot: number): number {
    const set = this.distinct(slot);
    if (this.isExact(slot)) return set;
    const zero = BITMAP_BITS - set;
    const estimate =
      zero <= 0 ? BITMAP_BITS * Math.log(BITMAP_BITS) : -BITMAP_BITS * Math.log(zero / BITMAP_BITS);
    // A target cannot be counted more often than it was probed.
    return Math.min(this.probes(slot), Math.max(set, Math.round(estimate)));
  }

  /**
   * True while the distinct count is almost surely exact: with 16 targets in 2048 bits a collision
   * has a chance of 6%; beyond that the linear-counting estimate corrects for collisions.
   */
  isExact(slot: number): boolean {
    return this.distinct(slot) < 16;
  }

  /** Slots that reported and have not been evicted. */
  *reported(): Generator<number> {
    for (let slot = 0; slot < this.keys.capacity; slot++) if (this.reportedAt(slot) > 0) yield slot;
  }

  private reset(slot: number, ts: number): void {
    const f = this.f;
    const b = slot * STRIDE;
    // Most keys probe one or two targets: clearing their bits is cheaper than clearing the bitmaps
    // (measured: the fill cost about 50 ms per 4M packets of mixed traffic).
    const n = f[b + F.DISTINCT]!;
    const base = slot * BITMAP_WORDS;
    const words = this.bits;
    if (n <= SMALL) {
      for (let i = 0; i < n; i++) {
        const w = (base + (f[b + F.FIRST_BITS + i]! >>> 5)) << 1;
        words[w] = 0;
        words[w + 1] = 0;
      }
    } else {
      words.fill(0, base << 1, (base + BITMAP_WORDS) << 1);
    }
    f.fill(0, b, b + STRIDE);
    f[b + F.FIRST_TS] = ts;
    f[b + F.SAME_NET] = 1;
  }
}
