// execute_code and list_languages: their input and output schemas (zod, sent as JSON Schema),
// the descriptions a model reads to decide how to call them, and the mapping from an
// ExecuteResponse to a tool result.
import { create } from '@bufbuild/protobuf';
import { ErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { ExecuteRequestSchema, InputFileSchema, NetworkMode, type ExecuteRequest, type IsolationLevel, type ExecuteResponse, type InputFile } from '../../../shared/gen/loom/v1/docker_pb';
import { DEFAULT_LIMITS } from '../../../shared/defaults';
import { ISOLATION_LEVELS, ISOLATIONS, type Isolation } from '../../../shared/isolation';
import { RUNTIME_TYPES } from '../../../shared/runtimes';
import { formatBytes } from '../engine/session/workspace-files';
import { hasPackages, LANGUAGE_NAMES, LANGUAGES, languageOf } from './languages';
import { artifactContent, artifactSchema, displayContent, MAX_INLINE_ARTIFACT_BYTES, MAX_INLINE_ARTIFACTS_BYTES, outputSchema, type ArtifactBytes } from './outputs';

/** Per call; a model that needs longer says so with timeout_seconds (up to the engine's default bound). */
export const DEFAULT_TIMEOUT_SECONDS = 60;
export const MAX_TIMEOUT_SECONDS = DEFAULT_LIMITS.executionTimeoutSeconds;
/** Each of stdout and stderr: more would flood a model's context; the rest is cut and flagged. */
export const MAX_OUTPUT_BYTES = 1024 * 1024;
export const MAX_INPUT_FILES = 32;
export const MAX_INPUT_BYTES = 8 * 1024 * 1024;
/** Where input files land: the sandbox's only writable directory (a run's is emptied after it). */
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

/** Where a program's files for the caller go (relative to INPUT_DIR): what comes back as artifacts. */
export const OUTPUT_DIR = 'outputs';

/**
 * Whether a stateless run collects artifacts when the call does not say: when the code names
 * the output directory. Collecting runs the program by docker exec rather than the warm
 * runner (one exec more, and the clean-up by the host), a cost every plain call would pay.
 */
export function wantsArtifacts(code: string): boolean {
  return code.includes(OUTPUT_DIR);
}

/** What the server was started with (`loom mcp --allow-network --isolation ...`), as the tools see it. */
export interface ToolShape {
  allowNetwork: boolean;
  /** The floor: calls may ask for a stronger isolation, never a weaker one. */
  isolation: Isolation;
}

/**
 * The isolation argument: the levels at or above the server's floor only, as `network` offers
 * "none" alone without --allow-network, so a weaker level is refused by the schema, naming
 * `isolation`. Optional rather than defaulted: with session_id, any value is refused.
 */
export function isolationInput(floor: Isolation, notWith: string) {
  const allowed = ISOLATIONS.slice(ISOLATIONS.indexOf(floor)) as unknown as [Isolation, ...Isolation[]];
  const error =
    allowed.length > 1
      ? `expected one of ${allowed.map((i) => `"${i}"`).join(', ')}`
      : `expected "${floor}": this server's floor is ${floor} (loom mcp --isolation ${floor}), and a call may not ask for less`;
  return z
    .enum(allowed, { error })
    .optional()
    .describe(
      allowed.length > 1
        ? 'The boundary between the program and the host kernel: "runc" (default; Docker\'s runtime, the host kernel with seccomp, no capabilities) or ' +
            '"gvisor" (gVisor: a user-space kernel answers the system calls, a stronger boundary for untrusted code; slower to start, ' +
            `its own /proc, uname -r 4.4.0, and on this engine no network). ${notWith}`
        : `Always "gvisor": this server was started with --isolation gvisor, so every sandbox runs under gVisor's user-space kernel. ${notWith}`,
    );
}

/** The level a call runs at: what it asked for (the schema kept it at or above the floor), else the floor. */
export function callIsolationLevel(asked: Isolation | undefined, floor: Isolation): IsolationLevel {
  return ISOLATION_LEVELS[asked ?? floor];
}

export function executeCodeInput(options: ToolShape) {
  return z.strictObject({
    language: z.enum(LANGUAGE_NAMES).describe('The language of `code` (see list_languages). In a session: the session\'s language.'),
    code: z.string().min(1).max(MAX_INPUT_BYTES).describe('The program source, run as the main program (in a session: run as a cell).'),
    packages: z
      .array(z.string().min(1).max(200))
      .max(50)
      .default([])
      .describe('Packages to install before running (pip requirements for python, npm specs for node; none for the other languages). Installing needs network: "bridge". Not with session_id: create_session takes them.'),
    timeout_seconds: z
      .number()
      .int()
      .min(1)
      .max(MAX_TIMEOUT_SECONDS)
      .default(DEFAULT_TIMEOUT_SECONDS)
      .describe(`Wall-clock limit; the program is killed past it (a session's cell is interrupted) and the result says timedOut. Default ${DEFAULT_TIMEOUT_SECONDS}.`),
    network: (options.allowNetwork ? z.enum(['none', 'bridge']) : z.enum(['none']))
      .default('none')
      .describe(options.allowNetwork ? 'Network access: "none" (default) or "bridge" (internet). Not with session_id: create_session takes it.' : 'Always "none": this server was started without --allow-network.'),
    files: z
      .array(inputFileSchema)
      .max(MAX_INPUT_FILES)
      .default([])
      .describe(`Input files written into ${INPUT_DIR} before the program starts (in a session: into its files, where they stay).`),
    session_id: z.string().min(1).optional().describe('Run `code` as a cell of this session (create_session): variables, imports, files and installed packages persist between calls.'),
    collect_artifacts: z
      .boolean()
      .optional()
      .describe(
        `Without session_id: return the files the program writes under ${INPUT_DIR}/${OUTPUT_DIR}/ as artifacts. Default: true when the code mentions "${OUTPUT_DIR}". ` +
          'Collecting makes a run slower (tenths of a second). Python and node only. Sessions always return them.',
      ),
    isolation: isolationInput(options.isolation, 'Not with session_id: create_session takes it.'),
  });
}

export type ExecuteCodeArgs = Omit<z.output<ReturnType<typeof executeCodeInput>>, 'network' | 'isolation'> & { network: 'none' | 'bridge'; isolation?: Isolation };

export const executeCodeOutput = z.object({
  exitCode: z.number().int().describe('The program exit code (a cell: 0 ok, 1 an exception, 124 timed out, 130 interrupted, 137 interpreter restarted); -1 when Loom could not run it.'),
  timedOut: z.boolean(),
  durationMs: z.number(),
  traceId: z.string().describe('The trace of this run (Loom history and trace view, or your OTLP collector).'),
  stdout: z.string(),
  stderr: z.string(),
  truncated: z.boolean().describe(`Output past ${MAX_OUTPUT_BYTES} bytes per stream was cut.`),
  outputs: z
    .array(outputSchema)
    .describe("Display outputs in the order produced (display(...), plt.show(), a cell's final value), each a MIME bundle; images are also image items of the content."),
  artifacts: z
    .array(artifactSchema)
    .describe(
      `Files the program wrote under ${INPUT_DIR}/${OUTPUT_DIR}/ (a cell: new or changed ones). Their bytes are in the content up to ` +
        `${formatBytes(MAX_INLINE_ARTIFACT_BYTES)} each and ${formatBytes(MAX_INLINE_ARTIFACTS_BYTES)} together; past that listed with a note.`,
    ),
  cell: z
    .object({ sessionId: z.string(), executionCount: z.number().int(), status: z.string().describe('ok, error, timeout, interrupted or restarted (the interpreter was replaced: variables are gone, files kept).') })
    .optional()
    .describe('When run in a session.'),
  error: z.string().optional().describe('Why Loom could not run the program, when it could not.'),
});

export type ExecuteCodeOutput = z.output<typeof executeCodeOutput>;

export const listLanguagesOutput = z.object({
  languages: z.array(z.object({ name: z.string(), version: z.string(), packages: z.string() })),
});

export function executeCodeDescription(options: ToolShape): string {
  return [
    'Runs a program in a fresh, locked-down Loom sandbox (a Docker container) and returns its stdout, stderr and exit code, ' +
      'with its display outputs (images as image content) and the files it wrote under /tmp/outputs/ (artifacts).',
    `Languages: ${LANGUAGES.map((l) => `${l.name} (${l.version})`).join(', ')}.`,
    `Security defaults: user nobody, no capabilities, read-only root filesystem, writable ${INPUT_DIR} only (emptied after every run), ` +
      `${options.allowNetwork ? 'no network unless network "bridge" is asked for' : 'no network at all'}, ` +
      (options.isolation === 'gvisor' ? "under gVisor's user-space kernel (this server's floor)." : 'under runc unless isolation "gvisor" is asked for.'),
    `Limits: ${DEFAULT_LIMITS.cpuCores} CPU, ${DEFAULT_LIMITS.memoryMb} MB memory, ${DEFAULT_LIMITS.storageMb} MB in ${INPUT_DIR}, ${DEFAULT_LIMITS.pidsLimit} processes, ` +
      `timeout ${DEFAULT_TIMEOUT_SECONDS} s by default (at most ${MAX_TIMEOUT_SECONDS} s), ${MAX_OUTPUT_BYTES / 1024 / 1024} MB of stdout and of stderr.`,
    'Without session_id nothing survives the call: every call starts from a clean sandbox, so send all the code and files a run needs each time. ' +
      'With session_id (create_session) the code runs as a cell: variables, files and packages persist, and a final expression is shown.',
    'Display outputs: python `from loom_display import display` (a builtin in sessions; plt.show() shows figures), node `const { display } = require("loom-display.js")` (a global in sessions).',
    `Artifacts: create ${INPUT_DIR}/${OUTPUT_DIR}/ and write files there (sessions have it already). A file's bytes come back up to ${formatBytes(MAX_INLINE_ARTIFACT_BYTES)} ` +
      `(${formatBytes(MAX_INLINE_ARTIFACTS_BYTES)} for all of a call's); a bigger one is listed with its size and a note, its bytes left out (in a session, read_file reads it).`,
    'A non-zero exit code, a timeout or a failure to run gives isError: true with the details.',
  ].join('\n');
}

/** The ExecuteRequest for a stateless call (validated arguments), at the call's isolation or the server's floor. */
export function executeRequestOf(args: ExecuteCodeArgs, floor: Isolation): ExecuteRequest {
  const language = languageOf(args.language);
  if (!language) throw new Error(`unknown language ${args.language}`); // the schema's enum already refused it
  // The other languages run from source, which needs the warm runner: no packages, and no
  // artifacts (collecting them runs the program by docker exec).
  if (!hasPackages(language)) {
    if (args.packages.length) throw new McpError(ErrorCode.InvalidParams, `packages: Loom installs packages for python and node only, not ${language.name}`);
    if (args.collect_artifacts) throw new McpError(ErrorCode.InvalidParams, `collect_artifacts: artifacts are collected for python and node only, not ${language.name}`);
  }
  const collect = hasPackages(language) && (args.collect_artifacts ?? wantsArtifacts(args.code));
  return create(ExecuteRequestSchema, {
    runtimeType: RUNTIME_TYPES[language.runtime],
    ...language.program(args.code),
    timeoutSeconds: args.timeout_seconds,
    maxOutputBytes: MAX_OUTPUT_BYTES,
    config: {
      name: 'mcp',
      packages: args.packages,
      networkMode: networkModeOf(args.network),
      // Part of the pool key: gVisor and runc containers never share a pool.
      isolation: callIsolationLevel(args.isolation, floor),
    },
    files: inputFilesOf(args.files),
    ...(collect ? { outputDir: OUTPUT_DIR } : {}),
  });
}

/** A network argument (its enum is ['none'] alone without --allow-network) as the config's mode. */
export function networkModeOf(network: string): NetworkMode {
  return network === 'bridge' ? NetworkMode.BRIDGE : NetworkMode.NONE;
}

/** The input files' bytes; refused past MAX_INPUT_BYTES together, naming the argument. */
export function inputFilesOf(files: ExecuteCodeArgs['files']): InputFile[] {
  const out = files.map((f) => create(InputFileSchema, { path: f.path, content: f.encoding === 'base64' ? Buffer.from(f.content, 'base64') : Buffer.from(f.content, 'utf8') }));
  const total = out.reduce((sum, f) => sum + f.content.byteLength, 0);
  if (total > MAX_INPUT_BYTES) throw new McpError(ErrorCode.InvalidParams, `files: ${formatBytes(total)} together, over the ${formatBytes(MAX_INPUT_BYTES)} bound of one call`);
  return out;
}

const decoder = new TextDecoder();

/**
 * A finished run or cell as a tool result: text for the model (stdout, stderr, display
 * outputs, artifacts, status), images as image content, small artifacts embedded, and
 * structuredContent for programs. `uriBase` names the embedded artifacts (loom://...).
 */
export function executeResult(response: ExecuteResponse, bytes: ArtifactBytes, uriBase: string): CallToolResult {
  const outputs = displayContent(response.outputs);
  const artifacts = artifactContent(response.artifacts, bytes, uriBase);
  const cell = response.cell;
  const structured: ExecuteCodeOutput = {
    exitCode: response.exitCode,
    timedOut: response.timedOut,
    durationMs: Math.round(response.durationMs * 10) / 10,
    traceId: response.traceId,
    stdout: decoder.decode(response.stdout),
    stderr: decoder.decode(response.stderr),
    truncated: response.truncated,
    outputs: outputs.structured,
    artifacts: artifacts.structured,
    ...(cell ? { cell: { sessionId: cell.sessionId, executionCount: cell.executionCount, status: cell.status } } : {}),
  };
  const status = cell
    ? `cell ${cell.executionCount}: ${cell.status}${cell.errorName ? ` (${cell.errorName})` : ''}`
    : response.timedOut
      ? `timed out after ${structured.durationMs} ms`
      : response.oomKilled
        ? `killed: out of memory (exit code ${response.exitCode})`
        : `exit code ${response.exitCode}`;
  const content: CallToolResult['content'] = [];
  if (structured.stdout) content.push({ type: 'text', text: `stdout:\n${structured.stdout}` });
  if (structured.stderr) content.push({ type: 'text', text: `stderr:\n${structured.stderr}` });
  content.push(...outputs.content, ...artifacts.content);
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
