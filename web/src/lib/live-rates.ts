/**
 * The last minute of traffic rates from /api/stream, one sample a second in a fixed ring buffer.
 * Two events carry rates: `live` (packets seen each second by live capture or a replay: the
 * real-time figure) and `rates` (flows that ended that second, sent whether or not anything
 * captures). `live` wins while it comes; `rates` fills in when nothing captures. Pure: time is
 * the server's `at` of each event.
 */

import { RingBuffer } from './ring-buffer';
import type { ServerSentEvent } from './sse-parser';

export interface RateSample {
  /** Server time (epoch ms) at the end of the second. */
  at: number;
  packetsPerSecond: number;
  bytesPerSecond: number;
  flowsPerSecond: number;
}

/** 'capture': packets as they are seen; 'flows': traffic of the flows that ended. */
export type RateSource = 'capture' | 'flows';

/** Samples kept: the chart's minute. */
export const RATE_WINDOW_SECONDS = 60;
/** `rates` events are ignored this long after a `live` one. */
const LIVE_QUIET_MS = 2500;

export class LiveRates {
  readonly samples = new RingBuffer<RateSample>(RATE_WINDOW_SECONDS);
  private lastLiveAt = Number.NEGATIVE_INFINITY;
  private currentSource: RateSource | null = null;

  /** Where the samples come from, or null before the first. */
  get source(): RateSource | null {
    return this.currentSource;
  }

  /** Takes one event of the stream; true when it added a sample. */
  accept(event: ServerSentEvent): boolean {
    if (event.type !== 'live' && event.type !== 'rates') return false;
    const body = parseJson(event.data);
    if (event.type === 'live') {
      const sample = toSample(isRecord(body) ? body.live : undefined);
      if (!sample) return false;
      this.lastLiveAt = sample.at;
      this.add('capture', sample);
      return true;
    }
    const sample = toSample(body);
    if (!sample || sample.at - this.lastLiveAt < LIVE_QUIET_MS) return false;
    this.add('flows', sample);
    return true;
  }

  private add(source: RateSource, sample: RateSample): void {
    // The two measure different things: a chart that mixed them would show a false jump.
    if (this.currentSource !== source) this.samples.clear();
    this.currentSource = source;
    this.samples.push(sample);
  }
}

function toSample(value: unknown): RateSample | null {
  if (!isRecord(value)) return null;
  const { at, packetsPerSecond, bytesPerSecond, flowsPerSecond } = value;
  if (![at, packetsPerSecond, bytesPerSecond, flowsPerSecond].every(isFiniteNumber)) return null;
  return {
    at: at as number,
    packetsPerSecond: packetsPerSecond as number,
    bytesPerSecond: bytesPerSecond as number,
    flowsPerSecond: flowsPerSecond as number,
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
