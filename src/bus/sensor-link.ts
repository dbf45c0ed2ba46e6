/**
 * A sensor's end of the bus. Ended flows (in batches) and alerts go into the on-disk buffer
 * first; a sender loop publishes the buffer's head to JetStream (with its id as Nats-Msg-Id, so a
 * message sent twice is stored once) and removes it when the stream has accepted it, in order.
 * Health reports go straight out, the latest only. Block orders come from a durable consumer
 * named after the sensor and are applied through `onBlock`, acked once it has succeeded.
 *
 * Must never: block or throw from publish*() (a hub that is down, a full or failing disk: the
 * message is buffered or counted as dropped), lose a buffered message on a restart, or apply a
 * malformed order (it is logged and terminated).
 */

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  jetstream,
  jetstreamManager,
  AckPolicy,
  DeliverPolicy,
  type JetStreamClient,
  type JsMsg,
} from '@nats-io/jetstream';
import { errors, nanos, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { Alert } from '../alerts/alert.js';
import type { FlowRow } from '../store/flow-repository.js';
import { describeError } from '../util/errors.js';
import { blockOrderSchema, parseBody, type BlockOrder, type SensorHealth } from './bus-messages.js';
import { busNames, checkSensorName, type BusNames } from './bus-subjects.js';
import { DiskBuffer } from './disk-buffer.js';
import { describeBusError, ensureConsumer, pullUntilStopped } from './jetstream-setup.js';
import { BusConnection, type NatsAuth } from './nats-connection.js';
import { backoffMs, checkedInt, sleep, WakeUp } from './wake-up.js';

export interface SensorLinkOptions {
  servers: string[];
  auth: NatsAuth;
  /** This sensor's name: letters, digits, _ and - (1-64). */
  sensor: string;
  /** Where messages wait while the hub is unreachable (one directory per sensor). */
  bufferDir: string;
  /** The buffer's bound; past it the oldest messages are dropped and counted. */
  bufferMaxBytes: number;
  /** Flows per batch (default 500, at most 5000). */
  batchFlows?: number;
  /** The longest a flow waits for its batch to fill (default 1000 ms). */
  batchMs?: number;
  /** The bus prefix (default "flowtrack"). */
  prefix?: string;
  logger: Logger;
  /** Applies a block order; a rejection leaves the order to be delivered again later. */
  onBlock: (order: BlockOrder) => Promise<void>;
  /** How long close() tries to send what is buffered (default 3000 ms). */
  closeTimeoutMs?: number;
  /** The longest wait between two attempts to connect or publish (default 5000 ms). */
  maxBackoffMs?: number;
  /** PEM file of the authority that signed the tls:// servers' certificates (default: the system's). */
  tlsCaFile?: string;
}

/** What the sensor reports about itself; the link adds its name and the buffer's figures. */
export type SensorHealthReport = Omit<
  SensorHealth,
  'sensor' | 'bufferedMessages' | 'bufferedBytes' | 'droppedMessages'
>;

export interface SensorLinkStats {
  connected: boolean;
  /** Messages the hub's stream accepted (flow batches and alerts; health reports not counted). */
  publishedMessages: number;
  bufferedMessages: number;
  bufferedBytes: number;
  /** Messages lost: the buffer's bound, a disk that failed, a message the server can never take. */
  droppedMessages: number;
  /** The latest problem (refused credentials, no stream, a failing disk...); null once it is solved. */
  lastError: string | null;
  blocksApplied: number;
}

/** Bodies stay well under NATS's default max_payload (1 MiB); larger batches are split. */
const MAX_BODY_BYTES = 512 << 10;
const PUBLISH_TIMEOUT_MS = 5000;
/** The server deletes a sensor's block consumer after this long without the sensor (30 days). */
const SENSOR_CONSUMER_IDLE_MS = 30 * 86_400_000;
const KIND_FLOWS = 0x66; // 'f'
const KIND_ALERTS = 0x61; // 'a'

export class SensorLink {
  private readonly names: BusNames;
  private readonly buffer: DiskBuffer;
  private readonly connection: BusConnection;
  private readonly batchFlows: number;
  private readonly batchMs: number;
  private readonly closeTimeoutMs: number;
  private readonly maxBackoffMs: number;
  private readonly logger: Logger;
  /**
   * Part of every message id: new for each start (the time, and random bits in case the clock was
   * set back), so a restarted sensor never reuses an id the hub has stored.
   */
  private readonly runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  private nextMessage = 1;
  private pendingFlows: FlowRow[] = [];
  private batchTimer: NodeJS.Timeout | null = null;
  /** The report to send, with its message id (kept across retries, so a resend is stored once). */
  private latestHealth: { id: string; report: SensorHealthReport } | null = null;
  /** Wakes the sender: a message was buffered, a health report came, or the link closes. */
  private readonly work = new WakeUp();
  /** Cuts the block reader's backoff short when the link closes (and only then). */
  private readonly blockPause = new WakeUp();
  private closing = false;
  private closed: Promise<void> | null = null;
  private stopped = false;
  private bufferClosed = false;
  private readonly loops: Promise<void>[];
  private readonly counts = { published: 0, dropped: 0, blocksApplied: 0 };
  /** The latest problem of each part; cleared when that part works again. */
  private readonly problems: { send: string | null; blocks: string | null; buffer: string | null } = {
    send: null,
    blocks: null,
    buffer: null,
  };
  private jsFor: { nc: NatsConnection; js: JetStreamClient } | null = null;

  private constructor(private readonly options: SensorLinkOptions) {
    checkSensorName(options.sensor);
    this.names = busNames(options.prefix);
    this.batchFlows = checkedInt(options.batchFlows ?? 500, 'batchFlows', 1, 5000);
    this.batchMs = checkedInt(options.batchMs ?? 1000, 'batchMs', 10, 600_000);
    this.closeTimeoutMs = checkedInt(options.closeTimeoutMs ?? 3000, 'closeTimeoutMs', 0, 600_000);
    this.maxBackoffMs = checkedInt(options.maxBackoffMs ?? 5000, 'maxBackoffMs', 100, 600_000);
    this.logger = options.logger.child({ component: 'sensor-link', sensor: options.sensor });
    this.buffer = DiskBuffer.open({ dir: options.bufferDir, maxBytes: options.bufferMaxBytes });
    try {
      this.connection = BusConnection.open({
        servers: options.servers,
        auth: options.auth,
        name: `flowtrack-sensor-${options.sensor}`,
        logger: this.logger,
        maxBackoffMs: this.maxBackoffMs,
        ...(options.tlsCaFile !== undefined && { tlsCaFile: options.tlsCaFile }),
      });
    } catch (err) {
      this.buffer.close();
      throw err;
    }
    const recovered = this.buffer.stats();
    if (recovered.messages > 0 || recovered.corrupt > 0) {
      this.logger.info(
        { messages: recovered.messages, bytes: recovered.bytes, corrupt: recovered.corrupt },
        'resuming the messages buffered by an earlier run',
      );
    }
    this.loops = [this.sendLoop(), this.blockLoop()];
  }

  /**
   * Opens the buffer and starts connecting in the background; returns at once (an unreachable
   * hub is fine: messages wait on disk). Throws a FlowTrackError for bad options, a bad URL, an
   * unreadable seed or creds file, or a buffer directory that cannot be used.
   */
  static start(options: SensorLinkOptions): SensorLink {
    return new SensorLink(options);
  }

  /** Queues an ended flow; it is sent in the next batch. */
  publishFlow(row: FlowRow): void {
    if (this.closing) {
      this.counts.dropped++;
      return;
    }
    this.pendingFlows.push(row);
    if (this.pendingFlows.length >= this.batchFlows) {
      this.flushFlows();
    } else if (this.batchTimer === null) {
      this.batchTimer = setTimeout(() => this.flushFlows(), this.batchMs);
      this.batchTimer.unref();
    }
  }

  /** Queues an alert (a new one or an update), sent on its own. */
  publishAlert(alert: Alert): void {
    if (this.closing) {
      this.counts.dropped++;
      return;
    }
    const id = this.newMessageId();
    this.bufferMessage(KIND_ALERTS, id, JSON.stringify({ id, sensor: this.options.sensor, alert }));
  }

  /** Replaces the health report waiting to be sent (never buffered on disk: only the latest matters). */
  publishHealth(health: SensorHealthReport): void {
    if (this.closing) return;
    this.latestHealth = { id: this.newMessageId(), report: health };
    this.work.wake();
  }

  stats(): SensorLinkStats {
    const buffered = this.bufferClosed
      ? { messages: 0, bytes: 0, dropped: 0, corrupt: 0 }
      : this.buffer.stats();
    return {
      connected: this.connection.connected,
      publishedMessages: this.counts.published,
      bufferedMessages: buffered.messages,
      bufferedBytes: buffered.bytes,
      droppedMessages: this.counts.dropped + buffered.dropped + buffered.corrupt,
      lastError:
        this.connection.lastError ?? this.problems.send ?? this.problems.blocks ?? this.problems.buffer,
      blocksApplied: this.counts.blocksApplied,
    };
  }

  /**
   * Sends what it can within closeTimeoutMs, then stops; what was not sent stays in the buffer
   * directory for the next start.
   */
  close(): Promise<void> {
    this.closed ??= this.shutDown();
    return this.closed;
  }

  private async shutDown(): Promise<void> {
    this.closing = true;
    this.flushFlows();
    const deadline = Date.now() + this.closeTimeoutMs;
    while (Date.now() < deadline && this.connection.connected && this.buffer.stats().messages > 0) {
      await sleep(50);
    }
    this.stopped = true;
    this.work.wake();
    this.blockPause.wake();
    await Promise.race([Promise.all(this.loops), sleep(2000)]);
    this.bufferClosed = true;
    this.buffer.close();
    await this.connection.close();
  }

  private newMessageId(): string {
    return `${this.options.sensor}-${this.runId}-${this.nextMessage++}`;
  }

  /** Puts the flows waiting for their batch into the buffer, split to stay under MAX_BODY_BYTES. */
  private flushFlows(): void {
    if (this.batchTimer !== null) clearTimeout(this.batchTimer);
    this.batchTimer = null;
    const flows = this.pendingFlows;
    this.pendingFlows = [];
    const parts = [flows];
    while (parts.length > 0) {
      const part = parts.pop()!;
      if (part.length === 0) continue;
      const id = this.newMessageId();
      const body = JSON.stringify({ id, sensor: this.options.sensor, flows: part });
      if (Buffer.byteLength(body) > MAX_BODY_BYTES && part.length > 1) {
        const half = Math.ceil(part.length / 2);
        // Second half first: pop() takes the first half next, so the order is kept.
        parts.push(part.slice(half), part.slice(0, half));
        continue;
      }
      this.bufferMessage(KIND_FLOWS, id, body);
    }
  }

  /** Appends `kind id\n body` to the buffer; a failing disk is counted and reported, never thrown. */
  private bufferMessage(kind: number, id: string, body: string): void {
    try {
      this.buffer.append(Buffer.concat([Buffer.from([kind]), Buffer.from(`${id}\n${body}`)]));
      this.problems.buffer = null;
      this.work.wake();
    } catch (err) {
      this.counts.dropped++;
      this.problems.buffer = `a message could not be buffered and was dropped: ${describeError(err)}`;
      this.logger.error({ err: describeError(err) }, 'could not buffer a message; it was dropped');
    }
  }

  /** A method, not the field: the loops read it after awaits, where TypeScript would keep a stale narrowing. */
  private hasStopped(): boolean {
    return this.stopped;
  }

  private jetstreamOf(nc: NatsConnection): JetStreamClient {
    if (this.jsFor?.nc !== nc) this.jsFor = { nc, js: jetstream(nc, { timeout: PUBLISH_TIMEOUT_MS }) };
    return this.jsFor.js;
  }

  /** Publishes the buffer's head, in order, for as long as the link runs. */
  private async sendLoop(): Promise<void> {
    let failures = 0;
    while (!this.hasStopped()) {
      const nc = await this.connection.ready(250);
      if (nc === null) continue;
      const js = this.jetstreamOf(nc);
      try {
        await this.sendHealth(js);
        const head = this.buffer.peek();
        if (head === null) {
          await this.work.wait(1000);
          continue;
        }
        const message = decodeEnvelope(head.data);
        if (message === null) {
          this.dropHead(head.seq, 'it is not a message this link wrote');
          continue;
        }
        const subject = this.names.sensorSubject(this.options.sensor, message.kind);
        try {
          await js.publish(subject, message.body, { msgID: message.id, timeout: PUBLISH_TIMEOUT_MS });
        } catch (err) {
          if (!isPermanent(err))
            throw Object.assign(new Error(describeBusError(err, subject)), { cause: err });
          this.dropHead(head.seq, describeError(err));
          continue;
        }
        if (!this.bufferClosed) this.buffer.ack(head.seq);
        this.counts.published++;
        this.problems.send = null;
        failures = 0;
      } catch (err) {
        failures++;
        this.problems.send = describeError(err);
        const log = failures === 1 ? this.logger.warn.bind(this.logger) : this.logger.debug.bind(this.logger);
        log({ err: this.problems.send }, 'could not publish to the hub; the messages stay buffered');
        if (!this.hasStopped()) await this.work.wait(backoffMs(failures, this.maxBackoffMs));
      }
    }
  }

  private async sendHealth(js: JetStreamClient): Promise<void> {
    const pending = this.latestHealth;
    if (pending === null) return;
    const { report } = pending;
    const buffered = this.buffer.stats();
    const health: SensorHealth = {
      ...report,
      hostname: report.hostname || hostname(),
      sensor: this.options.sensor,
      bufferedMessages: buffered.messages,
      bufferedBytes: buffered.bytes,
      droppedMessages: this.counts.dropped + buffered.dropped + buffered.corrupt,
    };
    const subject = this.names.sensorSubject(this.options.sensor, 'health');
    try {
      await js.publish(subject, JSON.stringify(health), { msgID: pending.id, timeout: PUBLISH_TIMEOUT_MS });
    } catch (err) {
      // Tried again on the next turn (unless a newer report replaces it); it never holds up the flows.
      this.logger.debug({ err: describeBusError(err, subject) }, 'a health report was not sent');
      return;
    }
    // A newer report that came in meanwhile is still to be sent.
    if (this.latestHealth === pending) this.latestHealth = null;
  }

  private dropHead(seq: number, why: string): void {
    this.counts.dropped++;
    this.logger.error({ seq, why }, 'dropped a buffered message the hub can never take');
    if (!this.bufferClosed) this.buffer.ack(seq);
  }

  /** Consumes the block orders through the sensor's durable consumer, for as long as the link runs. */
  private async blockLoop(): Promise<void> {
    const durable = `sensor-${this.options.sensor}`;
    let failures = 0;
    while (!this.hasStopped()) {
      const nc = await this.connection.ready(250);
      if (nc === null) continue;
      try {
        const jsm = await jetstreamManager(nc, { timeout: PUBLISH_TIMEOUT_MS });
        await ensureConsumer(jsm, this.names.blocksStream, {
          durable_name: durable,
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.All,
          filter_subject: this.names.blocksFilter,
          ack_wait: nanos(60_000),
          max_ack_pending: 64,
          // A retired sensor's consumer goes by itself; one back later gets the orders in force again.
          inactive_threshold: nanos(SENSOR_CONSUMER_IDLE_MS),
        });
        const consumer = await this.jetstreamOf(nc).consumers.get(this.names.blocksStream, durable);
        failures = 0;
        if (this.problems.blocks?.startsWith('cannot read') === true) this.problems.blocks = null;
        await pullUntilStopped(
          consumer,
          16,
          (m) => this.applyBlock(m),
          () => this.hasStopped(),
        );
      } catch (err) {
        if (this.hasStopped() || err instanceof errors.ClosedConnectionError) continue;
        failures++;
        this.problems.blocks = `cannot read block orders: ${describeBusError(err)}`;
        const log = failures === 1 ? this.logger.warn.bind(this.logger) : this.logger.debug.bind(this.logger);
        log({ err: this.problems.blocks }, 'cannot read block orders; retrying');
      }
      if (!this.hasStopped()) await this.blockPause.wait(backoffMs(Math.max(failures, 1), this.maxBackoffMs));
    }
  }

  private async applyBlock(m: JsMsg): Promise<void> {
    const parsed = parseBody(blockOrderSchema, m.data);
    let problem = parsed.ok ? null : parsed.problem;
    if (parsed.ok) {
      try {
        if (this.names.blockSubject(parsed.value.address) !== m.subject)
          problem = 'its address is not its subject';
      } catch (err) {
        problem = describeError(err);
      }
    }
    if (!parsed.ok || problem !== null) {
      this.logger.warn({ subject: m.subject, problem }, 'ignored a malformed block order');
      m.term();
      return;
    }
    try {
      await this.options.onBlock(parsed.value);
      m.ack();
      this.counts.blocksApplied++;
      this.problems.blocks = null;
    } catch (err) {
      this.problems.blocks = `a block order could not be applied: ${describeError(err)}`;
      this.logger.warn(
        { order: parsed.value.id, err: describeError(err) },
        'a block order failed; it comes again',
      );
      m.nak(Math.min(60_000, 1000 * 2 ** Math.min(m.info.deliveryCount - 1, 6)));
    }
  }
}

/** A buffered record: kind byte, id, newline, JSON body; null when it is not one. */
function decodeEnvelope(data: Buffer): { kind: 'flows' | 'alerts'; id: string; body: Uint8Array } | null {
  const kind = data[0] === KIND_FLOWS ? 'flows' : data[0] === KIND_ALERTS ? 'alerts' : null;
  const newline = data.indexOf(0x0a, 1);
  if (kind === null || newline < 2 || newline > 200) return null;
  return { kind, id: data.toString('utf8', 1, newline), body: data.subarray(newline + 1) };
}

/** Errors a retry cannot fix: the message itself is refused. */
function isPermanent(err: unknown): boolean {
  return (
    err instanceof errors.InvalidArgumentError ||
    /max_payload|maximum payload|message size exceeds/i.test(describeError(err))
  );
}
