/**
 * The Logs page (admins only: the logs name users and addresses): the server, security and audit
 * logs as tabs, each with its own filters kept in the query string (`/logs?log=audit&user=ada`),
 * and its entries newest first, live on the first page.
 */

import { useMemo } from 'react';
import { useQueryParams } from '../../lib/router';
import { LogFilters } from './LogFilters';
import { LogPanel } from './LogPanel';
import { LogTabs, panelId, tabId } from './LogTabs';
import { changesForLog, readLogView, viewKey } from './log-view';
import './logs.css';

export function LogsPage() {
  const [query, setQuery] = useQueryParams();
  const view = useMemo(() => readLogView(query), [query]);
  return (
    <section className="stack logs-page" aria-labelledby="logs-title">
      <header className="page-header">
        <h1 id="logs-title">Logs</h1>
        <p className="logs-note">What the server did, who was refused, and who changed what.</p>
      </header>
      <LogTabs
        current={view.log}
        onSelect={(log) => {
          if (log !== view.log) setQuery(changesForLog(log));
        }}
      />
      <div
        role="tabpanel"
        id={panelId(view.log)}
        aria-labelledby={tabId(view.log)}
        className="panel log-panel"
      >
        <LogFilters key={view.log} view={view} onChange={setQuery} />
        <LogPanel key={viewKey(view)} view={view} />
      </div>
    </section>
  );
}
