/**
 * One incident (/incidents/:id): what it is, how bad, where it stands and who follows it; the
 * evidence linked to it; and one timeline joining the analysts' work with what the linked alerts,
 * blocks, scans and flows did. Analysts move its status, edit it, link evidence and comment;
 * everyone may export its report. Refreshed every 15 s. Analysts' text is shown as text only.
 */

import './incidents.css';
import { useState, type ReactNode } from 'react';
import { ApiError } from '../../api/api-client';
import { useCan } from '../../api/session';
import { QueryView } from '../../components/QueryView';
import { formatTimestamp } from '../../lib/format';
import { Link } from '../../lib/router';
import { EditIncidentForm } from './EditIncidentForm';
import { isIncidentId } from './incident-filters';
import { Field } from '../../components/Field';
import { STATUS_LABEL } from './incident-format';
import { INCIDENT_STATUSES, type Incident, type IncidentDetail, type IncidentStatus } from './incident-types';
import { SeverityTag, StatusTag } from './IncidentTags';
import { LinksPanel } from './LinksPanel';
import { ReportDownload } from './ReportDownload';
import { TimelinePanel } from './TimelinePanel';
import { useChangeIncident, useIncident } from './use-incidents';

export function IncidentDetailPage({ id }: { id: string }) {
  const incident = useIncident(id);
  // A path that cannot name an incident is not asked for: the API logs refused input.
  const missing = !isIncidentId(id)
    ? `${id} is not an incident number.`
    : incident.data === undefined &&
        incident.error instanceof ApiError &&
        (incident.error.status === 404 || incident.error.status === 400)
      ? incident.error.message
      : null;
  return (
    <div className="stack">
      <nav aria-label="Breadcrumb">
        <Link to="/incidents">← All incidents</Link>
      </nav>
      {missing !== null ? (
        <section className="panel state state-empty">
          <h1>No such incident</h1>
          <p className="state-hint">{missing}</p>
          <p>
            <Link to="/incidents">Back to the incident list</Link>
          </p>
        </section>
      ) : (
        <QueryView query={incident} loadingLines={8}>
          {(data) => <IncidentView detail={data} />}
        </QueryView>
      )}
    </div>
  );
}

function IncidentView({ detail }: { detail: IncidentDetail }) {
  const { incident } = detail;
  const canEdit = useCan('analyst');
  const [editing, setEditing] = useState(false);
  return (
    <>
      <header className="page-header">
        <h1 className="inc-heading">
          <span className="inc-id mono">#{incident.id}</span> {incident.title}{' '}
          <SeverityTag severity={incident.severity} />
        </h1>
        <div className="inc-header-actions">
          {canEdit ? <StatusControl incident={incident} /> : <StatusTag status={incident.status} />}
          {canEdit && (
            <button
              type="button"
              className="button-quiet"
              aria-expanded={editing}
              aria-controls="inc-edit"
              onClick={() => {
                setEditing((e) => !e);
              }}
            >
              Edit
            </button>
          )}
          <ReportDownload incidentId={incident.id} />
        </div>
      </header>

      {canEdit && editing && (
        <section id="inc-edit" className="panel" aria-label="Edit incident">
          <header className="panel-header">
            <h2>Edit incident</h2>
          </header>
          <EditIncidentForm
            incident={incident}
            onDone={() => {
              setEditing(false);
            }}
          />
        </section>
      )}

      <section className="panel" aria-label="Summary">
        {incident.description.trim() === '' ? (
          <p className="inc-muted">No description.</p>
        ) : (
          <p className="inc-description">{incident.description}</p>
        )}
        <dl className="inc-facts">
          <Fact label="Status">
            <StatusTag status={incident.status} />
            {incident.closedAt !== null && (
              <>
                {' '}
                since <Time ms={incident.closedAt} />
              </>
            )}
          </Fact>
          <Fact label="Assignee">{incident.assignee ?? <span className="inc-muted">nobody</span>}</Fact>
          <Fact label="Hosts">
            {incident.hosts.length === 0 ? (
              <span className="inc-muted">none named</span>
            ) : (
              <ul className="inc-hosts">
                {incident.hosts.map((host) => (
                  <li key={host}>
                    <Link className="mono" to={`/hosts/${encodeURIComponent(host)}`}>
                      {host}
                    </Link>
                  </li>
                ))}
              </ul>
            )}
          </Fact>
          <Fact label="Reported">
            by {incident.createdBy} at <Time ms={incident.createdAt} />
          </Fact>
          <Fact label="Last changed">
            <Time ms={incident.updatedAt} />
          </Fact>
        </dl>
      </section>

      <LinksPanel incidentId={incident.id} links={detail.links} canEdit={canEdit} />
      <TimelinePanel incidentId={incident.id} timeline={detail.timeline} canComment={canEdit} />
    </>
  );
}

/** The status as a select for analysts: a choice is saved at once, and is its own timeline entry. */
function StatusControl({ incident }: { incident: Incident }) {
  const change = useChangeIncident(incident.id);
  // While the change is on its way, show the status asked for rather than jump back.
  const shown: IncidentStatus =
    change.isPending && change.variables.status !== undefined ? change.variables.status : incident.status;
  return (
    <Field
      label="Status"
      error={change.isError ? change.error.message : undefined}
      className="inc-status-control"
    >
      {(control) => (
        <select
          {...control}
          value={shown}
          disabled={change.isPending}
          onChange={(e) => {
            change.mutate({ status: e.target.value as IncidentStatus });
          }}
        >
          {INCIDENT_STATUSES.map((status) => (
            <option key={status} value={status}>
              {STATUS_LABEL[status]}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="inc-fact">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function Time({ ms }: { ms: number }) {
  return <time dateTime={new Date(ms).toISOString()}>{formatTimestamp(ms, 'minute')}</time>;
}
