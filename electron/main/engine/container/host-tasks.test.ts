// The host tasks of a real gVisor sandbox, as the executor reads them after each run (the retirement
// itself is proven by abuse.test.ts's fork bombs: three in one gVisor sandbox, each followed by a
// program that works, in a sandbox kept only below half its limit).
import { afterAll, beforeAll, expect, it } from 'vitest';
import type Docker from 'dockerode';
import { docker, requireEngineAndImages, requireGvisor } from '../testing/test-support';
import { nearTaskLimit, pidsCurrentFile, readTasks } from './host-tasks';

let container: Docker.Container;

beforeAll(async () => {
  await requireEngineAndImages();
  await requireGvisor();
  // Ten guest processes that sleep: each costs the sandbox host tasks of its own.
  const program = 'import os, time\nfor _ in range(10):\n    if os.fork() == 0:\n        time.sleep(300)\ntime.sleep(300)';
  container = await docker.createContainer({
    Image: 'python:3.11-slim',
    Cmd: ['python3', '-c', program],
    User: '65534:65534',
    HostConfig: { Runtime: 'runsc', AutoRemove: true, NetworkMode: 'none' },
  });
  await container.start();
});

afterAll(() => container?.remove({ force: true }).catch(() => undefined));

it("finds a gVisor sandbox's pids.current and counts more host tasks than the guest has processes", async () => {
  const file = await pidsCurrentFile(container);
  expect(file).toMatch(/\/pids\.current$/);
  let tasks = 0;
  for (let i = 0; i < 50 && tasks <= 11 * 2; i++) {
    tasks = (await readTasks(file ?? '')) ?? 0;
    await new Promise((r) => setTimeout(r, 100));
  }
  // The ptrace platform's stubs and tracing threads: several host tasks per guest process.
  expect(tasks).toBeGreaterThan(11 * 2);
  // Retired past half the limit, whether or not the run was killed.
  expect(await nearTaskLimit(container, 100 * tasks, true)).toBe(false);
  expect(await nearTaskLimit(container, tasks, false)).toBe(true);
});

it('reads nothing for a file that is not there, and then goes by whether the run was killed', async () => {
  expect(await readTasks('/sys/fs/cgroup/pids/no-such-container/pids.current')).toBeNull();
  const gone = docker.getContainer('loom-no-such-container');
  expect(await nearTaskLimit(gone, 100, false)).toBe(false);
  expect(await nearTaskLimit(gone, 100, true)).toBe(true);
});
