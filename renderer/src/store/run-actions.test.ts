import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LoomApiError, type RunSummary } from '../../../shared/api';
import { textToBase64 } from '../lib/base64';
import { FakeClient } from '../test/fake-client';
import { initialState, useApp } from './app-store';
import { setClient } from './client';
import { updateForm } from './draft-actions';
import { cancelSelected, deleteRun, handleEvent, openRun, runCurrent } from './run-actions';

let client: FakeClient;

beforeEach(() => {
  useApp.setState(initialState(), true);
  client = new FakeClient();
  client.onEvent(handleEvent);
  setClient(client);
});
afterEach(() => setClient(null));

const frame = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));
const run = () => {
  const s = useApp.getState();
  const r = s.selectedRunId ? s.runs[s.selectedRunId] : undefined;
  if (!r) throw new Error('no selected run');
  return r;
};
const summary = (id: string, patch: Partial<RunSummary> = {}): RunSummary => ({
  id,
  startedAt: Date.now(),
  status: 'ok',
  runtime: 'python',
  title: 'print(1)',
  ...patch,
});

describe('runs', () => {
  it('sends the form as the request and streams output in arrival order', async () => {
    updateForm({ memoryMb: '256' });
    const id = await runCurrent();
    expect(id).toBe('run-1');
    expect(client.started[0]?.config?.resourceLimits?.memoryMb).toBe('256');
    expect(client.started[0]?.command?.[0]).toBe('python3');

    client.emit({ type: 'run.event', runId: 'run-1', event: { phase: { phase: 'PHASE_RUNNING' } } });
    client.emit({ type: 'run.event', runId: 'run-1', event: { stdout: textToBase64('hello\n') } });
    client.emit({ type: 'run.event', runId: 'run-1', event: { stderr: textToBase64('oops\n') } });
    client.emit({ type: 'run.event', runId: 'run-1', event: { spans: { spans: [{ spanId: 'a', name: 'x' }] } } });
    expect(run().output.text()).toBe('hello\noops\n');
    expect(run().spans.size).toBe(1);
    await frame();
    expect(run().progress.phase).toBe('running');
    expect(run().status).toBe('running');

    client.emit({
      type: 'run.event',
      runId: 'run-1',
      event: { done: { exitCode: 3, durationMs: 12, containerCreated: true, spans: [{ spanId: 'a' }, { spanId: 'b' }] } },
    });
    expect(run().status).toBe('failed');
    expect(run().spans.size).toBe(2);
    client.emit({ type: 'run.finished', run: summary('run-1', { status: 'failed', exitCode: 3 }) });
    expect(run().status).toBe('failed');
    expect(useApp.getState().history.map((h) => h.id)).toEqual(['run-1']);
  });

  it('keeps events that arrive before startRun answers', async () => {
    client.beforeStartReply = (runId) => {
      client.emit({ type: 'run.event', runId, event: { stdout: textToBase64('early ') } });
      client.emit({ type: 'run.finished', run: summary(runId) });
    };
    await runCurrent();
    expect(run().output.text()).toBe('early ');
    expect(run().status).toBe('ok');
  });

  it('shows a refused request as a Loom error with its field', async () => {
    client.startError = new LoomApiError({ name: 'ValidationError', message: 'config.resource_limits.memory_mb: too big', field: 'config.resource_limits.memory_mb' });
    await runCurrent();
    expect(run().status).toBe('error');
    expect(run().error).toMatchObject({ name: 'ValidationError', field: 'config.resource_limits.memory_mb' });
  });

  it('does not run an invalid form', async () => {
    updateForm({ memoryMb: '-5' });
    expect(await runCurrent()).toBeUndefined();
    expect(client.started).toHaveLength(0);
  });

  it('cancels the selected run', async () => {
    await runCurrent();
    client.emit({ type: 'run.event', runId: 'run-1', event: { phase: { phase: 'PHASE_RUNNING' } } });
    cancelSelected();
    await frame();
    expect(client.cancelled).toEqual(['run-1']);
  });

  it('fetches the error of a run that finished with status error', async () => {
    await runCurrent();
    client.records.set('run-1', { ...summary('run-1', { status: 'error' }), request: {}, error: { name: 'ImagePullError', message: 'no such image' } });
    client.emit({ type: 'run.finished', run: summary('run-1', { status: 'error' }) });
    await frame();
    expect(run().error?.name).toBe('ImagePullError');
  });

  it('reopens a stored run with its code, form, output and trace', async () => {
    client.records.set('old', {
      ...summary('old', { status: 'failed', exitCode: 1 }),
      request: { runtimeType: 'RUNTIME_TYPE_NODE', command: ['node', '-e', 'console.log(1)'], config: { resourceLimits: { memoryMb: '128' } } },
      response: { exitCode: 1, stdout: textToBase64('out\n'), stderr: textToBase64('err\n'), spans: [{ spanId: 's', name: 'n' }] },
    });
    await openRun('old');
    const s = useApp.getState();
    expect(s.runtime).toBe('node');
    expect(s.codeByRuntime.node).toBe('console.log(1)');
    expect(s.form.memoryMb).toBe('128');
    expect(run().output.text()).toBe('out\nerr\n');
    expect(run().spans.size).toBe(1);
    expect(run().status).toBe('failed');
  });

  it('follows a run opened from the history while it runs, then shows the stored copy', async () => {
    client.records.set('live', { ...summary('live', { status: 'running' }), request: { command: ['python3', '-c', 'x'] } });
    await openRun('live');
    expect(run().status).toBe('running');
    client.emit({ type: 'run.event', runId: 'live', event: { stdout: textToBase64('tail\n') } });
    expect(run().output.text()).toBe('tail\n');
    client.records.set('live', {
      ...summary('live'),
      request: { command: ['python3', '-c', 'x'] },
      response: { exitCode: 0, stdout: textToBase64('head\ntail\n'), spans: [{ spanId: 'r' }] },
    });
    client.emit({ type: 'run.finished', run: summary('live') });
    await frame();
    expect(run().output.text()).toBe('head\ntail\n');
    expect(run().spans.size).toBe(1);
    expect(run().status).toBe('ok');
  });

  it('deletes a run from the history', async () => {
    useApp.setState({ history: [summary('a'), summary('b')] });
    await deleteRun('a');
    expect(client.deleted).toEqual(['a']);
    expect(useApp.getState().history.map((h) => h.id)).toEqual(['b']);
  });
});
