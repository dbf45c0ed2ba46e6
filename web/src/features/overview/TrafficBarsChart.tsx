/**
 * A window's traffic as bars in plain SVG, stacked by protocol when the parts are known. Every bar
 * is a link to the flows of its bucket (/flows?from=…&to=…): click it, or Tab to it and press
 * Enter. Its label says the time and the figures, for screen readers and as a tooltip.
 */

import { PROTOCOLS } from '../../lib/live-rates';
import { Link } from '../../lib/router';
import { roundUp } from '../../lib/chart-scale';
import type { Bar, Measure } from './traffic-bars';

const WIDTH = 600;
const HEIGHT = 120;

export function TrafficBarsChart({
  bars,
  measure,
  label,
  describe,
}: {
  bars: readonly Bar[];
  measure: Measure;
  label: string;
  /** The bar's label: its time and figures. */
  describe: (bar: Bar) => string;
}) {
  const top = roundUp(Math.max(0, ...bars.map((b) => b.total[measure])));
  const slot = WIDTH / Math.max(1, bars.length);
  const gap = slot > 4 ? 1 : 0;
  const h = (v: number): number => (v / top) * HEIGHT;
  return (
    <svg
      className="chart chart-bars"
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      preserveAspectRatio="none"
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
      {bars.map((bar, i) => {
        const x = i * slot;
        const text = describe(bar);
        let y = HEIGHT;
        return (
          <Link
            key={bar.start}
            to={`/flows?from=${bar.start}&to=${bar.end}`}
            aria-label={`${text}: open its flows`}
          >
            <title>{text}</title>
            {/* The whole slot takes the click, not only the (maybe tiny) bar. */}
            <rect className="bar-hit" x={x} y={0} width={slot} height={HEIGHT} />
            {bar.parts === null ? (
              <rect
                className="bar proto-all"
                x={x + gap / 2}
                y={HEIGHT - h(bar.total[measure])}
                width={slot - gap}
                height={h(bar.total[measure])}
              />
            ) : (
              PROTOCOLS.map((p) => {
                const height = h(bar.parts![p][measure]);
                y -= height;
                return (
                  <rect
                    key={p}
                    className={`bar proto-${p}`}
                    x={x + gap / 2}
                    y={y}
                    width={slot - gap}
                    height={height}
                  />
                );
              })
            )}
          </Link>
        );
      })}
    </svg>
  );
}
