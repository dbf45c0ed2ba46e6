/**
 * The fields of a suppression rule (what it matches, why, for how long), shared by the rules
 * page's "Add rule" form and "Mute similar…" on an alert. Controlled: the form holds the values
 * and the problems suppressionBodyOf found, each shown beside its field.
 */

import { Field } from '../../components/Field';
import { ALERT_TYPE_LABELS, ALERT_TYPES } from './alert-types';
import {
  MAX_MUTE_MINUTES,
  MAX_REASON_LENGTH,
  MUTE_DURATIONS,
  type MuteDuration,
  type SuppressionForm,
  type SuppressionProblems,
} from './suppression-form';

export function SuppressionFields({
  form,
  problems,
  onChange,
}: {
  form: SuppressionForm;
  problems: SuppressionProblems;
  onChange: (changes: Partial<SuppressionForm>) => void;
}) {
  const knownType = form.type === '' || ALERT_TYPES.some((type) => type === form.type);
  return (
    <div className="alert-rule-fields">
      <div className="toolbar">
        <Field label="Type" error={problems.match}>
          {(control) => (
            <select
              {...control}
              value={form.type}
              onChange={(event) => {
                onChange({ type: event.target.value });
              }}
            >
              <option value="">Any type</option>
              {ALERT_TYPES.map((type) => (
                <option key={type} value={type}>
                  {ALERT_TYPE_LABELS[type]}
                </option>
              ))}
              {/* An alert of a type a newer server knows: offered as it is named. */}
              {!knownType && <option value={form.type}>{form.type}</option>}
            </select>
          )}
        </Field>
        <Field label="Source (address or network)" error={problems.src}>
          {(control) => (
            <input
              {...control}
              className="mono"
              value={form.src}
              placeholder="any"
              autoComplete="off"
              spellCheck={false}
              onChange={(event) => {
                onChange({ src: event.target.value });
              }}
            />
          )}
        </Field>
        <Field label="Destination (address or network)" error={problems.dst}>
          {(control) => (
            <input
              {...control}
              className="mono"
              value={form.dst}
              placeholder="any"
              autoComplete="off"
              spellCheck={false}
              onChange={(event) => {
                onChange({ dst: event.target.value });
              }}
            />
          )}
        </Field>
      </div>
      <div className="toolbar">
        <Field label="Reason" error={problems.reason} className="alert-grow">
          {(control) => (
            <input
              {...control}
              value={form.reason}
              maxLength={MAX_REASON_LENGTH}
              required
              placeholder="Why: our vulnerability scanner, a known noisy host"
              onChange={(event) => {
                onChange({ reason: event.target.value });
              }}
            />
          )}
        </Field>
        <Field label="Mute for" error={form.duration === 'custom' ? undefined : problems.minutes}>
          {(control) => (
            <select
              {...control}
              value={form.duration}
              onChange={(event) => {
                onChange({ duration: event.target.value as MuteDuration });
              }}
            >
              {MUTE_DURATIONS.map((duration) => (
                <option key={duration.value} value={duration.value}>
                  {duration.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        {form.duration === 'custom' && (
          <Field label="Minutes" error={problems.minutes}>
            {(control) => (
              <input
                {...control}
                className="alert-minutes"
                inputMode="numeric"
                value={form.minutes}
                required
                placeholder={`1 to ${MAX_MUTE_MINUTES}`}
                onChange={(event) => {
                  onChange({ minutes: event.target.value });
                }}
              />
            )}
          </Field>
        )}
      </div>
    </div>
  );
}
