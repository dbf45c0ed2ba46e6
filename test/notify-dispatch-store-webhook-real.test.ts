/**
 * The notification dispatcher as the server runs it: the real delivery queue and log (the
 * store's notification_deliveries table, SQLite on disk) and the real WebhookNotifier against a
 * real node:http receiver on 127.0.0.1. The clock is fake, so backoff and rate-limit windows pass
 * without waiting for them.
 *
 * - Alerts raised while the receiver is down wait in the queue (one connection refused, not one
 *   per alert) and reach it once it is back, in order and once each.
 * - A flood of 10,000 alert updates in a minute (400 alerts) gives at most the rate limit's
 *   notifications plus digests, whose counts account for every alert held back; with the receiver
 *   down throughout and the server restarted in between (the store closed and opened again, a new
 *   dispatcher), every one of them is delivered afterwards and the delivery log shows each sent.
 */

import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert, AlertType } from '../src/alerts/alert.js';
import { NotificationDispatcher, type ChannelSpec } from '../src/alerts/notify/notification-dispatcher.js';
import { WebhookNotifier, type WebhookJsonBody } from '../src/alerts/notify/webhook-notifier.js';
import type { DeliveryRecord } from '../src/store/notification-repository.js';
import { openStore, type Store } from '../src/store/store.js';

const T0 = Date.UTC(2024, 0, 2, 3, 0, 0);
/** Stands for the token a webhook URL carries: it must show up in no error and no log. */
const TOKEN_PATH = '/hooks/T0KEN-7f3a9c2e1d';

function alert(i: number, type: AlertType = 'port_scan', updates = 1): Alert {
  return {
    id: `${type}-run1-${i}`,
    type,
    severity: 'high',
    src: `10.0.${i >> 8}.${i & 255}`,
    dst: '10.9.0.9',
    start: T0 * 1000,
    end: T0 * 1000 + updates,
    counters: { ports: 100 + updates },
    summary: `10.0.${i >> 8}.${i & 255} probed ${100 + updates} ports on 10.9.0.9`,
    evidence: { thresholds: [], sampleFlows: [], topSources: [] },
    updates,
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
  header: string | undefined;
  path: string | undefined;
  body: WebhookJsonBody;
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
});

/** A receiver for `port` that is not listening yet; closed after the test. */
function receiverOn(port: number) {
  const received: Received[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        header: req.headers['x-flowtrack-notification'] as string | undefined,
        path: req.url,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as WebhookJsonBody,
      });
      res.writeHead(204).end();
    });
  });
  cleanup.push(async () => {
    server.closeAllConnections();
    if (server.listening) {
      server.close();
      await once(server, 'close');
    }
  });
  return {
    received,
    async start() {
      server.listen(port, '127.0.0.1');
      await once(server, 'listening');
    },
  };
}

function tempStore(): { path: string; open: () => Promise<Store> } {
  const dir = mkdtempSync(join(tmpdir(), 'flowtrack-notify-'));
  cleanup.push(() => {
    rmSync(dir, { recursive: true, force: true });
    return Promise.resolve();
  });
  const path = join(dir, 'flowtrack.db');
  return { path, open: () => openStore(path) };
}

/** The store's channel row and the dispatcher's spec of it. */
async function webhookChannel(store: Store, port: number, maxPerWindow: number): Promise<ChannelSpec> {
  const channel = await store.channels.create(
    {
      name: 'soc-webhook',
      kind: 'webhook',
      enabled: true,
      minSeverity: 'low',
      types: [],
      maxPerWindow,
      windowMinutes: 10,
      settings: { url: `http://127.0.0.1:${port}${TOKEN_PATH}`, format: 'json' },
    },
    'ada',
    T0,
  );
  return {
    id: channel.id,
    name: channel.name,
    kind: 'webhook',
    enabled: true,
    filter: { minSeverity: 'low', types: [], maxPerWindow, windowMs: 600_000 },
    version: channel.updatedAt,
  };
}

function dispatcherFor(store: Store, port: number, clock: { now: number }, logs: string[]) {
  const log = (obj: object, msg: string): void => {
    logs.push(`${msg} ${JSON.stringify(obj)}`);
  };
  const dispatcher = new NotificationDispatcher({
    queue: () => store.deliveries,
    notifierFor: () => new WebhookNotifier({ url: `http://127.0.0.1:${port}${TOKEN_PATH}`, timeoutMs: 5000 }),
    now: () => clock.now,
    host: 'sensor-1',
    log: { info: log, warn: log, error: log },
    random: () => 0.5,
    batch: 500,
  });
  cleanup.push(() => dispatcher.stop());
  return dispatcher;
}

async function deliveryLog(store: Store): Promise<DeliveryRecord[]> {
  return (await store.deliveries.list({ limit: 1000 })).items.reverse();
}

describe('notification dispatcher on the store’s delivery queue, with a real webhook receiver on 127.0.0.1', () => {
  it('delivers alerts raised while the receiver was down, once it is up: all, in order, once each', async () => {
    const port = await closedPort();
    const receiver = receiverOn(port);
    const { open } = tempStore();
    const store = await open();
    cleanup.push(() => store.close());
    const clock = { now: T0 };
    const logs: string[] = [];
    const dispatcher = dispatcherFor(store, port, clock, logs);
    dispatcher.setChannels([await webhookChannel(store, port, 10)]);

    for (let i = 1; i <= 5; i++) dispatcher.onAlert(alert(i));
    await dispatcher.flush();
    expect(receiver.received).toHaveLength(0);
    const waiting = await deliveryLog(store);
    expect(waiting.map((d) => [d.status, d.alertId])).toEqual(
      [1, 2, 3, 4, 5].map((i) => ['pending', alert(i).id]),
    );
    // One connection refused; the other four wait behind it without an attempt of their own.
    expect(waiting.map((d) => d.attempts)).toEqual([1, 0, 0, 0, 0]);
    expect(waiting[0]?.lastError).toContain('ECONNREFUSED');

    await receiver.start();
    clock.now += 4_999;
    await dispatcher.flush();
    expect(receiver.received).toHaveLength(0);
    clock.now += 1;
    await dispatcher.flush();

    expect(receiver.received.map((r) => r.body.alert?.id)).toEqual([1, 2, 3, 4, 5].map((i) => alert(i).id));
    const ids = receiver.received.map((r) => r.header);
    expect(new Set(ids).size).toBe(5);
    expect(ids).toEqual(receiver.received.map((r) => r.body.id));
    expect(receiver.received.every((r) => r.path === TOKEN_PATH)).toBe(true);
    const sent = await deliveryLog(store);
    expect(sent.map((d) => [d.status, d.attempts, d.sentAt])).toEqual([
      ['sent', 2, T0 + 5_000],
      ['sent', 1, T0 + 5_000],
      ['sent', 1, T0 + 5_000],
      ['sent', 1, T0 + 5_000],
      ['sent', 1, T0 + 5_000],
    ]);
    // The URL's token is in no error kept and no log line.
    const written = [...waiting.map((d) => d.lastError ?? ''), ...logs].join('\n');
    expect(written).toContain(`127.0.0.1:${port}`);
    expect(written).not.toContain('T0KEN');
  });

  it('turns 10,000 updates in a minute into the rate limit plus digests, keeps them across a restart while the receiver is down, and delivers every one', async () => {
    const port = await closedPort();
    const receiver = receiverOn(port);
    const { open } = tempStore();
    let store = await open();
    const clock = { now: T0 };
    const logs: string[] = [];
    let dispatcher = dispatcherFor(store, port, clock, logs);
    const spec = await webhookChannel(store, port, 10);
    dispatcher.setChannels([spec]);

    // 400 alerts (300 port scans, 100 SYN floods), each updated 25 times: 10,000 updates, spread
    // evenly over one minute, with the dispatcher's round every second as the server's timer does.
    const ALERTS = 400;
    const UPDATES = 25;
    const typeOf = (i: number): AlertType => (i % 4 === 3 ? 'syn_flood' : 'port_scan');
    let updates = 0;
    for (let round = 1; round <= UPDATES; round++) {
      for (let i = 1; i <= ALERTS; i++) {
        dispatcher.onAlert(alert(i, typeOf(i), round));
        updates++;
        clock.now = T0 + Math.floor((updates * 60_000) / (ALERTS * UPDATES));
        if (updates % 167 === 0) await dispatcher.flush();
      }
    }
    expect(updates).toBe(10_000);
    expect(clock.now - T0).toBe(60_000);
    await dispatcher.flush();
    // The rate limit is per channel and alert type: 10 port scans and 10 SYN floods were told.
    let log = await deliveryLog(store);
    expect(log.filter((d) => d.kind === 'alert')).toHaveLength(20);
    expect(log.every((d) => d.status === 'pending')).toBe(true);
    expect(receiver.received).toHaveLength(0);

    // The windows (10 min from each type’s first alert) end: one digest per type, still pending, the receiver still down.
    clock.now = T0 + 601_000;
    await dispatcher.flush();
    log = await deliveryLog(store);
    expect(log.map((d) => d.kind).filter((k) => k === 'digest')).toHaveLength(2);

    // The server stops and starts again: a new store connection and a new dispatcher.
    await dispatcher.stop();
    await store.close();
    store = await open();
    cleanup.push(() => store.close());
    dispatcher = dispatcherFor(store, port, clock, logs);
    dispatcher.setChannels([spec]);
    expect((await store.deliveries.counts()).pending).toBe(22);

    await receiver.start();
    // Past any backoff (at most 5 min), then rounds until nothing is left.
    for (let i = 0; i < 10 && (await store.deliveries.counts()).pending > 0; i++) {
      clock.now += 300_000;
      await dispatcher.flush();
    }
    log = await deliveryLog(store);
    expect(log.map((d) => d.status)).toEqual(new Array<string>(22).fill('sent'));
    expect(receiver.received).toHaveLength(22);
    expect(new Set(receiver.received.map((r) => r.header)).size).toBe(22);
    const told = receiver.received.filter((r) => r.body.kind === 'alert').map((r) => r.body.alert?.id);
    const expectedTold = [
      ...Array.from({ length: 400 }, (_, k) => k + 1)
        .filter((i) => typeOf(i) === 'port_scan')
        .slice(0, 10),
      ...Array.from({ length: 400 }, (_, k) => k + 1)
        .filter((i) => typeOf(i) === 'syn_flood')
        .slice(0, 10),
    ].map((i) => alert(i, typeOf(i)).id);
    expect([...told].sort()).toEqual([...expectedTold].sort());
    const digests = receiver.received.filter((r) => r.body.kind === 'digest').map((r) => r.body.digest);
    expect(
      digests
        .map((d) => d?.byType)
        .sort((a, b) => Object.keys(a ?? {})[0]!.localeCompare(Object.keys(b ?? {})[0]!)),
    ).toEqual([{ port_scan: 290 }, { syn_flood: 90 }]);
    // Every one of the 400 alerts is accounted for: told, or counted in a digest.
    expect(told.length + digests.reduce((sum, d) => sum + (d?.count ?? 0), 0)).toBe(ALERTS);
    expect(receiver.received.find((r) => r.body.kind === 'digest')?.body.title).toMatch(
      /^(290 more port_scan|90 more syn_flood) alerts in the last 10 min/,
    );
    expect(logs.join('\n')).not.toContain('T0KEN');
  });
});
