/**
 * Joins the traffic of a window (all protocols) with its series by protocol (GET /api/traffic's
 * `byProtocol`) into one bar a bucket, every bucket of the window present. "Other" is what TCP,
 * UDP and ICMP leave of the total.
 */

import type { Protocol } from '../../lib/live-rates';
import type { TrafficBucket } from './traffic-types';

export type Measure = 'packets' | 'bytes' | 'flows';

export interface Bar {
  start: number;
  end: number;
  total: Record<Measure, number>;
  /** Per protocol, in PROTOCOLS order; null when the parts are not (yet) known. */
  parts: Record<Protocol, Record<Measure, number>> | null;
}

const ZERO: Record<Measure, number> = { packets: 0, bytes: 0, flows: 0 };

export function toBars(
  window: { from: number; to: number; bucketSeconds: number },
  total: readonly TrafficBucket[],
  /** Each protocol's series (a protocol left out had no traffic); undefined: not known. */
  parts: Readonly<Record<string, readonly TrafficBucket[]>> | undefined,
): Bar[] {
  const bucketMs = window.bucketSeconds * 1000;
  const first = Math.floor(window.from / bucketMs) * bucketMs;
  const index = (series: readonly TrafficBucket[]) => new Map(series.map((b) => [b.start, b]));
  const totals = index(total);
  const known = parts !== undefined;
  const byProtocol = {
    tcp: index(parts?.tcp ?? []),
    udp: index(parts?.udp ?? []),
    icmp: index(parts?.icmp ?? []),
  };
  const pick = (b: TrafficBucket | undefined): Record<Measure, number> =>
    b === undefined ? { ...ZERO } : { packets: b.packets, bytes: b.bytes, flows: b.flows };
  const bars: Bar[] = [];
  for (let start = first; start < window.to; start += bucketMs) {
    const all = pick(totals.get(start));
    let barParts: Bar['parts'] = null;
    if (known) {
      const tcp = pick(byProtocol.tcp.get(start));
      const udp = pick(byProtocol.udp.get(start));
      const icmp = pick(byProtocol.icmp.get(start));
      const other = { ...ZERO };
      for (const m of ['packets', 'bytes', 'flows'] as const)
        other[m] = Math.max(0, all[m] - tcp[m] - udp[m] - icmp[m]);
      barParts = { tcp, udp, icmp, other };
    }
    bars.push({ start, end: start + bucketMs, total: all, parts: barParts });
  }
  return bars;
}
