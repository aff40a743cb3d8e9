// How near a gVisor sandbox is to its engine pids limit, read after each run. On gVisor's ptrace
// platform the host tasks behind a sandbox are pooled rather than freed when the program's tasks
// end (isolation.ts gvisorHostPidsLimit): a fork bomb leaves about 400 of them, and the third
// bomb in one sandbox reaches the limit, where the whole sandbox ends, under whichever program
// runs then. A sandbox past half its limit is therefore retired after the run that took it there.
import { readFile } from 'node:fs/promises';
import type Docker from 'dockerode';

/**
 * The pids.current file of a container's cgroup on this machine, found through the host PID of
 * its first process (cgroup v1 or v2); null where the engine's cgroups are not visible from here
 * (Docker Desktop's VM, a remote engine).
 */
export async function pidsCurrentFile(container: Docker.Container): Promise<string | null> {
  const { State } = await container.inspect();
  if (!State.Pid) return null;
  const lines = await readFile(`/proc/${State.Pid}/cgroup`, 'utf8').catch(() => '');
  for (const line of lines.split('\n')) {
    const [, controllers, path] = line.split(':', 3);
    if (path === undefined) continue;
    const file = controllers === 'pids' ? `/sys/fs/cgroup/pids${path}/pids.current` : controllers === '' ? `/sys/fs/cgroup${path}/pids.current` : null;
    if (file && (await readTasks(file)) !== null) return file;
  }
  return null;
}

/** The number in a pids.current file, or null if it cannot be read (the container is gone). */
export async function readTasks(file: string): Promise<number | null> {
  const n = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
  return Number.isFinite(n) ? n : null;
}

const files = new WeakMap<Docker.Container, Promise<string | null>>();

/**
 * Whether a gVisor container should be retired after a run: its host tasks are past half its
 * engine pids limit. Where they cannot be read, a run that had to be killed (the way a bomb
 * ends) retires it instead.
 */
export async function nearTaskLimit(container: Docker.Container, hostPidsLimit: number, timedOut: boolean): Promise<boolean> {
  let file = files.get(container);
  if (!file) files.set(container, (file = pidsCurrentFile(container).catch(() => null)));
  const path = await file;
  const tasks = path ? await readTasks(path) : null;
  return tasks === null ? timedOut : tasks > hostPidsLimit / 2;
}
