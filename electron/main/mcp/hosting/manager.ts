// The MCP servers Loom hosts: one container per client session, started at the session's first
// request, reused for all its calls, removed when the session closes or has been idle for the
// server's TTL (never one container per call: Docker's MCP gateway leaked containers that way).
// Keeps what the pool manager shows: servers, their sessions, their tools, recent calls.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CallToolResultSchema, type CallToolRequest, type CallToolResult, type ListToolsResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import type Docker from 'dockerode';
import type { Span } from '../../../../shared/gen/loom/v1/docker_pb';
import type { Owner } from '../../engine/pool/labels';
import { newTraceId, startSpan, type TraceSink } from '../../engine/tracing/tracer';
import type { TraceParent } from '../trace-context';
import type { HostedServerSpec } from './config';
import { secretEnv, startHostedContainer, type HostedContainer } from './hosted-container';

/** Past this a hosted call is abandoned (the container stays the session's). */
const CALL_TIMEOUT_MS = 5 * 60_000;
const MAX_CALLS_KEPT = 200;

export interface HostedCall {
  server: string;
  tool: string;
  sessionId: string;
  startedAtMs: number;
  durationMs: number;
  isError: boolean;
  span: Span;
}

export interface HostedSessionView {
  id: string;
  server: string;
  containerId?: string;
  containerName?: string;
  startedAtMs: number;
  lastUsedMs: number;
  calls: number;
}

export interface HostedServerView {
  spec: HostedServerSpec;
  sessions: HostedSessionView[];
  tools: Tool[];
}

export interface HostingOptions {
  docker: Docker;
  owner: Owner;
  servers: HostedServerSpec[];
  /** Where secret values come from. Default: process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  traceSinks?: TraceSink[];
  /** Something changed (a session, a call): the pool manager refreshes. */
  onChange?: () => void;
  onError?: (err: unknown) => void;
}

export class HostedSession {
  readonly startedAtMs = Date.now();
  lastUsedMs = Date.now();
  calls = 0;
  private container?: HostedContainer;
  private connecting?: Promise<Client>;
  private idle?: NodeJS.Timeout;
  private closing?: Promise<void>;
  /** Called once when the idle TTL ends the session (the transport then closes the client's side). */
  onIdle?: () => void;

  constructor(
    readonly id: string,
    readonly spec: HostedServerSpec,
    private readonly hosting: McpHosting,
  ) {
    this.touch();
  }

  get containerId(): string | undefined {
    return this.container?.id;
  }

  get containerName(): string | undefined {
    return this.container?.name;
  }

  async listTools(params?: { cursor?: string }): Promise<ListToolsResult> {
    const result = await (await this.client()).listTools(params);
    this.hosting.rememberTools(this.spec.name, result.tools);
    return result;
  }

  /** parent: the caller's trace context; a trace id alone (the app's calls) makes the span a root of that trace. */
  async callTool(params: CallToolRequest['params'], parent?: Pick<TraceParent, 'traceId'> & Partial<TraceParent>): Promise<CallToolResult> {
    const client = await this.client();
    this.touch();
    const span = startSpan('mcp.tool.call', {
      traceId: parent?.traceId ?? newTraceId(),
      parentSpanId: parent?.spanId,
      attributes: {
        'mcp.method.name': 'tools/call',
        'mcp.server.name': this.spec.name,
        'gen_ai.tool.name': params.name,
        'mcp.session.id': this.id,
        'loom.container_id': this.container?.id ?? '',
      },
    });
    const startedAtMs = Date.now();
    // The server hears our span as its parent, so its own spans (if it traces) nest under the call.
    const meta = { ...params._meta, traceparent: `00-${span.traceId}-${span.spanId}-01` };
    let result: CallToolResult | undefined;
    let failure: unknown;
    try {
      result = (await client.request({ method: 'tools/call', params: { ...params, _meta: meta } }, CallToolResultSchema, { timeout: CALL_TIMEOUT_MS })) as CallToolResult;
      return result;
    } catch (err) {
      failure = err;
      throw err;
    } finally {
      this.calls++;
      this.touch();
      const isError = failure !== undefined || result?.isError === true;
      const ended = span.end(isError ? 'error' : 'ok', failure instanceof Error ? failure.message : isError ? 'the tool reported an error' : undefined);
      this.hosting.recordCall({ server: this.spec.name, tool: params.name, sessionId: this.id, startedAtMs, durationMs: Date.now() - startedAtMs, isError, span: ended });
    }
  }

  /** Removes the container; the session is over. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearTimeout(this.idle);
      const connecting = this.connecting;
      this.connecting = Promise.reject(new Error(`the session with the MCP server '${this.spec.name}' has ended`));
      this.connecting.catch(() => undefined);
      const client = await connecting?.catch(() => undefined);
      await client?.close().catch(() => undefined);
      await this.container?.remove();
      this.hosting.forget(this);
    })();
    return this.closing;
  }

  private client(): Promise<Client> {
    this.touch();
    this.connecting ??= this.connect();
    return this.connecting;
  }

  private async connect(): Promise<Client> {
    const secrets = secretEnv(this.spec, this.hosting.env);
    this.container = await startHostedContainer(this.hosting.docker, this.spec, this.hosting.owner, this.id, secrets);
    this.hosting.changed();
    const client = new Client({ name: 'loom', version: '1' });
    try {
      await client.connect(this.container.transport, { timeout: CALL_TIMEOUT_MS });
    } catch (err) {
      const tail = this.container.transport.stderrTail.trim();
      await this.container.remove().catch(() => undefined);
      throw new Error(`the MCP server '${this.spec.name}' did not start: ${err instanceof Error ? err.message : String(err)}${tail ? `\n${tail.split('\n').slice(-5).join('\n')}` : ''}`);
    }
    return client;
  }

  private touch(): void {
    this.lastUsedMs = Date.now();
    clearTimeout(this.idle);
    this.idle = setTimeout(() => {
      this.onIdle?.();
      void this.close();
    }, this.spec.idleTtlMs).unref();
  }
}

export class McpHosting {
  readonly docker: Docker;
  readonly owner: Owner;
  readonly env: Readonly<Record<string, string | undefined>>;
  private readonly specs = new Map<string, HostedServerSpec>();
  private readonly sessions = new Map<string, HostedSession>();
  private readonly tools = new Map<string, Tool[]>();
  private readonly recent: HostedCall[] = [];

  constructor(private readonly options: HostingOptions) {
    this.docker = options.docker;
    this.owner = options.owner;
    this.env = options.env ?? process.env;
    for (const spec of options.servers) this.specs.set(spec.name, spec);
  }

  servers(): HostedServerSpec[] {
    return [...this.specs.values()];
  }

  server(name: string): HostedServerSpec | undefined {
    return this.specs.get(name);
  }

  /** Adds (or replaces) a server; its open sessions keep the config they started with. */
  declare(spec: HostedServerSpec): void {
    this.specs.set(spec.name, spec);
    this.tools.delete(spec.name);
    this.changed();
  }

  /** Removes a server and ends its sessions. */
  async undeclare(name: string): Promise<void> {
    this.specs.delete(name);
    this.tools.delete(name);
    await Promise.allSettled([...this.sessions.values()].filter((s) => s.spec.name === name).map((s) => s.close()));
    this.changed();
  }

  /** A client session with a server; its container starts at the first request. */
  openSession(server: string, id: string): HostedSession {
    const spec = this.specs.get(server);
    if (!spec) throw new Error(`no hosted MCP server is named '${server}' (declared: ${[...this.specs.keys()].join(', ') || 'none'})`);
    const session = new HostedSession(id, spec, this);
    this.sessions.set(id, session);
    this.changed();
    return session;
  }

  view(): HostedServerView[] {
    return this.servers().map((spec) => ({
      spec,
      tools: this.tools.get(spec.name) ?? [],
      sessions: [...this.sessions.values()]
        .filter((s) => s.spec.name === spec.name)
        .map((s) => ({
          id: s.id,
          server: spec.name,
          containerId: s.containerId,
          containerName: s.containerName,
          startedAtMs: s.startedAtMs,
          lastUsedMs: s.lastUsedMs,
          calls: s.calls,
        })),
    }));
  }

  /** Newest first. */
  calls(): HostedCall[] {
    return [...this.recent].reverse();
  }

  /** Ends every session, removing their containers. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.sessions.values()].map((s) => s.close()));
  }

  /** @internal */
  rememberTools(server: string, tools: Tool[]): void {
    this.tools.set(server, tools);
    this.changed();
  }

  /** @internal */
  recordCall(call: HostedCall): void {
    this.recent.push(call);
    if (this.recent.length > MAX_CALLS_KEPT) this.recent.shift();
    for (const sink of this.options.traceSinks ?? []) sink.export([call.span]);
    this.changed();
  }

  /** @internal */
  forget(session: HostedSession): void {
    this.sessions.delete(session.id);
    this.changed();
  }

  /** @internal */
  changed(): void {
    try {
      this.options.onChange?.();
    } catch (err) {
      this.options.onError?.(err);
    }
  }
}
