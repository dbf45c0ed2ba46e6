/**
 * The sensor's side of the bus (`flowtrack sensor --hub nats://...`): the pipeline's flows and
 * alerts go to the hub instead of a store of the sensor's own, a health report goes every few
 * seconds, and the hub's block orders are put in force by the sensor's firewall.
 *
 * What the sensor finds is never held up by the hub: the SensorLink writes every message to a
 * bounded buffer on disk first and sends it when the hub can be reached, in order, each with its
 * id, so that the hub stores it once.
 */

import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Alert } from '../alerts/alert.js';
import type { BlockOrder } from '../bus/bus-messages.js';
import { SensorLink } from '../bus/sensor-link.js';
import type { CaptureStatus } from '../live/pipeline-messages.js';
import type { LiveSecond } from '../live/live-stats.js';
import type { Actor, FirewallService } from '../respond/firewall-service.js';
import type { FlowRow } from '../store/flow-repository.js';
import type { IngestWriter, RowCounts } from '../store/store-writer.js';
import { describeError, ErrorCode, FlowTrackError } from '../util/errors.js';
import { PRODUCT_VERSION } from '../util/version.js';
import { busAuth, busServers, sensorNameOf, type BusConfig } from './bus-options.js';

const HEALTH_EVERY_MS = 5000;
const MiB = 1024 * 1024;
/** What a firewall rule's comment may hold (firewall-service.ts checks the same). */
const COMMENT_UNFIT = /[^\p{L}\p{N} .,:;_()/@#+'"!?=-]/gu;

export interface SensorServiceOptions {
  bus: BusConfig;
  logger: Logger;
  now: () => number;
}

/** What the sensor reports on and blocks with, known once the service around it has started. */
export interface SensorParts {
  firewall: FirewallService;
  /** The capture's state and the last second, for the health report. */
  capture: () => CaptureStatus[];
  live: () => LiveSecond | null;
}

export class SensorService {
  readonly name: string;
  private readonly link: SensorLink;
  private timer: NodeJS.Timeout | null = null;
  private readonly actor: Actor = { name: 'hub', ip: null };
  private parts: SensorParts | null = null;
  /** Block orders wait for the firewall (they may come as soon as the link connects). */
  private readonly attached: Promise<SensorParts>;
  private resolveAttached: (parts: SensorParts) => void = () => undefined;

  constructor(private readonly options: SensorServiceOptions) {
    const { bus, logger } = options;
    this.name = sensorNameOf(bus);
    this.link = SensorLink.start({
      servers: busServers(bus),
      auth: busAuth(bus),
      ...(bus.tlsCaFile !== undefined && { tlsCaFile: bus.tlsCaFile }),
      sensor: this.name,
      bufferDir: bus.bufferDir,
      bufferMaxBytes: bus.bufferMaxMB * MiB,
      prefix: bus.prefix,
      logger,
      onBlock: async (order) => this.apply(await this.attached, order),
    });
    this.attached = new Promise((resolve) => (this.resolveAttached = resolve));
  }

  /** Starts the health reports and the block orders, once the firewall and the capture exist. */
  attach(parts: SensorParts): void {
    this.parts = parts;
    this.resolveAttached(parts);
    this.timer = setInterval(() => this.sendHealth(), HEALTH_EVERY_MS);
    this.timer.unref();
    this.sendHealth();
  }

  /** Where the pipeline writes: to the hub, through the buffer. */
  readonly writer: IngestWriter = new BusWriter(() => this.link);

  stats(): ReturnType<SensorLink['stats']> {
    return this.link.stats();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.sendHealth();
    await this.link.close();
  }

  private sendHealth(): void {
    const parts = this.parts;
    if (!parts) return;
    this.link.publishHealth({
      atMs: this.options.now(),
      version: PRODUCT_VERSION,
      hostname: hostname(),
      capture: { interfaces: parts.capture(), live: parts.live(), flowsSent: this.writer.acknowledged.flows },
    });
  }

  /** Puts the hub's order in force; an order the firewall refuses is said, not tried again. */
  private async apply({ firewall }: SensorParts, order: BlockOrder): Promise<void> {
    const { logger, now } = this.options;
    const active = (await firewall.active()).filter(
      (r) => r.kind === 'block' && r.source === order.address && r.interface === null,
    );
    try {
      if (order.action === 'unblock') {
        for (const rule of active) await firewall.removeRule(rule.id, this.actor);
      } else if (active.length === 0 && (order.expiresAtMs === null || order.expiresAtMs > now())) {
        await firewall.addRule(
          {
            kind: 'block',
            source: order.address,
            expiresAt: order.expiresAtMs,
            comment: `from the hub (${order.by}): ${order.reason}`.replace(COMMENT_UNFIT, ' ').slice(0, 200),
          },
          this.actor,
        );
      }
      logger.info(
        { address: order.address, action: order.action, by: order.by },
        'block order of the hub applied',
      );
    } catch (err) {
      const code = err instanceof FlowTrackError ? err.code : null;
      // Refused here (the address is this sensor's gateway, an admin's...) or already in force.
      if (code === ErrorCode.FORBIDDEN || code === ErrorCode.CONFLICT || code === ErrorCode.BAD_REQUEST) {
        logger.warn(
          { address: order.address, action: order.action, err: describeError(err) },
          'block order of the hub not applied here',
        );
        return;
      }
      throw err;
    }
  }
}

/**
 * The pipeline's writer on a sensor: each flow and alert goes to the SensorLink, which buffers it
 * on disk; "acknowledged" means handed to that buffer.
 */
class BusWriter implements IngestWriter {
  readonly acknowledged: RowCounts = { flows: 0, alerts: 0 };
  readonly dropped: RowCounts = { flows: 0, alerts: 0 };
  readonly failed: RowCounts = { flows: 0, alerts: 0 };
  readonly lastError = null;

  constructor(private readonly link: () => SensorLink) {}

  get queued(): number {
    return this.link().stats().bufferedMessages;
  }

  enqueueFlow(row: FlowRow): boolean {
    this.link().publishFlow(row);
    this.acknowledged.flows++;
    return true;
  }

  enqueueAlert(alert: Alert): boolean {
    this.link().publishAlert(alert);
    this.acknowledged.alerts++;
    return true;
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  /** The link is closed by the SensorService, after the pipeline has handed over its last flows. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
