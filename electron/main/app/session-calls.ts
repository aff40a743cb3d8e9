// The LoomApi's session calls (shared/api.ts) on top of the executor's session manager: JSON in
// and out, live cell output as 'cell.event's. The window's user is the sessions' one owner.
import { fromJson, toJson, type JsonValue } from '@bufbuild/protobuf';
import { SESSION_FILE_TRANSFER_MAX, type LoomApi, type LoomEvent } from '../../../shared/api';
import {
  CreateSessionRequestSchema,
  FileEntrySchema,
  RunCellRequestSchema,
  SessionInfoSchema,
} from '../../../shared/gen/loom/v1/docker_pb';
import { ValidationError } from '../engine/errors';
import { executeEventJson, executeResponseJson } from './proto-json';
import type { Executor } from '../engine/executor';
import { FileLimitError, formatBytes } from '../engine/session/workspace-files';

type SessionCalls = Pick<
  LoomApi,
  | 'createSession'
  | 'listSessions'
  | 'runCell'
  | 'interruptSession'
  | 'restartSession'
  | 'closeSession'
  | 'listSessionFiles'
  | 'readSessionFile'
  | 'writeSessionFile'
  | 'deleteSessionFile'
>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function decode<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new ValidationError(what, err instanceof Error ? err.message : String(err));
  }
}

export function sessionCalls(open: () => Promise<Executor>, emit: (event: LoomEvent) => void): SessionCalls {
  const sessions = async () => (await open()).sessions;
  return {
    async createSession(json) {
      const request = decode('request', () => fromJson(CreateSessionRequestSchema, json as JsonValue));
      const info = await (await sessions()).create(request);
      emit({ type: 'sessions.changed' });
      emit({ type: 'pool.changed' });
      return toJson(SessionInfoSchema, info);
    },
    async listSessions() {
      return (await (await sessions()).list()).map((s) => toJson(SessionInfoSchema, s));
    },
    async runCell(cellId, json) {
      if (typeof cellId !== 'string' || !UUID.test(cellId)) throw new ValidationError('cellId', 'must be a UUID in lowercase, as crypto.randomUUID() makes it');
      const request = decode('request', () => fromJson(RunCellRequestSchema, json as JsonValue));
      try {
        const response = await (await sessions()).run(request, {
          onEvent: (event) => {
            // The whole response is the answer: the `done` event would only repeat it.
            if (event.event.case !== 'done') emit({ type: 'cell.event', cellId, event: executeEventJson(event) });
          },
        });
        return executeResponseJson(response);
      } finally {
        emit({ type: 'sessions.changed' });
      }
    },
    async interruptSession(sessionId) {
      await (await sessions()).interrupt(sessionId);
    },
    async restartSession(sessionId) {
      const info = await (await sessions()).restart(sessionId);
      emit({ type: 'sessions.changed' });
      return toJson(SessionInfoSchema, info);
    },
    async closeSession(sessionId) {
      await (await sessions()).close(sessionId);
      emit({ type: 'sessions.changed' });
      emit({ type: 'pool.changed' });
    },
    async listSessionFiles(sessionId, path) {
      return (await (await sessions()).files.list(sessionId, path)).map((e) => toJson(FileEntrySchema, e));
    },
    async readSessionFile(sessionId, path) {
      const { entry, content } = await (await sessions()).files.get(sessionId, path);
      if (Number(entry.size) > SESSION_FILE_TRANSFER_MAX) {
        // Ends the read at once (the iterator's return closes the exec).
        await content[Symbol.asyncIterator]().return?.();
        throw new FileLimitError(entry.path, 'max_file_bytes', SESSION_FILE_TRANSFER_MAX, `${formatBytes(Number(entry.size))} is more than the window reads at once (use \`loom files get\`)`);
      }
      const parts: Buffer[] = [];
      for await (const chunk of content) parts.push(chunk);
      return { entry: toJson(FileEntrySchema, entry), data: Buffer.concat(parts).toString('base64') };
    },
    async writeSessionFile(sessionId, path, data) {
      if (typeof data !== 'string') throw new ValidationError('data', 'must be base64 text');
      const bytes = Buffer.from(data, 'base64');
      if (bytes.length > SESSION_FILE_TRANSFER_MAX) throw new FileLimitError(path, 'max_file_bytes', SESSION_FILE_TRANSFER_MAX, `${formatBytes(bytes.length)} is more than the window sends at once (use \`loom files put\`)`);
      const entry = await (await sessions()).files.put(sessionId, path, bytes);
      return toJson(FileEntrySchema, entry);
    },
    async deleteSessionFile(sessionId, path) {
      await (await sessions()).files.delete(sessionId, path);
    },
  };
}
