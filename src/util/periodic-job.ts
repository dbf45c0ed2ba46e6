/**
 * A background job of the server (retention, scheduled backups): run every `intervalMs`, the first
 * time after one interval; never two runs at once (a run still going skips its turn); the timer
 * does not keep the process alive; `stop()` waits for a run under way. A failure goes to
 * `onError` as a FlowTrackError and the next interval tries again.
 */

import { describeError, ErrorCode, FlowTrackError } from './errors.js';

export interface PeriodicJob {
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

/**
 * Starts `run` every `intervalMs`. `failure` names the job in the message of an error that is not
 * already a FlowTrackError (e.g. "retention failed").
 */
export function startPeriodicJob(
  intervalMs: number,
  run: () => Promise<void>,
  failure: string,
  onError?: (err: FlowTrackError) => void,
): PeriodicJob {
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = run()
      .catch((err: unknown) =>
        onError?.(
          err instanceof FlowTrackError
            ? err
            : new FlowTrackError(ErrorCode.STORE_ERROR, `${failure}: ${describeError(err)}`, { cause: err }),
        ),
      )
      .finally(() => {
        running = null;
      });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
