/** The first page after sign-in: live rates, open alerts by severity, and the health of capture. */

import { AlertsPanel } from './AlertsPanel';
import { CapturePanel } from './CapturePanel';
import { RatesPanel } from './RatesPanel';
import { useLiveStream } from './use-live-stream';

export function OverviewPage() {
  const stream = useLiveStream();
  return (
    <div className="overview">
      <h1 className="visually-hidden">Overview</h1>
      <RatesPanel stream={stream} />
      <AlertsPanel refreshKey={stream.alertTick} />
      <CapturePanel />
    </div>
  );
}
