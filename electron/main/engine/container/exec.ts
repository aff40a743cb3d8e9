// Running one program in a running container through `docker exec`, with stdin delivered and
// closed, stdout/stderr streamed as they arrive and kept up to a cap, and a deadline.
import type Docker from 'dockerode';
import type { Duplex } from 'node:stream';
import { LoomError } from '../errors';
import { CappedBuffer, FrameDemuxer, type StreamKind } from './output';
import { NO_ANSWER, within } from '../deadline';

export interface OpenExecOptions {
  argv: string[];
  env?: Record<string, string>;
  user?: string;
  workingDir?: string;
}

export interface ExecOptions extends OpenExecOptions {
  /** Written to the program's stdin, which is then closed (an empty array closes it at once). */
  stdin?: Uint8Array;
  maxOutputBytes: number;
  onOutput?: (kind: StreamKind, chunk: Buffer) => void;
  /** At this deadline, or when `signal` aborts, `kill` is called and the result says so. */
  timeoutMs?: number;
  signal?: AbortSignal;
  kill?: () => Promise<void>;
  /**
   * Settles when the container has stopped. Under gVisor, docker exec's stream can stay open
   * after the sandbox ended as a whole (its memory limit): then the run ends there, with no
   * exit code to ask for (137 and `containerEnded`).
   */
  containerEnd?: Promise<unknown>;
}

export interface ExecResult {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  timedOut: boolean;
  aborted: boolean;
  /** The container stopped before the exec's stream ended (see `containerEnd`). */
  containerEnded?: boolean;
  durationMs: number;
}

/** How long to wait for the engine to answer a kill; without an answer, the stream is given up. */
const KILL_ANSWER_MS = 5_000;
/**
 * Once the engine has answered a kill, how long the stream may take to deliver what was already
 * on its way before it is given up. A killed runc container's stream ends at once; a gVisor
 * sandbox full of processes (a fork bomb) took over 5 s to come down on a busy 2-core VM, and the
 * run's answer, already known (killed at its timeout), waited for it.
 */
export const STREAM_AFTER_KILL_MS = 1_000;

/** The container is gone, stopped or paused: the program never started. */
export class ContainerGoneError extends Error {
  override name = 'ContainerGoneError';
}

/** The container stopped (killed, removed, engine restarted) while the program ran. */
export class ContainerStoppedError extends LoomError {
  override name = 'ContainerStoppedError';
}

/** Creates an exec with stdin, stdout and stderr attached and starts it: its raw stream. */
export async function openExec(container: Docker.Container, opts: OpenExecOptions): Promise<{ exec: Docker.Exec; stream: Duplex }> {
  const exec = await container.exec({
    Cmd: opts.argv,
    Env: opts.env ? Object.entries(opts.env).map(([k, v]) => `${k}=${v}`) : undefined,
    User: opts.user,
    WorkingDir: opts.workingDir,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
  });
  return { exec, stream: await hijacked((abortSignal) => exec.start({ hijack: true, stdin: true, abortSignal })) };
}

/**
 * Attaches to the container's main process: stdin, stdout and stderr on one raw stream (the
 * container must have been created with OpenStdin). Before the container starts, nothing it
 * writes is missed.
 */
export function openAttach(container: Docker.Container): Promise<Duplex> {
  return hijacked((abortSignal) => container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true, abortSignal }));
}

/**
 * A hijacked request with stdin. An engine that refuses it (the container stopped or went away
 * meanwhile) answers without upgrading the connection, and docker-modem keeps the request body
 * open for stdin all the same: that socket would keep the process alive forever. Abort it.
 */
async function hijacked(open: (signal: AbortSignal) => Promise<unknown>): Promise<Duplex> {
  const abort = new AbortController();
  try {
    return (await open(abort.signal)) as Duplex;
  } catch (err) {
    abort.abort();
    throw err;
  }
}

export async function runExec(container: Docker.Container, opts: ExecOptions): Promise<ExecResult> {
  const { exec, stream } = await openExec(container, opts).catch(gone);
  const started = performance.now();
  const out = { stdout: new CappedBuffer(opts.maxOutputBytes), stderr: new CappedBuffer(opts.maxOutputBytes) };
  const demux = new FrameDemuxer((kind, payload) => {
    out[kind].push(payload);
    opts.onOutput?.(kind, payload);
  });

  let timedOut = false;
  let aborted = false;
  let killing: Promise<void> | undefined;
  let containerEnded = false;
  const ended = new Promise<void>((resolve) => {
    stream.on('data', (chunk: Buffer) => demux.push(chunk));
    stream.once('end', resolve);
    stream.once('close', resolve);
    // A reset connection ends the run like a normal end: the exit code is asked for below.
    stream.once('error', () => resolve());
    void opts.containerEnd?.then(() => {
      containerEnded = true;
      resolve();
      stream.destroy();
    });
  });
  const stop = (why: 'timeout' | 'abort'): void => {
    if (killing) return;
    if (why === 'timeout') timedOut = true;
    else aborted = true;
    // The engine may never answer the kill: then give up on it, and on the stream, at once.
    const killed = (opts.kill?.() ?? Promise.resolve()).catch(() => undefined);
    killing = within(killed, KILL_ANSWER_MS).then((answer) => {
      if (answer === NO_ANSWER) stream.destroy();
      else setTimeout(() => stream.destroy(), STREAM_AFTER_KILL_MS).unref();
    });
  };
  const timer = opts.timeoutMs ? setTimeout(() => stop('timeout'), opts.timeoutMs) : undefined;
  const onAbort = (): void => stop('abort');
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  // Errors on stdin (the program exited without reading it) must not lose the output.
  stream.on('error', () => undefined);
  if (opts.stdin?.length) stream.write(opts.stdin);
  stream.end();

  try {
    await ended;
    await killing;
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
  const durationMs = performance.now() - started;
  const exitCode = timedOut || aborted || containerEnded ? 137 : await exitCodeOf(exec);
  return {
    exitCode,
    stdout: out.stdout.bytes(),
    stderr: out.stderr.bytes(),
    stdoutTruncated: out.stdout.truncated,
    stderrTruncated: out.stderr.truncated,
    timedOut,
    aborted,
    ...(containerEnded ? { containerEnded } : {}),
    durationMs,
  };
}

function gone(err: unknown): never {
  const status = (err as { statusCode?: number }).statusCode;
  // 404: no such container; 409: not running or paused.
  if (status === 404 || status === 409) throw new ContainerGoneError(String((err as Error).message), { cause: err });
  throw err;
}

/** The stream can end a moment before the engine records the exit code: poll briefly. */
async function exitCodeOf(exec: Docker.Exec): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const info = await exec.inspect().catch((err: unknown) => {
      throw new ContainerStoppedError('the container was removed while the program ran', { cause: err });
    });
    if (!info.Running && info.ExitCode !== null) return info.ExitCode;
    await new Promise((r) => setTimeout(r, i < 10 ? 2 : 20));
  }
  throw new ContainerStoppedError('the engine never reported the exit code: the container stopped while the program ran');
}
