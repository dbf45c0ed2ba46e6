/**
 * A line over time, in plain SVG: fixed drawing size scaled to its box, x by the samples' own time
 * (`end` at the right edge: the newest sample's unless given), y from zero to a round maximum, or
 * to a fixed one (100 for a percentage). An optional second line (a peak beside its average, the
 * other direction of traffic) is drawn on the same scale in its own colour. Shared by the
 * overview's last minute and the System page's history.
 */

import { plotPoints, roundUp } from '../lib/chart-scale';

const WIDTH = 300;
const HEIGHT = 80;

export function LineChart<T extends { at: number }>({
  samples,
  value,
  second,
  windowMs,
  end,
  max,
  label,
}: {
  samples: readonly T[];
  value: (sample: T) => number;
  /** A second line on the same scale, drawn over the first. */
  second?: (sample: T) => number;
  windowMs: number;
  /** Epoch ms at the right edge; the newest sample's by default. */
  end?: number;
  /** The top of the scale; by default the highest value rounded up. */
  max?: number;
  label: string;
}) {
  const newest = samples.at(-1);
  if (newest === undefined)
    return <svg className="chart" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} aria-hidden="true" />;
  const top =
    max ?? roundUp(Math.max(...samples.map(value), ...(second === undefined ? [] : samples.map(second))));
  const box = { width: WIDTH, height: HEIGHT, end: end ?? newest.at, windowMs, top };
  const points = plotPoints(
    samples.map((s) => ({ at: s.at, value: value(s) })),
    box,
  );
  const line = points.map(([x, y]) => `${x},${y}`).join(' L');
  const firstX = points[0]![0];
  const lastX = points.at(-1)![0];
  const secondLine =
    second === undefined
      ? null
      : plotPoints(
          samples.map((s) => ({ at: s.at, value: second(s) })),
          box,
        )
          .map(([x, y]) => `${x},${y}`)
          .join(' L');
  return (
    <svg
      className="chart"
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      preserveAspectRatio="none"
      role="img"
      aria-label={label}
    >
      <line
        className="chart-grid"
        x1="0"
        x2={WIDTH}
        y1={HEIGHT / 2}
        y2={HEIGHT / 2}
        vectorEffect="non-scaling-stroke"
      />
      <path className="chart-area" d={`M${firstX},${HEIGHT} L${line} L${lastX},${HEIGHT} Z`} />
      <path className="chart-line" d={`M${line}`} vectorEffect="non-scaling-stroke" />
      {secondLine !== null && (
        <path
          className="chart-line chart-line-second"
          d={`M${secondLine}`}
          vectorEffect="non-scaling-stroke"
        />
      )}
    </svg>
  );
}
