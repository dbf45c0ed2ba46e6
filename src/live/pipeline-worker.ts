/**
 * Entry of the pipeline worker thread: runs a PipelineRunner on the configuration it was started
 * with and relays messages both ways. Packets never leave this thread; only flows, alerts and
 * figures do, so a flood keeps this thread busy and not the API's.
 */

import { parentPort, workerData } from 'node:worker_threads';
import { describeError } from '../util/errors.js';
import type { ControlMessage, PipelineConfig, WorkerMessage } from './pipeline-messages.js';
import { PipelineRunner } from './pipeline-runner.js';

const port = parentPort;
if (port === null) throw new Error('pipeline-worker.js runs as a worker thread (see live-pipeline.ts)');

const runner = new PipelineRunner(workerData as PipelineConfig, (message: WorkerMessage) =>
  port.postMessage(message),
);
port.on('message', (message: ControlMessage) => {
  if (message.type === 'stored') runner.stored(message.flows);
  else void runner.stop();
});
runner.run().then(
  () => port.close(),
  (err: unknown) => {
    port.postMessage({ type: 'failed', message: describeError(err) } satisfies WorkerMessage);
    port.close();
  },
);
