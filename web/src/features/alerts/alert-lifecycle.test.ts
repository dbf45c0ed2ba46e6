import { describe, expect, it } from 'vitest';
import {
  assignBody,
  commentBody,
  historyEntry,
  lifecycleActions,
  lifecycleBody,
  MAX_ALERT_COMMENT_LENGTH,
  severityText,
} from './alert-lifecycle';

describe('alert lifecycle', () => {
  it('offers the changes the status allows, and reopening only for a resolved alert', () => {
    expect(lifecycleActions('open')).toEqual(['acknowledge', 'resolve']);
    expect(lifecycleActions('acknowledged')).toEqual(['resolve']);
    expect(lifecycleActions('resolved')).toEqual(['reopen']);
  });

  it('sends a status change with its comment, or without one when none was written', () => {
    expect(lifecycleBody('  false positive: our backup job  ')).toEqual({
      ok: true,
      value: { comment: 'false positive: our backup job' },
    });
    expect(lifecycleBody('   ')).toEqual({ ok: true, value: {} });
    expect(lifecycleBody('x'.repeat(MAX_ALERT_COMMENT_LENGTH)).ok).toBe(true);
    expect(lifecycleBody('x'.repeat(MAX_ALERT_COMMENT_LENGTH + 1))).toEqual({
      ok: false,
      error: 'The comment has 4001 characters; keep it to 4000.',
    });
  });

  it('refuses an empty comment before asking the API', () => {
    expect(commentBody('\n  ')).toEqual({ ok: false, error: 'Write the comment first.' });
    expect(commentBody(' seen before, see ticket 42 ')).toEqual({
      ok: true,
      value: { text: 'seen before, see ticket 42' },
    });
  });

  it('assigns to a user name as typed, and says what is wrong with one that cannot be', () => {
    expect(assignBody(' ana ')).toEqual({ ok: true, value: { assignee: 'ana' } });
    expect(assignBody('')).toEqual({ ok: false, error: 'Enter a user name.' });
    expect(assignBody('ana smith').ok).toBe(false);
  });

  it("shows the detector's severity beside an admin's override", () => {
    expect(severityText('low', 'medium')).toBe('low (detector said medium)');
    expect(severityText('high', null)).toBe('high');
    expect(severityText('high', undefined)).toBe('high');
    expect(severityText('high', 'high')).toBe('high');
  });

  it('reads the history in words, the assignee in the line and comments as their text', () => {
    expect(historyEntry({ kind: 'acknowledged', text: null })).toEqual({ what: 'Acknowledged', text: null });
    expect(historyEntry({ kind: 'resolved', text: 'fixed the rule' })).toEqual({
      what: 'Resolved',
      text: 'fixed the rule',
    });
    expect(historyEntry({ kind: 'reopened', text: 'it is back' }).what).toBe('Reopened');
    expect(historyEntry({ kind: 'assigned', text: 'ana' })).toEqual({ what: 'Assigned to ana', text: null });
    expect(historyEntry({ kind: 'assigned', text: null })).toEqual({ what: 'Unassigned', text: null });
    expect(historyEntry({ kind: 'commented', text: 'looks like a scanner' })).toEqual({
      what: 'Commented',
      text: 'looks like a scanner',
    });
  });
});
