/**
 * Changing a rule in force: its comment and when it ends (what it matches cannot change: that is
 * another rule). A modal <dialog> keeps the keyboard inside it; Esc or Cancel closes it. The
 * parent mounts it per rule (key), so the form starts from that rule's values.
 */

import { useEffect, useId, useRef, useState, type SubmitEvent } from 'react';
import { expiryText, ruleSummary } from './firewall-format';
import type { FirewallRule } from './firewall-types';
import { FormField } from './FormField';
import { EXPIRY_CHOICES, editFormOf, ruleChangeOf, toLocalDateTime, type EditForm } from './rule-form';
import { useChangeRule } from './use-firewall';

export function EditRuleDialog({
  rule,
  now,
  onClose,
}: {
  rule: FirewallRule;
  now: number;
  onClose: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [form, setForm] = useState<EditForm>(() => editFormOf(rule));
  const [problem, setProblem] = useState<string | null>(null);
  const change = useChangeRule();
  const titleId = useId();

  useEffect(() => {
    const element = dialog.current;
    if (element !== null && !element.open) element.showModal();
    return () => {
      if (element?.open) element.close();
    };
  }, []);

  const set = (changes: Partial<EditForm>): void => {
    setForm((f) => ({ ...f, ...changes }));
  };

  const submit = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const checked = ruleChangeOf(rule, form, Date.now());
    if (!checked.ok) {
      setProblem(checked.error);
      return;
    }
    setProblem(null);
    if (checked.value === null) {
      onClose();
      return;
    }
    change.mutate({ id: rule.id, change: checked.value }, { onSuccess: onClose });
  };

  const current = expiryText(rule, now);
  const error = problem ?? (change.isError ? change.error.message : null);
  return (
    <dialog
      ref={dialog}
      className="dialog"
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      <form onSubmit={submit} noValidate>
        <h2 id={titleId}>Edit rule {rule.id}</h2>
        <p className="dialog-body">
          <span className="mono">{ruleSummary(rule)}</span>, ends{' '}
          {current.absolute === null ? 'never' : `${current.relative} (${current.absolute})`}.
        </p>
        <div className="fw-dialog-fields">
          <FormField label="Comment">
            {(id) => (
              <input
                id={id}
                value={form.comment}
                maxLength={200}
                autoFocus
                onChange={(e) => {
                  set({ comment: e.target.value });
                }}
              />
            )}
          </FormField>
          <FormField label="Expires">
            {(id) => (
              <select
                id={id}
                value={form.expiry}
                onChange={(e) => {
                  set({ expiry: e.target.value as EditForm['expiry'] });
                }}
              >
                <option value="keep">Keep as it is</option>
                {EXPIRY_CHOICES.map((c) => (
                  <option key={c.value} value={c.value}>
                    {c.value === 'never' || c.value === 'custom' ? c.label : `${c.label} from now`}
                  </option>
                ))}
              </select>
            )}
          </FormField>
          {form.expiry === 'custom' && (
            <FormField label="Ends at">
              {(id) => (
                <input
                  id={id}
                  type="datetime-local"
                  value={form.until}
                  min={toLocalDateTime(now)}
                  required
                  onChange={(e) => {
                    set({ until: e.target.value });
                  }}
                />
              )}
            </FormField>
          )}
        </div>
        {error !== null && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="button-quiet" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button-primary" disabled={change.isPending}>
            {change.isPending ? 'Saving…' : 'Save changes'}
          </button>
        </div>
      </form>
    </dialog>
  );
}
