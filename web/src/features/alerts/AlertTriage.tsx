/**
 * An analyst's work on one alert: acknowledge, resolve or reopen it with an optional comment, and
 * assign it (to a user by name, to oneself, or to nobody). Shown to analysts and admins only (the
 * API refuses viewers either way). The server's refusal (resolved meanwhile, an unknown user) is
 * shown beside the buttons; success refetches every alert view and clears what was typed.
 */

import { useState, type SubmitEvent } from 'react';
import { useSession } from '../../api/session';
import { Panel } from '../../components/Panel';
import { Field } from '../../components/Field';
import { assignBody, LIFECYCLE_LABELS, lifecycleActions, lifecycleBody } from './alert-lifecycle';
import type { AlertDetail } from './alert-types';
import { useAssign, useLifecycleChange } from './use-alert-api';

export function AlertTriage({ alert }: { alert: Pick<AlertDetail, 'id' | 'status' | 'assignee'> }) {
  return (
    <Panel title="Triage">
      <div className="alert-triage">
        <StatusChange alert={alert} />
        <AssignControls alert={alert} />
      </div>
    </Panel>
  );
}

function StatusChange({ alert }: { alert: Pick<AlertDetail, 'id' | 'status'> }) {
  const [comment, setComment] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const change = useLifecycleChange(alert.id);
  return (
    <div className="alert-triage-part">
      <Field label="Comment with the change (optional)" error={problem ?? undefined}>
        {(control) => (
          <textarea
            {...control}
            className="alert-comment"
            rows={2}
            value={comment}
            placeholder="Why: a false positive, the ticket it is tracked in"
            onChange={(event) => {
              setComment(event.target.value);
            }}
          />
        )}
      </Field>
      <div className="alert-actions">
        {lifecycleActions(alert.status).map((action) => (
          <button
            key={action}
            type="button"
            className={action === 'reopen' ? 'button-quiet' : 'button-primary'}
            disabled={change.isPending}
            aria-busy={change.isPending && change.variables.action === action}
            onClick={() => {
              const body = lifecycleBody(comment);
              if (!body.ok) {
                setProblem(body.error);
                return;
              }
              setProblem(null);
              change.mutate(
                { action, ...body.value },
                {
                  onSuccess: () => {
                    setComment('');
                  },
                },
              );
            }}
          >
            {LIFECYCLE_LABELS[action]}
          </button>
        ))}
        {change.isError && (
          <p className="alert-action-error" role="alert">
            {change.error.message}
          </p>
        )}
      </div>
    </div>
  );
}

function AssignControls({ alert }: { alert: Pick<AlertDetail, 'id' | 'assignee'> }) {
  const me = useSession().username;
  const [name, setName] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const assign = useAssign(alert.id);
  const send = (assignee: string | null): void => {
    setProblem(null);
    assign.mutate(assignee, {
      onSuccess: () => {
        setName('');
      },
    });
  };
  const submit = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const body = assignBody(name);
    if (!body.ok) {
      setProblem(body.error);
      return;
    }
    send(body.value.assignee);
  };
  return (
    <form className="alert-triage-part alert-assign" onSubmit={submit} noValidate>
      <p className="alert-assignee">
        {alert.assignee === null ? (
          'Assigned to nobody'
        ) : (
          <>
            Assigned to <strong>{alert.assignee === me ? `${me} (you)` : alert.assignee}</strong>
          </>
        )}
      </p>
      <div className="alert-actions">
        <Field label="Assign to" error={problem ?? undefined}>
          {(control) => (
            <input
              {...control}
              value={name}
              placeholder="user name"
              autoComplete="off"
              autoCapitalize="none"
              spellCheck={false}
              onChange={(event) => {
                setName(event.target.value);
              }}
            />
          )}
        </Field>
        <button type="submit" className="button-quiet alert-assign-submit" disabled={assign.isPending}>
          Assign
        </button>
        {alert.assignee !== me && (
          <button
            type="button"
            className="button-quiet alert-assign-submit"
            disabled={assign.isPending}
            onClick={() => {
              send(me);
            }}
          >
            Assign to me
          </button>
        )}
        {alert.assignee !== null && (
          <button
            type="button"
            className="button-quiet alert-assign-submit"
            disabled={assign.isPending}
            onClick={() => {
              send(null);
            }}
          >
            Unassign
          </button>
        )}
        {assign.isError && (
          <p className="alert-action-error" role="alert">
            {assign.error.message}
          </p>
        )}
      </div>
    </form>
  );
}
