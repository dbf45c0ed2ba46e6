/**
 * The flow page's filters: typed into a draft and applied together (Enter or Apply), so the list
 * is not asked for on every keystroke; the applied filters live in the URL. Times are edited as
 * local date-times but kept as the URL's epoch ms until changed, so a linked range stays exact
 * to the millisecond. The server checks every value and its message is shown if one is wrong.
 * The Sensor choices are the sources GET /api/sensors names ("This host" is the server's own).
 */

import { useId, useState, type SubmitEvent } from 'react';
import { FILTER_KEYS, fromLocalInput, toLocalInput, type FlowFilterValues } from './flow-filters';
import { FLOW_STATES } from './flow-types';
import { SensorFilterField } from '../sensors/SensorFilterField';

const PROTOCOLS = ['tcp', 'udp', 'icmp', 'icmpv6', 'sctp', 'gre', 'esp'];
const QUICK_RANGES = [
  { label: '15 min', ms: 15 * 60_000 },
  { label: '1 h', ms: 3_600_000 },
  { label: '24 h', ms: 86_400_000 },
];

export function FlowFilterForm({
  filters,
  onApply,
}: {
  /** The filters in force (the URL's). */
  filters: FlowFilterValues;
  onApply: (values: FlowFilterValues) => void;
}) {
  const id = useId();
  const [draft, setDraft] = useState<FlowFilterValues>(filters);
  // A link or the back button changed the URL: start the draft again from it. (React's pattern
  // for state that follows a prop, without an effect.)
  const [appliedFrom, setAppliedFrom] = useState(filters);
  if (!sameFilters(appliedFrom, filters)) {
    setAppliedFrom(filters);
    setDraft(filters);
  }
  const edit = (key: keyof FlowFilterValues) => (value: string | undefined) => {
    setDraft((d) => ({ ...d, [key]: value }));
  };
  const submit = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    onApply(draft);
  };
  const changed = !sameFilters(draft, filters);

  return (
    <form className="panel flow-filters" aria-label="Flow filters" onSubmit={submit}>
      <div className="toolbar">
        <label className="field">
          Host address
          <input
            className="mono"
            value={draft.address ?? ''}
            placeholder="10.0.0.5 or 2001:db8::1"
            spellCheck={false}
            autoComplete="off"
            onChange={(e) => edit('address')(e.target.value)}
          />
        </label>
        <label className="field field-narrow">
          Port
          <input
            type="number"
            inputMode="numeric"
            min={0}
            max={65535}
            value={draft.port ?? ''}
            onChange={(e) => edit('port')(e.target.value)}
          />
        </label>
        <label className="field field-narrow">
          Protocol
          <input
            list={`${id}-protocols`}
            value={draft.protocol ?? ''}
            placeholder="any"
            spellCheck={false}
            autoComplete="off"
            onChange={(e) => edit('protocol')(e.target.value)}
          />
          <datalist id={`${id}-protocols`}>
            {PROTOCOLS.map((p) => (
              <option key={p} value={p} />
            ))}
          </datalist>
        </label>
        <label className="field">
          State
          <select value={draft.state ?? ''} onChange={(e) => edit('state')(e.target.value)}>
            <option value="">any</option>
            {FLOW_STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <SensorFilterField value={draft.sensor ?? ''} onChange={edit('sensor')} />
        <label className="field field-narrow">
          Min bytes
          <input
            type="number"
            inputMode="numeric"
            min={0}
            value={draft.minBytes ?? ''}
            onChange={(e) => edit('minBytes')(e.target.value)}
          />
        </label>
      </div>
      <div className="toolbar">
        <label className="field">
          From
          <input
            type="datetime-local"
            step={1}
            value={toLocalInput(draft.from)}
            onChange={(e) => edit('from')(fromLocalInput(e.target.value))}
          />
        </label>
        <label className="field">
          To
          <input
            type="datetime-local"
            step={1}
            value={toLocalInput(draft.to)}
            onChange={(e) => edit('to')(fromLocalInput(e.target.value))}
          />
        </label>
        <div className="flow-quick-ranges" role="group" aria-label="Quick time ranges">
          {QUICK_RANGES.map((range) => (
            <button
              key={range.label}
              type="button"
              className="button-quiet"
              title={`Apply the last ${range.label}`}
              onClick={() => {
                const now = Date.now();
                onApply({ ...draft, from: String(now - range.ms), to: String(now) });
              }}
            >
              Last {range.label}
            </button>
          ))}
        </div>
        <div className="flow-filter-actions">
          {changed && <span className="flow-pending">Not applied yet</span>}
          <button type="submit" className="button-primary">
            Apply
          </button>
          <button
            type="button"
            className="button-quiet"
            disabled={FILTER_KEYS.every((k) => filters[k] === undefined)}
            onClick={() => {
              onApply({});
            }}
          >
            Clear
          </button>
        </div>
      </div>
    </form>
  );
}

function sameFilters(a: FlowFilterValues, b: FlowFilterValues): boolean {
  return FILTER_KEYS.every((k) => (a[k] ?? '') === (b[k] ?? ''));
}
