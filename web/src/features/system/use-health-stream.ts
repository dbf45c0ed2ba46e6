/**
 * The host's newest sample from the live feed's `health` events (one each probe interval), so the
 * page's figures move with the host without polling. lib/follow-stream.ts reads the stream and
 * reconnects; the page falls back on /api/system_health while it is not open.
 */

import { useEffect, useState } from 'react';
import { useApiClient } from '../../api/use-api';
import { followStream, type StreamStatus } from '../../lib/follow-stream';
import { healthSampleOf } from './health-event';
import type { HostSample } from './system-types';

export interface HealthStream {
  status: StreamStatus;
  /** Why the last connection failed, while reconnecting. */
  problem: string | null;
  /** The newest sample the stream brought, or null before the first. */
  sample: HostSample | null;
}

export function useHealthStream(): HealthStream {
  const client = useApiClient();
  const [link, setLink] = useState<{ status: StreamStatus; problem: string | null }>({
    status: 'connecting',
    problem: null,
  });
  const [sample, setSample] = useState<HostSample | null>(null);

  useEffect(() => {
    const stop = new AbortController();
    followStream(
      client,
      '/api/stream',
      {
        onOpen: () => {
          setLink({ status: 'open', problem: null });
        },
        onEvents: (events) => {
          // Only the newest of a read is drawn: a burst after a stall is one render, not many.
          let newest: HostSample | null = null;
          for (const event of events) newest = healthSampleOf(event) ?? newest;
          if (newest !== null) setSample(newest);
        },
        onProblem: (problem) => {
          setLink({ status: 'reconnecting', problem });
        },
      },
      stop.signal,
    );
    return () => {
      stop.abort();
    };
  }, [client]);

  return { ...link, sample };
}
