/**
 * The last minute of traffic rates from /api/stream, one sample a second in a fixed ring buffer.
 * Two events carry rates: `live` (packets seen each second by live capture or a replay: the
 * real-time figure) and `rates` (flows that ended that second, sent whether or not anything
 * captures). `live` wins while it comes; `rates` fills in when nothing captures. Pure: time is
 * the server's `at` of each event.
 */

import { RingBuffer } from './ring-buffer';
import type { ServerSentEvent } from './sse-parser';

export const PROTOCOLS = ['tcp', 'udp', 'icmp', 'other'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export interface Rates {
  packetsPerSecond: number;
  bytesPerSecond: number;
}

export interface Talker {
  address: string;
  bytes: number;
  packets: number;
}

export interface RateSample extends Rates {
  /** Server time (epoch ms) at the end of the second. */
  at: number;
  flowsPerSecond: number;
  /** The protocol mix of the second (live capture only). */
  protocols: Record<Protocol, Rates> | null;
  /** The busiest hosts of the second, bytes and packets per second (live capture only). */
  talkers: Talker[];
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
    protocols: toProtocols(value.protocols),
    talkers: Array.isArray(value.topTalkers) ? value.topTalkers.filter(isTalker) : [],
  };
}

function toProtocols(value: unknown): Record<Protocol, Rates> | null {
  if (!isRecord(value)) return null;
  const mix = {} as Record<Protocol, Rates>;
  for (const protocol of PROTOCOLS) {
    const rates = value[protocol];
    if (!isRecord(rates) || !isFiniteNumber(rates.packetsPerSecond) || !isFiniteNumber(rates.bytesPerSecond))
      return null;
    mix[protocol] = { packetsPerSecond: rates.packetsPerSecond, bytesPerSecond: rates.bytesPerSecond };
  }
  return mix;
}

function isTalker(value: unknown): value is Talker {
  return (
    isRecord(value) &&
    typeof value.address === 'string' &&
    isFiniteNumber(value.bytes) &&
    isFiniteNumber(value.packets)
  );
}

/**
 * The busiest hosts over `samples` (the last minute): each second's top talkers summed, largest
 * byte count first. A host that was busy in a second but not among its top is not counted there.
 */
export function talkersOver(samples: readonly RateSample[], top = 10): Talker[] {
  const totals = new Map<string, Talker>();
  for (const sample of samples) {
    for (const t of sample.talkers) {
      const sum = totals.get(t.address) ?? { address: t.address, bytes: 0, packets: 0 };
      sum.bytes += t.bytes;
      sum.packets += t.packets;
      totals.set(t.address, sum);
    }
  }
  return [...totals.values()].sort((a, b) => b.bytes - a.bytes).slice(0, top);
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
