/**
 * The last minute as stacked areas in plain SVG, one layer a series (the protocols), x by the
 * samples' own time with the newest at the right edge, y from zero to a round maximum. A minute of
 * one-second samples is 60 points a layer: SVG redraws it each second at no measurable cost.
 */

import { roundUp } from '../../lib/chart-scale';

const WIDTH = 300;
const HEIGHT = 80;

export interface StackedPoint {
  at: number;
  /** One value a layer, bottom layer first. */
  values: readonly number[];
}

export function StackedAreaChart({
  points,
  layers,
  windowMs,
  label,
}: {
  points: readonly StackedPoint[];
  /** The CSS class of each layer, bottom first (its colour). */
  layers: readonly string[];
  windowMs: number;
  label: string;
}) {
  const newest = points.at(-1);
  if (newest === undefined)
    return <svg className="chart" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} aria-hidden="true" />;
  const top = roundUp(Math.max(...points.map((p) => p.values.reduce((a, b) => a + b, 0))));
  const x = (at: number): string => (WIDTH - ((newest.at - at) / windowMs) * WIDTH).toFixed(1);
  const y = (v: number): string => (HEIGHT - (v / top) * HEIGHT).toFixed(1);
  // Running sums: layer i spans from the sum below it to the sum including it.
  const below = points.map(() => 0);
  const paths = layers.map((layer, i) => {
    const lower = points.map((p, j) => `${x(p.at)},${y(below[j]!)}`);
    const upper = points.map((p, j) => {
      below[j]! += p.values[i] ?? 0;
      return `${x(p.at)},${y(below[j]!)}`;
    });
    return { layer, d: `M${upper.join(' L')} L${lower.reverse().join(' L')} Z` };
  });
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
      {paths.map(({ layer, d }) => (
        <path key={layer} className={`chart-layer ${layer}`} d={d} />
      ))}
    </svg>
  );
}
