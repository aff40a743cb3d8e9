// ensureImage against the real engine and a real registry on loopback (Debian's docker-registry):
// every pull below goes through the engine's own pull path, progress stream and errors included.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Phase, RuntimeType, type ExecuteEvent } from '../../../../shared/gen/loom/v1/docker_pb';
import { connectDocker } from './docker-client';
import { createExecutor } from '../executor';
import { ensureImage, withDefaultTag, type PullProgress } from './images';

const BASE = 'python:3.11-slim';
const REGISTRY_BIN = '/usr/bin/docker-registry';

// The engine the project would use (DOCKER_HOST, else the local sockets). The registry listens on
// this machine's loopback, so the engine must run here too.
const { docker } = connectDocker();
const run = randomBytes(4).toString('hex');
let dir = '';
let registry: ChildProcess | undefined;
let registryLog = '';
let host = '';
/** Every local tag this file may have created, removed in afterAll. */
const created = new Set<string>();

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function poll(what: string, timeoutMs: number, ready: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function imageExists(ref: string): Promise<boolean> {
  try {
    await docker.getImage(ref).inspect();
    return true;
  } catch {
    return false;
  }
}

/** Follows a push stream to its end; the engine reports failures as events, not HTTP errors. */
function drain(stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    let failure: string | undefined;
    docker.modem.followProgress(
      stream,
      (err) => (err ? reject(err) : failure ? reject(new Error(failure)) : resolve()),
      (event: { error?: string }) => {
        failure ??= event.error;
      },
    );
  });
}

/** Pushes a new image (the base plus a layer of random bytes) as `tag` and removes it locally,
 *  so that pulling it back must really download that layer. */
async function seed(tag: string): Promise<string> {
  const ref = `${host}/loom-test/py:${tag}`;
  created.add(ref);
  const payload = join(dir, `payload-${tag}`);
  await mkdir(payload);
  await writeFile(join(payload, 'blob'), randomBytes(4 * 1024 * 1024));
  const tar = join(dir, `payload-${tag}.tar`);
  execFileSync('tar', ['-C', payload, '-cf', tar, 'blob']);

  const container = await docker.createContainer({ Image: BASE, Cmd: ['true'], Labels: { 'loom-test': run } });
  try {
    await container.putArchive(tar, { path: '/' });
    await container.commit({ repo: `${host}/loom-test/py`, tag });
  } finally {
    await container.remove({ force: true });
  }
  // The engine refuses a push without an X-Registry-Auth header, even an anonymous one.
  await drain(await docker.getImage(ref).push({ authconfig: { serveraddress: host } }));
  await docker.getImage(ref).remove();
  return ref;
}

/** How many times the engine itself pulled `ref` since `since` (seconds), from its event log. */
async function enginePulls(ref: string, since: number): Promise<number> {
  const stream = await docker.getEvents({
    since,
    until: Math.ceil(Date.now() / 1000),
    filters: { type: ['image'], event: ['pull'] },
  });
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as { id?: string; Actor?: { ID?: string } })
    .filter((event) => event.id === ref || event.Actor?.ID === ref).length;
}

beforeAll(async () => {
  if (!existsSync(REGISTRY_BIN)) {
    throw new Error(`${REGISTRY_BIN} is missing: run \`apt-get install -y --no-install-recommends docker-registry\``);
  }
  // The base image may still be being built by scripts/build-images.sh when the tests start.
  await poll(`the image ${BASE} (build it with npm run images)`, 300_000, () => imageExists(BASE));

  dir = await mkdtemp(join(tmpdir(), 'loom-images-test-'));
  const port = await freePort();
  host = `127.0.0.1:${port}`;
  const config = join(dir, 'config.yml');
  await writeFile(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      'http:',
      `  addr: ${host}`,
      '',
    ].join('\n'),
  );
  const child = spawn(REGISTRY_BIN, ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  registry = child;
  child.stdout.on('data', (d: Buffer) => (registryLog += d.toString()));
  child.stderr.on('data', (d: Buffer) => (registryLog += d.toString()));
  await poll('the registry to answer on /v2/', 20_000, async () => {
    if (child.exitCode !== null) throw new Error(`docker-registry exited (${child.exitCode}):\n${registryLog}`);
    try {
      return (await fetch(`http://${host}/v2/`)).ok;
    } catch {
      return false;
    }
  });
});

afterAll(async () => {
  for (const ref of created) {
    await docker
      .getImage(ref)
      .remove({ force: true })
      .catch(() => undefined);
  }
  const leftovers = await docker.listContainers({ all: true, filters: { label: [`loom-test=${run}`] } });
  for (const c of leftovers) await docker.getContainer(c.Id).remove({ force: true });
  if (registry && registry.exitCode === null) {
    const exited = new Promise((r) => registry?.once('exit', r));
    registry.kill('SIGTERM');
    await exited;
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('ensureImage', () => {
  it('pulls a missing image with progress, then finds it present', async () => {
    const ref = await seed(`one-${run}`);
    expect(await imageExists(ref)).toBe(false);

    const events: PullProgress[] = [];
    expect(await ensureImage(docker, ref, (p) => events.push(p))).toEqual({ pulled: true });
    expect(await imageExists(ref)).toBe(true);

    expect(events.every((e) => e.image === ref)).toBe(true);
    // The random layer cannot already exist locally, so the engine downloads and extracts it.
    const layers = events.filter((e) => e.layer !== '');
    expect(layers.some((e) => e.status === 'Pull complete')).toBe(true);
    expect(layers.some((e) => /^(Downloading|Download complete|Extracting)$/.test(e.status))).toBe(true);
    expect(layers.some((e) => e.current > 0 && e.total >= e.current)).toBe(true);
    expect(events.some((e) => e.status.startsWith('Status: Downloaded newer image'))).toBe(true);

    const again: PullProgress[] = [];
    expect(await ensureImage(docker, ref, (p) => again.push(p))).toEqual({ pulled: false });
    expect(again).toEqual([]);
  });

  it('shares one engine pull between concurrent callers', async () => {
    const ref = await seed(`two-${run}`);
    const since = Math.floor(Date.now() / 1000) - 1;
    const first: PullProgress[] = [];
    const second: PullProgress[] = [];

    const results = await Promise.all([
      ensureImage(docker, ref, (p) => first.push(p)),
      ensureImage(docker, ref, (p) => second.push(p)),
    ]);

    expect(results).toEqual([{ pulled: true }, { pulled: true }]);
    expect(await imageExists(ref)).toBe(true);
    expect(await enginePulls(ref, since)).toBe(1);
    // Both callers watched that one pull.
    expect(first.some((e) => e.status === 'Pull complete')).toBe(true);
    expect(second).toEqual(first);
  });

  it('rejects with the engine reason when the tag is not in the registry', async () => {
    const ref = `${host}/loom-test/py:missing-${run}`;
    created.add(ref);
    const err = await ensureImage(docker, ref).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    const { name, message } = err as Error;
    expect(name).toBe('ImagePullError');
    expect(message).toContain(ref);
    expect(message).toMatch(/manifest unknown|not found/);
  });

  it('rejects on an error event inside a stream that otherwise ends normally', async () => {
    const ref = await seed(`lost-${run}`);
    // The manifest stays and the top layer's blob goes: the engine starts a normal pull stream
    // and only reports the failure as an event once it asks for the blob.
    const manifest = (await (
      await fetch(`http://${host}/v2/loom-test/py/manifests/lost-${run}`, {
        headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' },
      })
    ).json()) as { layers: { digest: string }[] };
    const digest = manifest.layers.at(-1)?.digest.replace('sha256:', '') ?? '';
    await rm(join(dir, 'data/docker/registry/v2/blobs/sha256', digest.slice(0, 2), digest, 'data'));

    const events: PullProgress[] = [];
    const err = await ensureImage(docker, ref, (p) => events.push(p)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    const { name, message } = err as Error;
    expect(name).toBe('ImagePullError');
    expect(message).toContain(ref);
    // The engine's words, not the fallback for a pull that left nothing behind.
    expect(message).toContain('unknown blob');
    expect(events.some((e) => e.status === 'Pulling fs layer')).toBe(true);
  });

  it('rejects quickly when no registry listens', async () => {
    const ref = `127.0.0.1:${await freePort()}/loom-test/nobody:1`;
    created.add(ref);
    const started = Date.now();
    const err = await ensureImage(docker, ref).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(err).toBeInstanceOf(Error);
    const { name, message } = err as Error;
    expect(name).toBe('ImagePullError');
    expect(message).toContain(ref);
    expect(message).toContain('connection refused');
  });

  it('stops following when the caller aborts, and a later call starts afresh', async () => {
    const ref = await seed(`abort-${run}`);
    const controller = new AbortController();
    let seen = 0;
    const err = await ensureImage(
      docker,
      ref,
      () => {
        seen++;
        controller.abort();
      },
      controller.signal,
    ).catch((e: unknown) => e);
    expect(seen).toBeGreaterThan(0);
    expect((err as Error).name).toBe('AbortedError');

    // The engine may or may not have finished before the cut; either way the image is reachable.
    await ensureImage(docker, ref);
    expect(await imageExists(ref)).toBe(true);
  });

  it('rejects at once when the signal has already aborted', async () => {
    const err = await ensureImage(docker, `${host}/loom-test/py:never`, undefined, AbortSignal.abort()).catch(
      (e: unknown) => e,
    );
    expect((err as Error).name).toBe('AbortedError');
  });
});

describe('pulling through the executor', () => {
  it('streams the pull progress of a missing custom image before the program runs', async () => {
    const ref = await seed(`exec-${run}`);
    expect(await imageExists(ref)).toBe(false);
    const executor = await createExecutor({ docker, minIdlePerConfig: 0, reapOrphans: false });
    const events: ExecuteEvent[] = [];
    try {
      for await (const event of executor.stream({
        runtimeType: RuntimeType.CUSTOM,
        command: ['python3', '-c', 'print("ran after the pull")'],
        config: { imageSource: { case: 'customImage', value: ref } },
      })) {
        events.push(event);
      }
    } finally {
      await executor.close();
    }
    const cases = events.map((e) => e.event.case);
    const firstPull = cases.indexOf('pull');
    const lastPull = cases.lastIndexOf('pull');
    const firstStdout = cases.indexOf('stdout');
    const phaseAt = (p: Phase): number => events.findIndex((e) => e.event.case === 'phase' && e.event.value.phase === p);
    expect(firstPull).toBeGreaterThan(-1);
    expect(firstStdout).toBeGreaterThan(-1);
    // Image phase, its pull, then the container, then the program's output; `done` last.
    expect(phaseAt(Phase.IMAGE)).toBeLessThan(firstPull);
    expect(lastPull).toBeLessThan(phaseAt(Phase.CONTAINER));
    expect(phaseAt(Phase.RUNNING)).toBeLessThan(firstStdout);
    expect(lastPull).toBeLessThan(firstStdout);
    expect(cases.at(-1)).toBe('done');

    const pulls = events.flatMap((e) => (e.event.case === 'pull' ? [e.event.value] : []));
    expect(pulls.every((p) => p.image === ref)).toBe(true);
    // The layer of random bytes only the registry has: really downloaded, with byte counts.
    expect(pulls.some((p) => p.layer !== '' && p.status === 'Pull complete')).toBe(true);
    expect(pulls.some((p) => p.current > 0 && p.total >= p.current)).toBe(true);
    const stdout = Buffer.concat(events.flatMap((e) => (e.event.case === 'stdout' ? [e.event.value] : []))).toString('utf8');
    expect(stdout).toBe('ran after the pull\n');
    const done = events.at(-1)?.event;
    expect(done?.case === 'done' && done.value.containerCreated).toBe(true);
    expect(await imageExists(ref)).toBe(true);
  });
});

describe('withDefaultTag', () => {
  it.each([
    ['python', 'python:latest'],
    ['python:3.11-slim', 'python:3.11-slim'],
    ['library/python', 'library/python:latest'],
    ['127.0.0.1:5000/x', '127.0.0.1:5000/x:latest'],
    ['127.0.0.1:5000/x:1', '127.0.0.1:5000/x:1'],
    ['localhost:5000/team/app', 'localhost:5000/team/app:latest'],
    ['ghcr.io/org/app:v2', 'ghcr.io/org/app:v2'],
    [`python@sha256:${'a'.repeat(64)}`, `python@sha256:${'a'.repeat(64)}`],
    [`127.0.0.1:5000/x@sha256:${'b'.repeat(64)}`, `127.0.0.1:5000/x@sha256:${'b'.repeat(64)}`],
  ])('%s → %s', (input, expected) => {
    expect(withDefaultTag(input)).toBe(expected);
  });
});
