// The session and file tools, over a SessionBackend (see sessions.ts). Registered only when the
// engine has sessions; execute_code then takes a session_id.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { LANGUAGE_NAMES } from './languages';
import { defineTool, type ToolDefinition } from './server';
import type { SessionBackend } from './sessions';
import { inputFileSchema } from './tools';

const sessionId = z.string().min(1).describe('A session id from create_session.');
const path = inputFileSchema.shape.path;

function json(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value };
}

export function sessionTools(sessions: SessionBackend): ToolDefinition[] {
  return [
    defineTool({
      name: 'create_session',
      description:
        'Creates a sandbox session: one locked-down container kept for you, whose files and installed packages persist between execute_code calls that name it. ' +
        'Close it with close_session when done; idle sessions are ended by Loom.',
      input: z.strictObject({
        language: z.enum(LANGUAGE_NAMES),
        packages: z.array(z.string().min(1)).max(50).default([]),
        network: z.enum(['none', 'bridge']).default('none'),
      }),
      async run(args) {
        return json({ session: await sessions.create(args) });
      },
    }),
    defineTool({
      name: 'list_sessions',
      description: 'Lists the open sessions.',
      input: z.strictObject({}),
      annotations: { readOnlyHint: true },
      async run() {
        return json({ sessions: await sessions.list() });
      },
    }),
    defineTool({
      name: 'close_session',
      description: 'Closes a session and removes its container and files.',
      input: z.strictObject({ session_id: sessionId }),
      annotations: { destructiveHint: true },
      async run(args) {
        await sessions.close(args.session_id);
        return json({ closed: args.session_id });
      },
    }),
    defineTool({
      name: 'write_file',
      description: "Writes a file into a session's working directory.",
      input: z.strictObject({ session_id: sessionId, path, content: z.string(), encoding: z.enum(['utf8', 'base64']).default('utf8') }),
      async run(args) {
        const data = args.encoding === 'base64' ? Buffer.from(args.content, 'base64') : Buffer.from(args.content, 'utf8');
        await sessions.writeFile(args.session_id, args.path, data);
        return json({ path: args.path, sizeBytes: data.byteLength });
      },
    }),
    defineTool({
      name: 'read_file',
      description: "Reads a file from a session's working directory (base64 when it is not UTF-8 text).",
      input: z.strictObject({ session_id: sessionId, path }),
      annotations: { readOnlyHint: true },
      async run(args) {
        const data = Buffer.from(await sessions.readFile(args.session_id, args.path));
        const text = data.toString('utf8');
        const isText = Buffer.from(text, 'utf8').equals(data);
        return json({ path: args.path, encoding: isText ? 'utf8' : 'base64', content: isText ? text : data.toString('base64') });
      },
    }),
    defineTool({
      name: 'list_files',
      description: "Lists the files in a session's working directory (or a directory under it).",
      input: z.strictObject({ session_id: sessionId, dir: path.optional() }),
      annotations: { readOnlyHint: true },
      async run(args) {
        return json({ files: await sessions.listFiles(args.session_id, args.dir) });
      },
    }),
  ];
}
