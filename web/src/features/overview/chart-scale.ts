/** Scales shared by the overview's charts. */

/** The smallest 1, 2 or 5 times a power of ten at or above `value` (at least 1). */
export function roundUp(value: number): number {
  if (!(value > 1)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}
