/**
 * The hub's end of the bus. Keeps the two streams as FlowTrack needs them, reads everything the
 * sensors send through one durable pull consumer (so a restarted hub resumes where it stopped),
 * hands each message to its handler (flow batches pulled together as one group, when the hub
 * takes groups) and acks it only once the handler has succeeded; a handler that fails (the store
 * is down) gets the message, or the whole group, again later, with a growing delay. Publishes
 * block orders for every sensor.
 *
 * Must never: ack a message its handler did not store, let a malformed message stop or block the
 * consumer (it is logged with its subject, counted and terminated), or let a sensor speak for
 * another (the sensor named in a body must be the one in its subject).
 */

import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JsMsg,
} from '@nats-io/jetstream';
import { errors, nanos, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { describeError, ErrorCode, FlowTrackError } from '../util/errors.js';
import {
  blockOrderSchema,
  parseSensorMessage,
  type AlertMessage,
  type BlockOrder,
  type FlowBatch,
  type SensorHealth,
} from './bus-messages.js';
import {
  blocksStreamConfig,
  busNames,
  sensorsStreamConfig,
  type BusNames,
  type SensorsRetention,
} from './bus-subjects.js';
import { describeBusError, ensureConsumer, ensureStream, pullUntilStopped } from './jetstream-setup.js';
import { BusConnection, type NatsAuth } from './nats-connection.js';
import { backoffMs, checkedInt, sleep, WakeUp } from './wake-up.js';

export interface HubLinkOptions {
  servers: string[];
  auth: NatsAuth;
  /** The bus prefix (default "flowtrack"). */
  prefix?: string;
  /** The durable consumer's name (default "flowtrack-hub"); a hub started again with it resumes. */
  durable?: string;
  logger: Logger;
  /** Stores a batch; resolves once it is stored (de-duplicated by `batch.id`). */
  onFlows: (batch: FlowBatch) => Promise<void>;
  /**
   * When given, stores several batches at once in place of `onFlows` (one transaction): the flow
   * batches pulled together, up to 16 messages or 5,000 flows, or those that came within 20 ms.
   * Each is acked once the group is stored; a failure gives every one of them back to the bus.
   */
  onFlowGroup?: (batches: FlowBatch[]) => Promise<void>;
  onAlert: (message: AlertMessage) => Promise<void>;
  onHealth: (health: SensorHealth) => void;
  /** Messages handed out and not yet acked, at most (default 256). */
  maxAckPending?: number;
  /** The first redelivery delay after a handler failed; it doubles per attempt, up to 60 s (default 1000 ms). */
  redeliveryDelayMs?: number;
  /** How long and how much the SENSORS stream keeps (defaults: 7 days, 1 GiB). */
  retention?: SensorsRetention;
  /** The longest wait between two attempts to connect or set up (default 5000 ms). */
  maxBackoffMs?: number;
  /** PEM file of the authority that signed the tls:// servers' certificates (default: the system's). */
  tlsCaFile?: string;
}

export interface HubLinkStats {
  connected: boolean;
  /** Messages read from the stream, redeliveries included. */
  received: number;
  acked: number;
  /** Messages that came again (a handler failed, or an ack was lost). */
  redelivered: number;
  malformed: number;
  lastError: string | null;
}

const PUBLISH_TIMEOUT_MS = 5000;
/** A group of flow batches is stored when it has this many messages or flows ... */
const GROUP_MESSAGES = 16;
const GROUP_FLOWS = 5000;
/** ... or when no other message came for this long. */
const GROUP_IDLE_MS = 20;
/** A handler that runs longer than this gets its message delivered again (to another hub, or this one). */
const ACK_WAIT_MS = 60_000;

export class HubLink {
  private readonly names: BusNames;
  private readonly durable: string;
  private readonly connection: BusConnection;
  private readonly logger: Logger;
  private readonly maxAckPending: number;
  private readonly redeliveryDelayMs: number;
  private readonly maxBackoffMs: number;
  private readonly streams: ReturnType<typeof sensorsStreamConfig>[];
  private readonly idle = new WakeUp();
  private stopped = false;
  private closed: Promise<void> | null = null;
  private readonly loop: Promise<void>;
  private readonly counts = { received: 0, acked: 0, redelivered: 0, malformed: 0 };
  private linkError: string | null = null;
  private jsFor: { nc: NatsConnection; js: JetStreamClient } | null = null;
  /** Flow batches pulled and not yet handed to onFlowGroup, with their messages. */
  private group: { m: JsMsg; batch: FlowBatch }[] = [];
  private groupFlows = 0;
  private groupTimer: NodeJS.Timeout | null = null;
  /** Groups are stored one after the other: the latest one's end. */
  private groupsDone: Promise<void> = Promise.resolve();

  private constructor(private readonly options: HubLinkOptions) {
    this.names = busNames(options.prefix);
    this.durable = options.durable ?? 'flowtrack-hub';
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(this.durable)) {
      throw new FlowTrackError(
        ErrorCode.BAD_OPTION,
        `the durable consumer name ${JSON.stringify(this.durable)} must be 1 to 64 letters, digits, _ or -`,
      );
    }
    this.maxAckPending = checkedInt(options.maxAckPending ?? 256, 'maxAckPending', 1, 100_000);
    this.redeliveryDelayMs = checkedInt(options.redeliveryDelayMs ?? 1000, 'redeliveryDelayMs', 1, 60_000);
    this.maxBackoffMs = checkedInt(options.maxBackoffMs ?? 5000, 'maxBackoffMs', 100, 600_000);
    this.streams = [sensorsStreamConfig(this.names, options.retention), blocksStreamConfig(this.names)];
    this.logger = options.logger.child({ component: 'hub-link' });
    this.connection = BusConnection.open({
      servers: options.servers,
      auth: options.auth,
      name: `flowtrack-hub-${this.durable}`,
      logger: this.logger,
      maxBackoffMs: this.maxBackoffMs,
      ...(options.tlsCaFile !== undefined && { tlsCaFile: options.tlsCaFile }),
    });
    this.loop = this.consumeLoop();
  }

  /**
   * Starts connecting, setting up the streams and consuming in the background; returns at once.
   * Throws a FlowTrackError for bad options, a bad URL or an unreadable seed or creds file.
   */
  static start(options: HubLinkOptions): HubLink {
    return new HubLink(options);
  }

  /**
   * Publishes a block order for every sensor (the latest order per address is what the stream
   * keeps). `order.id` must be new for each order: it is the de-duplication key, so a second
   * order with an id seen in the last 10 minutes is dropped as a repeat. Rejects with a
   * FlowTrackError (BAD_REQUEST, BUS_ERROR) when the order is malformed, the bus is down or the
   * stream did not take it.
   */
  async publishBlock(order: BlockOrder): Promise<void> {
    const checked = blockOrderSchema.safeParse(order);
    if (!checked.success) {
      throw new FlowTrackError(
        ErrorCode.BAD_REQUEST,
        `the block order is malformed: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    }
    const subject = this.names.blockSubject(order.address);
    const nc = this.connection.current;
    if (nc === null) {
      throw new FlowTrackError(
        ErrorCode.BUS_ERROR,
        `the block order for ${order.address} was not sent: the bus is down (${this.connection.lastError ?? 'not connected yet'})`,
      );
    }
    try {
      await this.jetstreamOf(nc).publish(subject, JSON.stringify(checked.data), {
        msgID: order.id,
        timeout: PUBLISH_TIMEOUT_MS,
      });
    } catch (err) {
      throw new FlowTrackError(
        ErrorCode.BUS_ERROR,
        `the block order for ${order.address} was not sent: ${describeBusError(err, subject)}`,
        { cause: err },
      );
    }
  }

  stats(): HubLinkStats {
    return {
      connected: this.connection.connected,
      ...this.counts,
      lastError: this.linkError ?? this.connection.lastError,
    };
  }

  /**
   * Stops consuming and disconnects: the message being handled is finished and acked, those
   * pulled after it are given back at once (within 5 s in all).
   */
  close(): Promise<void> {
    this.closed ??= this.shutDown();
    return this.closed;
  }

  private async shutDown(): Promise<void> {
    this.stopped = true;
    this.idle.wake();
    await Promise.race([this.loop, sleep(5000)]);
    await this.connection.close();
  }

  /** A method, not the field: the loops read it after awaits, where TypeScript would keep a stale narrowing. */
  private hasStopped(): boolean {
    return this.stopped;
  }

  private jetstreamOf(nc: NatsConnection): JetStreamClient {
    if (this.jsFor?.nc !== nc) this.jsFor = { nc, js: jetstream(nc, { timeout: PUBLISH_TIMEOUT_MS }) };
    return this.jsFor.js;
  }

  /** Sets up the streams and the consumer on each new connection, then handles messages until it ends. */
  private async consumeLoop(): Promise<void> {
    let failures = 0;
    while (!this.hasStopped()) {
      const nc = await this.connection.ready(250);
      if (nc === null) continue;
      try {
        const jsm = await jetstreamManager(nc, { timeout: PUBLISH_TIMEOUT_MS });
        for (const stream of this.streams)
          await ensureStream(jsm, { ...stream, name: stream.name! }, this.logger);
        await ensureConsumer(jsm, this.names.sensorsStream, {
          durable_name: this.durable,
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.All,
          filter_subject: this.names.sensorsFilter,
          ack_wait: nanos(ACK_WAIT_MS),
          max_ack_pending: this.maxAckPending,
        });
        const consumer = await this.jetstreamOf(nc).consumers.get(this.names.sensorsStream, this.durable);
        this.linkError = null;
        failures = 0;
        const batchSize = Math.min(this.maxAckPending, 64);
        try {
          await pullUntilStopped(
            consumer,
            batchSize,
            (m) => this.handle(m),
            () => this.hasStopped(),
          );
        } finally {
          // What was pulled is stored (and acked while the connection lasts) before anything else.
          await this.storeGroup();
        }
      } catch (err) {
        if (this.hasStopped() || err instanceof errors.ClosedConnectionError) continue;
        failures++;
        this.linkError = `cannot consume the sensors' stream: ${describeBusError(err)}`;
        const log = failures === 1 ? this.logger.warn.bind(this.logger) : this.logger.debug.bind(this.logger);
        log({ err: this.linkError }, 'cannot consume from the bus; retrying');
      }
      if (!this.hasStopped()) await this.idle.wait(backoffMs(Math.max(failures, 1), this.maxBackoffMs));
    }
  }

  private async handle(m: JsMsg): Promise<void> {
    this.counts.received++;
    if (m.info.deliveryCount > 1) this.counts.redelivered++;
    const target = this.names.parseSensorSubject(m.subject);
    const parsed = target === null ? null : parseSensorMessage(target.kind, m.data);
    let problem: string | null = null;
    if (target === null || parsed === null) problem = 'not a sensor subject';
    else if (!parsed.ok) problem = parsed.problem;
    else if (parsed.value.body.sensor !== target.sensor) {
      problem = `the body names sensor ${JSON.stringify(parsed.value.body.sensor)}, the subject ${target.sensor}`;
    }
    if (problem !== null || parsed === null || !parsed.ok) {
      this.counts.malformed++;
      this.logger.warn({ subject: m.subject, problem }, 'dropped a malformed message from the bus');
      m.term();
      return;
    }
    const message = parsed.value;
    if (message.kind === 'flows' && this.options.onFlowGroup) {
      this.group.push({ m, batch: message.body });
      this.groupFlows += message.body.flows.length;
      if (this.group.length >= GROUP_MESSAGES || this.groupFlows >= GROUP_FLOWS) await this.storeGroup();
      else this.groupTimer ??= setTimeout(() => void this.storeGroup(), GROUP_IDLE_MS);
      return;
    }
    // Messages are handled in the order they came: the flows before an alert are stored first.
    await this.storeGroup();
    try {
      if (message.kind === 'flows') await this.options.onFlows(message.body);
      else if (message.kind === 'alerts') await this.options.onAlert(message.body);
      else this.options.onHealth(message.body);
    } catch (err) {
      this.giveBack(m, err);
      return;
    }
    await this.ack(m);
    if (this.linkError?.startsWith('a message could not be handled')) this.linkError = null;
  }

  /**
   * Hands the flow batches pulled so far to onFlowGroup, then acks each; after the groups before
   * it. Never rejects: a failed group goes back to the bus, message by message.
   */
  private storeGroup(): Promise<void> {
    if (this.groupTimer) clearTimeout(this.groupTimer);
    this.groupTimer = null;
    const group = this.group;
    this.group = [];
    this.groupFlows = 0;
    const store = this.options.onFlowGroup;
    if (group.length === 0 || !store) return this.groupsDone;
    this.groupsDone = this.groupsDone
      .then(async () => {
        try {
          await store(group.map((g) => g.batch));
        } catch (err) {
          for (const { m } of group) this.giveBack(m, err);
          return;
        }
        await Promise.all(group.map(({ m }) => this.ack(m)));
        if (this.linkError?.startsWith('a message could not be handled')) this.linkError = null;
      })
      // The connection went while giving back or acking: the bus delivers those again (and the
      // store skips what it has). The next group must still run.
      .catch((err: unknown) => {
        this.logger.warn({ err: describeError(err) }, 'a group of flow batches was not acked');
      });
    return this.groupsDone;
  }

  /** A message its handler could not store: the bus gives it again later, and later again each time. */
  private giveBack(m: JsMsg, err: unknown): void {
    // A store that is down gets time to come back.
    const delay = Math.min(60_000, this.redeliveryDelayMs * 2 ** Math.min(m.info.deliveryCount - 1, 16));
    this.linkError = `a message could not be handled and comes again in ${delay} ms: ${describeError(err)}`;
    this.logger.warn(
      { subject: m.subject, err: describeError(err), delayMs: delay },
      'handler failed; message not acked',
    );
    m.nak(delay);
  }

  /** Acks a stored message and waits for the server to confirm, so that a hub stopped right after does not get it again. */
  private async ack(m: JsMsg): Promise<void> {
    const confirmed = await m.ackAck({ timeout: PUBLISH_TIMEOUT_MS }).catch(() => false);
    if (confirmed) this.counts.acked++;
  }
}
