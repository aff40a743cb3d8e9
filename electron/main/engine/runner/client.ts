// The host's end of the in-container runner (resources/runner): one attached exec per pooled
// container, over which programs are run one at a time in a few milliseconds instead of a
// `docker exec` each. See protocol.ts for the frames.
import type Docker from 'dockerode';
import type { Duplex } from 'node:stream';
import type { Runtime } from '../../../../shared/runtimes';
import { SANDBOX_USER } from '../container/container';
import { LoomError } from '../errors';
import { openAttach, openExec } from '../container/exec';
import { CappedBuffer, FrameDemuxer, type StreamKind } from '../container/output';
import { NATIVE_DIR, RESOURCES_DIR } from '../container/resources';
import {
  decodeCompiled,
  decodeError,
  decodeExit,
  decodeReady,
  decodeStarted,
  encodeFrame,
  encodeJsonFrame,
  encodePing,
  FrameParser,
  FrameType,
  MAX_CHUNK,
  PROTOCOL_VERSION,
  type ErrorCode,
  type ExitInfo,
  type Frame,
  type ReadyInfo,
  type RunRequest,
  type SourceLanguage,
} from './protocol';

/** Where the runners are in every sandbox (shipped with the resources volume). */
export const RUNNER_PY = `${RESOURCES_DIR}/runner/loom_runner.py`;
export const RUNNER_JS = `${RESOURCES_DIR}/runner/loom-runner.js`;

/**
 * How a runner is started. keepState: nothing is cleaned between runs. No pooled container has
 * it; the bench starts one to measure what the clean-up costs (bench/clean-slate.ts).
 */
export interface RunnerStartOptions {
  keepState?: boolean;
}

const stateArgs = (opts: RunnerStartOptions): string[] => (opts.keepState ? ['--keep-state'] : []);

/**
 * The runner of a runtime as a container's main process (createOptions `runner`); none for a
 * custom image, which may have neither interpreter.
 */
export function runnerCommand(runtime: Runtime, opts: RunnerStartOptions = {}): string[] | undefined {
  if (runtime === 'node') return ['node', RUNNER_JS, ...stateArgs(opts)];
  if (runtime === 'custom') return undefined;
  // Python's, and the language images' (they ship python3 for it: scripts/build-images.sh).
  return ['python3', RUNNER_PY, ...stateArgs(opts)];
}

/**
 * A container's main command as `docker ps` shows it: loom-init (when PID 1 is Loom's, see
 * container.ts) and whether it runs a runner.
 */
export function parseMainCommand(command: string): { init?: string; runner: boolean } {
  const words = command.split(' ');
  const init = words[0]?.startsWith(`${NATIVE_DIR}/loom-init-`) ? words[0] : undefined;
  const rest = init ? words.slice(words[1] === '--' ? 2 : 1).join(' ') : command;
  return { init, runner: rest === `python3 ${RUNNER_PY}` || rest === `node ${RUNNER_JS}` };
}

/** How long all candidates together may take to say READY before the caller falls back. */
const START_TIMEOUT_MS = 10_000;
/**
 * The runner enforces deadlines itself; this is how long past a deadline (or a KILL) the host
 * waits for EXIT before deciding the runner is wedged.
 */
const UNRESPONSIVE_GRACE_MS = 10_000;
/**
 * How long a runner may answer nothing (no PONG, no frame at all) while a run is under way before
 * it is taken for wedged: stopped (SIGSTOP from the program, which runs as the same user) or in a
 * sandbox that hangs. Well above what a live runner can take: it reads no PING while it cleans
 * up, which is bounded by the clean-up's own wall time (2 s of CPU + 11 s by default; see
 * answerWithinMsFor). Without it a wedged runner held its run until the deadline (300 s).
 */
export const ANSWER_WITHIN_MS = 30_000;

/** ANSWER_WITHIN_MS, or more where the host gave the clean-up a longer bound (LOOM_CLEAN_MS). */
export function answerWithinMsFor(cleanupTimeoutMs: number | undefined): number {
  return Math.max(ANSWER_WITHIN_MS, (cleanupTimeoutMs ?? 0) + 11_000 + 15_000);
}

/**
 * A runner that is the container's main process outlives this process's stream, and gets no EOF
 * when this process dies (killed, crashed): after this long without a PING it kills the program,
 * which would otherwise run to its timeout (300 s by default) for nobody.
 */
export const HOST_SILENCE_MS = 10_000;
/** The runner's own stderr kept for error messages (its crash traceback, say). */
const DIAGNOSTICS_BYTES = 4096;

/**
 * The runner went away while a program ran, or before: killed by the program (it runs as the
 * same user), the OOM killer, a stopped container. The caller should replace the container or
 * start a new runner; this client is no longer `alive`.
 */
export class RunnerDiedError extends LoomError {
  override name = 'RunnerDiedError';
  /** Whether the program had started: if not, running it elsewhere cannot run it twice. */
  programStarted = false;
}

/** The runner answered nothing for answerWithinMs while a program ran or waited to (see ANSWER_WITHIN_MS). */
export class RunnerUnresponsiveError extends RunnerDiedError {
  override name = 'RunnerUnresponsiveError';
}

/** The runner refused the request without running anything (see ErrorCode). */
export class RunnerRequestError extends LoomError {
  override name = 'RunnerRequestError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface RunOptions {
  argv: string[];
  /** The program's whole environment (`baseEnv` plus the request's own, typically). */
  env: Record<string, string>;
  cwd: string;
  /** Written to the program's stdin, which is then closed. */
  stdin?: Uint8Array;
  /** 0 or absent: no deadline. */
  timeoutMs?: number;
  /** Bytes of stdout and of stderr kept in the result (each); onOutput sees everything. */
  maxOutputBytes: number;
  onOutput?: (kind: StreamKind, chunk: Buffer) => void;
  /** Aborting kills the program's process group; the result then says `aborted`. */
  signal?: AbortSignal;
  /** The file the program's trace library writes: its bytes reach onSpans as they are appended. */
  spanFile?: string;
  onSpans?: (chunk: Buffer) => void;
  /**
   * How long the runner may hear nothing from this process while the program runs before it
   * kills the program as orphaned (default HOST_SILENCE_MS); it is pinged a fifth of that apart.
   */
  hostSilenceMs?: number;
  /** How often it is pinged: only tests make it longer than the silence, to play a dead host. */
  pingEveryMs?: number;
  /** A program's source, run (compiled first where its language is) instead of argv. */
  source?: { text: string; language: SourceLanguage; compileTimeoutMs?: number };
  /** The request runs: its compile first (`compiling`: no build of this source to reuse), or the program. */
  onStarted?: (compiling: boolean) => void;
  /** The compile succeeded: the program starts now. */
  onCompiled?: (compileMs: number) => void;
}

export interface RunResult {
  /** The exit status, or 128 + signal number when a signal ended the program. */
  exitCode: number;
  signal: string | null;
  timedOut: boolean;
  aborted: boolean;
  stdout: Buffer;
  stderr: Buffer;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  /** Program start to end, measured in the container by the runner. */
  wallMs: number;
  cpuMs: number;
  peakRssKb: number;
  /** The OOM killer fired during the run (see ExitInfo). */
  oomKilled: boolean;
  /** Page faults from RUN to EXIT (see ExitInfo); null from a runner that does not count them. */
  faults: PageFaults | null;
  /** From sending the request to receiving EXIT, measured on the host. */
  durationMs: number;
  /** The source did not compile: stderr holds the diagnostics, exitCode is the compiler's. */
  compileError: boolean;
  compileMs: number;
  /** A build of the same source was reused. */
  compileCached: boolean;
}

/** The page faults of one run, counted by the kernel (see ExitInfo): the program's, and the runner's own. */
export interface PageFaults {
  minor: number;
  major: number;
  runner: number;
}

interface ActiveRun {
  id: number;
  out: Record<StreamKind, CappedBuffer>;
  onOutput?: (kind: StreamKind, chunk: Buffer) => void;
  onSpans?: (chunk: Buffer) => void;
  onStarted?: (compiling: boolean) => void;
  onCompiled?: (compileMs: number) => void;
  aborted: boolean;
  programStarted: boolean;
  started: number;
  /** When a frame of this run last arrived: a runner still sending output is not wedged. */
  lastFrame: number;
  resolve: (result: RunResult) => void;
  reject: (err: Error) => void;
}


export class RunnerClient {
  private readonly runs = new Map<number, ActiveRun>();
  private nextId = 1;
  private isAlive = true;
  private diagnostics = '';

  /** Whether the runner is its container's main process (its death stops the container). */
  isMainProcess = false;
  /** See ANSWER_WITHIN_MS. */
  answerWithinMs = ANSWER_WITHIN_MS;
  /** When the runner was last heard (any frame, a PONG among them). */
  private heardAt = performance.now();

  private constructor(
    private readonly stream: Duplex,
    readonly info: ReadyInfo,
  ) {}

  /**
   * Starts a runner in the container: the interpreter of its runtime first, then the other one.
   * Resolves null when none says READY within ~10 s (no python3 nor node in the image, a
   * stopped container): the caller then runs programs with `docker exec`.
   */
  static async start(container: Docker.Container, runtime: Runtime): Promise<RunnerClient | null> {
    const python = ['python3', RUNNER_PY];
    const node = ['node', RUNNER_JS];
    const candidates = runtime === 'node' ? [node, python] : [python, node];
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (const argv of candidates) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      const client = await RunnerClient.tryStart(container, argv, remaining).catch(() => null);
      if (client) return client;
    }
    return null;
  }

  private static async tryStart(container: Docker.Container, argv: string[], timeoutMs: number): Promise<RunnerClient | null> {
    const { stream } = await openExec(container, { argv, user: SANDBOX_USER });
    return RunnerClient.over(stream, timeoutMs);
  }

  /**
   * The runner that is the container's main process (created with runnerCommand()). Attached
   * before the container starts (`start`), it is heard from its first READY on; attached to a
   * running container (one another Loom process parked), it is asked for READY again. Null when
   * no READY comes within ~10 s: the runner did not start (the image lacks its interpreter).
   */
  static async attach(container: Docker.Container, start?: () => Promise<unknown>): Promise<RunnerClient | null> {
    const stream = await openAttach(container);
    const ready = RunnerClient.over(stream, START_TIMEOUT_MS);
    if (start) await start().catch((err: unknown) => {
      stream.destroy();
      throw err;
    });
    else stream.write(encodeFrame(FrameType.HELLO, 0));
    const client = await ready;
    if (client) client.isMainProcess = true;
    return client;
  }

  /** Waits for READY on a runner's stream, then serves it; null when none comes in time. */
  private static over(stream: Duplex, timeoutMs: number): Promise<RunnerClient | null> {
    // Frames are routed to the client once it exists; until then only READY matters.
    let client: RunnerClient | undefined;
    let diagnostics = '';
    return new Promise<RunnerClient | null>((resolve) => {
      const fail = (): void => {
        clearTimeout(timer);
        stream.destroy();
        resolve(null);
      };
      const timer = setTimeout(fail, timeoutMs);
      const parser = new FrameParser((frame) => {
        if (client) return client.onFrame(frame);
        if (frame.type !== FrameType.READY) return fail();
        const info = decodeReady(frame.payload);
        if (info.version !== PROTOCOL_VERSION) return fail();
        clearTimeout(timer);
        client = new RunnerClient(stream, info);
        client.diagnostics = diagnostics;
        stream.once('close', () => client?.die('the runner exited'));
        stream.once('end', () => client?.die('the runner exited'));
        resolve(client);
      });
      const demux = new FrameDemuxer((kind, payload) => {
        if (kind === 'stderr') {
          if (client) client.note(payload);
          else diagnostics = (diagnostics + payload.toString('utf8')).slice(-DIAGNOSTICS_BYTES);
          return;
        }
        try {
          parser.push(payload);
        } catch (err) {
          // Out of step: nothing after this can be trusted.
          if (client) client.die(`the runner's output is corrupt: ${String(err)}`);
          else fail();
        }
      });
      stream.on('data', (chunk: Buffer) => demux.push(chunk));
      stream.on('error', () => (client ? client.die('the runner connection failed') : fail()));
      // Ended before READY: this interpreter is missing, or the runner failed at once.
      const ended = (): void => {
        if (!client) fail();
      };
      stream.once('end', ended);
      stream.once('close', ended);
    });
  }

  /** False once the runner has exited, been closed, or stopped making sense. */
  get alive(): boolean {
    return this.isAlive;
  }

  /** What `docker exec` would give a program as its environment: start a program's env from it. */
  get baseEnv(): Record<string, string> {
    return { ...this.info.env };
  }

  run(opts: RunOptions): Promise<RunResult> {
    if (!this.isAlive) return Promise.reject(new RunnerDiedError(this.deathMessage('the runner is not running')));
    const started = performance.now();
    const out = { stdout: new CappedBuffer(opts.maxOutputBytes), stderr: new CappedBuffer(opts.maxOutputBytes) };
    if (opts.signal?.aborted) {
      // Nothing is started for a run cancelled before it began.
      const none = { exitCode: 137, signal: 'SIGKILL', timedOut: false, wallMs: 0, cpuMs: 0, peakRssKb: 0, oomKilled: false, compileError: false, compileMs: 0, compileCached: false };
      return Promise.resolve(resultOf(none, out, true, started));
    }
    const id = this.nextId;
    this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1;
    return new Promise<RunResult>((resolve, reject) => {
      let watchdog: NodeJS.Timeout | undefined;
      const armWatchdog = (ms: number): void => {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => {
          // Output still flowing (a slow reader of a big backlog, say) is progress, not a hang.
          const quiet = performance.now() - run.lastFrame;
          if (quiet < UNRESPONSIVE_GRACE_MS) armWatchdog(UNRESPONSIVE_GRACE_MS - quiet);
          else this.die('the runner stopped responding');
        }, ms);
      };
      const onAbort = (): void => {
        run.aborted = true;
        this.send(encodeFrame(FrameType.KILL, id));
        armWatchdog(UNRESPONSIVE_GRACE_MS);
      };
      const silenceMs = opts.hostSilenceMs ?? HOST_SILENCE_MS;
      // Silence counts from this request on: nothing is asked of an idle runner.
      this.heardAt = Math.max(this.heardAt, started);
      const pinger = setInterval(() => {
        this.send(encodePing(silenceMs));
        if (performance.now() - this.heardAt < this.answerWithinMs) return;
        // Looked at again after this turn's reads: a host that was itself held up (a busy
        // machine) finds the answers it has not read yet.
        setImmediate(() => {
          const quietMs = performance.now() - this.heardAt;
          if (quietMs >= this.answerWithinMs) this.die(`the in-container runner answered nothing for ${Math.round(quietMs / 1000)} s (stopped, or its sandbox is wedged)`, RunnerUnresponsiveError);
        });
      }, opts.pingEveryMs ?? silenceMs / 5);
      pinger.unref();
      const settle = (): void => {
        clearInterval(pinger);
        clearTimeout(watchdog);
        opts.signal?.removeEventListener('abort', onAbort);
        this.runs.delete(id);
      };
      const run: ActiveRun = {
        id,
        out,
        onOutput: opts.onOutput,
        onSpans: opts.onSpans,
        onStarted: opts.onStarted,
        onCompiled: opts.onCompiled,
        aborted: false,
        programStarted: false,
        started,
        lastFrame: started,
        resolve: (result) => {
          settle();
          resolve(result);
        },
        reject: (err) => {
          settle();
          reject(err);
        },
      };
      this.runs.set(id, run);
      const request: RunRequest = { argv: opts.argv, env: opts.env, cwd: opts.cwd, timeoutMs: opts.timeoutMs ?? 0, spanFile: opts.spanFile };
      if (opts.source) {
        request.source = opts.source.text;
        request.language = opts.source.language;
        request.compileTimeoutMs = opts.source.compileTimeoutMs ?? 0;
      }
      // One write for the request and its stdin: one wakeup on the way in rather than one per frame.
      const frames = [encodePing(silenceMs), encodeJsonFrame(FrameType.RUN, id, request)];
      const stdin = opts.stdin ?? new Uint8Array(0);
      for (let at = 0; at < stdin.length; at += MAX_CHUNK) frames.push(encodeFrame(FrameType.STDIN, id, stdin.subarray(at, at + MAX_CHUNK)));
      frames.push(encodeFrame(FrameType.STDIN_EOF, id));
      this.send(Buffer.concat(frames));
      if (opts.timeoutMs) armWatchdog(opts.timeoutMs + UNRESPONSIVE_GRACE_MS);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Ends the runner (and whatever it runs: it kills its program when its stdin closes). */
  close(): void {
    this.die('the runner was closed');
  }

  private send(frame: Buffer): void {
    if (this.isAlive) this.stream.write(frame);
  }

  private note(stderr: Buffer): void {
    this.diagnostics = (this.diagnostics + stderr.toString('utf8')).slice(-DIAGNOSTICS_BYTES);
  }

  private deathMessage(why: string): string {
    const said = this.diagnostics.trim();
    return said ? `${why}; it said: ${said}` : why;
  }

  private die(why: string, Kind: typeof RunnerDiedError = RunnerDiedError): void {
    if (!this.isAlive) return;
    this.isAlive = false;
    this.stream.destroy();
    for (const run of [...this.runs.values()]) {
      const err = new Kind(this.deathMessage(why));
      err.programStarted = run.programStarted;
      run.reject(err);
    }
  }

  /** Runs a caller's callback; one that throws stops the program and fails the run with its error. */
  private callback(run: ActiveRun, fn: (() => void) | undefined): void {
    try {
      fn?.();
    } catch (err) {
      this.send(encodeFrame(FrameType.KILL, run.id));
      run.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private onFrame(frame: Frame): void {
    this.heardAt = performance.now();
    const run = this.runs.get(frame.id);
    if (!run) return;
    run.lastFrame = performance.now();
    switch (frame.type) {
      case FrameType.STARTED: {
        run.programStarted = true;
        const { compiling } = decodeStarted(frame.payload);
        this.callback(run, run.onStarted && (() => run.onStarted?.(compiling)));
        break;
      }
      case FrameType.COMPILED: {
        const { compileMs } = decodeCompiled(frame.payload);
        this.callback(run, run.onCompiled && (() => run.onCompiled?.(compileMs)));
        break;
      }
      case FrameType.STDOUT:
      case FrameType.STDERR: {
        const kind: StreamKind = frame.type === FrameType.STDOUT ? 'stdout' : 'stderr';
        run.out[kind].push(frame.payload);
        try {
          run.onOutput?.(kind, frame.payload);
        } catch (err) {
          // The caller's callback failed: stop the program and hand the error back, rather
          // than let it escape from a socket event or be taken for a broken runner.
          this.send(encodeFrame(FrameType.KILL, run.id));
          run.reject(err instanceof Error ? err : new Error(String(err)));
        }
        break;
      }
      case FrameType.SPANS:
        run.onSpans?.(frame.payload);
        break;
      case FrameType.EXIT:
        run.resolve(resultOf(decodeExit(frame.payload), run.out, run.aborted, run.started));
        break;
      case FrameType.ERROR: {
        const { code, message } = decodeError(frame.payload);
        run.reject(new RunnerRequestError(code, message));
        break;
      }
      default:
        break;
    }
  }
}

function resultOf(exit: ExitInfo, out: Record<StreamKind, CappedBuffer>, aborted: boolean, started: number): RunResult {
  return {
    exitCode: exit.exitCode,
    signal: exit.signal,
    // A deadline that passed while the program was being cancelled is still a cancellation.
    timedOut: exit.timedOut && !aborted,
    aborted,
    stdout: out.stdout.bytes(),
    stderr: out.stderr.bytes(),
    stdoutTruncated: out.stdout.truncated,
    stderrTruncated: out.stderr.truncated,
    wallMs: exit.wallMs,
    cpuMs: exit.cpuMs,
    peakRssKb: exit.peakRssKb,
    oomKilled: exit.oomKilled,
    faults: exit.minorFaults === undefined ? null : { minor: exit.minorFaults, major: exit.majorFaults ?? 0, runner: exit.runnerFaults ?? 0 },
    durationMs: performance.now() - started,
    compileError: exit.compileError,
    compileMs: exit.compileMs,
    compileCached: exit.compileCached,
  };
}
