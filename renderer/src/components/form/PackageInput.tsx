// Packages as chips. Enter (or comma) adds the typed spec when it is valid; Backspace in an
// empty input takes the last chip back for editing. The spec is checked as it is typed.
import { useState, type KeyboardEvent } from 'react';
import { useApp } from '../../store/app-store';
import { commitPackageDraft, removePackage, updateForm } from '../../store/draft-actions';
import type { FormErrors } from '../../lib/validate';
import { Icon } from '../ui/Icon';
import { Field } from './Field';

// Local files (an absolute path) are taken only from Loom's packages directory.
const HINTS = {
  python: "pip requirement, e.g. requests==2.31.0, or a .whl path in Loom's packages directory — Enter to add",
  node: "npm package, e.g. lodash@^4 or @scope/name, or a .tgz path in Loom's packages directory — Enter to add",
  custom: 'Bake packages (modules, crates, gems, jars) into the image',
};

export function PackageInput({ errors }: { errors: FormErrors }) {
  const runtime = useApp((s) => s.runtime);
  const packages = useApp((s) => s.form.packages);
  const draft = useApp((s) => s.form.packageDraft);
  const [rejected, setRejected] = useState(false);
  const chipErrors = packages.map((_, i) => errors[`packages.${i}`]).filter(Boolean);
  const error = errors['packageDraft'] ?? chipErrors[0] ?? errors['packages'];
  const disabled = runtime !== 'python' && runtime !== 'node' && packages.length === 0;

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>): void => {
    // Ctrl/Cmd+Enter is Run, even from here.
    if ((e.key === 'Enter' && !e.ctrlKey && !e.metaKey) || (e.key === ',' && draft.trim() !== '')) {
      e.preventDefault();
      // Enter must not also run the program (the form's Enter is "add").
      e.stopPropagation();
      setRejected(commitPackageDraft() !== undefined);
    } else if (e.key === 'Backspace' && draft === '' && packages.length > 0) {
      e.preventDefault();
      const last = packages[packages.length - 1] ?? '';
      removePackage(packages.length - 1);
      updateForm({ packageDraft: last });
    }
  };

  return (
    <Field label="Packages" error={error} hint={runtime === 'python' || runtime === 'node' ? HINTS[runtime] : HINTS.custom} testId="package-input">
      {({ id, describedBy, invalid }) => (
        <div className={`chips-input${invalid ? ' invalid' : ''}${rejected && invalid ? ' shake' : ''}${disabled ? ' disabled' : ''}`}>
          {packages.map((pkg, i) => (
            <span key={pkg} className={`chip${errors[`packages.${i}`] ? ' chip-invalid' : ''}`} data-testid="package-chip" title={errors[`packages.${i}`]}>
              <span className="chip-text">{pkg}</span>
              <button type="button" className="chip-remove" aria-label={`Remove ${pkg}`} onClick={() => removePackage(i)}>
                <Icon name="x" size={11} />
              </button>
            </span>
          ))}
          <input
            id={id}
            className="chips-field"
            value={draft}
            onChange={(e) => {
              setRejected(false);
              updateForm({ packageDraft: e.target.value });
            }}
            onKeyDown={onKeyDown}
            onAnimationEnd={() => setRejected(false)}
            placeholder={disabled ? 'Not for custom images' : packages.length ? 'Add another…' : 'Add a package…'}
            aria-invalid={invalid}
            aria-describedby={describedBy}
            disabled={disabled}
            spellCheck={false}
            autoComplete="off"
            data-testid="package-input"
          />
        </div>
      )}
    </Field>
  );
}
