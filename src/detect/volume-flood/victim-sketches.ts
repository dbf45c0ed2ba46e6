/**
 * The small sketches a victim's meter keeps per slot, shared by the packet meter (victim-meter.ts)
 * and the flow-record one (flow-records/record-victim-meter.ts), so both count alike: a 128-register
 * HyperLogLog of the distinct source addresses and a 64-bit bitmap of the ports hit. Pure
 * arithmetic over the caller's typed arrays; allocates nothing.
 */

import { mix32 } from '../../util/hash.js';

/** HyperLogLog registers per slot (7 index bits): about 9% error, 128 bytes a victim. */
export const HLL_REGISTERS = 128;
const HLL_BITS = 7;
/** alpha_m for m = 128 (Flajolet et al. 2007, figure 3). */
const HLL_ALPHA = 0.7213 / (1 + 1.079 / HLL_REGISTERS);
/** 2^-r for the HLL harmonic mean, precomputed. */
const POW2_NEG = Float64Array.from({ length: 34 }, (_, r) => 2 ** -r);

/** Adds the source address `s0`..`s3` (4 words, IPv4 in the first) to slot `slot`'s registers. */
export function hllAdd(hll: Uint8Array, slot: number, s0: number, s1: number, s2: number, s3: number): void {
  // The top 7 bits pick the register, the rank is the leading zeros of the rest.
  const h = mix32(mix32(mix32(mix32(s0 ^ 0x9e3779b9) ^ s1) ^ s2) ^ s3);
  const reg = slot * HLL_REGISTERS + (h >>> (32 - HLL_BITS));
  const rank = Math.clz32((h << HLL_BITS) | (1 << (HLL_BITS - 1))) + 1;
  if (rank > hll[reg]!) hll[reg] = rank;
}

/** HyperLogLog estimate of the distinct sources added to slot `slot`. */
export function hllEstimate(hll: Uint8Array, slot: number): number {
  const base = slot * HLL_REGISTERS;
  let sum = 0;
  let zeros = 0;
  for (let i = base; i < base + HLL_REGISTERS; i++) {
    const r = hll[i]!;
    sum += POW2_NEG[r]!;
    if (r === 0) zeros++;
  }
  const m = HLL_REGISTERS;
  const estimate = (HLL_ALPHA * m * m) / sum;
  if (estimate <= 2.5 * m && zeros > 0) return Math.round(m * Math.log(m / zeros));
  return Math.round(estimate);
}

/** Distinct ports estimated from a 64-bit bitmap in two words (linear counting; saturates near 200). */
export function bitmapDistinct(low: number, high: number): number {
  const set = popcount(low) + popcount(high);
  if (set >= 64) return 64 * Math.log(64);
  return Math.round(64 * Math.log(64 / (64 - set)));
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/** Heaviest sources kept per slot (Space-Saving counters). */
export const TOP_SOURCES = 8;

/**
 * Space-Saving (Metwally et al. 2005) heavy hitters per slot: TOP_SOURCES counters of source
 * address (4 words), IP version, count and over-count error. A source not among them takes the
 * smallest counter, inheriting its count as its error, so `count - error` never overstates.
 */
export class TopSources {
  readonly addr: Uint32Array;
  readonly version: Uint8Array;
  readonly count: Float64Array;
  readonly error: Float64Array;

  constructor(slots: number) {
    this.addr = new Uint32Array(slots * TOP_SOURCES * 4);
    this.version = new Uint8Array(slots * TOP_SOURCES);
    this.count = new Float64Array(slots * TOP_SOURCES);
    this.error = new Float64Array(slots * TOP_SOURCES);
  }

  /** Adds `weight` (packets) from the source `s0`..`s3` of IP `version` to slot `slot`. */
  add(slot: number, version: number, s0: number, s1: number, s2: number, s3: number, weight: number): void {
    const base = slot * TOP_SOURCES;
    const addr = this.addr;
    const count = this.count;
    let min = base;
    for (let i = base; i < base + TOP_SOURCES; i++) {
      const a = i << 2;
      if (
        addr[a] === s0 &&
        addr[a + 1] === s1 &&
        addr[a + 2] === s2 &&
        addr[a + 3] === s3 &&
        this.version[i] === version
      ) {
        count[i]! += weight;
        return;
      }
      if (count[i]! < count[min]!) min = i;
    }
    const a = min << 2;
    addr[a] = s0;
    addr[a + 1] = s1;
    addr[a + 2] = s2;
    addr[a + 3] = s3;
    this.version[min] = version;
    this.error[min] = count[min]!;
    count[min]! += weight;
  }
}
