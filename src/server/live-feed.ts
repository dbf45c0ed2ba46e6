/**
 * What the API streams to open dashboards: once a second the rates of the traffic the pipeline
 * finished (flows, packets and bytes of the flows that ended in that second) and the live view of
 * the packets seen in that second, each alert when it is raised or grows, and the host's health
 * at each sample. Subscribers are bounded; a slow one never holds the pipeline up, since
 * publishing only counts and calls the subscribers' non-blocking writers.
 */

import type { Alert } from '../alerts/alert.js';
import type { FlowRow } from '../store/flow-repository.js';
import type { LiveSecond } from '../live/live-stats.js';
import type { CaptureStatus } from '../live/pipeline-messages.js';
import type { HostSample } from '../system/host-sample.js';

export type LiveEvent =
  | { type: 'rates'; at: number; flowsPerSecond: number; packetsPerSecond: number; bytesPerSecond: number }
  | { type: 'alert'; alert: Alert }
  /** Each second of live capture or replay: packet rates, protocol mix, top talkers, capture health. */
  | { type: 'live'; live: LiveSecond; capture: CaptureStatus[] }
  /** Each sample of the host's health (every system.intervalSeconds). */
  | { type: 'health'; sample: HostSample };

export type LiveSubscriber = (event: LiveEvent) => void;

/** Open streams at most: each one costs a socket and a little work per event. */
export const MAX_SUBSCRIBERS = 200;

export class LiveFeed {
  private readonly subscribers = new Set<LiveSubscriber>();
  private flows = 0;
  private packets = 0;
  private bytes = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {
    this.timer = setInterval(() => {
      this.emit({
        type: 'rates',
        at: this.now(),
        flowsPerSecond: this.flows,
        packetsPerSecond: this.packets,
        bytesPerSecond: this.bytes,
      });
      this.flows = this.packets = this.bytes = 0;
    }, 1000);
    this.timer.unref();
  }

  countFlow(
    flow: Pick<FlowRow, 'packetsToServer' | 'packetsToClient' | 'bytesToServer' | 'bytesToClient'>,
  ): void {
    this.flows++;
    this.packets += flow.packetsToServer + flow.packetsToClient;
    this.bytes += flow.bytesToServer + flow.bytesToClient;
  }

  publishAlert(alert: Alert): void {
    this.emit({ type: 'alert', alert });
  }

  publishLive(live: LiveSecond, capture: CaptureStatus[]): void {
    this.emit({ type: 'live', live, capture });
  }

  publishHealth(sample: HostSample): void {
    this.emit({ type: 'health', sample });
  }

  /** Adds a subscriber; returns its unsubscribe function, or null when the feed is full. */
  subscribe(subscriber: LiveSubscriber): (() => void) | null {
    if (this.subscribers.size >= MAX_SUBSCRIBERS) return null;
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  close(): void {
    clearInterval(this.timer);
    this.subscribers.clear();
  }

  private emit(event: LiveEvent): void {
    for (const s of this.subscribers) s(event);
  }
}
