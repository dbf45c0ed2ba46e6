import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { flowRow } from '../../test/helpers/store-suite.js';
import { StoreWriter } from './store-writer.js';
import { openStore } from './store.js';

const dir = mkdtempSync(join(tmpdir(), 'flowtrack-writer-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('StoreWriter on SQLite', () => {
  it('lets the event loop run between batches of a burst (regression: a flood of ended flows froze the API)', async () => {
    const store = await openStore(join(dir, 'burst.db'));
    const writer = new StoreWriter(store.db, { intervalMs: 60_000, batchSize: 1000 });
    try {
      for (let i = 0; i < 20_000; i++) writer.enqueueFlow(flowRow({ srcPort: 1024 + (i % 60_000) }));
      // A timer stands for an HTTP request waiting its turn: it must run while the burst is written.
      let acknowledgedWhenTimerRan = -1;
      const timer = new Promise<void>((resolve) =>
        setTimeout(() => {
          acknowledgedWhenTimerRan = writer.acknowledged.flows;
          resolve();
        }, 0),
      );
      await Promise.all([writer.flush(), timer]);
      expect(writer.acknowledged.flows).toBe(20_000);
      expect(acknowledgedWhenTimerRan).toBeGreaterThanOrEqual(0);
      expect(acknowledgedWhenTimerRan).toBeLessThan(20_000);
    } finally {
      await writer.close();
      await store.close();
    }
  });
});
