/**
 * The live feed (/api/stream) for the overview: the last minute of rates and a counter that
 * moves when alerts arrive (throttled, for panels to refetch). Read with fetch and a stream
 * reader, since EventSource cannot send the Authorization header the API requires. Reconnects
 * with backoff when the stream ends or goes quiet (the server's heartbeat is every 15 s).
 */

import { useEffect, useState } from 'react';
import { ApiError } from '../../api/api-client';
import { useApiClient } from '../../api/use-api';
import type { AlertRecord } from '../../api/api-types';
import { LiveAlerts } from '../../lib/live-alerts';
import { LiveRates, type RateSample, type RateSource } from '../../lib/live-rates';
import { SseParser } from '../../lib/sse-parser';

export type StreamStatus = 'connecting' | 'open' | 'reconnecting';

export interface LiveStream {
  status: StreamStatus;
  /** Why the last connection failed, while reconnecting. */
  problem: string | null;
  samples: RateSample[];
  source: RateSource | null;
  /** Moves (at most every 2 s) when alerts were raised or grew. */
  alertTick: number;
  /** Alerts announced in the last seconds, newest first: shown before the store has them. */
  liveAlerts: AlertRecord[];
}

/** No byte for this long (heartbeats included) means the connection is dead. */
const QUIET_MS = 45_000;
const ALERT_THROTTLE_MS = 2000;
const MAX_BACKOFF_MS = 30_000;

export function useLiveStream(): LiveStream {
  const client = useApiClient();
  const [link, setLink] = useState<{ status: StreamStatus; problem: string | null }>({
    status: 'connecting',
    problem: null,
  });
  const [rates, setRates] = useState<{ samples: RateSample[]; source: RateSource | null }>({
    samples: [],
    source: null,
  });
  const [alertTick, setAlertTick] = useState(0);
  const [liveAlerts, setLiveAlerts] = useState<AlertRecord[]>([]);

  useEffect(() => {
    const stop = new AbortController();
    const live = new LiveRates();
    const announced = new LiveAlerts();
    let alertTimer: number | undefined;
    let lastAlertBump = 0;
    const alertSeen = (): void => {
      if (alertTimer !== undefined) return;
      const wait = Math.max(0, lastAlertBump + ALERT_THROTTLE_MS - Date.now());
      alertTimer = window.setTimeout(() => {
        alertTimer = undefined;
        lastAlertBump = Date.now();
        setAlertTick((n) => n + 1);
      }, wait);
    };

    const readOnce = async (): Promise<void> => {
      const connection = new AbortController();
      const abortAll = (): void => connection.abort();
      stop.signal.addEventListener('abort', abortAll);
      let watchdog = window.setTimeout(abortAll, QUIET_MS);
      try {
        const res = await client.openStream('/api/stream', connection.signal);
        setLink({ status: 'open', problem: null });
        const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
        const parser = new SseParser();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          window.clearTimeout(watchdog);
          watchdog = window.setTimeout(abortAll, QUIET_MS);
          let added = false;
          let alerts = announced.prune(Date.now());
          for (const event of parser.push(value)) {
            if (event.type === 'alert') {
              if (announced.accept(event, Date.now())) alerts = true;
              alertSeen();
            } else if (live.accept(event)) added = true;
          }
          if (added) setRates({ samples: live.samples.toArray(), source: live.source });
          if (alerts) setLiveAlerts(announced.list());
        }
      } finally {
        window.clearTimeout(watchdog);
        stop.signal.removeEventListener('abort', abortAll);
      }
    };

    // A call, not a property read: TypeScript would keep its narrowing across the awaits.
    const stopped = (): boolean => stop.signal.aborted;
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
        setLink({ status: 'reconnecting', problem });
        await new Promise((resolve) => window.setTimeout(resolve, backoff));
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    };
    void run();
    return () => {
      stop.abort();
      window.clearTimeout(alertTimer);
    };
  }, [client]);

  return { ...link, ...rates, alertTick, liveAlerts };
}
