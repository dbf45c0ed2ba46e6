/**
 * The first page after sign-in. Live: the stream's last minute (rates stacked by protocol, top
 * talkers), open alerts, capture health. A window (15 min to 7 days, or custom): the rollups'
 * traffic as bars that open their flows, the window's top talkers and alerts. The range is in the
 * URL, so a view can be bookmarked and shared.
 */

import { memo, useMemo } from 'react';
import { useApiQuery } from '../../api/queries';
import { talkersOver } from '../../lib/live-rates';
import { useLocation } from '../../lib/router';
import { useNow } from '../../lib/use-now';
import { AlertsPanel } from './AlertsPanel';
import { CapturePanel } from './CapturePanel';
import { HistoryPanel, trafficPath } from './HistoryPanel';
import { RatesPanel } from './RatesPanel';
import { resolveRange, type TimeRange } from './time-range';
import { TimeRangePicker } from './TimeRangePicker';
import type { TrafficAnswer } from './traffic-types';
import { TopPortsPanel } from './TopPortsPanel';
import { TopTalkersPanel } from './TopTalkersPanel';
import { useLiveStream } from './use-live-stream';

export function OverviewPage() {
  const { query } = useLocation();
  // Relative windows move on with the clock: their end is the next whole minute. One object per
  // URL and clock tick, so the window's panels (memo) skip the live feed's re-render each second.
  const now = useNow(15_000);
  const range = useMemo(() => resolveRange(query, now), [query, now]);
  const stream = useLiveStream();
  return (
    <div className="overview">
      <div className="overview-bar">
        <h1>Overview</h1>
        <TimeRangePicker range={range} />
      </div>
      {range.kind === 'window' ? (
        <>
          <HistoryPanel window={range} />
          <WindowTalkers window={range} />
        </>
      ) : (
        <>
          <RatesPanel stream={stream} />
          <TopTalkersPanel rows={stream.samples.length === 0 ? null : talkersOver(stream.samples)} live />
        </>
      )}
      <AlertsPanel refreshKey={stream.alertTick} range={range} liveAlerts={stream.liveAlerts} />
      <WindowPorts window={range.kind === 'window' ? range : lastQuarterHour(now)} />
      <CapturePanel />
    </div>
  );
}

const WindowTalkers = memo(function WindowTalkers({
  window,
}: {
  window: Extract<TimeRange, { kind: 'window' }>;
}) {
  // The same request as the traffic chart's: one fetch serves both.
  const traffic = useApiQuery<TrafficAnswer>(trafficPath(window), 15_000);
  return (
    <TopTalkersPanel
      rows={
        traffic.data?.topTalkers.map((t) => ({ address: t.host, bytes: t.bytes, packets: t.packets })) ?? null
      }
      live={false}
    />
  );
});

/** Live, the ports panel shows the last 15 minutes of ended flows: ports are not in the live feed. */
function lastQuarterHour(now: number): Extract<TimeRange, { kind: 'window' }> {
  const to = Math.ceil(now / 60_000) * 60_000;
  return { kind: 'window', key: '15m', from: to - 900_000, to, bucketSeconds: 900 };
}

const WindowPorts = memo(function WindowPorts({
  window,
}: {
  window: Extract<TimeRange, { kind: 'window' }>;
}) {
  const traffic = useApiQuery<TrafficAnswer>(trafficPath(window), 15_000);
  return <TopPortsPanel rows={traffic.data?.topPorts ?? null} />;
});
