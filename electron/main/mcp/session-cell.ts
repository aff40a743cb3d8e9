// execute_code with a session_id: the code runs as a cell of the client's session (its input
// files written into the session first), under the call's span, and is recorded like a run.
import { create } from '@bufbuild/protobuf';
import { ErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ExecuteRequestSchema } from '../../../shared/gen/loom/v1/docker_pb';
import { RUNTIME_TYPES, runtimeOf } from '../../../shared/runtimes';
import { languageOf } from './languages';
import { ArtifactBytes } from './outputs';
import type { ToolContext } from './server';
import { executeErrorResult, executeResult, inputFilesOf, type ExecuteCodeArgs } from './tools';

export async function runInSession(call: ExecuteCodeArgs, sessionId: string, { backend, owner, span, signal }: ToolContext): Promise<CallToolResult> {
  // What a session was made with is not changed by a cell: saying otherwise would be ignored.
  if (call.packages.length) throw new McpError(ErrorCode.InvalidParams, "packages: a session's packages are installed by create_session, not per call");
  if (call.network !== 'none') throw new McpError(ErrorCode.InvalidParams, "network: a session's network is set by create_session, not per call");
  if (call.isolation !== undefined) throw new McpError(ErrorCode.InvalidParams, "isolation: a session's isolation is set by create_session, not per call");
  const language = languageOf(call.language);
  if (!language) throw new McpError(ErrorCode.InvalidParams, `language: unknown language ${call.language}`);
  const files = inputFilesOf(call.files);
  let runtime: string | undefined;
  try {
    runtime = runtimeOf((await backend.sessions.get(sessionId, { owner })).runtimeType);
  } catch (err) {
    return executeErrorResult(err, span.traceId); // closed, expired, never made: the message says which
  }
  if (runtime !== language.runtime) throw new McpError(ErrorCode.InvalidParams, `language: session ${sessionId} runs ${runtime}, not ${call.language}`);
  const bytes = new ArtifactBytes(`; read it with read_file (session ${sessionId})`);
  try {
    for (const f of files) await backend.sessions.files.put(sessionId, f.path, f.content, { owner });
    const asRequest = create(ExecuteRequestSchema, { runtimeType: RUNTIME_TYPES[language.runtime], ...language.program(call.code) });
    const response = await backend.runCell(span, { sessionId, code: call.code, timeoutSeconds: call.timeout_seconds, owner, asRequest }, { signal, bytes });
    return executeResult(response, bytes, `loom://session/${sessionId}`);
  } catch (err) {
    return executeErrorResult(err, span.traceId);
  }
}
