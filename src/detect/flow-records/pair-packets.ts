/**
 * Packets per (sender, receiver) pair and traffic class, recent and approximate, for the flood
 * checks that ask "does the victim talk back?" (a UDP conversation, the victim's own pings). The
 * two directions of a conversation are separate records read in any order, so the question is put
 * when the flood is judged (on a tick), not when a record arrives.
 *
 * A direct-mapped table (fixed memory, no allocation): a pair whose slot holds a heavier or more
 * recent pair is not kept. A lost pair can only make a conversation look one-way, so the error is
 * a flood alert, never a missed flood.
 */

import { mix32 } from '../../util/hash.js';
import type { RecordView } from './record-view.js';

const BITS = 14;
const MASK = (1 << BITS) - 1;

export class PairPackets {
  private readonly tags = new Int32Array(1 << BITS);
  private readonly packets = new Float64Array(1 << BITS);
  private readonly times = new Float64Array(1 << BITS);

  /** @param keepMicros a pair not seen for this long (record time) is forgotten */
  constructor(private readonly keepMicros: number) {}

  /**
   * Adds the packets of record `v` (its sender to its receiver) in class `cls`, at its last-seen
   * time. (Counts and times are read from the record: passed to a call they would be boxed.)
   */
  add(cls: number, v: RecordView): void {
    const h = pairHash(cls, v.version, v.src, v.dst);
    const packets = v.packets;
    const ts = v.lastUs;
    const i = h & MASK;
    const tag = tagOf(h);
    if (this.tags[i] === tag) {
      if (Math.abs(ts - this.times[i]!) > this.keepMicros) this.packets[i] = 0;
      this.packets[i]! += packets;
      if (ts > this.times[i]!) this.times[i] = ts;
      return;
    }
    if (this.packets[i]! > packets && Math.abs(ts - this.times[i]!) <= this.keepMicros) return;
    this.tags[i] = tag;
    this.packets[i] = packets;
    this.times[i] = ts;
  }

  /** Packets `from` sent to `to` in class `cls`, as kept (0 when not kept or forgotten by `now`). */
  get(cls: number, version: number, from: Uint32Array, to: Uint32Array, now: number): number {
    const h = pairHash(cls, version, from, to);
    const i = h & MASK;
    if (this.tags[i] !== tagOf(h) || Math.abs(now - this.times[i]!) > this.keepMicros) return 0;
    return this.packets[i]!;
  }
}

function pairHash(cls: number, version: number, from: Uint32Array, to: Uint32Array): number {
  let h = mix32(cls ^ 0x7f4a7c15);
  h = mix32(h ^ from[0]!);
  h = mix32(h ^ to[0]!);
  if (version === 6) {
    for (let k = 1; k < 4; k++) h = mix32(mix32(h ^ from[k]!) ^ to[k]!);
  }
  return h | 0;
}

/** Signed, as the tags are: a number above 2^31 returned from a call is boxed. */
function tagOf(h: number): number {
  return mix32(h ^ 0x1b873593) | 1;
}
