/**
 * A labelled text or password input of the users forms, with its problem said beside it and tied
 * to it (aria-invalid, aria-describedby) so a screen reader reads why when the field is focused.
 */

import { useId } from 'react';

export function FormField({
  label,
  value,
  onChange,
  type = 'text',
  autoComplete,
  error,
  describedBy,
  autoFocus = false,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  type?: 'text' | 'password';
  autoComplete: string;
  error?: string | undefined;
  /** The id of a hint shown elsewhere (the password rules) that explains this field. */
  describedBy?: string;
  autoFocus?: boolean;
}) {
  const inputId = useId();
  const errorId = useId();
  const describers = [describedBy, error === undefined ? undefined : errorId].filter(
    (id): id is string => id !== undefined,
  );
  return (
    // The problem stays outside the <label>: inside, it would become part of the field's name.
    <div className="field">
      <label htmlFor={inputId}>{label}</label>
      <input
        id={inputId}
        type={type}
        value={value}
        autoComplete={autoComplete}
        required
        autoFocus={autoFocus}
        spellCheck={false}
        autoCapitalize="none"
        aria-invalid={error !== undefined}
        {...(describers.length > 0 && { 'aria-describedby': describers.join(' ') })}
        onChange={(event) => {
          onChange(event.target.value);
        }}
      />
      {error !== undefined && (
        <span className="field-error" id={errorId}>
          {error}
        </span>
      )}
    </div>
  );
}
