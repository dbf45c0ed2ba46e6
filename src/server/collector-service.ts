/**
 * Flow records from routers (NetFlow v5/v9, IPFIX) in the service: the collector's flows enter
 * the store and the live view like captured ones, named after their exporter
 * (`exporter:<address>`), and pass the flow-record detectors, whose alerts go where the
 * pipeline's go. Each exporter is kept as a sensor with its last contact and counts.
 */

import type { Logger } from 'pino';
import type { Alert } from '../alerts/alert.js';
import { AlertTracker } from '../alerts/alert-tracker.js';
import { FlowCollector, type CollectorStats } from '../capture/flow-collector/flow-collector.js';
import type { CollectedFlow } from '../capture/flow-collector/netflow-decoder.js';
import type { ServiceConfig } from '../config/service-config.js';
import { FlowRecordDetectors } from '../detect/flow-records/flow-record-detectors.js';
import type { IngestWriter } from '../store/store-writer.js';
import { describeError } from '../util/errors.js';
import type { LiveFeed } from './live-feed.js';
import type { StoreHolder } from './store-holder.js';

const CONTACT_EVERY_MS = 5000;
/** The collector's bound on the exporters it keeps (FlowCollector's default). */
const MAX_EXPORTERS = 1000;

export interface CollectorServiceOptions {
  config: ServiceConfig['collector'];
  detection: ServiceConfig['detection'];
  /** The store writer of the moment (a restore replaces it). */
  writer: () => IngestWriter;
  store: StoreHolder;
  prepareAlert: (alert: Alert) => Alert;
  /** A live alert once queued for the store: the blocking policy and the notifications. */
  onAlert: (alert: Alert) => void;
  feed: LiveFeed;
  logger: Logger;
  now: () => number;
}

export class CollectorService {
  private readonly collector: FlowCollector;
  private readonly detectors: FlowRecordDetectors;
  private readonly listen: { address: string; port: number };
  private timer: NodeJS.Timeout | null = null;
  /** Where it listens, once started (port 0 in the configuration takes a free one). */
  listening: string | null = null;
  /** Exporters' flow counts already reported as contact, to tell which were heard from since. */
  private readonly reported = new Map<string, number>();

  constructor(private readonly options: CollectorServiceOptions) {
    const { config, now } = options;
    this.listen = parseListen(config.listen);
    const tracker = new AlertTracker({ idPrefix: `nf-${now().toString(36)}-`, keep: false }, (raw) => {
      const alert = options.prepareAlert(raw);
      options.writer().enqueueAlert(alert);
      options.feed.publishAlert(alert);
      options.onAlert(alert);
    });
    this.detectors = new FlowRecordDetectors(tracker, structuredClone(options.detection));
    this.collector = new FlowCollector({
      address: this.listen.address,
      port: this.listen.port,
      allowedExporters: config.exporters,
      samplingOverrides: config.sampling,
      onFlows: (flows) => this.take(flows),
    });
  }

  /** Listens, and says where; a port in use or a bad address fails the start with the reason. */
  async start(): Promise<string> {
    await this.collector.start();
    this.timer = setInterval(() => this.everyFewSeconds(), CONTACT_EVERY_MS);
    this.timer.unref();
    const { address, port } = this.collector.listeningOn();
    this.listening = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
    return this.listening;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.collector.stop();
    this.detectors.finish(this.options.now() * 1000);
    this.everyFewSeconds();
  }

  stats(): CollectorStats {
    return this.collector.stats();
  }

  private take(flows: CollectedFlow[]): void {
    const writer = this.options.writer();
    for (const { exporter, flow, icmpTypeCode } of flows) {
      const row = { ...flow, sensor: `exporter:${exporter}` };
      writer.enqueueFlow(row);
      this.options.feed.countFlow(row);
      // The detectors read an ICMP record's type and code where NetFlow puts them (record-view.ts).
      this.detectors.onFlow(icmpTypeCode < 0 ? row : { ...row, dstPort: icmpTypeCode });
    }
  }

  /** Moves the detectors' time on, and notes the exporters heard from since the last time. */
  private everyFewSeconds(): void {
    const { store, logger, now } = this.options;
    this.detectors.onTick(now() * 1000);
    for (const exporter of this.collector.stats().exporters) {
      if (this.reported.get(exporter.address) === exporter.flows + exporter.datagrams) continue;
      // As bounded as the collector's own table of exporters.
      if (this.reported.size > 2 * MAX_EXPORTERS) this.reported.clear();
      this.reported.set(exporter.address, exporter.flows + exporter.datagrams);
      // The last datagram's time is the contact itself, not one of the counts.
      const { address, lastSeenMs, ...counts } = exporter;
      store.sensors
        .recordContact(`exporter:${address}`, 'exporter', lastSeenMs, counts)
        .catch((err: unknown) =>
          logger.error({ exporter: address, err: describeError(err) }, 'exporter contact not stored'),
        );
    }
  }
}

/** "0.0.0.0:2055" or "[::]:2055" as an address and a port (the configuration checked the form). */
function parseListen(listen: string): { address: string; port: number } {
  const cut = listen.lastIndexOf(':');
  const host = listen.slice(0, cut);
  return { address: host.startsWith('[') ? host.slice(1, -1) : host, port: Number(listen.slice(cut + 1)) };
}
