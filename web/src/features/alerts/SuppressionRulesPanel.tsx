/**
 * The suppression rules: every rule, newest first, with what it matches, why, who made it, when it
 * ends and whether it is still in force (or who removed it). Analysts add rules and remove rules
 * in force; a removed rule stays listed, as the record of who muted what and why.
 */

import { useId, useState, type SubmitEvent } from 'react';
import { useApiQuery } from '../../api/queries';
import { useCan } from '../../api/session';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { Panel } from '../../components/Panel';
import { QueryView } from '../../components/QueryView';
import { formatTimestamp } from '../../lib/format';
import { Link } from '../../lib/router';
import { useNow } from '../../lib/use-now';
import { alertsPagePath } from './alert-filters';
import type { SuppressionRuleList, SuppressionRuleView } from './alert-types';
import {
  EMPTY_SUPPRESSION_FORM,
  ruleMatchText,
  ruleState,
  suppressionBodyOf,
  type RuleState,
  type SuppressionForm,
  type SuppressionProblems,
} from './suppression-form';
import { SuppressionFields } from './SuppressionFields';
import { SUPPRESSIONS_PATH, useAddSuppression, useRemoveSuppression } from './use-alert-api';

export function SuppressionRulesPanel() {
  const rules = useApiQuery<SuppressionRuleList>(SUPPRESSIONS_PATH, 30_000);
  const canEdit = useCan('analyst');
  // Rules end by themselves: the states follow the clock between refreshes.
  const now = useNow(15_000);
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<SuppressionRuleView | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const remove = useRemoveSuppression();
  return (
    <Panel
      title="Suppression rules"
      aside={
        <div className="alert-actions">
          <Link to={alertsPagePath({ suppressed: 'true' })}>Muted alerts</Link>
          {canEdit && !adding && (
            <button
              type="button"
              className="button-primary"
              onClick={() => {
                setNotice(null);
                setAdding(true);
              }}
            >
              Add rule
            </button>
          )}
        </div>
      }
    >
      <p className="panel-note alert-rules-intro">
        A rule mutes the alerts it matches until it ends: they are still kept and can be listed, but nobody is
        notified and the alert list hides them by default.
      </p>
      {adding && (
        <AddSuppressionForm
          onAdded={(rule) => {
            setAdding(false);
            setNotice(
              `Rule #${rule.id} added: mutes ${ruleMatchText(rule)} until ${formatTimestamp(rule.expiresAt, 'minute')}.`,
            );
          }}
          onCancel={() => {
            setAdding(false);
          }}
        />
      )}
      {notice !== null && (
        <p className="notice alert-done" role="status">
          {notice}
        </p>
      )}
      <QueryView
        query={rules}
        loadingLines={5}
        isEmpty={(answer) => answer.rules.length === 0}
        empty={{
          title: 'No suppression rules',
          hint: canEdit
            ? 'Add one here, or use "Mute similar…" on a noisy alert.'
            : 'Analysts add them to quiet known, harmless alerts.',
        }}
      >
        {(answer) => (
          <RulesTable
            rules={answer.rules}
            now={now}
            canEdit={canEdit}
            onRemove={(rule) => {
              remove.reset();
              setNotice(null);
              setRemoving(rule);
            }}
          />
        )}
      </QueryView>
      <ConfirmDialog
        open={removing !== null}
        title={removing === null ? 'Remove rule' : `Remove rule #${removing.id}?`}
        confirmLabel="Remove"
        danger
        busy={remove.isPending}
        error={remove.isError ? remove.error.message : null}
        onCancel={() => {
          setRemoving(null);
        }}
        onConfirm={() => {
          if (removing === null) return;
          remove.mutate(removing.id, {
            onSuccess: (rule) => {
              setRemoving(null);
              setNotice(`Rule #${rule.id} removed: ${ruleMatchText(rule)} is no longer muted.`);
            },
          });
        }}
      >
        {removing !== null && (
          <p>
            Alerts of <strong>{ruleMatchText(removing)}</strong> will be notified and listed again from now
            on. The rule stays listed as removed by you.
          </p>
        )}
      </ConfirmDialog>
    </Panel>
  );
}

const STATE_CLASS: Record<RuleState, string> = {
  active: 'tag tag-ok',
  expired: 'tag tag-muted',
  removed: 'tag tag-muted',
};

function RulesTable({
  rules,
  now,
  canEdit,
  onRemove,
}: {
  rules: readonly SuppressionRuleView[];
  now: number;
  canEdit: boolean;
  onRemove: (rule: SuppressionRuleView) => void;
}) {
  return (
    <div className="table-scroll">
      <table className="table alert-rules" aria-label="Suppression rules">
        <thead>
          <tr>
            <th scope="col">Rule</th>
            <th scope="col">Type</th>
            <th scope="col">Source</th>
            <th scope="col">Destination</th>
            <th scope="col">Reason</th>
            <th scope="col">By</th>
            <th scope="col">Created</th>
            <th scope="col">Expires</th>
            <th scope="col">State</th>
            {canEdit && (
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {rules.map((rule) => (
            <RuleRow key={rule.id} rule={rule} now={now} canEdit={canEdit} onRemove={onRemove} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function RuleRow({
  rule,
  now,
  canEdit,
  onRemove,
}: {
  rule: SuppressionRuleView;
  now: number;
  canEdit: boolean;
  onRemove: (rule: SuppressionRuleView) => void;
}) {
  const state = ruleState(rule, now);
  const idCell = useId();
  return (
    <tr className={state === 'active' ? undefined : 'alert-ended'}>
      <th scope="row" id={idCell} className="mono">
        #{rule.id}
      </th>
      <td className="mono">{rule.type ?? <span className="alert-muted">any</span>}</td>
      <td className="mono">{rule.src ?? <span className="alert-muted">any</span>}</td>
      <td className="mono">{rule.dst ?? <span className="alert-muted">any</span>}</td>
      <td className="alert-rule-reason">{rule.reason}</td>
      <td>{rule.createdBy}</td>
      <td className="alert-time">
        <Time ms={rule.createdAt} />
      </td>
      <td className="alert-time">
        <Time ms={rule.expiresAt} />
      </td>
      <td>
        <span className={STATE_CLASS[state]}>{state}</span>
        {state === 'removed' && rule.removedBy !== null && (
          <span className="alert-sub">
            by {rule.removedBy}
            {rule.removedAt !== null && (
              <>
                {' '}
                at <Time ms={rule.removedAt} />
              </>
            )}
          </span>
        )}
      </td>
      {canEdit && (
        <td>
          {state === 'active' && (
            <button
              type="button"
              className="button-quiet alert-remove"
              aria-describedby={idCell}
              onClick={() => {
                onRemove(rule);
              }}
            >
              Remove
            </button>
          )}
        </td>
      )}
    </tr>
  );
}

function AddSuppressionForm({
  onAdded,
  onCancel,
}: {
  onAdded: (rule: SuppressionRuleView) => void;
  onCancel: () => void;
}) {
  const [form, setForm] = useState<SuppressionForm>(EMPTY_SUPPRESSION_FORM);
  const [problems, setProblems] = useState<SuppressionProblems>({});
  const add = useAddSuppression();
  const submit = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const body = suppressionBodyOf(form);
    if (!body.ok) {
      setProblems(body.problems);
      return;
    }
    setProblems({});
    add.mutate(body.value, {
      onSuccess: (rule) => {
        setForm(EMPTY_SUPPRESSION_FORM);
        onAdded(rule);
      },
    });
  };
  return (
    <form className="alert-rule-form" aria-label="Add a suppression rule" onSubmit={submit} noValidate>
      <SuppressionFields
        form={form}
        problems={problems}
        onChange={(changes) => {
          setForm((f) => ({ ...f, ...changes }));
        }}
      />
      {add.isError && (
        <p className="form-error" role="alert">
          {add.error.message}
        </p>
      )}
      <div className="alert-form-actions">
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

function Time({ ms }: { ms: number }) {
  return <time dateTime={new Date(ms).toISOString()}>{formatTimestamp(ms, 'minute')}</time>;
}
