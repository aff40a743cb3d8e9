// The app's state in one zustand store. It holds data only; the operations that talk to the
// engine live in *-actions.ts beside this file and change the state through setState, so
// that components select small slices and re-render only when those change.
import { create } from 'zustand';
import type { EngineStatus, Example, RunSummary } from '../../../shared/api';
import { emptyForm, type FormState, type Runtime } from '../lib/form-state';
import { isSavedDraft, loadJson, reviveForm } from './persist';
import type { RunView } from './run-view';
import { SAMPLE_CODE } from './samples';

export type Theme = 'light' | 'dark';
export type View = 'workspace' | 'pool' | 'traces' | 'sessions';
export type BottomTab = 'output' | 'trace' | 'stdin';
export type SidebarTab = 'history' | 'examples';

export interface Toast {
  id: number;
  kind: 'info' | 'error';
  text: string;
}

export interface AppState {
  theme: Theme;
  /** Whether the theme was chosen by the user (else it follows the system). */
  themeChosen: boolean;
  view: View;
  tab: BottomTab;
  sidebarTab: SidebarTab;

  runtime: Runtime;
  codeByRuntime: Record<Runtime, string>;
  stdin: string;
  form: FormState;

  engine: EngineStatus | null;
  engineChecking: boolean;

  history: RunSummary[];
  historyLoaded: boolean;
  examples: Example[];
  examplesLoaded: boolean;

  /** Runs this window has open, by run id. */
  runs: Record<string, RunView>;
  selectedRunId: string | null;

  /** Bumped on pool.changed events: the pool page refetches. */
  poolVersion: number;
  /** Bumped on traces.changed events (with the traces named): the Traces view refetches. */
  tracesVersion: number;
  changedTraceIds: string[];
  /** A trace another view asked the Traces view to open (a hosted call's): taken when it mounts. */
  traceToOpen: string | null;
  toasts: Toast[];
}

function systemTheme(): Theme {
  return typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function initialState(): AppState {
  const savedTheme = loadJson('theme', (v): v is Theme => v === 'light' || v === 'dark');
  const draft = loadJson('draft', isSavedDraft);
  const runtime = draft?.runtime ?? 'python';
  return {
    theme: savedTheme ?? systemTheme(),
    themeChosen: savedTheme !== undefined,
    view: 'workspace',
    tab: 'output',
    sidebarTab: 'history',
    runtime,
    // A draft saved before a runtime existed has no code for it: its sample.
    codeByRuntime: { ...SAMPLE_CODE, ...draft?.codeByRuntime },
    stdin: draft?.stdin ?? '',
    form: draft ? reviveForm(draft.form, runtime) : emptyForm(runtime),
    engine: null,
    engineChecking: false,
    history: [],
    historyLoaded: false,
    examples: [],
    examplesLoaded: false,
    runs: {},
    selectedRunId: null,
    poolVersion: 0,
    tracesVersion: 0,
    changedTraceIds: [],
    traceToOpen: null,
    toasts: [],
  };
}

export const useApp = create<AppState>()(() => initialState());

let toastId = 0;

/** A short message in the corner; errors stay longer. */
export function notify(text: string, kind: Toast['kind'] = 'info'): void {
  const id = ++toastId;
  useApp.setState((s) => ({ toasts: [...s.toasts.slice(-3), { id, kind, text }] }));
  setTimeout(() => dismissToast(id), kind === 'error' ? 8000 : 2500);
}

export function dismissToast(id: number): void {
  useApp.setState((s) => ({ toasts: s.toasts.filter((t) => t.id !== id) }));
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
