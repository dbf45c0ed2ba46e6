/**
 * One page of a log through TanStack Query, as table rows. While `live`, it is fetched again every
 * LIVE_REFRESH_MS (TanStack pauses that while the browser tab is hidden). The previous page stays
 * on screen while the next one loads, so paging and a moving time window never blank the table.
 */

import { keepPreviousData, useQuery, type UseQueryResult } from '@tanstack/react-query';
import { useApiClient } from '../../api/use-api';
import type { AuditPage, LogEntryPage } from './log-types';
import { rowsPageOf, type LogRowsPage } from './log-rows';
import { logEndpoint, logRequestPath, viewKey, type LogView } from './log-view';

export const LIVE_REFRESH_MS = 2_000;

export function useLogPage(
  view: LogView,
  cursor: string | undefined,
  live: boolean,
): UseQueryResult<LogRowsPage> {
  const client = useApiClient();
  return useQuery({
    // The endpoint first, so a change invalidating `/api/logs` (a restore) reaches these pages.
    queryKey: [logEndpoint(view.log), viewKey(view), cursor ?? null],
    // The path is made at each fetch: "last hour" means the hour before this fetch.
    queryFn: async ({ signal }) =>
      rowsPageOf(
        view.log,
        await client.getJson<LogEntryPage | AuditPage>(logRequestPath(view, cursor, Date.now()), signal),
      ),
    enabled: view.problems.length === 0,
    refetchInterval: live ? LIVE_REFRESH_MS : false,
    placeholderData: keepPreviousData,
  });
}
