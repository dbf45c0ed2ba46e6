/**
 * Reading and changing through the API with TanStack Query: one cache keyed by the GET's path, so
 * two panels asking for the same thing share one request, and a change refetches what it affects.
 */

import { useMutation, useQuery, useQueryClient, type UseQueryResult } from '@tanstack/react-query';
import { useApiClient } from './use-api';

/**
 * GETs `path` (null: not yet) and keeps it fresh every `refreshMs` while the page is open; a
 * function of the latest answer sets the pace by what it says (a running scan: every second; a
 * finished one: false, never again). A failed refresh keeps the last answer (`isError` with
 * `data` set) rather than blanking a panel.
 */
export function useApiQuery<T>(
  path: string | null,
  refreshMs?: number | ((data: T | undefined) => number | false),
): UseQueryResult<T> {
  const client = useApiClient();
  return useQuery<T>({
    queryKey: [path],
    queryFn: ({ signal }) => client.getJson<T>(path ?? '', signal),
    enabled: path !== null,
    ...(refreshMs !== undefined && {
      refetchInterval: typeof refreshMs === 'number' ? refreshMs : (query) => refreshMs(query.state.data),
    }),
  });
}

export interface ApiChange<TVariables> {
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: (variables: TVariables) => string;
  body?: (variables: TVariables) => unknown;
  /** Path prefixes whose cached GETs the change makes stale (`/api/firewall`). */
  invalidates: readonly string[];
}

/** A change through the API; on success, every cached GET under `invalidates` is fetched again. */
export function useApiMutation<TVariables = void, TResult = unknown>(change: ApiChange<TVariables>) {
  const client = useApiClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (variables: TVariables) =>
      client.send<TResult>(change.method, change.path(variables), change.body?.(variables)),
    onSuccess: () =>
      queryClient.invalidateQueries({
        predicate: (query) => {
          const key = query.queryKey[0];
          return typeof key === 'string' && change.invalidates.some((prefix) => key.startsWith(prefix));
        },
      }),
  });
}

/** Saves a blob under `filename` through the browser's own download. */
export function saveFile(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.click();
  setTimeout(() => {
    URL.revokeObjectURL(url);
  }, 60_000);
}

/** The query string for `params`, leaving out undefined and empty values. */
export function queryString(params: Record<string, string | number | boolean | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}
