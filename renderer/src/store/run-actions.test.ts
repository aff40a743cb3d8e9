import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LoomApiError, type RunRecord, type RunSummary } from '../../../shared/api';
import { textToBase64 } from '../lib/base64';
import { FakeClient } from '../test/fake-client';
import { initialState, useApp } from './app-store';
import { setClient } from './client';
import { updateForm } from './draft-actions';
import { cancelSelected, deleteRun, handleEvent, openRun, refreshActiveRuns, runCurrent } from './run-actions';

let client: FakeClient;

beforeEach(() => {
  useApp.setState(initialState(), true);
  client = new FakeClient();
  client.onEvent(handleEvent);
  setClient(client);
});
afterEach(() => setClient(null));

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
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
const record = (id: string, patch: Partial<RunRecord> = {}): RunRecord => ({ ...summary(id), request: { command: ['python3', '-c', 'x'] }, ...patch });
const historyOf = (id: string) => useApp.getState().history.find((h) => h.id === id);

/** Starts the form's run and gives its id. */
async function start(): Promise<string> {
  const id = await runCurrent();
  if (!id) throw new Error('the form did not run');
  return id;
}

describe('runs', () => {
  it('starts the form under a fresh UUID of its own and streams output in arrival order', async () => {
    updateForm({ memoryMb: '256' });
    const id = await start();
    expect(id).toMatch(UUID);
    expect(client.startedIds).toEqual([id]);
    expect(client.started[0]?.config?.resourceLimits?.memoryMb).toBe('256');
    expect(client.started[0]?.command?.[0]).toBe('python3');
    // Listed with the engine's summary as soon as startRun answers.
    expect(historyOf(id)).toMatchObject({ status: 'running', title: 'the engine’s title' });

    client.emit({ type: 'run.event', runId: id, event: { phase: { phase: 'PHASE_RUNNING' } } });
    client.emit({ type: 'run.event', runId: id, event: { stdout: textToBase64('hello\n') } });
    client.emit({ type: 'run.event', runId: id, event: { stderr: textToBase64('oops\n') } });
    client.emit({ type: 'run.event', runId: id, event: { spans: { spans: [{ spanId: 'a', name: 'x' }] } } });
    expect(run().output.text()).toBe('hello\noops\n');
    expect(run().spans.size).toBe(1);
    await frame();
    expect(run().progress.phase).toBe('running');
    expect(run().status).toBe('running');

    client.emit({
      type: 'run.event',
      runId: id,
      event: { done: { exitCode: 3, durationMs: 12, containerCreated: true, spans: [{ spanId: 'a' }, { spanId: 'b' }] } },
    });
    expect(run().status).toBe('failed');
    expect(run().spans.size).toBe(2);
    client.emit({ type: 'run.finished', run: summary(id, { status: 'failed', exitCode: 3 }) });
    expect(run().status).toBe('failed');
    expect(useApp.getState().history.map((h) => h.id)).toEqual([id]);
  });

  it('takes output that came as bytes (run.output) in order with run.event output, a character split between them whole', async () => {
    const id = await start();
    const euro = new TextEncoder().encode('€');
    client.emit({ type: 'run.output', runId: id, stream: 'stdout', bytes: new TextEncoder().encode('one ') });
    client.emit({ type: 'run.event', runId: id, event: { stdout: textToBase64('two ') } });
    client.emit({ type: 'run.output', runId: id, stream: 'stdout', bytes: euro.subarray(0, 1) });
    client.emit({ type: 'run.output', runId: id, stream: 'stderr', bytes: new TextEncoder().encode('err\n') });
    client.emit({ type: 'run.output', runId: id, stream: 'stdout', bytes: euro.subarray(1) });
    client.emit({ type: 'run.output', runId: 'elsewhere', stream: 'stdout', bytes: new TextEncoder().encode('not mine') });
    expect(run().output.text()).toBe('one two err\n€');
    expect(run().output.totals).toEqual({ stdout: 9, stderr: 4 });
    expect(run().status).toBe('running');
  });

  it('takes the events that arrive before startRun answers, and keeps the history entry of run.finished', async () => {
    client.beforeStartReply = (runId) => {
      client.emit({ type: 'run.event', runId, event: { stdout: textToBase64('early ') } });
      client.emit({ type: 'run.finished', run: summary(runId) });
    };
    const id = await start();
    expect(run().output.text()).toBe('early ');
    expect(run().status).toBe('ok');
    // startRun's answer (status running) came after run.finished: it does not undo it.
    expect(historyOf(id)?.status).toBe('ok');
  });

  it('ignores the events of runs it does not show, but lists their end', async () => {
    await start();
    client.emit({ type: 'run.event', runId: 'elsewhere', event: { stdout: textToBase64('not mine') } });
    client.emit({ type: 'run.finished', run: summary('elsewhere') });
    expect(run().output.text()).toBe('');
    expect(historyOf('elsewhere')?.status).toBe('ok');
  });

  it('shows a refused request as a Loom error with its field', async () => {
    client.startError = new LoomApiError({ name: 'ValidationError', message: 'config.resource_limits.memory_mb: too big', field: 'config.resource_limits.memory_mb' });
    await start();
    expect(run().status).toBe('error');
    expect(run().error).toMatchObject({ name: 'ValidationError', field: 'config.resource_limits.memory_mb' });
  });

  it('does not run an invalid form', async () => {
    updateForm({ memoryMb: '-5' });
    expect(await runCurrent()).toBeUndefined();
    expect(client.started).toHaveLength(0);
  });

  it('cancels the selected run', async () => {
    const id = await start();
    client.emit({ type: 'run.event', runId: id, event: { phase: { phase: 'PHASE_RUNNING' } } });
    cancelSelected();
    await frame();
    expect(client.cancelled).toEqual([id]);
  });

  it('sends a cancel pressed before startRun answered once it has', async () => {
    client.beforeStartReply = () => {
      cancelSelected();
      // The engine would not know the run yet.
      expect(client.cancelled).toEqual([]);
    };
    const id = await start();
    expect(client.cancelled).toEqual([id]);
  });

  it('shows the error run.finished carries, without asking for the stored record', async () => {
    const id = await start();
    client.emit({
      type: 'run.finished',
      run: summary(id, { status: 'error' }),
      error: { name: 'ValidationError', message: 'config.image: not allowed', field: 'config.image' },
    });
    expect(run().status).toBe('error');
    expect(run().error).toEqual({ name: 'ValidationError', message: 'config.image: not allowed', field: 'config.image' });
    await frame();
    expect(client.fetched).toEqual([]);
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
    expect(run().progress.phase).toBe('done');
  });

  it('follows a run opened from the history while it runs, then shows the stored copy', async () => {
    client.records.set('live', record('live', { status: 'running' }));
    await openRun('live');
    expect(run().status).toBe('running');
    client.emit({ type: 'run.event', runId: 'live', event: { stdout: textToBase64('tail\n') } });
    expect(run().output.text()).toBe('tail\n');
    client.records.set('live', record('live', { response: { exitCode: 0, stdout: textToBase64('head\ntail\n'), spans: [{ spanId: 'r' }] } }));
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

// What the window does when its WebSocket comes back: the events in between are lost.
describe('after a reconnect', () => {
  it('shows a run that ended while the connection was down as it ended, with its whole output', async () => {
    const id = await start();
    client.emit({ type: 'run.event', runId: id, event: { stdout: textToBase64('first\n') } });
    client.records.set(id, record(id, { exitCode: 0, response: { exitCode: 0, stdout: textToBase64('first\nsecond\n'), spans: [{ spanId: 's' }] } }));
    await refreshActiveRuns();
    expect(run().status).toBe('ok');
    expect(run().output.text()).toBe('first\nsecond\n');
    expect(run().spans.size).toBe(1);
    expect(run().response?.exitCode).toBe(0);
    expect(historyOf(id)).toMatchObject({ status: 'ok', exitCode: 0 });
    expect(historyOf(id)).not.toHaveProperty('response');
  });

  it('shows a run the restarted host cancelled with its error, keeping what streamed', async () => {
    const id = await start();
    client.emit({ type: 'run.event', runId: id, event: { stdout: textToBase64('before the restart\n') } });
    client.records.set(id, record(id, { status: 'cancelled', error: { name: 'AbortedError', message: 'the run was cancelled' } }));
    await refreshActiveRuns();
    expect(run().status).toBe('cancelled');
    expect(run().error?.name).toBe('AbortedError');
    expect(run().output.text()).toBe('before the restart\n');
  });

  it('keeps following a run that still runs, and shows the stored copy when it ends', async () => {
    const id = await start();
    client.emit({ type: 'run.event', runId: id, event: { stdout: textToBase64('a\n') } });
    client.records.set(id, record(id, { status: 'running' }));
    await refreshActiveRuns();
    expect(run().status).toBe('running');
    client.emit({ type: 'run.event', runId: id, event: { stdout: textToBase64('c\n') } });
    client.records.set(id, record(id, { response: { exitCode: 0, stdout: textToBase64('a\nb\nc\n') } }));
    client.emit({ type: 'run.finished', run: summary(id) });
    await frame();
    // 'b' was printed while the connection was down.
    expect(run().output.text()).toBe('a\nb\nc\n');
    expect(run().status).toBe('ok');
  });

  it('asks only for the runs it believes active', async () => {
    const done = await start();
    client.emit({ type: 'run.finished', run: summary(done) });
    const active = await start();
    await refreshActiveRuns();
    expect(client.fetched).toEqual([active]);
  });

  it('leaves a run as it is while the host still cannot be asked', async () => {
    const id = await start();
    client.getRun = () => Promise.reject(new LoomApiError({ name: 'ConnectionLostError', message: 'closed again' }));
    await refreshActiveRuns();
    expect(run()).toMatchObject({ id, status: 'running' });
  });

  it('shows a run the host has no record of as an error', async () => {
    await start();
    await refreshActiveRuns();
    expect(run().status).toBe('error');
    expect(run().error?.name).toBe('RunNotFoundError');
  });

  describe('a start whose answer was lost with the connection', () => {
    beforeEach(() => {
      client.startError = new LoomApiError({ name: 'ConnectionLostError', message: 'the connection to the Loom host closed before it answered' });
    });

    it('stays starting until the host is asked, then follows the run the host did start', async () => {
      const id = await start();
      expect(run().status).toBe('starting');
      expect(run().error).toBeUndefined();
      client.records.set(id, record(id, { status: 'running' }));
      await refreshActiveRuns();
      expect(run().status).toBe('running');
      client.records.set(id, record(id, { response: { exitCode: 0, stdout: textToBase64('all of it\n') } }));
      client.emit({ type: 'run.finished', run: summary(id) });
      await frame();
      expect(run().output.text()).toBe('all of it\n');
    });

    it('shows the lost connection as its error when the host never started it', async () => {
      await start();
      await refreshActiveRuns();
      expect(run().status).toBe('error');
      expect(run().error).toMatchObject({ name: 'ConnectionLostError', message: 'the connection to the Loom host closed before it answered' });
    });
  });
});
