// Helpers for the runner's tests (real engine, real containers). Not shipped.
import type Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import { createOptions } from '../container/container';
import { currentOwner } from '../pool/labels';
import type { Runtime } from '../request/request';
import { initPath, RESOURCES_DIR, shippedFiles } from '../container/resources';
import { docker } from '../testing/test-support';
import { RunnerClient, type RunOptions, type RunResult } from './client';

let shippedRoot: string | undefined;

/**
 * A copy of what the resources volume ships (resources.ts), bind-mounted read-only at
 * /opt/loom/lib, readable by nobody: the runner tests start runners in containers of their own.
 */
function resourcesRoot(): string {
  if (shippedRoot) return shippedRoot;
  const root = mkdtempSync(join(tmpdir(), 'loom-runner-test-'));
  chmodSync(root, 0o755);
  for (const file of shippedFiles()) {
    const to = join(root, file.path);
    mkdirSync(dirname(to), { recursive: true, mode: 0o755 });
    for (let dir = dirname(to); dir.length > root.length; dir = dirname(dir)) chmodSync(dir, 0o755);
    writeFileSync(to, file.body, { mode: file.mode });
    chmodSync(to, file.mode);
  }
  shippedRoot = root;
  return root;
}

/**
 * Where the files a test gives a sandbox are (a read-only mount): every run starts with a clean
 * /tmp, so a file one run writes is gone in the next.
 */
export const FIXTURES_DIR = '/opt/fixtures';
const fixtureRoots: string[] = [];

function fixturesRoot(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'loom-fixtures-'));
  fixtureRoots.push(root);
  chmodSync(root, 0o755);
  for (const [path, body] of Object.entries(files)) {
    const to = join(root, path);
    mkdirSync(dirname(to), { recursive: true, mode: 0o755 });
    for (let dir = dirname(to); dir.length > root.length; dir = dirname(dir)) chmodSync(dir, 0o755);
    writeFileSync(to, body);
    chmodSync(to, 0o644);
  }
  return root;
}

export function removeResourcesRoot(): void {
  for (const root of fixtureRoots.splice(0)) rmSync(root, { recursive: true, force: true });
  if (shippedRoot) rmSync(shippedRoot, { recursive: true, force: true });
  shippedRoot = undefined;
}

export const OWNER_INSTANCE = `runner-test-${randomBytes(4).toString('hex')}`;

/** A sandbox container made the way the engine makes them, started. */
export async function startSandbox(
  image: string,
  runtime: Runtime,
  { memoryMb = 256, withRunner = true, env = {} as Record<string, string>, fixtures = {} as Record<string, string> } = {},
): Promise<Docker.Container> {
  const inspected = await docker.getImage(image).inspect();
  const imageEnv = inspected.Config.Env ?? [];
  const spec = {
    name: 'runner-test',
    image,
    runtime,
    packages: [],
    cpuCores: 1,
    memoryMb,
    storageMb: 100,
    pidsLimit: 100,
    network: 'none' as const,
    env,
    mounts: [],
    isolation: 'runc' as const,
  };
  const container = await docker.createContainer(
    createOptions({
      spec,
      poolKey: randomBytes(8).toString('hex'),
      owner: currentOwner(OWNER_INSTANCE),
      extraMounts: [
        ...(withRunner ? [{ hostPath: resourcesRoot(), containerPath: RESOURCES_DIR, writable: false }] : []),
        ...(Object.keys(fixtures).length ? [{ hostPath: fixturesRoot(fixtures), containerPath: FIXTURES_DIR, writable: false }] : []),
      ],
      imageEnv,
      // PID 1 as in the engine's idling containers: loom-init, which the runner cleans with.
      init: withRunner ? initPath(inspected.Architecture) : undefined,
    }),
  );
  await container.start();
  return container;
}

export async function removeSandbox(container: Docker.Container | undefined): Promise<void> {
  await container?.remove({ force: true }).catch(() => undefined);
}

/** A sandbox of `image` with its runner started by exec (for a test file's beforeAll). */
export async function sandboxWithRunner(
  image: string,
  runtime: 'python' | 'node',
  env: Record<string, string> = {},
  fixtures: Record<string, string> = {},
): Promise<{ container: Docker.Container; client: RunnerClient }> {
  const container = await startSandbox(image, runtime, { env, fixtures });
  const client = await RunnerClient.start(container, runtime);
  if (!client) throw new Error(`the ${runtime} runner did not start`);
  return { container, client };
}

/** What a runner test may set of a run; `env` is added to the runner's own environment. */
export type RunExtra = Partial<Omit<RunOptions, 'env'>> & { env?: Record<string, string> };

/** Runs `argv` as the runner tests do: in /tmp, 30 s deadline, 16 MB kept of each stream. */
export function runOn(client: RunnerClient, argv: string[], extra: RunExtra = {}): Promise<RunResult> {
  return client.run({ cwd: '/tmp', timeoutMs: 30_000, maxOutputBytes: 16 << 20, ...extra, argv, env: { ...client.baseEnv, ...extra.env } });
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
}

/** What a run sent as SPANS: the bytes, and whether any came before the program had ended. */
export interface SpansSeen {
  bytes: string;
  chunks: number;
  /** ms from the first SPANS frame to the run's end (> 0: they came while it ran). */
  leadMs: number;
}

/** Runs `argv` with a span file and collects what the runner sends of it. */
export async function runWithSpans(run: (argv: string[], extra: Partial<RunOptions>) => Promise<RunResult>, argv: string[], spanFile: string): Promise<{ r: RunResult; spans: SpansSeen }> {
  const chunks: Buffer[] = [];
  let first = 0;
  const r = await run(argv, {
    spanFile,
    onSpans: (chunk) => {
      if (!first) first = performance.now();
      chunks.push(chunk);
    },
  });
  const end = performance.now();
  return { r, spans: { bytes: Buffer.concat(chunks).toString('utf8'), chunks: chunks.length, leadMs: first ? end - first : 0 } };
}

/**
 * The host-silence limit (PING) on a runner: a program whose host went silent (as a dead host's,
 * whose stream stays open) is killed after 1 s; a pinging host's outlives that. `hung` prints
 * 'started' and then waits 30 s; `slow` prints 'done' after 2.5 s.
 */
export async function expectSilentHostKilled(client: RunnerClient, hung: string[], slow: string[]): Promise<void> {
  const silent = await runOn(client, hung, { hostSilenceMs: 1000, pingEveryMs: 60_000 });
  expect(silent).toMatchObject({ exitCode: 137, signal: 'SIGKILL', timedOut: false, aborted: false });
  expect(silent.stdout.toString('utf8')).toBe('started\n');
  expect(silent.wallMs).toBeGreaterThanOrEqual(900);
  expect(silent.wallMs).toBeLessThan(5000);
  const pinged = await runOn(client, slow, { hostSilenceMs: 1000 });
  expect([pinged.exitCode, pinged.stdout.toString('utf8')]).toEqual([0, 'done\n']);
}
