/**
 * An alert's history, oldest first: who acknowledged, resolved, reopened or assigned it and when,
 * with the comments; and for analysts a box to add a comment. Comments are shown as text only.
 */

import { useState, type SubmitEvent } from 'react';
import { Panel, PanelEmpty } from '../../components/Panel';
import { formatTimestamp } from '../../lib/format';
import { Field } from '../../components/Field';
import { commentBody, historyEntry, MAX_ALERT_COMMENT_LENGTH } from './alert-lifecycle';
import type { AlertEvent } from './alert-types';
import { useAddComment } from './use-alert-api';

export function AlertHistory({
  alertId,
  history,
  canComment,
}: {
  alertId: string;
  history: readonly AlertEvent[];
  canComment: boolean;
}) {
  return (
    <Panel title="History">
      {history.length === 0 ? (
        <PanelEmpty title="No history yet">
          Acknowledging, resolving, reopening, assigning and comments are recorded here, with who and when.
        </PanelEmpty>
      ) : (
        <div className="table-scroll">
          <table className="table alert-history" aria-label="Alert history">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">What</th>
                <th scope="col">Comment</th>
              </tr>
            </thead>
            <tbody>
              {history.map((event) => {
                const entry = historyEntry(event);
                return (
                  <tr key={event.id}>
                    <td className="alert-time">
                      <time dateTime={new Date(event.tsMs).toISOString()}>{formatTimestamp(event.tsMs)}</time>
                    </td>
                    <td>{event.actor}</td>
                    <td>{entry.what}</td>
                    <td className="alert-history-text">
                      {entry.text ?? <span className="alert-muted">–</span>}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {canComment && <CommentBox alertId={alertId} />}
    </Panel>
  );
}

function CommentBox({ alertId }: { alertId: string }) {
  const [text, setText] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const add = useAddComment(alertId);
  const submit = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const body = commentBody(text);
    if (!body.ok) {
      setProblem(body.error);
      return;
    }
    setProblem(null);
    add.mutate(body.value.text, {
      onSuccess: () => {
        setText('');
      },
    });
  };
  return (
    <form className="alert-comment-box" onSubmit={submit} noValidate>
      <Field label="New comment" error={problem ?? undefined}>
        {(control) => (
          <textarea
            {...control}
            className="alert-comment"
            rows={3}
            maxLength={MAX_ALERT_COMMENT_LENGTH}
            value={text}
            onChange={(event) => {
              setText(event.target.value);
            }}
          />
        )}
      </Field>
      <div className="alert-actions">
        <button type="submit" className="button-quiet" disabled={add.isPending} aria-busy={add.isPending}>
          Add comment
        </button>
        {add.isError && (
          <p className="alert-action-error" role="alert">
            {add.error.message}
          </p>
        )}
      </div>
    </form>
  );
}
