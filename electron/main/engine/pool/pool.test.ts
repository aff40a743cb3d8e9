// The pool's bookkeeping on its own, with a factory of stand-in containers: the engine is not
// what is under test here (the executor tests use real containers), the queueing rules are.
import type Docker from 'dockerode';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AbortedError, ClosedError, ValidationError } from '../errors';
import { Pool } from './pool';
import type { ContainerSpec, LifecycleSpec } from '../request/request';
import type { RunnerClient } from '../runner/client';

const spec = { name: 'p' } as ContainerSpec;
const lifecycle: LifecycleSpec = { maxExecutions: 1000, rotationMs: 3_600_000, healthCheckMs: 60_000, autoCleanup: true };

interface StandIns {
  /** The runner each new container gets (default none). */
  runner?: () => RunnerClient | null;
  /** How removals go (default: at once). */
  remove?: (id: string) => Promise<void>;
  closeTimeoutMs?: number;
  /** The id of the n-th container (default c1, c2, ...). */
  idOf?: (n: number) => string;
}

function makePool(maxPerKey = 2, standIns: StandIns = {}) {
  let n = 0;
  const removed: string[] = [];
  const errors: unknown[] = [];
  const pool = new Pool({
    maxPerKey,
    create: async () => {
      n++;
      const id = standIns.idOf?.(n) ?? `c${n}`;
      return { id, name: id, container: { id } as Docker.Container, runner: Promise.resolve(standIns.runner?.() ?? null) };
    },
    remove: async (c) => {
      await standIns.remove?.(c.id);
      removed.push(c.id);
    },
    onError: (err) => errors.push(err),
    closeTimeoutMs: standIns.closeTimeoutMs,
  });
  return { pool, removed, errors, created: () => n };
}

describe('Pool', () => {
  // The pool's clocks (rotation by age, health checks, close()'s bound) run on fake time: a test
  // moves it to either side of a bound instead of sleeping past it and hoping.
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('bounds containers per key and serves waiters first come, first served', async () => {
    const { pool, created } = makePool(2);
    const a = await pool.acquire('k', spec, lifecycle);
    const b = await pool.acquire('k', spec, lifecycle);
    const order: string[] = [];
    const third = pool.acquire('k', spec, lifecycle).then((r) => order.push(`third:${r.entry.id}`));
    const fourth = pool.acquire('k', spec, lifecycle).then((r) => order.push(`fourth:${r.entry.id}`));
    await vi.advanceTimersByTimeAsync(10);
    expect(created()).toBe(2);
    expect(order).toEqual([]);
    pool.release(b.entry, true);
    pool.release(a.entry, true);
    await Promise.all([third, fourth]);
    expect(order).toEqual(['third:c2', 'fourth:c1']);
    expect(created()).toBe(2);
  });

  it('rotates a container once it is rotationMs old', async () => {
    const { pool, removed } = makePool(1);
    const short = { ...lifecycle, rotationMs: 50 };
    const a = await pool.acquire('k', spec, short);
    pool.release(a.entry, true);
    vi.advanceTimersByTime(49);
    const b = await pool.acquire('k', spec, short);
    expect(b.created).toBe(false);
    pool.release(b.entry, true);
    vi.advanceTimersByTime(1);
    const c = await pool.acquire('k', spec, short);
    expect(c.created).toBe(true);
    expect(removed).toEqual(['c1']);
  });

  it('rotates a container after maxExecutions uses', async () => {
    const { pool, removed } = makePool(1);
    const twice = { ...lifecycle, maxExecutions: 2 };
    const served: boolean[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await pool.acquire('k', spec, twice);
      served.push(r.created);
      pool.release(r.entry, true);
    }
    expect(served).toEqual([true, false, true]);
    expect(removed).toEqual(['c1']);
  });

  it('frees the slot of an unhealthy container for a waiter, which gets a new one', async () => {
    const { pool, removed } = makePool(1);
    const a = await pool.acquire('k', spec, lifecycle);
    const waiting = pool.acquire('k', spec, lifecycle);
    pool.release(a.entry, false);
    const b = await waiting;
    expect(b.created).toBe(true);
    expect(b.entry.id).toBe('c2');
    expect(removed).toEqual(['c1']);
  });

  it('lets a waiter give up, and close() rejects the rest and removes everything', async () => {
    const { pool, removed } = makePool(1);
    const a = await pool.acquire('k', spec, lifecycle);
    const controller = new AbortController();
    const gaveUp = pool.acquire('k', spec, lifecycle, { signal: controller.signal });
    controller.abort();
    await expect(gaveUp).rejects.toBeInstanceOf(AbortedError);
    const stuck = pool.acquire('k', spec, lifecycle);
    await pool.close();
    await expect(stuck).rejects.toBeInstanceOf(ClosedError);
    expect(removed).toEqual([a.entry.id]);
    await expect(pool.acquire('k', spec, lifecycle)).rejects.toBeInstanceOf(ClosedError);
  });

  it('keeps keys apart', async () => {
    const { pool } = makePool(1);
    const a = await pool.acquire('k1', spec, lifecycle);
    const b = await pool.acquire('k2', spec, lifecycle);
    expect(a.entry.id).not.toBe(b.entry.id);
    expect(b.created).toBe(true);
  });

  it('does not hand out an idle container whose runner died while it idled, and removes it', async () => {
    // What an engine restart does to every pooled container: their runner connections close.
    const runners: { alive: boolean; close: () => void }[] = [];
    const { pool, removed } = makePool(2, {
      runner: () => {
        const r = { alive: true, close: () => undefined };
        runners.push(r);
        return r as unknown as RunnerClient;
      },
    });
    const a = await pool.acquire('k', spec, lifecycle);
    expect(a.entry.runner).toBe(runners[0]);
    pool.release(a.entry, true);
    runners[0]!.alive = false;
    const b = await pool.acquire('k', spec, lifecycle);
    expect(b.created).toBe(true);
    expect(b.entry.id).toBe('c2');
    expect(removed).toEqual(['c1']);
  });

  it('removes a container named by its id, its name or a unique id prefix of 12 characters, and nothing else', async () => {
    const { pool, removed } = makePool(3, { idOf: (n) => `${'ab'.repeat(8)}${n}${'0'.repeat(47)}` });
    const [a, b, c] = [await pool.acquire('k', spec, lifecycle), await pool.acquire('k', spec, lifecycle), await pool.acquire('k', spec, lifecycle)];
    // A short prefix, or one all three ids start with, named an arbitrary container before.
    expect(() => pool.remove('a')).toThrow(ValidationError);
    expect(() => pool.remove('abababababababab')).toThrow(/starts the ids of 3 containers/);
    expect(() => pool.remove('')).toThrow(/must not be empty/);
    expect(pool.remove('0123456789abcdef')).toBe(false);
    expect(removed).toEqual([]);

    expect(pool.remove(b.entry.id.slice(0, 17))).toBe(true);
    expect(pool.remove(c.entry.name)).toBe(true);
    expect(pool.remove(a.entry.id)).toBe(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(removed).toEqual([b.entry.id, c.entry.id, a.entry.id]);
    expect(pool.entries()).toEqual([]);
  });

  it('close() stops waiting for a removal the engine never answers, and says so', async () => {
    const { pool, errors } = makePool(1, { remove: () => new Promise(() => undefined), closeTimeoutMs: 100 });
    const a = await pool.acquire('k', spec, lifecycle);
    pool.release(a.entry, true);
    let closed = false;
    const closing = pool.close().then(() => (closed = true));
    await vi.advanceTimersByTimeAsync(99);
    expect(closed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await closing;
    expect(errors.map(String)).toEqual([expect.stringMatching(/1 container removal\(s\) got no answer from the engine within 0\.1 s/)]);
  });
});
