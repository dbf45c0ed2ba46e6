/**
 * Alerts counted by severity, most severe first, and the newest few as links to their detail:
 * the open ones when live (refetched as soon as the live feed reports an alert), or every alert
 * active in the chosen window.
 */

import type { AlertPage, AlertRecord, Severity } from '../../api/api-types';
import { SEVERITIES } from '../../api/api-types';
import { usePolledJson } from '../../api/use-api';
import { Panel, PanelEmpty, PanelError, PanelLoading, StaleBadge } from '../../components/Panel';
import { formatCount } from '../../lib/format';
import { withLiveAlerts } from '../../lib/live-alerts';
import { Link } from '../../lib/router';
import type { TimeRange } from './time-range';

/** The API's largest page: beyond it the counts are shown as "at least". */
const PAGE = 1000;

/** How many of the newest alerts are listed under the counts. */
const NEWEST = 5;

export function AlertsPanel({
  refreshKey,
  range,
  liveAlerts,
}: {
  refreshKey: number;
  range: TimeRange;
  /** Open alerts the live feed announced that the store may not hold yet (live only). */
  liveAlerts: readonly AlertRecord[];
}) {
  const windowed = range.kind === 'window';
  const [alerts, retry] = usePolledJson<AlertPage>(
    windowed
      ? `/api/anomalies?from=${range.from}&to=${range.to}&limit=${PAGE}`
      : `/api/anomalies?status=open&limit=${PAGE}`,
    15_000,
    refreshKey,
  );
  const page: AlertPage | null =
    alerts.status !== 'ready'
      ? null
      : windowed
        ? alerts.data
        : { ...alerts.data, items: withLiveAlerts(alerts.data.items, liveAlerts) };
  return (
    <Panel
      title={windowed ? 'Alerts in this range' : 'Open alerts'}
      aside={alerts.status === 'ready' && alerts.stale && <StaleBadge why={alerts.stale} />}
    >
      {alerts.status === 'loading' ? (
        <PanelLoading lines={5} />
      ) : alerts.status === 'error' ? (
        <PanelError message={alerts.message} onRetry={retry} />
      ) : page === null || page.items.length === 0 ? (
        <PanelEmpty title={windowed ? 'No alerts in this range' : 'No open alerts'}>
          Scans, floods and brute force show up here as they are detected.
        </PanelEmpty>
      ) : (
        <>
          <SeverityCounts page={page} open={!windowed} />
          <ul className="newest-alerts" aria-label="Newest alerts">
            {page.items.slice(0, NEWEST).map((alert) => (
              <li key={alert.id}>
                <span className={`tag tag-${alert.severity}`}>{alert.severity}</span>
                <Link to={`/alerts/${encodeURIComponent(alert.id)}`}>
                  {alert.type.replaceAll('_', ' ')}
                  {alert.src !== null && ` from ${alert.src}`}
                </Link>
                <span className="newest-summary">{alert.summary}</span>
              </li>
            ))}
          </ul>
          <p className="panel-note">
            <Link to={windowed ? `/alerts?from=${range.from}&to=${range.to}` : '/alerts?status=open'}>
              All of them in the alerts page
            </Link>
          </p>
        </>
      )}
    </Panel>
  );
}

function SeverityCounts({ page, open }: { page: AlertPage; open: boolean }) {
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
          ? `The newest ${formatCount(PAGE)}${open ? ' open' : ''} alerts; there are more.`
          : `${formatCount(page.items.length)}${open ? ' open' : ''} in all.`}
      </p>
    </>
  );
}
