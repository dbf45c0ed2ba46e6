/**
 * /incidents/new (analysts): reporting an incident: what it is, how bad, the hosts affected,
 * who follows it, and the alerts behind it (a link may name them: `?alert=<id>`). Problems are
 * pointed out beside their field; what the server refuses (an unknown user, an alert that does
 * not exist) is shown as it says it, and the form keeps its values. Done, it opens the incident.
 */

import './incidents.css';
import { useState, type SubmitEvent } from 'react';
import { SEVERITIES } from '../../api/api-types';
import { Link, navigate, useLocation } from '../../lib/router';
import { Field, SelectField } from '../../components/Field';
import {
  MAX_DESCRIPTION,
  MAX_TITLE,
  newIncidentBodyOf,
  reportFormFromQuery,
  type ReportField,
  type ReportForm,
} from './incident-form';
import { useReportIncident } from './use-incidents';

export function ReportIncidentPage() {
  const { query } = useLocation();
  const [form, setForm] = useState<ReportForm>(() => reportFormFromQuery(query));
  const [errors, setErrors] = useState<Partial<Record<ReportField, string>>>({});
  const reportIncident = useReportIncident();
  const set = (changes: Partial<ReportForm>): void => {
    setForm((f) => ({ ...f, ...changes }));
  };

  const submit = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const checked = newIncidentBodyOf(form);
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    setErrors({});
    reportIncident.mutate(checked.value, {
      onSuccess: (detail) => {
        navigate(`/incidents/${detail.incident.id}`);
      },
    });
  };

  return (
    <div className="stack">
      <nav aria-label="Breadcrumb">
        <Link to="/incidents">← All incidents</Link>
      </nav>
      <header className="page-header">
        <h1>Report incident</h1>
      </header>
      <section className="panel" aria-label="New incident">
        <form className="inc-form" onSubmit={submit} noValidate>
          <div className="toolbar">
            <Field label="Title" error={errors.title} className="inc-grow">
              {(control) => (
                <input
                  {...control}
                  value={form.title}
                  maxLength={MAX_TITLE}
                  autoFocus
                  placeholder="Brute force on ssh from 203.0.113.7"
                  onChange={(e) => {
                    set({ title: e.target.value });
                  }}
                />
              )}
            </Field>
            <SelectField
              label="Severity"
              value={form.severity}
              options={SEVERITIES}
              onChange={(value) => {
                set({ severity: value });
              }}
            />
          </div>
          <Field
            label="Description"
            error={errors.description}
            hint="What happened, what is known, what was done."
          >
            {(control) => (
              <textarea
                {...control}
                rows={5}
                value={form.description}
                maxLength={MAX_DESCRIPTION}
                onChange={(e) => {
                  set({ description: e.target.value });
                }}
              />
            )}
          </Field>
          <div className="toolbar">
            <Field
              label="Hosts"
              error={errors.hosts}
              hint="IP addresses, separated by commas or spaces."
              className="inc-grow"
            >
              {(control) => (
                <input
                  {...control}
                  className="mono"
                  value={form.hosts}
                  placeholder="10.0.0.5, 2001:db8::7"
                  autoComplete="off"
                  spellCheck={false}
                  onChange={(e) => {
                    set({ hosts: e.target.value });
                  }}
                />
              )}
            </Field>
            <Field label="Assignee (optional)" error={errors.assignee} hint="A user name.">
              {(control) => (
                <input
                  {...control}
                  value={form.assignee}
                  autoComplete="off"
                  spellCheck={false}
                  onChange={(e) => {
                    set({ assignee: e.target.value });
                  }}
                />
              )}
            </Field>
          </div>
          <Field
            label="Alerts to link (optional)"
            error={errors.alertIds}
            hint="Alert ids, separated by commas or spaces; flows, captures, blocks and scans are linked from the incident."
          >
            {(control) => (
              <input
                {...control}
                className="mono"
                value={form.alertIds}
                placeholder="port_scan-…"
                autoComplete="off"
                spellCheck={false}
                onChange={(e) => {
                  set({ alertIds: e.target.value });
                }}
              />
            )}
          </Field>
          {Object.keys(errors).length > 0 && (
            <p className="form-error" role="alert">
              Fix the fields marked above.
            </p>
          )}
          {reportIncident.isError && (
            <p className="form-error" role="alert">
              {reportIncident.error.message}
            </p>
          )}
          <div className="inc-form-actions">
            <button
              type="button"
              className="button-quiet"
              onClick={() => {
                navigate('/incidents');
              }}
            >
              Cancel
            </button>
            <button type="submit" className="button-primary" disabled={reportIncident.isPending}>
              {reportIncident.isPending ? 'Reporting…' : 'Report incident'}
            </button>
          </div>
        </form>
      </section>
    </div>
  );
}
