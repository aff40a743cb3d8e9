// The Loom service against the real engine and a real SQLite file: what the UI sees through
// either transport (calls, events, history), with no mocks.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoomEvent, RunSummary } from '../../../shared/api';
import type { ExecuteEventJson, ExecuteRequestJson } from '../../../shared/gen/loom/v1/docker_pb';
import { listManaged, removeContainer } from '../engine/pool/containers';
import { LABEL } from '../engine/pool/labels';
import { listPackageImages } from '../engine/packages/package-cache';
import { docker, requireEngineAndImages, waitFor } from '../engine/testing/test-support';
import { createLoomService, type LoomService } from './service';

let dir: string;
let historyPath: string;
let service: LoomService;
const events: LoomEvent[] = [];

const py = (code: string): ExecuteRequestJson => ({ command: ['python3', '-c', code] });
const decode = (base64: string | undefined): string => Buffer.from(base64 ?? '', 'base64').toString('utf8');

function runEvents(runId: string): ExecuteEventJson[] {
  return events.flatMap((e) => (e.type === 'run.event' && e.runId === runId ? [e.event] : []));
}

type FinishedEvent = Extract<LoomEvent, { type: 'run.finished' }>;

function finishedEvent(runId: string, timeoutMs = 60_000): Promise<FinishedEvent> {
  return waitFor(`run ${runId} to finish`, async () => events.find((e): e is FinishedEvent => e.type === 'run.finished' && e.run.id === runId), timeoutMs);
}

async function finished(runId: string, timeoutMs = 60_000): Promise<RunSummary> {
  return (await finishedEvent(runId, timeoutMs)).run;
}

async function run(request: ExecuteRequestJson): Promise<RunSummary> {
  const { id } = await service.startRun(randomUUID(), request);
  return finished(id);
}

async function validationFailure(request: unknown, runId: unknown = randomUUID()): Promise<{ name: string; field: string }> {
  const err = await service.startRun(runId as string, request as ExecuteRequestJson).then(
    () => {
      throw new Error('startRun accepted a bad request');
    },
    (e: unknown) => e as { name: string; field: string },
  );
  return { name: err.name, field: err.field };
}

beforeAll(async () => {
  await requireEngineAndImages();
  dir = await mkdtemp(join(tmpdir(), 'loom-service-test-'));
  historyPath = join(dir, 'history.sqlite');
  service = await createLoomService({ historyPath });
  service.onEvent((e) => events.push(e));
});

afterAll(async () => {
  await service?.close();
  // Every service of this test process is closed: none of its containers may be left.
  const left = (await listManaged(docker)).filter((c) => c.ownerPid === process.pid);
  // The images that cached installs from our packages directory (no container uses them now).
  for (const image of await listPackageImages(docker)) {
    if (dir && image.packages.some((p) => p.startsWith(`${realpathSync(dir)}/`))) await docker.getImage(image.id).remove().catch(() => undefined);
  }
  if (dir) await rm(dir, { recursive: true, force: true });
  expect(left.map((c) => c.name)).toEqual([]);
});

describe('LoomService', () => {
  let helloRunId = '';
  let helloContainer = '';

  it('reports the engine as up, with its version', async () => {
    const status = await service.engineStatus();
    expect(status.ok).toBe(true);
    expect(status.version).toMatch(/^\d+\.\d+/);
    expect(status.apiVersion).toMatch(/^1\.\d+$/);
    expect(status.address).toMatch(/^(unix|tcp|ssh|npipe):/);
  });

  it('runs a Python hello under the id the caller chose: phases, stdout, done, and run.finished', async () => {
    const runId = randomUUID();
    helloRunId = runId;
    const started = await service.startRun(runId, py("import sys\nprint('Hello from Docker!')\nprint('warn', file=sys.stderr)"));
    expect(started).toMatchObject({ id: runId, status: 'running', runtime: 'python', title: "print('Hello from Docker!')" });
    const { run: summary, error } = await finishedEvent(runId);
    expect(summary).toMatchObject({ id: runId, status: 'ok', exitCode: 0, runtime: 'python', title: "print('Hello from Docker!')" });
    expect(summary.durationMs).toBeGreaterThan(0);
    expect(error).toBeUndefined();

    const own = runEvents(runId);
    expect(own.filter((e) => e.phase).map((e) => e.phase?.phase)).toEqual(expect.arrayContaining(['PHASE_IMAGE', 'PHASE_CONTAINER', 'PHASE_RUNNING', 'PHASE_DONE']));
    expect(own.map((e) => decode(e.stdout)).join('')).toBe('Hello from Docker!\n');
    expect(own.map((e) => decode(e.stderr)).join('')).toBe('warn\n');
    expect(own.some((e) => e.spans?.spans?.some((s) => s.name === 'docker.execute'))).toBe(true);
    const done = own.at(-1)?.done;
    expect(done).toBeDefined();
    expect(done?.containerId).toMatch(/^[0-9a-f]{64}$/);
    // Output and spans already arrived as their own events: done does not repeat them.
    expect(done?.stdout).toBeUndefined();
    expect(done?.spans).toBeUndefined();
    helloContainer = done?.containerId ?? '';

    // run.finished comes after the last run event, then the pool is said to have changed.
    const finishedAt = events.findIndex((e) => e.type === 'run.finished' && e.run.id === runId);
    const lastEvent = events.findLastIndex((e) => e.type === 'run.event' && e.runId === runId);
    expect(finishedAt).toBeGreaterThan(lastEvent);
    expect(events.slice(finishedAt).some((e) => e.type === 'pool.changed')).toBe(true);
  });

  it('keeps the run in the history with its request, response and spans', async () => {
    const record = await service.getRun(helloRunId);
    expect(record).toMatchObject({ id: helloRunId, status: 'ok', exitCode: 0, containerCreated: true });
    expect(record?.request.command?.[0]).toBe('python3');
    expect(decode(record?.response?.stdout)).toBe('Hello from Docker!\n');
    expect(record?.response?.containerId).toBe(helloContainer);
    const names = record?.response?.spans?.map((s) => s.name) ?? [];
    expect(names).toEqual(expect.arrayContaining(['docker.execute', 'docker.run']));
    expect((await service.listRuns())[0]?.id).toBe(helloRunId);
  });

  it('merges a flood of output into few events, keeping stdout and stderr in arrival order', async () => {
    const code = [
      'import sys, time',
      "for i in range(3000): print(f'line {i}', flush=True)",
      'time.sleep(0.2)',
      "print('to stderr', file=sys.stderr, flush=True)",
      'time.sleep(0.2)',
      "print('back on stdout', flush=True)",
    ].join('\n');
    const summary = await run(py(code));
    expect(summary.status).toBe('ok');
    const output = runEvents(summary.id).filter((e) => e.stdout !== undefined || e.stderr !== undefined);
    const expected = Array.from({ length: 3000 }, (_, i) => `line ${i}\n`).join('');
    const kinds = output.map((e) => (e.stdout !== undefined ? 'out' : 'err'));
    const firstErr = kinds.indexOf('err');
    expect(output.slice(0, firstErr).map((e) => decode(e.stdout)).join('')).toBe(expected);
    expect(decode(output[firstErr]?.stderr)).toBe('to stderr\n');
    expect(output.slice(firstErr + 1).map((e) => decode(e.stdout)).join('')).toBe('back on stdout\n');
    expect(kinds.slice(firstErr + 1)).not.toContain('err');
    // 3000 separate writes arrive as a handful of batches, not thousands of events.
    expect(firstErr).toBeLessThan(100);
  });

  it('rejects bad requests with a ValidationError naming the field, and records nothing', async () => {
    const runsBefore = (await service.listRuns()).length;
    expect(await validationFailure({ command: ['x'], config: { resourceLimits: { memoryMb: '-1' } } })).toEqual({
      name: 'ValidationError',
      field: 'config.resource_limits.memory_mb',
    });
    expect(await validationFailure({ command: ['x'], runtimeType: 'RUNTIME_TYPE_COBOL' })).toEqual({ name: 'ValidationError', field: 'runtime_type' });
    expect(await validationFailure({ command: ['x'], config: { runtimeType: 'PYTHON' } })).toEqual({ name: 'ValidationError', field: 'config.runtime_type' });
    expect(await validationFailure({ command: ['x'], config: { resourceLimits: { pidsLimit: 1.5 } } })).toEqual({
      name: 'ValidationError',
      field: 'config.resource_limits.pids_limit',
    });
    expect(await validationFailure({ command: ['x'], confg: {} })).toEqual({ name: 'ValidationError', field: 'confg' });
    expect(await validationFailure({ command: [] })).toEqual({ name: 'ValidationError', field: 'command' });
    expect(await validationFailure('print(1)')).toEqual({ name: 'ValidationError', field: 'request' });
    const message = await service.startRun(randomUUID(), { command: ['x'], runtimeType: 'RUNTIME_TYPE_COBOL' } as unknown as ExecuteRequestJson).catch((e: Error) => e.message);
    expect(message).toContain('RUNTIME_TYPE_PYTHON');
    expect((await service.listRuns()).length).toBe(runsBefore);
  });

  it('refuses a run id that is not a fresh UUID with a ValidationError naming runId, and records nothing', async () => {
    const runsBefore = (await service.listRuns()).length;
    for (const bad of ['run-1', '', helloRunId.toUpperCase(), `${helloRunId}0`, 42, null]) {
      expect(await validationFailure(py('print(1)'), bad)).toEqual({ name: 'ValidationError', field: 'runId' });
    }
    await expect(service.startRun('run-1', py('print(1)'))).rejects.toThrow("runId: must be a UUID in lowercase, as crypto.randomUUID() makes it; got 'run-1'");
    // The id of a stored run.
    await expect(service.startRun(helloRunId, py('print(1)'))).rejects.toMatchObject({ name: 'ValidationError', field: 'runId', message: expect.stringContaining('another run') });
    expect((await service.listRuns()).length).toBe(runsBefore);
    expect((await service.getRun(helloRunId))?.status).toBe('ok');
    // Two calls with one id at once: one run starts, the other call is refused.
    const id = randomUUID();
    const both = await Promise.allSettled([service.startRun(id, py('print(5)')), service.startRun(id, py('print(6)'))]);
    expect(both.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(both.find((r) => r.status === 'rejected')?.reason).toMatchObject({ name: 'ValidationError', field: 'runId' });
    expect((await finished(id)).status).toBe('ok');
    expect((await service.listRuns()).length).toBe(runsBefore + 1);
  });

  describe('local package files', () => {
    // The service's packages directory: by default beside the history file.
    const packagesDir = (): string => join(dir, 'packages');
    let tarball = '';
    const nodeRun = (pkg: string): ExecuteRequestJson => ({
      runtimeType: 'RUNTIME_TYPE_NODE',
      command: ['node', '-e', "console.log(require('loom-service-demo').value)"],
      config: { packages: [pkg] },
    });
    const refusal = async (request: ExecuteRequestJson): Promise<{ name: string; field: string; message: string }> =>
      service.startRun(randomUUID(), request).then(
        () => {
          throw new Error('startRun accepted a package outside the packages directory');
        },
        (e: unknown) => e as { name: string; field: string; message: string },
      );

    beforeAll(() => {
      // An npm package packed to a tarball, as `npm pack` makes it, into the packages directory.
      const src = join(dir, 'npm-src');
      mkdirSync(src);
      writeFileSync(join(src, 'package.json'), JSON.stringify({ name: 'loom-service-demo', version: '1.0.0', main: 'index.js' }));
      writeFileSync(join(src, 'index.js'), "module.exports = { value: 'from the packages directory' };\n");
      tarball = join(packagesDir(), execFileSync('npm', ['pack', '--silent', '--pack-destination', packagesDir()], { cwd: src }).toString().trim());
    });

    it('makes its packages directory beside the history file', () => {
      expect(statSync(packagesDir()).isDirectory()).toBe(true);
    });

    it('installs a tarball from its packages directory', async () => {
      const summary = await run(nodeRun(tarball));
      expect(summary.status).toBe('ok');
      const record = await service.getRun(summary.id);
      expect(decode(record?.response?.stdout)).toBe('from the packages directory\n');
    });

    it('refuses a path outside it, or a link out of it, with one message whether or not a file is there, and records nothing', async () => {
      const runsBefore = (await service.listRuns()).length;
      const outside = join(dir, 'elsewhere', basename(tarball));
      mkdirSync(join(dir, 'elsewhere'));
      const link = join(packagesDir(), 'link-out-1.0.0.tgz');
      symlinkSync(outside, link);
      const seen: string[] = [];
      for (const exists of [false, true]) {
        if (exists) await copyFile(tarball, outside);
        for (const path of [outside, link]) {
          const err = await refusal(nodeRun(path));
          expect(err).toMatchObject({ name: 'ValidationError', field: 'config.packages[0]' });
          expect(err.message).toContain(`not in the packages directory ${packagesDir()}`);
          seen.push(err.message);
          // prewarm takes the same policy.
          await expect(service.prewarm(nodeRun(path), 1)).rejects.toMatchObject({ name: 'ValidationError', message: err.message });
        }
      }
      expect(seen.slice(0, 2)).toEqual(seen.slice(2));
      const dotted = await refusal(nodeRun(`${packagesDir()}/../elsewhere/${basename(tarball)}`));
      expect(dotted).toMatchObject({ name: 'ValidationError', field: 'config.packages[0]' });
      expect((await service.listRuns()).length).toBe(runsBefore);
    });
  });

  it('reports a run past its timeout as timed_out', async () => {
    const summary = await run({ ...py('while True: pass'), timeoutSeconds: 2 });
    expect(summary.status).toBe('timed_out');
    expect((await service.getRun(summary.id))?.response?.timedOut).toBe(true);
  });

  it('cancels a run within seconds, and run.finished says what stopped it', async () => {
    const runId = randomUUID();
    await service.startRun(runId, py("import time\nprint('sleeping', flush=True)\ntime.sleep(30)"));
    await waitFor('the program to start', async () => runEvents(runId).some((e) => decode(e.stdout) === 'sleeping\n'));
    const t0 = Date.now();
    await service.cancelRun(runId);
    const { run: summary, error } = await finishedEvent(runId, 10_000);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(summary.status).toBe('cancelled');
    // The same error as the stored record: the UI need not ask for it.
    expect(error).toMatchObject({ name: 'AbortedError', message: expect.stringContaining('cancelled') });
    expect((await service.getRun(runId))?.error).toEqual(error);
    await service.cancelRun('no-such-run');
  });

  it('lists its containers with live CPU and memory, and removes one', async () => {
    const summary = await run({ ...py('print(1)'), config: { name: 'pool-view', resourceLimits: { memoryMb: '128', cpuCores: 0.5 } } });
    const containerId = (await service.getRun(summary.id))?.response?.containerId ?? '';
    const listed = await service.listContainers();
    const mine = listed.find((c) => c.info.id === containerId);
    expect(mine).toBeDefined();
    expect(mine?.external).toBe(false);
    expect(mine?.info.configName).toBe('pool-view');
    expect(typeof mine?.cpuPercent).toBe('number');
    expect(mine?.memoryBytes).toBeGreaterThan(0);
    expect(mine?.memoryLimitBytes).toBe(128 * 1024 * 1024);
    expect(mine?.config).toContain('python:3.11-slim');
    expect(mine?.config).toContain('128 MB');
    expect(mine?.config).toContain('0.5 CPUs');
    expect(mine?.config).toContain('network none');

    // A few characters of an id named an arbitrary container before: now refused, nothing removed.
    await expect(service.removeContainer(containerId.slice(0, 4))).rejects.toMatchObject({ name: 'ValidationError', field: 'id', message: expect.stringContaining('at least 12 characters') });
    expect((await service.listContainers()).map((c) => c.info.id)).toContain(containerId);

    const changes = events.filter((e) => e.type === 'pool.changed').length;
    await service.removeContainer(containerId.slice(0, 12));
    expect((await service.listContainers()).map((c) => c.info.id)).not.toContain(containerId);
    expect(events.filter((e) => e.type === 'pool.changed').length).toBeGreaterThan(changes);
    await expect(service.removeContainer('0123456789ab-not-a-container')).rejects.toMatchObject({ name: 'ValidationError', field: 'id' });
  });

  it('prewarms containers that the next run takes warm, and rotates one', async () => {
    const request: ExecuteRequestJson = { ...py('print(2)'), config: { name: 'prewarm-test' } };
    await service.prewarm(request, 2);
    const ofConfig = async () => (await service.listContainers()).filter((c) => c.info.configName === 'prewarm-test').map((c) => c.info.id);
    const warm = await ofConfig();
    expect(warm).toHaveLength(2);
    const summary = await run(request);
    expect(summary.containerCreated).toBe(false);

    const old = warm[0] ?? '';
    await service.rotateContainer(old);
    const after = await ofConfig();
    expect(after).toHaveLength(2);
    expect(after).not.toContain(old);
    await expect(service.prewarm(request, 0)).rejects.toMatchObject({ name: 'ValidationError', field: 'count' });
  });

  it('prunes only what no live Loom process owns', async () => {
    // Containers as Loom labels them, owned by: a process of this host that has exited (what a
    // crashed Loom leaves), this live process, and a process of another host (which cannot be
    // seen, so it is presumed alive).
    const deadPid = spawnSync('true').pid;
    if (!deadPid) throw new Error('could not start a process to take the pid of');
    const planted: string[] = [];
    const plant = async (role: string, pid: number, host: string) => {
      const c = await docker.createContainer({
        name: `loom-prune-test-${process.pid}-${role}`,
        Image: 'python:3.11-slim',
        Entrypoint: ['sleep'],
        Cmd: ['infinity'],
        Labels: { [LABEL.managed]: 'true', [LABEL.ownerPid]: String(pid), [LABEL.ownerHost]: host, [LABEL.ownerInstance]: role },
        HostConfig: { NetworkMode: 'none' },
      });
      planted.push(c.id);
      await c.start();
      return c.id;
    };
    try {
      await run(py('print(0)')); // at least one container of the service's own
      const orphan = await plant('orphan', deadPid, hostname());
      const kept = [await plant('live', process.pid, hostname()), await plant('remote', deadPid, `not-${hostname()}`)];
      const listed = await service.listContainers();
      expect(listed.map((c) => c.info.id)).toEqual(expect.arrayContaining(planted));
      // The service's own, not the rest of a shared engine's, which other processes may remove
      // meanwhile.
      const own = listed.filter((c) => !c.external).map((c) => c.info.id);
      expect(own.length).toBeGreaterThan(0);

      // Other processes' orphans may go too: at least ours.
      const { removed } = await service.pruneContainers();
      expect(removed).toBeGreaterThanOrEqual(1);
      const after = (await service.listContainers()).map((c) => c.info.id);
      expect(after).not.toContain(orphan);
      expect(after).toEqual(expect.arrayContaining([...own, ...kept]));
    } finally {
      await Promise.all(planted.map((id) => removeContainer(docker, id)));
    }
  });

  it('deletes a run from the history', async () => {
    const summary = await run(py('print(3)'));
    await service.deleteRun(summary.id);
    expect(await service.getRun(summary.id)).toBeNull();
    expect((await service.listRuns()).map((r) => r.id)).not.toContain(summary.id);
  });

  it('lists the examples', async () => {
    const examples = await service.listExamples();
    expect(examples.map((e) => e.id)).toEqual(expect.arrayContaining(['data-processing', 'api-integration', 'timeout', 'pip-package']));
  });

  it('keeps the history across a restart of the service', async () => {
    // A run still going when the service closes is cancelled, not left 'running'.
    const { id: sleeper } = await service.startRun(randomUUID(), py("import time\nprint('zzz', flush=True)\ntime.sleep(30)"));
    await waitFor('the sleeper to start', async () => runEvents(sleeper).some((e) => decode(e.stdout) === 'zzz\n'));
    const t0 = Date.now();
    await service.close();
    expect(Date.now() - t0).toBeLessThan(10_000);
    await expect(service.listContainers()).rejects.toMatchObject({ name: 'ClosedError' });
    await expect(service.listRuns()).rejects.toMatchObject({ name: 'ClosedError' });
    service = await createLoomService({ historyPath });
    service.onEvent((e) => events.push(e));
    expect((await service.getRun(sleeper))?.status).toBe('cancelled');
    const runs = await service.listRuns();
    expect(runs.find((r) => r.id === helloRunId)).toMatchObject({ status: 'ok', exitCode: 0 });
    expect(decode((await service.getRun(helloRunId))?.response?.stdout)).toBe('Hello from Docker!\n');
    // A run works again on the new service.
    expect((await run(py('print(4)'))).status).toBe('ok');
  });
});

describe('LoomService without an engine', () => {
  let offline: LoomService | undefined;
  let offlineDir = '';

  afterAll(async () => {
    await offline?.close();
    if (offlineDir) await rm(offlineDir, { recursive: true, force: true });
  });

  it('starts, says the engine is down and how to start one, and refuses runs', async () => {
    offlineDir = await mkdtemp(join(tmpdir(), 'loom-service-offline-'));
    offline = await createLoomService({ historyPath: join(offlineDir, 'history.sqlite'), executor: { dockerHost: 'tcp://127.0.0.1:1' } });
    const status = await offline.engineStatus();
    expect(status.ok).toBe(false);
    expect(status.address).toBe('tcp://127.0.0.1:1');
    expect(status.error).toMatch(/Cannot connect to the Docker engine/);
    expect(status.error).toMatch(/docker info/);
    await expect(offline.startRun(randomUUID(), py('print(1)'))).rejects.toMatchObject({ name: 'EngineUnavailableError' });
    await expect(offline.listContainers()).rejects.toMatchObject({ name: 'EngineUnavailableError' });
    // What needs no engine still works.
    expect(await offline.listRuns()).toEqual([]);
    expect((await offline.listExamples()).length).toBeGreaterThan(5);
    // Invalid input is still named before the engine is even asked.
    await expect(offline.startRun(randomUUID(), { command: [] })).rejects.toMatchObject({ name: 'ValidationError', field: 'command' });
  });
});
