/**
 * The dashboard's routes are plain paths and query strings (`/alerts/abc?status=open`), so every
 * view can be bookmarked, reloaded and shared. The browser's history is the only state: pages read
 * it with useLocation and change it with navigate or <Link>.
 */

import { useMemo, useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

const listeners = new Set<() => void>();

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  window.addEventListener('popstate', listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('popstate', listener);
  };
}

function currentUrl(): string {
  return window.location.pathname + window.location.search;
}

/** Goes to `to` (a path with an optional query); `replace` keeps the back button where it was. */
export function navigate(to: string, { replace = false }: { replace?: boolean } = {}): void {
  if (to === currentUrl()) return;
  if (replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  for (const listener of listeners) listener();
}

export interface Location {
  path: string;
  query: URLSearchParams;
}

export function useLocation(): Location {
  const url = useSyncExternalStore(subscribe, currentUrl);
  return useMemo(() => {
    const parsed = new URL(url, window.location.origin);
    return { path: parsed.pathname, query: parsed.searchParams };
  }, [url]);
}

/**
 * The current query string as an object, and a setter that merges changes into it (undefined or
 * '' removes a key) without adding a history entry: filters are part of the URL, not the history.
 */
export function useQueryParams(): [URLSearchParams, (changes: Record<string, string | undefined>) => void] {
  const { path, query } = useLocation();
  const set = (changes: Record<string, string | undefined>): void => {
    const next = new URLSearchParams(query);
    for (const [key, value] of Object.entries(changes)) {
      if (value === undefined || value === '') next.delete(key);
      else next.set(key, value);
    }
    const search = next.toString();
    navigate(search === '' ? path : `${path}?${search}`, { replace: true });
  };
  return [query, set];
}

/** The parameters of `pattern` (`/alerts/:id`) in `path`, or null when it does not match. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/');
  const have = (path.length > 1 ? path.replace(/\/+$/, '') : path).split('/');
  if (want.length !== have.length) return null;
  const params: Record<string, string> = {};
  for (const [i, part] of want.entries()) {
    const value = have[i] ?? '';
    if (part.startsWith(':')) {
      if (value === '') return null;
      params[part.slice(1)] = decodeURIComponent(value);
    } else if (part !== value) {
      return null;
    }
  }
  return params;
}

/** A link inside the dashboard: a real <a> (open in a new tab works), followed without a reload. */
export function Link({ to, onClick, ...rest }: { to: string } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const follow = (event: MouseEvent<HTMLAnchorElement>): void => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={follow} {...rest} />;
}
