/**
 * A panel of a page with its designed states: loading (a skeleton the size of the content, so
 * nothing jumps), empty (what it means and what to do), error (the server's message and a retry).
 */

import type { ReactNode } from 'react';

export function Panel({ title, aside, children }: { title: string; aside?: ReactNode; children: ReactNode }) {
  return (
    <section className="panel" aria-label={title}>
      <header className="panel-header">
        <h2>{title}</h2>
        {aside}
      </header>
      {children}
    </section>
  );
}

export function PanelLoading({ lines = 3 }: { lines?: number }) {
  return (
    <div className="state state-loading" role="status" aria-label="Loading">
      {Array.from({ length: lines }, (_, i) => (
        <span key={i} className="skeleton" />
      ))}
    </div>
  );
}

export function PanelEmpty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <p className="state-title">{title}</p>
      {children && <p className="state-hint">{children}</p>}
    </div>
  );
}

export function PanelError({ message, onRetry }: { message: string; onRetry?: () => void }) {
  return (
    <div className="state state-error" role="alert">
      <p className="state-title">Could not load this</p>
      <p className="state-hint">{message}</p>
      {onRetry && (
        <button type="button" className="button-quiet" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** Shown beside a panel's title when its last refresh failed and it shows older data. */
export function StaleBadge({ why }: { why: string }) {
  return (
    <span className="badge badge-warn" title={why}>
      Not updating
    </span>
  );
}
