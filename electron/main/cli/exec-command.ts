// `loom exec`: one ExecuteRequest from the command line, its output streamed live (or one
// JSON object with --json), the program's exit status as ours.
import { create } from '@bufbuild/protobuf';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DEFAULT_IMAGES, DEFAULT_LIFECYCLE, DEFAULT_LIMITS, DEFAULT_MAX_OUTPUT_BYTES } from '../../../shared/defaults';
import {
  ExecuteRequestSchema,
  NetworkMode,
  RuntimeType,
  SpanSource,
  SpanStatus,
  type ExecuteEvent,
  type ExecuteRequest,
  type ExecuteResponse,
  type Span,
} from '../../../shared/gen/loom/v1/docker_pb';
import { buildSpanTree, formatSpanTree } from '../../../shared/span-tree';
import { CommandNotFoundError } from '../engine/errors';
import { createExecutor, type Executor } from '../engine/executor';
import type { PackageSources } from '../engine/packages';
import { tracesUrl } from '../engine/tracing/otlp';
import {
  UsageError,
  flag,
  listOption,
  parseBigInteger,
  parseChoice,
  parseDecimal,
  parseEnvPairs,
  parseInteger,
  parseWithCommand,
  splitArgs,
  stringOption,
  type ParsedValues,
} from './args';
import { EXIT, isBrokenPipe, megabytes, note, reportLoomError, reportUsage, writeJson, type Io } from './format';
import { HELP_OPTION, HOST_OPTION, renderHelp, toSpecs, type OptionDoc } from './help';
import { ProgressReporter } from './progress';

const DEFAULT_KEEP_WARM_SECONDS = 600;
const RUNTIMES = ['python', 'node', 'custom'] as const;
type Runtime = (typeof RUNTIMES)[number];
const RUNTIME_TYPES: Record<Runtime, RuntimeType> = { python: RuntimeType.PYTHON, node: RuntimeType.NODE, custom: RuntimeType.CUSTOM };
const NETWORKS = ['none', 'bridge'] as const;
const NETWORK_MODES: Record<(typeof NETWORKS)[number], NetworkMode> = { none: NetworkMode.NONE, bridge: NetworkMode.BRIDGE };

export const EXEC_OPTIONS: readonly OptionDoc[] = [
  { name: 'runtime', value: 'python|node|custom', help: 'the runtime', default: 'python' },
  {
    name: 'image',
    value: 'IMAGE',
    help: 'base image for python/node, or the image for custom (required with --runtime custom)',
    default: `${DEFAULT_IMAGES.python} / ${DEFAULT_IMAGES.node}`,
  },
  { name: 'package', value: 'NAME', multiple: true, help: 'pip/npm package to install into the container first (./file.whl and ./file.tgz are local files, from any directory)' },
  { name: 'cpus', value: 'N', help: 'CPU cores', default: DEFAULT_LIMITS.cpuCores },
  { name: 'memory', short: 'm', value: 'MB', help: 'memory limit in MB (no swap on top)', default: DEFAULT_LIMITS.memoryMb },
  { name: 'storage', value: 'MB', help: 'writable space (/tmp) in MB', default: DEFAULT_LIMITS.storageMb },
  { name: 'pids', value: 'N', help: 'maximum number of processes', default: DEFAULT_LIMITS.pidsLimit },
  { name: 'timeout', short: 't', value: 'SECONDS', help: 'kill the program after this long (exit status 124)', default: DEFAULT_LIMITS.executionTimeoutSeconds },
  { name: 'network', value: 'none|bridge', help: 'network access', default: 'none' },
  { name: 'env', short: 'e', value: 'NAME=VALUE', multiple: true, help: "environment variable for the program" },
  { name: 'stdin', value: 'FILE|-', help: "feed FILE (or, with '-', all of our own stdin) to the program's stdin", default: 'empty' },
  { name: 'workdir', short: 'w', value: 'DIR', help: 'working directory inside the container (absolute)', default: '/tmp' },
  { name: 'max-executions', value: 'N', help: 'rotate a pooled container after N executions', default: DEFAULT_LIFECYCLE.maxExecutions },
  { name: 'rotation-hours', value: 'H', help: 'rotate a pooled container after H hours', default: DEFAULT_LIFECYCLE.rotationIntervalHours },
  {
    name: 'keep-warm',
    value: 'SECONDS',
    help: 'after the run, keep the container warm this long for the next loom exec with the same config (0: remove it now)',
    default: `$LOOM_KEEP_WARM, else ${DEFAULT_KEEP_WARM_SECONDS}`,
  },
  { name: 'name', value: 'NAME', help: 'config name (shows in container names and `loom containers ls`)' },
  { name: 'quiet', short: 'q', help: 'no progress or notes on stderr (errors still are)' },
  { name: 'json', help: 'print one JSON object with the result on stdout instead of streaming the output' },
  { name: 'trace', help: "after the run, print its trace (Loom's spans and the program's own) as a tree on stderr; not with --json" },
  {
    name: 'otlp',
    value: 'URL',
    help: "also send the trace to this OpenTelemetry collector over OTLP/HTTP: a base URL (http://localhost:4318) or a full .../v1/traces URL; '' sends nothing",
    default: '$OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else $OTEL_EXPORTER_OTLP_ENDPOINT, else none',
  },
  HOST_OPTION,
  { name: 'pip-index-url', value: 'URL|DIR', help: 'pip index: a URL, or a host directory laid out as a PEP 503 simple index', default: 'PyPI' },
  { name: 'pip-find-links', value: 'DIR', help: 'host directory of wheels/sdists for pip (alone: offline, --no-index)' },
  { name: 'npm-registry', value: 'URL', help: 'npm registry URL', default: 'https://registry.npmjs.org' },
  { name: 'ca-file', value: 'FILE', help: 'extra CA bundle to trust for the index and registry (e.g. a corporate TLS proxy)' },
  HELP_OPTION,
];

const SPECS = toSpecs(EXEC_OPTIONS);

export const EXEC_HELP = renderHelp({
  usage: ['loom exec [OPTIONS] [--] COMMAND [ARG...]'],
  summary:
    'Runs COMMAND in a fresh, locked-down container (non-root, read-only root, no capabilities, no network\n' +
    "unless --network bridge) and streams its stdout and stderr live to ours. Options end at '--' or at the\n" +
    'first argument that is not an option. When loom exits, the container is kept warm for the next loom exec\n' +
    'with the same config (--keep-warm), then removed.',
  options: EXEC_OPTIONS,
  after: `With --json, stdout carries exactly one JSON object: containerId, exitCode, stdout, stderr (UTF-8),
durationMs, containerCreated, timedOut, truncated, stdoutTruncated, stderrTruncated, oomKilled,
timings (ms per phase), usage (the program's wallMs, cpuMs and peakMemoryKb, measured in the
container, and via: runner or exec), traceId, spans, malformedSpans, droppedSpans; or, when Loom fails,
{"error": {"name", "message", ...}}. The response keeps the first ${megabytes(DEFAULT_MAX_OUTPUT_BYTES)} of each stream
(truncated says so); the live stream without --json is complete. Each span: traceId, spanId,
parentSpanId ('' for the root), name, startTimeUnixNano and endTimeUnixNano (decimal strings),
attributes, status (ok, error or unset), statusMessage (when there is one), source (host or container).

Tracing: every run is traced. The root span docker.execute has Loom's phases (docker.image,
docker.container, docker.packages, docker.run) and the program's own spans as children; inside the
container, Python has 'from loom_trace import tracer, trace_span' and Node require('loom-trace.js').
--trace prints the tree after the program's output, on stderr so that stdout stays the program's;
--otlp (or the OTEL_EXPORTER_OTLP_* variables) sends it to a collector, waiting at most 3 s for it
on exit.

Exit status: the program's; 124 timed out; 125 Loom could not run it (invalid request, engine unavailable,
image pull, package install or command not found); 130 interrupted (SIGINT/SIGTERM); 2 bad usage.

Examples:
  loom exec -- python3 -c 'print("hello")'
  echo '{"a": 1}' | loom exec --stdin - -- python3 -c 'import json,sys; print(json.load(sys.stdin))'
  loom exec --runtime node --timeout 5 -- node -e 'console.log(process.version)'
  loom exec --package requests --network bridge --json -- python3 -c 'import requests'
  loom exec --trace --otlp http://localhost:4318 -- python3 script.py`,
});

interface ExecPlan {
  request: ExecuteRequest;
  dockerHost?: string;
  packageSources: PackageSources;
  json: boolean;
  quiet: boolean;
  /** Print the span tree on stderr after the run. */
  trace: boolean;
  /** Undefined: the environment's default. */
  otlpEndpoint?: string;
  timeoutSeconds: number;
  memoryMb: string;
  /** Park the container for the next process this long; 0 removes it at exit. */
  keepWarmSeconds: number;
}

export async function execCommand(argv: readonly string[], io: Io): Promise<number> {
  // Known before parsing, so that even a usage error can answer in JSON.
  const wantsJson = splitArgs(argv, SPECS, true).options.includes('--json');
  let values: ParsedValues;
  let command: string[];
  try {
    ({ values, command } = parseWithCommand(argv, SPECS));
    if (flag(values, 'help')) {
      io.stdout.write(EXEC_HELP);
      return 0;
    }
    if (command.length === 0) throw new UsageError('missing COMMAND: give the program to run after the options (loom exec [OPTIONS] -- COMMAND...)');
  } catch (err) {
    if (err instanceof UsageError) return reportUsage(io, err, 'loom exec', wantsJson);
    throw err;
  }

  const controller = new AbortController();
  let interrupted: NodeJS.Signals | undefined;
  const json = flag(values, 'json');
  const quiet = flag(values, 'quiet') || json;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) {
      // A second signal: stop waiting for the clean-up (the next Loom start reaps the container).
      process.exit(EXIT.interrupted);
    }
    interrupted = signal;
    if (!quiet) note(io, `${signal}: stopping the program and removing its container (again to quit at once)`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Like a program killed by SIGPIPE: once nobody reads our stdout, stop the run.
  let brokenPipe = false;
  const onStdoutError = (err: unknown): void => {
    if (!isBrokenPipe(err) || brokenPipe) return;
    brokenPipe = true;
    controller.abort();
  };
  io.stdout.on('error', onStdoutError);
  /** The exit status of a run stopped by a signal or a broken pipe; --json still answers. */
  const stopped = (): number => {
    if (brokenPipe) return EXIT.brokenPipe;
    if (json) writeJson(io, { error: { name: 'AbortedError', message: `interrupted by ${interrupted ?? 'a signal'}`, signal: interrupted } });
    return EXIT.interrupted;
  };

  let executor: Executor | undefined;
  try {
    let plan: ExecPlan;
    try {
      plan = await planExec(values, command, io, controller.signal);
    } catch (err) {
      if (err instanceof UsageError) return reportUsage(io, err, 'loom exec', json);
      throw err;
    }
    if (controller.signal.aborted) return stopped();

    const progress = new ProgressReporter({ write: (line) => note(io, line) });
    executor = await createExecutor({
      dockerHost: plan.dockerHost,
      packageSources: plan.packageSources,
      // The user names their own files here: --package ./file may be any file they can read.
      localPackages: 'anywhere',
      otlpEndpoint: plan.otlpEndpoint,
      parkOnClose: plan.keepWarmSeconds > 0,
      // One run per process: the container it parks is what keeps the next process warm.
      minIdlePerConfig: 0,
      idleTtlMs: plan.keepWarmSeconds * 1000,
      onError: (err) => {
        if (!quiet) note(io, `warning: ${err instanceof Error ? err.message : String(err)}`);
      },
    });
    if (controller.signal.aborted) return stopped();

    const relay = new OutputRelay(io);
    const onEvent = (event: ExecuteEvent): void => {
      const e = event.event;
      if (!json && (e.case === 'stdout' || e.case === 'stderr')) relay.write(e.case, e.value);
      else if (!quiet) progress.onEvent(event);
    };
    try {
      const response = await executor.execute(plan.request, { onEvent, signal: controller.signal });
      relay.flush();
      return finish(io, plan, response, relay);
    } catch (err) {
      if (!(err instanceof CommandNotFoundError)) relay.flush();
      throw err;
    }
  } catch (err) {
    if (controller.signal.aborted) return stopped();
    return reportLoomError(io, err, json);
  } finally {
    try {
      await executor?.close();
    } catch (err) {
      if (!quiet) note(io, `warning: could not remove every container: ${err instanceof Error ? err.message : String(err)}`);
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    io.stdout.off('error', onStdoutError);
  }
}

function finish(io: Io, plan: ExecPlan, r: ExecuteResponse, relay: OutputRelay): number {
  if (plan.json) {
    writeJson(io, {
      containerId: r.containerId,
      exitCode: r.exitCode,
      stdout: Buffer.from(r.stdout).toString('utf8'),
      stderr: Buffer.from(r.stderr).toString('utf8'),
      durationMs: round(r.durationMs),
      containerCreated: r.containerCreated,
      timedOut: r.timedOut,
      truncated: r.truncated,
      stdoutTruncated: r.stdoutTruncated,
      stderrTruncated: r.stderrTruncated,
      oomKilled: r.oomKilled,
      timings: r.timings
        ? { imageMs: round(r.timings.imageMs), containerMs: round(r.timings.containerMs), packagesMs: round(r.timings.packagesMs), runMs: round(r.timings.runMs) }
        : undefined,
      usage: r.usage
        ? { wallMs: round(r.usage.wallMs), cpuMs: round(r.usage.cpuMs), peakMemoryKb: Number(r.usage.peakMemoryKb), via: r.usage.via }
        : undefined,
      traceId: r.traceId,
      spans: r.spans.map(spanJson),
      malformedSpans: r.malformedSpans,
      droppedSpans: r.droppedSpans,
    });
    return r.timedOut ? EXIT.timedOut : r.exitCode;
  }
  if (!plan.quiet) {
    if (r.timedOut) note(io, `timed out after ${plan.timeoutSeconds}s`);
    if (r.oomKilled) note(io, `killed: out of memory (limit ${plan.memoryMb} MB)`);
    const cut = [r.stdoutTruncated ? 'stdout' : '', r.stderrTruncated ? 'stderr' : ''].filter(Boolean);
    if (r.truncated) {
      note(io, `truncated: the response kept only the first ${megabytes(DEFAULT_MAX_OUTPUT_BYTES)} of ${cut.join(' and ') || 'the output'} (the output above is complete)`);
    }
  }
  if (plan.trace) {
    // Output that did not end its last line would otherwise run into the header on a terminal.
    if (!relay.atLineStart) io.stderr.write('\n');
    io.stderr.write(`${traceReport(r)}\n`);
  }
  return r.timedOut ? EXIT.timedOut : r.exitCode;
}

/** The header line and the span tree that --trace prints. */
export function traceReport(r: Pick<ExecuteResponse, 'traceId' | 'spans' | 'malformedSpans' | 'droppedSpans'>): string {
  const counts = [`${r.spans.length} span${r.spans.length === 1 ? '' : 's'}`];
  if (r.malformedSpans) counts.push(`${r.malformedSpans} malformed`);
  if (r.droppedSpans) counts.push(`${r.droppedSpans} dropped`);
  const header = `trace ${r.traceId} (${counts.join(', ')})`;
  const tree = formatSpanTree(buildSpanTree(r.spans), { durations: true });
  return tree ? `${header}\n${tree}` : header;
}

const STATUS_NAMES: Record<SpanStatus, string> = { [SpanStatus.UNSPECIFIED]: 'unset', [SpanStatus.OK]: 'ok', [SpanStatus.ERROR]: 'error' };
const SOURCE_NAMES: Record<SpanSource, string> = { [SpanSource.UNSPECIFIED]: 'unknown', [SpanSource.HOST]: 'host', [SpanSource.CONTAINER]: 'container' };

/** A span for --json: times as decimal strings (they exceed 2^53), enums as lowercase words. */
function spanJson(s: Span): Record<string, unknown> {
  return {
    traceId: s.traceId,
    spanId: s.spanId,
    parentSpanId: s.parentSpanId,
    name: s.name,
    startTimeUnixNano: s.startTimeUnixNano.toString(),
    endTimeUnixNano: s.endTimeUnixNano.toString(),
    attributes: s.attributes ?? {},
    status: STATUS_NAMES[s.status] ?? 'unset',
    ...(s.statusMessage ? { statusMessage: s.statusMessage } : {}),
    source: SOURCE_NAMES[s.source] ?? 'unknown',
  };
}

/**
 * Program output to our stdout and stderr as it arrives. The one exception: when the program
 * does not exist, the container runtime reports it as the exec's first stdout ("OCI runtime
 * exec failed: ...") and the engine then throws CommandNotFoundError; such a first chunk is
 * held back until the run ends, and dropped if that is how it ended.
 */
class OutputRelay {
  private held: Uint8Array | undefined;
  private first = true;
  /** Whether the last byte written (to either stream) ended a line, or nothing was written. */
  atLineStart = true;

  constructor(private readonly io: Io) {}

  write(kind: 'stdout' | 'stderr', chunk: Uint8Array): void {
    if (this.first && kind === 'stdout' && Buffer.from(chunk.subarray(0, RUNTIME_ERROR.length)).toString('latin1') === RUNTIME_ERROR) {
      this.first = false;
      this.held = chunk;
      return;
    }
    this.first = false;
    this.flush();
    this.send(kind, chunk);
  }

  flush(): void {
    if (this.held) this.send('stdout', this.held);
    this.held = undefined;
  }

  private send(kind: 'stdout' | 'stderr', chunk: Uint8Array): void {
    // After a broken pipe the stream is destroyed: the run is being stopped, drop the rest.
    const stream = this.io[kind] as NodeJS.WritableStream & { destroyed?: boolean };
    if (stream.destroyed) return;
    stream.write(chunk);
    if (chunk.length > 0) this.atLineStart = chunk[chunk.length - 1] === 0x0a;
  }
}

const RUNTIME_ERROR = 'OCI runtime exec failed';

const round = (ms: number): number => Math.round(ms * 10) / 10;

/** Turns parsed options into the request; values are parsed strictly but range-checked by the engine. */
async function planExec(values: ParsedValues, command: string[], io: Io, signal: AbortSignal): Promise<ExecPlan> {
  const str = (name: string): string | undefined => stringOption(values, name);
  const int = (name: string): number => {
    const raw = str(name);
    return raw === undefined ? 0 : parseInteger(name, raw);
  };
  const int64 = (name: string): bigint => {
    const raw = str(name);
    return raw === undefined ? 0n : parseBigInteger(name, raw);
  };

  const runtime = parseChoice('runtime', str('runtime') ?? 'python', RUNTIMES);
  const network = str('network');
  const image = str('image');
  const cpuRaw = str('cpus');
  const timeoutSeconds = int('timeout');
  const memoryMb = int64('memory');
  const request = create(ExecuteRequestSchema, {
    runtimeType: RUNTIME_TYPES[runtime],
    command,
    env: parseEnvPairs('env', listOption(values, 'env')),
    stdin: await readStdin(str('stdin'), io, signal),
    workingDir: str('workdir') ?? '',
    config: {
      name: str('name') ?? '',
      runtimeType: RUNTIME_TYPES[runtime],
      imageSource: image === undefined ? { case: undefined } : { case: runtime === 'custom' ? 'customImage' : 'baseImage', value: image },
      packages: listOption(values, 'package').map(localPackagePath),
      networkMode: network === undefined ? NetworkMode.UNSPECIFIED : NETWORK_MODES[parseChoice('network', network, NETWORKS)],
      resourceLimits: {
        cpuCores: cpuRaw === undefined ? 0 : parseDecimal('cpus', cpuRaw),
        memoryMb,
        storageMb: int64('storage'),
        pidsLimit: int('pids'),
        executionTimeoutSeconds: timeoutSeconds,
      },
      lifecycle: { maxExecutions: int('max-executions'), rotationIntervalHours: int('rotation-hours') },
    },
  });

  const packageSources: PackageSources = {};
  const pipIndex = str('pip-index-url');
  if (pipIndex !== undefined) packageSources.pipIndexUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(pipIndex) ? pipIndex : hostPath('pip-index-url', pipIndex);
  const findLinks = str('pip-find-links');
  if (findLinks !== undefined) packageSources.pipFindLinks = hostPath('pip-find-links', findLinks);
  const registry = str('npm-registry');
  if (registry !== undefined) packageSources.npmRegistry = registry;
  const ca = str('ca-file');
  if (ca !== undefined) packageSources.caFile = hostPath('ca-file', ca);

  const otlpEndpoint = str('otlp');
  if (otlpEndpoint) {
    try {
      tracesUrl(otlpEndpoint);
    } catch {
      throw new UsageError(`--otlp expects an http:// or https:// URL, got '${otlpEndpoint}'`, '--otlp');
    }
  }

  const json = flag(values, 'json');
  return {
    request,
    dockerHost: str('host'),
    packageSources,
    json,
    quiet: flag(values, 'quiet') || json,
    trace: flag(values, 'trace') && !json,
    otlpEndpoint,
    timeoutSeconds: timeoutSeconds || DEFAULT_LIMITS.executionTimeoutSeconds,
    memoryMb: memoryMb ? memoryMb.toString() : String(DEFAULT_LIMITS.memoryMb),
    keepWarmSeconds: values['keep-warm'] !== undefined ? int('keep-warm') : keepWarmFromEnv(),
  };
}

function keepWarmFromEnv(): number {
  const raw = process.env.LOOM_KEEP_WARM;
  if (raw === undefined || raw === '') return DEFAULT_KEEP_WARM_SECONDS;
  if (!/^\d+$/.test(raw)) throw new UsageError(`LOOM_KEEP_WARM must be a number of seconds, got '${raw}'`, 'LOOM_KEEP_WARM');
  return Number(raw);
}

/** A host path for a package source, made absolute (it is mounted into the container). */
function hostPath(option: string, path: string): string {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new UsageError(`--${option}: no such file or directory: ${path}`, `--${option}`);
  return abs;
}

/** `./pkg.whl` and `../x.tgz` are local files: the engine wants them absolute. */
function localPackagePath(pkg: string): string {
  return pkg.startsWith('./') || pkg.startsWith('../') ? resolve(pkg) : pkg;
}

async function readStdin(source: string | undefined, io: Io, signal: AbortSignal): Promise<Uint8Array> {
  if (source === undefined) return new Uint8Array();
  if (source !== '-') {
    try {
      return await readFile(source);
    } catch (err) {
      throw new UsageError(`--stdin: cannot read ${source}: ${(err as Error).message}`, '--stdin');
    }
  }
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of io.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  })();
  const aborted = new Promise<void>((res) => signal.addEventListener('abort', () => res(), { once: true }));
  await Promise.race([done, aborted]);
  return Buffer.concat(chunks);
}
