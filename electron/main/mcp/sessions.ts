// The sessions and files the MCP session tools work on. The engine's session manager is being
// built (issue 14); the MCP tools are written against this interface so that wiring them is an
// adapter, and they are registered only when a SessionBackend is given.
import type { ExecuteRequest, ExecuteResponse } from '../../../shared/gen/loom/v1/docker_pb';
import type { TraceParent } from './trace-context';

export interface SessionInfo {
  id: string;
  language: string;
  createdAtMs: number;
  lastUsedMs: number;
}

export interface SessionFile {
  path: string;
  sizeBytes: number;
}

export interface SessionBackend {
  create(options: { language: string; packages: string[]; network: 'none' | 'bridge' }): Promise<SessionInfo>;
  /** Runs in the session's container: its files and installed packages persist between runs. */
  run(id: string, request: ExecuteRequest, options: { parent: TraceParent; signal?: AbortSignal }): Promise<ExecuteResponse>;
  list(): Promise<SessionInfo[]>;
  close(id: string): Promise<void>;
  writeFile(id: string, path: string, data: Uint8Array): Promise<void>;
  readFile(id: string, path: string): Promise<Uint8Array>;
  listFiles(id: string, dir?: string): Promise<SessionFile[]>;
}
