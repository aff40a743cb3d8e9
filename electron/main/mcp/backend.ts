// What the MCP tools run on: the engine's executor, the app's run history (MCP calls appear
// there like any run) and the trace sinks. Each tool call is a span named as OpenTelemetry's MCP
// conventions do (`tools/call execute_code`); docker.execute runs as its child, in the caller's
// trace when the call carried a traceparent.
import { toJson } from '@bufbuild/protobuf';
import { randomUUID } from 'node:crypto';
import { serializeError } from '../../../shared/api';
import { ExecuteRequestSchema, ExecuteResponseSchema, type ExecuteRequest, type ExecuteResponse, type Span } from '../../../shared/gen/loom/v1/docker_pb';
import { runtimeOf } from '../../../shared/runtimes';
import type { RunHistory } from '../app/history';
import { runTitle } from '../app/run-title';
import { AbortedError } from '../engine/errors';
import type { Executor } from '../engine/executor';
import { newTraceId, startSpan, type HostSpan, type TraceSink } from '../engine/tracing/tracer';
import type { SessionBackend } from './sessions';
import { formatTraceParent, type TraceParent } from '../../../shared/traces/traceparent';

export interface ToolCall {
  tool: string;
  /** The MCP session (the transport's id; stdio has none). */
  sessionId?: string;
  parent?: TraceParent;
  signal?: AbortSignal;
}

export interface McpBackend {
  /** Starts the span of a tool call: under the caller's span when it sent a traceparent. */
  startCall(call: ToolCall): HostSpan;
  /**
   * Runs a request under a call's span (in a session's container when sessionId is given),
   * records it in the history, and ends the span.
   */
  execute(span: HostSpan, request: ExecuteRequest, options?: { signal?: AbortSignal; sessionId?: string }): Promise<ExecuteResponse>;
  /** Ends a call that ran nothing (list_languages, a refused call). */
  endCall(span: HostSpan, status: 'ok' | 'error', message?: string): void;
  /** Sessions and their files, once the engine has them (issue 14); absent: no session tools. */
  readonly sessions?: SessionBackend;
}

export interface McpBackendOptions {
  executor: Executor;
  /** The app's run history; absent: calls are not recorded. */
  history?: RunHistory;
  /** Where MCP call spans go besides the history (the executor's own sinks get docker.execute). */
  traceSinks?: TraceSink[];
  sessions?: SessionBackend;
  onError?: (err: unknown) => void;
}

export function createMcpBackend(options: McpBackendOptions): McpBackend {
  const { executor, history, traceSinks = [], sessions } = options;
  const onError = options.onError ?? (() => undefined);
  const exportSpans = (spans: Span[]): void => {
    for (const sink of traceSinks) sink.export(spans);
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

    async execute(span, request, { signal, sessionId } = {}) {
      const id = randomUUID();
      const startedAt = Date.now();
      const record = <T>(fn: () => T): T | undefined => {
        try {
          return fn();
        } catch (err) {
          onError(err); // a history that cannot be written must not fail the call
          return undefined;
        }
      };
      record(() =>
        history?.insertRunning(
          { id, startedAt, status: 'running', runtime: runtimeOf(request.runtimeType) ?? 'custom', title: `MCP: ${runTitle(request)}` },
          toJson(ExecuteRequestSchema, request),
        ),
      );
      span.setAttribute('loom.run_id', id);
      let response: ExecuteResponse;
      try {
        // docker.execute becomes a child of the call's span.
        const parent = { traceId: span.traceId, spanId: span.spanId, flags: 1 };
        if (sessionId !== undefined && !sessions) throw new Error('sessions are not available in this Loom build');
        response =
          sessionId !== undefined && sessions
            ? await sessions.run(sessionId, request, { parent, signal })
            : await executor.execute({ ...request, traceparent: formatTraceParent(parent) }, { signal });
      } catch (err) {
        const ended = span.end('error', err instanceof Error ? `${err.name}: ${err.message}` : String(err));
        exportSpans([ended]);
        record(() =>
          history?.finish(id, { status: err instanceof AbortedError ? 'cancelled' : 'error', durationMs: Date.now() - startedAt, error: serializeError(err) }),
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
      record(() =>
        history?.finish(id, {
          status: response.timedOut ? 'timed_out' : response.exitCode === 0 ? 'ok' : 'failed',
          exitCode: response.exitCode,
          durationMs: response.durationMs,
          containerCreated: response.containerCreated,
          response: toJson(ExecuteResponseSchema, response),
        }),
      );
      return response;
    },
  };
}
