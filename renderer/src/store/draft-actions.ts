// Editing what will run: runtime, code, stdin and the request form. Saved to localStorage
// (debounced) so that a reload or a crash does not lose the work.
import type { ExecuteRequestJson } from '../../../shared/gen/loom/v1/docker_pb';
import { DEFAULT_COMMANDS, type EnvRow, type FormState, type Runtime } from '../lib/form-state';
import { buildRequest, requestToDraft, type Draft } from '../lib/request';
import { validatePackage } from '../lib/validate';
import { useApp } from './app-store';
import { saveJson } from './persist';

export function currentDraft(): Draft {
  const s = useApp.getState();
  return { runtime: s.runtime, code: s.codeByRuntime[s.runtime], stdin: s.stdin, form: s.form };
}

/** The request the form describes now (for Run, pre-warm and "copy as"). */
export function currentRequest(): ExecuteRequestJson {
  return buildRequest(currentDraft());
}

export function setRuntime(runtime: Runtime): void {
  useApp.setState((s) => {
    if (s.runtime === runtime) return s;
    // The command follows the runtime unless the user wrote their own.
    const command = s.form.command === DEFAULT_COMMANDS[s.runtime] ? DEFAULT_COMMANDS[runtime] : s.form.command;
    return { runtime, form: { ...s.form, command } };
  });
}

export function setCode(code: string): void {
  useApp.setState((s) => ({ codeByRuntime: { ...s.codeByRuntime, [s.runtime]: code } }));
}

export function setStdin(stdin: string): void {
  useApp.setState({ stdin });
}

export function updateForm(patch: Partial<FormState>): void {
  useApp.setState((s) => ({ form: { ...s.form, ...patch } }));
}

/** Turns the draft into a chip if it is valid; returns the message when it is not. */
export function commitPackageDraft(): string | undefined {
  const { form, runtime } = useApp.getState();
  const spec = form.packageDraft.trim();
  if (spec === '') return undefined;
  const error = validatePackage(spec, runtime);
  if (error) return error;
  updateForm({ packages: form.packages.includes(spec) ? form.packages : [...form.packages, spec], packageDraft: '' });
  return undefined;
}

export function removePackage(index: number): void {
  const { form } = useApp.getState();
  updateForm({ packages: form.packages.filter((_, i) => i !== index) });
}

let envIds = 1000;

export function addEnvRow(): number {
  const id = ++envIds;
  const { form } = useApp.getState();
  updateForm({ env: [...form.env, { id, name: '', value: '' }] });
  return id;
}

export function updateEnvRow(id: number, patch: Partial<Omit<EnvRow, 'id'>>): void {
  const { form } = useApp.getState();
  updateForm({ env: form.env.map((r) => (r.id === id ? { ...r, ...patch } : r)) });
}

export function removeEnvRow(id: number): void {
  const { form } = useApp.getState();
  updateForm({ env: form.env.filter((r) => r.id !== id) });
}

/** Puts a stored request (a history run, an example) into the editor, form and stdin. */
export function loadRequest(request: ExecuteRequestJson): void {
  const draft = requestToDraft(request);
  useApp.setState((s) => ({
    runtime: draft.runtime,
    codeByRuntime: { ...s.codeByRuntime, [draft.runtime]: draft.code },
    stdin: draft.stdin,
    form: { ...draft.form, env: draft.form.env.map((r) => ({ ...r, id: ++envIds })) },
  }));
}

let saveTimer: ReturnType<typeof setTimeout> | undefined;

/** Saves the draft half a second after the last edit. Returns the unsubscribe. */
export function persistDraft(): () => void {
  const unsubscribe = useApp.subscribe((s, prev) => {
    if (s.runtime === prev.runtime && s.codeByRuntime === prev.codeByRuntime && s.stdin === prev.stdin && s.form === prev.form) return;
    clearTimeout(saveTimer);
    saveTimer = setTimeout(() => {
      const { runtime, codeByRuntime, stdin, form } = useApp.getState();
      saveJson('draft', { runtime, codeByRuntime, stdin, form });
    }, 500);
  });
  return () => {
    clearTimeout(saveTimer);
    unsubscribe();
  };
}
