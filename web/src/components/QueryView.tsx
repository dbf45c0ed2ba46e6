/**
 * The designed states of a panel fed by useApiQuery: a skeleton while loading, the server's message
 * with a retry on failure, an empty state when `isEmpty` says so, and the content otherwise (with a
 * "Not updating" badge when the latest refresh failed but older data is shown).
 */

import type { UseQueryResult } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { PanelEmpty, PanelError, PanelLoading, StaleBadge } from './Panel';

export function QueryView<T>({
  query,
  isEmpty,
  empty,
  loadingLines = 3,
  children,
}: {
  query: UseQueryResult<T>;
  isEmpty?: (data: T) => boolean;
  /** The empty state: a title and what to do. */
  empty?: { title: string; hint?: ReactNode };
  loadingLines?: number;
  children: (data: T) => ReactNode;
}) {
  if (query.data === undefined) {
    if (query.isError)
      return <PanelError message={query.error.message} onRetry={() => void query.refetch()} />;
    return <PanelLoading lines={loadingLines} />;
  }
  if (empty && isEmpty?.(query.data)) return <PanelEmpty title={empty.title}>{empty.hint}</PanelEmpty>;
  return (
    <>
      {query.isError && <StaleBadge why={query.error.message} />}
      {children(query.data)}
    </>
  );
}
