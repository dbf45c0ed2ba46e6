/**
 * The first page after sign-in. Live: the stream's last minute (rates stacked by protocol, top
 * talkers), open alerts, capture health. A window (15 min to 7 days, or custom): the rollups'
 * traffic as bars that open their flows, the window's top talkers and alerts. The range is in the
 * URL, so a view can be bookmarked and shared.
 */

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
import { TopTalkersPanel } from './TopTalkersPanel';
import { useLiveStream } from './use-live-stream';

export function OverviewPage() {
  const { query } = useLocation();
  // Relative windows move on with the clock: their end is the next whole minute.
  const range = resolveRange(query, useNow(15_000));
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
      <CapturePanel />
    </div>
  );
}

function WindowTalkers({ window }: { window: Extract<TimeRange, { kind: 'window' }> }) {
  // The same request as the traffic chart's: one fetch serves both.
  const traffic = useApiQuery<TrafficAnswer>(trafficPath(window, { top: 10 }), 15_000);
  return (
    <TopTalkersPanel
      rows={
        traffic.data?.topTalkers.map((t) => ({ address: t.host, bytes: t.bytes, packets: t.packets })) ?? null
      }
      live={false}
    />
  );
}
