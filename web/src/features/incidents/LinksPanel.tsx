/**
 * What an incident links: alerts, flows, evidence captures, firewall rules and scans, each with
 * a line saying what it is (a link to its page), why it was linked, and who linked it when.
 * Analysts add and remove links; the server says when a reference does not exist or is linked
 * already, and that is shown beside the form.
 */

import { useId, useState, type SubmitEvent } from 'react';
import { Panel, PanelEmpty } from '../../components/Panel';
import { formatTimestamp } from '../../lib/format';
import { Link } from '../../lib/router';
import { Field } from '../../components/Field';
import { EMPTY_LINK_FORM, LINK_REF, linkBodyOf, type LinkField, type LinkForm } from './incident-form';
import { LINK_KIND_LABEL, linkTargetText } from './incident-format';
import { INCIDENT_LINK_KINDS, type IncidentLinkKind, type IncidentLinkView } from './incident-types';
import { useAddLink, useRemoveLink } from './use-incidents';

export function LinksPanel({
  incidentId,
  links,
  canEdit,
}: {
  incidentId: number;
  links: readonly IncidentLinkView[];
  canEdit: boolean;
}) {
  const remove = useRemoveLink(incidentId);
  return (
    <Panel title="Links">
      {links.length === 0 ? (
        <PanelEmpty title="Nothing linked yet">
          {canEdit
            ? 'Link the alerts, flows, captures, blocks and scans that belong to this incident: they join its timeline.'
            : 'Analysts link the alerts, flows, captures, blocks and scans that belong to this incident.'}
        </PanelEmpty>
      ) : (
        <div className="table-scroll">
          <table className="table inc-links" aria-label="Incident links">
            <thead>
              <tr>
                <th scope="col">Kind</th>
                <th scope="col">Target</th>
                <th scope="col">Note</th>
                <th scope="col">Added</th>
                {canEdit && (
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {links.map((link) => (
                <LinkRow
                  key={link.id}
                  link={link}
                  canEdit={canEdit}
                  removing={remove.isPending && remove.variables === link.id}
                  onRemove={() => {
                    remove.mutate(link.id);
                  }}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {remove.isError && (
        <p className="form-error" role="alert">
          {remove.error.message}
        </p>
      )}
      {canEdit && <AddLinkForm incidentId={incidentId} />}
    </Panel>
  );
}

function LinkRow({
  link,
  canEdit,
  removing,
  onRemove,
}: {
  link: IncidentLinkView;
  canEdit: boolean;
  removing: boolean;
  onRemove: () => void;
}) {
  const target = linkTargetText(link);
  const targetId = useId();
  return (
    <tr>
      <td>
        <span className="tag tag-muted">{LINK_KIND_LABEL[link.kind]}</span>
      </td>
      <th id={targetId} scope="row" className="inc-link-target">
        {target.path === null ? (
          <span className={target.gone ? 'inc-muted' : undefined}>{target.label}</span>
        ) : (
          <Link to={target.path}>{target.label}</Link>
        )}
        <span className="inc-sub mono">{link.ref}</span>
      </th>
      <td className="inc-note">{link.note ?? <span className="inc-muted">–</span>}</td>
      <td className="inc-nowrap">
        {link.addedBy}
        <time className="inc-sub" dateTime={new Date(link.addedAt).toISOString()}>
          {formatTimestamp(link.addedAt, 'minute')}
        </time>
      </td>
      {canEdit && (
        <td>
          <button
            type="button"
            className="button-quiet inc-remove"
            aria-describedby={targetId}
            disabled={removing}
            onClick={onRemove}
          >
            {removing ? 'Removing…' : 'Remove'}
          </button>
        </td>
      )}
    </tr>
  );
}

function AddLinkForm({ incidentId }: { incidentId: number }) {
  const [form, setForm] = useState<LinkForm>(EMPTY_LINK_FORM);
  const [errors, setErrors] = useState<Partial<Record<LinkField, string>>>({});
  const [added, setAdded] = useState<string | null>(null);
  const add = useAddLink(incidentId);
  const set = (changes: Partial<LinkForm>): void => {
    setForm((f) => ({ ...f, ...changes }));
  };

  const submit = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    setAdded(null);
    const checked = linkBodyOf(form);
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    setErrors({});
    add.mutate(checked.value, {
      onSuccess: () => {
        setAdded(`${LINK_KIND_LABEL[checked.value.kind]} ${checked.value.ref} linked.`);
        setForm((f) => ({ ...EMPTY_LINK_FORM, kind: f.kind }));
      },
    });
  };

  const ref = LINK_REF[form.kind];
  return (
    <form className="inc-add-link" onSubmit={submit} noValidate>
      <div className="toolbar">
        <Field label="Kind">
          {(control) => (
            <select
              {...control}
              value={form.kind}
              onChange={(e) => {
                set({ kind: e.target.value as IncidentLinkKind });
                setErrors({});
              }}
            >
              {INCIDENT_LINK_KINDS.map((kind) => (
                <option key={kind} value={kind}>
                  {LINK_KIND_LABEL[kind]}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Reference" error={errors.ref} hint={ref.hint}>
          {(control) => (
            <input
              {...control}
              className="mono"
              value={form.ref}
              placeholder={ref.placeholder}
              autoComplete="off"
              spellCheck={false}
              onChange={(e) => {
                set({ ref: e.target.value });
              }}
            />
          )}
        </Field>
        <Field label="Note (optional)" error={errors.note} className="inc-grow">
          {(control) => (
            <input
              {...control}
              value={form.note}
              maxLength={500}
              placeholder="Why it belongs here"
              onChange={(e) => {
                set({ note: e.target.value });
              }}
            />
          )}
        </Field>
        <button type="submit" className="button-primary" disabled={add.isPending}>
          {add.isPending ? 'Adding…' : 'Add link'}
        </button>
      </div>
      {add.isError && (
        <p className="form-error" role="alert">
          {add.error.message}
        </p>
      )}
      {added !== null && (
        <p className="inc-ok" role="status">
          {added}
        </p>
      )}
    </form>
  );
}
