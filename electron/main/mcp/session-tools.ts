// The session and file tools, over the engine's sessions (executor.sessions), each call as the
// MCP client's owner (sessions.ts): a client sees and uses only the sessions it created.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { SessionState, type FileEntry, type SessionInfo } from '../../../shared/gen/loom/v1/docker_pb';
import { RUNTIME_TYPES, runtimeOf } from '../../../shared/runtimes';
import { DEFAULT_SESSION_TTL_S } from '../engine/session/manager';
import { formatBytes } from '../engine/session/workspace-files';
import { defineTool, type ToolDefinition } from './server';
import { INPUT_DIR, inputFileSchema, callIsolationLevel, isolationInput, networkModeOf, OUTPUT_DIR, type ToolShape } from './tools';

/** read_file's bound: a file's bytes go into one JSON-RPC message. */
export const MAX_READ_FILE_BYTES = 8 * 1024 * 1024;
const MAX_SESSION_TTL_S = 24 * 3600;

/** The languages a session runs: those with a kernel (resources/kernel). */
export const SESSION_LANGUAGES = ['python', 'node'] as const;

const sessionId = z.string().min(1).describe('A session id from create_session.');
const path = inputFileSchema.shape.path;

function json(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value };
}

export function sessionJson(info: SessionInfo): Record<string, unknown> {
  return {
    id: info.id,
    language: runtimeOf(info.runtimeType) ?? 'unknown',
    state: SessionState[info.state]?.toLowerCase() ?? 'unknown',
    executionCount: info.executionCount,
    createdAtMs: info.createdAtMs,
    lastUsedAtMs: info.lastUsedAtMs,
    idleTtlSeconds: info.idleTtlSeconds,
  };
}

function fileJson(entry: FileEntry): Record<string, unknown> {
  return { path: entry.path, sizeBytes: Number(entry.size), isDir: entry.isDir, modifiedAtMs: entry.modifiedAtMs };
}

export function sessionTools(options: ToolShape): ToolDefinition[] {
  return [
    defineTool({
      name: 'create_session',
      description:
        'Creates a sandbox session: a locked-down container with a long-lived python or node interpreter, kept for you. ' +
        'Run code in it with execute_code and its session_id: variables, imports, functions, files and installed packages persist between calls, ' +
        `and a cell's final expression is shown. Files live in ${INPUT_DIR} (the working directory); files written under ${INPUT_DIR}/${OUTPUT_DIR}/ come back as artifacts. ` +
        `Only you (this MCP client) can see or use it. It ends when idle for idle_ttl_seconds (default ${DEFAULT_SESSION_TTL_S}), on close_session, or when you disconnect. ` +
        'Same security defaults and limits as execute_code; its isolation holds for all its cells.',
      input: z.strictObject({
        language: z.enum(SESSION_LANGUAGES, { error: 'sessions support python and node' }).describe('python or node: the languages sessions support.'),
        packages: z
          .array(z.string().min(1).max(200))
          .max(50)
          .default([])
          .describe('Installed when the session is created (pip requirements for python, npm specs for node); needs network "bridge".'),
        network: (options.allowNetwork ? z.enum(['none', 'bridge']) : z.enum(['none']))
          .default('none')
          .describe(options.allowNetwork ? 'Network access: "none" (default) or "bridge" (internet).' : 'Always "none": this server was started without --allow-network.'),
        idle_ttl_seconds: z.number().int().min(1).max(MAX_SESSION_TTL_S).optional().describe(`The session ends after this long without a call. Default ${DEFAULT_SESSION_TTL_S}.`),
        isolation: isolationInput(options.isolation, 'Every cell of the session runs under it.'),
      }),
      async run(args, { backend, owner }) {
        const info = await backend.sessions.create(
          {
            runtimeType: RUNTIME_TYPES[args.language],
            idleTtlSeconds: args.idle_ttl_seconds ?? 0,
            config: {
              name: 'mcp-session',
              packages: args.packages,
              networkMode: networkModeOf(args.network),
              isolation: callIsolationLevel(args.isolation, options.isolation),
            },
          },
          { owner },
        );
        return json({ session: sessionJson(info) });
      },
    }),
    defineTool({
      name: 'list_sessions',
      description: 'Lists your open sessions (those this MCP client created).',
      input: z.strictObject({}),
      annotations: { readOnlyHint: true },
      async run(_args, { backend, owner }) {
        return json({ sessions: (await backend.sessions.list({ owner })).map(sessionJson) });
      },
    }),
    defineTool({
      name: 'close_session',
      description: 'Closes a session: its container, variables and files are removed.',
      input: z.strictObject({ session_id: sessionId }),
      annotations: { destructiveHint: true },
      async run(args, { backend, owner }) {
        await backend.sessions.close(args.session_id, { owner });
        return json({ closed: args.session_id });
      },
    }),
    defineTool({
      name: 'restart_session',
      description: "Restarts a session's interpreter: variables and imports are gone, files stay.",
      input: z.strictObject({ session_id: sessionId }),
      annotations: { destructiveHint: true },
      async run(args, { backend, owner }) {
        return json({ session: sessionJson(await backend.sessions.restart(args.session_id, { owner })) });
      },
    }),
    defineTool({
      name: 'write_file',
      description: `Writes a file into a session (path relative to ${INPUT_DIR}, directories made as needed); code in the session reads it by that path.`,
      input: z.strictObject({ session_id: sessionId, path, content: inputFileSchema.shape.content, encoding: inputFileSchema.shape.encoding }),
      async run(args, { backend, owner }) {
        const data = args.encoding === 'base64' ? Buffer.from(args.content, 'base64') : Buffer.from(args.content, 'utf8');
        const entry = await backend.sessions.files.put(args.session_id, args.path, data, { owner });
        return json({ file: fileJson(entry) });
      },
    }),
    defineTool({
      name: 'read_file',
      description: `Reads a file of a session (path relative to ${INPUT_DIR}): UTF-8 text as is, anything else base64. Up to ${formatBytes(MAX_READ_FILE_BYTES)}; a bigger file is refused with its size.`,
      input: z.strictObject({ session_id: sessionId, path }),
      annotations: { readOnlyHint: true },
      async run(args, { backend, owner }) {
        const { entry, content } = await backend.sessions.files.get(args.session_id, args.path, { owner });
        const size = Number(entry.size);
        const parts: Buffer[] = [];
        for await (const chunk of content) {
          // Leaving the loop closes the read.
          if (size > MAX_READ_FILE_BYTES) break;
          parts.push(chunk);
        }
        if (size > MAX_READ_FILE_BYTES) {
          throw new Error(`${args.path}: ${formatBytes(size)} is over read_file's bound of ${formatBytes(MAX_READ_FILE_BYTES)}: read a part of it with execute_code`);
        }
        const data = Buffer.concat(parts);
        const text = data.toString('utf8');
        const isText = Buffer.from(text, 'utf8').equals(data);
        return json({ path: entry.path, sizeBytes: size, encoding: isText ? 'utf8' : 'base64', content: isText ? text : data.toString('base64') });
      },
    }),
    defineTool({
      name: 'list_files',
      description: `Lists the files and directories of a session (under dir, relative to ${INPUT_DIR}; everything by default), recursively.`,
      input: z.strictObject({ session_id: sessionId, dir: path.optional() }),
      annotations: { readOnlyHint: true },
      async run(args, { backend, owner }) {
        return json({ files: (await backend.sessions.files.list(args.session_id, args.dir ?? '', { owner })).map(fileJson) });
      },
    }),
    defineTool({
      name: 'delete_file',
      description: `Deletes a file or a directory (with what it holds) of a session (path relative to ${INPUT_DIR}).`,
      input: z.strictObject({ session_id: sessionId, path }),
      annotations: { destructiveHint: true },
      async run(args, { backend, owner }) {
        await backend.sessions.files.delete(args.session_id, args.path, { owner });
        return json({ deleted: args.path });
      },
    }),
  ];
}
