/**
 * Between alerts and channels. Each alert raised or updated is weighed by every enabled channel's
 * throttle (its filter, rate limit and digest); what is to be told goes into the durable delivery
 * queue, and rounds (a timer, or `flush`) send what is due: within a channel oldest first and one
 * at a time, channels side by side. A failure that may pass is retried with exponential backoff
 * while its channel pauses; one that cannot pass, or that has lasted a day, is given up and logged.
 *
 * It must never throw from `onAlert` (the detection pipeline calls it), never send a channel's
 * deliveries out of order or two at once, never drop what a rate limit held back without a digest
 * saying so, and never log a channel's settings: notifiers keep the secrets, and their errors
 * (NotifyError) are already free of them.
 */

import { describeError, FlowTrackError } from '../../util/errors.js';
import type { Alert } from '../alert.js';
import { NotificationThrottle, type ChannelFilter } from './notification-throttle.js';
import {
  alertNotification,
  digestNotification,
  durationWords,
  testNotification,
  type NotificationContext,
} from './notification-text.js';
import {
  NotifyError,
  type ChannelKind,
  type DigestSummary,
  type Notification,
  type Notifier,
} from './notifier.js';

/** A configured channel as the dispatcher needs it (secrets stay in the notifier). */
export interface ChannelSpec {
  id: number;
  name: string;
  kind: ChannelKind;
  enabled: boolean;
  filter: ChannelFilter;
  /** Changes whenever the channel's settings change (e.g. its updatedAt): a new value means a new notifier. */
  version: number;
}

export type DeliveryStatus = 'pending' | 'sent' | 'failed';

export interface QueuedDelivery {
  id: number;
  channelId: number;
  notification: Notification;
  /** Attempts made so far. */
  attempts: number;
  /** Epoch ms. */
  nextAttemptAt: number;
  createdAt: number;
}

/** The durable queue and delivery log (the store's notification_deliveries table implements it). */
export interface DeliveryQueue {
  /** Adds a pending delivery due at `now`; returns its id. */
  enqueue(channelId: number, n: Notification, now: number): Promise<number>;
  /** Pending deliveries with nextAttemptAt <= now, oldest first, at most `limit`. */
  due(now: number, limit: number): Promise<QueuedDelivery[]>;
  markSent(id: number, attempts: number, now: number): Promise<void>;
  /** Still pending: tried `attempts` times, next try at `nextAttemptAt`; `error` is the last failure (already free of secrets). */
  markRetry(id: number, attempts: number, nextAttemptAt: number, error: string): Promise<void>;
  /** Given up (not retryable, too old, or channel deleted). */
  markFailed(id: number, attempts: number, error: string, now: number): Promise<void>;
}

/** The part of a logger (pino's shape) the dispatcher writes to. */
export interface DispatcherLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface DispatcherOptions {
  /** Through a getter: a database restore replaces it. */
  queue: () => DeliveryQueue;
  /** Builds the channel's notifier (the composition root decides how). */
  notifierFor: (channel: ChannelSpec) => Notifier;
  now: () => number;
  /** os.hostname(), for Notification.host. */
  host: string;
  /** The dashboard URL of an alert, when the server knows its public URL; else undefined. */
  alertLink?: (alertId: string) => string | undefined;
  log: DispatcherLog;
  retry?: {
    /** Delay after the first failure; doubled after each further one. Default 5000. */
    firstDelayMs?: number;
    /** Default 300 000 (5 min). */
    maxDelayMs?: number;
    /** A delivery this old (from createdAt) that fails again is given up. Default 24 h. */
    giveUpAfterMs?: number;
  };
  /** Default 1000. */
  tickMs?: number;
  /** Deliveries sent at once per channel per tick at most (default 50). */
  batch?: number;
  /**
   * A number in [0, 1) that spreads retry delays by up to ±10 %, so channels that failed together
   * do not all come back in the same instant. Default Math.random; tests pass a constant.
   */
  random?: () => number;
  /** How long stop() waits for the round under way before it aborts the sends in flight. Default 5000. */
  stopWaitMs?: number;
}

/** Counters since start, for health and metrics. */
export interface DispatcherStats {
  /** Deliveries put into the queue (alerts, digests and tests). */
  enqueued: number;
  sent: number;
  /** Failed attempts that will be tried again. */
  retried: number;
  /** Deliveries given up. */
  failed: number;
  /** Digests put into the queue. */
  digests: number;
}

interface ChannelState {
  spec: ChannelSpec;
  throttle: NotificationThrottle;
  /** Built on first use, and again after the settings changed. */
  notifier: Notifier | null;
  /** Epoch ms before which nothing is sent on the channel: its oldest delivery waits for a retry. */
  pausedUntil: number;
  /** The failure that paused it. */
  pauseReason: string;
}

/** A disabled channel's deliveries are looked at again this often (until it is enabled or deleted). */
const DISABLED_RECHECK_MS = 60_000;
/**
 * A channel starts no new send once a round has lasted this long: a channel that answers slowly
 * (but answers) makes the next round wait at most one send more, not `batch` sends.
 */
const ROUND_BUDGET_MS = 10_000;
/** After stop() aborted the sends in flight, how long it still waits for them to end. */
const ABORTED_WAIT_MS = 1000;
const JITTER = 0.1;

/**
 * Turns alerts into deliveries and delivers them; see the module comment. Notification ids:
 * `alert-<alertId>-<channelId>-<stamp>`, `digest-<channelId>-<windowStartMs>-<type>` and
 * `test-<channelId>-<stamp>`, where the stamp is the epoch ms, moved on by one when two
 * notifications are made in the same millisecond (so an id is never reused, across restarts too,
 * unless the clock goes back).
 */
export class NotificationDispatcher {
  readonly #options: DispatcherOptions;
  readonly #firstDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #giveUpAfterMs: number;
  readonly #tickMs: number;
  readonly #batch: number;
  readonly #random: () => number;
  readonly #stopWaitMs: number;
  readonly #channels = new Map<number, ChannelState>();
  readonly #stats: DispatcherStats = { enqueued: 0, sent: 0, retried: 0, failed: 0, digests: 0 };
  /** Enqueues run one after another, so the queue's ids follow the order of the decisions. */
  #enqueues: Promise<void> = Promise.resolve();
  /** The last round asked for: the next one starts when it has ended. */
  #rounds: Promise<void> = Promise.resolve();
  #roundsWaiting = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Aborted by stop() when the round under way takes too long. */
  #abort = new AbortController();
  /** Notifiers being closed (replaced or removed channels). */
  readonly #closing = new Set<Promise<void>>();
  /** Tests being sent by sendTest: a round leaves them alone. */
  readonly #testsInFlight = new Set<string>();
  #lastStamp = 0;

  constructor(options: DispatcherOptions) {
    this.#options = options;
    this.#firstDelayMs = options.retry?.firstDelayMs ?? 5000;
    this.#maxDelayMs = options.retry?.maxDelayMs ?? 300_000;
    this.#giveUpAfterMs = options.retry?.giveUpAfterMs ?? 86_400_000;
    this.#tickMs = options.tickMs ?? 1000;
    this.#batch = options.batch ?? 50;
    this.#random = options.random ?? Math.random;
    this.#stopWaitMs = options.stopWaitMs ?? 5000;
    if (!Number.isInteger(this.#batch) || this.#batch < 1) {
      throw new FlowTrackError('BAD_OPTION', `notification batch ${this.#batch} must be a whole number >= 1`);
    }
    for (const [name, value] of [
      ['tickMs', this.#tickMs],
      ['retry.firstDelayMs', this.#firstDelayMs],
      ['retry.maxDelayMs', this.#maxDelayMs],
      ['retry.giveUpAfterMs', this.#giveUpAfterMs],
    ] as const) {
      if (!Number.isFinite(value) || value <= 0) {
        throw new FlowTrackError('BAD_OPTION', `notification ${name} ${value} must be a positive number`);
      }
    }
  }

  /**
   * Replaces the channel list (called at start and after every change from the API). A channel
   * whose `filter` is deep-equal keeps its throttle state (counts, digest in progress); one whose
   * filter changed starts afresh, and what its old limit held back goes out as digests now. A
   * channel whose `version` changed gets a new notifier (the old one closed); removed channels'
   * notifiers are closed and their pending deliveries marked failed "channel deleted" when next due.
   */
  setChannels(channels: readonly ChannelSpec[]): void {
    const now = this.#options.now();
    const kept = new Set<number>();
    for (const given of channels) {
      const spec = copySpec(given);
      kept.add(spec.id);
      const state = this.#channels.get(spec.id);
      if (state === undefined) {
        this.#channels.set(spec.id, {
          spec,
          throttle: new NotificationThrottle(spec.filter),
          notifier: null,
          pausedUntil: 0,
          pauseReason: '',
        });
        continue;
      }
      if (state.spec.version !== spec.version) {
        this.#retire(state);
        // New settings may well work: the next due delivery is tried without waiting out the pause.
        state.pausedUntil = 0;
      }
      const previous = state.throttle;
      const filterChanged = !sameFilter(state.spec.filter, spec.filter);
      state.spec = spec;
      if (filterChanged) {
        state.throttle = new NotificationThrottle(spec.filter);
        this.#enqueueDigests(state, previous.dueDigests(Number.POSITIVE_INFINITY), now);
      }
    }
    for (const [id, state] of this.#channels) {
      if (kept.has(id)) continue;
      this.#retire(state);
      this.#channels.delete(id);
    }
  }

  /**
   * An alert raised or updated (status is the stored status when known). Synchronous: decides per
   * enabled channel with its throttle and enqueues what is to be sent (enqueue failures are
   * logged, never thrown). Alerts with `suppressedBy` set (a number) are ignored.
   */
  onAlert(alert: Alert & { status?: string; suppressedBy?: number | null }): void {
    if (typeof alert.suppressedBy === 'number') return;
    const now = this.#options.now();
    // Looked up once per alert, and only when some channel is to be told.
    let link: string | undefined | null = null;
    for (const state of this.#channels.values()) {
      if (!state.spec.enabled) continue;
      try {
        const decision = state.throttle.decide(alert, now);
        if (decision.action !== 'notify') continue;
        if (link === null) link = this.#options.alertLink?.(alert.id);
        const ctx = this.#context(`alert-${alert.id}-${state.spec.id}-${this.#stamp(now)}`, now, link);
        this.#enqueue(state.spec.id, alertNotification(alert, decision.reason, ctx), now);
      } catch (err) {
        this.#options.log.error(
          {
            channelId: state.spec.id,
            channel: state.spec.name,
            alertId: alert.id,
            error: describeError(err),
          },
          'alert could not be turned into a notification',
        );
      }
    }
  }

  /**
   * Enqueues a 'test' notification for the channel (enabled or not) and makes one attempt at once.
   * A test is not rate limited and not retried: it ends 'sent' or 'failed' with the error. It
   * stays 'pending' only if the delivery log could not record the outcome (`error` says so).
   * Throws a FlowTrackError NOT_FOUND for an unknown channel, and the queue's error if it cannot
   * even be queued.
   */
  async sendTest(
    channelId: number,
    requestedBy: string,
  ): Promise<{ deliveryId: number; status: DeliveryStatus; error?: string }> {
    const state = this.#channels.get(channelId);
    if (state === undefined) {
      throw new FlowTrackError('NOT_FOUND', `notification channel ${channelId} does not exist`);
    }
    const now = this.#options.now();
    const n = testNotification(
      state.spec.name,
      requestedBy,
      this.#context(`test-${channelId}-${this.#stamp(now)}`, now, undefined),
    );
    const where = { channelId, channel: state.spec.name, notificationId: n.id, requestedBy };
    this.#testsInFlight.add(n.id);
    try {
      const queue = this.#options.queue();
      const deliveryId = await queue.enqueue(channelId, n, now);
      this.#stats.enqueued++;
      let error: string | undefined;
      try {
        await this.#notifierOf(state).send(n, this.#abort.signal);
      } catch (err) {
        error = describeError(err);
      }
      try {
        if (error === undefined) {
          await queue.markSent(deliveryId, 1, this.#options.now());
          this.#stats.sent++;
          this.#options.log.info({ ...where, deliveryId }, 'test notification sent');
          return { deliveryId, status: 'sent' };
        }
        await queue.markFailed(deliveryId, 1, error, this.#options.now());
        this.#stats.failed++;
        this.#options.log.warn({ ...where, deliveryId, error }, 'test notification failed');
        return { deliveryId, status: 'failed', error };
      } catch (err) {
        const problem = `the delivery log could not record the outcome: ${describeError(err)}`;
        this.#options.log.error({ ...where, deliveryId, error: problem }, 'test notification not recorded');
        return {
          deliveryId,
          status: 'pending',
          error: error === undefined ? `sent, but ${problem}` : `${error}; and ${problem}`,
        };
      }
    } finally {
      this.#testsInFlight.delete(n.id);
    }
  }

  /**
   * One round now: enqueue the digests that are due, then send due deliveries. For tests and for
   * the timer. Rounds never overlap (a call during a round waits for it, then runs its own).
   * Never rejects: what goes wrong is logged.
   */
  flush(): Promise<void> {
    this.#roundsWaiting++;
    const round = this.#rounds
      .then(() => this.#round())
      .finally(() => {
        this.#roundsWaiting--;
      });
    this.#rounds = round;
    return round;
  }

  /** Runs a round every `tickMs` (the timer does not keep the process alive). */
  start(): void {
    if (this.#timer !== undefined) return;
    if (this.#abort.signal.aborted) this.#abort = new AbortController();
    this.#timer = setInterval(() => {
      // A round that outlasts the tick is not queued up behind: the next tick after it will do.
      if (this.#roundsWaiting === 0) void this.flush();
    }, this.#tickMs);
    this.#timer.unref();
  }

  /**
   * Stops the timer, waits for the round under way (at most `stopWaitMs`, then aborts its sends,
   * which stay pending), closes the notifiers. Pending deliveries stay in the queue for the next
   * start.
   */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    const settled = Promise.all([this.#rounds, this.#enqueues]);
    if (!(await within(settled, this.#stopWaitMs))) {
      this.#options.log.warn(
        { waitedMs: this.#stopWaitMs },
        'notification round still under way at stop: aborting its sends (they stay queued)',
      );
      this.#abort.abort();
      await within(settled, ABORTED_WAIT_MS);
    }
    for (const state of this.#channels.values()) this.#retire(state);
    await Promise.allSettled([...this.#closing]);
    this.#abort = new AbortController();
  }

  /** Counters for health/metrics: enqueued, sent, retried, failed, digests. */
  stats(): DispatcherStats {
    return { ...this.#stats };
  }

  // ---- Rounds ----

  async #round(): Promise<void> {
    const signal = this.#abort.signal;
    try {
      const started = this.#options.now();
      for (const state of this.#channels.values()) {
        this.#enqueueDigests(state, state.throttle.dueDigests(started), started);
      }
      await this.#enqueues;
      const queue = this.#options.queue();
      // Oldest first across channels. A queue without a per-channel query cannot be fair by itself:
      // channels that cannot send now (paused, disabled) have their deliveries moved out of the way
      // (markRetry to a later time), so only a working channel's backlog can fill the batch.
      const due = await queue.due(started, this.#batch * Math.max(1, this.#channels.size));
      const byChannel = new Map<number, QueuedDelivery[]>();
      for (const delivery of due) {
        const list = byChannel.get(delivery.channelId);
        if (list) list.push(delivery);
        else byChannel.set(delivery.channelId, [delivery]);
      }
      await Promise.all(
        [...byChannel].map(([channelId, deliveries]) =>
          this.#serveChannel(queue, channelId, deliveries, started, signal),
        ),
      );
    } catch (err) {
      this.#options.log.error({ error: describeError(err) }, 'notification round failed');
    }
  }

  /** One channel's due deliveries, oldest first, one at a time. Never rejects. */
  async #serveChannel(
    queue: DeliveryQueue,
    channelId: number,
    deliveries: readonly QueuedDelivery[],
    started: number,
    signal: AbortSignal,
  ): Promise<void> {
    let attempted = 0;
    try {
      for (const delivery of deliveries) {
        const now = this.#options.now();
        if (delivery.notification.kind === 'test') {
          // sendTest makes the one attempt itself; one still pending and not under way was cut
          // short by a stop or a crash, and a test is never retried.
          if (!this.#testsInFlight.has(delivery.notification.id)) {
            await this.#giveUp(
              queue,
              delivery,
              delivery.attempts,
              'test interrupted before it was sent',
              now,
            );
          }
          continue;
        }
        const state = this.#channels.get(channelId);
        if (state === undefined) {
          await this.#giveUp(queue, delivery, delivery.attempts, 'channel deleted', now);
          continue;
        }
        if (!state.spec.enabled) {
          // Kept until the channel is enabled again (or deleted); out of the way meanwhile.
          await queue.markRetry(
            delivery.id,
            delivery.attempts,
            now + DISABLED_RECHECK_MS,
            'channel disabled: kept until it is enabled again',
          );
          continue;
        }
        if (state.pausedUntil > now) {
          await this.#hold(queue, state, delivery, now);
          continue;
        }
        if (attempted >= this.#batch || signal.aborted || now - started >= ROUND_BUDGET_MS) break;
        attempted++;
        await this.#attempt(queue, state, delivery, signal);
      }
    } catch (err) {
      this.#options.log.error(
        { channelId, error: describeError(err) },
        'notification delivery log could not be updated; the channel waits for the next round',
      );
    }
  }

  /** A paused channel's other deliveries wait for the same time, without an attempt. */
  async #hold(
    queue: DeliveryQueue,
    state: ChannelState,
    delivery: QueuedDelivery,
    now: number,
  ): Promise<void> {
    if (now - delivery.createdAt >= this.#giveUpAfterMs) {
      await this.#giveUp(
        queue,
        delivery,
        delivery.attempts,
        this.#gaveUp(delivery.attempts, state.pauseReason),
        now,
      );
      return;
    }
    await queue.markRetry(
      delivery.id,
      delivery.attempts,
      state.pausedUntil,
      `waiting: the channel is paused after a failed delivery: ${state.pauseReason}`,
    );
  }

  async #attempt(
    queue: DeliveryQueue,
    state: ChannelState,
    delivery: QueuedDelivery,
    signal: AbortSignal,
  ): Promise<void> {
    const attempts = delivery.attempts + 1;
    try {
      await this.#notifierOf(state).send(delivery.notification, signal);
    } catch (err) {
      await this.#failed(queue, state, delivery, attempts, err);
      return;
    }
    await queue.markSent(delivery.id, attempts, this.#options.now());
    this.#stats.sent++;
    this.#options.log.info(
      {
        channelId: state.spec.id,
        channel: state.spec.name,
        deliveryId: delivery.id,
        notificationId: delivery.notification.id,
        attempts,
      },
      'notification sent',
    );
  }

  async #failed(
    queue: DeliveryQueue,
    state: ChannelState,
    delivery: QueuedDelivery,
    attempts: number,
    err: unknown,
  ): Promise<void> {
    const now = this.#options.now();
    // NotifyError messages are free of secrets by contract; anything else is a plain error
    // (a bug, a notifier that could not be built from its settings), which may pass: retried.
    const error = describeError(err);
    const retryable = !(err instanceof NotifyError) || err.retryable;
    if (!retryable) {
      // Trying again cannot help (a refused request, bad credentials).
      await this.#giveUp(queue, delivery, attempts, error, now);
      return;
    }
    const delayMs = this.#backoff(attempts);
    // The receiver is in trouble: the channel's other deliveries wait too instead of each
    // opening a connection to it.
    state.pausedUntil = now + delayMs;
    state.pauseReason = error;
    if (now - delivery.createdAt >= this.#giveUpAfterMs) {
      await this.#giveUp(queue, delivery, attempts, this.#gaveUp(attempts, error), now);
      return;
    }
    await queue.markRetry(delivery.id, attempts, now + delayMs, error);
    this.#stats.retried++;
    this.#options.log.warn(
      {
        channelId: state.spec.id,
        channel: state.spec.name,
        deliveryId: delivery.id,
        notificationId: delivery.notification.id,
        attempts,
        error,
        retryInMs: delayMs,
      },
      'notification failed; will retry',
    );
  }

  /** Marks `delivery` failed for good, counts and logs it. */
  async #giveUp(
    queue: DeliveryQueue,
    delivery: QueuedDelivery,
    attempts: number,
    error: string,
    now: number,
  ): Promise<void> {
    await queue.markFailed(delivery.id, attempts, error, now);
    this.#stats.failed++;
    this.#options.log.warn(
      {
        channelId: delivery.channelId,
        channel: this.#channels.get(delivery.channelId)?.spec.name,
        deliveryId: delivery.id,
        notificationId: delivery.notification.id,
        attempts,
        error,
      },
      'notification given up',
    );
  }

  #gaveUp(attempts: number, error: string): string {
    const tries = `${attempts} ${attempts === 1 ? 'attempt' : 'attempts'}`;
    return `gave up after ${tries} in ${durationWords(this.#giveUpAfterMs)}: ${error}`;
  }

  /**
   * firstDelayMs * 2^(attempts-1) capped at maxDelayMs, spread by ±10 % and capped again: at the
   * cap the spread only shortens, so channels that failed together still come back apart.
   */
  #backoff(attempts: number): number {
    const base = Math.min(this.#maxDelayMs, this.#firstDelayMs * 2 ** (attempts - 1));
    const spread = 1 + (this.#random() * 2 - 1) * JITTER;
    return Math.round(Math.min(this.#maxDelayMs, base * spread));
  }

  // ---- Channels, notifiers, the queue ----

  #notifierOf(state: ChannelState): Notifier {
    // A worker or a test may still hold a removed channel: no notifier is built for it again.
    if (this.#channels.get(state.spec.id) !== state) throw new NotifyError('channel deleted', false);
    state.notifier ??= this.#options.notifierFor(state.spec);
    return state.notifier;
  }

  /** Closes the channel's notifier in the background (stop() waits for it). */
  #retire(state: ChannelState): void {
    const notifier = state.notifier;
    if (notifier === null) return;
    state.notifier = null;
    const closing: Promise<void> = Promise.resolve()
      .then(() => notifier.close())
      .catch((err: unknown) => {
        this.#options.log.warn(
          { channelId: state.spec.id, channel: state.spec.name, error: describeError(err) },
          'notifier did not close cleanly',
        );
      })
      .finally(() => this.#closing.delete(closing));
    this.#closing.add(closing);
  }

  #enqueueDigests(state: ChannelState, digests: readonly DigestSummary[], now: number): void {
    for (const summary of digests) {
      const types = Object.keys(summary.byType).sort().join('+');
      const ctx = this.#context(`digest-${state.spec.id}-${summary.fromMs}-${types}`, now, undefined);
      this.#enqueue(state.spec.id, digestNotification(summary, state.spec.name, ctx), now);
    }
  }

  /** Queues `n` after the enqueues before it; a failure is logged (the queue is the store's). */
  #enqueue(channelId: number, n: Notification, now: number): void {
    this.#enqueues = this.#enqueues.then(async () => {
      try {
        await this.#options.queue().enqueue(channelId, n, now);
        this.#stats.enqueued++;
        if (n.kind === 'digest') this.#stats.digests++;
      } catch (err) {
        this.#options.log.error(
          { channelId, notificationId: n.id, error: describeError(err) },
          'notification could not be queued',
        );
      }
    });
  }

  #context(id: string, at: number, link: string | undefined): NotificationContext {
    const ctx: NotificationContext = { id, at, host: this.#options.host };
    if (link !== undefined) ctx.link = link;
    return ctx;
  }

  /** The epoch ms, or one more than the last stamp when that is not later. */
  #stamp(now: number): number {
    this.#lastStamp = Math.max(Math.trunc(now), this.#lastStamp + 1);
    return this.#lastStamp;
  }
}

/** A copy the caller cannot change afterwards (the throttle keeps its filter). */
function copySpec(spec: ChannelSpec): ChannelSpec {
  return { ...spec, filter: { ...spec.filter, types: [...spec.filter.types] } };
}

/** Deep equality of filters; `types` is a set (its order means nothing). */
function sameFilter(a: ChannelFilter, b: ChannelFilter): boolean {
  if (a.minSeverity !== b.minSeverity || a.maxPerWindow !== b.maxPerWindow || a.windowMs !== b.windowMs) {
    return false;
  }
  const types = new Set(a.types);
  return new Set(b.types).size === types.size && b.types.every((type) => types.has(type));
}

/** Whether `promise` settled within `ms` (its outcome is the caller's business). */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => {
      resolve(false);
    }, ms);
  });
  const ended = promise.then(
    () => true,
    () => true,
  );
  try {
    return await Promise.race([ended, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
