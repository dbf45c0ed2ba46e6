/**
 * Changing an incident (analysts): its title, description, severity, hosts and assignee. Only
 * what changed is sent, as one timeline entry naming the fields; nothing changed closes the form
 * without a request. The parent mounts it per incident version, so it starts from the latest.
 */

import { useState, type SubmitEvent } from 'react';
import { SEVERITIES } from '../../api/api-types';
import { Field, SelectField } from '../../components/Field';
import {
  editFormOf,
  incidentChangeOf,
  MAX_DESCRIPTION,
  MAX_TITLE,
  type EditField,
  type EditForm,
} from './incident-form';
import type { Incident } from './incident-types';
import { useChangeIncident } from './use-incidents';

export function EditIncidentForm({ incident, onDone }: { incident: Incident; onDone: () => void }) {
  const [form, setForm] = useState<EditForm>(() => editFormOf(incident));
  const [errors, setErrors] = useState<Partial<Record<EditField, string>>>({});
  const change = useChangeIncident(incident.id);
  const set = (changes: Partial<EditForm>): void => {
    setForm((f) => ({ ...f, ...changes }));
  };

  const submit = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const checked = incidentChangeOf(incident, form);
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    setErrors({});
    if (checked.value === null) {
      onDone();
      return;
    }
    change.mutate(checked.value, { onSuccess: onDone });
  };

  return (
    <form className="inc-form" onSubmit={submit} noValidate>
      <div className="toolbar">
        <Field label="Title" error={errors.title} className="inc-grow">
          {(control) => (
            <input
              {...control}
              value={form.title}
              maxLength={MAX_TITLE}
              autoFocus
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
      <Field label="Description" error={errors.description}>
        {(control) => (
          <textarea
            {...control}
            rows={6}
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
              autoComplete="off"
              spellCheck={false}
              onChange={(e) => {
                set({ hosts: e.target.value });
              }}
            />
          )}
        </Field>
        <Field label="Assignee" error={errors.assignee} hint="A user name; empty: nobody.">
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
      {change.isError && (
        <p className="form-error" role="alert">
          {change.error.message}
        </p>
      )}
      <div className="inc-form-actions">
        <button type="button" className="button-quiet" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="button-primary" disabled={change.isPending}>
          {change.isPending ? 'Saving…' : 'Save changes'}
        </button>
      </div>
    </form>
  );
}
