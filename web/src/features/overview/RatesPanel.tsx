/**
 * Packets, bits and flows per second now, each with its last minute: packets and bits stacked by
 * protocol when the figures come from capture, one line when they come from ended flows.
 */

import { formatBitRate, formatSi } from '../../lib/format';
import { PROTOCOLS, RATE_WINDOW_SECONDS, type RateSample, type Rates } from '../../lib/live-rates';
import { Panel, PanelEmpty, PanelLoading } from '../../components/Panel';
import { LineChart } from '../../components/LineChart';
import { ProtocolLegend } from './ProtocolLegend';
import { StackedAreaChart } from './StackedAreaChart';
import type { LiveStream } from './use-live-stream';

interface Series {
  label: string;
  value: (s: RateSample) => number;
  /** The same measure of one protocol; absent for series not split by protocol. */
  part?: (r: Rates) => number;
  format: (v: number) => string;
}

const SERIES: Series[] = [
  {
    label: 'Packets',
    value: (s) => s.packetsPerSecond,
    part: (r) => r.packetsPerSecond,
    format: (v) => `${formatSi(v)} /s`,
  },
  { label: 'Traffic', value: (s) => s.bytesPerSecond, part: (r) => r.bytesPerSecond, format: formatBitRate },
  { label: 'New flows', value: (s) => s.flowsPerSecond, format: (v) => `${formatSi(v)} /s` },
];

export function RatesPanel({ stream }: { stream: LiveStream }) {
  const { samples, source, status, problem } = stream;
  const newest = samples.at(-1);
  const byProtocol = samples.length > 0 && samples.every((s) => s.protocols !== null);
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
                {byProtocol && series.part ? (
                  <StackedAreaChart
                    points={samples.map((s) => ({
                      at: s.at,
                      values: PROTOCOLS.map((p) => series.part!(s.protocols![p])),
                    }))}
                    layers={PROTOCOLS.map((p) => `proto-${p}`)}
                    windowMs={RATE_WINDOW_SECONDS * 1000}
                    label={`${series.label} over the last minute, by protocol`}
                  />
                ) : (
                  <LineChart
                    samples={samples}
                    value={series.value}
                    windowMs={RATE_WINDOW_SECONDS * 1000}
                    label={`${series.label} over the last minute`}
                  />
                )}
              </figure>
            ))}
          </div>
          {byProtocol && <ProtocolLegend />}
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
