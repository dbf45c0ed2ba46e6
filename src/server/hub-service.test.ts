/**
 * HubService's own housekeeping, with a real SQLite store and no NATS server (the bus stays
 * unreachable, as a hub started before its bus would find it): the ids of stored batches are
 * forgotten once the sensors stream can no longer deliver their batch again, and not before.
 * The bus itself is exercised against a real nats-server in test/bus-nats-real.test.ts.
 */

import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SENSORS_MAX_AGE_MS } from '../bus/bus-subjects.js';
import { serviceConfigSchema } from '../config/service-config.js';
import { openStore, type Store } from '../store/store.js';
import { HubService } from './hub-service.js';
import { LiveFeed } from './live-feed.js';
import { StoreHolder } from './store-holder.js';

const NOW = 1_750_000_000_000;
const DAY = 86_400_000;

let store: Store | null = null;
let hub: HubService | null = null;

afterEach(async () => {
  await hub?.stop();
  await store?.close();
  hub = null;
  store = null;
});

describe('HubService (no bus reachable: only its housekeeping is under test)', () => {
  it("forgets stored batches' message ids older than the stream keeps messages, and a day more", async () => {
    const db = await openStore(':memory:');
    store = db;
    const kept = NOW - SENSORS_MAX_AGE_MS - DAY + 60_000;
    const old = NOW - SENSORS_MAX_AGE_MS - DAY - 60_000;
    await db.sensors.storeBatch('sa-1', 'sa', [], old);
    await db.sensors.storeBatch('sa-2', 'sa', [], kept);
    const parsed = serviceConfigSchema.parse({ bus: { url: 'nats://127.0.0.1:1' } });
    hub = new HubService({
      // The hub keeps no buffer: only sensors do.
      bus: { ...parsed.bus, bufferDir: '' },
      store: new StoreHolder(db),
      prepareAlert: (a) => a,
      onAlert: () => undefined,
      feed: new LiveFeed(() => NOW),
      logger: pino({ level: 'silent' }),
      now: () => NOW,
    });
    hub.start([]);
    const ids = async () =>
      (await db.db.selectFrom('bus_messages').select('id').orderBy('id').execute()).map((r) => r.id);
    await expect.poll(ids, { timeout: 5000 }).toEqual(['sa-2']);
    // The kept batch is still recognised as delivered before.
    expect(await db.sensors.storeBatch('sa-2', 'sa', [], NOW)).toBe(false);
  });
});
