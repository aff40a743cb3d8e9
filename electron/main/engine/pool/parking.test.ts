// Warm containers handed from one Loom process to the next (two executors stand in for two
// processes: each has its own owner identity, as a process would).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listManaged } from './containers';
import { createExecutor, type Executor } from '../executor';
import { park, parseParked } from './parking';
import { docker, requireEngineAndImages } from '../testing/test-support';

const made: Executor[] = [];
const executor = async (parkOnClose: boolean): Promise<Executor> => {
  const e = await createExecutor({ parkOnClose, idleTtlMs: 60_000, minIdlePerConfig: 0 });
  made.push(e);
  return e;
};
const request = (name: string) => ({ command: ['python3', '-c', 'print(1)'], config: { name } });
const stateOf = async (id: string) => (await listManaged(docker)).find((c) => c.id === id);

beforeAll(requireEngineAndImages);
afterAll(async () => {
  await Promise.all(made.map((e) => e.close()));
  for (const c of await listManaged(docker)) if (c.configName.startsWith('parking-')) await docker.getContainer(c.id).remove({ force: true });
});

describe('parking', () => {
  it('parks idle containers on close, and the next executor claims one instead of creating', async () => {
    const first = await executor(true);
    const a = await first.execute(request('parking-reuse'));
    await first.close();
    const parked = await stateOf(a.containerId);
    expect(parseParked(parked!.name)).not.toBeNull();
    expect(parked!.parkedUntilMs).toBeGreaterThan(Date.now());

    const second = await executor(false);
    const b = await second.execute(request('parking-reuse'));
    expect(b.containerCreated).toBe(false);
    expect(b.containerId).toBe(a.containerId);
    expect((await stateOf(b.containerId))!.ownerInstance).toBe(second.owner.instance);
    // A different config never takes it.
    const other = await second.execute(request('parking-other'));
    expect(other.containerCreated).toBe(true);
  });

  it('lets exactly one of two racing executors claim a parked container', async () => {
    const first = await executor(true);
    const a = await first.execute(request('parking-race'));
    await first.close();
    const [x, y] = await Promise.all([executor(false), executor(false)]);
    const [rx, ry] = await Promise.all([x.execute(request('parking-race')), y.execute(request('parking-race'))]);
    expect([rx.containerCreated, ry.containerCreated].sort()).toEqual([false, true]);
    expect([rx.containerId, ry.containerId]).toContain(a.containerId);
    expect(rx.containerId).not.toBe(ry.containerId);
  });

  it('removes a parked container whose time is up when the next process starts', async () => {
    const first = await executor(false);
    const a = await first.execute(request('parking-expired'));
    const key = first.containers().find((c) => c.id === a.containerId)!.poolKey;
    // Leave it parked with an expiry in the past, as a long-gone process would have.
    expect(await park(docker, a.containerId, key, -1000)).toBe(true);
    await executor(false);
    expect(await stateOf(a.containerId)).toBeUndefined();
  });

  it('removes a parked container whose time is up while a process runs (it looks every reapIntervalMs)', async () => {
    const running = await createExecutor({ minIdlePerConfig: 0, reapIntervalMs: 300 });
    made.push(running);
    const other = await executor(false);
    const a = await other.execute(request('parking-expired-later'));
    const key = other.containers().find((c) => c.id === a.containerId)!.poolKey;
    expect(await park(docker, a.containerId, key, -1000)).toBe(true);
    const deadline = Date.now() + 10_000;
    while ((await stateOf(a.containerId)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await stateOf(a.containerId)).toBeUndefined();
    // Its own containers are not its to reap.
    const own = await running.execute(request('parking-own'));
    await new Promise((r) => setTimeout(r, 1000));
    expect(await stateOf(own.containerId)).toBeDefined();
  });

  it('removes rather than parks when close() is not asked to park', async () => {
    const e = await executor(false);
    const a = await e.execute(request('parking-off'));
    await e.close();
    expect(await stateOf(a.containerId)).toBeUndefined();
  });
});
