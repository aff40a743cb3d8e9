// What the MCP tools run on: the engine's executor and its sessions, the app's run history (MCP
// calls appear there like any run) and the trace sinks. Each tool call is a span named as
// OpenTelemetry's MCP conventions do (`tools/call execute_code`); docker.execute (of a run or of a
// session's cell) runs as its child, in the caller's trace when the call carried a traceparent.
import { create, toJson } from '@bufbuild/protobuf';
import { randomUUID } from 'node:crypto';
import { serializeError } from '../../../shared/api';
import {
  ExecuteRequestSchema,
  ExecuteResponseSchema,
  type Artifact,
  type ExecuteRequest,
  type ExecuteResponse,
  type Span,
} from '../../../shared/gen/loom/v1/docker_pb';
import { runtimeOf } from '../../../shared/runtimes';
import { formatTraceParent } from '../../../shared/traces/traceparent';
import type { RunHistory, RunOutcome } from '../app/history';
import { runTitle } from '../app/run-title';
import { AbortedError } from '../engine/errors';
import type { Executor } from '../engine/executor';
import type { SessionManager } from '../engine/session/types';
import { newTraceId, startSpan, type HostSpan, type TraceSink } from '../engine/tracing/tracer';
import type { ArtifactBytes } from './outputs';
import type { TraceParent } from './trace-context';

export interface ToolCall {
  tool: string;
  /** The MCP session (the transport's id; stdio has none). */
  sessionId?: string;
  parent?: TraceParent;
}

export interface CellCall {
  sessionId: string;
  code: string;
  timeoutSeconds: number;
  /** The sessions' owner: the MCP client (see sessions.ts). */
  owner: string;
  /** How the cell is shown in the history (ExecuteRequest form: runtime and code). */
  asRequest: ExecuteRequest;
}

export interface McpBackend {
  /** The engine's sessions; each MCP client sees only its own (OwnerOptions.owner). */
  readonly sessions: SessionManager;
  /** Starts the span of a tool call: under the caller's span when it sent a traceparent. */
  startCall(call: ToolCall): HostSpan;
  /**
   * Runs a request under a call's span, records it in the history (with the artifacts' bytes
   * `bytes` kept), and ends the span. `bytes` takes the artifacts as the run delivers them.
   */
  execute(span: HostSpan, request: ExecuteRequest, options: { signal?: AbortSignal; bytes: ArtifactBytes }): Promise<ExecuteResponse>;
  /** The same for a cell of a session; the artifacts' bytes are read from the session's files. */
  runCell(span: HostSpan, cell: CellCall, options: { signal?: AbortSignal; bytes: ArtifactBytes }): Promise<ExecuteResponse>;
  /** Ends a call that ran nothing (list_languages, a refused call). */
  endCall(span: HostSpan, status: 'ok' | 'error', message?: string): void;
}

export interface McpBackendOptions {
  executor: Executor;
  /** The app's run history; absent: calls are not recorded. */
  history?: RunHistory;
  /** Where MCP call spans go besides the history (the executor's own sinks get docker.execute). */
  traceSinks?: TraceSink[];
  onError?: (err: unknown) => void;
}

export function createMcpBackend(options: McpBackendOptions): McpBackend {
  const { executor, history, traceSinks = [] } = options;
  const sessions = executor.sessions;
  const onError = options.onError ?? (() => undefined);
  const exportSpans = (spans: Span[]): void => {
    for (const sink of traceSinks) sink.export(spans);
  };
  const record = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      onError(err); // a history that cannot be written must not fail the call
      return undefined;
    }
  };

  /** Runs `work` as the call's child, with the history row and the call's span around it. */
  const recorded = async (
    span: HostSpan,
    request: ExecuteRequest,
    title: string,
    bytes: ArtifactBytes,
    work: (traceparent: string) => Promise<ExecuteResponse>,
  ): Promise<ExecuteResponse> => {
    const id = randomUUID();
    const startedAt = Date.now();
    span.setAttribute('loom.run_id', id);
    // docker.execute becomes a child of the call's span.
    const running = work(formatTraceParent({ traceId: span.traceId, spanId: span.spanId, flags: 1 }));
    // The history's writes are off the call's path: its row is written while the program runs,
    // and its end once the answer has gone (setImmediate: before the next request is read).
    record(() =>
      history?.insertRunning(
        { id, startedAt, status: 'running', runtime: runtimeOf(request.runtimeType) ?? 'custom', title },
        toJson(ExecuteRequestSchema, request),
      ),
    );
    let response: ExecuteResponse;
    try {
      response = await running;
    } catch (err) {
      const ended = span.end('error', err instanceof Error ? `${err.name}: ${err.message}` : String(err));
      exportSpans([ended]);
      const durationMs = Date.now() - startedAt;
      setImmediate(() =>
        record(() => history?.finish(id, { status: err instanceof AbortedError ? 'cancelled' : 'error', durationMs, error: serializeError(err) })),
      );
      throw err;
    }
    const failed = response.timedOut || response.exitCode !== 0;
    const ended = span
      .setAttribute('loom.exit_code', response.exitCode)
      .end(failed ? 'error' : 'ok', response.timedOut ? 'timed out' : failed ? `exit code ${response.exitCode}` : undefined);
    exportSpans([ended]);
    // The call's span goes into the stored trace too, so the trace view shows it as the root.
    response.spans.unshift(ended);
    // (Recorded as answered: taken now, written after, when the caller may have changed it.)
    const outcome: RunOutcome = {
      status: response.timedOut ? 'timed_out' : response.exitCode === 0 ? 'ok' : 'failed',
      exitCode: response.exitCode,
      durationMs: response.durationMs,
      containerCreated: response.containerCreated,
      response: toJson(ExecuteResponseSchema, response),
    };
    const artifacts = response.artifacts.map((a) => ({ path: a.path, mime: a.mime, size: Number(a.size), ...bytes.of(a.path) }));
    setImmediate(() =>
      record(() => {
        history?.finish(id, outcome);
        for (const a of artifacts) history?.addArtifact(id, a);
      }),
    );
    return response;
  };

  return {
    sessions,

    startCall(call) {
      const span = startSpan(`tools/call ${call.tool}`, {
        traceId: call.parent?.traceId ?? newTraceId(),
        parentSpanId: call.parent?.spanId,
        attributes: { 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': call.tool, 'gen_ai.operation.name': 'execute_tool' },
      });
      if (call.sessionId) span.setAttribute('mcp.session.id', call.sessionId);
      return span;
    },

    endCall(span, status, message) {
      exportSpans([span.end(status, message)]);
    },

    execute(span, request, { signal, bytes }) {
      return recorded(span, request, `MCP: ${runTitle(request)}`, bytes, (traceparent) =>
        executor.execute({ ...request, traceparent }, { signal, onArtifact: request.outputDir ? bytes.take : undefined }),
      );
    },

    runCell(span, cell, { signal, bytes }) {
      span.setAttribute('loom.session_id', cell.sessionId);
      const request = create(ExecuteRequestSchema, { ...cell.asRequest, timeoutSeconds: cell.timeoutSeconds });
      return recorded(span, request, `MCP session: ${runTitle(request)}`, bytes, async (traceparent) => {
        const response = await sessions.run({ sessionId: cell.sessionId, code: cell.code, timeoutSeconds: cell.timeoutSeconds, traceparent }, { owner: cell.owner, signal });
        await readArtifacts(sessions, cell, response.artifacts, bytes);
        return response;
      });
    },
  };
}

/** A cell's artifacts' bytes, from the session's files, as far as the caps let them in. */
async function readArtifacts(sessions: SessionManager, cell: CellCall, artifacts: Artifact[], bytes: ArtifactBytes): Promise<void> {
  for (const artifact of artifacts) {
    const over = bytes.overCap(Number(artifact.size));
    if (over !== undefined) {
      bytes.note(artifact.path, over);
      continue;
    }
    try {
      const { content } = await sessions.files.get(cell.sessionId, artifact.path, { owner: cell.owner });
      await bytes.take(artifact, content);
    } catch (err) {
      // Gone since the cell listed it (a thread of the program deleted it, say): listed, with why.
      bytes.note(artifact.path, `not included: reading it failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
