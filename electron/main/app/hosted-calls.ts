// The LoomApi's hosted-MCP-server calls (shared/api.ts) on top of mcp/hosting: the servers file
// (read at start, edited by addHostedServer and removeHostedServer), the hosting manager (made at
// the first need of a container, with the executor's engine and owner, so that a crashed window's
// containers are reaped as its runs' are), and one client session per server for this window,
// reused for its calls as any client's is. Every call's `mcp.tool.call` span goes to the trace store.
import { create, toJson } from '@bufbuild/protobuf';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { randomUUID } from 'node:crypto';
import type { HostedServerInfo, HostedServersView, HostedToolInfo, LoomApi, LoomEvent } from '../../../shared/api';
import { McpServerConfigSchema, type McpServerConfigJson } from '../../../shared/gen/loom/v1/mcp_pb';
import { NetworkMode } from '../../../shared/gen/loom/v1/docker_pb';
import { ValidationError } from '../engine/errors';
import type { Executor } from '../engine/executor';
import { newTraceId, type TraceSink } from '../engine/tracing/tracer';
import type { HostedServerSpec } from '../mcp/hosting/config';
import { McpHosting, type HostedServerView, type HostedSession } from '../mcp/hosting/manager';
import { ServersFile } from '../mcp/hosting/servers-file';

type HostedCalls = Pick<LoomApi, 'listHostedServers' | 'addHostedServer' | 'removeHostedServer' | 'listHostedTools' | 'callHostedTool'>;

export interface HostedCallsOptions {
  /** The servers file (see LoomServiceOptions.mcpServersPath). */
  path: string;
  open: () => Promise<Executor>;
  traceSink: TraceSink;
  emit: (event: LoomEvent) => void;
  onError: (err: unknown) => void;
  /** Where secret values come from. Default: process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** A tools/list answer of more pages than this is cut (a UI list, not an agent's catalogue). */
const MAX_TOOL_PAGES = 20;

export async function hostedCalls(options: HostedCallsOptions): Promise<HostedCalls & { close(): Promise<void> }> {
  const file = new ServersFile(options.path);
  let specs: HostedServerSpec[] = [];
  let fileError: string | undefined;
  try {
    specs = await file.load();
  } catch (err) {
    // A broken file must not keep the window from opening: the pool manager shows why.
    fileError = err instanceof Error ? err.message : String(err);
  }
  let hosting: Promise<McpHosting> | undefined;
  let current: McpHosting | undefined;
  const appSessions = new Map<string, HostedSession>();
  let closed = false;

  const getHosting = (): Promise<McpHosting> => {
    if (hosting) return hosting;
    const made = options.open().then((executor) => {
      current = new McpHosting({
        docker: executor.docker,
        owner: executor.owner,
        servers: specs,
        env: options.env,
        traceSinks: [options.traceSink],
        onChange: () => options.emit({ type: 'pool.changed' }),
        onError: options.onError,
      });
      return current;
    });
    // An engine that is down now may be up at the next call.
    made.catch(() => {
      if (hosting === made) hosting = undefined;
    });
    hosting = made;
    return made;
  };

  /** Brings the hosting manager in line with the file after an edit (a removed server's sessions end). */
  const sync = async (next: HostedServerSpec[]): Promise<void> => {
    const gone = specs.filter((s) => !next.some((n) => n.name === s.name));
    specs = next;
    fileError = undefined;
    if (!current) return;
    for (const spec of next) if (JSON.stringify(current.server(spec.name)) !== JSON.stringify(spec)) current.declare(spec);
    for (const spec of gone) {
      appSessions.delete(spec.name);
      await current.undeclare(spec.name);
    }
  };

  const checkServer = (server: unknown): string => {
    if (typeof server !== 'string' || !specs.some((s) => s.name === server)) {
      throw new ValidationError('server', `no hosted MCP server is named ${JSON.stringify(server)} (declared: ${specs.map((s) => s.name).join(', ') || 'none'})`);
    }
    return server;
  };

  /** This window's session with a server: one container, reused until it idles out or the server goes. */
  const appSession = async (server: string): Promise<HostedSession> => {
    if (closed) throw new Error('the Loom service is closed');
    const existing = appSessions.get(server);
    if (existing) return existing;
    const session = (await getHosting()).openSession(server, `app-${randomUUID()}`);
    session.onIdle = () => appSessions.get(server) === session && appSessions.delete(server);
    appSessions.set(server, session);
    return session;
  };

  /**
   * Runs a request in the window's session; a session whose container could not start or has
   * died is dropped (its container removed), so that the next try starts afresh.
   */
  const inSession = async <T>(server: string, request: (session: HostedSession) => Promise<T>): Promise<T> => {
    const session = await appSession(server);
    try {
      return await request(session);
    } catch (err) {
      if (!session.containerId || /exited|did not start|Connection closed/i.test(String(err))) {
        if (appSessions.get(server) === session) appSessions.delete(server);
        await session.close().catch(options.onError);
      }
      throw err;
    }
  };

  const infoOf = (spec: HostedServerSpec, view?: HostedServerView): HostedServerInfo => ({
    name: spec.name,
    config: configJson(spec),
    image: spec.image,
    command: spec.argv,
    network: spec.network,
    idleTtlSeconds: spec.idleTtlMs / 1000,
    sessions: view?.sessions.map(({ server: _server, ...s }) => s) ?? [],
    tools: view?.tools.map(toolInfo) ?? [],
  });

  return {
    async listHostedServers(): Promise<HostedServersView> {
      const views = new Map((current?.view() ?? []).map((v) => [v.spec.name, v]));
      return {
        file: options.path,
        ...(fileError ? { fileError } : {}),
        servers: specs.map((spec) => infoOf(spec, views.get(spec.name))),
        calls: (current?.calls() ?? []).map((c) => ({
          server: c.server,
          tool: c.tool,
          sessionId: c.sessionId,
          startedAtMs: c.startedAtMs,
          durationMs: c.durationMs,
          isError: c.isError,
          traceId: c.span.traceId,
          spanId: c.span.spanId,
        })),
      };
    },

    async addHostedServer(config) {
      await sync(await file.add(config));
      options.emit({ type: 'pool.changed' });
      const spec = specs.find((s) => s.name === config.name);
      if (!spec) throw new Error(`the server '${config.name}' was written to ${options.path} but is not in it any more`);
      return infoOf(spec);
    },

    async removeHostedServer(name) {
      await sync(await file.remove(name));
      options.emit({ type: 'pool.changed' });
    },

    async listHostedTools(server) {
      const name = checkServer(server);
      return inSession(name, async (session) => {
        const tools: Tool[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < MAX_TOOL_PAGES; page++) {
          const result = await session.listTools(cursor ? { cursor } : undefined);
          tools.push(...result.tools);
          cursor = result.nextCursor;
          if (!cursor) break;
        }
        return tools.map(toolInfo);
      });
    },

    async callHostedTool(server, tool, args) {
      const name = checkServer(server);
      if (typeof tool !== 'string' || tool === '') throw new ValidationError('tool', 'must name one of the server’s tools');
      if (typeof args !== 'object' || args === null || Array.isArray(args)) throw new ValidationError('arguments', 'must be a JSON object, e.g. {"message": "hi"}');
      const traceId = newTraceId();
      const startedAtMs = Date.now();
      const result = await inSession(name, (session) => session.callTool({ name: tool, arguments: args }, { traceId }));
      return {
        content: result.content,
        ...(result.structuredContent ? { structuredContent: result.structuredContent } : {}),
        isError: result.isError === true,
        durationMs: Date.now() - startedAtMs,
        traceId,
      };
    },

    async close() {
      closed = true;
      appSessions.clear();
      const manager = await hosting?.catch(() => undefined);
      await manager?.close();
    },
  };
}

function toolInfo(tool: Tool): HostedToolInfo {
  return {
    name: tool.name,
    ...(tool.title ? { title: tool.title } : {}),
    ...(tool.description ? { description: tool.description } : {}),
    inputSchema: tool.inputSchema,
  };
}

/** A spec back as config JSON, for display: secrets stay names. */
function configJson(spec: HostedServerSpec): McpServerConfigJson {
  return toJson(
    McpServerConfigSchema,
    create(McpServerConfigSchema, {
      name: spec.name,
      image: spec.image,
      command: spec.argv,
      env: spec.env,
      secrets: spec.secrets,
      network: spec.network === 'bridge' ? NetworkMode.BRIDGE : NetworkMode.NONE,
      idleTtlSeconds: spec.idleTtlMs / 1000,
    }),
  );
}
