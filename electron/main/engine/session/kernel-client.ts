// The host's end of a session's kernel (resources/kernel): JSON lines over the stdio of an exec,
// either the one that started the kernel or a relay (`--connect`) to its socket, which is how
// a Loom process reaches a session another one created.
import type Docker from 'dockerode';
import type { Duplex } from 'node:stream';
import { SANDBOX_USER } from '../container/container';
import { openExec, runExec } from '../container/exec';
import { FrameDemuxer } from '../container/output';
import { RESOURCES_DIR } from '../container/resources';
import { LoomError } from '../errors';
import { KERNEL_DIR_NAME, WORKSPACE_DIR } from './workspace-paths';

export const KERNEL_PY = `${RESOURCES_DIR}/kernel/loom_kernel.py`;
export const KERNEL_JS = `${RESOURCES_DIR}/kernel/loom-kernel.js`;
const KERNEL_SOCKET = `${WORKSPACE_DIR}/${KERNEL_DIR_NAME}/kernel.sock`;
/** How long a kernel (or a relay to one) may take to say it is ready. */
const READY_TIMEOUT_MS = 20_000;

export type KernelRuntime = 'python' | 'node';
export type CellStatus = 'ok' | 'error' | 'timeout' | 'interrupted';

export interface CellError {
  ename: string;
  evalue: string;
  traceback: string;
}

export interface KernelArtifact {
  path: string;
  size: number;
  mime: string;
}

/** What the kernel says during a cell (see loom_kernel.py for the protocol). */
export type CellMessage =
  | { t: 'stream'; name: 'stdout' | 'stderr'; text: string }
  | { t: 'display'; data: Record<string, string> }
  | { t: 'span'; line: string };

export interface CellDone {
  status: CellStatus;
  count: number;
  error: CellError | null;
  artifacts: KernelArtifact[];
}

export interface ExecMessage {
  code: string;
  timeoutMs: number;
  outputDir: string;
  traceId: string;
  spanId: string;
}

/** The kernel went away (its process exited, or the connection did) during or before a cell. */
export class KernelExitedError extends LoomError {
  override name = 'KernelExitedError';
}

interface Pending {
  id: string;
  onMessage: (message: CellMessage) => void;
  resolve: (done: CellDone) => void;
  reject: (err: Error) => void;
}

export class KernelClient {
  private pending: Pending | undefined;
  private nextId = 1;
  private isAlive = true;
  private diagnostics = '';
  /** The kernel's process id in the container (for SIGINT and SIGKILL from outside). */
  pid = 0;
  /** Cells the kernel has run (its execution count). */
  count = 0;

  private constructor(private readonly stream: Duplex) {}

  /** Starts a fresh kernel in the container and serves its stdio. */
  static start(container: Docker.Container, runtime: KernelRuntime): Promise<KernelClient> {
    const argv = runtime === 'node' ? ['node', '--expose-internals', KERNEL_JS, '--serve', KERNEL_SOCKET] : ['python3', KERNEL_PY, '--serve', KERNEL_SOCKET];
    return KernelClient.open(container, argv);
  }

  /** Reaches the kernel a session already has (started by another Loom process, say). */
  static connect(container: Docker.Container, runtime: KernelRuntime): Promise<KernelClient> {
    const argv = runtime === 'node' ? ['node', KERNEL_JS, '--connect', KERNEL_SOCKET] : ['python3', KERNEL_PY, '--connect', KERNEL_SOCKET];
    return KernelClient.open(container, argv);
  }

  private static async open(container: Docker.Container, argv: string[]): Promise<KernelClient> {
    const { stream } = await openExec(container, { argv, user: SANDBOX_USER, workingDir: WORKSPACE_DIR });
    const client = new KernelClient(stream);
    return client.ready();
  }

  get alive(): boolean {
    return this.isAlive;
  }

  private ready(): Promise<KernelClient> {
    return new Promise<KernelClient>((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(() => {
        this.die('the kernel did not start');
        reject(new KernelExitedError(this.deathMessage(`the kernel did not say it was ready within ${READY_TIMEOUT_MS / 1000} s (is the session in use by another Loom process?)`)));
      }, READY_TIMEOUT_MS);
      let started = false;
      const demux = new FrameDemuxer((kind, payload) => {
        if (kind === 'stderr') {
          this.diagnostics = (this.diagnostics + payload.toString('utf8')).slice(-4096);
          return;
        }
        buf += payload.toString('utf8');
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const message = parseLine(line);
          if (!started) {
            if (message?.t !== 'ready') continue;
            started = true;
            clearTimeout(timer);
            this.pid = Number(message.pid) || 0;
            this.count = Number(message.count) || 0;
            resolve(this);
          } else this.onLine(line, message);
        }
      });
      const ended = (): void => {
        clearTimeout(timer);
        if (!started) reject(new KernelExitedError(this.deathMessage('the kernel exited before it was ready')));
        this.die('the kernel exited');
      };
      this.stream.on('data', (chunk: Buffer) => demux.push(chunk));
      this.stream.once('end', ended);
      this.stream.once('close', ended);
      this.stream.on('error', ended);
    });
  }

  /** Runs one cell; rejects with KernelExitedError when the kernel goes away before it ends. */
  run(message: ExecMessage, onMessage: (message: CellMessage) => void): Promise<CellDone> {
    if (!this.isAlive) return Promise.reject(new KernelExitedError(this.deathMessage('the kernel is not running')));
    if (this.pending) return Promise.reject(new LoomError('a cell is already running in this session'));
    const id = String(this.nextId++);
    return new Promise<CellDone>((resolve, reject) => {
      this.pending = { id, onMessage, resolve, reject };
      this.stream.write(`${JSON.stringify({ op: 'exec', id, ...message })}\n`);
    });
  }

  /** Sends a signal to the kernel process (SIGINT interrupts the cell; SIGKILL ends the kernel). */
  async signal(container: Docker.Container, signal: 'INT' | 'KILL'): Promise<void> {
    if (!this.pid) return;
    await runExec(container, { argv: ['sh', '-c', `kill -${signal} "$1"`, 'sh', String(this.pid)], user: SANDBOX_USER, maxOutputBytes: 4096, timeoutMs: 10_000 });
  }

  /** Drops the connection (the kernel lives on, for the next connection). */
  close(): void {
    this.die('the connection to the kernel was closed');
  }

  private onLine(line: string, message: Record<string, unknown> | null): void {
    const cell = this.pending;
    if (!cell) return;
    // What a program wrote to the kernel's own stdout (a child process of a Node cell) is output.
    if (!message || typeof message.t !== 'string') {
      cell.onMessage({ t: 'stream', name: 'stdout', text: `${line}\n` });
      return;
    }
    if (message.id !== undefined && message.id !== cell.id && message.id !== null) return;
    if (message.t === 'done') {
      this.pending = undefined;
      this.count = Number(message.count) || this.count;
      cell.resolve({
        status: (['ok', 'error', 'timeout', 'interrupted'] as const).find((s) => s === message.status) ?? 'error',
        count: this.count,
        error: (message.error as CellError | null) ?? null,
        artifacts: Array.isArray(message.artifacts) ? (message.artifacts as KernelArtifact[]) : [],
      });
    } else if (message.t === 'stream' || message.t === 'display' || message.t === 'span') {
      cell.onMessage(message as unknown as CellMessage);
    }
  }

  private deathMessage(why: string): string {
    const said = this.diagnostics.trim();
    return said ? `${why}; it said: ${said}` : why;
  }

  private die(why: string): void {
    if (!this.isAlive) return;
    this.isAlive = false;
    this.stream.destroy();
    const cell = this.pending;
    this.pending = undefined;
    cell?.reject(new KernelExitedError(this.deathMessage(why)));
  }
}

function parseLine(line: string): Record<string, unknown> | null {
  if (!line.startsWith('{')) return null;
  try {
    const value: unknown = JSON.parse(line);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
