/**
 * The notification dispatcher with the real WebhookNotifier against a real node:http receiver on
 * 127.0.0.1: alerts raised while the receiver is down wait in the queue (one connection refused,
 * not one per alert), and once it is up and the backoff has passed it gets every one of them, in
 * order and once each. The queue is an in-memory stand-in for the store's table; the clock is
 * fake, so the backoff passes without waiting for it.
 */

import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '../src/alerts/alert.js';
import {
  NotificationDispatcher,
  type DeliveryQueue,
  type DeliveryStatus,
  type QueuedDelivery,
} from '../src/alerts/notify/notification-dispatcher.js';
import type { Notification } from '../src/alerts/notify/notifier.js';
import { WebhookNotifier, type WebhookJsonBody } from '../src/alerts/notify/webhook-notifier.js';

const T0 = Date.UTC(2024, 0, 2, 3, 0, 0);
/** Stands for the token a webhook URL carries: it must show up in no error and no log. */
const TOKEN_PATH = '/hooks/T0KEN-7f3a9c2e1d';

interface Row extends QueuedDelivery {
  status: DeliveryStatus;
  error: string | null;
}

/** The delivery queue in memory, oldest first by id, as the store's table does it. */
class MemoryQueue implements DeliveryQueue {
  readonly rows: Row[] = [];

  enqueue(channelId: number, notification: Notification, now: number): Promise<number> {
    const id = this.rows.length + 1;
    this.rows.push({
      id,
      channelId,
      notification,
      attempts: 0,
      nextAttemptAt: now,
      createdAt: now,
      status: 'pending',
      error: null,
    });
    return Promise.resolve(id);
  }

  due(now: number, limit: number): Promise<QueuedDelivery[]> {
    return Promise.resolve(
      this.rows
        .filter((r) => r.status === 'pending' && r.nextAttemptAt <= now)
        .slice(0, limit)
        .map((r) => ({
          id: r.id,
          channelId: r.channelId,
          notification: r.notification,
          attempts: r.attempts,
          nextAttemptAt: r.nextAttemptAt,
          createdAt: r.createdAt,
        })),
    );
  }

  markSent(id: number, attempts: number): Promise<void> {
    Object.assign(this.row(id), { status: 'sent', attempts });
    return Promise.resolve();
  }

  markRetry(id: number, attempts: number, nextAttemptAt: number, error: string): Promise<void> {
    Object.assign(this.row(id), { attempts, nextAttemptAt, error });
    return Promise.resolve();
  }

  markFailed(id: number, attempts: number, error: string): Promise<void> {
    Object.assign(this.row(id), { status: 'failed', attempts, error });
    return Promise.resolve();
  }

  private row(id: number): Row {
    const row = this.rows.find((r) => r.id === id);
    if (row?.status !== 'pending') throw new Error(`delivery ${id} is not pending`);
    return row;
  }
}

function alert(i: number): Alert {
  return {
    id: `port_scan:10.0.0.${i}:10.0.0.9:${i}`,
    type: 'port_scan',
    severity: 'high',
    src: `10.0.0.${i}`,
    dst: '10.0.0.9',
    start: T0 * 1000,
    end: T0 * 1000,
    counters: { ports: 100 * i },
    summary: `10.0.0.${i} probed ${100 * i} ports on 10.0.0.9`,
    evidence: { thresholds: [], sampleFlows: [], topSources: [] },
    updates: 1,
  };
}

/** A port nothing listens on: bound on 127.0.0.1 by the system, then let go. */
async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

interface Received {
  path: string | undefined;
  header: string | undefined;
  body: WebhookJsonBody;
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

describe('notification dispatcher with the real webhook notifier and an HTTP receiver on 127.0.0.1', () => {
  it('delivers alerts raised while the receiver was down, once it is up: all, in order, once each', async () => {
    const port = await closedPort();
    const received: Received[] = [];
    const receiver = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({
          path: req.url,
          header: req.headers['x-flowtrack-notification'] as string | undefined,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as WebhookJsonBody,
        });
        res.writeHead(204).end();
      });
    });
    cleanup.push(async () => {
      receiver.closeAllConnections();
      if (receiver.listening) {
        receiver.close();
        await once(receiver, 'close');
      }
    });

    let clock = T0;
    const queue = new MemoryQueue();
    const logs: string[] = [];
    const log = (obj: object, msg: string): void => {
      logs.push(`${msg} ${JSON.stringify(obj)}`);
    };
    const dispatcher = new NotificationDispatcher({
      queue: () => queue,
      notifierFor: () =>
        new WebhookNotifier({ url: `http://127.0.0.1:${port}${TOKEN_PATH}`, timeoutMs: 5000 }),
      now: () => clock,
      host: 'sensor-1',
      log: { info: log, warn: log, error: log },
      random: () => 0.5,
    });
    cleanup.push(() => dispatcher.stop());
    dispatcher.setChannels([
      {
        id: 1,
        name: 'soc-webhook',
        kind: 'webhook',
        enabled: true,
        filter: { minSeverity: 'low', types: [], maxPerWindow: 10, windowMs: 600_000 },
        version: 1,
      },
    ]);

    for (let i = 1; i <= 5; i++) dispatcher.onAlert(alert(i));
    await dispatcher.flush();
    // One connection refused; the other four wait behind it without an attempt.
    expect(received).toHaveLength(0);
    expect(queue.rows.map((r) => [r.status, r.attempts, r.nextAttemptAt - T0])).toEqual([
      ['pending', 1, 5000],
      ['pending', 0, 5000],
      ['pending', 0, 5000],
      ['pending', 0, 5000],
      ['pending', 0, 5000],
    ]);
    expect(queue.rows[0]?.error).toContain('ECONNREFUSED');

    receiver.listen(port, '127.0.0.1');
    await once(receiver, 'listening');
    clock += 4999;
    await dispatcher.flush();
    expect(received).toHaveLength(0);
    clock += 1;
    await dispatcher.flush();

    expect(received.map((r) => r.body.alert?.id)).toEqual([1, 2, 3, 4, 5].map((i) => alert(i).id));
    const ids = received.map((r) => r.header);
    expect(new Set(ids).size).toBe(5);
    expect(ids).toEqual(received.map((r) => r.body.id));
    expect(received.every((r) => r.path === TOKEN_PATH)).toBe(true);
    expect(queue.rows.map((r) => [r.status, r.attempts])).toEqual([
      ['sent', 2],
      ['sent', 1],
      ['sent', 1],
      ['sent', 1],
      ['sent', 1],
    ]);
    expect(dispatcher.stats()).toMatchObject({ enqueued: 5, sent: 5, retried: 1, failed: 0 });
    // The URL's token is in no error kept and no log line.
    const written = [...queue.rows.map((r) => r.error ?? ''), ...logs].join('\n');
    expect(written).toContain(`127.0.0.1:${port}`);
    expect(written).not.toContain('T0KEN');
  });
});
