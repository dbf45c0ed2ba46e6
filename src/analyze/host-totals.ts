/**
 * Exact bytes and packets per host in fixed-size typed arrays, for the traffic summary of a
 * capture and the live view's talkers of each second. No strings per packet: IPv4 hosts are
 * keyed by number and IPv6 hosts are only formatted when listed.
 */

import { formatIpv4, formatIpv6 } from '../util/ip-address.js';
import type { Talker } from './traffic-summary.js';

/** IPv4 hosts are keyed by number (no string per flow); IPv6 by text. */
export function hostKey(version: number, addr: Uint32Array, slot: number): number | string {
  return version === 4 ? addr[slot * 4]! : formatIpv6(addr, slot * 4);
}

const INITIAL_HOSTS = 1024;

/**
 * Exact bytes and packets per host (IP version and four address words) in typed arrays with an
 * open-addressing index, for up to `capacity` distinct hosts. Slots are handed out in order of
 * first appearance and never freed, so that order also breaks ties in `top`.
 */
export class HostTotals {
  private size = 0;
  private slots = 0;
  private version = new Uint8Array(0);
  private words = new Uint32Array(0);
  private bytes = new Float64Array(0);
  private packets = new Float64Array(0);
  /** Slot + 1, or 0 when empty; at most half full. */
  private index = new Int32Array(0);

  constructor(private readonly capacity: number) {
    this.grow(Math.min(INITIAL_HOSTS, capacity));
  }

  /** Adds to the host at `addr[base..base+3]`; false (and nothing added) when it would be one too many. */
  add(version: number, addr: Uint32Array, base: number, bytes: number, packets: number): boolean {
    const w0 = addr[base]!;
    const w1 = addr[base + 1]!;
    const w2 = addr[base + 2]!;
    const w3 = addr[base + 3]!;
    const mask = this.index.length - 1;
    let i = hostHash(version, w0, w1, w2, w3) & mask;
    for (;;) {
      const entry = this.index[i]!;
      if (entry === 0) break;
      const s = entry - 1;
      const at = s * 4;
      const words = this.words;
      if (words[at] === w0 && words[at + 1] === w1 && words[at + 2] === w2 && words[at + 3] === w3) {
        if (this.version[s] === version) {
          this.bytes[s]! += bytes;
          this.packets[s]! += packets;
          return true;
        }
      }
      i = (i + 1) & mask;
    }
    if (this.size === this.capacity) return false;
    if (this.size === this.slots) {
      this.grow(Math.min(this.slots * 2, this.capacity));
      return this.add(version, addr, base, bytes, packets);
    }
    const s = this.size++;
    this.version[s] = version;
    this.words[s * 4] = w0;
    this.words[s * 4 + 1] = w1;
    this.words[s * 4 + 2] = w2;
    this.words[s * 4 + 3] = w3;
    this.bytes[s] = bytes;
    this.packets[s] = packets;
    this.index[i] = s + 1;
    return true;
  }

  /** Every host in order of first appearance, keyed as `hostKey` keys it. */
  forEach(visit: (key: number | string, bytes: number, packets: number) => void): void {
    for (let s = 0; s < this.size; s++) {
      visit(hostKey(this.version[s]!, this.words, s), this.bytes[s]!, this.packets[s]!);
    }
  }

  /** The `n` hosts with the most bytes or packets, most first; ties in order of first appearance. */
  top(n: number, by: 'bytes' | 'packets'): Talker[] {
    const counts = by === 'bytes' ? this.bytes : this.packets;
    // One pass keeping the best n (a sort of every host cost more than the rest of build()).
    const best: number[] = [];
    for (let s = 0; n > 0 && s < this.size; s++) {
      const c = counts[s]!;
      if (best.length === n && c <= counts[best[n - 1]!]!) continue;
      let i = best.length < n ? best.length : n - 1;
      while (i > 0 && counts[best[i - 1]!]! < c) {
        if (i < n) best[i] = best[i - 1]!;
        i--;
      }
      best[i] = s;
    }
    return best.map((s) => ({
      address: hostText(hostKey(this.version[s]!, this.words, s)),
      bytes: this.bytes[s]!,
      packets: this.packets[s]!,
    }));
  }

  /** Forgets every host, keeping the memory (the live view starts each second afresh). */
  clear(): void {
    this.size = 0;
    this.index.fill(0);
  }

  get count(): number {
    return this.size;
  }

  private grow(slots: number): void {
    const copy = <T extends Uint8Array | Uint32Array | Float64Array>(old: T, fresh: T): T => {
      fresh.set(old);
      return fresh;
    };
    this.version = copy(this.version, new Uint8Array(slots));
    this.words = copy(this.words, new Uint32Array(slots * 4));
    this.bytes = copy(this.bytes, new Float64Array(slots));
    this.packets = copy(this.packets, new Float64Array(slots));
    this.slots = slots;
    let indexSize = 1;
    while (indexSize < slots * 2) indexSize <<= 1;
    this.index = new Int32Array(indexSize);
    const mask = indexSize - 1;
    for (let s = 0; s < this.size; s++) {
      const at = s * 4;
      const w = this.words;
      let i = hostHash(this.version[s]!, w[at]!, w[at + 1]!, w[at + 2]!, w[at + 3]!) & mask;
      while (this.index[i] !== 0) i = (i + 1) & mask;
      this.index[i] = s + 1;
    }
  }
}

/** A 32-bit hash of a host (IP version and four address words), well mixed in every bit. */
export function hostHash(version: number, w0: number, w1: number, w2: number, w3: number): number {
  // murmur3's 32-bit finalizer over the words folded together.
  let h = Math.imul(w0 ^ version, 0x9e3779b1) ^ Math.imul(w1, 0x85ebca6b) ^ Math.imul(w2, 0xc2b2ae35) ^ w3;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export function hostText(key: number | string): string {
  return typeof key === 'number' ? formatIpv4(key) : key;
}
