/**
 * The store writer in a thread of its own, with its own connection to the database: the
 * service's thread only hands rows over, so the API never waits behind a write, and the writer
 * can commit large transactions (SQLite wrote the flows' random-keyed indexes 2.5 times faster in
 * transactions of 10,000 flows than of 500, which on the service's thread held the API for 45 ms
 * each). The thread runs a StoreWriter at a lower scheduling priority (nice 10, on Linux): when
 * the machine is short of CPU, tcpdump, the packet pipeline and the API go first, and the writer
 * catches up from its queue. Same contract as StoreWriter (IngestWriter): enqueue never waits,
 * rows beyond `maxQueued` are dropped and counted, a row is acknowledged once committed.
 * A SQLite `:memory:` store has no second connection: start-server keeps a StoreWriter for it.
 */

import { Worker } from 'node:worker_threads';
import type { Alert } from '../alerts/alert.js';
import { ErrorCode, FlowTrackError } from '../util/errors.js';
import { workerFile } from '../util/worker-file.js';
import type { FlowRow } from './flow-repository.js';
import type { IngestWriter, RowCounts, StoreWriterOptions } from './store-writer.js';

/** The writer's counters, shared with its thread: the indexes into `WriterThreadData.counts`. */
export const COUNT = {
  /** Rows (flows and alerts) the thread has taken in. */
  received: 0,
  /** Rows waiting in the thread's StoreWriter. */
  queued: 1,
  acknowledgedFlows: 2,
  acknowledgedAlerts: 3,
  failedFlows: 4,
  failedAlerts: 5,
} as const;
const COUNTERS = Object.keys(COUNT).length;

export interface WriterThreadData {
  location: string;
  options: Pick<StoreWriterOptions, 'batchSize' | 'intervalMs' | 'maxAttempts'>;
  /** A SharedArrayBuffer of BigInt64 counters read and written with Atomics, see COUNT. */
  counts: SharedArrayBuffer;
}

/** What the service's thread sends. */
export type WriterRequest =
  | { type: 'rows'; flows: FlowRow[]; alerts: { alert: Alert; at: number }[] }
  | { type: 'flush' | 'close'; id: number };

/** What the writer's thread sends back ('ready' or 'failed' once, at start). */
export type WriterReply =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'done'; id: number; error: string | null }
  | { type: 'error'; message: string };

export type StoreWriterThreadOptions = Omit<StoreWriterOptions, 'onProgress'>;

/** Rows the service's thread collects before it posts them (it also posts at the next turn). */
const POST_ROWS = 2000;

export class StoreWriterThread implements IngestWriter {
  private readonly counts: BigInt64Array;
  private readonly maxQueued: number;
  private readonly now: () => number;
  private readonly onError: (err: FlowTrackError) => void;
  private flows: FlowRow[] = [];
  private readonly alerts = new Map<string, { alert: Alert; at: number }>();
  private postScheduled = false;
  /** Rows posted to the thread so far. */
  private sent = 0;
  private readonly droppedCounts = { flows: 0, alerts: 0 };
  private lastFailure: FlowTrackError | null = null;
  private closed = false;
  /** Set when the thread is gone: nothing more can be written. */
  private gone = false;
  private nextId = 1;
  private readonly waiting = new Map<
    number,
    { resolve: () => void; reject: (err: FlowTrackError) => void }
  >();
  private readonly exited: Promise<void>;

  private constructor(
    private readonly worker: Worker,
    counts: SharedArrayBuffer,
    options: StoreWriterThreadOptions,
  ) {
    this.counts = new BigInt64Array(counts);
    this.maxQueued = options.maxQueued ?? 100_000;
    this.now = options.now ?? Date.now;
    this.onError = options.onError ?? (() => undefined);
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
  }

  /**
   * Starts the thread on the store at `location` (already migrated) and resolves once its
   * connection is open; rejects with STORE_ERROR when it cannot open it.
   */
  static async start(location: string, options: StoreWriterThreadOptions = {}): Promise<StoreWriterThread> {
    const counts = new SharedArrayBuffer(COUNTERS * BigInt64Array.BYTES_PER_ELEMENT);
    const data: WriterThreadData = {
      location,
      options: {
        // Large transactions: this thread holds no one up while it commits.
        batchSize: options.batchSize ?? 5000,
        ...(options.intervalMs !== undefined && { intervalMs: options.intervalMs }),
        ...(options.maxAttempts !== undefined && { maxAttempts: options.maxAttempts }),
      },
      counts,
    };
    const worker = new Worker(workerFile(import.meta.url, 'store/store-writer-worker.js'), {
      workerData: data,
    });
    const writer = new StoreWriterThread(worker, counts, options);
    await new Promise<void>((resolve, reject) => {
      const onExit = (code: number): void =>
        reject(
          new FlowTrackError(ErrorCode.STORE_ERROR, `the store writer thread ended at start (code ${code})`),
        );
      worker.once('exit', onExit);
      worker.on('message', (reply: WriterReply) => {
        if (reply.type === 'ready') {
          worker.off('exit', onExit);
          resolve();
        } else if (reply.type === 'failed') {
          worker.off('exit', onExit);
          reject(new FlowTrackError(ErrorCode.STORE_ERROR, reply.message));
        } else {
          writer.onReply(reply);
        }
      });
      worker.on('error', (err) => writer.threadFailed(err.message));
    });
    worker.once('exit', () => writer.threadFailed('the store writer thread ended'));
    return writer;
  }

  enqueueFlow(row: FlowRow): boolean {
    if (this.closed || this.gone || this.queued >= this.maxQueued) {
      this.droppedCounts.flows++;
      return false;
    }
    this.flows.push(row);
    this.schedulePost();
    return true;
  }

  enqueueAlert(alert: Alert): boolean {
    if (this.closed || this.gone || (!this.alerts.has(alert.id) && this.queued >= this.maxQueued)) {
      this.droppedCounts.alerts++;
      return false;
    }
    // A newer report of the same alert replaces the one not posted yet.
    this.alerts.delete(alert.id);
    this.alerts.set(alert.id, { alert, at: this.now() });
    this.schedulePost();
    return true;
  }

  get queued(): number {
    // `received` first: the thread grows its queue before `received`, so a row is never missed
    // (at worst counted twice for a moment).
    const inTransit = this.sent - this.count(COUNT.received);
    return this.flows.length + this.alerts.size + inTransit + this.count(COUNT.queued);
  }

  get acknowledged(): RowCounts {
    return { flows: this.count(COUNT.acknowledgedFlows), alerts: this.count(COUNT.acknowledgedAlerts) };
  }

  get dropped(): RowCounts {
    return { ...this.droppedCounts };
  }

  get failed(): RowCounts {
    return { flows: this.count(COUNT.failedFlows), alerts: this.count(COUNT.failedAlerts) };
  }

  get lastError(): FlowTrackError | null {
    return this.lastFailure;
  }

  /** Resolves once everything queued before the call is committed; rejects like StoreWriter.flush. */
  flush(): Promise<void> {
    return this.request('flush');
  }

  /** Refuses new rows, writes what is queued, closes the thread's connection and ends it. */
  async close(): Promise<void> {
    if (this.closed) return this.exited;
    this.closed = true;
    try {
      if (!this.gone) await this.request('close');
    } finally {
      await this.exited;
    }
  }

  private count(index: number): number {
    return Number(Atomics.load(this.counts, index));
  }

  private schedulePost(): void {
    if (this.flows.length + this.alerts.size >= POST_ROWS) {
      this.post();
      return;
    }
    if (this.postScheduled) return;
    this.postScheduled = true;
    setImmediate(() => {
      this.postScheduled = false;
      this.post();
    });
  }

  private post(): void {
    if (this.gone || (this.flows.length === 0 && this.alerts.size === 0)) return;
    const request: WriterRequest = { type: 'rows', flows: this.flows, alerts: [...this.alerts.values()] };
    this.sent += this.flows.length + this.alerts.size;
    this.flows = [];
    this.alerts.clear();
    this.worker.postMessage(request);
  }

  private request(type: 'flush' | 'close'): Promise<void> {
    if (this.gone) return Promise.reject(this.lastFailure ?? goneError('the store writer thread ended'));
    this.post();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ type, id } satisfies WriterRequest);
    });
  }

  private onReply(reply: WriterReply): void {
    if (reply.type === 'error') {
      this.lastFailure = new FlowTrackError(ErrorCode.STORE_ERROR, reply.message);
      this.onError(this.lastFailure);
    } else if (reply.type === 'done') {
      const waiter = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (reply.error === null) waiter?.resolve();
      else waiter?.reject(new FlowTrackError(ErrorCode.STORE_ERROR, reply.error));
    }
  }

  /** The thread failed or ended: what it had not written is lost, and said so. */
  private threadFailed(message: string): void {
    if (this.gone) return;
    this.gone = true;
    if (this.closed && this.waiting.size === 0) return;
    const err = goneError(message);
    this.lastFailure = err;
    this.onError(err);
    for (const waiter of this.waiting.values()) waiter.reject(err);
    this.waiting.clear();
  }
}

function goneError(message: string): FlowTrackError {
  return new FlowTrackError(
    ErrorCode.STORE_ERROR,
    `${message}: flows and alerts are no longer stored; restart the service (the server log says why)`,
  );
}
