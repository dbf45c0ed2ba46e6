/**
 * Timing for the bus's background loops: a bounded sleep that can be cut short (loops wait on one
 * between attempts and when idle, and are woken at once by new work or by close()), a capped
 * backoff, and the check of the links' numeric options. Timers never keep the process alive.
 */

import { ErrorCode, FlowTrackError } from '../util/errors.js';

export class WakeUp {
  private waiters = new Set<() => void>();

  /** Resolves after `ms`, or earlier when `wake()` is called. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.waiters.add(done);
    });
  }

  /** Ends every wait under way. */
  wake(): void {
    for (const done of [...this.waiters]) done();
  }
}

/** Capped exponential backoff: 250 ms, 500 ms, 1 s ... up to `maxMs`, with up to 20% jitter. */
export function backoffMs(failures: number, maxMs: number): number {
  const base = Math.min(maxMs, 250 * 2 ** Math.min(Math.max(failures - 1, 0), 16));
  return Math.round(base * (0.8 + Math.random() * 0.2));
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** `value` if it is a whole number in [min, max]; otherwise throws BAD_OPTION naming the option. */
export function checkedInt(value: number, name: string, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new FlowTrackError(
      ErrorCode.BAD_OPTION,
      `${name} must be a whole number from ${min} to ${max}, not ${value}`,
    );
  }
  return value;
}
