/**
 * A labelled control of the alerts forms whose accessible name is the label alone (a <select>
 * wrapped in its <label> would add its chosen option to the name), with its problem said beneath
 * and tied to it, so a screen reader reads why when the control is focused.
 */

import { useId, type ReactNode } from 'react';

/** What the control needs to point at its label's problem. */
export interface FieldControl {
  id: string;
  'aria-invalid': boolean;
  'aria-describedby'?: string;
}

export function AlertField({
  label,
  error,
  className,
  children,
}: {
  label: string;
  /** What is wrong with the value; undefined: nothing. */
  error?: string | undefined;
  className?: string;
  /** The control, given the attributes that tie it to its label and problem. */
  children: (control: FieldControl) => ReactNode;
}) {
  const id = useId();
  const errorId = `${id}-error`;
  return (
    <div className={className === undefined ? 'field' : `field ${className}`}>
      <label htmlFor={id}>{label}</label>
      {children({
        id,
        'aria-invalid': error !== undefined,
        ...(error !== undefined && { 'aria-describedby': errorId }),
      })}
      {error !== undefined && (
        <span id={errorId} className="alert-field-error">
          {error}
        </span>
      )}
    </div>
  );
}
