// The MCP server `loom mcp` speaks on either transport: tools/list and tools/call over the
// engine. The SDK's low-level Server is used rather than McpServer because McpServer turns
// invalid arguments into a tool result (isError); an agent should get a protocol error
// (InvalidParams) naming the argument, so that it can tell "your call was wrong" from "your
// program failed".
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { DEFAULT_ISOLATION, type Isolation } from '../../../shared/isolation';
import type { McpBackend } from './backend';
import { runInSession } from './session-cell';
import { mcpOwner } from './sessions';
import { sessionTools } from './session-tools';
import { traceparentOf } from './trace-context';
import { ArtifactBytes } from './outputs';
import {
  executeCodeDescription,
  executeCodeInput,
  executeCodeOutput,
  executeErrorResult,
  executeRequestOf,
  executeResult,
  listLanguagesOutput,
  listLanguagesResult,
  type ExecuteCodeArgs,
  type ToolShape,
} from './tools';

export interface LoomMcpOptions {
  /** Lets calls ask for network "bridge"; without it every sandbox has no network. */
  allowNetwork?: boolean;
  /** The isolation floor (`--isolation`): calls may ask for a stronger one, never a weaker. Default runc. */
  isolation?: Isolation;
  /** Loom's version, as the server tells clients at initialize. */
  version?: string;
  /** The owner of the sessions this client creates (mcpOwner); default: one of its own. */
  owner?: string;
}

export interface ToolContext {
  backend: McpBackend;
  /** The MCP client as the sessions' owner. */
  owner: string;
  sessionId?: string;
  signal: AbortSignal;
  /** The call's span, already started; run() ends it. */
  span: ReturnType<McpBackend['startCall']>;
}

export interface ToolDefinition {
  name: string;
  description: string;
  input: z.ZodType;
  output?: z.ZodType;
  annotations?: Tool['annotations'];
  run(args: never, context: ToolContext): Promise<CallToolResult>;
}

/** One tool in the form the registry keeps: its arguments parsed by its own schema. */
export function defineTool<I extends z.ZodType>(tool: {
  name: string;
  description: string;
  input: I;
  output?: z.ZodType;
  annotations?: Tool['annotations'];
  run(args: z.output<I>, context: ToolContext): Promise<CallToolResult>;
}): ToolDefinition {
  return tool as ToolDefinition;
}

export function loomTools(options: LoomMcpOptions = {}): ToolDefinition[] {
  const shape: ToolShape = { allowNetwork: options.allowNetwork ?? false, isolation: options.isolation ?? DEFAULT_ISOLATION };
  return [
    defineTool({
      name: 'execute_code',
      description: executeCodeDescription(shape),
      input: executeCodeInput(shape),
      output: executeCodeOutput,
      annotations: { title: 'Run code in a Loom sandbox', readOnlyHint: false, destructiveHint: false, openWorldHint: shape.allowNetwork },
      async run(args, context) {
        const call = args as ExecuteCodeArgs;
        if (call.session_id !== undefined) return runInSession(call, call.session_id, context);
        const request = executeRequestOf(call, shape.isolation);
        // A stateless run's files are gone after it: a bigger artifact cannot be read later.
        const bytes = new ArtifactBytes('; a run keeps no files, so write a smaller one, or run in a session and use read_file');
        try {
          const response = await context.backend.execute(context.span, request, { signal: context.signal, bytes });
          return executeResult(response, bytes, `loom://run/${response.traceId}`);
        } catch (err) {
          return executeErrorResult(err, context.span.traceId);
        }
      },
    }),
    defineTool({
      name: 'list_languages',
      description: 'Lists the languages execute_code runs, with their versions and how to name packages for them.',
      input: z.strictObject({}),
      output: listLanguagesOutput,
      annotations: { title: 'Languages Loom runs', readOnlyHint: true },
      async run() {
        return listLanguagesResult();
      },
    }),
    ...sessionTools(shape),
  ];
}

/** A new MCP server over the backend: one per client connection (a transport takes one server). */
export function createLoomMcpServer(backend: McpBackend, options: LoomMcpOptions = {}): Server {
  const tools = loomTools(options);
  const owner = options.owner ?? mcpOwner();
  const byName = new Map(tools.map((t) => [t.name, t]));
  const server = new Server(
    { name: 'loom', title: 'Loom Sandbox', version: options.version ?? '0.0.0' },
    {
      capabilities: { tools: {} },
      instructions:
        'Loom runs untrusted code in locked-down, disposable Docker sandboxes. Use execute_code to run a program; list_languages says which languages it takes. ' +
        'To keep state between calls (variables, files), create_session and pass its session_id to execute_code.',
    },
  );
  const listed: Tool[] = tools.map((t) => ({
    name: t.name,
    description: t.description,
    inputSchema: jsonSchema(t.input) as Tool['inputSchema'],
    ...(t.output ? { outputSchema: jsonSchema(t.output) as Tool['outputSchema'] } : {}),
    ...(t.annotations ? { annotations: t.annotations } : {}),
  }));
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: listed }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const { name, arguments: given } = request.params;
    const tool = byName.get(name);
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `unknown tool '${name}' (this server has ${tools.map((t) => t.name).join(', ')})`);
    const parsed = tool.input.safeParse(given ?? {});
    if (!parsed.success) throw new McpError(ErrorCode.InvalidParams, `invalid arguments for ${name}: ${describeIssues(parsed.error)}`);
    const span = backend.startCall({ tool: name, sessionId: extra.sessionId, parent: traceparentOf(request.params._meta) });
    const context: ToolContext = { backend, owner, sessionId: extra.sessionId, signal: extra.signal, span };
    let result: CallToolResult;
    try {
      result = await tool.run(parsed.data as never, context);
    } catch (err) {
      if (!span.ended) backend.endCall(span, 'error', err instanceof Error ? err.message : String(err));
      if (err instanceof McpError) throw err;
      return { content: [{ type: 'text', text: err instanceof Error ? err.message : String(err) }], isError: true };
    }
    if (!span.ended) backend.endCall(span, result.isError ? 'error' : 'ok');
    return result;
  });
  return server;
}

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  // `io: 'input'`: fields with defaults are optional to the caller.
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

/** Every problem, each with the argument it is about: `timeout_seconds: Too big: expected number to be <=300`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length ? issue.path.map(String).join('.') : issue.code === 'unrecognized_keys' ? 'arguments' : '(arguments)';
      return `${where}: ${issue.message}`;
    })
    .join('; ');
}
