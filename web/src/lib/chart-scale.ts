/** Scales shared by the dashboard's charts. Pure. */

/** The smallest 1, 2 or 5 times a power of ten at or above `value` (at least 1). */
export function roundUp(value: number): number {
  if (!(value > 1)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/** Where a time line is drawn: a box of `width` × `height`, `end` at its right edge, `windowMs` across. */
export interface PlotBox {
  width: number;
  height: number;
  /** Epoch ms at the right edge. */
  end: number;
  windowMs: number;
  /** The value at the top edge (zero is at the bottom). */
  top: number;
}

/**
 * Points (time, value) as SVG coordinates: [x, y] with y downwards, to one decimal (enough for a
 * box scaled to the page, and a tenth the text of full precision).
 */
export function plotPoints(
  points: readonly { at: number; value: number }[],
  box: PlotBox,
): [string, string][] {
  const top = box.top > 0 ? box.top : 1;
  return points.map((p) => [
    (box.width - ((box.end - p.at) / box.windowMs) * box.width).toFixed(1),
    (box.height - (p.value / top) * box.height).toFixed(1),
  ]);
}
