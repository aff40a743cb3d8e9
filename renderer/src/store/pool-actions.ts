// The pool page's actions. Each reports failures as a toast and asks the page to refetch.
import { errorText, notify, useApp } from './app-store';
import { getClient } from './client';
import { currentRequest } from './draft-actions';
import { canRun } from './run-actions';

function refresh(): void {
  useApp.setState((s) => ({ poolVersion: s.poolVersion + 1 }));
}

async function act(label: string, action: () => Promise<string | void>): Promise<void> {
  try {
    const message = await action();
    if (message) notify(message);
  } catch (err) {
    notify(`${label} failed: ${errorText(err)}`, 'error');
  } finally {
    refresh();
  }
}

export function prewarm(count: number): Promise<void> {
  if (!canRun()) {
    notify('Fix the request form first: pre-warm uses its config', 'error');
    return Promise.resolve();
  }
  return act('Pre-warm', async () => {
    await getClient().prewarm(currentRequest(), count);
    // prewarm fills the config's pool up to `count`; it does not add `count` more.
    return `Filled this config’s pool to ${count} container${count === 1 ? '' : 's'}`;
  });
}

export function removeContainer(id: string): Promise<void> {
  return act('Remove', () => getClient().removeContainer(id));
}

export function rotateContainer(id: string): Promise<void> {
  return act('Rotate', () => getClient().rotateContainer(id));
}

export function pruneContainers(): Promise<void> {
  return act('Prune', async () => {
    const { removed } = await getClient().pruneContainers();
    return removed === 0 ? 'Nothing to prune' : `Removed ${removed} container${removed === 1 ? '' : 's'}`;
  });
}
