/**
 * The System page's reads through the API: the service's and host's health now, the chart points
 * of a range, and (analysts and admins) the host's sockets.
 */

import { keepPreviousData, useQuery, type UseQueryResult } from '@tanstack/react-query';
import { useApiQuery } from '../../api/queries';
import { useApiClient } from '../../api/use-api';
import { healthRefreshMs } from './system-format';
import { historyPath, type HealthWindow } from './health-range';
import type { HealthHistory, SocketSnapshot, SystemHealth } from './system-types';

/** /api/system_health, at the pace healthRefreshMs sets (slow while the stream brings samples). */
export function useSystemHealth(streamOpen: boolean): UseQueryResult<SystemHealth> {
  return useApiQuery<SystemHealth>('/api/system_health', (data) =>
    healthRefreshMs(data === undefined ? undefined : data.intervalSeconds, streamOpen),
  );
}

/**
 * The chart points of `window`. Its end moves on every 10 s or minute, which is a new request:
 * the previous answer stays on screen until the new one comes, rather than a skeleton each time.
 */
export function useHealthHistory(window: HealthWindow): UseQueryResult<HealthHistory> {
  const client = useApiClient();
  const path = historyPath(window);
  // Keyed by path as useApiQuery's reads are, so a change under /api/system_health refetches it too.
  return useQuery<HealthHistory>({
    queryKey: [path],
    queryFn: ({ signal }) => client.getJson<HealthHistory>(path, signal),
    placeholderData: keepPreviousData,
  });
}

/** The host's sockets every 5 s; not asked for at all without the analyst role (`enabled` false). */
export function useSockets(enabled: boolean): UseQueryResult<SocketSnapshot> {
  return useApiQuery<SocketSnapshot>(enabled ? '/api/system/sockets' : null, 5000);
}
