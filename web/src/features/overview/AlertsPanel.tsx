/**
 * Alerts counted by severity, most severe first, and the newest few as links to their detail:
 * the open ones when live, or every alert active in the chosen window. One summary request
 * (counts and the newest five), refetched as soon as the live feed reports an alert; alerts the
 * feed announced are listed at once, before the store has written them.
 */

import type { AlertRecord, Severity } from '../../api/api-types';
import { SEVERITIES } from '../../api/api-types';
import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { useApiQuery } from '../../api/queries';
import { Panel, PanelEmpty } from '../../components/Panel';
import { QueryView } from '../../components/QueryView';
import { formatCount } from '../../lib/format';
import { withLiveAlerts } from '../../lib/live-alerts';
import { Link } from '../../lib/router';
import type { TimeRange } from './time-range';

/** How many of the newest alerts are listed under the counts. */
const NEWEST = 5;

/** GET /api/anomalies/summary. */
interface AlertSummary {
  total: number;
  bySeverity: Partial<Record<Severity, number>>;
  newest: AlertRecord[];
}

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
  const path = windowed
    ? `/api/anomalies/summary?from=${range.from}&to=${range.to}&suppressed=false&newest=${NEWEST}`
    : `/api/anomalies/summary?status=open&suppressed=false&newest=${NEWEST}`;
  const summary = useApiQuery<AlertSummary>(path, 15_000);
  // The live feed reported an alert: ask again now rather than at the next poll.
  const queryClient = useQueryClient();
  useEffect(() => {
    if (refreshKey > 0) void queryClient.invalidateQueries({ queryKey: [path] });
  }, [refreshKey, path, queryClient]);
  return (
    <Panel title={windowed ? 'Alerts in this range' : 'Open alerts'}>
      <QueryView query={summary} loadingLines={5}>
        {(data) => {
          // Muted alerts (a suppression rule) stay in the alerts page, off the overview.
          const live = liveAlerts.filter((a) => a.suppressedBy === null || a.suppressedBy === undefined);
          const newest = windowed ? data.newest : withLiveAlerts(data.newest, live).slice(0, NEWEST);
          return newest.length === 0 ? (
            <PanelEmpty title={windowed ? 'No alerts in this range' : 'No open alerts'}>
              Scans, floods and brute force show up here as they are detected.
            </PanelEmpty>
          ) : (
            <>
              <SeverityCounts summary={data} open={!windowed} />
              <ul className="newest-alerts" aria-label="Newest alerts">
                {newest.map((alert) => (
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
          );
        }}
      </QueryView>
    </Panel>
  );
}

function SeverityCounts({ summary, open }: { summary: AlertSummary; open: boolean }) {
  const count = (s: Severity): number => summary.bySeverity[s] ?? 0;
  const most = Math.max(...SEVERITIES.map(count));
  return (
    <>
      <ul className="severities">
        {SEVERITIES.map((severity) => (
          <li key={severity} className={`severity severity-${severity}`}>
            <span className="severity-name">{severity}</span>
            <svg className="severity-bar" viewBox="0 0 100 6" preserveAspectRatio="none" aria-hidden="true">
              <rect className="severity-track" width="100" height="6" rx="3" />
              <rect
                className="severity-fill"
                width={most === 0 ? 0 : (100 * count(severity)) / most}
                height="6"
                rx="3"
              />
            </svg>
            <span className="severity-count">{formatCount(count(severity))}</span>
          </li>
        ))}
      </ul>
      <p className="panel-note">{`${formatCount(summary.total)}${open ? ' open' : ''} in all.`}</p>
    </>
  );
}
