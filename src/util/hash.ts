/**
 * The 32-bit integer mixer every hash table and sketch in FlowTrack uses (flow table, detector
 * tables, Count-Min sketches): small enough for V8 to inline on the packet path.
 */

/** MurmurHash3's fmix32 finalizer: a well-mixed unsigned 32-bit value of `x`. */
export function mix32(x: number): number {
  let h = x ^ (x >>> 16);
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
