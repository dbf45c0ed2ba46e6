/**
 * traffic_anomaly: a host (as a sender) or the whole capture suddenly far above its own learned
 * normal in packets/s, bytes/s, new flows/s or distinct peers per interval. Catches what has no
 * signature: a host that starts exfiltrating, a compromised machine that starts spreading, a
 * traffic surge, without knowing the attack.
 *
 * Method: every `intervalSeconds` of packet time each metric is compared with an exponentially
 * weighted moving mean and variance of its past intervals (incremental EWMA variance, Finch 2009,
 * "Incremental calculation of weighted mean and variance"; the same model as EWMA control charts,
 * Roberts 1959). A value is anomalous only when all of these hold, to keep false alarms rare:
 * the baseline has seen `warmupIntervals` intervals; the value is at least the metric's absolute
 * minimum (a quiet host going from 2 to 40 packets/s is not news); and it lies `deviations`
 * standard deviations above the mean, where the deviation is floored at 20% of the mean and at
 * 1, so a perfectly steady baseline (variance near 0) cannot turn a small wobble into an alert.
 * Only rises are reported: a host going quiet is not an attack. The baseline keeps learning
 * during an anomaly, so a lasting change of level stops alerting after a while.
 *
 * State: per sending host in a KeyTable of `maxHosts` (least recently active forgotten first, so
 * a spoofed flood cannot grow memory). Only hosts that sent `minHostPackets` in one interval get
 * a slot (counted in a small admission filter until then), so the table holds the most active
 * hosts and a crowd of one-packet spoofed sources cannot churn their baselines out; the
 * capture-wide baseline covers everything. Distinct peers are counted with a 128-bit
 * (hosts) or 2048-bit (overall) linear-counting bitmap per interval (Whang, Vander-Zanden and
 * Taylor 1990): a few words per host, no set of addresses.
 *
 * Must never: alert before the warm-up, report above `medium` unless the rise is extreme,
 * allocate per packet, or use a clock other than packet time.
 */

import type { AlertTracker } from '../../alerts/alert-tracker.js';
import type { Severity, Threshold } from '../../alerts/alert.js';
import { formatIp } from '../../util/ip-address.js';
import type { Detector, DetectorFactory, PacketEvent } from '../detector.js';
import { KeyTable } from '../key-table.js';
import { mix32 } from '../../util/hash.js';

export interface TrafficAnomalyOptions extends Record<string, number> {
  intervalSeconds: number;
  warmupIntervals: number;
  baselineIntervals: number;
  deviations: number;
  minPacketsPerSecond: number;
  minBytesPerSecond: number;
  minNewFlowsPerSecond: number;
  minPeers: number;
  minHostPackets: number;
  maxHosts: number;
}

/** The metrics, in the order of the state arrays. */
const METRICS = ['packets/s', 'bytes/s', 'new flows/s', 'distinct peers'] as const;
const COUNTER_NAMES = ['packetsPerSecond', 'bytesPerSecond', 'newFlowsPerSecond', 'distinctPeers'] as const;
const M = METRICS.length;
const HOST_BITMAP_WORDS = 4;
const TOTAL_BITMAP_WORDS = 64;
/** Words per flow in the per-flow host cache (32 bytes: one cache line holds two flows). */
const CACHE_STRIDE = 8;
/** Sets in the admission filter (power of two), two ways each. */
const FILTER_SETS = 4096;

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/** Hash of the address at `a` (4 words): one mix for IPv4 (the other words are 0), the same value. */
function addressHash(words: Uint32Array, a: number): number {
  const w1 = words[a + 1]!;
  const w2 = words[a + 2]!;
  const w3 = words[a + 3]!;
  // mix32(0) is 0, so for IPv4 the chain below reduces to mix32(w0).
  if ((w1 | w2 | w3) === 0) return mix32(words[a]!);
  return mix32(words[a]! ^ mix32(w1 ^ mix32(w2 ^ w3)));
}

/** Linear-counting estimate of distinct items from a bitmap of `words` 32-bit words at `base`. */
function linearCount(bits: Uint32Array, base: number, words: number): number {
  const m = words * 32;
  let set = 0;
  for (let w = 0; w < words; w++) set += popcount(bits[base + w]!);
  const zero = m - set;
  // A full bitmap saturates: report its ceiling rather than infinity.
  return zero === 0 ? m * Math.log(m) : -m * Math.log(zero / m);
}

/** EWMA mean and variance of M metrics for a number of subjects (hosts, or the one total). */
class Baselines {
  readonly mean: Float64Array;
  readonly variance: Float64Array;
  readonly samples: Float64Array;
  constructor(subjects: number) {
    this.mean = new Float64Array(subjects * M);
    this.variance = new Float64Array(subjects * M);
    this.samples = new Float64Array(subjects);
  }
  reset(subject: number): void {
    this.mean.fill(0, subject * M, subject * M + M);
    this.variance.fill(0, subject * M, subject * M + M);
    this.samples[subject] = 0;
  }
}

/**
 * The last, partial interval at the end of input is not judged (it would understate every rate),
 * so the detector has no `finish`.
 */
export class TrafficAnomalyDetector implements Detector {
  readonly name = 'traffic_anomaly';
  private readonly hosts: KeyTable;
  private readonly live: Uint8Array;
  /** Current-interval sums per host: packets, bytes, new flows (M - 1 per host). */
  private readonly hostSums: Float64Array;
  private readonly hostPeers: Uint32Array;
  private readonly hostBase: Baselines;
  private readonly totalSums = new Float64Array(M);
  private readonly totalPeers = new Uint32Array(TOTAL_BITMAP_WORDS);
  private readonly totalBase = new Baselines(1);
  private readonly intervalMicros: number;
  private readonly alpha: number;
  private readonly minimum: Float64Array;
  private intervalStart = -1;
  /** Scratch for one evaluation (no allocation unless something is anomalous). */
  private readonly values = new Float64Array(M);
  private readonly found = new Float64Array(M);
  /** Bumped when a host slot is created, so a per-flow cache entry can tell its host is gone. */
  private readonly hostGen: Int32Array;
  /**
   * Per flow-table slot, CACHE_STRIDE words in one cache line: the flow (id + 1, low 32 bits) the
   * entry describes, then for each side its host slot + 1, that host's generation and its address
   * hash. Hashing the source into the host table on every packet cost more than the rest of the
   * detector (measured: ~0.25 s on 4M packets); a flow's packets reuse what its first one looked
   * up. Grows with the flow table, which is itself bounded.
   */
  private cache = new Int32Array(0);
  /**
   * Admission filter: this interval's packets per untracked source, in a two-way set-associative
   * array of (address hash, count), 32 KB each. A host gets a slot in the host table only once it
   * has sent `minHostPackets` in one interval, so the table holds the active hosts and a crowd of
   * one-packet sources (a spoofed flood, a scan's replies) neither churns it nor costs a table
   * lookup per packet. It replaced a Count-Min sketch, which a spoofed flood saturates: at 200,000
   * new sources a second every counter passed 100 within seconds and every spoofed source was
   * admitted (a table insert, an eviction and a baseline reset each). Here a new source only
   * replaces the way with fewer packets (a random one on a tie), so one-packet sources replace
   * each other and never a host that has sent two; the hash of an IPv4 address is a bijection of
   * it, so two IPv4 hosts never share a count (and a shared count could only admit early, which
   * costs a slot, never an alert).
   */
  private readonly filterHash = new Int32Array(FILTER_SETS * 2);
  private readonly filterCount = new Int32Array(FILTER_SETS * 2);

  constructor(
    private readonly options: TrafficAnomalyOptions,
    private readonly alerts: AlertTracker,
  ) {
    const n = Math.max(1, Math.floor(options.maxHosts));
    this.live = new Uint8Array(n);
    this.hostGen = new Int32Array(n);
    this.hosts = new KeyTable(n, (slot) => {
      this.live[slot] = 0;
    });
    this.hostSums = new Float64Array(n * M);
    this.hostPeers = new Uint32Array(n * HOST_BITMAP_WORDS);
    this.hostBase = new Baselines(n);
    this.intervalMicros = Math.max(1, options.intervalSeconds) * 1e6;
    this.alpha = 2 / (Math.max(1, options.baselineIntervals) + 1);
    this.minimum = Float64Array.of(
      options.minPacketsPerSecond,
      options.minBytesPerSecond,
      options.minNewFlowsPerSecond,
      options.minPeers,
    );
  }

  /** Number of hosts holding a slot in the host table (for tests). */
  get trackedHosts(): number {
    return this.hosts.size;
  }

  onPacket(event: PacketEvent): void {
    const p = event.packet;
    if (p.ipVersion === 0) return;
    const ts = event.ts;
    if (this.intervalStart < 0) this.intervalStart = ts - (ts % this.intervalMicros);
    else if (ts >= this.intervalStart + this.intervalMicros) this.closeInterval(ts);
    const newFlow = event.newFlow ? 1 : 0;
    const bytes = event.frameBytes;
    const t = this.totalSums;
    t[0]!++;
    t[1]! += bytes;
    t[2]! += newFlow;
    const slot = event.slot;
    if (slot < 0) return;
    const flows = event.flows;
    if (slot * CACHE_STRIDE >= this.cache.length) this.growCache(Math.max(slot + 1, flows.allocatedSlots));
    const cache = this.cache;
    const c = slot * CACHE_STRIDE;
    const id = (flows.flowId[slot]! + 1) | 0;
    if (cache[c] !== id) {
      cache[c] = id;
      cache[c + 1] = cache[c + 4] = 0;
      const a = slot << 2;
      const fa = flows.addrA;
      const fb = flows.addrB;
      cache[c + 3] = addressHash(fa, a);
      cache[c + 6] = addressHash(fb, a);
    }
    // Which side sent this packet: compare with the flow's initiator address.
    const src = p.src;
    const a = slot << 2;
    const fa = flows.addrA;
    const mine = src[0] === fa[a] && src[1] === fa[a + 1] && src[2] === fa[a + 2] && src[3] === fa[a + 3];
    const own = mine ? c + 1 : c + 4;
    const srcHash = cache[own + 2]!;
    const dstHash = cache[mine ? c + 6 : c + 3]!;
    this.totalPeers[(srcHash >>> 5) & (TOTAL_BITMAP_WORDS - 1)]! |= 1 << (srcHash & 31);

    let s = cache[own]! - 1;
    if (s < 0 || cache[own + 1] !== this.hostGen[s]) {
      // Not (or no longer) tracked: admit the host only once it is busy this interval.
      if (this.countUntracked(srcHash) < this.options.minHostPackets) return;
      s = this.lookupHost(p.ipVersion, src);
      cache[own] = s + 1;
      cache[own + 1] = this.hostGen[s]!;
    }
    const h = this.hostSums;
    const b = s * M;
    h[b]!++;
    h[b + 1]! += bytes;
    h[b + 2]! += newFlow;
    this.hostPeers[s * HOST_BITMAP_WORDS + ((dstHash >>> 5) & (HOST_BITMAP_WORDS - 1))]! |=
      1 << (dstHash & 31);
  }

  /** Counts a packet of an untracked source in the admission filter; its count this interval. */
  private countUntracked(hash: number): number {
    const fh = this.filterHash;
    const fc = this.filterCount;
    // The set from the low bits, the tie-break from the top bit: independent bits of one hash.
    const e0 = (hash & (FILTER_SETS - 1)) << 1;
    let e = e0;
    if (fh[e0] !== hash || fc[e0] === 0) {
      e = e0 + 1;
      if (fh[e] !== hash || fc[e] === 0) {
        const n0 = fc[e0]!;
        const n1 = fc[e]!;
        if (n0 < n1 || (n0 === n1 && hash < 0)) e = e0;
        fh[e] = hash;
        fc[e] = 0;
      }
    }
    return ++fc[e]!;
  }

  /** The host slot of `src`, created (with empty state and a new generation) when absent. */
  private lookupHost(version: number, src: Uint32Array): number {
    const hosts = this.hosts;
    hosts.setKey(version, src, 0, null, 0, 0);
    const s = hosts.upsert();
    if (hosts.created) {
      this.live[s] = 1;
      this.hostGen[s] = (this.hostGen[s]! + 1) | 0;
      this.hostSums.fill(0, s * M, s * M + M);
      this.hostPeers.fill(0, s * HOST_BITMAP_WORDS, s * HOST_BITMAP_WORDS + HOST_BITMAP_WORDS);
      this.hostBase.reset(s);
    }
    return s;
  }

  private growCache(slots: number): void {
    const grown = new Int32Array(
      Math.max(slots, (this.cache.length / CACHE_STRIDE) * 2, 1024) * CACHE_STRIDE,
    );
    grown.set(this.cache);
    this.cache = grown;
  }

  /**
   * Closes the interval that started at `intervalStart`. Intervals skipped in a jump of packet
   * time (a capture with a gap) are not fed to the baselines as zeros: a gap in the capture says
   * nothing about the traffic.
   */
  private closeInterval(ts: number): void {
    const seconds = this.intervalMicros / 1e6;
    const start = this.intervalStart;
    const end = start + this.intervalMicros;
    const v = this.values;
    const t = this.totalSums;
    v[0] = t[0]! / seconds;
    v[1] = t[1]! / seconds;
    v[2] = t[2]! / seconds;
    v[3] = linearCount(this.totalPeers, 0, TOTAL_BITMAP_WORDS);
    if (t[0]! > 0) this.evaluate(this.totalBase, 0, null, start, end);
    t.fill(0);
    this.totalPeers.fill(0);
    this.filterCount.fill(0);

    const hs = this.hostSums;
    for (let s = 0; s < this.live.length; s++) {
      if (this.live[s] === 0) continue;
      const b = s * M;
      v[0] = hs[b]! / seconds;
      v[1] = hs[b + 1]! / seconds;
      v[2] = hs[b + 2]! / seconds;
      v[3] = linearCount(this.hostPeers, s * HOST_BITMAP_WORDS, HOST_BITMAP_WORDS);
      this.evaluate(this.hostBase, s, s, start, end);
      if (hs[b]! > 0) this.touch(s);
      hs.fill(0, b, b + M);
      this.hostPeers.fill(0, s * HOST_BITMAP_WORDS, s * HOST_BITMAP_WORDS + HOST_BITMAP_WORDS);
    }
    this.intervalStart = ts - (ts % this.intervalMicros);
  }

  /**
   * Marks host `s` as recently active in the host table: the packet path skips the table for
   * hosts it has cached, so the least-recently-used order is refreshed here, once an interval.
   */
  private touch(s: number): void {
    const hosts = this.hosts;
    const k = hosts.key;
    for (let w = 0; w < 10; w++) k[w] = hosts.keyWord(s, w);
    hosts.upsert();
  }

  /** Judges `values` against subject `i`'s baseline, reports what is anomalous, then learns. */
  private evaluate(base: Baselines, i: number, hostSlot: number | null, start: number, end: number): void {
    const v = this.values;
    const found = this.found;
    const n = base.samples[i]!;
    let anomalies = 0;
    for (let k = 0; k < M; k++) {
      const j = i * M + k;
      const mean = base.mean[j]!;
      found[k] = 0;
      if (n >= this.options.warmupIntervals && v[k]! >= this.minimum[k]!) {
        const sd = Math.max(Math.sqrt(base.variance[j]!), 0.2 * mean, 1);
        const d = (v[k]! - mean) / sd;
        if (d >= this.options.deviations) {
          found[k] = d;
          anomalies++;
        }
      }
    }
    if (anomalies > 0) this.report(base, i, hostSlot, start, end);
    // Learn: a plain mean while the baseline is young (fast, unbiased start), EWMA after.
    const alpha = Math.max(this.alpha, 1 / (n + 1));
    for (let k = 0; k < M; k++) {
      const j = i * M + k;
      const diff = v[k]! - base.mean[j]!;
      const incr = alpha * diff;
      base.mean[j] = base.mean[j]! + incr;
      base.variance[j] = (1 - alpha) * (base.variance[j]! + diff * incr);
    }
    base.samples[i] = n + 1;
  }

  private report(base: Baselines, i: number, hostSlot: number | null, start: number, end: number): void {
    const v = this.values;
    const found = this.found;
    let worst = 0;
    for (let k = 1; k < M; k++) if (found[k]! > found[worst]!) worst = k;
    const counters: Record<string, number> = {};
    const thresholds: Threshold[] = [];
    const others: string[] = [];
    for (let k = 0; k < M; k++) {
      if (found[k] === 0) continue;
      const mean = base.mean[i * M + k]!;
      const name = COUNTER_NAMES[k]!;
      counters[name] = round(v[k]!);
      counters[`${name}Baseline`] = round(mean);
      counters[`${name}Deviations`] = round(found[k]!);
      thresholds.push({
        metric: `${METRICS[k]} (deviations above baseline)`,
        value: round(found[k]!),
        threshold: this.options.deviations,
      });
      if (k !== worst) others.push(METRICS[k]!);
    }
    const d = found[worst]!;
    const metric = METRICS[worst]!;
    const who =
      hostSlot === null
        ? 'All traffic'
        : (() => {
            const key = this.hosts.keyOf(hostSlot);
            return formatIp(key.version, key.a);
          })();
    const value = v[worst]!;
    const mean = base.mean[i * M + worst]!;
    const severity = severityFor(d / this.options.deviations, value / Math.max(mean, 1e-9));
    this.alerts.report({
      type: 'traffic_anomaly',
      severity,
      src: hostSlot === null ? null : who,
      dst: null,
      at: end,
      startedAt: start,
      counters,
      summary:
        `${who} ${hostSlot === null ? 'ran at' : 'sent'} ${fmt(value)} ${metric} over ${this.options.intervalSeconds} s, ` +
        `${round(d)} deviations above ${hostSlot === null ? 'the' : 'its'} baseline of ${fmt(mean)}` +
        (others.length > 0 ? ` (also ${others.join(', ')})` : ''),
      thresholds,
    });
  }
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

function fmt(x: number): string {
  return x.toLocaleString('en-US', { maximumFractionDigits: x < 10 ? 1 : 0 });
}

/**
 * Low by default: an anomaly is a lead, not a verdict. Medium at twice the deviation threshold;
 * high only when also 4x the threshold and 20 times the baseline.
 */
function severityFor(timesThreshold: number, timesBaseline: number): Severity {
  if (timesThreshold >= 4 && timesBaseline >= 20) return 'high';
  if (timesThreshold >= 2) return 'medium';
  return 'low';
}

export const trafficAnomalyFactory: DetectorFactory<TrafficAnomalyOptions> = {
  name: 'traffic_anomaly',
  description: "A host's or all traffic's packets, bytes, new flows or peers far above its learned baseline",
  defaults: {
    intervalSeconds: 10,
    warmupIntervals: 30,
    baselineIntervals: 30,
    deviations: 6,
    minPacketsPerSecond: 500,
    minBytesPerSecond: 1_000_000,
    minNewFlowsPerSecond: 20,
    minPeers: 100,
    minHostPackets: 100,
    maxHosts: 4096,
  },
  help: {
    intervalSeconds:
      'length of one measurement interval (packet-time seconds); 10 s smooths per-second burstiness ' +
      'of single hosts while still flagging a surge within seconds',
    warmupIntervals:
      'intervals a baseline must have seen before it can alert (30 x 10 s = 5 minutes); short ' +
      'captures therefore never raise anomalies',
    baselineIntervals:
      'memory of the EWMA baseline in intervals (weight 2/(N+1)); 30 intervals = about 5 minutes',
    deviations:
      'how many standard deviations (floored at 20% of the mean) above the baseline a value must ' +
      'be; 6 keeps false alarms rare even on heavy-tailed traffic',
    minPacketsPerSecond: 'packets/s below this are never anomalous, whatever the baseline',
    minBytesPerSecond: 'bytes/s below this (1 MB/s = 8 Mbit/s) are never anomalous',
    minNewFlowsPerSecond: 'new flows/s below this are never anomalous',
    minPeers: 'distinct peers in one interval below this are never anomalous',
    minHostPackets:
      'a host gets its own baseline once it sends this many packets in one interval (10 packets/s at ' +
      '10 s); quieter hosts are covered by the capture-wide baseline only, and cost no table lookup ' +
      '(on the 4M-packet synthetic site capture about 2,000 hosts reach 100, so a 4,096-host table ' +
      'keeps their baselines)',
    maxHosts: 'sending hosts with a baseline at once; the one quiet longest is forgotten first',
  },
  create: (options, alerts) => new TrafficAnomalyDetector(options, alerts),
};
