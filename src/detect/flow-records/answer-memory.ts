/**
 * Recent answers seen in flow records, for the scan detectors: "host B answered host A on service S"
 * (a SYN-ACK, a UDP reply, an echo reply), remembered for a while. The two directions of one
 * exchange are two records that a router exports in either order, so an answer may be read before
 * the probe it answers; the probe then finds it here and counts as answered.
 *
 * A direct-mapped table of tags and times (fixed memory, no allocation): a collision forgets an
 * older answer, which can only make a probe look unanswered, never invent an answer.
 */

import { mix32 } from '../../util/hash.js';
import type { RecordView } from './record-view.js';

const BITS = 15;
const MASK = (1 << BITS) - 1;

/** Service number of an answer: IP protocol and port (0 for protocols without ports). */
export function serviceOf(proto: number, port: number): number {
  return ((proto << 16) | port) >>> 0;
}

/**
 * The hash of (asker, answerer, service); IPv4 addresses are their first word. A signed 32-bit
 * number: one above 2^31 returned from a call that is not inlined is boxed (an allocation).
 */
export function answerHash(
  version: number,
  asker: Uint32Array,
  answerer: Uint32Array,
  service: number,
): number {
  let h = mix32(service ^ 0x2545f491);
  h = mix32(h ^ asker[0]!);
  h = mix32(h ^ answerer[0]!);
  if (version === 6) {
    for (let i = 1; i < 4; i++) h = mix32(mix32(h ^ asker[i]!) ^ answerer[i]!);
  }
  return h | 0;
}

export class AnswerMemory {
  private readonly tags = new Int32Array(1 << BITS);
  private readonly times = new Float64Array(1 << BITS);

  /** @param keepMicros how long (record time, either way) an answer is remembered */
  constructor(private readonly keepMicros: number) {}

  /**
   * Remembers the answer whose answerHash is `h`, in the record `v` (its first-seen time). Times
   * are read from the record, not passed: a time passed to a call that is not inlined is boxed.
   */
  note(h: number, v: RecordView): void {
    const i = h & MASK;
    this.tags[i] = tagOf(h);
    this.times[i] = v.firstUs;
  }

  /** True when the answer whose answerHash is `h` was seen within keepMicros of record `v`. */
  has(h: number, v: RecordView): boolean {
    const i = h & MASK;
    return this.tags[i] === tagOf(h) && Math.abs(v.firstUs - this.times[i]!) <= this.keepMicros;
  }
}

/** A tag independent of the index bits, never 0 (an empty entry); signed, as the tags are. */
function tagOf(h: number): number {
  return mix32(h ^ 0x68e31da4) | 1;
}
