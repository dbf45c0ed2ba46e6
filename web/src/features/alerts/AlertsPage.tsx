/**
 * The alert list (/alerts): filters kept in the URL so a view can be bookmarked and shared, one
 * page of the server's cursor paging at a time, refreshed every 5 s. Muted alerts (a suppression
 * rule matched them) are left out unless "Show muted" is ticked. Each row opens the alert;
 * analysts and admins acknowledge and resolve from the row. "Group by source" lists groups of
 * related alerts instead, to triage a burst as one. The list filters by the sensor that raised
 * the alerts too (`?sensor=edge-1`, `?sensor=local` for this host's own) and, once any sensor
 * exists, shows each alert's. Alert text is shown as text only.
 */

import { useState, type SubmitEvent } from 'react';
import './alerts.css';
import { SEVERITIES } from '../../api/api-types';
import { useApiQuery } from '../../api/queries';
import { useCan } from '../../api/session';
import { CursorPager, useCursorPaging } from '../../components/CursorPager';
import { QueryView } from '../../components/QueryView';
import { formatTimestamp } from '../../lib/format';
import { Link, useQueryParams } from '../../lib/router';
import { usernameProblem } from '../users/user-rules';
import { AlertActions } from './AlertActions';
import { isIpAddress } from '../../lib/ip-address';
import {
  alertListPath,
  FILTER_KEYS,
  filtersKey,
  hasFilters,
  readAlertFilters,
  readAlertView,
  type AlertFilters,
  type AlertView,
} from './alert-filters';
import { microsToMs } from './alert-format';
import { groupLabel } from './alert-groups';
import {
  ALERT_STATUS_LABELS,
  ALERT_STATUSES,
  ALERT_TYPE_LABELS,
  ALERT_TYPES,
  type AlertDetail,
  type AlertListPage,
} from './alert-types';
import { AlertGroupsTable } from './AlertGroupsTable';
import { AlertStatusTag, MutedTag, SeverityTag } from './AlertTags';
import { readSensorFilter, withSensor } from '../sensors/sensor-filter';
import { SensorFilterField } from '../sensors/SensorFilterField';
import { SensorSource } from '../sensors/SensorSource';
import { useAnySensor } from '../sensors/use-sensors';

/** The URL keys "Clear filters" removes: alert-filters.ts's, and the sensor (read by sensors/sensor-filter.ts). */
const CLEARED_KEYS: readonly string[] = [...FILTER_KEYS, 'sensor'];

export function AlertsPage() {
  const [query, setQuery] = useQueryParams();
  const filters = readAlertFilters(query);
  const view = readAlertView(query);
  const sensor = readSensorFilter(query);
  return (
    <div className="stack">
      <header className="page-header">
        <h1>Alerts</h1>
        <div className="alert-header-actions">
          <button
            type="button"
            className="button-quiet alert-toggle"
            aria-pressed={view === 'groups'}
            onClick={() => {
              setQuery({ view: view === 'groups' ? undefined : 'groups' });
            }}
          >
            Group by source
          </button>
          <Link className="alert-rules-link" to="/alerts/rules">
            Alert rules
          </Link>
        </div>
      </header>
      <section className="panel" aria-label={view === 'groups' ? 'Alert groups' : 'Alert list'}>
        <AlertFilterBar
          query={query}
          filters={filters}
          sensor={sensor}
          view={view}
          onChange={setQuery}
          onClear={() => {
            setQuery(Object.fromEntries(CLEARED_KEYS.map((key) => [key, undefined])));
          }}
        />
        {view === 'groups' ? (
          <AlertGroupsTable filters={filters} sensor={sensor} />
        ) : (
          // Keyed by the filters: paging starts again at the newest page when they change.
          <AlertTable key={`${filtersKey(filters)}|${sensor ?? ''}`} filters={filters} sensor={sensor} />
        )}
      </section>
    </div>
  );
}

function AlertFilterBar({
  query,
  filters,
  sensor,
  view,
  onChange,
  onClear,
}: {
  query: URLSearchParams;
  filters: AlertFilters;
  /** The sensor the list is filtered by; undefined: every source. */
  sensor: string | undefined;
  view: AlertView;
  onChange: (changes: Record<string, string | undefined>) => void;
  onClear: () => void;
}) {
  const rawSrc = query.get('src') ?? '';
  const rawDst = query.get('dst') ?? '';
  const rawAssignee = query.get('assignee') ?? '';
  // The groups' API takes the status and muted filters only: the others wait for the list.
  const list = view === 'list';
  return (
    <div className="toolbar alert-filters">
      <label className="field">
        Status
        <select
          value={filters.status ?? ''}
          onChange={(event) => {
            onChange({ status: event.target.value });
          }}
        >
          <option value="">All</option>
          {ALERT_STATUSES.map((status) => (
            <option key={status} value={status}>
              {ALERT_STATUS_LABELS[status]}
            </option>
          ))}
        </select>
      </label>
      {list && (
        <>
          <label className="field">
            Severity
            <select
              value={filters.severity ?? ''}
              onChange={(event) => {
                onChange({ severity: event.target.value });
              }}
            >
              <option value="">Any</option>
              {SEVERITIES.map((severity) => (
                <option key={severity} value={severity}>
                  {severity}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            Type
            <select
              value={filters.type ?? ''}
              onChange={(event) => {
                onChange({ type: event.target.value });
              }}
            >
              <option value="">Any</option>
              {ALERT_TYPES.map((type) => (
                <option key={type} value={type}>
                  {ALERT_TYPE_LABELS[type]}
                </option>
              ))}
            </select>
          </label>
          <SensorFilterField
            value={sensor ?? ''}
            onChange={(value) => {
              onChange({ sensor: value });
            }}
          />
          {/* Remounted when the URL's values change (Clear, a link) so the inputs show them. */}
          <TextFilters
            key={`${rawSrc}|${rawDst}|${rawAssignee}`}
            src={rawSrc}
            dst={rawDst}
            assignee={rawAssignee}
            onApply={onChange}
          />
        </>
      )}
      <label className="alert-check">
        <input
          type="checkbox"
          checked={filters.suppressed !== undefined}
          onChange={(event) => {
            onChange({ suppressed: event.target.checked ? 'all' : undefined });
          }}
        />
        Show muted
        {filters.suppressed === 'true' && <span className="alert-muted"> (only muted ones)</span>}
      </label>
      {list && filters.group !== undefined && (
        <span className="alert-chip">
          Group: {groupLabel(filters.group)}
          <button
            type="button"
            className="alert-chip-remove"
            aria-label="Remove the group filter"
            onClick={() => {
              onChange({ group: undefined });
            }}
          >
            ×
          </button>
        </span>
      )}
      {(hasFilters(filters) || sensor !== undefined) && (
        <button type="button" className="button-quiet" onClick={onClear}>
          Clear filters
        </button>
      )}
    </div>
  );
}

type TextFilterName = 'src' | 'dst' | 'assignee';

/** Why a typed filter value would not be sent, or null when it is fine (or empty). */
function textFilterProblem(name: TextFilterName, value: string): string | null {
  if (value === '') return null;
  if (name === 'assignee') return usernameProblem(value);
  return isIpAddress(value) ? null : 'Not an IPv4 or IPv6 address';
}

/**
 * The text fields apply together, on Enter or "Apply", rather than on every keystroke: a
 * half-typed address is not a filter. A mistyped one is pointed out and not sent.
 */
function TextFilters({
  src,
  dst,
  assignee,
  onApply,
}: {
  src: string;
  dst: string;
  assignee: string;
  onApply: (changes: Record<TextFilterName, string | undefined>) => void;
}) {
  const [problems, setProblems] = useState<Record<TextFilterName, string | null>>({
    src: textFilterProblem('src', src),
    dst: textFilterProblem('dst', dst),
    assignee: textFilterProblem('assignee', assignee),
  });
  const submit = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const read = (name: TextFilterName): string => {
      const value = form.get(name);
      return typeof value === 'string' ? value.trim() : '';
    };
    const next = { src: read('src'), dst: read('dst'), assignee: read('assignee') };
    const found = {
      src: textFilterProblem('src', next.src),
      dst: textFilterProblem('dst', next.dst),
      assignee: textFilterProblem('assignee', next.assignee),
    };
    setProblems(found);
    if (found.src !== null || found.dst !== null || found.assignee !== null) return;
    onApply({
      src: next.src || undefined,
      dst: next.dst || undefined,
      assignee: next.assignee || undefined,
    });
  };
  return (
    <form className="alert-address-filters" onSubmit={submit} noValidate>
      <TextField name="src" label="Source address" value={src} problem={problems.src} mono />
      <TextField name="dst" label="Destination address" value={dst} problem={problems.dst} mono />
      <TextField name="assignee" label="Assigned to" value={assignee} problem={problems.assignee} />
      <button type="submit" className="button-quiet">
        Apply
      </button>
    </form>
  );
}

function TextField({
  name,
  label,
  value,
  problem,
  mono = false,
}: {
  name: string;
  label: string;
  value: string;
  problem: string | null;
  mono?: boolean;
}) {
  const errorId = `alert-filter-${name}-error`;
  const invalid = problem !== null;
  return (
    <label className="field">
      {label}
      <input
        name={name}
        defaultValue={value}
        placeholder="any"
        inputMode="text"
        autoComplete="off"
        autoCapitalize="none"
        spellCheck={false}
        {...(mono && { className: 'mono' })}
        aria-invalid={invalid}
        {...(invalid && { 'aria-describedby': errorId })}
      />
      {invalid && (
        <span id={errorId} className="field-error">
          {problem}
        </span>
      )}
    </label>
  );
}

function AlertTable({ filters, sensor }: { filters: AlertFilters; sensor: string | undefined }) {
  const paging = useCursorPaging();
  const alerts = useApiQuery<AlertListPage>(withSensor(alertListPath(filters, paging.cursor), sensor), 5000);
  const canAct = useCan('analyst');
  const anySensor = useAnySensor();
  const filtered = hasFilters(filters) || sensor !== undefined;
  const mutedHint =
    filters.suppressed === undefined ? ' Muted alerts are hidden: tick Show muted to see them.' : '';
  return (
    <QueryView
      query={alerts}
      loadingLines={8}
      isEmpty={(page) => page.items.length === 0 && paging.pageNumber === 1}
      empty={
        filtered
          ? {
              title: 'No alerts match these filters',
              hint: `Widen or clear the filters to see more.${mutedHint}`,
            }
          : {
              title: 'No alerts yet',
              hint: `Scans, floods and brute force show up here as the detectors raise them.${mutedHint}`,
            }
      }
    >
      {(page) => {
        const showSensor = anySensor || page.items.some((alert) => alert.sensor != null);
        return (
          <>
            <div className="table-scroll">
              <table className="table alert-table" aria-label="Alerts">
                <thead>
                  <tr>
                    <th scope="col">Severity</th>
                    <th scope="col">Type</th>
                    <th scope="col">Summary</th>
                    <th scope="col">Source</th>
                    <th scope="col">Destination</th>
                    {showSensor && (
                      <th scope="col" title="The sensor that raised it">
                        Sensor
                      </th>
                    )}
                    <th scope="col">Status</th>
                    <th scope="col">Assigned to</th>
                    <th scope="col">First seen</th>
                    <th scope="col">Last seen</th>
                    {canAct && (
                      <th scope="col">
                        <span className="visually-hidden">Actions</span>
                      </th>
                    )}
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((alert) => (
                    <AlertRow key={alert.id} alert={alert} canAct={canAct} showSensor={showSensor} />
                  ))}
                </tbody>
              </table>
            </div>
            {page.items.length === 0 && (
              <p className="panel-note">No more alerts: this page is past the last one.</p>
            )}
            <CursorPager paging={paging} nextCursor={page.nextCursor} />
          </>
        );
      }}
    </QueryView>
  );
}

function AlertRow({
  alert,
  canAct,
  showSensor,
}: {
  alert: AlertDetail;
  canAct: boolean;
  showSensor: boolean;
}) {
  const first = microsToMs(alert.start);
  const last = microsToMs(alert.end);
  return (
    <tr>
      <td>
        <SeverityTag severity={alert.severity} />
      </td>
      <td className="mono">{alert.type}</td>
      {/* The link comes early in the row: on a phone it is in view without scrolling sideways. */}
      <td className="alert-summary">
        <Link to={`/alerts/${encodeURIComponent(alert.id)}`}>{alert.summary}</Link>
      </td>
      <td className="mono">{alert.src ?? '–'}</td>
      <td className="mono">{alert.dst ?? '–'}</td>
      {showSensor && (
        <td>
          <SensorSource sensor={alert.sensor} />
        </td>
      )}
      <td>
        <span className="alert-tags">
          <AlertStatusTag status={alert.status} />
          {alert.suppressedBy != null && <MutedTag ruleId={alert.suppressedBy} />}
        </span>
      </td>
      <td>{alert.assignee ?? <span className="alert-muted">–</span>}</td>
      <td className="alert-time">
        <time dateTime={new Date(first).toISOString()}>{formatTimestamp(first)}</time>
      </td>
      <td className="alert-time">
        <time dateTime={new Date(last).toISOString()}>{formatTimestamp(last)}</time>
      </td>
      {canAct && (
        <td>
          <AlertActions alert={alert} />
        </td>
      )}
    </tr>
  );
}
