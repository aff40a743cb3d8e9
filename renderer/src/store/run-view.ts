// One run as the window shows it. The reactive parts (status, progress, response, error) are
// replaced immutably through the store; the output and spans are mutable buffers with their
// own subscriptions, because they change many times a second and can be megabytes large.
import type { RunStatus, RunSummary, SerializedError } from '../../../shared/api';
import type { ExecuteRequestJson, ExecuteResponseJson } from '../../../shared/gen/loom/v1/docker_pb';
import { OutputBuffer } from '../lib/output-buffer';
import { emptyProgress, type RunProgress } from '../lib/run-progress';
import { SpanList } from '../lib/span-list';

export type RunViewStatus = RunStatus | 'starting';

export interface RunView {
  /** The engine's run id; `local-N` until startRun answers. */
  id: string;
  request: ExecuteRequestJson;
  status: RunViewStatus;
  startedAt: number;
  /** 'history': reopened from the store (output and spans come from the response). */
  origin: 'live' | 'history';
  progress: RunProgress;
  output: OutputBuffer;
  spans: SpanList;
  response?: ExecuteResponseJson;
  error?: SerializedError;
  summary?: RunSummary;
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

/** The status a response implies, before (or without) run.finished saying it. */
export function statusOfResponse(response: ExecuteResponseJson): RunStatus {
  if (response.timedOut) return 'timed_out';
  return (response.exitCode ?? 0) === 0 ? 'ok' : 'failed';
}
