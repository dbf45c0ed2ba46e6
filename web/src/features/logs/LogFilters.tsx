/**
 * The filters of the log shown, as a toolbar. Each control writes the query string (through
 * `onChange`), so a filtered view is a URL; typed text is written once typing pauses or on Enter,
 * not at every key.
 */

import { useEffect, useId, useState } from 'react';
import {
  AUDIT_OUTCOMES,
  KNOWN_AUDIT_ACTIONS,
  LOG_LEVELS,
  MAX_ACTOR_CHARS,
  MAX_CONTAINS_CHARS,
  SECURITY_EVENT_KINDS,
  type SecurityEventKind,
} from './log-types';
import {
  RECENT_RANGES,
  changesClearingFilters,
  fromLocalInput,
  isFiltered,
  toLocalInput,
  type LogView,
  type RecentRange,
} from './log-view';

export type FilterChanges = Record<string, string | undefined>;

/** How long typing must pause before the text filter is applied. */
const TYPING_PAUSE_MS = 500;

const KIND_LABELS: Record<SecurityEventKind, string> = {
  login_failed: 'Failed sign-in',
  login_locked_out: 'Locked out',
  token_invalid: 'Bad token',
  forbidden: 'Refused (role)',
  rate_limited: 'Rate limited',
  bad_input: 'Bad input',
  setup_token_used: 'Setup token used',
};

export function LogFilters({
  view,
  onChange,
}: {
  view: LogView;
  onChange: (changes: FilterChanges) => void;
}) {
  const rangeValue =
    view.range.kind === 'any' ? '' : view.range.kind === 'recent' ? view.range.name : 'between';
  return (
    <form
      className="toolbar"
      aria-label="Filters"
      onSubmit={(event) => {
        event.preventDefault();
      }}
    >
      <label className="field">
        Time
        <select
          value={rangeValue}
          onChange={(event) => {
            const range = event.target.value;
            onChange(
              range === 'between'
                ? // Starts as the last hour, which the user then moves.
                  { range, from: new Date(Date.now() - RECENT_RANGES['1h'].ms).toISOString(), to: undefined }
                : { range, from: undefined, to: undefined },
            );
          }}
        >
          <option value="">Any time</option>
          {(Object.keys(RECENT_RANGES) as RecentRange[]).map((name) => (
            <option key={name} value={name}>
              {RECENT_RANGES[name].label}
            </option>
          ))}
          <option value="between">Between…</option>
        </select>
      </label>
      {view.range.kind === 'between' && (
        <>
          <TimeField
            label="From"
            ms={view.range.fromMs}
            onCommit={(iso) => {
              onChange({ from: iso });
            }}
          />
          <TimeField
            label="Until"
            ms={view.range.toMs}
            onCommit={(iso) => {
              onChange({ to: iso });
            }}
          />
        </>
      )}

      {view.log !== 'audit' && (
        <label className="field">
          Level
          <select
            value={view.level ?? ''}
            onChange={(event) => {
              onChange({ level: event.target.value });
            }}
          >
            <option value="">All levels</option>
            {LOG_LEVELS.map((level) => (
              <option key={level} value={level}>
                {level === 'fatal' || level === 'trace' ? level : `${level} and worse`}
              </option>
            ))}
          </select>
        </label>
      )}
      {view.log === 'security' && (
        <label className="field">
          Event
          <select
            value={view.kind ?? ''}
            onChange={(event) => {
              onChange({ kind: event.target.value });
            }}
          >
            <option value="">All events</option>
            {SECURITY_EVENT_KINDS.map((kind) => (
              <option key={kind} value={kind}>
                {KIND_LABELS[kind]}
              </option>
            ))}
          </select>
        </label>
      )}
      {view.log !== 'audit' && (
        <TextField
          label="Contains"
          value={view.contains ?? ''}
          maxLength={MAX_CONTAINS_CHARS}
          type="search"
          onCommit={(contains) => {
            onChange({ contains });
          }}
        />
      )}

      {view.log === 'audit' && (
        <>
          <TextField
            label="User"
            value={view.user ?? ''}
            maxLength={MAX_ACTOR_CHARS}
            onCommit={(user) => {
              onChange({ user });
            }}
          />
          <TextField
            label="Action"
            value={view.action ?? ''}
            maxLength={64}
            suggestions={KNOWN_AUDIT_ACTIONS}
            onCommit={(action) => {
              onChange({ action });
            }}
          />
          <label className="field">
            Outcome
            <select
              value={view.outcome ?? ''}
              onChange={(event) => {
                onChange({ outcome: event.target.value });
              }}
            >
              <option value="">Any outcome</option>
              {AUDIT_OUTCOMES.map((outcome) => (
                <option key={outcome} value={outcome}>
                  {outcome}
                </option>
              ))}
            </select>
          </label>
        </>
      )}

      {isFiltered(view) && (
        <button
          type="button"
          className="button-quiet"
          onClick={() => {
            onChange(changesClearingFilters());
          }}
        >
          Clear filters
        </button>
      )}
    </form>
  );
}

/**
 * A text filter: the draft is the input's own, written through `onCommit` when typing pauses, on
 * Enter or on leaving the field; a change from outside (Clear filters, Back) replaces the draft.
 */
function TextField({
  label,
  value,
  maxLength,
  type = 'text',
  suggestions,
  onCommit,
}: {
  label: string;
  value: string;
  maxLength: number;
  type?: 'text' | 'search';
  suggestions?: readonly string[];
  onCommit: (value: string) => void;
}) {
  const listId = useId();
  const [draft, setDraft] = useState(value);
  const [committed, setCommitted] = useState(value);
  if (value !== committed) {
    setCommitted(value);
    setDraft(value);
  }
  const commit = (): void => {
    if (draft.trim() !== value) onCommit(draft.trim());
  };
  useEffect(() => {
    if (draft.trim() === value) return undefined;
    const timer = window.setTimeout(() => {
      onCommit(draft.trim());
    }, TYPING_PAUSE_MS);
    return () => {
      window.clearTimeout(timer);
    };
  }, [draft, value, onCommit]);
  return (
    <label className="field">
      {label}
      <input
        type={type}
        value={draft}
        maxLength={maxLength}
        autoComplete="off"
        spellCheck={false}
        {...(suggestions && { list: listId })}
        onChange={(event) => {
          setDraft(event.target.value);
        }}
        onBlur={commit}
        onKeyDown={(event) => {
          if (event.key === 'Enter') commit();
        }}
      />
      {suggestions && (
        <datalist id={listId}>
          {suggestions.map((suggestion) => (
            <option key={suggestion} value={suggestion} />
          ))}
        </datalist>
      )}
    </label>
  );
}

/**
 * A point in time in the browser's time zone, written to the URL as ISO 8601 UTC once the input
 * holds a whole date and time; emptied, that end of the range opens when the field is left. The
 * draft is the input's own so a half-typed value is not wiped by the URL.
 */
function TimeField({
  label,
  ms,
  onCommit,
}: {
  label: string;
  ms: number | null;
  onCommit: (iso: string | undefined) => void;
}) {
  const shown = ms === null ? '' : toLocalInput(ms);
  const [draft, setDraft] = useState(shown);
  const [committed, setCommitted] = useState(ms);
  if (ms !== committed) {
    setCommitted(ms);
    setDraft(shown);
  }
  return (
    <label className="field">
      {label}
      <input
        type="datetime-local"
        value={draft}
        onChange={(event) => {
          setDraft(event.target.value);
          const iso = fromLocalInput(event.target.value);
          if (iso !== null) onCommit(iso);
        }}
        onBlur={() => {
          if (draft === '' && ms !== null) onCommit(undefined);
        }}
      />
    </label>
  );
}
