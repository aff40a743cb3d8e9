// Environment variables for the program, one row each. Names are checked as typed: the
// shell's rules, no duplicates, and nothing starting with LOOM_ (Loom's own).
import { useApp } from '../../store/app-store';
import { addEnvRow, removeEnvRow, updateEnvRow } from '../../store/draft-actions';
import type { FormErrors } from '../../lib/validate';
import { Icon } from '../ui/Icon';

export function EnvRows({ errors }: { errors: FormErrors }) {
  const rows = useApp((s) => s.form.env);
  const add = (): void => {
    const id = addEnvRow();
    // Focus the new row's name once it is rendered.
    requestAnimationFrame(() => document.getElementById(`env-name-${id}`)?.focus());
  };
  return (
    <div className="env-rows" role="group" aria-label="Environment variables">
      {rows.map((row) => {
        const error = errors[`env.${row.id}.name`];
        const errorId = `env-error-${row.id}`;
        return (
          <div key={row.id} className="env-row">
            <div className="env-inputs">
              <input
                id={`env-name-${row.id}`}
                className="input mono env-name"
                value={row.name}
                placeholder="NAME"
                aria-label="Variable name"
                aria-invalid={Boolean(error)}
                aria-describedby={error ? errorId : undefined}
                onChange={(e) => updateEnvRow(row.id, { name: e.target.value })}
                spellCheck={false}
                autoComplete="off"
                data-testid="env-name"
              />
              <span className="env-eq faint">=</span>
              <input
                className="input mono env-value"
                value={row.value}
                placeholder="value"
                aria-label={`Value of ${row.name || 'the variable'}`}
                onChange={(e) => updateEnvRow(row.id, { value: e.target.value })}
                spellCheck={false}
                autoComplete="off"
                data-testid="env-value"
              />
              <button type="button" className="btn btn-ghost btn-icon btn-sm" aria-label={`Remove ${row.name || 'variable'}`} onClick={() => removeEnvRow(row.id)}>
                <Icon name="x" size={13} />
              </button>
            </div>
            <div id={errorId} className="field-error" aria-live="polite" data-testid="env-name-error">
              {error}
            </div>
          </div>
        );
      })}
      <button type="button" className="btn btn-sm add-env" onClick={add} data-testid="env-add">
        <Icon name="plus" size={13} />
        Add variable
      </button>
    </div>
  );
}
