// Helpers shared by the engine's tests (real engine, real containers). Not shipped.
import { clone, create, isMessage } from '@bufbuild/protobuf';
import Docker from 'dockerode';
import { DockerBackendConfigSchema, ExecuteRequestSchema, type ExecuteRequest, type IsolationLevel } from '../../../../shared/gen/loom/v1/docker_pb';
import type { ExecuteRequestInput, Executor } from '../executor';
import { DEFAULT_IMAGES } from '../../../../shared/defaults';
import { listManaged } from '../pool/containers';
import { connectDocker } from '../engine-client/docker-client';
import { GVISOR_RUNTIME } from '../container/isolation';
import { ISOLATION_LEVELS, ISOLATIONS } from '../../../../shared/isolation';

export const docker: Docker = connectDocker().docker;

/** Fails with instructions when the engine or the base images are missing. */
export async function requireEngineAndImages(): Promise<void> {
  try {
    await docker.ping();
  } catch (err) {
    throw new Error(`These tests need a running Docker engine (start one: dockerd &, or run .ci/run): ${String(err)}`);
  }
  for (const image of Object.values(DEFAULT_IMAGES)) {
    try {
      await docker.getImage(image).inspect();
    } catch {
      throw new Error(`These tests need the image ${image}: build it offline with \`npm run images\``);
    }
  }
}

export const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

/** Managed containers created by this test process (by owner instance of an executor). */
export async function containersOf(instance: string): Promise<string[]> {
  return (await listManaged(docker)).filter((c) => c.ownerInstance === instance).map((c) => c.id);
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Fails with instructions when the engine has no runsc: the gVisor cases must run, not skip
 * (.ci/run installs and registers it).
 */
export async function requireGvisor(): Promise<void> {
  const runtimes = Object.keys(((await docker.info()) as { Runtimes?: Record<string, unknown> }).Runtimes ?? {});
  if (!runtimes.includes(GVISOR_RUNTIME)) {
    throw new Error(
      `These tests run each case under gVisor too, and the engine has no '${GVISOR_RUNTIME}' runtime (it has ${runtimes.join(', ')}): ` +
        'apt-get install runsc, register it in /etc/docker/daemon.json as .ci/run does, then `kill -HUP $(pidof dockerd)`',
    );
  }
}

/** The isolation levels every security case runs under, with the request field for each. */
export const ISOLATION_CASES = ISOLATIONS.map((isolation) => [isolation, ISOLATION_LEVELS[isolation]] as const);

/** The executor with every request's config.isolation set to `level`: a suite's cases, run under another runtime. */
export function withIsolation(executor: Executor, level: IsolationLevel): Executor {
  const tag = (input: ExecuteRequestInput): ExecuteRequest => {
    const request = isMessage(input, ExecuteRequestSchema) ? clone(ExecuteRequestSchema, input) : create(ExecuteRequestSchema, input);
    request.config ??= create(DockerBackendConfigSchema);
    request.config.isolation = level;
    return request;
  };
  return {
    ...executor,
    execute: (request, options) => executor.execute(tag(request), options),
    stream: (request, options) => executor.stream(tag(request), options),
    prewarm: (request, count) => executor.prewarm(tag(request), count),
    poolKey: (request) => executor.poolKey(tag(request)),
  };
}

/**
 * Python lines that set `runner` to the Python runner's PID, as seen by a program it runs: its
 * parent, or under gVisor its parent's parent (there the program is a child of the runner's
 * forker, which ignores CLONE_PARENT: see loom_forker.py).
 */
export const PY_FIND_RUNNER = [
  'import os',
  'runner = os.getppid()',
  "if open('/proc/%d/comm' % runner).read().strip() == 'loom-forker':",
  "    runner = int(open('/proc/%d/stat' % runner).read().rpartition(')')[2].split()[1])",
].join('\n');
