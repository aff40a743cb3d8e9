// Sessions: state a caller owns on purpose. Each has its own container (made by the scheduler
// but never pooled, parked or handed to a run), a long-lived kernel in it (resources/kernel)
// whose interpreter keeps variables between cells, an idle TTL, files and artifacts.
//
// A session outlives the Loom process that made it (the CLI's `loom session new` exits at
// once): its container's name carries when it expires (session-names.ts) and its labels carry
// its owner and settings, so that any Loom process can find it, use it, or reap it once expired.
import { create } from '@bufbuild/protobuf';
import type Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import {
  CreateSessionRequestSchema,
  ExecuteEventSchema,
  ExecuteRequestSchema,
  ExecuteResponseSchema,
  RunCellRequestSchema,
  SessionInfoSchema,
  SessionState,
  type ExecuteResponse,
  type SessionInfo,
} from '../../../../shared/gen/loom/v1/docker_pb';
import { RUNTIME_TYPES, runtimeOf } from '../../../../shared/runtimes';
import type { TraceParent } from '../../../../shared/traces/traceparent';
import { CappedBuffer } from '../container/output';
import { LoomError, ValidationError } from '../errors';
import type { ExecuteEventInput } from '../executor';
import { removeContainer } from '../pool/containers';
import { LABEL } from '../pool/labels';
import type { Scheduler } from '../pool/scheduler';
import { normalizeRequest, traceParentOf } from '../request/request';
import { ExecutionTrace } from '../tracing/execution-trace';
import { newTraceId, startSpan, type HostSpan, type TraceSink } from '../tracing/tracer';
import { displayOutputOf } from './display-output';
import { KernelClient, KernelExitedError, type CellDone, type CellMessage, type KernelRuntime } from './kernel-client';
import { parseSessionName, SESSION_ID_PATTERN, sessionName, sessionNamePrefix } from './session-names';
import type { CreateSessionInput, OwnerOptions, RunCellInput, RunCellOptions, SessionManager } from './types';
import { deleteFile, getFile, listFiles, putFile } from './workspace-files';
import { containerPath, DEFAULT_OUTPUT_DIR, fileLimitsOf, mimeOf, workspacePath, type FileLimitsSpec } from './workspace-paths';

export const DEFAULT_SESSION_TTL_S = 15 * 60;
const MAX_SESSION_TTL_S = 7 * 24 * 3600;
const DEFAULT_OWNER = 'local';
/** How long an interrupted cell may take to stop before its interpreter is replaced. */
const INTERRUPT_GRACE_MS = 5_000;
/** Output kept per stream of a cell (streaming is not capped). */
const MAX_CELL_OUTPUT_BYTES = 4 * 1024 * 1024;

/** No session of that id for this owner: never made, closed, or expired and removed by now. */
export class SessionNotFoundError extends LoomError {
  override name = 'SessionNotFoundError';
  constructor(readonly sessionId: string) {
    super(`no session ${sessionId}: it does not exist, was closed, or expired and was removed`);
  }
}

/** The session was idle past its TTL: its container (and its variables and files) are gone. */
export class SessionExpiredError extends LoomError {
  override name = 'SessionExpiredError';
  constructor(
    readonly sessionId: string,
    readonly idleTtlSeconds: number,
  ) {
    super(`session ${sessionId} expired: it was idle for more than its TTL of ${idleTtlSeconds} s, and its container was removed`);
  }
}

/** A cell is already running in the session (one at a time). */
export class SessionBusyError extends LoomError {
  override name = 'SessionBusyError';
  constructor(readonly sessionId: string) {
    super(`session ${sessionId} is running a cell: wait for it, or interrupt it`);
  }
}

/** A cell as run() checked it. */
interface CellSpec {
  code: string;
  timeoutMs: number;
  outputDir: string;
  parent?: TraceParent;
}

/** What a session's container label holds. */
interface SessionLabel {
  owner: string;
  runtime: KernelRuntime;
  ttlS: number;
  timeoutMs: number;
  limits: FileLimitsSpec;
  image: string;
  configName: string;
}

interface Live {
  id: string;
  label: SessionLabel;
  container: Docker.Container;
  containerId: string;
  createdAt: number;
  lastUsedAt: number;
  /** The expiry the container's name says (what other processes go by). */
  namedExpiry: number;
  renaming?: Promise<void>;
  kernel: KernelClient | null;
  busy: boolean;
  /** Interrupts the running cell (a deadline the kernel missed says 'timeout'). */
  interrupt?: (why?: 'interrupted' | 'timeout') => void;
  /** Made by this manager (removed on shutdown unless kept). */
  own: boolean;
}

export interface SessionManagerOptions {
  scheduler: Scheduler;
  sinks?: TraceSink[];
  maxSpans?: number;
  /** How often idle sessions are checked against their TTL. Default 5 s. */
  sweepIntervalMs?: number;
  onError?: (err: unknown) => void;
}

export function createSessionManager(options: SessionManagerOptions): SessionManager {
  return new Sessions(options);
}

class Sessions implements SessionManager {
  private readonly live = new Map<string, Live>();
  /** Sessions this manager saw expire: a later call says so rather than "not found". */
  private readonly expired = new Map<string, number>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly docker: Docker;
  private closed = false;

  constructor(private readonly opts: SessionManagerOptions) {
    this.docker = opts.scheduler.docker;
    this.sweeper = setInterval(() => void this.sweep(), opts.sweepIntervalMs ?? 5_000);
    this.sweeper.unref();
  }

  readonly files = {
    put: async (sessionId: string, path: string, content: Parameters<SessionManager['files']['put']>[2], o?: OwnerOptions) => {
      const s = await this.use(sessionId, o);
      return this.touched(s, putFile(s.container, path, content, s.label.limits));
    },
    get: async (sessionId: string, path: string, o?: OwnerOptions) => {
      const s = await this.use(sessionId, o);
      return this.touched(s, getFile(s.container, path));
    },
    list: async (sessionId: string, path = '', o?: OwnerOptions) => {
      const s = await this.use(sessionId, o);
      return this.touched(s, listFiles(s.container, path));
    },
    delete: async (sessionId: string, path: string, o?: OwnerOptions) => {
      const s = await this.use(sessionId, o);
      return this.touched(s, deleteFile(s.container, path));
    },
  };

  async create(input: CreateSessionInput, o: Parameters<SessionManager['create']>[1] = {}): Promise<SessionInfo> {
    this.checkOpen();
    const request = create(CreateSessionRequestSchema, input);
    const runtime = runtimeOf(request.runtimeType || request.config?.runtimeType || RUNTIME_TYPES.python);
    if (runtime !== 'python' && runtime !== 'node') throw new ValidationError('runtime_type', `sessions run python or node, not ${runtime ?? request.runtimeType}`);
    const ttlS = request.idleTtlSeconds || DEFAULT_SESSION_TTL_S;
    if (!Number.isInteger(ttlS) || ttlS < 0 || ttlS > MAX_SESSION_TTL_S) throw new ValidationError('idle_ttl_seconds', `must be between 1 and ${MAX_SESSION_TTL_S} (0: ${DEFAULT_SESSION_TTL_S}), got ${ttlS}`);
    const normalized = normalizeRequest(create(ExecuteRequestSchema, { config: request.config, runtimeType: RUNTIME_TYPES[runtime], command: ['true'] }), this.opts.scheduler.policy);
    const label: SessionLabel = {
      owner: ownerOf(o),
      runtime,
      ttlS,
      timeoutMs: normalized.run.timeoutMs,
      limits: fileLimitsOf(request.fileLimits),
      image: normalized.container.image,
      configName: normalized.container.name,
    };
    const id = randomBytes(8).toString('hex');
    const now = Date.now();
    const made = await this.opts.scheduler.createDedicated(
      normalized.container,
      { name: sessionName(id, now + ttlS * 1000), poolKey: `session-${id}`, labels: { [LABEL.session]: JSON.stringify(label) } },
      o.hooks,
    );
    const s: Live = {
      id,
      label,
      container: made.container,
      containerId: made.id,
      createdAt: now,
      lastUsedAt: now,
      namedExpiry: now + ttlS * 1000,
      kernel: null,
      busy: false,
      own: true,
    };
    try {
      s.kernel = await KernelClient.start(made.container, runtime);
    } catch (err) {
      await removeContainer(this.docker, made.id).catch(() => undefined);
      throw new LoomError(`the session's ${runtime} kernel did not start in ${normalized.container.image}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    this.live.set(id, s);
    return this.info(s);
  }

  async run(input: RunCellInput, o: RunCellOptions = {}): Promise<ExecuteResponse> {
    const request = create(RunCellRequestSchema, input);
    const parent = request.traceparent ? traceParentOf(request.traceparent) : undefined;
    const s = await this.use(request.sessionId, o);
    if (s.busy) throw new SessionBusyError(s.id);
    if (request.timeoutSeconds < 0) throw new ValidationError('timeout_seconds', `must be 0 or more (0: the session's default), got ${request.timeoutSeconds}`);
    const outputDir = workspacePath(request.outputDir || DEFAULT_OUTPUT_DIR, 'output_dir');
    const timeoutMs = request.timeoutSeconds ? request.timeoutSeconds * 1000 : s.label.timeoutMs;
    s.busy = true;
    this.rename(s, timeoutMs + INTERRUPT_GRACE_MS * 2);
    try {
      return await this.runCell(s, { code: request.code, timeoutMs, outputDir, parent }, o);
    } finally {
      s.busy = false;
      s.interrupt = undefined;
      s.lastUsedAt = Date.now();
      this.rename(s);
    }
  }

  async interrupt(sessionId: string, o?: OwnerOptions): Promise<void> {
    const s = await this.use(sessionId, o);
    s.interrupt?.();
  }

  async restart(sessionId: string, o?: OwnerOptions): Promise<SessionInfo> {
    const s = await this.use(sessionId, o);
    if (s.busy) throw new SessionBusyError(s.id);
    s.busy = true;
    try {
      await this.replaceKernel(s);
    } finally {
      s.busy = false;
      s.lastUsedAt = Date.now();
      this.rename(s);
    }
    return this.info(s);
  }

  async close(sessionId: string, o?: OwnerOptions): Promise<void> {
    const s = await this.use(sessionId, o);
    this.live.delete(s.id);
    s.interrupt?.();
    s.kernel?.close();
    await removeContainer(this.docker, s.containerId);
  }

  async get(sessionId: string, o?: OwnerOptions): Promise<SessionInfo> {
    return this.info(await this.use(sessionId, o, false));
  }

  async list(o?: OwnerOptions): Promise<SessionInfo[]> {
    const owner = ownerOf(o);
    const found = await this.docker.listContainers({ all: true, filters: { label: [`${LABEL.managed}=true`, LABEL.session], name: ['loom-session-'] } });
    const out: SessionInfo[] = [];
    for (const c of found) {
      const name = (c.Names[0] ?? '').replace(/^\//, '');
      const parsed = parseSessionName(name);
      const label = parseLabel(c.Labels[LABEL.session]);
      if (!parsed || !label || label.owner !== owner) continue;
      const local = this.live.get(parsed.id);
      if (local) {
        out.push(this.info(local));
        continue;
      }
      out.push(
        create(SessionInfoSchema, {
          id: parsed.id,
          owner: label.owner,
          runtimeType: RUNTIME_TYPES[label.runtime],
          containerId: c.Id,
          createdAtMs: c.Created * 1000,
          lastUsedAtMs: parsed.expiresAtMs - label.ttlS * 1000,
          idleTtlSeconds: label.ttlS,
          state: parsed.expiresAtMs <= Date.now() || c.State !== 'running' ? SessionState.EXPIRED : SessionState.IDLE,
          configName: label.configName,
          image: label.image,
        }),
      );
    }
    return out.sort((a, b) => a.createdAtMs - b.createdAtMs);
  }

  async shutdown(opts: { keep?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    const all = [...this.live.values()];
    this.live.clear();
    for (const s of all) {
      s.interrupt?.();
      s.kernel?.close();
    }
    await Promise.all(all.filter((s) => s.own && !opts.keep).map((s) => removeContainer(this.docker, s.containerId).catch((err: unknown) => this.opts.onError?.(err))));
    await Promise.all(all.map((s) => s.renaming));
  }

  // -- cells ------------------------------------------------------------------------------

  private async runCell(s: Live, cell: CellSpec, o: RunCellOptions): Promise<ExecuteResponse> {
    const { code, timeoutMs, outputDir, parent } = cell;
    const started = performance.now();
    const emit = (event: ExecuteEventInput): void => o.onEvent?.(create(ExecuteEventSchema, { event }));
    // Under a caller's span (traceparent), the cell joins the caller's trace, as a run does.
    const trace = new ExecutionTrace(parent?.traceId ?? newTraceId(), (spans) => emit({ case: 'spans', value: { spans } }), this.opts.maxSpans);
    const root = startSpan('docker.execute', {
      traceId: trace.traceId,
      parentSpanId: parent?.spanId,
      attributes: { 'loom.session_id': s.id, 'loom.runtime': s.label.runtime, 'loom.image': s.label.image, 'loom.config_name': s.label.configName },
    });
    const end = (span: HostSpan, status?: 'ok' | 'error', message?: string): void => trace.add(span.end(status, message));
    const out = { stdout: new CappedBuffer(MAX_CELL_OUTPUT_BYTES), stderr: new CappedBuffer(MAX_CELL_OUTPUT_BYTES) };
    const outputs: Record<string, string>[] = [];
    let restarted: string | undefined;
    let done: CellDone | undefined;
    try {
      const kernel = await this.kernelOf(s, root, end);
      const run = root.child('docker.run', { 'loom.session_id': s.id, 'loom.container_id': s.containerId });
      const onMessage = (m: CellMessage): void => {
        if (m.t === 'stream') {
          const chunk = Buffer.from(m.text, 'utf8');
          out[m.name === 'stderr' ? 'stderr' : 'stdout'].push(chunk);
          emit({ case: m.name === 'stderr' ? 'stderr' : 'stdout', value: chunk });
        } else if (m.t === 'display') outputs.push(m.data);
        else trace.addContainerLine(m.line);
      };
      // Interrupt: SIGINT to the interpreter; one that does not stop within the grace is replaced.
      let interrupted: 'interrupted' | 'timeout' | undefined;
      let killTimer: NodeJS.Timeout | undefined;
      s.interrupt = (why: 'interrupted' | 'timeout' = 'interrupted') => {
        if (interrupted) return;
        interrupted = why;
        kernel.signal(s.container, 'INT').catch((err: unknown) => this.opts.onError?.(err));
        killTimer = setTimeout(() => {
          restarted = `the interpreter did not stop within ${INTERRUPT_GRACE_MS / 1000} s of the ${why === 'timeout' ? 'deadline' : 'interrupt'}`;
          kernel.signal(s.container, 'KILL').catch(() => kernel.close());
        }, INTERRUPT_GRACE_MS);
      };
      const onAbort = (): void => s.interrupt?.();
      if (o.signal?.aborted) onAbort();
      o.signal?.addEventListener('abort', onAbort, { once: true });
      // The kernel keeps the deadline itself; this is for an interpreter stuck where signals do not reach.
      const deadline = timeoutMs > 0 ? setTimeout(() => s.interrupt?.('timeout'), timeoutMs + INTERRUPT_GRACE_MS) : undefined;
      try {
        done = await kernel.run({ code, timeoutMs, outputDir: containerPath(outputDir), traceId: trace.traceId, spanId: run.spanId }, onMessage);
        if (interrupted === 'timeout' && done.status === 'interrupted') done.status = 'timeout';
      } catch (err) {
        if (!(err instanceof KernelExitedError)) throw err;
        restarted ??= `the interpreter exited during the cell (${err.message})`;
      } finally {
        clearTimeout(deadline);
        clearTimeout(killTimer);
        o.signal?.removeEventListener('abort', onAbort);
      }
      if (restarted !== undefined) {
        await this.replaceKernel(s);
        restarted += '; it was restarted: variables are gone, files are kept';
        out.stderr.push(Buffer.from(`${restarted}\n`));
        emit({ case: 'stderr', value: Buffer.from(`${restarted}\n`) });
      }
      const status = restarted !== undefined ? 'restarted' : (done?.status ?? 'error');
      end(run.setAttribute('loom.cell_status', status), status === 'ok' ? 'ok' : 'error', status);
      const stdout = out.stdout.bytes();
      const stderr = out.stderr.bytes();
      const response = create(ExecuteResponseSchema, {
        exitCode: EXIT_CODES[status],
        stdout,
        stderr,
        durationMs: performance.now() - started,
        containerId: s.containerId,
        timedOut: status === 'timeout',
        truncated: out.stdout.truncated || out.stderr.truncated,
        stdoutTruncated: out.stdout.truncated,
        stderrTruncated: out.stderr.truncated,
        timings: { runMs: performance.now() - started },
        usage: { wallMs: performance.now() - started, via: 'kernel' },
        outputs: outputs.map(displayOutputOf),
        artifacts: (done?.artifacts ?? []).map((a) => ({ path: a.path, size: BigInt(a.size), mime: a.mime || mimeOf(a.path) })),
        cell: {
          sessionId: s.id,
          executionCount: done?.count ?? s.kernel?.count ?? 0,
          status,
          errorName: restarted !== undefined ? 'InterpreterRestarted' : (done?.error?.ename ?? ''),
          errorValue: restarted ?? done?.error?.evalue ?? '',
          traceback: done?.error?.traceback ?? '',
        },
      });
      end(root, status === 'ok' ? 'ok' : 'error', status);
      trace.complete(response);
      emit({ case: 'done', value: response });
      return response;
    } catch (err) {
      end(root, 'error', err instanceof Error ? `${err.name}: ${err.message}` : String(err));
      trace.deliver();
      throw err;
    } finally {
      for (const sink of this.opts.sinks ?? []) sink.export(trace.spans);
    }
  }

  /** The session's kernel: connected (or, where it is gone, started afresh). */
  private async kernelOf(s: Live, root: HostSpan, end: (span: HostSpan, status?: 'ok' | 'error', message?: string) => void): Promise<KernelClient> {
    if (s.kernel?.alive) return s.kernel;
    const span = root.child('docker.kernel', { 'loom.session_id': s.id });
    try {
      s.kernel = await KernelClient.connect(s.container, s.label.runtime).catch(() => KernelClient.start(s.container, s.label.runtime));
      end(span, 'ok');
      return s.kernel;
    } catch (err) {
      end(span, 'error', String(err));
      throw err;
    }
  }

  private async replaceKernel(s: Live): Promise<void> {
    const old = s.kernel ?? (await KernelClient.connect(s.container, s.label.runtime).catch(() => null));
    if (old?.alive) await old.signal(s.container, 'KILL').catch(() => undefined);
    old?.close();
    s.kernel = await KernelClient.start(s.container, s.label.runtime);
  }

  // -- finding sessions ---------------------------------------------------------------------

  /** The caller's session, found here or on the engine; refused once expired. */
  private async use(sessionId: string, o?: OwnerOptions, touch = true): Promise<Live> {
    this.checkOpen();
    if (typeof sessionId !== 'string' || !SESSION_ID_PATTERN.test(sessionId)) throw new ValidationError('session_id', `'${String(sessionId)}' is not a session id (16 hexadecimal digits)`);
    const owner = ownerOf(o);
    const ttlS = this.expired.get(sessionId);
    if (ttlS !== undefined) throw new SessionExpiredError(sessionId, ttlS);
    let s = this.live.get(sessionId);
    if (s && s.label.owner !== owner) throw new SessionNotFoundError(sessionId);
    if (s && !s.busy && Date.now() - s.lastUsedAt > s.label.ttlS * 1000) {
      await this.expire(s);
      throw new SessionExpiredError(sessionId, s.label.ttlS);
    }
    s ??= await this.find(sessionId, owner);
    if (touch && !s.busy) s.lastUsedAt = Date.now();
    return s;
  }

  /** A session another Loom process (or an earlier one) made, from its container. */
  private async find(id: string, owner: string): Promise<Live> {
    const found = await this.docker.listContainers({ all: true, filters: { name: [sessionNamePrefix(id)], label: [`${LABEL.managed}=true`] } });
    const c = found.find((x) => parseSessionName((x.Names[0] ?? '').replace(/^\//, ''))?.id === id);
    const label = parseLabel(c?.Labels[LABEL.session]);
    if (!c || !label || label.owner !== owner) throw new SessionNotFoundError(id);
    const parsed = parseSessionName((c.Names[0] ?? '').replace(/^\//, ''))!;
    if (parsed.expiresAtMs <= Date.now() || c.State !== 'running') {
      await removeContainer(this.docker, c.Id).catch(() => undefined);
      this.expired.set(id, label.ttlS);
      throw new SessionExpiredError(id, label.ttlS);
    }
    const s: Live = {
      id,
      label,
      container: this.docker.getContainer(c.Id),
      containerId: c.Id,
      createdAt: c.Created * 1000,
      lastUsedAt: parsed.expiresAtMs - label.ttlS * 1000,
      namedExpiry: parsed.expiresAtMs,
      kernel: null,
      busy: false,
      own: false,
    };
    this.live.set(id, s);
    return s;
  }

  private async expire(s: Live): Promise<void> {
    this.live.delete(s.id);
    this.expired.set(s.id, s.label.ttlS);
    s.kernel?.close();
    await s.renaming;
    await removeContainer(this.docker, s.containerId).catch((err: unknown) => this.opts.onError?.(err));
  }

  private async sweep(): Promise<void> {
    const now = Date.now();
    for (const s of [...this.live.values()]) {
      if (!s.busy && now - s.lastUsedAt > s.label.ttlS * 1000) await this.expire(s);
    }
  }

  /** Keeps the container's name (what other processes go by) in step with the session's use. */
  private rename(s: Live, extraMs = 0): void {
    const want = Date.now() + s.label.ttlS * 1000 + extraMs;
    if (s.renaming || Math.abs(want - s.namedExpiry) < 1000) return;
    s.renaming = s.container
      .rename({ name: sessionName(s.id, want) })
      .then(() => {
        s.namedExpiry = want;
      })
      .catch((err: unknown) => this.opts.onError?.(err))
      .finally(() => {
        s.renaming = undefined;
      });
  }

  private async touched<T>(s: Live, work: Promise<T>): Promise<T> {
    try {
      return await work;
    } finally {
      s.lastUsedAt = Date.now();
      this.rename(s);
    }
  }

  private info(s: Live): SessionInfo {
    return create(SessionInfoSchema, {
      id: s.id,
      owner: s.label.owner,
      runtimeType: RUNTIME_TYPES[s.label.runtime],
      containerId: s.containerId,
      createdAtMs: s.createdAt,
      lastUsedAtMs: s.lastUsedAt,
      idleTtlSeconds: s.label.ttlS,
      executionCount: s.kernel?.count ?? 0,
      state: s.busy ? SessionState.BUSY : SessionState.IDLE,
      configName: s.label.configName,
      image: s.label.image,
    });
  }

  private checkOpen(): void {
    if (this.closed) throw new LoomError('the session manager is closed');
  }
}

const EXIT_CODES: Record<CellDone['status'] | 'restarted', number> = { ok: 0, error: 1, timeout: 124, interrupted: 130, restarted: 137 };

function ownerOf(o?: OwnerOptions): string {
  const owner = o?.owner ?? DEFAULT_OWNER;
  if (!owner || owner.length > 200) throw new ValidationError('owner', 'must be 1 to 200 characters');
  return owner;
}

function parseLabel(raw: string | undefined): SessionLabel | null {
  if (!raw) return null;
  try {
    const label = JSON.parse(raw) as SessionLabel;
    return typeof label.owner === 'string' && (label.runtime === 'python' || label.runtime === 'node') ? label : null;
  } catch {
    return null;
  }
}
