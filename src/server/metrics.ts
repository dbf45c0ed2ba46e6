/**
 * The server's figures in Prometheus text format, for `GET /metrics`: capture (packets, drops,
 * restarts per interface), the last second's rates, the store writer (rows written, dropped,
 * failed, queued), alerts seen, notifications (sent, retried, failed, waiting), API latency per
 * route, and the Node process (prom-client's defaults). Most figures are read from their owners
 * when Prometheus scrapes, so nothing here runs on the packet path; only the API's latency is
 * observed as requests end. Label values are bounded: interfaces, routes as declared (never the
 * URL a client sent), alert types and severities from fixed lists.
 */

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Alert } from '../alerts/alert.js';
import type { CaptureStatus } from '../live/pipeline-messages.js';
import type { LiveSecond } from '../live/live-stats.js';

/** Where the figures come from, read at each scrape. */
export interface MetricsSources {
  capture: () => readonly CaptureStatus[];
  live: () => LiveSecond | null;
  writer: () => {
    queued: number;
    acknowledged: { flows: number; alerts: number };
    dropped: { flows: number; alerts: number };
    failed: { flows: number; alerts: number };
  };
  notifications: () => { enqueued: number; sent: number; retried: number; failed: number; digests: number };
  /** Deliveries waiting in the store's queue (read from the database at each scrape). */
  pendingDeliveries: () => Promise<number>;
}

export class ServerMetrics {
  readonly registry = new Registry();
  private readonly requestSeconds: Histogram<'method' | 'route' | 'status'>;
  private readonly alertUpdates: Counter<'type' | 'severity'>;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'flowtrack_' });

    const perInterface = (name: string, help: string, pick: (s: CaptureStatus) => number): void => {
      new Counter({
        name,
        help,
        labelNames: ['interface'],
        registers,
        collect() {
          this.reset();
          for (const s of sources.capture()) this.inc({ interface: s.interface }, pick(s));
        },
      });
    };
    perInterface(
      'flowtrack_capture_packets_total',
      'Packets read from the capture',
      (s) => s.counters.packets,
    );
    perInterface(
      'flowtrack_capture_kernel_dropped_total',
      'Packets the kernel dropped because the capture buffer was full',
      (s) => s.counters.kernelDropped,
    );
    perInterface(
      'flowtrack_capture_interface_dropped_total',
      'Packets the interface or its driver dropped',
      (s) => s.counters.interfaceDropped,
    );
    perInterface(
      'flowtrack_capture_restarts_total',
      'Times the capture process had to be started again',
      (s) => s.counters.restarts,
    );
    new Gauge({
      name: 'flowtrack_capture_up',
      help: '1 while the interface is being captured, else 0',
      labelNames: ['interface'],
      registers,
      collect() {
        this.reset();
        for (const s of sources.capture())
          this.set({ interface: s.interface }, s.state === 'running' ? 1 : 0);
      },
    });

    const live = (name: string, help: string, pick: (s: LiveSecond) => number): void => {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const second = sources.live();
          this.set(second === null ? 0 : pick(second));
        },
      });
    };
    live(
      'flowtrack_live_packets_per_second',
      'Packets a second over the last second',
      (s) => s.packetsPerSecond,
    );
    live('flowtrack_live_bytes_per_second', 'Bytes a second over the last second', (s) => s.bytesPerSecond);
    live(
      'flowtrack_live_flows_per_second',
      'New flows a second over the last second',
      (s) => s.flowsPerSecond,
    );

    const rows = (
      name: string,
      help: string,
      pick: (w: ReturnType<MetricsSources['writer']>) => { flows: number; alerts: number },
    ): void => {
      new Counter({
        name,
        help,
        labelNames: ['kind'],
        registers,
        collect() {
          this.reset();
          const counts = pick(sources.writer());
          this.inc({ kind: 'flows' }, counts.flows);
          this.inc({ kind: 'alerts' }, counts.alerts);
        },
      });
    };
    rows('flowtrack_store_rows_written_total', 'Rows committed to the database', (w) => w.acknowledged);
    rows(
      'flowtrack_store_rows_dropped_total',
      'Rows dropped because the write queue was full',
      (w) => w.dropped,
    );
    rows('flowtrack_store_rows_failed_total', 'Rows the database refused', (w) => w.failed);
    new Gauge({
      name: 'flowtrack_store_queue_depth',
      help: 'Rows waiting to be written to the database',
      registers,
      collect() {
        this.set(sources.writer().queued);
      },
    });

    new Counter({
      name: 'flowtrack_notifications_total',
      help: 'Notifications by outcome since the start (queued, sent, retried, failed, digests)',
      labelNames: ['outcome'],
      registers,
      collect() {
        this.reset();
        const n = sources.notifications();
        this.inc({ outcome: 'queued' }, n.enqueued);
        this.inc({ outcome: 'sent' }, n.sent);
        this.inc({ outcome: 'retried' }, n.retried);
        this.inc({ outcome: 'failed' }, n.failed);
        this.inc({ outcome: 'digest' }, n.digests);
      },
    });
    new Gauge({
      name: 'flowtrack_notification_queue_depth',
      help: 'Notifications waiting to be delivered (the store’s queue)',
      registers,
      async collect() {
        this.set(await sources.pendingDeliveries());
      },
    });

    this.alertUpdates = new Counter({
      name: 'flowtrack_alert_updates_total',
      help: 'Alerts raised or updated, by type and severity',
      labelNames: ['type', 'severity'],
      registers,
    });
    this.requestSeconds = new Histogram({
      name: 'flowtrack_api_request_duration_seconds',
      help: 'API requests by method, route (as declared) and status, and how long they took',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
  }

  /** An alert raised or updated (any source). */
  countAlert(alert: Pick<Alert, 'type' | 'severity'>): void {
    this.alertUpdates.inc({ type: alert.type, severity: alert.severity });
  }

  /** An API request that ended: `route` as declared (e.g. /api/anomalies/:id), never the raw URL. */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.requestSeconds.observe({ method, route, status: String(status) }, seconds);
  }

  /** The text Prometheus scrapes, and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
