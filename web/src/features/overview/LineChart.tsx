/**
 * A line over the last minute, in plain SVG: fixed drawing size scaled to its box, x by the
 * samples' own time (the newest at the right edge), y from zero to a round maximum.
 */

import type { RateSample } from '../../lib/live-rates';
import { roundUp } from './chart-scale';

const WIDTH = 300;
const HEIGHT = 80;

export function LineChart({
  samples,
  value,
  windowMs,
  label,
}: {
  samples: readonly RateSample[];
  value: (sample: RateSample) => number;
  windowMs: number;
  label: string;
}) {
  const newest = samples.at(-1);
  if (newest === undefined)
    return <svg className="chart" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} aria-hidden="true" />;
  const top = roundUp(Math.max(...samples.map(value)));
  const points = samples.map((s) => {
    const x = WIDTH - ((newest.at - s.at) / windowMs) * WIDTH;
    const y = HEIGHT - (value(s) / top) * HEIGHT;
    return `${x.toFixed(1)},${y.toFixed(1)}`;
  });
  const first = points[0]!.split(',')[0]!;
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
      <path className="chart-area" d={`M${first},${HEIGHT} L${points.join(' L')} L${WIDTH},${HEIGHT} Z`} />
      <path className="chart-line" d={`M${points.join(' L')}`} vectorEffect="non-scaling-stroke" />
    </svg>
  );
}
