// The one typed API between the engine side (Electron main, or the local web host for browser
// mode) and the UI. Both transports carry exactly these calls and events, as JSON: protobuf
// messages travel in their canonical proto3 JSON form (bytes as base64, enums as names), so
// the same code decodes them behind IPC and behind a WebSocket.
import type { ContainerInfoJson, ExecuteEventJson, ExecuteRequestJson, ExecuteResponseJson } from './gen/loom/v1/docker_pb';

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
  | { type: 'pool.changed' };

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
