/**
 * The admin's form for a new rule: block or allow a source, close or open a local port,
 * optionally on one interface, with a comment and an expiry. What the server refuses (an unsafe
 * block answers 409 with its reason) is shown inline as it says it, and the form keeps its values.
 */

import { useId, useState, type SubmitEvent } from 'react';
import { FormField } from './FormField';
import { useAddRule } from './use-firewall';
import type { FirewallRule } from './firewall-types';
import { PROTOCOLS, RULE_KINDS, type RuleKind } from './firewall-types';
import {
  bySource,
  EMPTY_RULE_FORM,
  EXPIRY_CHOICES,
  ruleBodyOf,
  toLocalDateTime,
  type ExpiryChoice,
  type RuleForm,
} from './rule-form';

const KIND_LABEL: Record<RuleKind, string> = {
  block: 'Block a source',
  allow: 'Allow a source (never blocked)',
  close: 'Close a local port',
  open: 'Open a local port (never closed)',
};

export function AddRuleForm({
  now,
  onAdded,
  onCancel,
}: {
  now: number;
  onAdded: (rule: FirewallRule) => void;
  onCancel: () => void;
}) {
  const [form, setForm] = useState<RuleForm>(EMPTY_RULE_FORM);
  const [problem, setProblem] = useState<string | null>(null);
  const add = useAddRule();
  const errorId = useId();
  const set = (changes: Partial<RuleForm>): void => {
    setForm((f) => ({ ...f, ...changes }));
  };

  const submit = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const body = ruleBodyOf(form, Date.now());
    if (!body.ok) {
      setProblem(body.error);
      return;
    }
    setProblem(null);
    add.mutate(body.value, {
      onSuccess: (created) => {
        setForm(EMPTY_RULE_FORM);
        onAdded(created);
      },
    });
  };

  const error = problem ?? (add.isError ? add.error.message : null);
  const source = bySource(form.kind);
  return (
    <form
      className="fw-form"
      onSubmit={submit}
      aria-describedby={error === null ? undefined : errorId}
      noValidate
    >
      <div className="toolbar">
        <FormField label="Kind">
          {(id) => (
            <select
              id={id}
              value={form.kind}
              autoFocus
              onChange={(e) => {
                set({ kind: e.target.value as RuleKind });
              }}
            >
              {RULE_KINDS.map((kind) => (
                <option key={kind} value={kind}>
                  {KIND_LABEL[kind]}
                </option>
              ))}
            </select>
          )}
        </FormField>
        {source ? (
          <FormField label="Source">
            {(id) => (
              <input
                id={id}
                className="mono"
                value={form.source}
                required
                placeholder="203.0.113.7 or 203.0.113.0/24"
                autoComplete="off"
                spellCheck={false}
                onChange={(e) => {
                  set({ source: e.target.value });
                }}
              />
            )}
          </FormField>
        ) : (
          <>
            <FormField label="Protocol">
              {(id) => (
                <select
                  id={id}
                  value={form.protocol}
                  onChange={(e) => {
                    set({ protocol: e.target.value as RuleForm['protocol'] });
                  }}
                >
                  {PROTOCOLS.map((p) => (
                    <option key={p} value={p}>
                      {p}
                    </option>
                  ))}
                </select>
              )}
            </FormField>
            <FormField label="Port">
              {(id) => (
                <input
                  id={id}
                  className="fw-port"
                  inputMode="numeric"
                  value={form.port}
                  required
                  placeholder="23"
                  onChange={(e) => {
                    set({ port: e.target.value });
                  }}
                />
              )}
            </FormField>
          </>
        )}
        <FormField label="Interface (optional)">
          {(id) => (
            <input
              id={id}
              value={form.interface}
              placeholder="any"
              autoComplete="off"
              spellCheck={false}
              onChange={(e) => {
                set({ interface: e.target.value });
              }}
            />
          )}
        </FormField>
      </div>
      <div className="toolbar">
        <FormField label="Comment" className="fw-grow">
          {(id) => (
            <input
              id={id}
              value={form.comment}
              maxLength={200}
              placeholder="Why: who asked, which ticket"
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
                set({ expiry: e.target.value as ExpiryChoice });
              }}
            >
              {EXPIRY_CHOICES.map((c) => (
                <option key={c.value} value={c.value}>
                  {c.label}
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
        <p id={errorId} className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="fw-form-actions">
        <button type="button" className="button-quiet" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="button-primary" disabled={add.isPending}>
          {add.isPending ? 'Saving…' : 'Save rule'}
        </button>
      </div>
    </form>
  );
}
