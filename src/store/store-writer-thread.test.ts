import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alert, BASE_US, flowRow } from '../../test/helpers/store-suite.js';
import { ErrorCode } from '../util/errors.js';
import { StoreWriterThread } from './store-writer-thread.js';
import { openStore } from './store.js';

const dir = mkdtempSync(join(tmpdir(), 'flowtrack-writer-thread-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The nice values of this process's threads (Linux), by thread id. */
function threadNiceValues(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    // Fields after the command name in parentheses; nice is the 19th field of the line.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

describe('StoreWriterThread on SQLite (its own thread and connection)', () => {
  it('stores every flow and the newest report of each alert, counts them, and flush waits for them', async () => {
    const file = join(dir, 'all.db');
    const store = await openStore(file);
    const writer = await StoreWriterThread.start(file, { batchSize: 2000, now: () => 1_700_000_000_000 });
    try {
      for (let i = 0; i < 25_000; i++)
        expect(writer.enqueueFlow(flowRow({ srcPort: 1024 + (i % 60_000) }))).toBe(true);
      writer.enqueueAlert(alert('a-1'));
      writer.enqueueAlert(alert('a-1', { updates: 3, counters: { ports: 300 } }));
      writer.enqueueAlert(alert('a-2'));
      // Its thread writes while this one enqueues: some may be committed already.
      expect(writer.queued + writer.acknowledged.flows + writer.acknowledged.alerts).toBe(25_002);
      await writer.flush();
      expect(writer.queued).toBe(0);
      expect(writer.acknowledged).toEqual({ flows: 25_000, alerts: 2 });
      expect(writer.dropped).toEqual({ flows: 0, alerts: 0 });
      const flows = await store.db
        .selectFrom('flows')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .execute();
      expect(Number(flows[0]?.n)).toBe(25_000);
      const stored = await store.alerts.findById('a-1');
      expect(stored?.counters).toEqual({ ports: 300 });
      // The rollups were written in the same transactions.
      const traffic = await store.flows.traffic(BASE_US, BASE_US + 60_000_000, 60);
      expect(traffic[0]?.flows).toBe(25_000);
    } finally {
      await writer.close();
      await store.close();
    }
  });

  it('drops and counts what comes beyond its bound or after close, and counts malformed rows as failed', async () => {
    const file = join(dir, 'bound.db');
    const store = await openStore(file);
    const writer = await StoreWriterThread.start(file, { maxQueued: 10 });
    try {
      for (let i = 0; i < 100; i++) writer.enqueueFlow(flowRow({ srcPort: 1024 + i }));
      expect(writer.dropped.flows).toBe(90);
      await writer.flush();
      expect(writer.acknowledged.flows).toBe(10);
      writer.enqueueFlow(flowRow({ packetsToServer: Number.NaN }));
      await writer.flush();
      expect(writer.acknowledged.flows).toBe(10);
      expect(writer.failed.flows).toBe(1);
      await writer.close();
      expect(writer.enqueueFlow(flowRow())).toBe(false);
      expect(writer.dropped.flows).toBe(91);
      await writer.close();
    } finally {
      await store.close();
    }
  });

  it('runs below the service thread priority (nice 10 on Linux)', async () => {
    const file = join(dir, 'nice.db');
    const store = await openStore(file);
    const before = threadNiceValues().filter((n) => n === 10).length;
    const writer = await StoreWriterThread.start(file);
    try {
      expect(threadNiceValues().filter((n) => n === 10).length).toBe(before + 1);
    } finally {
      await writer.close();
      await store.close();
    }
  });

  it('fails to start with STORE_ERROR and the reason when it cannot open the store', async () => {
    const notADatabase = join(dir, 'text.db');
    rmSync(notADatabase, { force: true });
    writeFileSync(
      notADatabase,
      'this is not a database, only some text that is long enough to be read'.repeat(100),
    );
    await expect(StoreWriterThread.start(notADatabase)).rejects.toMatchObject({
      code: ErrorCode.STORE_ERROR,
      message: expect.stringContaining('not a SQLite database') as unknown,
    });
  });
});
