// Hooks that derive values from the store. Each selects the smallest stable slices and
// derives with useMemo: a zustand selector that builds a new object on every call would
// re-render on every store change.
import { useMemo } from 'react';
import { hasErrors, validateForm, type FormErrors } from '../lib/validate';
import { useApp } from './app-store';
import { isActive, type RunView } from './run-view';

export function useFormErrors(): FormErrors {
  const form = useApp((s) => s.form);
  const runtime = useApp((s) => s.runtime);
  const code = useApp((s) => s.codeByRuntime[s.runtime]);
  return useMemo(() => validateForm(form, runtime, code), [form, runtime, code]);
}

export function useCanRun(): boolean {
  return !hasErrors(useFormErrors());
}

export function useSelectedRun(): RunView | undefined {
  return useApp((s) => (s.selectedRunId ? s.runs[s.selectedRunId] : undefined));
}

export function useSelectedRunActive(): boolean {
  return useApp((s) => {
    const run = s.selectedRunId ? s.runs[s.selectedRunId] : undefined;
    return run !== undefined && isActive(run.status);
  });
}
