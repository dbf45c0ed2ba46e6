/**
 * The server's figures in Prometheus text format, for `GET /metrics`: capture (packets, drops,
 * restarts per interface), the last second's rates, the store writer (rows written, dropped,
 * failed, queued), alerts seen, notifications (sent, retried, failed, waiting), API latency per
 * route, the hub's, a sensor's and the NetFlow collector's counts where this server is one, and
 * the Node process (prom-client's defaults). Most figures are read from their owners
 * when Prometheus scrapes, so nothing here runs on the packet path; only the API's latency is
 * observed as requests end. Label values are bounded: interfaces, routes as declared (never the
 * URL a client sent), alert types and severities from fixed lists.
 */

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Alert } from '../alerts/alert.js';
import type { CaptureStatus } from '../live/pipeline-messages.js';
import type { LiveSecond } from '../live/live-stats.js';
import type { CollectorStats } from '../capture/flow-collector/flow-collector.js';
import type { SensorLinkStats } from '../bus/sensor-link.js';
import type { HubStats } from './hub-service.js';

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
  /** Given when this server is the hub of sensors; null until it has started. */
  hub?: () => HubStats | null;
  /** Given when this server runs as a sensor. */
  sensor?: () => SensorLinkStats | null;
  /** Given when the NetFlow/IPFIX collector is enabled; null until it listens. */
  collector?: () => CollectorStats | null;
}

/** A figure read from a part's stats at each scrape: none while the part is absent. */
type FigureOf<T> = (stats: T) => number;

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

    const { hub, sensor, collector } = sources;
    if (hub) {
      this.partFigures(hub, [
        [
          'flowtrack_hub_connected',
          'gauge',
          '1 while the hub is connected to the bus, else 0',
          (h) => +h.connected,
        ],
        ['flowtrack_hub_batches_total', 'counter', "Sensors' flow batches stored", (h) => h.batches],
        [
          'flowtrack_hub_duplicate_batches_total',
          'counter',
          'Batches delivered again and not stored twice',
          (h) => h.duplicates,
        ],
        ['flowtrack_hub_flows_total', 'counter', "Sensors' flows stored", (h) => h.flows],
        ['flowtrack_hub_alerts_total', 'counter', "Sensors' alerts stored", (h) => h.alerts],
        [
          'flowtrack_hub_block_orders_total',
          'counter',
          'Block orders published to the sensors',
          (h) => h.blockOrders,
        ],
        [
          'flowtrack_hub_pending_block_orders',
          'gauge',
          'Block orders waiting for the bus',
          (h) => h.pendingBlockOrders,
        ],
      ]);
    }
    if (sensor) {
      this.partFigures(sensor, [
        [
          'flowtrack_sensor_connected',
          'gauge',
          '1 while the sensor is connected to the bus, else 0',
          (l) => +l.connected,
        ],
        [
          'flowtrack_sensor_published_messages_total',
          'counter',
          'Messages the bus has taken from this sensor',
          (l) => l.publishedMessages,
        ],
        [
          'flowtrack_sensor_buffered_messages',
          'gauge',
          'Messages kept on disk until the bus takes them',
          (l) => l.bufferedMessages,
        ],
        [
          'flowtrack_sensor_buffered_bytes',
          'gauge',
          'Bytes of the messages kept on disk',
          (l) => l.bufferedBytes,
        ],
        [
          'flowtrack_sensor_dropped_messages_total',
          'counter',
          'Messages the full disk buffer let go',
          (l) => l.droppedMessages,
        ],
        [
          'flowtrack_sensor_blocks_applied_total',
          'counter',
          "The hub's block orders applied here",
          (l) => l.blocksApplied,
        ],
      ]);
    }
    if (collector) {
      this.partFigures(collector, [
        [
          'flowtrack_collector_datagrams_total',
          'counter',
          'NetFlow/IPFIX datagrams received',
          (c) => c.datagrams,
        ],
        [
          'flowtrack_collector_not_allowed_total',
          'counter',
          'Datagrams from exporters not allowed, dropped',
          (c) => c.notAllowed,
        ],
        [
          'flowtrack_collector_malformed_total',
          'counter',
          'Datagrams that could not be read, whole or in part',
          (c) => c.malformed,
        ],
        ['flowtrack_collector_records_total', 'counter', 'Flow data records decoded', (c) => c.records],
        ['flowtrack_collector_flows_total', 'counter', 'Flows taken from the records', (c) => c.flows],
        [
          'flowtrack_collector_unknown_template_sets_total',
          'counter',
          'Data sets whose template had not arrived',
          (c) => c.unknownTemplateSets,
        ],
        ['flowtrack_collector_exporters', 'gauge', 'Exporters heard from', (c) => c.exporters.length],
      ]);
    }

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

  /** Registers figures read from a part's stats at each scrape (no sample while it is absent). */
  private partFigures<T>(
    source: () => T | null,
    figures: readonly (readonly [name: string, type: 'counter' | 'gauge', help: string, pick: FigureOf<T>])[],
  ): void {
    const registers = [this.registry];
    for (const [name, type, help, pick] of figures) {
      // Read as gauges are: the part keeps the count, the scrape only reports it.
      const Kind = type === 'counter' ? Counter : Gauge;
      new Kind({
        name,
        help,
        registers,
        collect(this: Counter | Gauge) {
          this.reset();
          const stats = source();
          if (stats === null) return;
          if (this instanceof Counter) this.inc(pick(stats));
          else this.set(pick(stats));
        },
      });
    }
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
