/**
 * The live feed (/api/stream) for the overview: the last minute of rates and a counter that
 * moves when alerts arrive (throttled, for panels to refetch). lib/follow-stream.ts reads the
 * stream and reconnects; this keeps what the overview shows of it.
 */

import { useEffect, useState } from 'react';
import { useApiClient } from '../../api/use-api';
import type { AlertRecord } from '../../api/api-types';
import { followStream, type StreamStatus } from '../../lib/follow-stream';
import { LiveAlerts } from '../../lib/live-alerts';
import { LiveRates, type RateSample, type RateSource } from '../../lib/live-rates';

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

const ALERT_THROTTLE_MS = 2000;

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

    followStream(
      client,
      '/api/stream',
      {
        onOpen: () => {
          setLink({ status: 'open', problem: null });
        },
        onEvents: (events) => {
          let added = false;
          let alerts = announced.prune(Date.now());
          for (const event of events) {
            if (event.type === 'alert') {
              if (announced.accept(event, Date.now())) alerts = true;
              alertSeen();
            } else if (live.accept(event)) added = true;
          }
          if (added) setRates({ samples: live.samples.toArray(), source: live.source });
          if (alerts) setLiveAlerts(announced.list());
        },
        onProblem: (problem) => {
          setLink({ status: 'reconnecting', problem });
        },
      },
      stop.signal,
    );
    return () => {
      stop.abort();
      window.clearTimeout(alertTimer);
    };
  }, [client]);

  return { ...link, ...rates, alertTick, liveAlerts };
}
