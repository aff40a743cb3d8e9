// Faults from outside the sandbox, against the real engine: a container killed or paused from
// outside mid-run, the Docker engine restarted, the image removed, no engine at all, the Loom
// process itself killed, and a kill in the middle of concurrent runs. Each must end in a clear
// error or a healthy retry, never a hang (every wait below is bounded), and no execution's
// output may be lost or handed to another caller. docs/reliability.md records what each case
// measured.
import type { MessageInitShape } from '@bufbuild/protobuf';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ContainerState,
  DockerBackendConfigSchema,
  RuntimeType,
  type DockerBackendConfig,
  type ExecuteResponse,
} from '../../../../shared/gen/loom/v1/docker_pb';
import { DEFAULT_IMAGES } from '../../../../shared/defaults';
import { SANDBOX_USER } from '../container/container';
import { runExec } from '../container/exec';
import { listManaged } from '../pool/containers';
import { EngineUnavailableError, ImagePullError, LoomError } from '../errors';
import { createExecutor, type ExecuteRequestInput, type Executor } from '../executor';
import { startPrivateEngine, type PrivateEngine } from '../testing/private-engine';
import { docker, requireEngineAndImages, text, waitFor } from '../testing/test-support';

type Config = Exclude<MessageInitShape<typeof DockerBackendConfigSchema>, DockerBackendConfig>;

const RUN_ID = randomBytes(3).toString('hex');
const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const FAULT_IMAGE = 'loom-fault-test:1';

let executor: Executor;
/** Runs every program by docker exec (no in-container runner): the exec-path cases. */
let execOnly: Executor;
const measured: string[] = [];
const note = (line: string): void => void measured.push(line);

beforeAll(async () => {
  await requireEngineAndImages();
  executor = await createExecutor({ maxContainersPerKey: 4, minIdlePerConfig: 0 });
  execOnly = await createExecutor({ maxContainersPerKey: 4, minIdlePerConfig: 0, runner: false });
});

afterAll(async () => {
  await executor?.close();
  await execOnly?.close();
  await docker.getImage(FAULT_IMAGE).remove({ force: true }).catch(() => undefined);
  if (measured.length) console.log(`fault suite measurements:\n  ${measured.join('\n  ')}`);
});

const py = (code: string): string[] => ['python3', '-c', code];
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** How a call ended: with a response, with an error, or not at all within the bound. */
type Outcome =
  | { kind: 'response'; response: ExecuteResponse; ms: number }
  | { kind: 'error'; error: unknown; ms: number }
  | { kind: 'hang'; ms: number };

/** Waits for `promise` at most `boundMs`; a call still pending then is reported as a hang. */
async function bounded(promise: Promise<ExecuteResponse>, boundMs: number, since = Date.now()): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<'hang'>((resolve) => {
    timer = setTimeout(() => resolve('hang'), Math.max(0, boundMs - (Date.now() - since)));
  });
  try {
    const settled = await Promise.race([
      promise.then(
        (response) => ({ response }),
        (error: unknown) => ({ error }),
      ),
      hang,
    ]);
    const ms = Date.now() - since;
    if (settled === 'hang') return { kind: 'hang', ms };
    return 'response' in settled ? { kind: 'response', response: settled.response, ms } : { kind: 'error', error: settled.error, ms };
  } finally {
    clearTimeout(timer);
  }
}

function describeOutcome(o: Outcome): string {
  if (o.kind === 'hang') return `no answer after ${o.ms} ms`;
  if (o.kind === 'error') return `rejected after ${o.ms} ms with ${o.error instanceof Error ? `${o.error.name}: ${o.error.message.split('\n')[0]}` : String(o.error)}`;
  const r = o.response;
  return `resolved after ${o.ms} ms: exit ${r.exitCode}, timedOut ${r.timedOut}, via ${r.usage?.via}, stdout ${JSON.stringify(text(r.stdout))}`;
}

/**
 * The error is one of Loom's, and its message says what happened. Soft: the test goes on (to
 * check the recovery) and fails at its end.
 */
function expectClearError(o: Outcome, says: RegExp): void {
  expect.soft(o.kind, describeOutcome(o)).toBe('error');
  if (o.kind !== 'error') return;
  expect.soft(o.error, describeOutcome(o)).toBeInstanceOf(LoomError);
  expect.soft(o.error instanceof Error ? o.error.message : String(o.error)).toMatch(says);
}

/**
 * Starts a run and resolves `started` when the program's first output arrives (it prints
 * 'started' first thing), so that a fault lands while the program runs.
 */
function startRun(request: ExecuteRequestInput, on: Executor = executor): { done: Promise<ExecuteResponse>; started: Promise<void>; at: number } {
  let onStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (onStarted = resolve));
  const at = Date.now();
  const done = on.execute(request, { onEvent: (e) => e.event.case === 'stdout' && onStarted() });
  // Observed at once: a rejection before anyone awaits it must not count as unhandled.
  done.catch(() => undefined);
  return { done, started, at };
}

async function startedWithin(started: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([started, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the program did not start within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

function busyContainer(configName: string, on: Executor = executor): string {
  const busy = on.containers().filter((c) => c.configName === configName && c.state === ContainerState.BUSY);
  expect(busy).toHaveLength(1);
  return busy[0]!.id;
}

/** Makes the config's container, and checks it serves programs through its runner (from its first run on). */
async function warmUp(config: Config, on: Executor = executor): Promise<string> {
  const r = await on.execute({ command: py('pass'), config });
  expect(r.usage?.via, 'the first run of a new container goes by its runner').toBe('runner');
  return r.containerId;
}

/** A normal run on the config works, on a container other than `not`. */
async function expectNextRunWorks(config: Config, not: string, label: string, on: Executor = executor): Promise<ExecuteResponse> {
  const o = await bounded(on.execute({ command: py("print('next ok')"), config, timeoutSeconds: 30 }), 60_000);
  note(`${label}: next run ${describeOutcome(o)}`);
  expect(o.kind, describeOutcome(o)).toBe('response');
  const r = (o as { response: ExecuteResponse }).response;
  expect(r.exitCode, text(r.stderr)).toBe(0);
  expect(text(r.stdout)).toBe('next ok\n');
  expect(r.containerId).not.toBe(not);
  return r;
}

/** What an error must say when the container went away under a running program. */
const CONTAINER_STOPPED = /the container (was )?(stopped|killed|removed)|container stopped/i;

/** The same, when the engine itself went away. */
const CONTAINER_OR_ENGINE_STOPPED = /the container (was )?(stopped|killed|removed)|container stopped|engine (stopped|restarted|went away|is not answering|did not answer)/i;

const SLEEPER = py("import time\nprint('started', flush=True)\ntime.sleep(30)\nprint('woke up')");

describe('faults: the container killed from outside mid-run', () => {
  it('via the runner (warmed config): the call rejects within 10 s saying the container stopped, and the next run gets a new container', async () => {
    const config: Config = { name: `fault-kill-runner-${RUN_ID}` };
    await warmUp(config);
    const run = startRun({ command: SLEEPER, config, timeoutSeconds: 60 });
    await startedWithin(run.started, 20_000);
    const id = busyContainer(config.name!);
    const killedAt = Date.now();
    await docker.getContainer(id).kill();
    const o = await bounded(run.done, 15_000, killedAt);
    note(`kill mid-run via runner: ${describeOutcome(o)}`);
    expect(o.kind, describeOutcome(o)).not.toBe('hang');
    expect(o.ms).toBeLessThan(10_000);
    // The runner died because its container did: the error must say so, not blame the program.
    expectClearError(o, CONTAINER_STOPPED);
    await expectNextRunWorks(config, id, 'kill mid-run via runner');
    await waitFor('the killed container to be removed', async () => !(await listManaged(docker)).some((c) => c.id === id));
  });

  it('via docker exec (no runner): the call ends within 10 s and says the container stopped, and the next run gets a new container', async () => {
    const config: Config = { name: `fault-kill-exec-${RUN_ID}` };
    const run = startRun({ command: SLEEPER, config, timeoutSeconds: 60 }, execOnly);
    await startedWithin(run.started, 30_000);
    const id = busyContainer(config.name!, execOnly);
    const killedAt = Date.now();
    await docker.getContainer(id).kill();
    const o = await bounded(run.done, 15_000, killedAt);
    note(`kill mid-run via exec: ${describeOutcome(o)}`);
    // A response with exit 137 would be indistinguishable from a program killed by SIGKILL:
    // the caller must be told that the container stopped.
    expect(o.kind, describeOutcome(o)).not.toBe('hang');
    expect(o.ms).toBeLessThan(10_000);
    expectClearError(o, CONTAINER_STOPPED);
    const next = await expectNextRunWorks(config, id, 'kill mid-run via exec', execOnly);
    expect(next.usage?.via).toBe('exec');
  });
});

/**
 * SIGSTOPs the runner (and its forker and spare: all of its command line), as a stray signal or
 * a wedged sandbox would leave it: alive, but deaf. The pattern does not match this shell's own
 * command line.
 */
const STOP_RUNNER = 'for p in /proc/[0-9]*; do grep -qa "loom_runner[.]py" $p/cmdline 2>/dev/null && kill -STOP ${p#/proc/} && echo ${p#/proc/}; done';

describe('faults: a runner that answers nothing (stopped)', () => {
  it('stopped by the program: the call fails within 30 s + 10 s naming the stopped process, and the next run works', async () => {
    const config: Config = { name: `fault-stop-mid-${RUN_ID}` };
    const id = await warmUp(config);
    const o = await bounded(executor.execute({ command: ['sh', '-c', `${STOP_RUNNER}; sleep 100`], config, timeoutSeconds: 120 }), 60_000);
    note(`runner stopped by its program: ${describeOutcome(o)}`);
    // It may have run: not retried elsewhere, but reported with what the container's processes do.
    expectClearError(o, /answered nothing for \d+ s.*python3 stopped/);
    expect(o.ms).toBeLessThan(30_000 + 10_000);
    await expectNextRunWorks(config, id, 'runner stopped by its program');
  }, 90_000);

  it('stopped from outside between runs: the next run is served by another container once the runner has answered nothing for 30 s', async () => {
    const config: Config = { name: `fault-stop-idle-${RUN_ID}` };
    const id = await warmUp(config);
    const stopped = await runExec(docker.getContainer(id), { argv: ['sh', '-c', STOP_RUNNER], user: SANDBOX_USER, maxOutputBytes: 4096 });
    expect(text(stopped.stdout), 'the runner was found and stopped').toMatch(/^\d+\n/);
    const o = await bounded(executor.execute({ command: py("print('served')"), config, timeoutSeconds: 60 }), 60_000);
    note(`runner stopped between runs: ${describeOutcome(o)}`);
    // Nothing had started there (no STARTED came), so the run moves on rather than failing.
    expect(o.kind, describeOutcome(o)).toBe('response');
    const r = (o as { response: ExecuteResponse }).response;
    expect([r.exitCode, text(r.stdout)]).toEqual([0, 'served\n']);
    expect(r.containerId).not.toBe(id);
    expect(o.ms).toBeLessThan(30_000 + 15_000);
    await waitFor('the stopped container to be removed', async () => !(await listManaged(docker)).some((c) => c.id === id));
  }, 90_000);
});

describe('faults: the container paused from outside mid-run', () => {
  for (const path of ['runner', 'exec'] as const) {
    it(`via ${path}: the 3 s timeout still ends the call within timeout + 10 s, and the next run works`, async () => {
      const on = path === 'runner' ? executor : execOnly;
      const config: Config = { name: `fault-pause-${path}-${RUN_ID}` };
      if (path === 'runner') await warmUp(config);
      const run = startRun({ command: SLEEPER, config, timeoutSeconds: 3 }, on);
      await startedWithin(run.started, 30_000);
      // The first program run by docker exec starts the agent (a second docker exec) beside
      // it: pausing while that is being set up wedges the engine (next test). Here the pause
      // lands once it is up.
      if (path === 'exec') await sleep(Math.max(0, 1_500 - (Date.now() - run.at)));
      const id = busyContainer(config.name!, on);
      await docker.getContainer(id).pause();
      try {
        const o = await bounded(run.done, 20_000, run.at);
        note(`pause mid-run via ${path}: ${describeOutcome(o)}`);
        expect(o.kind, describeOutcome(o)).not.toBe('hang');
        // Either the deadline is reported as such, or a clear error says why it could not be.
        if (o.kind === 'response') {
          expect(o.response.usage?.via).toBe(path);
          expect(o.response.timedOut).toBe(true);
          expect(o.response.exitCode).toBe(137);
        } else {
          expectClearError(o, /runner|container|respond/i);
        }
        expect(o.ms).toBeLessThan(3_000 + 10_500);
        // The paused container is not reused: the pool removes it.
        await waitFor('the paused container to be removed', async () => !(await listManaged(docker)).some((c) => c.id === id), 20_000);
        note(`pause mid-run via ${path}: paused container removed by the pool`);
      } finally {
        await thaw(id);
      }
      const next = await expectNextRunWorks(config, id, `pause mid-run via ${path}`, on);
      expect(next.usage?.via).toBe(path);
    }, 90_000);
  }

  it('paused while a docker exec is being set up (the engine then never completes a kill): the call and close() still end', async () => {
    const errors: unknown[] = [];
    // No runner: the program goes by docker exec, and the agent is started beside it.
    const own = await createExecutor({ minIdlePerConfig: 0, runner: false, onError: (e) => errors.push(e) });
    const config: Config = { name: `fault-pause-wedge-${RUN_ID}` };
    let id = '';
    try {
      let onStarted: () => void = () => undefined;
      const started = new Promise<void>((resolve) => (onStarted = resolve));
      const at = Date.now();
      const done = own.execute({ command: SLEEPER, config, timeoutSeconds: 10 }, { onEvent: (e) => e.event.case === 'stdout' && onStarted() });
      done.catch(() => undefined);
      await startedWithin(started, 30_000);
      await sleep(1_000);
      id = own.containers().find((c) => c.configName === config.name)!.id;
      // What happened by chance in this suite's first run (the pool's own runner exec being set
      // up at the moment of the pause), made to happen: a few tries usually suffice.
      const tries = await pauseWhileExecStarts(id, at + 8_000);
      note(`pause during an exec start: wedge established after ${tries} tries, ${Date.now() - at} ms into the run`);
      const o = await bounded(done, 21_000, at);
      note(`pause during an exec start, exec path, timeout 10 s: ${describeOutcome(o)}`);
      // Soft: whatever the call did, close() is checked too.
      expect.soft(o.kind, describeOutcome(o)).not.toBe('hang');
      expect.soft(o.ms).toBeLessThan(10_000 + 10_500);
      if (o.kind === 'response') {
        expect.soft(o.response.usage?.via).toBe('exec');
        expect.soft(o.response.timedOut).toBe(true);
      }
      if (o.kind === 'error') expect.soft(o.error).toBeInstanceOf(LoomError);
      // Closing must not wait forever for a removal the engine cannot do.
      const closeStarted = Date.now();
      const closed = await Promise.race([own.close().then(() => true), sleep(30_000).then(() => false)]);
      note(`pause during an exec start: close() ${closed ? `returned in ${Date.now() - closeStarted} ms` : 'still pending after 30 s'}`);
      expect(closed, 'close() hung on the wedged container').toBe(true);
    } finally {
      if (id) await thaw(id);
      await Promise.race([own.close(), sleep(60_000)]);
      if (id) await docker.getContainer(id).remove({ force: true }).catch(() => undefined);
    }
  }, 180_000);
});

/**
 * Starts a docker exec in the container and pauses the container while runc is still setting
 * that exec up. The engine then shows the exec as running with no pid (its `runc init` is
 * frozen inside the container's cgroup), and from then on a kill of the container never
 * returns (dockerd 20.10, runc 1.1, cgroup v1: measured 100% of the time in that state).
 * Retries with other delays (unpausing first) until that state is reached or `deadline`
 * passes. Resolves to the number of tries.
 */
async function pauseWhileExecStarts(id: string, deadline: number): Promise<number> {
  const container = docker.getContainer(id);
  for (let tries = 1; Date.now() < deadline; tries++) {
    const exec = await container.exec({ Cmd: ['sleep', '60'], User: '65534:65534', AttachStdin: true, AttachStdout: true, AttachStderr: true });
    const starting = exec.start({ hijack: true, stdin: true }).then(
      (s: Duplex) => s,
      () => undefined,
    );
    // Too early and the engine refuses to start an exec in a paused container; too late and
    // the exec is up: 16-40 ms after the start request is the window here.
    await sleep(16 + (tries % 4) * 8);
    await container.pause();
    await sleep(300);
    const info = await exec.inspect();
    if (info.Running && !info.Pid) return tries;
    await container.unpause();
    (await starting)?.destroy();
  }
  throw new Error('could not pause the container while an exec was being set up');
}

/**
 * Unpauses a container; when the engine does not answer (a kill of the paused container holds
 * its lock), thaws its freezer cgroup directly, which lets the engine finish.
 */
async function thaw(id: string): Promise<void> {
  const unpaused = await Promise.race([
    docker.getContainer(id).unpause().then(
      () => true,
      () => true,
    ),
    sleep(3_000).then(() => false),
  ]);
  if (unpaused) return;
  for (const file of [`/sys/fs/cgroup/freezer/docker/${id}/freezer.state`, `/sys/fs/cgroup/system.slice/docker-${id}.scope/cgroup.freeze`]) {
    if (existsSync(file)) writeFileSync(file, file.endsWith('freezer.state') ? 'THAWED' : '0');
  }
  note(`thawed ${id.slice(0, 12)} through its cgroup (the engine did not answer an unpause)`);
}

describe('faults: the image removed between runs', () => {
  it('a warm container still serves; once it is gone, the next run fails with ImagePullError, quickly', async () => {
    await docker.getImage('python:3.11-slim').tag({ repo: 'loom-fault-test', tag: '1' });
    const config: Config = { name: `fault-image-${RUN_ID}`, imageSource: { case: 'customImage', value: FAULT_IMAGE } };
    const request = { runtimeType: RuntimeType.CUSTOM, command: py("print('on the tagged image')"), config };
    const first = await executor.execute(request);
    expect(text(first.stdout)).toBe('on the tagged image\n');
    // In use by the idle container: only a forced removal takes it, and then it only untags it.
    await docker.getImage(FAULT_IMAGE).remove({ force: true });
    await expect(docker.getImage(FAULT_IMAGE).inspect()).rejects.toMatchObject({ statusCode: 404 });

    const warm = await bounded(executor.execute(request), 30_000);
    note(`image removed, warm container: ${describeOutcome(warm)}`);
    expect(warm.kind, describeOutcome(warm)).toBe('response');
    const w = (warm as { response: ExecuteResponse }).response;
    expect(text(w.stdout)).toBe('on the tagged image\n');
    expect(w.containerCreated).toBe(false);
    expect(w.containerId).toBe(first.containerId);

    // The container goes (removed from outside): now a new one would need the image.
    await docker.getContainer(first.containerId).remove({ force: true });
    for (const attempt of ['first', 'second']) {
      const o = await bounded(executor.execute(request), 30_000);
      note(`image removed, no container (${attempt} request): ${describeOutcome(o)}`);
      expect(o.kind, describeOutcome(o)).toBe('error');
      const error = (o as { error: unknown }).error;
      // Soft: both requests are recorded even when the first is wrong.
      expect.soft(error, describeOutcome(o)).toBeInstanceOf(ImagePullError);
      expect.soft((error as Partial<ImagePullError>).image).toMatch(/^(docker\.io\/library\/)?loom-fault-test:1$/);
      expect(o.ms).toBeLessThan(10_000);
    }
  });
});

describe('faults: no engine at start', () => {
  it('createExecutor with an unreachable engine fails with EngineUnavailableError and the fix, within 5 s', async () => {
    const started = Date.now();
    const err = await createExecutor({ dockerHost: 'tcp://127.0.0.1:1' }).then(
      (e) => {
        void e.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    const ms = Date.now() - started;
    note(`unreachable engine: ${err instanceof Error ? `${err.name} after ${ms} ms` : 'no error'}`);
    expect(err).toBeInstanceOf(EngineUnavailableError);
    expect((err as EngineUnavailableError).address).toBe('tcp://127.0.0.1:1');
    expect((err as Error).message).toContain('Cannot connect to the Docker engine at tcp://127.0.0.1:1');
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
    expect((err as Error).message).toContain('docker info');
    expect((err as Error).message).toContain('DOCKER_HOST');
    expect(ms).toBeLessThan(5_000);
  });
});

describe('faults: the Loom process itself killed', () => {
  it("reaps a SIGKILLed CLI process's running container at the next start", async () => {
    const child = spawn(process.execPath, ['bin/loom.js', 'exec', '--keep-warm', '0', '--', 'python3', '-c', 'import time; time.sleep(60)'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const pid = child.pid!;
    try {
      const ownedRunning = async (): Promise<string[]> =>
        (await listManaged(docker)).filter((c) => c.ownerPid === pid && c.engineState === 'running').map((c) => c.id);
      const ids = await waitFor(`a running container of the CLI process ${pid} (stderr: ${stderr})`, async () => {
        const found = await ownedRunning();
        return found.length > 0 && found;
      }, 60_000);
      // Let the program start in it.
      await sleep(1_000);
      child.kill('SIGKILL');
      await exited;
      const leftBehind = (await listManaged(docker)).filter((c) => c.ownerPid === pid);
      expect(leftBehind.length).toBeGreaterThanOrEqual(1);
      expect(leftBehind.every((c) => !c.ownerAlive)).toBe(true);

      const started = Date.now();
      const next = await createExecutor({ minIdlePerConfig: 0 });
      try {
        await waitFor('the orphans to be gone', async () => !(await listManaged(docker)).some((c) => c.ownerPid === pid), 5_000);
        note(`process killed: ${leftBehind.length} orphan(s) (${ids.length} running) reaped by the next createExecutor in ${Date.now() - started} ms`);
      } finally {
        await next.close();
      }
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});

describe('faults: output routing when a pooled container is killed under concurrency', () => {
  it('20 concurrent runs on a pool of 4, one container killed mid-way: each call gets its own token or a clear error', async () => {
    const config: Config = { name: `fault-routing-${RUN_ID}` };
    await executor.prewarm({ command: py('pass'), config }, 4);
    // All four serve through their runners (four concurrent runs take four containers).
    await waitFor('the four runners', async () => {
      const rs = await Promise.all(Array.from({ length: 4 }, () => executor.execute({ command: py('import time; time.sleep(0.2)'), config })));
      return rs.every((r) => r.usage?.via === 'runner') && new Set(rs.map((r) => r.containerId)).size === 4;
    }, 30_000);

    const tokens = Array.from({ length: 20 }, (_, i) => `tok${i}x${randomBytes(6).toString('hex')}`);
    let firstOutput: () => void = () => undefined;
    const anyStarted = new Promise<void>((resolve) => (firstOutput = resolve));
    const started = Date.now();
    const calls = tokens.map((token) =>
      bounded(
        executor.execute(
          {
            command: py(`import sys, time\nprint('a-${token}', flush=True)\ntime.sleep(1.5)\nprint('b-${token}')\nprint('e-${token}', file=sys.stderr)`),
            config,
            timeoutSeconds: 30,
          },
          { onEvent: (e) => e.event.case === 'stdout' && firstOutput() },
        ),
        60_000,
        started,
      ),
    );
    await startedWithin(anyStarted, 30_000);
    await sleep(300);
    const busy = executor.containers().filter((c) => c.configName === config.name && c.state === ContainerState.BUSY);
    expect(busy.length).toBeGreaterThan(0);
    const victim = busy[0]!.id;
    await docker.getContainer(victim).kill();

    const outcomes = await Promise.all(calls);
    let own = 0;
    const errors: string[] = [];
    outcomes.forEach((o, i) => {
      const mine = tokens[i]!;
      expect(o.kind, `call ${i}: ${describeOutcome(o)}`).not.toBe('hang');
      if (o.kind === 'response') {
        const out = text(o.response.stdout) + text(o.response.stderr);
        // Never another call's token, whatever happened.
        for (const other of tokens) if (other !== mine) expect(out, `call ${i} got output of another call`).not.toContain(other);
        expect(o.response.exitCode, `call ${i}: ${describeOutcome(o)}`).toBe(0);
        expect(text(o.response.stdout)).toBe(`a-${mine}\nb-${mine}\n`);
        expect(text(o.response.stderr)).toBe(`e-${mine}\n`);
        own++;
      } else if (o.kind === 'error') {
        expect(o.error).toBeInstanceOf(LoomError);
        expect((o.error as Error).message).toMatch(/runner died|container/i);
        errors.push((o.error as Error).message.split('\n')[0]!);
      }
    });
    const slowest = Math.max(...outcomes.map((o) => o.ms));
    note(`routing under a kill: ${own}/20 own output, ${errors.length} clear error(s) [${[...new Set(errors)].join(' | ')}], slowest call ${slowest} ms`);
    // The killed container was running one program: that call, and only it, may fail.
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors.length).toBeLessThanOrEqual(1);
    expect(own + errors.length).toBe(20);
  });
});

// ---------------------------------------------------------------------------------------------
// The Docker engine restarted. A private engine (a second dockerd with its own data root and
// socket, see testing/private-engine.ts) is restarted, never the machine's: nothing else using
// the machine's engine notices. It needs root and a dockerd binary, and fails (not skips)
// without them. Its engine has no bridge network: these runs use the default network mode, none.

describe('faults: the Docker engine restarted', () => {
  let engine: PrivateEngine | undefined;
  let engineError: unknown;
  const executors: Executor[] = [];

  beforeAll(async () => {
    // A failure to start is each test's failure (with its message), not a skipped suite.
    try {
      engine = await startPrivateEngine({ images: [DEFAULT_IMAGES.python] });
      note(`private engine: dockerd answered in ${engine.startMs} ms, ${DEFAULT_IMAGES.python} loaded in ${engine.loadMs} ms`);
    } catch (err) {
      engineError = err;
    }
  });

  afterAll(async () => {
    await Promise.allSettled(executors.map((e) => e.close()));
    await engine?.stop();
  });

  /** An executor of the private engine (default network mode: none, which it supports). */
  async function privateExecutor(): Promise<{ own: Executor; engine: PrivateEngine }> {
    if (!engine) throw engineError instanceof Error ? engineError : new Error(`the private engine did not start: ${String(engineError)}`);
    const own = await createExecutor({ dockerHost: engine.host });
    executors.push(own);
    return { own, engine };
  }

  it('mid-run: the call rejects clearly within 30 s, and the same executor then runs on new containers', async () => {
    const { own, engine } = await privateExecutor();
    try {
      const config: Config = { name: `fault-restart-mid-${RUN_ID}` };
      const before = await warmUp(config, own);
      // Let the background top-up (minIdlePerConfig 1) finish first: a container whose creation
      // is in flight when dockerd goes down is left half-started (its shim and 'runc init'
      // outlive dockerd), which is the engine's doing, not this case's.
      await waitFor('an idle container besides the first', async () => own.containers().some((c) => c.id !== before && c.state === ContainerState.IDLE), 30_000);
      const at = Date.now();
      let onStarted: () => void = () => undefined;
      const startedP = new Promise<void>((resolve) => (onStarted = resolve));
      const done = own.execute(
        { command: py("import time\nprint('started', flush=True)\ntime.sleep(20)"), config, timeoutSeconds: 60 },
        { onEvent: (e) => e.event.case === 'stdout' && onStarted() },
      );
      done.catch(() => undefined);
      await startedWithin(startedP, 20_000);
      const restarting = engine.restart();
      restarting.catch(() => undefined);
      const o = await bounded(done, 30_000, Date.now());
      note(`engine restart mid-run: ${describeOutcome(o)} (since the run began: ${Date.now() - at} ms)`);
      const { downMs, upMs } = await restarting;
      note(`engine restart mid-run: dockerd down in ${downMs} ms, up again in ${upMs} ms`);
      expect(o.kind, describeOutcome(o)).toBe('error');
      expect((o as { error: unknown }).error).toBeInstanceOf(LoomError);
      // Soft: the recovery below is checked whatever the wording.
      expect.soft(((o as { error: unknown }).error as Error).message, 'the error should say the container (or the engine) stopped').toMatch(CONTAINER_OR_ENGINE_STOPPED);

      const next = await bounded(own.execute({ command: py("print('after restart')"), config, timeoutSeconds: 30 }), 60_000);
      note(`engine restart mid-run, next request: ${describeOutcome(next)}`);
      expect(next.kind, describeOutcome(next)).toBe('response');
      const r = (next as { response: ExecuteResponse }).response;
      expect(text(r.stdout)).toBe('after restart\n');
      expect(r.containerId).not.toBe(before);
    } finally {
      await own.close();
    }
  });

  it('between runs: the next run after a restart succeeds on a new container', async () => {
    const { own, engine } = await privateExecutor();
    try {
      const config: Config = { name: `fault-restart-between-${RUN_ID}` };
      const first = await own.execute({ command: py("print('before')"), config });
      expect(text(first.stdout)).toBe('before\n');
      // Wait for the background top-up (minIdlePerConfig 1) to settle: the pool then holds two
      // idle containers, both of which die with the engine.
      await waitFor('an idle container besides the first', async () => own.containers().filter((c) => c.state === ContainerState.IDLE).length >= 2, 30_000);
      const { downMs, upMs } = await engine.restart();
      note(`engine restart between runs: dockerd down in ${downMs} ms, up again in ${upMs} ms; pool held ${own.containers().length} container(s)`);
      const o = await bounded(own.execute({ command: py("print('after')"), config, timeoutSeconds: 30 }), 60_000);
      note(`engine restart between runs, next request: ${describeOutcome(o)}`);
      expect(o.kind, describeOutcome(o)).toBe('response');
      const r = (o as { response: ExecuteResponse }).response;
      expect(text(r.stdout)).toBe('after\n');
      expect(r.containerCreated).toBe(true);
      expect(r.containerId).not.toBe(first.containerId);
    } finally {
      await own.close();
    }
  });
});
