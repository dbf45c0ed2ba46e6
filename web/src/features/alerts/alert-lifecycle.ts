/**
 * An alert's life as the detail page offers it: which status changes its status allows, the
 * bodies of the lifecycle, assign and comment requests, and how its history and severity read.
 * Pure: the forms check what is plainly wrong before a round trip; the server checks everything
 * again (an unknown user name, a change someone else made meanwhile) and its message is shown.
 */

import type { Severity } from '../../api/api-types';
import { usernameProblem } from '../users/user-rules';
import type { AlertEvent, AlertStatus } from './alert-types';

/** The API's longest comment, on a status change or on its own. */
export const MAX_ALERT_COMMENT_LENGTH = 4000;

export type LifecycleAction = 'acknowledge' | 'resolve' | 'reopen';

export const LIFECYCLE_LABELS: Record<LifecycleAction, string> = {
  acknowledge: 'Acknowledge',
  resolve: 'Resolve',
  reopen: 'Reopen',
};

/**
 * The changes an alert's status allows, in the order offered: a new alert can be acknowledged or
 * resolved straight away, an acknowledged one resolved, a resolved one only reopened (the API
 * refuses to acknowledge it, and reopening a live one, with 409).
 */
export function lifecycleActions(status: AlertStatus): LifecycleAction[] {
  switch (status) {
    case 'open':
      return ['acknowledge', 'resolve'];
    case 'acknowledged':
      return ['resolve'];
    case 'resolved':
      return ['reopen'];
  }
}

export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

/** The body of acknowledge, resolve and reopen: the comment when one was written. */
export function lifecycleBody(comment: string): Checked<{ comment?: string }> {
  const text = comment.trim();
  if (text.length > MAX_ALERT_COMMENT_LENGTH) return fail(tooLong(text.length));
  return { ok: true, value: text === '' ? {} : { comment: text } };
}

/** The body of POST /api/anomalies/:id/comments: a comment must say something. */
export function commentBody(comment: string): Checked<{ text: string }> {
  const text = comment.trim();
  if (text === '') return fail('Write the comment first.');
  if (text.length > MAX_ALERT_COMMENT_LENGTH) return fail(tooLong(text.length));
  return { ok: true, value: { text } };
}

/** The body of POST /api/anomalies/:id/assign for a typed user name (the API knows who exists). */
export function assignBody(username: string): Checked<{ assignee: string }> {
  const name = username.trim();
  const problem = usernameProblem(name);
  return problem === null ? { ok: true, value: { assignee: name } } : fail(problem);
}

/** The alert's severity, with the detector's own when an admin's override replaced it. */
export function severityText(severity: Severity, detected: Severity | null | undefined): string {
  return detected == null || detected === severity ? severity : `${severity} (detector said ${detected})`;
}

/** One entry of the history in words: what happened, and the text that came with it. */
export function historyEntry(event: Pick<AlertEvent, 'kind' | 'text'>): {
  what: string;
  text: string | null;
} {
  switch (event.kind) {
    case 'acknowledged':
      return { what: 'Acknowledged', text: event.text };
    case 'resolved':
      return { what: 'Resolved', text: event.text };
    case 'reopened':
      return { what: 'Reopened', text: event.text };
    // The text of an assignment is the assignee: it belongs in the line itself.
    case 'assigned':
      return { what: event.text === null ? 'Unassigned' : `Assigned to ${event.text}`, text: null };
    case 'commented':
      return { what: 'Commented', text: event.text };
  }
}

function tooLong(length: number): string {
  return `The comment has ${length} characters; keep it to ${MAX_ALERT_COMMENT_LENGTH}.`;
}

function fail(error: string): { ok: false; error: string } {
  return { ok: false, error };
}
