// Running the program of one execution in a pooled container: through the in-container runner
// when it is there (a few milliseconds, the timeout kills the program's process group), else
// through docker exec (the timeout kills the whole container, which the pool then replaces).
import { ContainerAgent, type WatchHandlers } from './agent';
import { SANDBOX_USER } from './container';
import { CommandNotFoundError, LoomError, ValidationError } from '../errors';
import { ContainerGoneError, runExec, type ExecResult } from './exec';
import type { StreamKind } from './output';
import type { PoolEntry } from '../pool/pool';
import { RunnerRequestError, type PageFaults, type RunnerClient } from '../runner/client';
import type { SourceSpec } from '../request/request';
import { SpanLineSplitter } from '../tracing/span-lines';

/** Where the program's trace library writes its spans, and who gets them as they come. */
export interface SpanTarget extends WatchHandlers {
  /** Unique per execution. */
  id: string;
  file: string;
}

export interface ProgramOptions {
  argv: string[];
  /** The request's env plus Loom's own (trace context); the image's env comes underneath. */
  env: Record<string, string>;
  workingDir: string;
  stdin: Uint8Array;
  timeoutMs: number;
  maxOutputBytes: number;
  signal?: AbortSignal;
  onOutput: (kind: StreamKind, chunk: Buffer) => void;
  spans: SpanTarget;
  /**
   * Called after the program ends and before the clean-up empties /tmp (to collect artifacts).
   * The program then runs by docker exec, where the host (not the runner) starts the clean-up;
   * a program that timed out or was cancelled takes its container with it, and this is not called.
   */
  beforeClean?: () => Promise<void>;
  /** A source program: run by the runner (compiled first where its language is), never by exec. */
  source?: SourceSpec;
  onStarted?: (compiling: boolean) => void;
  onCompiled?: (compileMs: number) => void;
}

/** A run by either path: what a docker exec run reports, plus its usage and the container's state. */
export interface ProgramResult extends ExecResult {
  usage: { wallMs: number; cpuMs: number; peakMemoryKb: bigint; via: 'runner' | 'exec'; faults?: PageFaults | null };
  /** Whether the container is fit for another run afterwards. */
  containerIntact: boolean;
  /** Whether the OOM killer fired, where the runner could tell (docker exec cannot). */
  oomKilled?: boolean;
  /** A source program that did not compile (stderr has the diagnostics; nothing ran). */
  compileError?: boolean;
  compileMs?: number;
  compileCached?: boolean;
}

export async function runProgram(entry: PoolEntry, opts: ProgramOptions): Promise<ProgramResult> {
  if (entry.runner?.alive && !opts.beforeClean) {
    try {
      return await viaRunner(entry.runner, opts);
    } catch (err) {
      if (!(err instanceof RunnerRequestError)) throw err;
      if (err.code === 'not_found' || err.code === 'not_executable') throw new CommandNotFoundError(opts.argv[0] ?? '', entry.spec.image);
      if (err.code === 'bad_cwd') throw new ValidationError('working_dir', err.message);
      // A container whose writable space a previous program filled, or whose clean-up after the
      // last run failed: nothing ran; take another (this one is retired).
      if (err.code === 'exhausted' || err.code === 'unclean') throw new ContainerGoneError(err.message, { cause: err });
      // Anything else the runner refuses, plain docker exec may still manage.
      if (opts.source) throw new LoomError(`the runner could not run the ${opts.source.language} program: ${err.message}`, { cause: err });
    }
  }
  if (opts.source) {
    throw new ValidationError('source', `a ${opts.source.language} program given as source needs Loom's runner, which needs python3 in the image; ${entry.spec.image} has none: use an image built on ${entry.spec.runtime}'s (README, "Languages") or give a command`);
  }
  return viaExec(entry, opts);
}

async function viaRunner(runner: RunnerClient, opts: ProgramOptions): Promise<ProgramResult> {
  // The runner follows the span file itself: no round trip to the agent, no second process.
  const lines = new SpanLineSplitter(opts.spans.onLine, () => opts.spans.onOversized(1));
  const r = await runner.run({
    argv: opts.argv,
    env: { ...runner.baseEnv, ...opts.env },
    cwd: opts.workingDir,
    stdin: opts.stdin,
    timeoutMs: opts.timeoutMs,
    maxOutputBytes: opts.maxOutputBytes,
    signal: opts.signal,
    onOutput: opts.onOutput,
    spanFile: opts.spans.file,
    onSpans: (chunk) => lines.push(chunk),
    source: opts.source && { text: opts.source.text, language: opts.source.language, compileTimeoutMs: opts.source.compileTimeoutMs },
    onStarted: opts.onStarted,
    onCompiled: opts.onCompiled,
  });
  lines.end();
  return {
    ...r,
    usage: { wallMs: r.wallMs, cpuMs: r.cpuMs, peakMemoryKb: BigInt(Math.round(r.peakRssKb)), via: 'runner', faults: r.faults },
    // A runner that could not make itself undumpable may have been changed by the program: its
    // container serves no other. (The clean-up is the runner's: a failed one refuses the next RUN.)
    containerIntact: runner.info.undumpable,
  };
}

/** loom-init --clean's own bound is 2 s; this one also covers the exec around it. */
const CLEAN_EXEC_TIMEOUT_MS = 15_000;

const RUNTIME_FAILURE = /^(OCI runtime exec failed|crun: |runc: )/;

// What runc and crun print when the program of an exec does not exist in the image.
const NOT_FOUND = [
  /exec: "([^"]*)": executable file not found/,
  /exec: "([^"]*)": stat [^:]*: no such file or directory/,
  /executable file [`']([^`']*)[`'] not found/,
];

function commandNotFound(exitCode: number, stdout: string): string | undefined {
  if (exitCode !== 126 && exitCode !== 127) return undefined;
  for (const re of NOT_FOUND) {
    const m = re.exec(stdout);
    if (m) return m[1] ?? '';
  }
  return undefined;
}

async function viaExec(entry: PoolEntry, opts: ProgramOptions): Promise<ProgramResult> {
  // No runner here (none in this image, or it refused the request): the agent carries the
  // spans out. It is started on first need, and reads the span file from its start, so nothing
  // written before it is up is lost.
  if (!entry.agent || entry.agent.broken) entry.agent = new ContainerAgent(entry.container, entry.spec.runtime);
  const agent = entry.agent;
  // Not beside a program until it has made itself undumpable (its interpreter starts dumpable):
  // a program could attach to it in that moment. Only a container's first exec'd run waits.
  await Promise.all([agent.whenReady(), entry.initState === undefined ? readInitState(entry) : undefined]);
  agent.watch(opts.spans.id, opts.spans.file, opts.spans);
  try {
    return await execWithSpans(entry, opts, agent);
  } catch (err) {
    void agent.flush(opts.spans.id); // ends the watch
    throw err;
  }
}

async function execWithSpans(entry: PoolEntry, opts: ProgramOptions, agent: ContainerAgent): Promise<ProgramResult> {
  let firstChunkSeen = false;
  let heldBack: Buffer | undefined;
  // Under gVisor the sandbox can end as a whole while docker exec's stream stays open: the
  // container's end is watched too (one more request held open, on this path only).
  const watch = entry.spec.isolation === 'gvisor' ? new AbortController() : undefined;
  const containerEnd = watch && entry.container.wait({ condition: 'not-running', abortSignal: watch.signal }).catch(() => new Promise<never>(() => undefined));
  const result = await runExec(entry.container, {
    containerEnd,
    argv: opts.argv,
    env: opts.env,
    user: SANDBOX_USER,
    workingDir: opts.workingDir,
    stdin: opts.stdin,
    maxOutputBytes: opts.maxOutputBytes,
    timeoutMs: opts.timeoutMs,
    signal: opts.signal,
    // Docker cannot kill an exec: killing the container ends the program and everything it
    // started; the pool then replaces the container.
    kill: () => entry.container.kill().then(() => undefined),
    onOutput: (kind, chunk) => {
      // The runtime's own "no such command" message arrives on stdout before the exit code
      // that proves it: hold it back until then, so it never shows as the program's output.
      if (kind === 'stdout' && !firstChunkSeen && RUNTIME_FAILURE.test(chunk.toString('utf8', 0, 64))) heldBack = chunk;
      else opts.onOutput(kind, chunk);
      if (kind === 'stdout') firstChunkSeen = true;
    },
  }).finally(() => watch?.abort());
  const missing = result.timedOut || result.aborted ? undefined : commandNotFound(result.exitCode, result.stdout.toString('utf8'));
  if (missing !== undefined) throw new CommandNotFoundError(missing || (opts.argv[0] ?? ''), entry.spec.image);
  if (heldBack) opts.onOutput('stdout', heldBack);
  // A timed-out or cancelled program's container was killed: it is replaced.
  let containerIntact = !result.timedOut && !result.aborted && !result.containerEnded;
  // Everything the program's spans wrote is in the file by now: collect the rest (not from a
  // container being replaced: its agent is gone, or frozen if it was paused), then clean.
  if (containerIntact) {
    await agent.flush(opts.spans.id);
    try {
      await opts.beforeClean?.();
    } finally {
      containerIntact = await cleanAfterExec(entry);
    }
  }
  return {
    ...result,
    usage: { wallMs: result.durationMs, cpuMs: 0, peakMemoryKb: 0n, via: 'exec' },
    containerIntact,
  };
}

/**
 * Under gVisor every docker exec inherits PID 1's resource limits, and a program (the same user)
 * may lower them, or PID 1's priority: what PID 1 has before the first program is kept, for the
 * clean-up to compare (cleanAfterExec). Under runc each exec takes the container's own, so
 * nothing PID 1 has reaches a program.
 */
async function readInitState(entry: PoolEntry): Promise<void> {
  if (entry.spec.isolation !== 'gvisor' || !entry.init) return;
  try {
    const result = await runExec(entry.container, { argv: [entry.init, '--state', '1'], user: SANDBOX_USER, maxOutputBytes: 64, timeoutMs: CLEAN_EXEC_TIMEOUT_MS });
    const digest = result.stdout.toString('utf8').trim();
    entry.initState = result.exitCode === 0 && /^\d+$/.test(digest) ? digest : null;
  } catch {
    entry.initState = null;
  }
}

/**
 * The clean slate after a program run by docker exec: loom-init --clean, run by exec too, kills
 * whatever the program left (all but the runner and the agent, known by PID and start time),
 * removes its IPC objects and empties the writable places. Whether the container may serve
 * another run: not where it failed, where the container has no loom-init (it cannot be made
 * clean), where a helper of Loom's is dumpable (a program may have changed it), or where PID 1's
 * limits or priority, which later execs inherit, cannot be checked or were changed.
 */
async function cleanAfterExec(entry: PoolEntry): Promise<boolean> {
  if (!entry.init || entry.agent?.process?.undumpable === false || entry.runner?.info.undumpable === false || entry.initState === null) return false;
  const args = [entry.runner?.alive ? entry.runner.info : undefined, entry.agent?.process].flatMap((p) => (p ? ['--keep', `${p.pid}:${p.start}`] : []));
  if (entry.initState) args.push('--state', `1=${entry.initState}`);
  try {
    const result = await runExec(entry.container, {
      argv: [entry.init, '--clean', ...args],
      user: SANDBOX_USER,
      maxOutputBytes: 4096,
      timeoutMs: CLEAN_EXEC_TIMEOUT_MS,
    });
    return result.exitCode === 0 && !result.timedOut;
  } catch {
    return false;
  }
}
