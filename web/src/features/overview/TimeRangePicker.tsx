/**
 * The range every chart of the overview follows: live, a window back from now, or a custom start
 * and end (local time). A radio group: arrow keys move between the choices.
 */

import { useQueryParams } from '../../lib/router';
import { RANGE_CHOICES, type TimeRange } from './time-range';

/** A datetime-local input's value for epoch ms (local time, minutes). */
function localInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

/** The hour up to the next whole minute: where a custom range starts from live. */
function lastHour(): { from: number; to: number } {
  const to = Math.ceil(Date.now() / 60_000) * 60_000;
  return { from: to - 3_600_000, to };
}

export function TimeRangePicker({ range }: { range: TimeRange }) {
  const [query, setQuery] = useQueryParams();
  const key = query.get('range') ?? 'live';
  const choose = (next: string): void => {
    if (next === 'custom') {
      const { from, to } = range.kind === 'window' ? range : lastHour();
      setQuery({ range: next, from: String(from), to: String(to) });
    } else {
      setQuery({ range: next === 'live' ? undefined : next, from: undefined, to: undefined });
    }
  };
  const setBound = (bound: 'from' | 'to', value: string): void => {
    const ms = new Date(value).getTime();
    if (Number.isFinite(ms)) setQuery({ [bound]: String(ms) });
  };
  return (
    <div className="range-picker">
      <div className="segmented" role="radiogroup" aria-label="Time range">
        {RANGE_CHOICES.map((choice) => (
          <label key={choice.key} className={key === choice.key ? 'selected' : undefined}>
            <input
              type="radio"
              name="range"
              value={choice.key}
              checked={key === choice.key}
              onChange={() => {
                choose(choice.key);
              }}
            />
            {choice.label}
          </label>
        ))}
      </div>
      {key === 'custom' && (
        <div className="range-custom">
          <label className="field">
            From
            <input
              type="datetime-local"
              value={range.kind === 'window' ? localInput(range.from) : ''}
              onChange={(e) => {
                setBound('from', e.target.value);
              }}
            />
          </label>
          <label className="field">
            To
            <input
              type="datetime-local"
              value={range.kind === 'window' ? localInput(range.to) : ''}
              onChange={(e) => {
                setBound('to', e.target.value);
              }}
            />
          </label>
        </div>
      )}
      {range.kind === 'invalid' && (
        <p className="form-error" role="alert">
          {range.message}
        </p>
      )}
    </div>
  );
}
