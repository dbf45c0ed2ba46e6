/**
 * A labelled form control with its hint and its problem, for every form of the dashboard: the
 * label points at the control by id (a <select> inside its <label> would add its chosen option to
 * the name), and the problem and hint describe the control, so a screen reader says them with it.
 */

import { useId, type ReactNode } from 'react';

/** What the control spreads on itself. */
export interface FieldControlProps {
  id: string;
  'aria-invalid': boolean;
  'aria-describedby'?: string;
}

export function Field({
  label,
  error,
  hint,
  className,
  children,
}: {
  label: string;
  /** The problem to fix, shown under the control. */
  error?: string | undefined;
  hint?: ReactNode;
  className?: string;
  children: (control: FieldControlProps) => ReactNode;
}) {
  const id = useId();
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const describedBy = [error === undefined ? null : errorId, hint === undefined ? null : hintId]
    .filter((part) => part !== null)
    .join(' ');
  return (
    <div className={className === undefined ? 'field' : `field ${className}`}>
      <label htmlFor={id}>{label}</label>
      {children({
        id,
        'aria-invalid': error !== undefined,
        ...(describedBy !== '' && { 'aria-describedby': describedBy }),
      })}
      {hint !== undefined && (
        <span id={hintId} className="field-hint">
          {hint}
        </span>
      )}
      {error !== undefined && (
        <span id={errorId} className="field-error">
          {error}
        </span>
      )}
    </div>
  );
}

/** A Field holding a <select> of `options`, each shown as `optionLabel` says (default: itself). */
export function SelectField<T extends string>({
  label,
  value,
  options,
  onChange,
  optionLabel,
  error,
  hint,
  className,
  disabled,
}: {
  label: string;
  value: T;
  options: readonly T[];
  onChange: (value: T) => void;
  optionLabel?: (option: T) => ReactNode;
  error?: string | undefined;
  hint?: ReactNode;
  className?: string;
  disabled?: boolean;
}) {
  return (
    <Field label={label} error={error} hint={hint} {...(className !== undefined && { className })}>
      {(control) => (
        <select
          {...control}
          value={value}
          disabled={disabled}
          onChange={(e) => {
            onChange(e.target.value as T);
          }}
        >
          {options.map((option) => (
            <option key={option} value={option}>
              {optionLabel ? optionLabel(option) : option}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}
