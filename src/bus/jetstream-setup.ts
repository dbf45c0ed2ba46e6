/**
 * Makes the bus's streams and durable consumers be what FlowTrack needs: created when missing,
 * updated when an older version (or an admin) left them with other settings, left alone when
 * they match. Also turns the client's errors into sentences an admin can act on.
 *
 * Must never: delete a stream or a consumer (their messages and positions are the data), or
 * change a setting that cannot be changed in place (a stream's storage) - that is logged instead.
 */

import {
  JetStreamApiCodes,
  JetStreamApiError,
  type Consumer,
  type ConsumerConfig,
  type JetStreamManager,
  type JsMsg,
  type StreamConfig,
} from '@nats-io/jetstream';
import { errors } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { describeError } from '../util/errors.js';

type StreamSettings = Partial<StreamConfig> & { name: string };
type ConsumerSettings = Partial<ConsumerConfig> & { durable_name: string };

/** Creates the stream, or updates the settings of `wanted` that differ; returns what was done. */
export async function ensureStream(
  jsm: JetStreamManager,
  wanted: StreamSettings,
  logger: Logger,
): Promise<'created' | 'updated' | 'unchanged'> {
  let current: StreamConfig;
  try {
    current = (await jsm.streams.info(wanted.name)).config;
  } catch (err) {
    if (!isNotFound(err, JetStreamApiCodes.StreamNotFound)) throw err;
    await jsm.streams.add(wanted);
    logger.info({ stream: wanted.name }, 'created the JetStream stream');
    return 'created';
  }
  if (wanted.storage !== undefined && current.storage !== wanted.storage) {
    logger.warn(
      { stream: wanted.name, storage: current.storage, wanted: wanted.storage },
      'the stream keeps its storage type (it cannot be changed in place): recreate it to change it',
    );
  }
  const changeable = withoutKeys(wanted, ['storage']);
  const differs = Object.entries(changeable).filter(
    ([key, value]) => JSON.stringify(current[key as keyof StreamConfig]) !== JSON.stringify(value),
  );
  if (differs.length === 0) return 'unchanged';
  await jsm.streams.update(wanted.name, { ...current, ...changeable });
  logger.info({ stream: wanted.name, changed: differs.map(([key]) => key) }, 'updated the JetStream stream');
  return 'updated';
}

/** Creates the durable consumer, or updates the settings of `wanted` that differ. */
export async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  wanted: ConsumerSettings,
): Promise<void> {
  let current: ConsumerConfig;
  try {
    current = (await jsm.consumers.info(stream, wanted.durable_name)).config;
  } catch (err) {
    if (!isNotFound(err, JetStreamApiCodes.ConsumerNotFound)) throw err;
    await jsm.consumers.add(stream, wanted);
    return;
  }
  const differs = Object.entries(wanted).some(
    ([key, value]) => JSON.stringify(current[key as keyof ConsumerConfig]) !== JSON.stringify(value),
  );
  // deliver_policy and the durable name cannot change; the rest (acks, limits) can.
  if (differs) {
    await jsm.consumers.update(
      stream,
      wanted.durable_name,
      withoutKeys(wanted, ['deliver_policy', 'durable_name']),
    );
  }
}

/** How long one pull waits for messages before it ends and the next one starts. */
const PULL_EXPIRES_MS = 2000;

/**
 * Reads a durable consumer in pulls of at most `batchSize` messages and hands each message to
 * `handle`, until `stopped()` or an error (the connection lost, the consumer deleted: the caller
 * sets it up again). Pulls rather than a long-lived consume(), so that no message waits in a
 * client-side queue: once stopped, what still arrives of the last pull is nak'ed at once and goes
 * to the next reader now instead of after the consumer's ack_wait.
 */
export async function pullUntilStopped(
  consumer: Consumer,
  batchSize: number,
  handle: (m: JsMsg) => Promise<void>,
  stopped: () => boolean,
): Promise<void> {
  while (!stopped()) {
    const messages = await consumer.fetch({ max_messages: batchSize, expires: PULL_EXPIRES_MS });
    for await (const m of messages) {
      if (stopped()) m.nak();
      else await handle(m);
    }
  }
}

function withoutKeys<T extends object, K extends keyof T>(object: T, keys: readonly K[]): Omit<T, K> {
  return Object.fromEntries(Object.entries(object).filter(([key]) => !keys.includes(key as K))) as Omit<T, K>;
}

function isNotFound(err: unknown, code: number): boolean {
  return err instanceof JetStreamApiError && err.code === code;
}

/** One line for an error of the client, with what to do where that is known. */
export function describeBusError(err: unknown, subject?: string): string {
  const text = describeError(err);
  if (/no responders|jetstream is not enabled/i.test(text)) {
    return subject === undefined
      ? "JetStream does not answer: start nats-server with JetStream (-js) and check the account's limits"
      : `no JetStream stream takes ${subject}: start the hub (it creates the streams), check the bus prefix and that the server runs JetStream`;
  }
  if (isNotFound(err, JetStreamApiCodes.StreamNotFound)) {
    return `${text}: start the hub (it creates the streams) or check the bus prefix`;
  }
  if (/insufficient (storage )?resources/i.test(text)) {
    return `${text}: the server's JetStream has less room than the streams ask for: lower the sensors stream's maxBytes or raise max_file_store`;
  }
  if (err instanceof errors.TimeoutError) return `NATS did not answer in time (${text})`;
  if (err instanceof errors.PermissionViolationError) {
    return `the NATS server does not allow this client that (${text}): check its permissions`;
  }
  return text;
}
