// The executor runs ExecuteRequests on pooled containers: validate, make sure the image is
// there, take a container (warm or cold), run the program with its deadline, give the
// container back (or replace it), and report what happened as events and as a response.
import { create, isMessage, type MessageInitShape } from '@bufbuild/protobuf';
import { randomUUID } from 'node:crypto';
import {
  ArtifactSchema,
  ExecuteEventSchema,
  ExecuteRequestSchema,
  ExecuteResponseSchema,
  Phase,
  type Artifact,
  type ContainerInfo,
  type DisplayOutput,
  type DockerBackendConfig,
  type InputFile,
  type ExecuteEvent,
  type ExecuteRequest,
  type ExecuteResponse,
} from '../../../shared/gen/loom/v1/docker_pb';
import type Docker from 'dockerode';
import { SANDBOX_USER, withLoomModuleDirs } from './container/container';
import { listManaged, removeAndWait, resolveRef } from './pool/containers';
import { NO_ANSWER, within } from './deadline';
import type { EngineAddress } from './engine-client/docker-client';
import { AbortedError, CommandNotFoundError, describeCause, LoomError, ValidationError } from './errors';
import { eventStream, type ExecuteEventStream, type StreamOptions } from './event-stream';
import { ContainerGoneError, ContainerStoppedError, runExec } from './container/exec';
import { describeProcesses } from './container/processes';
import type { Owner } from './pool/labels';
import { runProgram, type ProgramResult } from './container/program';
import { nearTaskLimit } from './container/host-tasks';
import { gvisorHostPidsLimit } from './container/isolation';
import { RunnerDiedError, RunnerUnresponsiveError } from './runner/client';
import type { Acquired, PoolEntry } from './pool/pool';
import { normalizeRequest, WRITABLE_DIR, type NormalizedRequest } from './request/request';
import { isCompiled } from '../../../shared/runtimes';
import { createScheduler, type PrepareHooks, type Scheduler, type SchedulerOptions } from './pool/scheduler';
import { ExecutionTrace } from './tracing/execution-trace';
import { createSessionManager } from './session/manager';
import type { SessionManager } from './session/types';
import { checkRunFiles, FileLimitError, formatBytes, getFile, listFiles, streamIn } from './session/workspace-files';
import { displayLineOf } from './session/display-output';
import { DEFAULT_FILE_LIMITS, mimeOf, workspacePath, type FileLimitsSpec } from './session/workspace-paths';
import { otlpEndpointFromEnv } from './tracing/otlp-url';
import { newTraceId, startSpan, type HostSpan, type TraceSink } from './tracing/tracer';

/** Warm containers found dead in a row before the run gives up (a new one is made past the pool's idle ones). */
const MAX_GONE_RETRIES = 8;

export type ExecuteRequestInput = ExecuteRequest | MessageInitShape<typeof ExecuteRequestSchema>;
export type ExecuteEventInput = MessageInitShape<typeof ExecuteEventSchema>['event'];

export interface ExecuteOptions {
  /** Every event of the run as it happens: phases, pull progress, install lines, output, done. */
  onEvent?: (event: ExecuteEvent) => void;
  /** Cancels the run: the program is killed and the call rejects with AbortedError. */
  signal?: AbortSignal;
  /**
   * Each artifact of a run that names an output_dir, streamed out of the container before its
   * clean-up (the response lists them all). Without it they are listed only.
   */
  onArtifact?: (artifact: Artifact, content: AsyncIterable<Buffer>) => Promise<void>;
}

export interface Executor {
  /** The engine client this executor's containers live on (listing, live figures, pruning). */
  readonly docker: Docker;
  /** The engine's address. */
  readonly engine: EngineAddress;
  /** This Loom process as its containers' owner labels name it. */
  readonly owner: Owner;
  execute(request: ExecuteRequestInput, options?: ExecuteOptions): Promise<ExecuteResponse>;
  /**
   * The same run as a stream of events; the last one is `done` with the response. Leaving the
   * loop early cancels the run. Output is held up to a bound for a slow consumer (see event-stream.ts).
   */
  stream(request: ExecuteRequestInput, options?: StreamOptions): ExecuteEventStream;
  /** Starts `count` containers for a request's config ahead of time. */
  prewarm(request: ExecuteRequestInput, count?: number): Promise<void>;
  containers(): ContainerInfo[];
  /** The pool key a request's containers are kept under (ContainerInfo.poolKey). */
  poolKey(request: ExecuteRequestInput): string;
  /**
   * Removes a container Loom manages, this executor's or another Loom process's, named as
   * resolveRef reads names (ValidationError('id') otherwise), and waits until the engine no
   * longer has it (RemovalTimeoutError past REMOVAL_WAIT_MS).
   */
  removeContainer(ref: string): Promise<void>;
  /** Stateful sessions (their own containers, kernels, files): see session/types.ts. */
  readonly sessions: SessionManager;
  /**
   * Removes every container this executor's scheduler created (when it owns the scheduler), and
   * the sessions it created unless keepSessionsOnClose.
   */
  close(): Promise<void>;
}

export interface ExecutorOptions extends SchedulerOptions {
  /** Share a scheduler (and its pool) between executors; it is then not closed with this one. */
  scheduler?: Scheduler;
  /** Where every finished trace goes besides the response (e.g. a MemorySink for the app). */
  traceSinks?: TraceSink[];
  /**
   * An OTLP/HTTP collector to send traces to (Jaeger, Tempo, any OpenTelemetry collector).
   * Default: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT; '' turns it off.
   */
  otlpEndpoint?: string;
  /** Spans kept per execution; those past it are counted in dropped_spans. Default 250,000. */
  maxSpansPerExecution?: number;
  /** Leave the sessions this executor created running on close, until their TTL (the CLI). */
  keepSessionsOnClose?: boolean;
  /** How often sessions are checked against their idle TTL. Default 5 s. */
  sessionSweepIntervalMs?: number;
  /** Limits on the files a request brings (ExecuteRequest.files) and the artifacts it takes out. */
  fileLimits?: Partial<FileLimitsSpec>;
}

/**
 * What createExecutor makes: an Executor that also hands out its scheduler, for another
 * executor to share (ExecutorOptions.scheduler). Code that only runs requests takes an Executor.
 */
export interface SchedulingExecutor extends Executor {
  readonly scheduler: Scheduler;
}

export async function createExecutor(options: ExecutorOptions = {}): Promise<SchedulingExecutor> {
  const ownsScheduler = !options.scheduler;
  const scheduler = options.scheduler ?? (await createScheduler(options));
  const running = new Set<Promise<unknown>>();
  const sinks = [...(options.traceSinks ?? [])];
  const otlpEndpoint = options.otlpEndpoint ?? otlpEndpointFromEnv(process.env);
  // OpenTelemetry's modules (a fifth of a `loom exec`'s start-up) only when traces go somewhere.
  if (otlpEndpoint) sinks.push(new (await import('./tracing/otlp')).OtlpSink({ endpoint: otlpEndpoint, onError: options.onError }));
  const tracing: TracingOptions = { sinks, maxSpans: options.maxSpansPerExecution, fileLimits: { ...DEFAULT_FILE_LIMITS, ...options.fileLimits } };
  const sessions = createSessionManager({ scheduler, sinks, maxSpans: options.maxSpansPerExecution, sweepIntervalMs: options.sessionSweepIntervalMs, onError: options.onError });

  const execute = async (input: ExecuteRequestInput, opts: ExecuteOptions = {}): Promise<ExecuteResponse> => {
    const request = isMessage(input, ExecuteRequestSchema) ? input : create(ExecuteRequestSchema, input);
    const run = executeOnce(scheduler, normalizeRequest(request, scheduler.policy), runFilesOf(request, tracing.fileLimits), opts, tracing);
    running.add(run);
    try {
      return await run;
    } finally {
      running.delete(run);
    }
  };

  const toRequest = (input: ExecuteRequestInput): ExecuteRequest => (isMessage(input, ExecuteRequestSchema) ? input : create(ExecuteRequestSchema, input));

  return {
    scheduler,
    docker: scheduler.docker,
    engine: scheduler.engine,
    owner: scheduler.owner,
    execute,
    sessions,
    stream: (input, opts = {}) => eventStream((onEvent, signal) => execute(input, { onEvent, signal }), opts),
    async prewarm(input, count = 1) {
      const request = isMessage(input, ExecuteRequestSchema) ? input : create(ExecuteRequestSchema, input);
      const { container, lifecycle } = normalizeRequest(withPlaceholderCommand(request), scheduler.policy);
      await scheduler.prewarm(container, lifecycle, count);
    },
    containers: () => scheduler.containers(),
    poolKey(input) {
      const { container, lifecycle } = normalizeRequest(withPlaceholderCommand(toRequest(input)), scheduler.policy);
      return scheduler.poolKey(container, lifecycle);
    },
    async removeContainer(ref) {
      const own = scheduler.containers();
      const ownIds = new Set(own.map((c) => c.id));
      // Only Loom's containers: a reference never reaches anything else on the engine.
      const candidates = [...own, ...(await listManaged(scheduler.docker)).filter((c) => !ownIds.has(c.id))];
      const { found, problem } = resolveRef(ref, candidates, 'container managed by Loom');
      if (!found) throw new ValidationError('id', problem);
      await scheduler.removeContainer(found.id);
      await removeAndWait(scheduler.docker, found.id);
    },
    async close() {
      await sessions.shutdown({ keep: options.keepSessionsOnClose });
      if (ownsScheduler) await scheduler.close();
      await Promise.allSettled([...running]);
      await Promise.allSettled(sinks.map((sink) => sink.shutdown()));
    },
  };
}

interface TracingOptions {
  sinks: TraceSink[];
  maxSpans?: number;
  fileLimits: FileLimitsSpec;
}

/** What a run brings into its container and takes out (ExecuteRequest.files, output_dir). */
interface RunFiles {
  files: InputFile[];
  /** Relative to /tmp; undefined: no artifacts are collected. */
  outputDir?: string;
  limits: FileLimitsSpec;
}

function runFilesOf(request: ExecuteRequest, limits: FileLimitsSpec): RunFiles {
  checkRunFiles(request.files, limits);
  return { files: request.files, outputDir: request.outputDir ? workspacePath(request.outputDir, 'output_dir') : undefined, limits };
}

async function executeOnce(
  scheduler: Scheduler,
  req: NormalizedRequest,
  files: RunFiles,
  opts: ExecuteOptions,
  tracing: TracingOptions,
): Promise<ExecuteResponse> {
  const started = performance.now();
  const emit = (event: ExecuteEventInput): void => {
    opts.onEvent?.(create(ExecuteEventSchema, { event }));
  };
  const phase = (p: Phase, detail: string): void => emit({ case: 'phase', value: { phase: p, detail } });
  // Under a caller's span (traceparent), the run joins the caller's trace: its root span is a
  // child of that span, so a viewer holding both shows the run nested in the caller's work.
  const parent = req.traceParent;
  const trace = new ExecutionTrace(parent?.traceId ?? newTraceId(), (spans) => emit({ case: 'spans', value: { spans } }), tracing.maxSpans);
  const root = startSpan('docker.execute', {
    traceId: trace.traceId,
    parentSpanId: parent?.spanId,
    attributes: {
      'loom.runtime': req.container.runtime,
      'loom.image': req.container.image,
      'loom.isolation': req.container.isolation,
      'loom.config_name': req.container.name,
      'loom.command': req.run.argv[0] ?? '',
    },
  });
  const end = (span: HostSpan, status?: 'ok' | 'error', message?: string): void => trace.add(span.end(status, message));
  const timings = { imageMs: 0, containerMs: 0, packagesMs: 0, runMs: 0, compileMs: 0 };
  // Set from the hooks while a container is prepared (hence an object, not a narrowed local).
  const preparing: { packages?: HostSpan } = {};
  const hooks: PrepareHooks = {
    signal: opts.signal,
    onPull: (p) => emit({ case: 'pull', value: p }),
    onInstallLog: (line) => emit({ case: 'installLog', value: line }),
    onPhase: (p, detail) => {
      if (p === 'packages') {
        preparing.packages = root.child('docker.packages', { 'loom.packages': detail });
        phase(Phase.PACKAGES, detail);
      } else if (p === 'container' && detail === 'creating') {
        phase(Phase.CONTAINER, 'cold start: creating a container');
      }
    },
  };

  try {
    // What the engine cannot give (gVisor without runsc) fails here, before any pull or create.
    await scheduler.check(req.container);
    let t = performance.now();
    phase(Phase.IMAGE, req.container.image);
    const image = root.child('docker.image', { 'loom.image': req.container.image });
    const { pulled } = await scheduler.ensureImage(req.container.image, hooks).catch((err: unknown) => {
      end(image, 'error', String(err));
      throw err;
    });
    end(image.setAttribute('loom.pulled', pulled), 'ok');
    timings.imageMs = performance.now() - t;

    // A warm container that died since its last use (killed or removed from outside, an
    // engine restart) is replaced transparently: the caller never sees it.
    for (let attempt = 0; ; attempt++) {
      t = performance.now();
      phase(Phase.CONTAINER, 'acquiring');
      const acquiring = root.child('docker.container');
      preparing.packages = undefined as HostSpan | undefined;
      const acquired = await scheduler.acquire(req.container, req.lifecycle, hooks).catch((err: unknown) => {
        if (preparing.packages) end(preparing.packages, 'error', String(err));
        end(acquiring, 'error', String(err));
        throw err;
      });
      const now = performance.now();
      if (preparing.packages) {
        const span = preparing.packages.end('ok');
        trace.add(span);
        timings.packagesMs = Number(span.endTimeUnixNano - span.startTimeUnixNano) / 1e6;
      }
      timings.containerMs = now - t - timings.packagesMs;
      end(
        acquiring
          .setAttribute('loom.cold_start', acquired.created)
          .setAttribute('loom.container_id', acquired.entry.id)
          .setAttribute('loom.container_name', acquired.entry.name),
        'ok',
      );
      phase(Phase.CONTAINER, `${acquired.created ? 'cold' : 'warm'} ${acquired.entry.name}`);
      try {
        const response = await runOn({ scheduler, acquired, req, files, onArtifact: opts.onArtifact, signal: opts.signal, emit, timings, started, trace, root });
        end(root, response.timedOut || response.exitCode !== 0 ? 'error' : 'ok', outcome(response));
        trace.complete(response);
        emit({ case: 'done', value: response });
        return response;
      } catch (err) {
        // Several warm containers may have died together (an engine restart): try the next,
        // up to a bound. A new container that is already gone is reported, not retried; one
        // whose runner wedged before the program started is tried once more.
        const wedged = err instanceof ContainerGoneError && err.cause instanceof RunnerUnresponsiveError;
        if (err instanceof ContainerGoneError && attempt < MAX_GONE_RETRIES && (!acquired.created || (wedged && attempt === 0))) {
          // Said, not hidden: the trace and the phases tell why the run moved to another container.
          const why = `${acquired.entry.name} replaced: ${err.message}`;
          root.setAttribute('loom.container_replaced', why);
          phase(Phase.CONTAINER, why);
          continue;
        }
        if (wedged) throw new LoomError(`${err.message}; the container is replaced`, { cause: err });
        if (err instanceof ContainerGoneError) throw new ContainerStoppedError(`the container is not running (stopped or removed from outside Loom): ${err.message}`, { cause: err });
        throw err;
      }
    }
  } catch (err) {
    end(root, 'error', err instanceof Error ? `${err.name}: ${err.message}` : String(err));
    trace.deliver();
    throw err;
  } finally {
    for (const sink of tracing.sinks) sink.export(trace.spans);
  }
}

/** What runOn needs from the execution it is a part of. */
interface RunOnArgs {
  scheduler: Scheduler;
  acquired: Acquired;
  req: NormalizedRequest;
  files: RunFiles;
  onArtifact?: ExecuteOptions['onArtifact'];
  signal?: AbortSignal;
  emit: (event: ExecuteEventInput) => void;
  /** Filled in as the phases end; runMs by runOn. */
  timings: { imageMs: number; containerMs: number; packagesMs: number; runMs: number; compileMs: number };
  /** performance.now() when the execution began. */
  started: number;
  trace: ExecutionTrace;
  /** The execution's root span, parent of the run's. */
  root: HostSpan;
}

async function runOn({ scheduler, acquired: { entry, created }, req, files, onArtifact, signal, emit, timings, started, trace, root }: RunOnArgs): Promise<ExecuteResponse> {
  let healthy = false;
  let timedOut = false;
  const executionId = randomUUID();
  // The trace library appends finished spans to this file; the runner (or the agent) carries
  // them out live.
  const spanFile = `${WRITABLE_DIR}/.loom-spans-${executionId}.jsonl`;
  const run = root.child('docker.run', { 'loom.command': req.run.argv[0] ?? '', 'loom.container_id': entry.id });
  // A source program's compile, when the runner has no build of it: its own phase and span.
  const compiling: { span?: HostSpan } = {};
  const language = req.run.source?.language;
  // A compiled language's source may compile first: its phase is known once the runner says.
  const mayCompile = language !== undefined && isCompiled(language);
  // The memory limit reached by the container as a whole: under gVisor it holds for the
  // sandbox (its kernel and every process), so the host's OOM killer ends all of it, not the
  // one process. The program's own doing: reported as its OOM kill (with what output reached
  // the host), and the container is replaced.
  const sandboxOom = (via: 'runner' | 'exec', stdout: Uint8Array): ExecuteResponse => {
    const durationMs = performance.now() - started;
    trace.add(run.end('error', 'out of memory: the container was killed'));
    emit({ case: 'phase', value: { phase: Phase.DONE, detail: 'exit 137 (out of memory)' } });
    return create(ExecuteResponseSchema, {
      exitCode: 137,
      oomKilled: true,
      durationMs,
      containerId: entry.id,
      containerCreated: created,
      timings,
      stdout,
      stderr: new TextEncoder().encode(`loom: the sandbox ran out of memory (limit ${entry.spec.memoryMb} MB) and was killed as a whole; the rest of its output is lost\n`),
      usage: { wallMs: durationMs, via },
    });
  };
  try {
    if (files.files.length) {
      const upload = run.child('docker.files', { 'loom.files': files.files.length });
      for (const f of files.files) await streamIn(entry.container, workspacePath(f.path), f.content.length, f.content);
      trace.add(upload.end('ok'));
    }
    const artifacts: Artifact[] = [];
    const outputs: DisplayOutput[] = [];
    const outputDir = files.outputDir;
    if (!mayCompile) emit({ case: 'phase', value: { phase: Phase.RUNNING, detail: req.run.argv[0] ?? '' } });
    let result: ProgramResult;
    try {
      result = await runProgram(entry, {
        argv: req.run.argv,
        env: {
          // A PYTHONPATH/NODE_PATH of the request's replaces the container's, so Loom's module dirs are added to it.
          ...withLoomModuleDirs(req.run.env),
          LOOM_EXECUTION_ID: executionId,
          TRACEPARENT: `00-${trace.traceId}-${root.spanId}-01`,
          LOOM_TRACE_ID: trace.traceId,
          LOOM_SPAN_ID: root.spanId,
          LOOM_TRACE_FILE: spanFile,
        },
        workingDir: req.run.workingDir,
        stdin: req.run.stdin,
        maxOutputBytes: req.run.maxOutputBytes,
        timeoutMs: req.run.timeoutMs,
        signal,
        onOutput: (kind, chunk) => emit({ case: kind, value: chunk }),
        source: req.run.source,
        onStarted: (compile) => {
          if (!mayCompile) return;
          if (!compile) {
            emit({ case: 'phase', value: { phase: Phase.RUNNING, detail: `${language}, cached build` } });
            return;
          }
          compiling.span = root.child('docker.compile', { 'loom.language': language });
          emit({ case: 'phase', value: { phase: Phase.COMPILE, detail: `compiling ${language}` } });
        },
        onCompiled: (compileMs) => {
          if (compiling.span) trace.add(compiling.span.setAttribute('loom.compile_ms', compileMs).end('ok'));
          emit({ case: 'phase', value: { phase: Phase.RUNNING, detail: language ?? '' } });
        },
        spans: {
          id: executionId,
          file: spanFile,
          onLine: (line) => {
            const output = displayLineOf(line);
            if (output) outputs.push(output);
            else trace.addContainerLine(line);
          },
          onOversized: (count) => (trace.malformed += count),
        },
        beforeClean: outputDir === undefined ? undefined : () => collectArtifacts(entry, outputDir, files.limits, artifacts, onArtifact),
      });
    } catch (err) {
      // The program never ran (a missing command, a bad working directory): the container is fine.
      if (err instanceof CommandNotFoundError || err instanceof ValidationError) healthy = true;
      // The container died between runs (killed, removed from outside): nothing ran, so the
      // caller may take another container.
      if (err instanceof RunnerDiedError && !err.programStarted && !(err instanceof RunnerUnresponsiveError)) throw new ContainerGoneError(err.message, { cause: err });
      if (err instanceof RunnerDiedError) {
        // The runner died (or went silent) because its container did (killed, paused, removed, engine gone)?
        const stopped = await stoppedDuringRun(entry);
        if (!stopped && err instanceof RunnerUnresponsiveError) {
          // Silent in a container that still runs: what its processes are doing says why (one
          // stopped, one busy, or no answer at all: the sandbox is stuck).
          const seen = `${err.message}; its container's processes: ${await describeProcesses(entry.container)}`;
          if (!err.programStarted) throw new ContainerGoneError(seen, { cause: err });
          throw new LoomError(`${seen}; the container is replaced`, { cause: err });
        }
        if (!err.programStarted) throw new ContainerGoneError(err.message, { cause: err });
        // The memory limit reached by the container as a whole (gVisor's sandbox, see sandboxOom).
        if (stopped && (await wasOomKilled(entry))) return sandboxOom('runner', Buffer.alloc(0));
        if (stopped) throw new ContainerStoppedError(stopped, { cause: err });
        const oom = await sawOomKill(entry);
        throw new LoomError(
          oom
            ? `the sandbox ran out of memory (limit ${entry.spec.memoryMb} MB) and the in-container runner was killed; the container is replaced`
            : 'the in-container runner died during the run (killed by the program?); the container is replaced',
          { cause: err },
        );
      }
      throw err;
    }
    // docker exec in a sandbox killed as a whole ends with 128 or 137, and no clean-up could run.
    if (!result.containerIntact && !result.timedOut && !result.aborted && result.exitCode !== 0 && (await wasOomKilled(entry))) {
      return sandboxOom(result.usage.via, result.stdout);
    }
    timings.compileMs = result.compileMs ?? 0;
    timings.runMs = result.durationMs - timings.compileMs;
    if (compiling.span && !compiling.span.ended) trace.add(compiling.span.end('error', result.timedOut ? 'the compile timed out' : `the compiler exited with ${result.exitCode}`));
    if (req.run.source) run.setAttribute('loom.compile_cached', result.compileCached ?? false).setAttribute('loom.compile_error', result.compileError ?? false);
    const faults = result.usage.faults;
    // The kernel's count of page faults from RUN to EXIT: the cost that differs most between
    // machines (cheap on bare metal, ~15 us each in some VMs), so measured as a count.
    if (faults) run.setAttribute('loom.page_faults', faults.minor + faults.major).setAttribute('loom.runner_page_faults', faults.runner);
    trace.add(
      run
        .setAttribute('loom.exit_code', result.exitCode)
        .setAttribute('loom.timed_out', result.timedOut)
        .setAttribute('loom.via', result.usage.via)
        .setAttribute('loom.cpu_ms', result.usage.cpuMs)
        .setAttribute('loom.peak_memory_kb', Number(result.usage.peakMemoryKb))
        .end(result.exitCode === 0 ? 'ok' : 'error', result.compileError ? 'compile error' : result.timedOut ? 'timed out' : `exit code ${result.exitCode}`),
    );
    healthy = result.containerIntact;
    timedOut = result.timedOut;
    if (result.aborted) throw new AbortedError('the execution was cancelled');
    const oomKilled = result.exitCode === 137 && !result.timedOut && (result.oomKilled ?? (await sawOomKill(entry)));
    // A SIGKILL that neither the deadline nor the memory limit sent: the program's own, or
    // its container's end. docker exec reports 128 when the whole sandbox ended under it (a
    // fork bomb past gVisor's host pids backstop) and no clean-up could run after it.
    const sandboxEnded = result.exitCode === 128 && !result.containerIntact;
    if ((result.exitCode === 137 || sandboxEnded) && !result.timedOut && !oomKilled) {
      const stopped = await stoppedDuringRun(entry);
      if (stopped) {
        healthy = false;
        throw new ContainerStoppedError(stopped);
      }
    }
    emit({ case: 'phase', value: { phase: Phase.DONE, detail: result.compileError ? 'compile error' : result.timedOut ? 'timed out' : `exit ${result.exitCode}` } });
    return create(ExecuteResponseSchema, {
      exitCode: result.exitCode,
      stdout: result.stdout,
      stderr: result.stderr,
      durationMs: performance.now() - started,
      containerId: entry.id,
      containerCreated: created,
      timedOut: result.timedOut,
      truncated: result.stdoutTruncated || result.stderrTruncated,
      stdoutTruncated: result.stdoutTruncated,
      stderrTruncated: result.stderrTruncated,
      oomKilled,
      timings,
      usage: result.usage,
      outputs,
      artifacts,
      compileError: result.compileError ?? false,
      compileCached: result.compileCached ?? false,
    });
  } finally {
    if (compiling.span && !compiling.span.ended) trace.add(compiling.span.end('error', 'the run did not complete'));
    if (!run.ended) trace.add(run.end('error', 'the run did not complete'));
    if (healthy && entry.spec.isolation === 'gvisor') healthy = !(await nearTaskLimit(entry.container, gvisorHostPidsLimit(entry.spec.pidsLimit), timedOut));
    scheduler.release(entry, healthy);
  }
}

/**
 * A stateless run's artifacts: every file under its output directory (the run started from an
 * empty /tmp), listed and streamed to onArtifact before the clean-up. Over a limit: an error
 * naming the file and the limit, never a shorter list.
 */
async function collectArtifacts(entry: PoolEntry, outputDir: string, limits: FileLimitsSpec, out: Artifact[], onArtifact: ExecuteOptions['onArtifact']): Promise<void> {
  const found = await listFiles(entry.container, outputDir).catch((err: unknown) => {
    if (err instanceof Error && err.name === 'FileError') return []; // no output directory: no artifacts
    throw err;
  });
  const files = found.filter((f) => !f.isDir);
  if (files.length > limits.maxFiles) throw new FileLimitError(`${outputDir}/ (${files.length} files)`, 'max_files', limits.maxFiles, 'the run left more artifacts than the limit on their number');
  let total = 0;
  for (const f of files) {
    const size = Number(f.size);
    if (size > limits.maxFileBytes) throw new FileLimitError(f.path, 'max_file_bytes', limits.maxFileBytes, `the artifact is ${formatBytes(size)}, over the limit per file`);
    total += size;
    if (total > limits.maxTotalBytes) throw new FileLimitError(f.path, 'max_total_bytes', limits.maxTotalBytes, `the artifacts come to ${formatBytes(total)} with this one, over the total limit`);
  }
  for (const f of files) {
    const artifact = create(ArtifactSchema, { path: f.path, size: f.size, mime: mimeOf(f.path) });
    out.push(artifact);
    if (onArtifact) {
      const { content } = await getFile(entry.container, f.path);
      await onArtifact(artifact, content);
    }
  }
}

/**
 * Whether the memory cgroup's OOM killer fired since the container's last check. Asked only
 * after a SIGKILL exit, so a normal run pays nothing for it.
 */
const oomKillsSeen = new WeakMap<PoolEntry, number>();
/** Whether the engine recorded the container's end as the memory limit's kill. */
async function wasOomKilled(entry: PoolEntry): Promise<boolean> {
  return entry.container.inspect().then(
    (i) => !i.State.Running && i.State.OOMKilled,
    () => false,
  );
}

async function sawOomKill(entry: PoolEntry): Promise<boolean> {
  try {
    const result = await runExec(entry.container, {
      argv: ['cat', '/sys/fs/cgroup/memory/memory.oom_control', '/sys/fs/cgroup/memory.events'],
      user: SANDBOX_USER,
      maxOutputBytes: 4096,
      timeoutMs: 10_000,
    });
    const count = Number(/oom_kill (\d+)/.exec(result.stdout.toString('utf8'))?.[1] ?? 0);
    const seen = oomKillsSeen.get(entry) ?? 0;
    oomKillsSeen.set(entry, count);
    return count > seen;
  } catch {
    return false;
  }
}

/**
 * Why the container can no longer run the program (it stopped, was paused or removed, or the
 * engine stopped answering), or undefined when it still runs. The engine may take a moment
 * to record a container's end after its streams closed: asked a few times over ~500 ms.
 */
async function stoppedDuringRun(entry: PoolEntry): Promise<string | undefined> {
  for (let i = 0; ; i++) {
    let state: { Running: boolean; Paused: boolean; OOMKilled: boolean; ExitCode: number };
    try {
      const inspected = await within(entry.container.inspect(), 5_000);
      if (inspected === NO_ANSWER) throw new Error('no answer within 5 s');
      state = inspected.State;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return 'the container was removed (from outside Loom) while the program ran; a new one serves the next run';
      return `the container stopped answering while the program ran: the Docker engine did not answer (${describeCause(err)}); a new container serves the next run`;
    }
    if (state.Paused) return 'the container was paused (from outside Loom) while the program ran; it is replaced';
    if (!state.Running) {
      // A runner that is the main process takes the container with it, whoever killed it.
      const why = state.OOMKilled
        ? 'out of memory'
        : entry.spec.isolation === 'gvisor' && state.ExitCode !== 137 && state.ExitCode !== 143
          ? // runsc ends a sandbox that cannot make the host tasks behind its processes (a fork
            // bomb past the engine's pids limit: isolation.ts gvisorHostPidsLimit), exit 2.
            `the gVisor sandbox ended, exit ${state.ExitCode}: its processes may have gone past the container's process limit`
          : entry.runner?.isMainProcess
          ? `the runner died, and the container ends with it: killed by the program, the OOM killer or from outside Loom; exit ${state.ExitCode}`
          : `killed from outside Loom or by the engine, exit ${state.ExitCode}`;
      return `the container stopped while the program ran (${why}); a new one serves the next run`;
    }
    if (i >= 5) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** How a run ended, for its root span's status message. */
function outcome(response: ExecuteResponse): string {
  if (response.compileError) return response.timedOut ? 'the compile timed out' : 'compile error';
  return response.timedOut ? 'timed out' : `exit code ${response.exitCode}`;
}

/** prewarm needs only the container part of a request; a command may be absent there. */
function withPlaceholderCommand(request: ExecuteRequest): ExecuteRequest {
  return request.command.length || request.source ? request : { ...request, command: ['true'] };
}

export type { DockerBackendConfig };
