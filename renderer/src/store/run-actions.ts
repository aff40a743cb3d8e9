// Runs: starting, cancelling, reopening and deleting them, turning the engine's event stream
// into what the panes show, and catching up on it after the connection was down. Output is
// decoded as it arrives and fed into the run's buffer a slice per frame (OutputFeed), which
// also leaves out what a flood would push out of the buffer anyway; spans go straight into
// their list; progress events are batched and applied once per frame, so a chatty run costs
// one store update per frame rather than one per event. The run's end waits for its output.
import { LoomApiError, type LoomEvent, type RunRecord, type RunSummary, type SerializedError } from '../../../shared/api';
import type { ExecuteEventJson, ExecuteRequestJson, ExecuteResponseJson } from '../../../shared/gen/loom/v1/docker_pb';
import { FrameBatcher } from '../lib/frame';
import type { OutputBuffer } from '../lib/output-buffer';
import { OutputFeed } from '../lib/output-feed';
import { applyProgress } from '../lib/run-progress';
import { StreamDecoder } from '../lib/stream-decoder';
import { hasErrors, validateForm } from '../lib/validate';
import { errorText, notify, useApp } from './app-store';
import { getClient } from './client';
import { currentRequest, loadRequest } from './draft-actions';
import { dropFromHistory, isInHistory, upsertHistory } from './history-actions';
import { fillOutputFromResponse, isActive, newRunView, statusOfResponse, storedParts, summaryOf, viewOfRecord, type RunView } from './run-view';

/** Runs kept in memory; older finished ones are dropped (history still has them). */
const MAX_OPEN_RUNS = 24;

interface LiveState {
  stdout: StreamDecoder;
  stderr: StreamDecoder;
  pending: ExecuteEventJson[];
  batcher: FrameBatcher;
  feed: OutputFeed;
}

const live = new Map<string, LiveState>();
/** Runs whose startRun call has not settled: the engine may not have stored them yet. */
const starting = new Set<string>();
/**
 * Runs whose startRun answer was lost with the connection: the engine may or may not have
 * started them. The error is what they show if it turns out not to have.
 */
const unconfirmed = new Map<string, SerializedError>();

function liveState(id: string, output: OutputBuffer): LiveState {
  let state = live.get(id);
  if (!state) {
    const created: LiveState = {
      stdout: new StreamDecoder(),
      stderr: new StreamDecoder(),
      pending: [],
      batcher: new FrameBatcher(() => flushProgress(id)),
      feed: new OutputFeed(output),
    };
    live.set(id, created);
    state = created;
  }
  return state;
}

function endLive(id: string): void {
  flushProgress(id);
  disposeLive(id);
}

function disposeLive(id: string): void {
  const state = live.get(id);
  state?.batcher.dispose();
  state?.feed.dispose();
  live.delete(id);
}

function patchRun(id: string, patch: Partial<RunView> | ((run: RunView) => Partial<RunView>)): void {
  useApp.setState((s) => {
    const run = s.runs[id];
    if (!run) return s;
    const changes = typeof patch === 'function' ? patch(run) : patch;
    return { runs: { ...s.runs, [id]: { ...run, ...changes } } };
  });
}

function flushProgress(id: string): void {
  const state = live.get(id);
  if (!state || state.pending.length === 0) return;
  const events = state.pending;
  state.pending = [];
  patchRun(id, (run) => ({ progress: applyProgress(run.progress, events) }));
}

function addRun(run: RunView): void {
  useApp.setState((s) => {
    const runs = { ...s.runs, [run.id]: run };
    const ids = Object.keys(runs);
    if (ids.length > MAX_OPEN_RUNS) {
      const droppable = ids
        .map((id) => runs[id] as RunView)
        .filter((r) => !isActive(r.status) && r.id !== run.id && r.id !== s.selectedRunId)
        .sort((a, b) => a.startedAt - b.startedAt);
      for (const r of droppable.slice(0, ids.length - MAX_OPEN_RUNS)) {
        delete runs[r.id];
        disposeLive(r.id);
      }
    }
    return { runs, selectedRunId: run.id };
  });
}

export function canRun(): boolean {
  const s = useApp.getState();
  return !hasErrors(validateForm(s.form, s.runtime, s.codeByRuntime[s.runtime]));
}

/** Runs what the editor and form describe. Returns the run's id, or undefined if invalid. */
export async function runCurrent(): Promise<string | undefined> {
  if (!canRun()) return undefined;
  return startRequest(currentRequest());
}

export async function startRequest(request: ExecuteRequestJson): Promise<string> {
  // Chosen here, so that the run's events are known for its own from the first one: they may
  // arrive before startRun answers.
  const id = crypto.randomUUID();
  addRun(newRunView(id, request, 'live'));
  useApp.setState((s) => ({ view: 'workspace', tab: s.tab === 'stdin' ? 'output' : s.tab }));
  starting.add(id);
  let summary: RunSummary;
  try {
    summary = await getClient().startRun(id, request);
  } catch (err) {
    // Sent, but the connection closed before the answer: the run stays 'starting' until
    // refreshActiveRuns, after the reconnect, asks the engine.
    if (err instanceof LoomApiError && err.name === 'ConnectionLostError') unconfirmed.set(id, serialized(err));
    else patchRun(id, { status: 'error', error: serialized(err) });
    return id;
  } finally {
    starting.delete(id);
  }
  // run.finished may have come first: its summary is the newer one.
  if (!isInHistory(id)) upsertHistory(summary);
  const run = useApp.getState().runs[id];
  if (run?.status === 'starting') patchRun(id, { status: 'running' });
  if (run?.cancelRequested) await cancelRun(id);
  return id;
}

export async function cancelRun(id: string): Promise<void> {
  const run = useApp.getState().runs[id];
  if (!run || !isActive(run.status)) return;
  // The engine does not know the run before startRun answers: cancelled once it does.
  if (starting.has(id)) {
    patchRun(id, { cancelRequested: true });
    return;
  }
  try {
    await getClient().cancelRun(id);
  } catch (err) {
    notify(`Could not cancel: ${errorText(err)}`, 'error');
  }
}

export function cancelSelected(): void {
  const id = useApp.getState().selectedRunId;
  if (id) void cancelRun(id);
}

export function selectedRunIsActive(): boolean {
  const s = useApp.getState();
  const run = s.selectedRunId ? s.runs[s.selectedRunId] : undefined;
  return run !== undefined && isActive(run.status);
}

/** The engine's event stream, applied to the open runs. */
export function handleEvent(event: LoomEvent): void {
  if (event.type === 'pool.changed') {
    useApp.setState((s) => ({ poolVersion: s.poolVersion + 1 }));
    return;
  }
  if (event.type === 'traces.changed') {
    useApp.setState((s) => ({ tracesVersion: s.tracesVersion + 1, changedTraceIds: event.traceIds }));
    return;
  }
  // Sessions' events: the Sessions view hears them itself.
  if (event.type === 'cell.event' || event.type === 'sessions.changed') return;
  const runId = event.type === 'run.finished' ? event.run.id : event.runId;
  const run = useApp.getState().runs[runId];
  if (event.type === 'run.finished') {
    // Runs of other windows (or the CLI's engine API) are listed too.
    upsertHistory(event.run);
    if (!run) return;
    const { run: summary, error } = event;
    const feed = live.get(runId)?.feed;
    // After the output still being fed in; the run as it is by then.
    if (feed) feed.then(() => withRun(runId, (current) => finishRun(current, summary, error)));
    else finishRun(run, summary, error);
  } else if (event.type === 'run.skipped') {
    if (run) skipOutput(run, event);
  } else if (event.type === 'run.output') {
    if (run) applyRunOutput(run, event);
  } else if (run) {
    applyRunEvent(run, event.event);
  }
}

function withRun(id: string, use: (run: RunView) => void): void {
  const run = useApp.getState().runs[id];
  if (run) use(run);
}

/** Output this window was not sent (it fell behind): it and what waits before it go. */
function skipOutput(run: RunView, event: Extract<LoomEvent, { type: 'run.skipped' }>): void {
  const state = liveState(run.id, run.output);
  // A character cut in two by the gap is not one: start decoding afresh.
  state.stdout = new StreamDecoder();
  state.stderr = new StreamDecoder();
  state.feed.skip({ stdout: event.stdoutBytes, stderr: event.stderrBytes, lines: event.lines });
  if (run.status === 'starting') patchRun(run.id, { status: 'running' });
}

/** Output that came as bytes (the browser host's binary frames): as a run.event's stdout or stderr. */
function applyRunOutput(run: RunView, event: Extract<LoomEvent, { type: 'run.output' }>): void {
  const state = liveState(run.id, run.output);
  state.feed.push(event.stream, state[event.stream].pushBytes(event.bytes));
  if (run.status === 'starting') patchRun(run.id, { status: 'running' });
}

function applyRunEvent(run: RunView, event: ExecuteEventJson): void {
  const state = liveState(run.id, run.output);
  if (event.stdout !== undefined) state.feed.push('stdout', state.stdout.push(event.stdout));
  else if (event.stderr !== undefined) state.feed.push('stderr', state.stderr.push(event.stderr));
  else if (event.spans) run.spans.add(event.spans.spans ?? []);
  else if (event.done) {
    const response = event.done;
    state.feed.push('stdout', state.stdout.flush());
    state.feed.push('stderr', state.stderr.flush());
    state.feed.then(() => withRun(run.id, (current) => applyResponse(current, response)));
  } else {
    state.pending.push(event);
    state.batcher.request();
  }
  if (run.status === 'starting') patchRun(run.id, { status: 'running' });
}

/** The run's `done`, once the output before it is in the buffer. */
function applyResponse(run: RunView, response: ExecuteResponseJson): void {
  flushProgress(run.id);
  // The live `done` leaves out what already streamed (output, spans); a response that has
  // them (joined late, or from the history) is the complete copy.
  if (run.output.isEmpty) fillOutputFromResponse(run.output, response);
  if (response.spans && response.spans.length > 0) run.spans.replace(response.spans);
  patchRun(run.id, (r) => ({ response, status: isActive(r.status) ? statusOfResponse(response) : r.status }));
}

function finishRun(run: RunView, summary: RunSummary, error: SerializedError | undefined): void {
  endLive(run.id);
  patchRun(run.id, { status: summary.status, summary, error });
  // What streamed here is only part of the run: the stored record (complete output and
  // spans) replaces it.
  if (run.origin === 'history') void showStored(run.id);
}

/** Shows what the engine stored of a run. Left as it is when the engine cannot be asked. */
async function showStored(id: string): Promise<void> {
  let record: RunRecord | null;
  try {
    record = await getClient().getRun(id);
  } catch {
    return;
  }
  const lostStart = unconfirmed.get(id);
  unconfirmed.delete(id);
  const run = useApp.getState().runs[id];
  if (!run) return;
  if (!record) {
    // Never started (its startRun was lost with the connection), or deleted elsewhere.
    if (isActive(run.status)) patchRun(id, { status: 'error', error: lostStart ?? { name: 'RunNotFoundError', message: 'the Loom host has no record of this run' } });
  } else if (record.status === 'running') {
    // Events were missed: its end will show the stored copy.
    patchRun(id, { status: 'running', origin: 'history' });
  } else {
    endLive(id);
    patchRun(id, storedParts(run, record));
    upsertHistory(summaryOf(record));
  }
}

/**
 * After the connection came back: the events of the time without it are lost, so every run
 * this window believes active is asked for again. One that ended meanwhile shows how it ended.
 */
export async function refreshActiveRuns(): Promise<void> {
  const ids = Object.values(useApp.getState().runs)
    .filter((r) => isActive(r.status) && !starting.has(r.id))
    .map((r) => r.id);
  await Promise.all(ids.map(showStored));
}

function serialized(err: unknown): SerializedError {
  if (err instanceof LoomApiError) return { ...err.fields, name: err.name, message: err.message };
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: String(err) };
}

/** Shows a run: its output and trace, and its code and settings in the editor and form. */
export async function openRun(id: string): Promise<void> {
  const open = useApp.getState().runs[id];
  if (open) {
    useApp.setState({ selectedRunId: id, view: 'workspace' });
    loadRequest(open.request);
    return;
  }
  let record: RunRecord | null;
  try {
    record = await getClient().getRun(id);
  } catch (err) {
    notify(`Could not open the run: ${errorText(err)}`, 'error');
    return;
  }
  if (!record) {
    notify('That run is no longer stored', 'error');
    dropFromHistory(id);
    return;
  }
  addRun(viewOfRecord(record));
  useApp.setState({ view: 'workspace' });
  loadRequest(record.request);
}

export async function rerun(id: string): Promise<void> {
  const open = useApp.getState().runs[id];
  let request = open?.request;
  if (!request) {
    try {
      request = (await getClient().getRun(id))?.request;
    } catch (err) {
      notify(`Could not load the run: ${errorText(err)}`, 'error');
      return;
    }
  }
  if (!request) {
    notify('That run is no longer stored', 'error');
    return;
  }
  loadRequest(request);
  await startRequest(request);
}

export async function deleteRun(id: string): Promise<void> {
  try {
    await getClient().deleteRun(id);
  } catch (err) {
    notify(`Could not delete the run: ${errorText(err)}`, 'error');
    return;
  }
  dropFromHistory(id);
  useApp.setState((s) => {
    const runs = { ...s.runs };
    delete runs[id];
    return { runs, selectedRunId: s.selectedRunId === id ? null : s.selectedRunId };
  });
}
