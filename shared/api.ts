// The one typed API between the engine side (Electron main, or the local web host for browser
// mode) and the UI. Both transports carry exactly these calls and events, as JSON: protobuf
// messages travel in their canonical proto3 JSON form (bytes as base64, enums as names), so
// the same code decodes them behind IPC and behind a WebSocket.
import type {
  ContainerInfoJson,
  CreateSessionRequestJson,
  ExecuteEventJson,
  ExecuteRequestJson,
  ExecuteResponseJson,
  FileEntryJson,
  RunCellRequestJson,
  SessionInfoJson,
} from './gen/loom/v1/docker_pb';
import type { McpServerConfigJson } from './gen/loom/v1/mcp_pb';
import type { CollectorTarget, ReceiverStatus, TraceHead, TraceQuery, TraceRecord, TraceSummary } from './traces/types';

export type * from './traces/types';

export interface EngineStatus {
  ok: boolean;
  /** The engine address in DOCKER_HOST syntax. */
  address: string;
  version?: string;
  apiVersion?: string;
  /** Why the engine cannot be used, and how to fix it (when ok is false). */
  error?: string;
}

/** A container of the pool, with the engine's live figures (absent when it could not tell). */
export interface PoolContainer {
  info: ContainerInfoJson;
  /** Human summary of the config that shaped it: image, limits, network, packages. */
  config: string;
  cpuPercent?: number;
  memoryBytes?: number;
  memoryLimitBytes?: number;
  /** true for containers of other Loom processes (the CLI, another window). */
  external: boolean;
  /** Set for a session's container: its owner, age, idle time and TTL. */
  session?: SessionInfoJson;
}

export type RunStatus = 'running' | 'ok' | 'failed' | 'compile_error' | 'timed_out' | 'error' | 'cancelled' | 'interrupted';

export interface RunSummary {
  id: string;
  /** Unix epoch milliseconds. */
  startedAt: number;
  finishedAt?: number;
  /** ok: exit 0; failed: non-zero exit; error: Loom could not run it; interrupted: the host stopped. */
  status: RunStatus;
  exitCode?: number;
  durationMs?: number;
  containerCreated?: boolean;
  runtime: string;
  /** A short label: the first meaningful line of the program. */
  title: string;
}

export interface RunRecord extends RunSummary {
  request: ExecuteRequestJson;
  response?: ExecuteResponseJson;
  error?: SerializedError;
  /** The run's artifacts as the history keeps them (a request with output_dir). */
  artifacts?: StoredArtifact[];
}

/** An artifact in the history: its bytes (base64) up to a cap, else a note saying why not. */
export interface StoredArtifact {
  path: string;
  mime: string;
  size: number;
  data?: string;
  note?: string;
}

export interface Example {
  id: string;
  title: string;
  description: string;
  request: ExecuteRequestJson;
}

/** An error as it crosses a transport: its name, message and fields (e.g. ValidationError.field). */
export interface SerializedError {
  name: string;
  message: string;
  [field: string]: unknown;
}

export type LoomEvent =
  | { type: 'run.event'; runId: string; event: ExecuteEventJson }
  /** error: why Loom could not run it, or what stopped it (as RunRecord.error has it). */
  | { type: 'run.finished'; run: RunSummary; error?: SerializedError }
  /**
   * Output of a run that this client was not sent: it fell behind (its connection backed up)
   * while the run printed more than the host holds for a client. Stands where that output was,
   * and counts it (bytes per stream, line breaks); what follows is newer output. Only this
   * client's live view misses it: the run's record is as complete as ever.
   */
  | { type: 'run.skipped'; runId: string; stdoutBytes: number; stderrBytes: number; lines: number }
  /**
   * A run's output as bytes: what a 'run.event' with stdout or stderr says, without base64. Only
   * the browser host sends it, as a binary frame (OUTPUT_FRAME_PROTOCOL), to a client that asked.
   */
  | { type: 'run.output'; runId: string; stream: 'stdout' | 'stderr'; bytes: Uint8Array }
  | { type: 'pool.changed' }
  /** Spans of these traces arrived (OTLP, a run, an import); sent at most every 200 ms. */
  | { type: 'traces.changed'; traceIds: string[] }
  /** A session cell's live output and spans (its `done` too), by the id runCell was given. */
  | { type: 'cell.event'; cellId: string; event: ExecuteEventJson }
  | { type: 'sessions.changed' };

/** A file read for a preview or a download, whole (up to SESSION_FILE_READ_MAX bytes). */
export interface SessionFileContent {
  entry: FileEntryJson;
  /** base64 */
  data: string;
}

/** The largest file readSessionFile returns, and writeSessionFile takes, over a transport. */
export const SESSION_FILE_TRANSFER_MAX = 32 * 1024 * 1024;

/** An MCP server Loom hosts in sandboxes (issue 15), as the pool manager shows it. */
export interface HostedServerInfo {
  name: string;
  /** Its config with the defaults applied (proto3 JSON of loom.v1.McpServerConfig): secrets are names, never values. */
  config: McpServerConfigJson;
  /** With the defaults applied. */
  image: string;
  command: string[];
  network: 'none' | 'bridge';
  idleTtlSeconds: number;
  /** This window's client sessions with it, each one container. */
  sessions: HostedSessionInfo[];
  /** From the last tools/list through it (empty until then). */
  tools: HostedToolInfo[];
}

export interface HostedSessionInfo {
  id: string;
  containerId?: string;
  containerName?: string;
  startedAtMs: number;
  lastUsedMs: number;
  calls: number;
}

export interface HostedToolInfo {
  name: string;
  title?: string;
  description?: string;
  /** The tool's JSON Schema for its arguments. */
  inputSchema: Record<string, unknown>;
}

/** One call through a hosted server: its span (`mcp.tool.call`) is in the trace store. */
export interface HostedCallInfo {
  server: string;
  tool: string;
  sessionId: string;
  startedAtMs: number;
  durationMs: number;
  isError: boolean;
  traceId: string;
  spanId: string;
}

export interface HostedServersView {
  /** The servers file the app reads and edits ($LOOM_HOME/mcp-servers.json for `loom ui`). */
  file: string;
  /** Why the file could not be read (its servers are then not hosted, and edits are refused). */
  fileError?: string;
  servers: HostedServerInfo[];
  /** Newest first. */
  calls: HostedCallInfo[];
}

/** A content block of a tool's result, as MCP has it (text, image, resource_link, ...). */
export interface HostedContent {
  type: string;
  text?: string;
  mimeType?: string;
  data?: string;
  uri?: string;
  [field: string]: unknown;
}

export interface HostedToolResult {
  content: HostedContent[];
  structuredContent?: Record<string, unknown>;
  isError: boolean;
  durationMs: number;
  /** The trace of the call's `mcp.tool.call` span. */
  traceId: string;
}

export interface LoomApi {
  engineStatus(): Promise<EngineStatus>;
  /**
   * Starts a run under an id the caller chose (a fresh crypto.randomUUID()), so that it knows the
   * run's events from the first: 'run.event's, then 'run.finished', may arrive before this
   * answers. Answers with the run's summary (status running).
   */
  startRun(runId: string, request: ExecuteRequestJson): Promise<RunSummary>;
  cancelRun(runId: string): Promise<void>;
  listContainers(): Promise<PoolContainer[]>;
  prewarm(request: ExecuteRequestJson, count: number): Promise<void>;
  removeContainer(id: string): Promise<void>;
  /** Replaces a container with a fresh one of the same config. */
  rotateContainer(id: string): Promise<void>;
  /** Removes containers of Loom processes that are gone, parked ones, and unused resource volumes. */
  pruneContainers(): Promise<{ removed: number }>;
  listRuns(): Promise<RunSummary[]>;
  getRun(id: string): Promise<RunRecord | null>;
  deleteRun(id: string): Promise<void>;
  listExamples(): Promise<Example[]>;
  /** Traces in the store (received over OTLP, imported, and every run's), newest first. */
  listTraces(query: TraceQuery): Promise<TraceSummary[]>;
  getTrace(traceId: string): Promise<TraceRecord | null>;
  /**
   * A trace's first `limit` spans (1 to MAX_TRACE_HEAD) in the tree view's order, with the whole
   * trace's time bounds: what the view paints first while getTrace brings the rest.
   */
  getTraceHead(traceId: string, limit: number): Promise<TraceHead | null>;
  deleteTrace(traceId: string): Promise<void>;
  /** Stores the traces of an OTLP JSON file's text. */
  importTraces(text: string): Promise<{ traceIds: string[]; spans: number }>;
  /** A trace as OTLP JSON text (what `loom traces export` writes). */
  exportTrace(traceId: string): Promise<string>;
  traceReceiverStatus(): Promise<ReceiverStatus>;
  /** The configured external collector, or null. */
  traceCollector(): Promise<CollectorTarget | null>;
  /** Sends a trace to the external collector; answers where to see it there. */
  sendTraceToCollector(traceId: string): Promise<CollectorTarget>;

  // Sessions (engine/session/types.ts): state the user owns, its files and artifacts.
  createSession(request: CreateSessionRequestJson): Promise<SessionInfoJson>;
  listSessions(): Promise<SessionInfoJson[]>;
  /**
   * Runs a cell under an id the caller chose (a fresh crypto.randomUUID()): 'cell.event's carry
   * its output as it comes; the answer is the whole response (outputs, artifacts, cell).
   */
  runCell(cellId: string, request: RunCellRequestJson): Promise<ExecuteResponseJson>;
  interruptSession(sessionId: string): Promise<void>;
  restartSession(sessionId: string): Promise<SessionInfoJson>;
  closeSession(sessionId: string): Promise<void>;
  listSessionFiles(sessionId: string, path: string): Promise<FileEntryJson[]>;
  readSessionFile(sessionId: string, path: string): Promise<SessionFileContent>;
  /** data: base64, at most SESSION_FILE_TRANSFER_MAX bytes. */
  writeSessionFile(sessionId: string, path: string, data: string): Promise<FileEntryJson>;
  deleteSessionFile(sessionId: string, path: string): Promise<void>;

  // Hosted MCP servers (electron/main/mcp/hosting): declared in the servers file or here.
  listHostedServers(): Promise<HostedServersView>;
  /** Declares a server (proto3 JSON of McpServerConfig), checked as the file is; errors name `server.FIELD`. */
  addHostedServer(config: McpServerConfigJson): Promise<HostedServerInfo>;
  /** Takes it out of the servers file and ends its sessions (their containers are removed). */
  removeHostedServer(name: string): Promise<void>;
  /** tools/list through the server (its container starts at the first need). */
  listHostedTools(server: string): Promise<HostedToolInfo[]>;
  /** tools/call through the server, with the tool's arguments as a JSON object. */
  callHostedTool(server: string, tool: string, args: Record<string, unknown>): Promise<HostedToolResult>;
}

/** The calls, by name: what transports route (events are not calls). */
export const LOOM_METHODS = [
  'engineStatus',
  'startRun',
  'cancelRun',
  'listContainers',
  'prewarm',
  'removeContainer',
  'rotateContainer',
  'pruneContainers',
  'listRuns',
  'getRun',
  'deleteRun',
  'listExamples',
  'listTraces',
  'getTrace',
  'getTraceHead',
  'deleteTrace',
  'importTraces',
  'exportTrace',
  'traceReceiverStatus',
  'traceCollector',
  'sendTraceToCollector',
  'createSession',
  'listSessions',
  'runCell',
  'interruptSession',
  'restartSession',
  'closeSession',
  'listSessionFiles',
  'readSessionFile',
  'writeSessionFile',
  'deleteSessionFile',
  'listHostedServers',
  'addHostedServer',
  'removeHostedServer',
  'listHostedTools',
  'callHostedTool',
] as const satisfies readonly (keyof LoomApi)[];

export type LoomMethod = (typeof LOOM_METHODS)[number];

/** What a client holds: the calls plus a way to hear events. */
export interface LoomClient extends LoomApi {
  onEvent(listener: (event: LoomEvent) => void): () => void;
  /**
   * For a transport that can drop and come back (the WebSocket): hears when the connection opens
   * (true) or drops (false). Events sent in between are lost to this client.
   */
  onConnectionChange?(listener: (connected: boolean) => void): () => void;
}

/** Rebuilt on the receiving side, so that `name` and fields survive the trip. */
export class LoomApiError extends Error {
  readonly fields: Record<string, unknown>;
  constructor(serialized: SerializedError) {
    super(serialized.message);
    const { name, message: _message, ...fields } = serialized;
    this.name = name;
    this.fields = fields;
  }
}

export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const fields: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(err)) {
      if (k !== 'cause' && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || Array.isArray(v))) fields[k] = v;
    }
    return { ...fields, name: err.name, message: err.message };
  }
  return { name: 'Error', message: String(err) };
}

/** Transport frames (WebSocket; IPC uses the same result/error envelope). */
export type CallFrame = { id: number; method: LoomMethod; args: unknown[] };
export type ReplyFrame = { id: number; result?: unknown; error?: SerializedError };
export type EventFrame = { event: LoomEvent };

/**
 * The WebSocket subprotocol a client names to get a run's output as binary frames ('run.output')
 * instead of JSON with base64: [stream: 1 stdout, 2 stderr][run id length][run id, ASCII][bytes].
 * A flood of output then costs neither side a base64 pass nor a JSON parse of every byte.
 */
export const OUTPUT_FRAME_PROTOCOL = 'loom.output-frames';

