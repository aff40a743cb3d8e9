// A one-line text or number field bound to the form. Numbers are typed as text (inputMode
// numeric) so that "abc" stays visible with its explanation instead of vanishing.
import { Field } from './Field';

interface Props {
  label: string;
  value: string;
  onChange: (value: string) => void;
  error?: string;
  placeholder?: string;
  hint?: string;
  unit?: string;
  numeric?: 'numeric' | 'decimal';
  mono?: boolean;
  testId: string;
}

export function TextField({ label, value, onChange, error, placeholder, hint, unit, numeric, mono, testId }: Props) {
  return (
    <Field label={label} error={error} hint={hint} testId={testId}>
      {({ id, describedBy, invalid }) => (
        <div className={`input-wrap${unit ? ' has-unit' : ''}`}>
          <input
            id={id}
            className={`input${mono ? ' mono' : ''}`}
            value={value}
            placeholder={placeholder}
            onChange={(e) => onChange(e.target.value)}
            aria-invalid={invalid}
            aria-describedby={describedBy}
            inputMode={numeric}
            spellCheck={false}
            autoComplete="off"
            data-testid={testId}
          />
          {unit ? <span className="input-unit">{unit}</span> : null}
        </div>
      )}
    </Field>
  );
}
