/** The page's API client for its components, and a hook that polls a GET of the API. */

import { createContext, useContext, useEffect, useState } from 'react';
import type { ApiClient } from './api-client';

export const ApiContext = createContext<ApiClient | null>(null);

export function useApiClient(): ApiClient {
  const client = useContext(ApiContext);
  if (client === null) throw new Error('useApiClient outside <ApiContext>');
  return client;
}

export type Polled<T> =
  | { status: 'loading' }
  | { status: 'error'; message: string }
  /** `stale`: the last poll failed; the data is from an earlier one. */
  | { status: 'ready'; data: T; stale: string | null };

/**
 * GETs `path` now, every `everyMs`, and whenever `refreshKey` changes; `retry` asks again at once.
 * A failure after a success keeps the data and marks it stale rather than blanking the panel.
 */
export function usePolledJson<T>(path: string, everyMs: number, refreshKey = 0): [Polled<T>, () => void] {
  const client = useApiClient();
  const [state, setState] = useState<Polled<T>>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const abort = new AbortController();
    let timer: number | undefined;
    const poll = async (): Promise<void> => {
      try {
        const data = await client.getJson<T>(path, abort.signal);
        setState({ status: 'ready', data, stale: null });
      } catch (err) {
        if (abort.signal.aborted) return;
        const message = err instanceof Error ? err.message : String(err);
        setState((prev) =>
          prev.status === 'ready' ? { ...prev, stale: message } : { status: 'error', message },
        );
      }
      if (!abort.signal.aborted) timer = window.setTimeout(() => void poll(), everyMs);
    };
    void poll();
    return () => {
      abort.abort();
      window.clearTimeout(timer);
    };
  }, [client, path, everyMs, refreshKey, attempt]);

  const retry = (): void => {
    setState({ status: 'loading' });
    setAttempt((n) => n + 1);
  };
  return [state, retry];
}
