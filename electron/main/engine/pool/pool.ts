// The warm pool: containers grouped by pool key, one execution per container at a time, a
// bounded number per key with a FIFO wait queue, rotation by use count and age, health checks.
import type Docker from 'dockerode';
import { resolveRef } from './containers';
import { ClosedError, AbortedError, LoomError, ValidationError } from '../errors';
import type { ContainerAgent } from '../container/agent';
import type { PullProgress } from '../engine-client/images';
import type { RunnerClient } from '../runner/client';
import type { ContainerSpec, LifecycleSpec } from '../request/request';
import { NO_ANSWER, within } from '../deadline';


export type EntryState = 'creating' | 'idle' | 'busy' | 'removing';

export interface PoolEntry {
  readonly id: string;
  readonly name: string;
  readonly key: string;
  readonly spec: ContainerSpec;
  readonly container: Docker.Container;
  /**
   * The in-container agent that carries spans out of programs run by docker exec; started on
   * the first such run (programs the runner starts have their spans sent by the runner).
   */
  agent: ContainerAgent | null;
  /**
   * The in-container runner programs start from (ready before the entry is handed out); null
   * where none can run: docker exec serves there.
   */
  runner: RunnerClient | null;
  /** loom-init in the container (PID 1, and the clean-up between exec'd programs), if it has one. */
  readonly init?: string;
  /**
   * Under gVisor, the digest of PID 1's limits and priority before the first exec'd program
   * (loom-init --state): every docker exec inherits them there. null: it could not be read.
   */
  initState?: string | null;
  readonly createdAt: number;
  lifecycle: LifecycleSpec;
  state: EntryState;
  executions: number;
  lastUsedAt: number;
}

export interface Acquired {
  entry: PoolEntry;
  /** True when this acquisition had to create (and prepare) the container: a cold start. */
  created: boolean;
}

/** Progress of making a container ready, reported to the acquisition that waits for it. */
export interface PrepareHooks {
  onPull?: (p: PullProgress) => void;
  onInstallLog?: (line: string) => void;
  onPhase?: (phase: 'image' | 'container' | 'packages', detail: string) => void;
  signal?: AbortSignal;
}

/** Makes a ready container (created, started, packages installed) or throws. */
export type ContainerFactory = (
  spec: ContainerSpec,
  key: string,
  hooks: PrepareHooks,
) => Promise<MadeContainer>;

export interface MadeContainer {
  id: string;
  name: string;
  container: Docker.Container;
  /** The runner, starting (null where none can run: docker exec serves there). */
  runner: Promise<RunnerClient | null>;
  init?: string;
  /** A warm container taken over from another Loom process rather than created. */
  reused?: boolean;
  createdAtMs?: number;
  /** Executions a reused container served before (they count towards max_executions). */
  executions?: number;
}

export interface PoolOptions {
  maxPerKey: number;
  create: ContainerFactory;
  /** Removes a container for good; failures are reported to onError and otherwise ignored. */
  remove: (container: Docker.Container) => Promise<void>;
  onError?: (err: unknown) => void;
  /** How long close() waits for the engine to remove containers (default 15 s). */
  closeTimeoutMs?: number;
}

interface Waiter {
  resolve: (entry: PoolEntry | null) => void;
  reject: (err: unknown) => void;
}

interface Group {
  key: string;
  entries: Set<PoolEntry>;
  /** Slots being created right now: count towards maxPerKey. */
  creating: number;
  waiters: Waiter[];
  healthTimer?: NodeJS.Timeout;
}

export class Pool {
  private readonly groups = new Map<string, Group>();
  private readonly removals = new Set<Promise<void>>();
  /** Containers being created (and their runners started): close() waits for them too. */
  private readonly creations = new Set<Promise<unknown>>();
  private closed = false;

  constructor(private readonly opts: PoolOptions) {}

  /**
   * A container for `spec`, all to the caller until `release`. Reuses an idle one, creates one
   * while the key has room, or waits in line for the next one released.
   */
  async acquire(key: string, spec: ContainerSpec, lifecycle: LifecycleSpec, hooks: PrepareHooks = {}): Promise<Acquired> {
    for (;;) {
      if (this.closed) throw new ClosedError('the executor is closed');
      const group = this.group(key, lifecycle);
      const idle = this.takeIdle(group, lifecycle);
      if (idle) return { entry: idle, created: false };
      if (group.entries.size + group.creating < this.opts.maxPerKey) {
        const { entry, reused } = await this.createEntry(group, spec, lifecycle, hooks);
        return { entry, created: !reused };
      }
      // A released entry is handed over directly; null means a slot freed up: look again.
      const handed = await this.wait(group, hooks.signal);
      if (handed) {
        handed.lifecycle = lifecycle;
        return { entry: handed, created: false };
      }
    }
  }

  /** Gives a container back. `healthy: false` (timed out, killed, broken) removes it. */
  release(entry: PoolEntry, healthy: boolean): void {
    const group = this.groups.get(entry.key);
    entry.lastUsedAt = Date.now();
    // An agent or runner killed by the program (same user) or by the OOM killer: replace the
    // container rather than run the next program without them.
    if (brokenHelpers(entry)) healthy = false;
    if (!group || this.closed || !healthy || this.expired(entry)) {
      this.retire(entry, !healthy && entry.lifecycle.autoCleanup === false);
      return;
    }
    const waiter = group.waiters.shift();
    if (waiter) {
      entry.executions++;
      waiter.resolve(entry);
      return;
    }
    entry.state = 'idle';
  }

  /** Creates idle containers until `key` has at least `count` (bounded by maxPerKey). */
  async prewarm(key: string, spec: ContainerSpec, lifecycle: LifecycleSpec, count: number, hooks: PrepareHooks = {}): Promise<void> {
    const group = this.group(key, lifecycle);
    await this.createIdle(group, spec, lifecycle, Math.min(count, this.opts.maxPerKey) - group.entries.size - group.creating, hooks);
  }

  /** Creates containers until `key` has `minIdle` idle ones (or is full). */
  async topUp(key: string, spec: ContainerSpec, lifecycle: LifecycleSpec, minIdle: number): Promise<void> {
    if (this.closed) return;
    const group = this.group(key, lifecycle);
    const idle = [...group.entries].filter((e) => e.state === 'idle').length;
    const room = this.opts.maxPerKey - group.entries.size - group.creating;
    await this.createIdle(group, spec, lifecycle, Math.min(minIdle - idle - group.creating, room), {});
  }

  private async createIdle(group: Group, spec: ContainerSpec, lifecycle: LifecycleSpec, wanted: number, hooks: PrepareHooks): Promise<void> {
    const made = await Promise.allSettled(
      Array.from({ length: Math.max(0, wanted) }, () => this.createEntry(group, spec, lifecycle, hooks)),
    );
    for (const r of made) {
      if (r.status === 'fulfilled') {
        // Made ahead of any request: take back the execution createEntry counted.
        r.value.entry.executions--;
        this.release(r.value.entry, true);
      }
    }
    const failed = made.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  entries(): PoolEntry[] {
    return [...this.groups.values()].flatMap((g) => [...g.entries]);
  }

  /**
   * Removes one container, whatever its state (a busy one's run then fails or ends), named as
   * resolveRef reads names. False when it names none of this pool's containers;
   * ValidationError('id') when it is too short or could name several.
   */
  remove(ref: string): boolean {
    const entries = this.entries();
    const { found, problem } = resolveRef(ref, entries);
    if (!found) {
      // Too short or ambiguous among the pool's own: refused. Unknown: not the pool's.
      if (!ref || entries.some((e) => e.id.startsWith(ref))) throw new ValidationError('id', problem);
      return false;
    }
    this.retire(found, false);
    return true;
  }

  /** Checks every idle container of a key and replaces the dead ones' slots. */
  async healthCheck(key?: string): Promise<number> {
    let removed = 0;
    const idle = this.entries().filter((e) => e.state === 'idle' && (!key || e.key === key));
    await Promise.all(
      idle.map(async (entry) => {
        const healthy = !brokenHelpers(entry) && (await isRunning(entry.container));
        if (!healthy && entry.state === 'idle') {
          removed++;
          this.retire(entry, !entry.lifecycle.autoCleanup);
        }
      }),
    );
    return removed;
  }

  /**
   * Rejects waiters and removes every container, except idle ones that `park` accepts (it
   * hands them over to later Loom processes; see parking.ts).
   */
  async close(park?: (entry: PoolEntry) => Promise<boolean>): Promise<void> {
    this.closed = true;
    const parking: Promise<void>[] = [];
    for (const group of this.groups.values()) {
      clearInterval(group.healthTimer);
      for (const w of group.waiters.splice(0)) w.reject(new ClosedError('the executor is closed'));
      for (const entry of group.entries) {
        if (park && entry.state === 'idle' && !this.expired(entry)) {
          group.entries.delete(entry);
          entry.agent?.close();
          entry.runner?.close();
          parking.push(park(entry).then((parked) => (parked ? undefined : this.retire(entry, false))));
        } else {
          this.retire(entry, false);
        }
      }
    }
    await Promise.all(parking);
    // A removal the engine never answers (a wedged container) must not hold close() forever.
    const waitMs = this.opts.closeTimeoutMs ?? 15_000;
    const deadline = Date.now() + waitMs;
    // A creation under way retires its container itself once it sees the pool closed.
    await within(Promise.allSettled([...this.creations]), waitMs);
    while (this.removals.size) {
      if ((await within(Promise.all([...this.removals]), deadline - Date.now())) === NO_ANSWER) {
        this.opts.onError?.(new LoomError(`close(): ${this.removals.size} container removal(s) got no answer from the engine within ${waitMs / 1000} s; left to the engine`));
        return;
      }
    }
  }

  private group(key: string, lifecycle: LifecycleSpec): Group {
    let group = this.groups.get(key);
    if (!group) {
      group = { key, entries: new Set(), creating: 0, waiters: [] };
      this.groups.set(key, group);
    }
    if (!group.healthTimer) {
      group.healthTimer = setInterval(() => {
        this.healthCheck(key).catch((err) => this.opts.onError?.(err));
      }, lifecycle.healthCheckMs);
      group.healthTimer.unref();
    }
    return group;
  }

  private takeIdle(group: Group, lifecycle: LifecycleSpec): PoolEntry | undefined {
    for (const entry of group.entries) {
      if (entry.state !== 'idle') continue;
      entry.lifecycle = lifecycle;
      if (this.expired(entry)) {
        this.retire(entry, false);
        continue;
      }
      // Its runner or agent connection closed while it idled: the container died with them
      // (killed from outside, engine restarted). Do not hand it out.
      if (brokenHelpers(entry)) {
        this.retire(entry, lifecycle.autoCleanup === false);
        continue;
      }
      entry.state = 'busy';
      entry.executions++;
      return entry;
    }
    return undefined;
  }

  private createEntry(group: Group, spec: ContainerSpec, lifecycle: LifecycleSpec, hooks: PrepareHooks): Promise<{ entry: PoolEntry; reused: boolean }> {
    const creation = this.createEntryNow(group, spec, lifecycle, hooks);
    this.creations.add(creation);
    void creation.catch(() => undefined).finally(() => this.creations.delete(creation));
    return creation;
  }

  private async createEntryNow(
    group: Group,
    spec: ContainerSpec,
    lifecycle: LifecycleSpec,
    hooks: PrepareHooks,
  ): Promise<{ entry: PoolEntry; reused: boolean }> {
    group.creating++;
    try {
      const { reused = false, createdAtMs, executions: servedBefore = 0, runner, ...made } = await this.opts.create(spec, group.key, hooks);
      const now = Date.now();
      const entry: PoolEntry = {
        ...made,
        agent: null,
        runner: null,
        key: group.key,
        spec,
        lifecycle,
        createdAt: createdAtMs ?? now,
        lastUsedAt: now,
        state: 'busy',
        executions: servedBefore + 1,
      };
      group.entries.add(entry);
      // The first program waits for the runner rather than go by docker exec: it is up in
      // about the time an exec of the program takes to start (and its leftover check after),
      // and then serves that program and every later one. Where none can start, exec serves.
      const client = await runner;
      // A runner whose container left the pool meanwhile (removed, closed) would keep an engine
      // connection, and the process, alive for nothing.
      if (entry.state === 'removing' || !group.entries.has(entry) || this.closed) client?.close();
      else entry.runner = client;
      if (this.closed) {
        this.retire(entry, false);
        throw new ClosedError('the executor is closed');
      }
      return { entry, reused };
    } finally {
      group.creating--;
      // A failed creation frees its slot: let a waiter try.
      this.wakeForSlot(group);
    }
  }

  private expired(entry: PoolEntry): boolean {
    return entry.executions >= entry.lifecycle.maxExecutions || Date.now() - entry.createdAt >= entry.lifecycle.rotationMs;
  }

  /** Takes an entry out of the pool and removes its container (unless it is kept for a post-mortem). */
  private retire(entry: PoolEntry, keepContainer: boolean): void {
    const group = this.groups.get(entry.key);
    if (entry.state === 'removing') return;
    entry.state = 'removing';
    entry.agent?.close();
    entry.runner?.close();
    group?.entries.delete(entry);
    if (group) this.wakeForSlot(group);
    if (keepContainer) return;
    const removal = this.opts
      .remove(entry.container)
      .catch((err) => this.opts.onError?.(err))
      .finally(() => this.removals.delete(removal));
    this.removals.add(removal);
  }

  private wakeForSlot(group: Group): void {
    if (group.entries.size + group.creating < this.opts.maxPerKey) group.waiters.shift()?.resolve(null);
  }

  private wait(group: Group, signal?: AbortSignal): Promise<PoolEntry | null> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new AbortedError('cancelled while waiting for a container'));
      const waiter: Waiter = {
        resolve: (e) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(e);
        },
        reject,
      };
      const onAbort = (): void => {
        group.waiters.splice(group.waiters.indexOf(waiter), 1);
        reject(new AbortedError('cancelled while waiting for a container'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      group.waiters.push(waiter);
    });
  }
}

function brokenHelpers(entry: PoolEntry): boolean {
  return Boolean(entry.agent?.broken) || (entry.runner !== null && !entry.runner.alive);
}

export async function isRunning(container: Docker.Container): Promise<boolean> {
  try {
    const info = await container.inspect();
    return info.State.Running && !info.State.Paused;
  } catch {
    return false;
  }
}
