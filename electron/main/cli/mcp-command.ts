// `loom mcp`: Loom as an MCP server for agents, over stdio (what MCP clients launch) or over
// streamable HTTP on 127.0.0.1 (`--http`, with a bearer token printed at start). Self-contained:
// main.ts imports only mcpCommand, so the MCP SDK is loaded for this command alone.
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_ISOLATION, ISOLATIONS } from '../../../shared/isolation';
import { RunHistory } from '../app/history';
import { createExecutor, type Executor } from '../engine/executor';
import { OtlpSink, otlpEndpointFromEnv } from '../engine/tracing/otlp';
import type { TraceSink } from '../engine/tracing/tracer';
import { createMcpBackend } from '../mcp/backend';
import { loadServersFile, SERVERS_FILE, type HostedServerSpec } from '../mcp/hosting/config';
import { McpHosting } from '../mcp/hosting/manager';
import { createProxyServer } from '../mcp/hosting/proxy';
import { hostedPath, MCP_PATH, startMcpHttpHost, type McpHttpHost, type OpenSession } from '../mcp/http-host';
import { createLoomMcpServer, type LoomMcpOptions } from '../mcp/server';
import { closeSessionsOf, mcpOwner } from '../mcp/sessions';
import { UsageError, flag, parseChoice, parseInteger, parseWithPositionals, stringOption } from './args';
import { note, reportLoomError, reportUsage, type Io } from './format';
import { HELP_OPTION, renderHelp, toSpecs, type CommandHelp } from './help';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
export const DEFAULT_MCP_PORT = 7378;

export const MCP_HELP: CommandHelp = {
  usage: [
    'loom mcp [--allow-network] [--isolation runc|gvisor]',
    'loom mcp --http [--port N] [--allow-network] [--isolation runc|gvisor] [--servers FILE]',
    'loom mcp --serve NAME [--servers FILE]',
    'loom mcp --print-config [--allow-network] [--isolation runc|gvisor] | --print-config --serve NAME',
  ],
  summary:
    'Serves Loom to AI agents over the Model Context Protocol: the tools execute_code, list_languages, and\n' +
    'sessions (create_session, list_sessions, restart_session, close_session) with their files (write_file,\n' +
    'read_file, list_files, delete_file).\n' +
    'By default it speaks MCP on stdin/stdout, as MCP clients launch their servers; --http serves streamable\n' +
    'HTTP on 127.0.0.1 instead, to clients that send the bearer token printed at start.',
  options: [
    { name: 'http', help: 'serve streamable HTTP on 127.0.0.1 instead of stdio' },
    { name: 'port', short: 'p', value: 'N', help: 'the HTTP port; 0 picks a free one', default: DEFAULT_MCP_PORT },
    { name: 'allow-network', help: 'let calls ask for network "bridge" (internet access, needed to install packages); without it sandboxes have no network' },
    {
      name: 'isolation',
      value: ISOLATIONS.join('|'),
      help: "the floor of the sandboxes' isolation: a call may ask for gvisor (execute_code's and create_session's isolation), never for less than this",
      default: DEFAULT_ISOLATION,
    },
    { name: 'servers', value: 'FILE', help: 'the MCP servers Loom hosts in sandboxes (JSON: {"servers": [{"name", "image", "command", ...}]})', default: `$LOOM_HOME/${SERVERS_FILE}` },
    { name: 'serve', value: 'NAME', help: 'serve the hosted MCP server NAME over stdio (one sandbox for this client) instead of Loom\'s own tools' },
    { name: 'print-config', help: 'print the entry for an MCP client configuration (mcpServers) that launches this server, and exit' },
    HELP_OPTION,
  ],
  after: `Every call runs in a fresh, locked-down sandbox with the same defaults as 'loom exec' (user nobody,
no capabilities, read-only root, no network, 1 CPU, 512 MB, runc unless --isolation gvisor or the call
asks for gvisor); execute_code's timeout defaults to 60 s.
A session is visible to the MCP client that created it only, and closed when that client goes (its
HTTP session ends, or stdio's stdin closes) or after 15 idle minutes.
Calls are recorded in the run history the app and 'loom ui' show ($LOOM_HOME/history.sqlite, default
~/.loom). A call whose _meta carries a W3C traceparent joins that trace; traces also go to
$OTEL_EXPORTER_OTLP_ENDPOINT when set.

Hosted servers (--servers) each run as a stdio MCP server in a locked-down container of their own
per client session, reused for that session's calls and removed when it closes or has been idle
for its idle_ttl_seconds (default 600), under runc (--isolation is Loom's own tools'). Over HTTP each is served at /mcp/servers/NAME. Secrets
(their "secrets" names) are read from Loom's environment and reach the container's environment only.

Over HTTP, the token is printed on stdout after the address; set LOOM_MCP_TOKEN to choose it
(at least 32 characters). Only this machine can connect, and only with the token.`,
};

export function mcpVersion(): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

/** The mcpServers entry that launches `loom mcp` with this Node and this checkout, as absolute paths. */
export function clientConfig(args: string[], name = 'loom'): { mcpServers: Record<string, { command: string; args: string[] }> } {
  return { mcpServers: { [name]: { command: process.execPath, args: [join(ROOT, 'bin', 'loom.js'), 'mcp', ...args] } } };
}

export async function mcpCommand(argv: readonly string[], io: Io): Promise<number> {
  let http: boolean;
  let port: number;
  let portGiven: boolean;
  let serverOptions: LoomMcpOptions;
  let serve: string | undefined;
  let serversFile: string | undefined;
  try {
    const { values, positionals } = parseWithPositionals(argv, toSpecs(MCP_HELP.options));
    if (flag(values, 'help')) {
      io.stdout.write(renderHelp(MCP_HELP));
      return 0;
    }
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    http = flag(values, 'http');
    const rawPort = stringOption(values, 'port');
    if (rawPort !== undefined && !http) throw new UsageError('--port is for --http', '--port');
    portGiven = rawPort !== undefined;
    port = rawPort === undefined ? DEFAULT_MCP_PORT : parseInteger('port', rawPort);
    if (port < 0 || port > 65535) throw new UsageError(`--port must be between 0 and 65535, got ${port}`, '--port');
    const rawIsolation = stringOption(values, 'isolation');
    const isolation = rawIsolation === undefined ? DEFAULT_ISOLATION : parseChoice('isolation', rawIsolation, ISOLATIONS);
    serverOptions = { allowNetwork: flag(values, 'allow-network'), isolation, version: mcpVersion() };
    serve = stringOption(values, 'serve');
    // A hosted server's container is its own (runc): a floor it would not get must not be implied.
    if (serve !== undefined && rawIsolation !== undefined) throw new UsageError("--isolation is for Loom's own tools; a hosted server (--serve) runs under runc", '--isolation');
    if (serve !== undefined && http) throw new UsageError('--serve is for stdio; over --http every hosted server is served at /mcp/servers/NAME', '--serve');
    if (serve === '') throw new UsageError('--serve must name a hosted server', '--serve');
    const rawServers = stringOption(values, 'servers');
    serversFile = rawServers === undefined ? undefined : resolve(rawServers);
    if (flag(values, 'print-config')) {
      const args = [
        ...(serverOptions.allowNetwork ? ['--allow-network'] : []),
        ...(isolation !== DEFAULT_ISOLATION ? ['--isolation', isolation] : []),
        ...(serve ? ['--serve', serve] : []),
        ...(serversFile ? ['--servers', serversFile] : []),
      ];
      io.stdout.write(`${JSON.stringify(clientConfig(args, serve ?? 'loom'), null, 2)}\n`);
      return 0;
    }
    const token = process.env['LOOM_MCP_TOKEN'];
    if (http && token !== undefined && token.length < 32) throw new UsageError('LOOM_MCP_TOKEN must be at least 32 characters');
  } catch (err) {
    if (err instanceof UsageError) return reportUsage(io, err, 'loom mcp', false);
    throw err;
  }

  const loomHome = process.env['LOOM_HOME'] || join(homedir(), '.loom');
  const sinks: TraceSink[] = [];
  const otlp = otlpEndpointFromEnv(process.env);
  if (otlp) sinks.push(new OtlpSink({ endpoint: otlp }));
  let executor: Executor;
  let history: RunHistory;
  let servers: HostedServerSpec[];
  try {
    await mkdir(loomHome, { recursive: true });
    // A bad servers file fails the start, naming the field, before anything is created.
    servers = await loadServersFile(serversFile ?? join(loomHome, SERVERS_FILE));
    if (serve !== undefined && !servers.some((s) => s.name === serve)) {
      throw new UsageError(`--serve: no hosted server is named '${serve}' in ${serversFile ?? join(loomHome, SERVERS_FILE)} (declared: ${servers.map((s) => s.name).join(', ') || 'none'})`, '--serve');
    }
    history = new RunHistory(join(loomHome, 'history.sqlite'));
    // Starting the executor also reaps what a crashed Loom left, hosted servers' containers included.
    executor = await createExecutor({});
  } catch (err) {
    if (err instanceof UsageError) return reportUsage(io, err, 'loom mcp', false);
    return reportLoomError(io, err, false);
  }
  const hosting = new McpHosting({ docker: executor.docker, owner: executor.owner, servers, traceSinks: sinks });
  const backend = createMcpBackend({ executor, history, traceSinks: sinks, onError: (err) => note(io, `history: ${String(err)}`) });
  const sessionError = (err: unknown): void => note(io, `closing a session: ${String(err)}`);
  const stop = stopSignal(io.stdin, http);
  try {
    if (http) {
      // Each client session owns the sessions it creates; they are closed when it ends.
      const routes = new Map<string, OpenSession>([
        [
          MCP_PATH,
          (id) => {
            const owner = mcpOwner(id);
            return { server: createLoomMcpServer(backend, { ...serverOptions, owner }), dispose: () => closeSessionsOf(executor.sessions, owner, sessionError).then(() => undefined) };
          },
        ],
      ]);
      for (const spec of servers) {
        routes.set(hostedPath(spec.name), (id, end) => {
          const session = hosting.openSession(spec.name, id);
          session.onIdle = end;
          return { server: createProxyServer(session, serverOptions.version ?? ''), dispose: () => session.close() };
        });
      }
      const host = await startHttp(routes, port, portGiven, io);
      io.stdout.write(`${host.url}\nAuthorization: Bearer ${host.token}\n`);
      note(io, `serving MCP (streamable HTTP) at ${host.url}; press Ctrl+C to stop`);
      for (const spec of servers) note(io, `hosting '${spec.name}' at ${host.origin}${hostedPath(spec.name)}`);
      await stop.stopped;
      await host.close();
    } else if (serve !== undefined) {
      const session = hosting.openSession(serve, 'stdio');
      session.onIdle = stop.trigger;
      const server = createProxyServer(session, serverOptions.version ?? '');
      server.onclose = stop.trigger;
      await server.connect(new StdioServerTransport(io.stdin as NodeJS.ReadStream, io.stdout as NodeJS.WriteStream));
      await stop.stopped;
      await server.close();
    } else {
      const owner = mcpOwner();
      const server = createLoomMcpServer(backend, { ...serverOptions, owner });
      server.onclose = stop.trigger;
      await server.connect(new StdioServerTransport(io.stdin as NodeJS.ReadStream, io.stdout as NodeJS.WriteStream));
      await stop.stopped;
      await server.close();
      await closeSessionsOf(executor.sessions, owner, sessionError);
    }
  } catch (err) {
    return reportLoomError(io, err, false);
  } finally {
    stop.dispose();
    await hosting.close();
    await executor.close();
    await Promise.allSettled(sinks.map((s) => s.shutdown()));
    history.close();
  }
  return 0;
}

async function startHttp(routes: Map<string, OpenSession>, port: number, portGiven: boolean, io: Io): Promise<McpHttpHost> {
  const start = (p: number) => startMcpHttpHost({ port: p, token: process.env['LOOM_MCP_TOKEN'], routes });
  try {
    return await start(port);
  } catch (err) {
    if (portGiven || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    note(io, `port ${port} is taken: using a free port instead`);
    return start(0);
  }
}

interface Stop {
  stopped: Promise<void>;
  trigger(): void;
  dispose(): void;
}

/** SIGINT, SIGTERM, or (stdio) the client closing our stdin: then the containers are removed. */
function stopSignal(stdin: NodeJS.ReadableStream, http: boolean): Stop {
  let trigger = (): void => undefined;
  const stopped = new Promise<void>((resolve) => (trigger = resolve));
  const onSignal = (): void => trigger();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  if (!http) stdin.once('end', onSignal);
  return {
    stopped,
    trigger: onSignal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      stdin.off('end', onSignal);
    },
  };
}
