/**
 * Following the live feed (/api/stream) for as long as a page wants it: read with fetch and a
 * stream reader, since EventSource cannot send the Authorization header the API requires, parsed
 * into events, and opened again with backoff when the stream ends or goes quiet (the server's
 * heartbeat is every 15 s). What the events mean is the page's: this only delivers them.
 */

import { ApiError, type ApiClient } from '../api/api-client';
import { SseParser, type ServerSentEvent } from './sse-parser';

export type StreamStatus = 'connecting' | 'open' | 'reconnecting';

export interface StreamHandlers {
  /** The stream is open (again). */
  onOpen: () => void;
  /** The events of one read, possibly none (a heartbeat): a chance to expire what is old. */
  onEvents: (events: ServerSentEvent[]) => void;
  /** The connection failed or ended, with why; it is opened again after a pause. */
  onProblem: (problem: string) => void;
}

/** No byte for this long (heartbeats included) means the connection is dead. */
const QUIET_MS = 45_000;
const MAX_BACKOFF_MS = 30_000;

/** Follows `path` until `stop` aborts; ends by itself only when the session does (a 401). */
export function followStream(
  client: Pick<ApiClient, 'openStream'>,
  path: string,
  handlers: StreamHandlers,
  stop: AbortSignal,
): void {
  const readOnce = async (): Promise<void> => {
    const connection = new AbortController();
    const abortAll = (): void => connection.abort();
    stop.addEventListener('abort', abortAll);
    let watchdog = window.setTimeout(abortAll, QUIET_MS);
    try {
      const res = await client.openStream(path, connection.signal);
      handlers.onOpen();
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      const parser = new SseParser();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        window.clearTimeout(watchdog);
        watchdog = window.setTimeout(abortAll, QUIET_MS);
        handlers.onEvents(parser.push(value));
      }
    } finally {
      window.clearTimeout(watchdog);
      stop.removeEventListener('abort', abortAll);
    }
  };

  // A call, not a property read: TypeScript would keep its narrowing across the awaits.
  const stopped = (): boolean => stop.aborted;
  const run = async (): Promise<void> => {
    let backoff = 1000;
    while (!stopped()) {
      let problem = 'the live feed ended';
      const openedAt = Date.now();
      try {
        await readOnce();
      } catch (err) {
        if (stopped()) return;
        // The session is over: the app is back at the sign-in page.
        if (err instanceof ApiError && err.status === 401) return;
        problem =
          err instanceof Error && err.name !== 'AbortError' ? err.message : 'the live feed went quiet';
      }
      if (stopped()) return;
      if (Date.now() - openedAt > MAX_BACKOFF_MS) backoff = 1000;
      handlers.onProblem(problem);
      await new Promise((resolve) => window.setTimeout(resolve, backoff));
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  };
  void run();
}
