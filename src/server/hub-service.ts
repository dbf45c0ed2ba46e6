/**
 * The hub's side of the bus (`flowtrack serve --bus nats://...`): takes every sensor's flows,
 * alerts and health off NATS JetStream through one durable consumer and stores them, and sends
 * the hub's blocks to every sensor.
 *
 * - A batch of flows is stored with its message id in one transaction (SensorRepository), and
 *   acknowledged only after that commits: a hub that stops between the two gets the batch again
 *   and stores it once. A store that fails leaves the batch to the bus, which delivers it again.
 * - A sensor's alert passes the hub's alert rules, is stored under the sensor's name, and goes to
 *   the blocking policy and the notifications like one of the hub's own.
 * - A block put in force or lifted at the hub (by hand or by the policy) becomes a block order on
 *   the bus, which keeps the latest order for each address; at start the hub sends the blocks in
 *   force again, so a sensor that missed one while the hub was away still gets it.
 */

import type { Logger } from 'pino';
import type { Alert } from '../alerts/alert.js';
import type { AlertMessage, BlockOrder, FlowBatch, SensorHealth } from '../bus/bus-messages.js';
import { SENSORS_MAX_AGE_MS } from '../bus/bus-subjects.js';
import { HubLink } from '../bus/hub-link.js';
import type { FirewallRule } from '../store/firewall-rule-repository.js';
import { checkSensorName } from '../store/sensor-repository.js';
import { describeError } from '../util/errors.js';
import { busAuth, busServers, type BusConfig } from './bus-options.js';
import type { LiveFeed } from './live-feed.js';
import type { StoreHolder } from './store-holder.js';

/** A block order not yet on the bus is tried again this often. */
const RETRY_MS = 5000;
/**
 * Stored batches' message ids are kept while the stream may still hand their batch out again (a
 * consumer made anew reads the whole stream), and a day more; they are pruned this often.
 */
const MESSAGE_IDS_KEPT_MS = SENSORS_MAX_AGE_MS + 86_400_000;
const PRUNE_MS = 3_600_000;

export interface HubServiceOptions {
  bus: BusConfig;
  store: StoreHolder;
  /** The hub's alert rules, then counted. */
  prepareAlert: (alert: Alert) => Alert;
  /** A sensor's alert once stored: the blocking policy and the notifications. */
  onAlert: (alert: Alert) => void;
  feed: LiveFeed;
  logger: Logger;
  now: () => number;
}

export interface HubStats {
  connected: boolean;
  batches: number;
  duplicates: number;
  flows: number;
  alerts: number;
  blockOrders: number;
  pendingBlockOrders: number;
}

export class HubService {
  private link: HubLink | null = null;
  private readonly counts = { batches: 0, duplicates: 0, flows: 0, alerts: 0, blockOrders: 0 };
  /** Orders the bus refused (it was down), by address: only the latest of each is worth sending. */
  private readonly pending = new Map<string, BlockOrder>();
  private retryTimer: NodeJS.Timeout | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: HubServiceOptions) {}

  /** Connects (in the background: a bus that is down now is tried again) and sends the blocks in force. */
  start(activeRules: FirewallRule[]): void {
    const { bus, logger } = this.options;
    this.link = HubLink.start({
      servers: busServers(bus),
      auth: busAuth(bus),
      ...(bus.tlsCaFile !== undefined && { tlsCaFile: bus.tlsCaFile }),
      prefix: bus.prefix,
      logger,
      onFlows: (batch) => this.storeBatches([batch]),
      onFlowGroup: (batches) => this.storeBatches(batches),
      onAlert: (message) => this.storeAlert(message),
      onHealth: (health) => this.noteHealth(health),
    });
    for (const rule of activeRules) this.onRuleChange(rule, 'added');
    this.retryTimer = setInterval(() => this.sendPending(), RETRY_MS);
    this.retryTimer.unref();
    void this.pruneMessageIds();
    this.pruneTimer = setInterval(() => void this.pruneMessageIds(), PRUNE_MS);
    this.pruneTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.retryTimer) clearInterval(this.retryTimer);
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    await this.link?.close();
    this.link = null;
  }

  stats(): HubStats {
    return {
      connected: this.link?.stats().connected ?? false,
      ...this.counts,
      pendingBlockOrders: this.pending.size,
    };
  }

  /** A firewall rule put in force or lifted at the hub: blocks of a whole address go to every sensor. */
  onRuleChange = (rule: FirewallRule, change: 'added' | 'removed'): void => {
    if (rule.kind !== 'block' || rule.source === null || rule.interface !== null) return;
    const order: BlockOrder = {
      id: `rule-${rule.id}-${change}`,
      action: change === 'added' ? 'block' : 'unblock',
      address: rule.source,
      expiresAtMs: rule.expiresAt,
      reason: rule.comment ?? '',
      atMs: this.options.now(),
      by: rule.createdBy,
    };
    this.pending.set(order.address, order);
    this.sendPending();
  };

  private sendPending(): void {
    const link = this.link;
    if (!link) return;
    for (const order of [...this.pending.values()]) {
      link.publishBlock(order).then(
        () => {
          // A newer order for the address may have come meanwhile: that one stays.
          if (this.pending.get(order.address) === order) this.pending.delete(order.address);
          this.counts.blockOrders++;
        },
        (err: unknown) =>
          this.options.logger.warn(
            { address: order.address, action: order.action, err: describeError(err) },
            'block order not yet sent to the sensors: tried again in 5 s',
          ),
      );
    }
  }

  /** Sensors' flow batches, in one transaction; one delivered before is counted, not stored. */
  private async storeBatches(batches: FlowBatch[]): Promise<void> {
    const { store, feed, now } = this.options;
    const named = batches.filter((batch) => this.fitName(batch.sensor));
    const fresh = await store.sensors.storeBatches(named, now());
    for (const batch of named) {
      if (!fresh.delete(batch.id)) {
        this.counts.duplicates++;
        continue;
      }
      this.counts.batches++;
      this.counts.flows += batch.flows.length;
      for (const flow of batch.flows) feed.countFlow(flow);
    }
  }

  /** Forgets the ids of batches the bus can no longer deliver again. */
  private async pruneMessageIds(): Promise<void> {
    const { store, logger, now } = this.options;
    try {
      const pruned = await store.sensors.pruneMessageIds(now() - MESSAGE_IDS_KEPT_MS);
      if (pruned > 0) logger.debug({ pruned }, "pruned stored batches' message ids");
    } catch (err) {
      logger.warn(
        { err: describeError(err) },
        "cannot prune stored batches' message ids; trying again in an hour",
      );
    }
  }

  private async storeAlert(message: AlertMessage): Promise<void> {
    const { store, feed, now } = this.options;
    if (!this.fitName(message.sensor)) return;
    const alert = this.options.prepareAlert({ ...message.alert, sensor: message.sensor });
    await store.alerts.upsertAlerts([alert], now());
    await store.sensors.recordContact(message.sensor, 'sensor', now());
    this.counts.alerts++;
    feed.publishAlert(alert);
    this.options.onAlert(alert);
  }

  private noteHealth(health: SensorHealth): void {
    const { store, logger, now } = this.options;
    if (!this.fitName(health.sensor)) return;
    const { sensor, ...rest } = health;
    store.sensors
      .recordContact(sensor, 'sensor', now(), rest)
      .catch((err: unknown) =>
        logger.error({ sensor, err: describeError(err) }, 'sensor contact not stored'),
      );
  }

  /**
   * False, said in the log, for a sensor name the hub cannot store under ("local" is its own):
   * the message is acknowledged and left out, since no later delivery would be any better.
   */
  private fitName(sensor: string): boolean {
    try {
      checkSensorName(sensor);
      return true;
    } catch (err) {
      this.options.logger.warn(
        { err: describeError(err) },
        'a message from a sensor with an unfit name left out',
      );
      return false;
    }
  }
}
