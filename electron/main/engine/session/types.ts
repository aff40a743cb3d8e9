// The session manager's contract: what the app, the browser host, the CLI and MCP clients call.
// One object (Executor.sessions) owns every session this Loom process serves.
import type { MessageInitShape } from '@bufbuild/protobuf';
import type {
  CreateSessionRequestSchema,
  ExecuteEvent,
  ExecuteResponse,
  FileEntry,
  RunCellRequestSchema,
  SessionInfo,
} from '../../../../shared/gen/loom/v1/docker_pb';
import type { PrepareHooks } from '../pool/pool';
import type { FileContent } from './workspace-files';

export type CreateSessionInput = MessageInitShape<typeof CreateSessionRequestSchema>;
export type RunCellInput = MessageInitShape<typeof RunCellRequestSchema>;
export type { FileContent };

/** Who is calling: a session is visible only to the owner that created it. */
export interface OwnerOptions {
  /** Default 'local' (the user of this machine: the app, the CLI). */
  owner?: string;
}

export interface CreateSessionOptions extends OwnerOptions {
  /** Image pulls, package installs: as for a run. */
  hooks?: PrepareHooks;
}

export interface RunCellOptions extends OwnerOptions {
  /** stdout, stderr and spans as they happen, then `done` with the response (as for a run). */
  onEvent?: (event: ExecuteEvent) => void;
  /** Interrupts the cell (the session lives on); the response then says "interrupted". */
  signal?: AbortSignal;
}

export interface SessionFiles {
  /** Writes a file into the workspace (made with its directories); refused over the limits. */
  put(sessionId: string, path: string, content: FileContent, opts?: OwnerOptions): Promise<FileEntry>;
  /** A file's bytes, streamed. */
  get(sessionId: string, path: string, opts?: OwnerOptions): Promise<{ entry: FileEntry; content: AsyncIterable<Buffer> }>;
  /** Files and directories under `path` (the whole workspace by default), recursively. */
  list(sessionId: string, path?: string, opts?: OwnerOptions): Promise<FileEntry[]>;
  delete(sessionId: string, path: string, opts?: OwnerOptions): Promise<void>;
}

export interface SessionManager {
  /** A new session: its own container (never pooled) and a fresh interpreter. */
  create(request: CreateSessionInput, opts?: CreateSessionOptions): Promise<SessionInfo>;
  /** Runs a cell: the response carries outputs, artifacts and `cell` (execution count, status). */
  run(request: RunCellInput, opts?: RunCellOptions): Promise<ExecuteResponse>;
  /** Interrupts the running cell, if any (as the signal of `run` does). */
  interrupt(sessionId: string, opts?: OwnerOptions): Promise<void>;
  /** A fresh interpreter in the same container: variables go, files stay. */
  restart(sessionId: string, opts?: OwnerOptions): Promise<SessionInfo>;
  /** Removes the session's container. */
  close(sessionId: string, opts?: OwnerOptions): Promise<void>;
  /** The caller's sessions, those other Loom processes created included. */
  list(opts?: OwnerOptions): Promise<SessionInfo[]>;
  get(sessionId: string, opts?: OwnerOptions): Promise<SessionInfo>;
  readonly files: SessionFiles;
  /**
   * Ends this manager: removes the sessions it created, or, with `keep`, only lets go of them
   * (they live on until their TTL, for the next Loom process: what the CLI does).
   */
  shutdown(opts?: { keep?: boolean }): Promise<void>;
}
