/** Packets, bits and flows per second now, each with its last minute. */

import { formatBitRate, formatSi } from '../../lib/format';
import { RATE_WINDOW_SECONDS, type RateSample } from '../../lib/live-rates';
import { Panel, PanelEmpty, PanelLoading } from '../../components/Panel';
import { LineChart } from './LineChart';
import type { LiveStream } from './use-live-stream';

const SERIES: { label: string; value: (s: RateSample) => number; format: (v: number) => string }[] = [
  { label: 'Packets', value: (s) => s.packetsPerSecond, format: (v) => `${formatSi(v)} /s` },
  { label: 'Traffic', value: (s) => s.bytesPerSecond, format: formatBitRate },
  { label: 'New flows', value: (s) => s.flowsPerSecond, format: (v) => `${formatSi(v)} /s` },
];

export function RatesPanel({ stream }: { stream: LiveStream }) {
  const { samples, source, status, problem } = stream;
  const newest = samples.at(-1);
  return (
    <Panel title="Live traffic" aside={<LinkBadge status={status} problem={problem} />}>
      {newest === undefined ? (
        status === 'reconnecting' ? (
          <PanelEmpty title="The live feed is not connected">{problem} — trying again.</PanelEmpty>
        ) : (
          <PanelLoading lines={3} />
        )
      ) : (
        <>
          <div className="rates">
            {SERIES.map((series) => (
              <figure key={series.label} className="rate">
                <figcaption>
                  <span className="rate-label">{series.label}</span>
                  <span className="rate-value">{series.format(series.value(newest))}</span>
                </figcaption>
                <LineChart
                  samples={samples}
                  value={series.value}
                  windowMs={RATE_WINDOW_SECONDS * 1000}
                  label={`${series.label} over the last minute`}
                />
              </figure>
            ))}
          </div>
          <p className="panel-note">
            {source === 'capture'
              ? 'As captured, each second of the last minute.'
              : 'Nothing is captured now: rates of the flows that ended, each second.'}
            {samples.every((s) => s.packetsPerSecond === 0) && ' No traffic in the last minute.'}
          </p>
        </>
      )}
    </Panel>
  );
}

function LinkBadge({ status, problem }: { status: LiveStream['status']; problem: string | null }) {
  const text = status === 'open' ? 'Live' : status === 'connecting' ? 'Connecting…' : 'Reconnecting…';
  return (
    <span className={`badge link-${status}`} title={problem ?? undefined}>
      {text}
    </span>
  );
}
