// The run history list in the sidebar: the engine's stored runs, newest first, kept current
// as runs start and finish in this window.
import type { RunSummary } from '../../../shared/api';
import { errorText, notify, useApp } from './app-store';
import { getClient } from './client';

export async function loadHistory(): Promise<void> {
  try {
    const history = await getClient().listRuns();
    useApp.setState({ history: [...history].sort(newestFirst), historyLoaded: true });
  } catch (err) {
    useApp.setState({ historyLoaded: true });
    notify(`Could not load the run history: ${errorText(err)}`, 'error');
  }
}

/** Adds a run to the list, or replaces its entry. */
export function upsertHistory(summary: RunSummary): void {
  useApp.setState((s) => ({ history: [summary, ...s.history.filter((r) => r.id !== summary.id)].sort(newestFirst) }));
}

export function isInHistory(id: string): boolean {
  return useApp.getState().history.some((r) => r.id === id);
}

export function dropFromHistory(id: string): void {
  useApp.setState((s) => ({ history: s.history.filter((r) => r.id !== id) }));
}

function newestFirst(a: RunSummary, b: RunSummary): number {
  return b.startedAt - a.startedAt;
}
