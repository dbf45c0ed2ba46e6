/**
 * The incident list (/incidents): active incidents by default, filtered by status and severity
 * (kept in the URL), the most recently changed first, one cursor page at a time. Analysts report
 * a new incident from here. Titles are analysts' text: shown as text only.
 */

import './incidents.css';
import { SEVERITIES } from '../../api/api-types';
import { useCan } from '../../api/session';
import { CursorPager, useCursorPaging } from '../../components/CursorPager';
import { QueryView } from '../../components/QueryView';
import { formatTimestamp } from '../../lib/format';
import { Link, navigate, useQueryParams } from '../../lib/router';
import { Field } from '../../components/Field';
import {
  incidentFiltersKey,
  INCIDENT_FILTER_KEYS,
  isNarrowed,
  readIncidentFilters,
  type IncidentFilters,
} from './incident-filters';
import { hostsText, STATUS_LABEL } from './incident-format';
import { INCIDENT_STATUSES } from './incident-types';
import { SeverityTag, StatusTag } from './IncidentTags';
import { useIncidents } from './use-incidents';

export function IncidentsPage() {
  const canReport = useCan('analyst');
  const [query, setQuery] = useQueryParams();
  const filters = readIncidentFilters(query);
  return (
    <div className="stack">
      <header className="page-header">
        <h1>Incidents</h1>
        {canReport && (
          <button
            type="button"
            className="button-primary"
            onClick={() => {
              navigate('/incidents/new');
            }}
          >
            Report incident
          </button>
        )}
      </header>
      <section className="panel" aria-label="Incident list">
        <div className="toolbar">
          <Field label="Status">
            {(control) => (
              <select
                {...control}
                value={filters.status ?? ''}
                onChange={(e) => {
                  setQuery({ status: e.target.value });
                }}
              >
                <option value="">Any</option>
                {INCIDENT_STATUSES.map((status) => (
                  <option key={status} value={status}>
                    {STATUS_LABEL[status]}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Severity">
            {(control) => (
              <select
                {...control}
                value={filters.severity ?? ''}
                onChange={(e) => {
                  setQuery({ severity: e.target.value });
                }}
              >
                <option value="">Any</option>
                {SEVERITIES.map((severity) => (
                  <option key={severity} value={severity}>
                    {severity}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <label
            className="inc-check"
            title={filters.status === undefined ? undefined : 'A chosen status shows exactly that status.'}
          >
            <input
              type="checkbox"
              checked={filters.status === undefined ? filters.activeOnly : filters.status !== 'closed'}
              disabled={filters.status !== undefined}
              onChange={(e) => {
                setQuery({ all: e.target.checked ? undefined : '1' });
              }}
            />
            Active only
          </label>
          {(isNarrowed(filters) || !filters.activeOnly) && (
            <button
              type="button"
              className="button-quiet"
              onClick={() => {
                setQuery(Object.fromEntries(INCIDENT_FILTER_KEYS.map((key) => [key, undefined])));
              }}
            >
              Reset filters
            </button>
          )}
        </div>
        {/* Keyed by the filters: paging starts again at the first page when they change. */}
        <IncidentTable key={incidentFiltersKey(filters)} filters={filters} canReport={canReport} />
      </section>
    </div>
  );
}

function IncidentTable({ filters, canReport }: { filters: IncidentFilters; canReport: boolean }) {
  const paging = useCursorPaging();
  const incidents = useIncidents(filters, paging.cursor);
  const narrowed = isNarrowed(filters);
  return (
    <QueryView
      query={incidents}
      loadingLines={6}
      isEmpty={(page) => page.items.length === 0 && paging.pageNumber === 1}
      empty={
        narrowed
          ? { title: 'No incidents match these filters', hint: 'Choose another status or severity.' }
          : filters.activeOnly
            ? {
                title: 'No active incidents',
                hint: canReport
                  ? 'Report one when alerts add up to an attack worth following; closed incidents show with “Active only” off.'
                  : 'Analysts report incidents here; closed ones show with “Active only” off.',
              }
            : {
                title: 'No incidents yet',
                hint: canReport ? 'Report the first with “Report incident”.' : undefined,
              }
      }
    >
      {(page) => (
        <>
          <div className="table-scroll">
            <table className="table inc-table" aria-label="Incidents">
              <thead>
                <tr>
                  <th scope="col" className="num">
                    Id
                  </th>
                  <th scope="col">Title</th>
                  <th scope="col">Severity</th>
                  <th scope="col">Status</th>
                  <th scope="col">Hosts</th>
                  <th scope="col">Assignee</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {page.items.map((incident) => (
                  <tr key={incident.id}>
                    <td className="num mono">
                      <Link to={`/incidents/${incident.id}`} aria-label={`Incident ${incident.id}`}>
                        #{incident.id}
                      </Link>
                    </td>
                    <td className="inc-title-cell">
                      <Link to={`/incidents/${incident.id}`}>{incident.title}</Link>
                    </td>
                    <td>
                      <SeverityTag severity={incident.severity} />
                    </td>
                    <td>
                      <StatusTag status={incident.status} />
                    </td>
                    <td className="mono" title={incident.hosts.join(', ')}>
                      {hostsText(incident.hosts)}
                    </td>
                    <td>{incident.assignee ?? <span className="inc-muted">nobody</span>}</td>
                    <td className="inc-nowrap">
                      <time dateTime={new Date(incident.updatedAt).toISOString()}>
                        {formatTimestamp(incident.updatedAt, 'minute')}
                      </time>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <CursorPager paging={paging} nextCursor={page.nextCursor} />
        </>
      )}
    </QueryView>
  );
}
