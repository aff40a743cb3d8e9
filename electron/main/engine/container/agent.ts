// The host's end of the in-container agent (resources/agent): one long-lived exec that carries
// span records out, apart from the program's own output, in a container whose programs run by
// docker exec (no runner there: the runner sends the spans of the programs it starts itself).
// Its line protocol is described in runner/protocol.json, with the runner's.
import type Docker from 'dockerode';
import type { Duplex } from 'node:stream';
import { SANDBOX_USER } from './container';
import { openExec } from './exec';
import { FrameDemuxer } from './output';
import { AGENT_JS, AGENT_PY } from './resources';
import { AgentOp, AgentRecord } from '../runner/protocol';

export interface WatchHandlers {
  onLine: (line: string) => void;
  onOversized: (count: number) => void;
}

const READY_TIMEOUT_MS = 10_000;
const FLUSH_TIMEOUT_MS = 5_000;

/**
 * Starting the agent does not delay the container: commands sent before it is ready are
 * queued, and the span file it follows keeps everything written meanwhile.
 */
export class ContainerAgent {
  private readonly watches = new Map<string, WatchHandlers>();
  private readonly flushes = new Map<string, () => void>();
  private readonly queued: string[] = [];
  private stream?: Duplex;
  private partial = '';
  private alive = true;
  private readonly ready: Promise<boolean>;
  /**
   * The agent's process once it is up: what the clean-up between runs keeps (a PID and its start
   * time), and whether it made itself undumpable.
   */
  process?: { pid: number; start: number; undumpable: boolean };

  constructor(container: Docker.Container, runtime: string) {
    // Whichever interpreter the image has: its own runtime's first, then the other.
    const candidates = runtime === 'node' ? [['node', AGENT_JS], ['python3', AGENT_PY]] : [['python3', AGENT_PY], ['node', AGENT_JS]];
    this.ready = this.startFirst(container, candidates).then((ok) => {
      if (!ok) this.die();
      return ok;
    });
  }

  /** Resolves once the agent is up (true), or failed to start (false). */
  whenReady(): Promise<boolean> {
    return this.ready;
  }

  /** The agent ran and then died (killed by the program, container stopped): spans are lost. */
  get broken(): boolean {
    return this.stream !== undefined && !this.alive;
  }

  watch(id: string, path: string, handlers: WatchHandlers): void {
    this.watches.set(id, handlers);
    this.send({ op: AgentOp.WATCH, id, path });
  }

  /** Waits until every line of `id` written so far has arrived (or the agent is gone). */
  async flush(id: string): Promise<void> {
    if (this.alive && (await this.ready)) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, FLUSH_TIMEOUT_MS);
        this.flushes.set(id, () => {
          clearTimeout(timer);
          resolve();
        });
        this.send({ op: AgentOp.FLUSH, id });
      });
    }
    this.watches.delete(id);
  }

  close(): void {
    this.die();
    this.stream?.destroy();
  }

  private async startFirst(container: Docker.Container, candidates: string[][]): Promise<boolean> {
    for (const argv of candidates) {
      if (!this.alive) return false;
      try {
        if (await this.tryStart(container, argv)) return true;
      } catch {
        // The container went away: nothing to carry.
        return false;
      }
    }
    return false;
  }

  private async tryStart(container: Docker.Container, argv: string[]): Promise<boolean> {
    const { stream } = await openExec(container, { argv, user: SANDBOX_USER });
    let onReady: () => void = () => undefined;
    const ready = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), READY_TIMEOUT_MS);
      onReady = () => {
        clearTimeout(timer);
        resolve(true);
      };
      stream.once('end', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    const demux = new FrameDemuxer((kind, payload) => {
      if (kind === 'stdout') this.receive(payload.toString('utf8'), onReady);
    });
    stream.on('data', (chunk: Buffer) => demux.push(chunk));
    stream.on('error', () => undefined);
    // Closed while starting (the container was released or removed): let go of the stream,
    // or its open connection keeps the process alive.
    if (!(await ready) || !this.alive) {
      stream.destroy();
      return false;
    }
    this.stream = stream;
    stream.once('close', () => this.die());
    for (const line of this.queued.splice(0)) stream.write(line);
    return true;
  }

  private die(): void {
    this.alive = false;
    for (const done of this.flushes.values()) done();
    this.flushes.clear();
  }

  private send(command: object): void {
    if (!this.alive) return;
    const line = `${JSON.stringify(command)}\n`;
    if (this.stream) this.stream.write(line);
    else this.queued.push(line);
  }

  private receive(text: string, onReady: () => void): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const kind = line[0];
      if (kind === AgentRecord.READY) {
        const [pid, start, undumpable] = line.slice(2).split(' ').map(Number);
        if (pid && start !== undefined && start >= 0) this.process = { pid, start, undumpable: undumpable === 1 };
        onReady();
        continue;
      }
      const idEnd = line.indexOf(' ', 2);
      const id = idEnd === -1 ? line.slice(2) : line.slice(2, idEnd);
      const rest = idEnd === -1 ? '' : line.slice(idEnd + 1);
      if (kind === AgentRecord.SPAN) this.watches.get(id)?.onLine(rest);
      else if (kind === AgentRecord.OVERSIZED) this.watches.get(id)?.onOversized(Number(rest) || 0);
      else if (kind === AgentRecord.FLUSHED) {
        this.flushes.get(id)?.();
        this.flushes.delete(id);
      }
    }
  }
}
