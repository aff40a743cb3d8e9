import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LoomApiError, type RunSummary } from '../../../shared/api';
import { FakeClient } from '../test/fake-client';
import { initialState, useApp } from './app-store';
import { setClient } from './client';
import { loadHistory, upsertHistory } from './history-actions';

let client: FakeClient;

beforeEach(() => {
  useApp.setState(initialState(), true);
  client = new FakeClient();
  setClient(client);
});
afterEach(() => setClient(null));

const summary = (id: string, startedAt: number, patch: Partial<RunSummary> = {}): RunSummary => ({ id, startedAt, status: 'ok', runtime: 'python', title: id, ...patch });
const ids = () => useApp.getState().history.map((h) => h.id);

describe('the run history', () => {
  it('loads the stored runs newest first', async () => {
    client.runs = [summary('old', 1), summary('new', 3), summary('mid', 2)];
    expect(useApp.getState().historyLoaded).toBe(false);
    await loadHistory();
    expect(ids()).toEqual(['new', 'mid', 'old']);
    expect(useApp.getState().historyLoaded).toBe(true);
  });

  it('says why it could not load, and stops waiting', async () => {
    client.listRuns = () => Promise.reject(new LoomApiError({ name: 'ConnectionError', message: 'cannot connect to the Loom host' }));
    await loadHistory();
    expect(useApp.getState().historyLoaded).toBe(true);
    expect(useApp.getState().toasts.map((t) => t.text)).toEqual(['Could not load the run history: cannot connect to the Loom host']);
  });

  it('replaces the entry of a run it lists already, in its place by start time', () => {
    upsertHistory(summary('a', 1, { status: 'running' }));
    upsertHistory(summary('b', 2));
    upsertHistory(summary('a', 1, { status: 'failed' }));
    expect(ids()).toEqual(['b', 'a']);
    expect(useApp.getState().history[1]?.status).toBe('failed');
  });
});
