// The tools `loom mcp` offers: their input and output schemas (zod, sent as JSON Schema), the
// descriptions a model reads to decide how to call them, and the mapping from an
// ExecuteResponse to a tool result.
import { create } from '@bufbuild/protobuf';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { ExecuteRequestSchema, NetworkMode, type ExecuteRequest, type ExecuteResponse } from '../../../shared/gen/loom/v1/docker_pb';
import { DEFAULT_LIMITS } from '../../../shared/defaults';
import { RUNTIME_TYPES } from '../../../shared/runtimes';
import { LANGUAGE_NAMES, LANGUAGES, languageOf } from './languages';

/** Per call; a model that needs longer says so with timeout_seconds (up to the engine's default bound). */
export const DEFAULT_TIMEOUT_SECONDS = 60;
export const MAX_TIMEOUT_SECONDS = DEFAULT_LIMITS.executionTimeoutSeconds;
/** Each of stdout and stderr: more would flood a model's context; the rest is cut and flagged. */
export const MAX_OUTPUT_BYTES = 1024 * 1024;
export const MAX_INPUT_FILES = 32;
export const MAX_INPUT_BYTES = 8 * 1024 * 1024;
/** Where input files land: the sandbox's only writable directory, emptied after every run. */
export const INPUT_DIR = '/tmp';

const relativePath = z
  .string()
  .min(1)
  .max(255)
  .refine((p) => !p.startsWith('/') && !p.split('/').some((part) => part === '..' || part === '' || part === '.'), {
    message: "must be a relative path inside the sandbox's working directory, without '.', '..' or empty parts",
  });

export const inputFileSchema = z.strictObject({
  path: relativePath.describe(`Where the file is written, relative to ${INPUT_DIR} (the working directory), e.g. "data/input.csv".`),
  content: z.string().describe('The file content: UTF-8 text, or base64 when encoding is "base64".'),
  encoding: z.enum(['utf8', 'base64']).default('utf8'),
});

export function executeCodeInput(options: { allowNetwork: boolean; sessions: boolean }) {
  return z.strictObject({
    language: z.enum(LANGUAGE_NAMES).describe('The language of `code` (see list_languages).'),
    code: z.string().min(1).max(MAX_INPUT_BYTES).describe('The program source, run as the main program.'),
    packages: z
      .array(z.string().min(1).max(200))
      .max(50)
      .default([])
      .describe('Packages to install before running (pip requirements for python, npm specs for node). Installing needs network: "bridge".'),
    timeout_seconds: z
      .number()
      .int()
      .min(1)
      .max(MAX_TIMEOUT_SECONDS)
      .default(DEFAULT_TIMEOUT_SECONDS)
      .describe(`Wall-clock limit; the program is killed past it and the result says timedOut. Default ${DEFAULT_TIMEOUT_SECONDS}.`),
    network: (options.allowNetwork ? z.enum(['none', 'bridge']) : z.enum(['none']))
      .default('none')
      .describe(options.allowNetwork ? 'Network access: "none" (default) or "bridge" (internet).' : 'Always "none": this server was started without --allow-network.'),
    files: z
      .array(inputFileSchema)
      .max(MAX_INPUT_FILES)
      .default([])
      .describe(`Input files written into ${INPUT_DIR} before the program starts.`),
    ...(options.sessions
      ? { session_id: z.string().min(1).optional().describe('Run inside this session (create_session): its files and installed packages persist between calls.') }
      : {}),
  });
}

export type ExecuteCodeArgs = Omit<z.output<ReturnType<typeof executeCodeInput>>, 'network'> & { network: 'none' | 'bridge'; session_id?: string };

const fileRef = z.object({ name: z.string(), mimeType: z.string(), sizeBytes: z.number(), uri: z.string().optional() });

export const executeCodeOutput = z.object({
  exitCode: z.number().int().describe('The program exit code; -1 when Loom could not run it.'),
  timedOut: z.boolean(),
  durationMs: z.number(),
  traceId: z.string().describe('The trace of this run (Loom history and trace view, or your OTLP collector).'),
  stdout: z.string(),
  stderr: z.string(),
  truncated: z.boolean().describe(`Output past ${MAX_OUTPUT_BYTES} bytes per stream was cut.`),
  outputs: z.array(fileRef).describe('Display outputs (images, ...): none until Loom sessions and artifacts land.'),
  artifacts: z.array(fileRef).describe('Files the program left for you: none until Loom sessions and artifacts land.'),
  error: z.string().optional().describe('Why Loom could not run the program, when it could not.'),
});

export type ExecuteCodeOutput = z.output<typeof executeCodeOutput>;

export const listLanguagesOutput = z.object({
  languages: z.array(z.object({ name: z.string(), version: z.string(), packages: z.string() })),
});

export function executeCodeDescription(options: { allowNetwork: boolean; sessions: boolean }): string {
  return [
    'Runs a program in a fresh, locked-down Loom sandbox (a Docker container) and returns its stdout, stderr and exit code.',
    `Languages: ${LANGUAGES.map((l) => `${l.name} (${l.version})`).join(', ')}.`,
    `Security defaults: user nobody, no capabilities, read-only root filesystem, writable ${INPUT_DIR} only (emptied after every run), ` +
      `${options.allowNetwork ? 'no network unless network "bridge" is asked for' : 'no network at all'}.`,
    `Limits: ${DEFAULT_LIMITS.cpuCores} CPU, ${DEFAULT_LIMITS.memoryMb} MB memory, ${DEFAULT_LIMITS.storageMb} MB in ${INPUT_DIR}, ${DEFAULT_LIMITS.pidsLimit} processes, ` +
      `timeout ${DEFAULT_TIMEOUT_SECONDS} s by default (at most ${MAX_TIMEOUT_SECONDS} s), ${MAX_OUTPUT_BYTES / 1024 / 1024} MB of stdout and of stderr.`,
    options.sessions
      ? 'Without session_id nothing survives the call: every call starts from a clean sandbox. With session_id, state persists in that session.'
      : 'Nothing survives the call: every call starts from a clean sandbox, so send all the code and files a run needs each time.',
    'A non-zero exit code, a timeout or a failure to run gives isError: true with the details.',
  ].join('\n');
}

/** The ExecuteRequest for a call (validated arguments). */
export function executeRequestOf(args: ExecuteCodeArgs): ExecuteRequest {
  const language = languageOf(args.language);
  if (!language) throw new Error(`unknown language ${args.language}`); // the schema's enum already refused it
  const base = {
    runtimeType: RUNTIME_TYPES[language.runtime],
    timeoutSeconds: args.timeout_seconds,
    maxOutputBytes: MAX_OUTPUT_BYTES,
    config: {
      name: 'mcp',
      packages: args.packages,
      networkMode: args.network === 'bridge' ? NetworkMode.BRIDGE : NetworkMode.NONE,
    },
  };
  if (args.files.length === 0) return create(ExecuteRequestSchema, { ...base, command: language.inline(args.code) });
  // No files field in ExecuteRequest yet (the sessions issue adds one): a short bootstrap in the
  // same language reads the files from stdin, writes them, then runs the code from a file.
  const main = `${INPUT_DIR}/.loom-${language.mainFile}`;
  const files = args.files.map((f) => ({ path: f.path, data: f.encoding === 'base64' ? f.content : Buffer.from(f.content, 'utf8').toString('base64') }));
  files.push({ path: main.slice(INPUT_DIR.length + 1), data: Buffer.from(args.code, 'utf8').toString('base64') });
  const stdin = Buffer.from(JSON.stringify({ dir: INPUT_DIR, main, files }), 'utf8');
  if (stdin.byteLength > MAX_INPUT_BYTES + 1024 * 1024) throw new InputTooLargeError(stdin.byteLength);
  return create(ExecuteRequestSchema, { ...base, command: BOOTSTRAP[language.runtime], stdin });
}

export class InputTooLargeError extends Error {
  constructor(bytes: number) {
    super(`files: ${bytes} bytes with the code, over the ${MAX_INPUT_BYTES} byte bound`);
  }
}

const PY_BOOT = `import base64, json, os, runpy, sys
d = json.load(sys.stdin)
for f in d['files']:
    p = os.path.join(d['dir'], f['path'])
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, 'wb') as out:
        out.write(base64.b64decode(f['data']))
sys.argv = [d['main']]
runpy.run_path(d['main'], run_name='__main__')`;

const NODE_BOOT = `const fs = require('fs'), path = require('path');
const d = JSON.parse(fs.readFileSync(0, 'utf8'));
for (const f of d.files) {
  const p = path.join(d.dir, f.path);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, Buffer.from(f.data, 'base64'));
}
process.argv = [process.argv[0], d.main];
require(d.main);`;

const BOOTSTRAP: Record<'python' | 'node', string[]> = {
  python: ['python3', '-c', PY_BOOT],
  node: ['node', '-e', NODE_BOOT],
};

const decoder = new TextDecoder();

/** A finished run as a tool result: text for the model, structuredContent for programs. */
export function executeResult(response: ExecuteResponse): CallToolResult {
  const structured: ExecuteCodeOutput = {
    exitCode: response.exitCode,
    timedOut: response.timedOut,
    durationMs: Math.round(response.durationMs * 10) / 10,
    traceId: response.traceId,
    stdout: decoder.decode(response.stdout),
    stderr: decoder.decode(response.stderr),
    truncated: response.truncated,
    outputs: [],
    artifacts: [],
  };
  const status = response.timedOut
    ? `timed out after ${structured.durationMs} ms`
    : response.oomKilled
      ? `killed: out of memory (exit code ${response.exitCode})`
      : `exit code ${response.exitCode}`;
  const content: CallToolResult['content'] = [];
  if (structured.stdout) content.push({ type: 'text', text: `stdout:\n${structured.stdout}` });
  if (structured.stderr) content.push({ type: 'text', text: `stderr:\n${structured.stderr}` });
  content.push({ type: 'text', text: `${status}${response.truncated ? ' (output truncated)' : ''}; ${structured.durationMs} ms; trace ${response.traceId}` });
  return { content, structuredContent: structured, isError: response.timedOut || response.exitCode !== 0 };
}

/** Loom could not run the program (no engine, a package that would not install, ...). */
export function executeErrorResult(err: unknown, traceId: string): CallToolResult {
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  const structured: ExecuteCodeOutput = {
    exitCode: -1,
    timedOut: false,
    durationMs: 0,
    traceId,
    stdout: '',
    stderr: '',
    truncated: false,
    outputs: [],
    artifacts: [],
    error: message,
  };
  return { content: [{ type: 'text', text: `Loom could not run the program: ${message}` }], structuredContent: structured, isError: true };
}

export function listLanguagesResult(): CallToolResult {
  const languages = LANGUAGES.map((l) => ({ name: l.name, version: l.version, packages: l.packages }));
  return {
    content: [{ type: 'text', text: languages.map((l) => `${l.name}: ${l.version}; packages: ${l.packages}`).join('\n') }],
    structuredContent: { languages },
  };
}
