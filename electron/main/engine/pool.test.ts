// The pool's bookkeeping on its own, with a factory of stand-in containers: the engine is not
// what is under test here (the executor tests use real containers), the queueing rules are.
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { AbortedError, ClosedError } from './errors';
import { Pool } from './pool';
import type { ContainerSpec, LifecycleSpec } from './request';

const spec = { name: 'p' } as ContainerSpec;
const lifecycle: LifecycleSpec = { maxExecutions: 1000, rotationMs: 3_600_000, healthCheckMs: 60_000, autoCleanup: true };

function makePool(maxPerKey = 2) {
  let n = 0;
  const removed: string[] = [];
  const pool = new Pool({
    maxPerKey,
    create: async () => {
      const id = `c${++n}`;
      return { id, name: id, container: { id } as Docker.Container, agent: null, runner: Promise.resolve(null) };
    },
    remove: async (c) => {
      removed.push(c.id);
    },
  });
  return { pool, removed, created: () => n };
}

describe('Pool', () => {
  it('bounds containers per key and serves waiters first come, first served', async () => {
    const { pool, created } = makePool(2);
    const a = await pool.acquire('k', spec, lifecycle);
    const b = await pool.acquire('k', spec, lifecycle);
    const order: string[] = [];
    const third = pool.acquire('k', spec, lifecycle).then((r) => order.push(`third:${r.entry.id}`));
    const fourth = pool.acquire('k', spec, lifecycle).then((r) => order.push(`fourth:${r.entry.id}`));
    await new Promise((r) => setTimeout(r, 10));
    expect(created()).toBe(2);
    pool.release(b.entry, true);
    pool.release(a.entry, true);
    await Promise.all([third, fourth]);
    expect(order).toEqual(['third:c2', 'fourth:c1']);
    expect(created()).toBe(2);
  });

  it('rotates a container by age as well as by use count', async () => {
    const { pool, removed } = makePool(1);
    const short = { ...lifecycle, rotationMs: 50 };
    const a = await pool.acquire('k', spec, short);
    pool.release(a.entry, true);
    const b = await pool.acquire('k', spec, short);
    expect(b.created).toBe(false);
    pool.release(b.entry, true);
    await new Promise((r) => setTimeout(r, 60));
    const c = await pool.acquire('k', spec, short);
    expect(c.created).toBe(true);
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
});
