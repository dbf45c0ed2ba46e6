/**
 * A labelled form control whose accessible name is the label alone: a <select> inside its <label>
 * would add its chosen option to the name ("Kind Block a source"), so the label points at the
 * control by id instead of wrapping it.
 */

import { useId, type ReactNode } from 'react';

export function FormField({
  label,
  className,
  children,
}: {
  label: string;
  className?: string;
  /** The control, given the id its label points at. */
  children: (id: string) => ReactNode;
}) {
  const id = useId();
  return (
    <div className={className === undefined ? 'field' : `field ${className}`}>
      <label htmlFor={id}>{label}</label>
      {children(id)}
    </div>
  );
}
