// Runs: starting, cancelling, reopening and deleting them, and turning the engine's event
// stream into what the panes show. Output bytes and spans go straight into each run's
// buffers; progress events are batched and applied once per frame, so a chatty run costs
// one store update per frame rather than one per event.
import { LoomApiError, type LoomEvent, type RunRecord, type RunSummary, type SerializedError } from '../../../shared/api';
import type { ExecuteEventJson, ExecuteRequestJson, ExecuteResponseJson } from '../../../shared/gen/loom/v1/docker_pb';
import { base64ToText } from '../lib/base64';
import { FrameBatcher } from '../lib/frame';
import { hasErrors, validateForm } from '../lib/validate';
import { runtimeFromJson } from '../lib/request';
import { provisionalTitle } from '../lib/run-title';
import { applyProgress } from '../lib/run-progress';
import { StreamDecoder } from '../lib/stream-decoder';
import { OutputBuffer } from '../lib/output-buffer';
import { SpanList } from '../lib/span-list';
import { errorText, notify, useApp } from './app-store';
import { getClient } from './client';
import { currentRequest, loadRequest } from './draft-actions';
import { isActive, newRunView, statusOfResponse, type RunView } from './run-view';

/** Runs kept in memory; older finished ones are dropped (history still has them). */
const MAX_OPEN_RUNS = 24;
/** Events for a run id nobody has claimed yet (startRun has not answered): kept this long. */
const ORPHAN_TTL_MS = 30_000;
const MAX_ORPHAN_EVENTS = 20_000;

interface LiveState {
  stdout: StreamDecoder;
  stderr: StreamDecoder;
  pending: ExecuteEventJson[];
  batcher: FrameBatcher;
}

const live = new Map<string, LiveState>();
const orphans = new Map<string, { at: number; events: LoomEvent[] }>();
let localIds = 0;

function liveState(id: string): LiveState {
  let state = live.get(id);
  if (!state) {
    const created: LiveState = {
      stdout: new StreamDecoder(),
      stderr: new StreamDecoder(),
      pending: [],
      batcher: new FrameBatcher(() => flushProgress(id)),
    };
    live.set(id, created);
    state = created;
  }
  return state;
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
        live.get(r.id)?.batcher.dispose();
        live.delete(r.id);
      }
    }
    return { runs, selectedRunId: run.id };
  });
}

export function canRun(): boolean {
  const s = useApp.getState();
  return !hasErrors(validateForm(s.form, s.runtime, s.codeByRuntime[s.runtime]));
}

/** Runs what the editor and form describe. Returns the view's id, or undefined if invalid. */
export async function runCurrent(): Promise<string | undefined> {
  if (!canRun()) return undefined;
  return startRequest(currentRequest());
}

export async function startRequest(request: ExecuteRequestJson): Promise<string> {
  const localId = `local-${++localIds}`;
  addRun(newRunView(localId, request, 'live'));
  useApp.setState((s) => ({ view: 'workspace', tab: s.tab === 'stdin' ? 'output' : s.tab }));
  try {
    const { runId } = await getClient().startRun(request);
    rekey(localId, runId);
    // Listed at once; run.finished replaces this with the engine's summary.
    if (!useApp.getState().history.some((h) => h.id === runId)) {
      upsertHistory({
        id: runId,
        startedAt: useApp.getState().runs[runId]?.startedAt ?? Date.now(),
        status: 'running',
        runtime: runtimeFromJson(request.runtimeType) ?? 'python',
        title: provisionalTitle(request),
      });
    }
    const run = useApp.getState().runs[runId];
    if (run?.status === 'starting') patchRun(runId, { status: 'running' });
    for (const event of takeOrphans(runId)) handleEvent(event);
    if (run?.cancelRequested) await cancelRun(runId);
    return runId;
  } catch (err) {
    patchRun(localId, { status: 'error', error: serialized(err) });
    return localId;
  }
}

function rekey(from: string, to: string): void {
  const state = live.get(from);
  if (state) {
    live.delete(from);
    state.batcher.dispose();
    state.batcher = new FrameBatcher(() => flushProgress(to));
    live.set(to, state);
  }
  useApp.setState((s) => {
    const run = s.runs[from];
    if (!run) return s;
    const runs = { ...s.runs };
    delete runs[from];
    runs[to] = { ...run, id: to };
    return { runs, selectedRunId: s.selectedRunId === from ? to : s.selectedRunId };
  });
}

export async function cancelRun(id: string): Promise<void> {
  const run = useApp.getState().runs[id];
  if (!run || !isActive(run.status)) return;
  if (run.status === 'starting') {
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
  const runId = event.type === 'run.event' ? event.runId : event.run.id;
  const run = useApp.getState().runs[runId];
  if (!run) {
    if (event.type === 'run.finished') upsertHistory(event.run);
    // Possibly ours, with startRun's answer still on its way.
    if (Object.values(useApp.getState().runs).some((r) => r.status === 'starting')) keepOrphan(runId, event);
    return;
  }
  if (event.type === 'run.event') applyRunEvent(run, event.event);
  else finishRun(run, event.run);
}

function applyRunEvent(run: RunView, event: ExecuteEventJson): void {
  const state = liveState(run.id);
  if (event.stdout !== undefined) run.output.append('stdout', state.stdout.push(event.stdout));
  else if (event.stderr !== undefined) run.output.append('stderr', state.stderr.push(event.stderr));
  else if (event.spans) run.spans.add(event.spans.spans ?? []);
  else if (event.done) applyResponse(run, event.done);
  else {
    state.pending.push(event);
    state.batcher.request();
  }
  if (run.status === 'starting') patchRun(run.id, { status: 'running' });
}

function applyResponse(run: RunView, response: ExecuteResponseJson): void {
  const state = live.get(run.id);
  if (state) {
    run.output.append('stdout', state.stdout.flush());
    run.output.append('stderr', state.stderr.flush());
    flushProgress(run.id);
  }
  // The live `done` leaves out what already streamed (output, spans); a response that has
  // them (joined late, or from the history) is the complete copy.
  if (run.output.isEmpty) fillOutputFromResponse(run, response);
  if (response.spans && response.spans.length > 0) run.spans.replace(response.spans);
  patchRun(run.id, (r) => ({ response, status: isActive(r.status) ? statusOfResponse(response) : r.status }));
}

function finishRun(run: RunView, summary: RunSummary): void {
  flushProgress(run.id);
  live.get(run.id)?.batcher.dispose();
  live.delete(run.id);
  patchRun(run.id, { status: summary.status, summary });
  upsertHistory(summary);
  // Opened from the history while it ran elsewhere: what streamed here is only the tail, so
  // the stored record (complete output and spans) replaces it.
  if (run.origin === 'history') {
    void getClient()
      .getRun(summary.id)
      .then((record) => {
        if (!record) return;
        const output = new OutputBuffer();
        const view: RunView = { ...run, output, spans: new SpanList() };
        if (record.response) {
          fillOutputFromResponse(view, record.response);
          view.spans.replace(record.response.spans ?? []);
        }
        patchRun(run.id, { output, spans: view.spans, response: record.response, error: record.error });
      })
      .catch(() => undefined);
    return;
  }
  // run.finished carries no error; the stored record does.
  if ((summary.status === 'error' || summary.status === 'interrupted') && !run.error) {
    void getClient()
      .getRun(summary.id)
      .then((record) => {
        if (record?.error) patchRun(run.id, { error: record.error });
        if (record?.response && !run.response) applyResponse(run, record.response);
      })
      .catch(() => undefined);
  }
}

function fillOutputFromResponse(run: RunView, response: ExecuteResponseJson): void {
  // The response keeps the streams apart, so their interleaving is lost: stdout, then stderr.
  if (response.stdout) run.output.append('stdout', base64ToText(response.stdout));
  if (response.stderr) {
    if (!run.output.isEmpty && !run.output.text().endsWith('\n')) run.output.append('stdout', '\n');
    run.output.append('stderr', base64ToText(response.stderr));
  }
}

function keepOrphan(runId: string, event: LoomEvent): void {
  const now = Date.now();
  for (const [id, entry] of orphans) if (now - entry.at > ORPHAN_TTL_MS) orphans.delete(id);
  const entry = orphans.get(runId) ?? { at: now, events: [] };
  if (entry.events.length < MAX_ORPHAN_EVENTS) entry.events.push(event);
  orphans.set(runId, entry);
}

function takeOrphans(runId: string): LoomEvent[] {
  const entry = orphans.get(runId);
  orphans.delete(runId);
  return entry?.events ?? [];
}

function serialized(err: unknown): SerializedError {
  if (err instanceof LoomApiError) return { ...err.fields, name: err.name, message: err.message };
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: String(err) };
}

// --- history ---------------------------------------------------------------------------------

function upsertHistory(summary: RunSummary): void {
  useApp.setState((s) => {
    const rest = s.history.filter((r) => r.id !== summary.id);
    return { history: [summary, ...rest].sort((a, b) => b.startedAt - a.startedAt) };
  });
}

export async function loadHistory(): Promise<void> {
  try {
    const history = await getClient().listRuns();
    useApp.setState({ history: [...history].sort((a, b) => b.startedAt - a.startedAt), historyLoaded: true });
  } catch (err) {
    useApp.setState({ historyLoaded: true });
    notify(`Could not load the run history: ${errorText(err)}`, 'error');
  }
}

export async function loadExamples(): Promise<void> {
  try {
    useApp.setState({ examples: await getClient().listExamples(), examplesLoaded: true });
  } catch (err) {
    useApp.setState({ examplesLoaded: true });
    notify(`Could not load the examples: ${errorText(err)}`, 'error');
  }
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
    useApp.setState((s) => ({ history: s.history.filter((r) => r.id !== id) }));
    return;
  }
  addRun(viewOfRecord(record));
  useApp.setState({ view: 'workspace' });
  loadRequest(record.request);
}

export function viewOfRecord(record: RunRecord): RunView {
  const view = newRunView(record.id, record.request, 'history');
  view.status = record.status;
  view.startedAt = record.startedAt;
  view.summary = record;
  if (record.error) view.error = record.error;
  if (record.response) {
    view.response = record.response;
    fillOutputFromResponse(view, record.response);
    view.spans.replace(record.response.spans ?? []);
    view.progress = { ...view.progress, phase: 'done', phasesSeen: ['done'] };
  }
  return view;
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
  useApp.setState((s) => {
    const runs = { ...s.runs };
    delete runs[id];
    return {
      history: s.history.filter((r) => r.id !== id),
      runs,
      selectedRunId: s.selectedRunId === id ? null : s.selectedRunId,
    };
  });
}
