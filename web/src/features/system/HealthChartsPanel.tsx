/**
 * The host's health over the chosen range (15 min to 7 days), one small chart a measure: CPU
 * (average and peak), memory and swap, load, network, disk I/O and the fullest file system. Full
 * resolution while the samples reach back that far, minute rollups beyond.
 */

import { ApiError } from '../../api/api-client';
import { LineChart } from '../../components/LineChart';
import { Panel, PanelEmpty, PanelError, PanelLoading, StaleBadge } from '../../components/Panel';
import { formatTimestamp } from '../../lib/format';
import { useNow } from '../../lib/use-now';
import { useQueryParams } from '../../lib/router';
import { healthWindow, readHealthRange, stepText, HEALTH_RANGES } from './health-range';
import { HealthRangePicker } from './HealthRangePicker';
import { formatByteRate, formatLoad, formatPercent, peakOf } from './system-format';
import type { HealthHistory, HealthPoint } from './system-types';
import { useHealthHistory } from './use-system';

interface ChartSpec {
  title: string;
  value: (p: HealthPoint) => number;
  /** A second line and what the two are called; absent for a single line. */
  second?: { value: (p: HealthPoint) => number; names: [string, string] };
  /** 100 for percentages; otherwise the scale follows the values. */
  max?: number;
  /** The figure beside the title: the range's peak of the first line (or of the second, a peak). */
  peak: (p: HealthPoint) => number;
  format: (v: number) => string;
}

const CHARTS: ChartSpec[] = [
  {
    title: 'CPU',
    value: (p) => p.cpu,
    second: { value: (p) => p.cpuMax, names: ['average', 'peak'] },
    max: 100,
    peak: (p) => p.cpuMax,
    format: formatPercent,
  },
  {
    title: 'Memory and swap',
    value: (p) => p.memory,
    second: { value: (p) => p.swap, names: ['memory', 'swap'] },
    max: 100,
    peak: (p) => p.memoryMax,
    format: formatPercent,
  },
  { title: 'Load (1 min)', value: (p) => p.load1, peak: (p) => p.load1, format: formatLoad },
  {
    title: 'Network',
    value: (p) => p.netRxBytesPerSecond,
    second: { value: (p) => p.netTxBytesPerSecond, names: ['received', 'sent'] },
    peak: (p) => Math.max(p.netRxBytesPerSecond, p.netTxBytesPerSecond),
    format: formatByteRate,
  },
  {
    title: 'Disk I/O',
    value: (p) => p.diskReadBytesPerSecond,
    second: { value: (p) => p.diskWriteBytesPerSecond, names: ['read', 'written'] },
    peak: (p) => Math.max(p.diskReadBytesPerSecond, p.diskWriteBytesPerSecond),
    format: formatByteRate,
  },
  { title: 'Fullest disk', value: (p) => p.disk, max: 100, peak: (p) => p.disk, format: formatPercent },
];

export function HealthChartsPanel() {
  const [query, setQuery] = useQueryParams();
  const key = readHealthRange(query);
  const now = useNow(10_000);
  const history = useHealthHistory(healthWindow(key, now));
  const label = HEALTH_RANGES.find((r) => r.key === key)?.label ?? key;
  return (
    <Panel
      title="History"
      aside={
        <div className="system-chart-tools">
          {history.isPlaceholderData && (
            <span className="badge" role="status">
              Loading…
            </span>
          )}
          {history.data && history.isError && <StaleBadge why={history.error.message} />}
          <HealthRangePicker
            value={key}
            onChange={(next) => {
              setQuery({ range: next });
            }}
          />
        </div>
      }
    >
      {history.data === undefined ? (
        history.isError ? (
          history.error instanceof ApiError && history.error.status === 404 ? (
            <PanelEmpty title="This server does not watch its host">
              So it keeps no health history. Set <code>system.enabled: true</code> in the configuration and
              restart <code>flowtrack serve</code>.
            </PanelEmpty>
          ) : (
            <PanelError message={history.error.message} onRetry={() => void history.refetch()} />
          )
        ) : (
          <PanelLoading lines={4} />
        )
      ) : history.data.points.length === 0 ? (
        <PanelEmpty title={`No samples in the last ${label}`}>
          The host is sampled every few seconds while FlowTrack runs; the charts fill in as samples are kept.
        </PanelEmpty>
      ) : (
        <HealthCharts history={history.data} />
      )}
    </Panel>
  );
}

function HealthCharts({ history }: { history: HealthHistory }) {
  const { points, from, to } = history;
  return (
    <>
      <div className="history system-charts" data-testid="system-charts">
        {CHARTS.map((chart) => {
          const peak = peakOf(points, chart.peak);
          return (
            <figure key={chart.title} className="rate">
              <figcaption>
                <span className="rate-label">{chart.title}</span>
                <span className="rate-value" title="The highest in the range">
                  {peak === null ? '–' : chart.format(peak)}
                </span>
              </figcaption>
              <LineChart
                samples={points}
                value={chart.value}
                {...(chart.second && { second: chart.second.value })}
                {...(chart.max !== undefined && { max: chart.max })}
                windowMs={to - from}
                end={to}
                label={`${chart.title} from ${formatTimestamp(from, 'minute')} to ${formatTimestamp(to, 'minute')}`}
              />
              {chart.second && (
                <ul className="legend system-legend">
                  <li>
                    <span className="legend-swatch series-first" aria-hidden="true" />
                    {chart.second.names[0]}
                  </li>
                  <li>
                    <span className="legend-swatch series-second" aria-hidden="true" />
                    {chart.second.names[1]}
                  </li>
                </ul>
              )}
            </figure>
          );
        })}
      </div>
      <p className="panel-note">
        From {formatTimestamp(from, 'minute')} to {formatTimestamp(to, 'minute')}, one point each{' '}
        {stepText(history.stepMs)}
        {history.source === 'minutes'
          ? ', from minute summaries (full-resolution samples are kept for a shorter time).'
          : '.'}{' '}
        The figure beside each title is the highest in the range.
      </p>
    </>
  );
}
