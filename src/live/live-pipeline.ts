/**
 * The service's handle on the pipeline worker: starts it with a configuration, hands its messages
 * to the service's handlers, tells a replay when the store has taken its flows, and stops
 * it cleanly: tcpdump flushes, the open flows end and are handed over, then the thread exits.
 */

import { Worker } from 'node:worker_threads';
import { workerFile } from '../util/worker-file.js';
import type { ControlMessage, PipelineConfig, PipelineSummary, WorkerMessage } from './pipeline-messages.js';

/**
 * How long a stopping worker may send nothing before it is terminated (a shutdown that stores
 * many flows takes longer than this, but never this long between two of its messages).
 */
const STOP_TIMEOUT_MS = 15_000;

export class LivePipeline {
  private readonly worker: Worker;
  /** Settles when the worker has exited, with its summary when it finished its work. */
  readonly finished: Promise<PipelineSummary | null>;

  private stopTimer: NodeJS.Timeout | null = null;

  constructor(config: PipelineConfig, onMessage: (message: WorkerMessage) => void) {
    this.worker = new Worker(workerFile(import.meta.url, 'live/pipeline-worker.js'), { workerData: config });
    let summary: PipelineSummary | null = null;
    this.worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'done') summary = message.summary;
      this.stopTimer?.refresh();
      onMessage(message);
    });
    this.finished = new Promise((resolve) => {
      this.worker.on('error', (err) => onMessage({ type: 'failed', message: err.message }));
      this.worker.on('exit', () => resolve(summary));
    });
  }

  /** Tells a replay that `flows` of its flows are taken: it may send that many more. */
  stored(flows: number): void {
    this.send({ type: 'stored', flows });
  }

  /** Stops capture or replay and waits until every flow and alert has been handed over. */
  async stop(): Promise<PipelineSummary | null> {
    this.send({ type: 'stop' });
    this.stopTimer = setTimeout(() => void this.worker.terminate(), STOP_TIMEOUT_MS);
    try {
      return await this.finished;
    } finally {
      clearTimeout(this.stopTimer);
    }
  }

  private send(message: ControlMessage): void {
    this.worker.postMessage(message);
  }
}
