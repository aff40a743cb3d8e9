// A labelled form control with its hint and its error. The error is tied to the control with
// aria-invalid and aria-describedby, so screen readers read it with the field, and lives in a
// polite live region so it is announced as the user types without interrupting.
import { useId, type ReactNode } from 'react';

interface Props {
  label: ReactNode;
  error?: string;
  hint?: ReactNode;
  /** Renders the control; receives the ids to wire up. */
  children: (ids: { id: string; describedBy: string | undefined; invalid: boolean }) => ReactNode;
  testId?: string;
  className?: string;
}

export function Field({ label, error, hint, children, testId, className }: Props) {
  const id = useId();
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const describedBy = [error ? errorId : '', hint ? hintId : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field${error ? ' has-error' : ''}${className ? ` ${className}` : ''}`}>
      <label className="field-label" htmlFor={id}>
        {label}
      </label>
      {children({ id, describedBy, invalid: Boolean(error) })}
      {hint && !error ? (
        <div id={hintId} className="field-hint">
          {hint}
        </div>
      ) : null}
      <div id={errorId} className="field-error" aria-live="polite" data-testid={testId ? `${testId}-error` : undefined}>
        {error}
      </div>
    </div>
  );
}
