/**
 * The admin's per-type severity overrides: for each alert type, the detector's own severity or
 * one the admin sets (a noisy, harmless type down to info; a type that matters here up to high).
 * New alerts of the type get it; the detector's severity is kept beside it. Viewers and analysts
 * see the choices; admins change them and save them together. The server records who and when.
 */

import { useState } from 'react';
import { useApiQuery } from '../../api/queries';
import { useCan } from '../../api/session';
import { Panel } from '../../components/Panel';
import { QueryView } from '../../components/QueryView';
import { ALERT_TYPE_LABELS, type SeverityOverridesView } from './alert-types';
import {
  draftOf,
  lastChangedText,
  OVERRIDE_CHOICES,
  overridesChanged,
  overridesOf,
  type OverrideDraft,
} from './severity-overrides';
import { OVERRIDES_PATH, useSaveOverrides } from './use-alert-api';

export function SeverityOverridesPanel() {
  const overrides = useApiQuery<SeverityOverridesView>(OVERRIDES_PATH);
  const canEdit = useCan('admin');
  // Kept here: the editor starts anew when the saved overrides come back changed.
  const [justSaved, setJustSaved] = useState(false);
  return (
    <Panel title="Severity overrides">
      <QueryView query={overrides} loadingLines={6}>
        {(view) => (
          // A new editor whenever the saved overrides change (saved here or by another admin).
          <OverridesEditor
            key={view.updatedAt ?? 'never'}
            view={view}
            canEdit={canEdit}
            justSaved={justSaved}
            onSaved={() => {
              setJustSaved(true);
            }}
            onEdit={() => {
              setJustSaved(false);
            }}
          />
        )}
      </QueryView>
    </Panel>
  );
}

function OverridesEditor({
  view,
  canEdit,
  justSaved,
  onSaved,
  onEdit,
}: {
  view: SeverityOverridesView;
  canEdit: boolean;
  justSaved: boolean;
  onSaved: () => void;
  onEdit: () => void;
}) {
  const [draft, setDraft] = useState<OverrideDraft>(() => draftOf(view.overrides));
  const save = useSaveOverrides();
  const changed = overridesChanged(view.overrides, draft);
  return (
    <>
      <p className="panel-note alert-overrides-changed">{lastChangedText(view)}</p>
      <div className="table-scroll">
        <table className="table alert-overrides" aria-label="Severity overrides">
          <thead>
            <tr>
              <th scope="col">Alert type</th>
              <th scope="col">Severity</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(draft).map(([type, choice]) => {
              const label = typeLabel(type);
              return (
                <tr key={type}>
                  <th scope="row">
                    {label} <span className="mono alert-muted">{type}</span>
                  </th>
                  <td>
                    {canEdit ? (
                      <select
                        aria-label={`Severity of ${label}`}
                        value={choice}
                        onChange={(event) => {
                          onEdit();
                          setDraft((d) => ({ ...d, [type]: event.target.value as OverrideDraft[string] }));
                        }}
                      >
                        {OVERRIDE_CHOICES.map((c) => (
                          <option key={c.value} value={c.value}>
                            {c.label}
                          </option>
                        ))}
                      </select>
                    ) : choice === '' ? (
                      <span className="alert-muted">Detector&rsquo;s default</span>
                    ) : (
                      <span className={`tag tag-${choice}`}>{choice}</span>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {canEdit && (
        <div className="alert-form-actions">
          {save.isError && (
            <p className="alert-action-error" role="alert">
              {save.error.message}
            </p>
          )}
          {justSaved && !changed && (
            <p className="alert-saved" role="status">
              Saved: new alerts get these severities.
            </p>
          )}
          <button
            type="button"
            className="button-quiet"
            disabled={!changed || save.isPending}
            onClick={() => {
              setDraft(draftOf(view.overrides));
            }}
          >
            Undo changes
          </button>
          <button
            type="button"
            className="button-primary"
            disabled={!changed || save.isPending}
            onClick={() => {
              save.mutate(overridesOf(draft), {
                onSuccess: onSaved,
              });
            }}
          >
            {save.isPending ? 'Saving…' : 'Save overrides'}
          </button>
        </div>
      )}
    </>
  );
}

function typeLabel(type: string): string {
  return (ALERT_TYPE_LABELS as Partial<Record<string, string>>)[type] ?? type;
}
