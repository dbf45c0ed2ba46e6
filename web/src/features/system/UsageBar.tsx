/**
 * A use as a thin bar (SVG, as the overview's bars: the page's Content-Security-Policy allows no
 * inline styles), in the warning colour from 90%. Decorative: the figure is written beside it.
 */

import { isNearFull } from './system-format';

export function UsageBar({ percent }: { percent: number }) {
  const width = Math.min(100, Math.max(0, Number.isFinite(percent) ? percent : 0));
  return (
    <svg
      className={isNearFull(percent) ? 'system-bar system-bar-warn' : 'system-bar'}
      viewBox="0 0 100 6"
      preserveAspectRatio="none"
      aria-hidden="true"
    >
      <rect className="system-bar-track" width="100" height="6" rx="3" />
      <rect className="system-bar-fill" width={width} height="6" rx="3" />
    </svg>
  );
}
