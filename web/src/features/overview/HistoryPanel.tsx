/**
 * A window's traffic from the per-minute rollups: packets, bytes and new flows per bucket, stacked
 * by protocol (one request with split=protocol; other is the rest). Each bar opens its flows.
 */

import { memo, useMemo } from 'react';
import { queryString, useApiQuery } from '../../api/queries';
import { Panel, PanelError, PanelLoading, StaleBadge } from '../../components/Panel';
import { formatBytes, formatCount } from '../../lib/format';
import { ProtocolLegend } from './ProtocolLegend';
import type { TimeRange } from './time-range';
import { toBars, type Bar, type Measure } from './traffic-bars';
import { TrafficBarsChart } from './TrafficBarsChart';
import type { TrafficAnswer } from './traffic-types';

type Window = Extract<TimeRange, { kind: 'window' }>;

const REFRESH_MS = 15_000;

// The browser's locale and zone; made once (a formatter per label cost 190-390 ms a page load).
const TIME = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const DAY_AND_TIME = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});

/** The window's one traffic request: the chart, the top talkers and the top ports share it. */
export function trafficPath(window: Window): string {
  return `/api/traffic${queryString({ from: window.from, to: window.to, bucketSeconds: window.bucketSeconds, top: 10, split: 'protocol' })}`;
}

const CHARTS: { measure: Measure; title: string; format: (v: number) => string }[] = [
  { measure: 'packets', title: 'Packets', format: (v) => `${formatCount(v)} packets` },
  { measure: 'bytes', title: 'Bytes', format: formatBytes },
  { measure: 'flows', title: 'New flows', format: (v) => `${formatCount(v)} flows` },
];

export const HistoryPanel = memo(function HistoryPanel({ window }: { window: Window }) {
  const total = useApiQuery<TrafficAnswer>(trafficPath(window), REFRESH_MS);
  const bars = useMemo(
    () => (total.data === undefined ? [] : toBars(window, total.data.series, total.data.byProtocol)),
    [window, total.data],
  );
  // One label a bar, shared by the three charts.
  const labels = useMemo(() => {
    const clock = window.to - window.from > 86_400_000 ? DAY_AND_TIME : TIME;
    return new Map(
      bars.map((bar) => [
        bar.start,
        `${clock.format(bar.start)}–${clock.format(bar.end)}, ${formatCount(bar.total.packets)} packets, ${formatBytes(bar.total.bytes)}, ${formatCount(bar.total.flows)} flows`,
      ]),
    );
  }, [bars, window]);
  const describe = (bar: Bar): string => labels.get(bar.start) ?? '';
  return (
    <Panel title="Traffic" aside={total.data && total.error && <StaleBadge why={total.error.message} />}>
      {total.data === undefined ? (
        total.isError ? (
          <PanelError message={total.error.message} onRetry={() => void total.refetch()} />
        ) : (
          <PanelLoading lines={4} />
        )
      ) : (
        <>
          <div className="history">
            {CHARTS.map((chart) => {
              const sum = bars.reduce((n, b) => n + b.total[chart.measure], 0);
              return (
                <figure key={chart.measure} className="rate">
                  <figcaption>
                    <span className="rate-label">{chart.title}</span>
                    <span className="rate-value">{chart.format(sum)}</span>
                  </figcaption>
                  <TrafficBarsChart
                    bars={bars}
                    measure={chart.measure}
                    label={`${chart.title} per ${window.bucketSeconds / 60} min`}
                    describe={describe}
                  />
                </figure>
              );
            })}
          </div>
          <ProtocolLegend />
          <p className="panel-note">
            One bar per{' '}
            {window.bucketSeconds >= 3600
              ? `${window.bucketSeconds / 3600} h`
              : `${window.bucketSeconds / 60} min`}
            . Click a bar for its flows. A flow is counted once it ends (after a minute without packets, or
            when it closes), so the last minutes fill in as their flows end; Live shows them as they happen.
          </p>
        </>
      )}
    </Panel>
  );
});
