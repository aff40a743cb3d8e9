// One run as the window shows it. The reactive parts (status, progress, response, error) are
// replaced immutably through the store; the output and spans are mutable buffers with their
// own subscriptions, because they change many times a second and can be megabytes large.
import type { RunRecord, RunStatus, RunSummary, SerializedError, StoredArtifact } from '../../../shared/api';
import type { ExecuteRequestJson, ExecuteResponseJson } from '../../../shared/gen/loom/v1/docker_pb';
import { base64ToText } from '../lib/base64';
import { OutputBuffer } from '../lib/output-buffer';
import { emptyProgress, type RunProgress } from '../lib/run-progress';
import { SpanList } from '../lib/span-list';

export type RunViewStatus = RunStatus | 'starting';

export interface RunView {
  /** The run id, chosen by this window before it asks the engine to start the run. */
  id: string;
  request: ExecuteRequestJson;
  status: RunViewStatus;
  startedAt: number;
  /**
   * 'history': not all of its stream was seen here (reopened from the store, or events were
   * missed while the connection was down), so its output and spans come from the stored response.
   */
  origin: 'live' | 'history';
  progress: RunProgress;
  output: OutputBuffer;
  spans: SpanList;
  response?: ExecuteResponseJson;
  error?: SerializedError;
  summary?: RunSummary;
  /** Its artifacts as the history keeps them (bytes up to a cap, else a note). */
  artifacts?: StoredArtifact[];
  /** Cancel was asked for before startRun answered. */
  cancelRequested?: boolean;
}

export function newRunView(id: string, request: ExecuteRequestJson, origin: RunView['origin']): RunView {
  return {
    id,
    request,
    status: 'starting',
    startedAt: Date.now(),
    origin,
    progress: emptyProgress(),
    output: new OutputBuffer(),
    spans: new SpanList(),
  };
}

export function isActive(status: RunViewStatus): boolean {
  return status === 'starting' || status === 'running';
}

/** A run as the history stored it. */
export function viewOfRecord(record: RunRecord): RunView {
  const view = newRunView(record.id, record.request, 'history');
  return { ...view, ...storedParts(view, record), startedAt: record.startedAt };
}

/**
 * What a stored record tells about a view: its status, summary and error, and when it has its
 * response, the complete output and spans in place of whatever streamed.
 */
export function storedParts(view: RunView, record: RunRecord): Partial<RunView> {
  const { response, error } = record;
  const parts: Partial<RunView> = { status: record.status, summary: summaryOf(record), error, artifacts: record.artifacts };
  if (!response) return parts;
  const output = new OutputBuffer();
  fillOutputFromResponse(output, response);
  const spans = new SpanList();
  spans.replace(response.spans ?? []);
  const { phasesSeen } = view.progress;
  const progress = { ...view.progress, phase: 'done' as const, phasesSeen: phasesSeen.includes('done') ? phasesSeen : [...phasesSeen, 'done' as const] };
  return { ...parts, response, output, spans, progress };
}

export function summaryOf(record: RunRecord): RunSummary {
  const { request: _request, response: _response, error: _error, artifacts: _artifacts, ...summary } = record;
  return summary;
}

export function fillOutputFromResponse(output: OutputBuffer, response: ExecuteResponseJson): void {
  // The response keeps the streams apart, so their interleaving is lost: stdout, then stderr.
  if (response.stdout) output.append('stdout', base64ToText(response.stdout));
  if (response.stderr) {
    if (!output.isEmpty && !output.text().endsWith('\n')) output.append('stdout', '\n');
    output.append('stderr', base64ToText(response.stderr));
  }
}

/** The status a response implies, before (or without) run.finished saying it. */
export function statusOfResponse(response: ExecuteResponseJson): RunStatus {
  if (response.compileError) return 'compile_error';
  if (response.timedOut) return 'timed_out';
  return (response.exitCode ?? 0) === 0 ? 'ok' : 'failed';
}
