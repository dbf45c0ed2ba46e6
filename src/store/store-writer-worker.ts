/**
 * Entry of the store writer's thread (see store-writer-thread.ts): opens its own connection to
 * the store, lowers its own scheduling priority, and runs a StoreWriter on the rows it is sent,
 * keeping the shared counters current and answering flush and close.
 */

import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { describeError } from '../util/errors.js';
import { openStore } from './store.js';
import { COUNT, type WriterReply, type WriterRequest, type WriterThreadData } from './store-writer-thread.js';
import { StoreWriter } from './store-writer.js';

/** The writer's nice value: below tcpdump, the packet pipeline and the API (all at 0). */
const WRITER_NICE = 10;

const port = parentPort;
if (port === null)
  throw new Error('store-writer-worker.js runs as a worker thread (see store-writer-thread.ts)');
const data = workerData as WriterThreadData;
const counts = new BigInt64Array(data.counts);
const setCount = (index: number, value: number): void => {
  Atomics.store(counts, index, BigInt(value));
};
const reply = (message: WriterReply): void => port.postMessage(message);

lowerPriority();
try {
  const store = await openStore(data.location, { migrate: false });
  const writer = new StoreWriter(store.db, {
    ...data.options,
    dialect: store.dialect,
    // The service's thread bounds the queue; rows it has posted are never turned away here.
    maxQueued: Number.MAX_SAFE_INTEGER,
    onError: (err) => reply({ type: 'error', message: err.message }),
    // Counted before the queue shrinks, so that a reader of both never sees a row in neither.
    onProgress: () => {
      setCount(COUNT.acknowledgedFlows, writer.acknowledged.flows);
      setCount(COUNT.acknowledgedAlerts, writer.acknowledged.alerts);
      setCount(COUNT.failedFlows, writer.failed.flows);
      setCount(COUNT.failedAlerts, writer.failed.alerts);
      setCount(COUNT.queued, writer.queued);
    },
  });
  port.on('message', (request: WriterRequest) => {
    if (request.type === 'rows') {
      for (const row of request.flows) writer.enqueueFlow(row);
      for (const { alert, at } of request.alerts) writer.enqueueAlert(alert, at);
      // Rows refused as malformed count as failed at once. The queue grows before `received`
      // does: a reader in between counts the rows twice, never not at all.
      setCount(COUNT.failedFlows, writer.failed.flows);
      setCount(COUNT.queued, writer.queued);
      Atomics.add(counts, COUNT.received, BigInt(request.flows.length + request.alerts.length));
      return;
    }
    const done = request.type === 'flush' ? writer.flush() : writer.close().finally(() => store.close());
    done
      .then(
        () => reply({ type: 'done', id: request.id, error: null }),
        (err: unknown) => reply({ type: 'done', id: request.id, error: describeError(err) }),
      )
      .finally(() => {
        if (request.type === 'close') port.close();
      });
  });
  reply({ type: 'ready' });
} catch (err) {
  reply({ type: 'failed', message: describeError(err) });
  port.close();
}

/**
 * Lowers this thread's priority (Linux: setpriority on its thread id works for that thread
 * alone). Elsewhere, or if it is refused, the writer runs at the service's priority.
 */
function lowerPriority(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, WRITER_NICE);
  } catch {
    // Not Linux, or not allowed: nothing to do.
  }
}
