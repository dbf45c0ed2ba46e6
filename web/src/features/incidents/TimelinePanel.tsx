/**
 * The incident's timeline, oldest first: its own entries (reported, status changes, edits,
 * comments, links) joined by the server with its linked alerts, blocks, scans and flows. Each
 * entry says when, from where, who, what, and links to the thing when it has a page. Analysts
 * add comments beneath. Entries carry analysts' and alerts' text: shown as text only.
 */

import { useState, type SubmitEvent } from 'react';
import { PanelEmpty } from '../../components/Panel';
import { Link } from '../../lib/router';
import { Field } from '../../components/Field';
import { commentBodyOf, MAX_COMMENT } from './incident-form';
import { timelineLines } from './incident-format';
import type { TimelineEntry } from './incident-types';
import { useAddComment } from './use-incidents';

export function TimelinePanel({
  incidentId,
  timeline,
  canComment,
}: {
  incidentId: number;
  timeline: readonly TimelineEntry[];
  canComment: boolean;
}) {
  const lines = timelineLines(timeline);
  return (
    <section className="panel" aria-label="Incident timeline">
      <header className="panel-header">
        <h2>Timeline</h2>
        <span className="inc-muted">oldest first</span>
      </header>
      {lines.length === 0 ? (
        <PanelEmpty title="No entries yet" />
      ) : (
        <ol className="inc-timeline">
          {lines.map((line) => (
            <li key={line.key} className={`inc-entry inc-source-${line.source}`}>
              <time className="inc-entry-time mono" dateTime={line.dateTime}>
                {line.time}
              </time>
              <span className="inc-entry-source" title={line.kind}>
                <span aria-hidden="true">{line.icon}</span> {line.sourceLabel}
              </span>
              <div className="inc-entry-body">
                <p className="inc-entry-title">
                  <span className="inc-entry-actor">{line.actor}</span>
                  {': '}
                  {line.path === null ? line.title : <Link to={line.path}>{line.title}</Link>}
                </p>
                {line.text !== null && <p className="inc-entry-text">{line.text}</p>}
              </div>
            </li>
          ))}
        </ol>
      )}
      {canComment && <CommentForm incidentId={incidentId} />}
    </section>
  );
}

function CommentForm({ incidentId }: { incidentId: number }) {
  const [text, setText] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const comment = useAddComment(incidentId);

  const submit = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const checked = commentBodyOf(text);
    if (!checked.ok) {
      setProblem(checked.error);
      return;
    }
    setProblem(null);
    comment.mutate(checked.value, {
      onSuccess: () => {
        setText('');
      },
    });
  };

  return (
    <form className="inc-comment" onSubmit={submit} noValidate>
      <Field
        label="Comment"
        error={problem ?? (comment.isError ? comment.error.message : undefined)}
        hint={text.length > MAX_COMMENT - 500 ? `${text.length} of ${MAX_COMMENT} characters` : undefined}
      >
        {(control) => (
          <textarea
            {...control}
            rows={3}
            value={text}
            placeholder="What you found, what you did"
            onChange={(e) => {
              setText(e.target.value);
            }}
          />
        )}
      </Field>
      <div className="inc-form-actions">
        <button type="submit" className="button-primary" disabled={comment.isPending}>
          {comment.isPending ? 'Adding…' : 'Add comment'}
        </button>
      </div>
    </form>
  );
}
