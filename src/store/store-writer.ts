/**
 * The pipeline's way into the database: `enqueueFlow` and `enqueueAlert` only push onto a
 * bounded queue and return at once, so a slow disk or a PostgreSQL hiccup never stalls packet
 * processing; the queue is written every 250 ms, or as soon as a batch is full, one transaction
 * per batch. A row counts as acknowledged only once its transaction has committed. Beyond the
 * bound rows are dropped and counted (memory stays bounded under a flood); they are never
 * silently lost. A failed batch is kept and tried again with growing pauses (a PostgreSQL
 * restart takes seconds), and given up on, counted, only after `maxAttempts`; rows with a field
 * the database would refuse are turned away at enqueue, so one bad row cannot hold the queue.
 * It never waits on the database inside enqueue.
 */

import type { Kysely } from 'kysely';
import type { Alert } from '../alerts/alert.js';
import { ErrorCode, FlowTrackError, describeError } from '../util/errors.js';
import { AlertRepository } from './alert-repository.js';
import { FlowRepository, type FlowRow } from './flow-repository.js';
import type { Database } from './schema.js';
import type { DialectName } from './store-dialect.js';

export interface StoreWriterOptions {
  /** The database's dialect: PostgreSQL takes flows as arrays (bulk-insert.ts). Default sqlite. */
  dialect?: DialectName;
  /** Rows (flows plus alerts) waiting at most; more are dropped and counted. Default 100 000. */
  maxQueued?: number;
  /**
   * Rows per transaction, and the queue length that starts a write at once. Default 500: a
   * transaction holds the event loop (SQLite is synchronous), and 2000 flows with their rollups
   * took about 110 ms, the API's p99 under live capture; 500 keep it near 30 ms.
   */
  batchSize?: number;
  /** Writes what is queued at least this often. Default 250 ms. */
  intervalMs?: number;
  /**
   * Times a failed batch is tried before it is given up (and counted in `failed`). Between
   * automatic tries the writer waits twice as long each time, from `intervalMs` up to 30 s; the
   * default 10 rides out about two minutes of outage.
   */
  maxAttempts?: number;
  /** Server clock for alerts' updated_at. */
  now?: () => number;
  /** Told about a failed write (the timer's writes have no caller to reject). */
  onError?: (err: FlowTrackError) => void;
  /** Told after each batch committed or failed (the counts changed). */
  onProgress?: () => void;
}

/**
 * What the service writes its flows and alerts through: a StoreWriter on the service's own
 * thread, or one in a thread of its own (StoreWriterThread).
 */
export interface IngestWriter {
  enqueueFlow(row: FlowRow): boolean;
  enqueueAlert(alert: Alert): boolean;
  readonly queued: number;
  readonly acknowledged: RowCounts;
  readonly dropped: RowCounts;
  readonly failed: RowCounts;
  readonly lastError: FlowTrackError | null;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Rows per kind. */
export interface RowCounts {
  flows: number;
  alerts: number;
}

interface QueuedAlert {
  alert: Alert;
  at: number;
  attempts: number;
}

export class StoreWriter implements IngestWriter {
  private readonly maxQueued: number;
  private readonly batchSize: number;
  private readonly maxAttempts: number;
  private readonly now: () => number;
  private readonly onError: (err: FlowTrackError) => void;
  private readonly onProgress: () => void;
  private flows: FlowRow[] = [];
  /** Attempts already made on the first `retryFlows` rows of `flows` (a failed batch put back). */
  private flowAttempts = 0;
  private retryFlows = 0;
  /** By id: a newer report of the same alert replaces the queued one, which saves a write. */
  private readonly alerts = new Map<string, QueuedAlert>();
  private readonly timer: NodeJS.Timeout;
  private draining: Promise<void> | null = null;
  private drainScheduled = false;
  private closed = false;
  private readonly counts = {
    acknowledged: { flows: 0, alerts: 0 },
    dropped: { flows: 0, alerts: 0 },
    failed: { flows: 0, alerts: 0 },
  };
  private lastFailure: FlowTrackError | null = null;
  /** Failed writes in a row, and the time (Date.now) before which the timer does not retry. */
  private failuresInRow = 0;
  private retryAt = 0;
  private readonly intervalMs: number;
  private readonly dialect: DialectName;

  constructor(
    private readonly db: Kysely<Database>,
    options: StoreWriterOptions = {},
  ) {
    this.dialect = options.dialect ?? 'sqlite';
    this.maxQueued = options.maxQueued ?? 100_000;
    this.batchSize = options.batchSize ?? 500;
    this.maxAttempts = options.maxAttempts ?? 10;
    this.intervalMs = options.intervalMs ?? 250;
    this.now = options.now ?? Date.now;
    this.onError = options.onError ?? (() => undefined);
    this.onProgress = options.onProgress ?? (() => undefined);
    this.timer = setInterval(() => {
      if (this.queued > 0 && Date.now() >= this.retryAt) this.startDrain().catch(() => undefined);
    }, this.intervalMs);
    // The writer must not keep a finished process alive; close() writes what is left.
    this.timer.unref();
  }

  /**
   * Queues a flow; false when it was dropped (queue full or writer closed: counted in `dropped`)
   * or refused (a field the database would reject: counted in `failed`). Never waits.
   */
  enqueueFlow(row: FlowRow): boolean {
    if (this.closed || this.queued >= this.maxQueued) {
      this.counts.dropped.flows++;
      return false;
    }
    const problem = flowRowProblem(row);
    if (problem !== null) {
      this.counts.failed.flows++;
      this.lastFailure = new FlowTrackError(ErrorCode.STORE_ERROR, `a flow was not stored: ${problem}`);
      return false;
    }
    this.flows.push(row);
    if (this.flows.length >= this.batchSize) this.scheduleDrain();
    return true;
  }

  /**
   * Queues an alert (replacing a queued older version of it), updated at `at` (default: now);
   * false when dropped. Never waits.
   */
  enqueueAlert(alert: Alert, at = this.now()): boolean {
    const queued = this.alerts.get(alert.id);
    if (this.closed || (queued === undefined && this.queued >= this.maxQueued)) {
      this.counts.dropped.alerts++;
      return false;
    }
    this.alerts.set(alert.id, { alert, at, attempts: 0 });
    return true;
  }

  /** Rows waiting to be written. */
  get queued(): number {
    return this.flows.length + this.alerts.size;
  }

  /** Rows committed to the database. */
  get acknowledged(): RowCounts {
    return { ...this.counts.acknowledged };
  }

  /** Rows refused because the queue was full or the writer closed. */
  get dropped(): RowCounts {
    return { ...this.counts.dropped };
  }

  /** Rows given up on after `maxAttempts` failed writes. */
  get failed(): RowCounts {
    return { ...this.counts.failed };
  }

  /** The last write failure, if any (for health reporting). */
  get lastError(): FlowTrackError | null {
    return this.lastFailure;
  }

  /**
   * Writes everything queued before the call; resolves once it is committed. Rejects with
   * STORE_ERROR when a batch failed (its rows stay queued for another try, up to `maxAttempts`).
   */
  async flush(): Promise<void> {
    // A drain in progress may have taken its rows before this call's rows arrived: wait for it,
    // then drain again so that everything queued by now is written.
    if (this.draining) await this.draining.catch(() => undefined);
    if (this.queued > 0) await this.startDrain();
  }

  /** Stops the timer, refuses new rows and writes what is queued. Does not close the store. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.flush();
  }

  /**
   * Starts a drain on the next turn of the event loop, not inside the caller: a caller that
   * enqueues thousands of rows in one go (a message from the pipeline worker) must not write them
   * batch by batch before it returns.
   */
  private scheduleDrain(): void {
    if (this.drainScheduled || this.draining !== null || Date.now() < this.retryAt) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      if (this.queued > 0) this.startDrain().catch(() => undefined);
    });
  }

  private startDrain(): Promise<void> {
    this.draining ??= this.drain().finally(() => {
      this.draining = null;
    });
    return this.draining;
  }

  private async drain(): Promise<void> {
    for (let batch = 0; this.queued > 0; batch++) {
      // One batch per turn of the event loop: SQLite's calls are synchronous and their promises
      // settle as microtasks, so without this a burst of 200,000 flows (a flood's flows ending
      // together) was written in one 10-second stretch in which the API answered nothing.
      if (batch > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const flows = this.flows.splice(0, this.batchSize);
      const flowAttempts = this.retryFlows > 0 ? this.flowAttempts : 0;
      this.retryFlows = Math.max(0, this.retryFlows - flows.length);
      const alerts: QueuedAlert[] = [];
      for (const queued of this.alerts.values()) {
        if (alerts.length >= this.batchSize) break;
        alerts.push(queued);
      }
      for (const queued of alerts) this.alerts.delete(queued.alert.id);
      try {
        await this.db.transaction().execute(async (trx) => {
          await new FlowRepository(trx, this.dialect).insertFlows(flows);
          const alertRepository = new AlertRepository(trx);
          for (const queued of alerts) await alertRepository.upsertAlerts([queued.alert], queued.at);
        });
      } catch (err) {
        const failure = new FlowTrackError(
          ErrorCode.STORE_ERROR,
          `could not write ${flows.length} flows and ${alerts.length} alerts to the database (${describeError(err)}): they will be tried again`,
          { cause: err },
        );
        this.putBack(flows, flowAttempts + 1, alerts);
        this.lastFailure = failure;
        this.failuresInRow++;
        this.retryAt = Date.now() + Math.min(30_000, this.intervalMs * 2 ** (this.failuresInRow - 1));
        this.onError(failure);
        this.onProgress();
        // Stop here: the timer tries again later instead of spinning on a database that is down.
        throw failure;
      }
      this.counts.acknowledged.flows += flows.length;
      this.counts.acknowledged.alerts += alerts.length;
      this.failuresInRow = 0;
      this.retryAt = 0;
      this.onProgress();
    }
  }

  private putBack(flows: FlowRow[], attempts: number, alerts: QueuedAlert[]): void {
    if (attempts >= this.maxAttempts) {
      this.counts.failed.flows += flows.length;
    } else if (flows.length > 0) {
      // Back at the front, in order; this may briefly exceed maxQueued by one batch, which is
      // better than dropping rows already accepted.
      this.flows = flows.concat(this.flows);
      this.flowAttempts = attempts;
      this.retryFlows = flows.length;
    }
    for (const queued of alerts) {
      if (queued.attempts + 1 >= this.maxAttempts) {
        this.counts.failed.alerts++;
      } else if (!this.alerts.has(queued.alert.id)) {
        // A newer report that arrived meanwhile wins over the failed one.
        this.alerts.set(queued.alert.id, { ...queued, attempts: queued.attempts + 1 });
      }
    }
  }
}

const COUNT_FIELDS = [
  'firstSeenUs',
  'lastSeenUs',
  'ipVersion',
  'srcPort',
  'dstPort',
  'packetsToServer',
  'bytesToServer',
  'packetsToClient',
  'bytesToClient',
] as const;
const TEXT_FIELDS = [
  'protocol',
  'srcAddr',
  'dstAddr',
  'tcpFlagsToServer',
  'tcpFlagsToClient',
  'state',
  'endReason',
] as const;

/** What the database would refuse in `row` (a NaN, a missing text), or null when nothing. */
function flowRowProblem(row: FlowRow): string | null {
  // The type says these are numbers and strings; a bug upstream or a corrupt record may still
  // break that at run time, and one such row would fail its whole batch.
  const fields = row as unknown as Record<string, unknown>;
  for (const name of COUNT_FIELDS) {
    const value = fields[name];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      return `${name} is ${String(value)}, not a whole number of 0 or more`;
    }
  }
  for (const name of TEXT_FIELDS) {
    if (typeof fields[name] !== 'string') return `${name} is ${String(fields[name])}, not text`;
  }
  return null;
}
