/** Open alerts counted by severity, most severe first; refetched when the live feed reports alerts. */

import type { AlertPage, Severity } from '../../api/api-types';
import { SEVERITIES } from '../../api/api-types';
import { usePolledJson } from '../../api/use-api';
import { Panel, PanelEmpty, PanelError, PanelLoading, StaleBadge } from '../../components/Panel';
import { formatCount } from '../../lib/format';

/** The API's largest page: beyond it the counts are shown as "at least". */
const PAGE = 1000;

export function AlertsPanel({ refreshKey }: { refreshKey: number }) {
  const [alerts, retry] = usePolledJson<AlertPage>(
    `/api/anomalies?status=open&limit=${PAGE}`,
    15_000,
    refreshKey,
  );
  return (
    <Panel
      title="Open alerts"
      aside={alerts.status === 'ready' && alerts.stale && <StaleBadge why={alerts.stale} />}
    >
      {alerts.status === 'loading' ? (
        <PanelLoading lines={5} />
      ) : alerts.status === 'error' ? (
        <PanelError message={alerts.message} onRetry={retry} />
      ) : alerts.data.items.length === 0 ? (
        <PanelEmpty title="No open alerts">
          Scans, floods and brute force show up here as they are detected.
        </PanelEmpty>
      ) : (
        <SeverityCounts page={alerts.data} />
      )}
    </Panel>
  );
}

function SeverityCounts({ page }: { page: AlertPage }) {
  const counts = new Map<Severity, number>(SEVERITIES.map((s) => [s, 0]));
  for (const alert of page.items) counts.set(alert.severity, (counts.get(alert.severity) ?? 0) + 1);
  const most = Math.max(...counts.values());
  const more = page.nextCursor !== null;
  return (
    <>
      <ul className="severities">
        {SEVERITIES.map((severity) => {
          const count = counts.get(severity) ?? 0;
          return (
            <li key={severity} className={`severity severity-${severity}`}>
              <span className="severity-name">{severity}</span>
              <svg className="severity-bar" viewBox="0 0 100 6" preserveAspectRatio="none" aria-hidden="true">
                <rect className="severity-track" width="100" height="6" rx="3" />
                <rect
                  className="severity-fill"
                  width={most === 0 ? 0 : (100 * count) / most}
                  height="6"
                  rx="3"
                />
              </svg>
              <span className="severity-count">{formatCount(count)}</span>
            </li>
          );
        })}
      </ul>
      <p className="panel-note">
        {more
          ? `The newest ${formatCount(PAGE)} open alerts; there are more.`
          : `${formatCount(page.items.length)} open in all.`}
      </p>
    </>
  );
}
