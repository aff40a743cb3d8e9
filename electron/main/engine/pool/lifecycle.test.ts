// Rotation, health checks, pre-warming, clean-up on close, and reaping after a crash.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostname } from 'node:os';
import { ContainerState } from '../../../../shared/gen/loom/v1/docker_pb';
import { listManaged, pruneVolumes } from './containers';
import { createExecutor, type Executor } from '../executor';
import { LABEL, MANAGED_FILTER } from './labels';
import { containersOf, docker, requireEngineAndImages, text, waitFor } from '../testing/test-support';

let executor: Executor;

beforeAll(async () => {
  await requireEngineAndImages();
  executor = await createExecutor({ minIdlePerConfig: 0 });
});

afterAll(async () => {
  await executor?.close();
});

const hello = ['python3', '-c', "print('hi')"];
const gone = async (id: string) => !(await listManaged(docker)).some((c) => c.id === id);

describe('container lifecycle', () => {
  it('rotates a container after max_executions', async () => {
    const config = { name: 'rotate', lifecycle: { maxExecutions: 2 } };
    const a = await executor.execute({ command: hello, config });
    const b = await executor.execute({ command: hello, config });
    const c = await executor.execute({ command: hello, config });
    expect([a.containerCreated, b.containerCreated, c.containerCreated]).toEqual([true, false, true]);
    expect(b.containerId).toBe(a.containerId);
    expect(c.containerId).not.toBe(a.containerId);
    await waitFor('the rotated container to be removed', () => gone(a.containerId));
  });

  it('replaces a container removed from outside without failing the next request', async () => {
    const config = { name: 'removed-outside' };
    const a = await executor.execute({ command: hello, config });
    await docker.getContainer(a.containerId).remove({ force: true });
    const b = await executor.execute({ command: hello, config });
    expect(b.exitCode).toBe(0);
    expect(text(b.stdout)).toBe('hi\n');
    expect(b.containerCreated).toBe(true);
    expect(b.containerId).not.toBe(a.containerId);
  });

  it('replaces a container killed from outside without failing the next request', async () => {
    const config = { name: 'killed-outside' };
    const a = await executor.execute({ command: hello, config });
    await docker.getContainer(a.containerId).kill();
    const b = await executor.execute({ command: hello, config });
    expect(text(b.stdout)).toBe('hi\n');
    expect(b.containerId).not.toBe(a.containerId);
    await waitFor('the dead container to be cleaned up', () => gone(a.containerId));
  });

  it('finds dead containers with the periodic health check and cleans them up', async () => {
    const config = { name: 'health', lifecycle: { healthCheckIntervalSeconds: 1 } };
    const a = await executor.execute({ command: hello, config });
    await docker.getContainer(a.containerId).kill();
    await waitFor('the health check to drop the dead container', async () => !executor.containers().some((c) => c.id === a.containerId));
    await waitFor('auto_cleanup to remove it', () => gone(a.containerId));
  });

  it('keeps a failed container for inspection when auto_cleanup is off', async () => {
    const config = { name: 'no-cleanup', lifecycle: { healthCheckIntervalSeconds: 1, autoCleanup: false } };
    const a = await executor.execute({ command: hello, config });
    await docker.getContainer(a.containerId).kill();
    await waitFor('the health check to drop the dead container', async () => !executor.containers().some((c) => c.id === a.containerId));
    await new Promise((r) => setTimeout(r, 500));
    const kept = (await listManaged(docker)).find((c) => c.id === a.containerId);
    expect(kept?.engineState).toBe('exited');
    await docker.getContainer(a.containerId).remove({ force: true });
  });

  it('pre-warms containers so the first request is warm', async () => {
    const request = { command: hello, config: { name: 'prewarmed' } };
    await executor.prewarm(request, 2);
    const idle = executor.containers().filter((c) => c.configName === 'prewarmed');
    expect(idle).toHaveLength(2);
    expect(idle.every((c) => c.state === ContainerState.IDLE)).toBe(true);
    const r = await executor.execute(request);
    expect(r.containerCreated).toBe(false);
    expect(idle.map((c) => c.id)).toContain(r.containerId);
  });

  it('keeps an idle container ready in the background for a config in use', async () => {
    const warm = await createExecutor({ minIdlePerConfig: 1 });
    try {
      const first = await warm.execute({ command: hello, config: { name: 'min-idle' } });
      expect(first.containerCreated).toBe(true);
      // While the first container was busy, a second one was made ready for the next request.
      await waitFor('an idle container besides the first', async () =>
        warm.containers().some((c) => c.id !== first.containerId && c.state === ContainerState.IDLE),
      );
      const [a, b] = await Promise.all([warm.execute({ command: hello, config: { name: 'min-idle' } }), warm.execute({ command: hello, config: { name: 'min-idle' } })]);
      expect([a.containerCreated, b.containerCreated]).toEqual([false, false]);
    } finally {
      await warm.close();
    }
  });

  it('close() removes every container the executor created', async () => {
    const own = await createExecutor({ minIdlePerConfig: 0 });
    await Promise.all([
      own.execute({ command: hello }),
      own.execute({ command: hello, config: { name: 'second', resourceLimits: { memoryMb: 128n } } }),
      own.prewarm({ command: hello, config: { name: 'third' } }, 2),
    ]);
    expect((await containersOf(own.scheduler.owner.instance)).length).toBe(4);
    await own.close();
    expect(await containersOf(own.scheduler.owner.instance)).toEqual([]);
  });

  it('prunes resource volumes no container uses, and keeps the one in use', async () => {
    const r = await executor.execute({ command: hello, config: { name: 'volume-user' } });
    const inUse = (await docker.getContainer(r.containerId).inspect()).Mounts.find((m) => m.Type === 'volume')!.Name!;
    await docker.createVolume({ Name: 'loom-resources-stale-test', Labels: { [LABEL.managed]: 'true' } });
    const removed = await pruneVolumes(docker);
    expect(removed).toContain('loom-resources-stale-test');
    expect(removed).not.toContain(inUse);
    const { Volumes } = await docker.listVolumes();
    expect(Volumes.map((v) => v.Name)).toContain(inUse);
  });

  it('removes containers left by a crashed Loom process at start-up', async () => {
    const orphan = await docker.createContainer({
      Image: 'python:3.11-slim',
      Entrypoint: ['sleep'],
      Cmd: ['infinity'],
      Labels: {
        [LABEL.managed]: 'true',
        [LABEL.ownerPid]: '999999',
        [LABEL.ownerHost]: hostname(),
        [LABEL.ownerInstance]: 'crashed',
      },
      HostConfig: { NetworkMode: 'none' },
    });
    await orphan.start();
    // A container of a live Loom process (this one) must survive the reaping.
    const live = await executor.execute({ command: hello, config: { name: 'live' } });
    const next = await createExecutor({ minIdlePerConfig: 0 });
    try {
      const ids = (await docker.listContainers({ all: true, filters: MANAGED_FILTER })).map((c) => c.Id);
      expect(ids).not.toContain(orphan.id);
      expect(ids).toContain(live.containerId);
    } finally {
      await next.close();
    }
  });
});
