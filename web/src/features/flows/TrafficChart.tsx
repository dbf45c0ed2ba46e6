/**
 * One host's traffic over the chosen range, as bits per second per bucket: plain SVG scaled to
 * its box (like the overview's LineChart), the peak written beside it, the range's ends below.
 */

import { formatBitRate } from '../../lib/format';
import { formatTime } from './flow-format';
import type { TrafficBucket } from './flow-types';

const WIDTH = 600;
const HEIGHT = 120;

export function TrafficChart({ series, label }: { series: readonly TrafficBucket[]; label: string }) {
  const first = series[0];
  const last = series.at(-1);
  if (first === undefined || last === undefined) return null;
  const peak = Math.max(...series.map((b) => b.bytesPerSecond));
  const top = peak > 0 ? peak * 1.1 : 1;
  const step = series.length > 1 ? WIDTH / (series.length - 1) : WIDTH;
  const points = series.map((b, i) => {
    const x = series.length > 1 ? i * step : WIDTH / 2;
    const y = HEIGHT - (b.bytesPerSecond / top) * HEIGHT;
    return `${x.toFixed(1)},${y.toFixed(1)}`;
  });
  const line =
    series.length > 1 ? `M${points.join(' L')}` : `M0,${points[0]?.split(',')[1] ?? HEIGHT} H${WIDTH}`;
  return (
    <figure className="host-chart">
      <figcaption>
        <span className="rate-label">Peak</span> <span className="rate-value">{formatBitRate(peak)}</span>
      </figcaption>
      <svg
        className="chart host-chart-svg"
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={`${label}: peak ${formatBitRate(peak)}`}
      >
        <line
          className="chart-grid"
          x1="0"
          x2={WIDTH}
          y1={HEIGHT / 2}
          y2={HEIGHT / 2}
          vectorEffect="non-scaling-stroke"
        />
        {series.length > 1 && (
          <path className="chart-area" d={`${line} L${WIDTH},${HEIGHT} L0,${HEIGHT} Z`} />
        )}
        <path className="chart-line" d={line} vectorEffect="non-scaling-stroke" />
      </svg>
      <div className="host-chart-axis">
        <span>{formatTime(first.start * 1000)}</span>
        <span>{formatTime(last.start * 1000)}</span>
      </div>
    </figure>
  );
}
