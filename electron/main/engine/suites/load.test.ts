// Load against the real engine: 1,000 executions at concurrency 16 across four configs (two
// Python configs with different limits, Node, a named Python config), every response checked
// against its own request (a unique token on stdout, stderr and the exit code), then close()
// leaves nothing behind, and the host process's memory and file descriptors stay flat.
// The numbers are printed; docs/reliability.md records them.
import type { MessageInitShape } from '@bufbuild/protobuf';
import { randomBytes } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecuteRequestSchema, Phase, RuntimeType, type ExecuteRequest, type ExecuteResponse } from '../../../../shared/gen/loom/v1/docker_pb';
import { createExecutor, type Executor } from '../executor';
import { containersOf, docker, requireEngineAndImages, text, waitFor } from '../testing/test-support';

type Request = Exclude<MessageInitShape<typeof ExecuteRequestSchema>, ExecuteRequest>;

const RUN_ID = randomBytes(3).toString('hex');
const TOTAL = 1_000;
const CONCURRENCY = 16;
const POOL = 4;
const MB = 1024 * 1024;

interface LoadConfig {
  label: string;
  runtime: 'python' | 'node';
  base: Omit<Request, 'command'>;
}

const CONFIGS: LoadConfig[] = [
  { label: 'python 256 MB', runtime: 'python', base: { config: { resourceLimits: { memoryMb: 256n } } } },
  { label: 'python 128 MB, 0.5 CPU', runtime: 'python', base: { config: { resourceLimits: { memoryMb: 128n, cpuCores: 0.5 } } } },
  { label: 'node', runtime: 'node', base: { runtimeType: RuntimeType.NODE, config: {} } },
  { label: 'python, named', runtime: 'python', base: { config: { name: `load-named-${RUN_ID}` } } },
];

/** What execution `i` runs and what it must answer: its own token, maybe on stderr too, maybe a non-zero exit. */
interface Job {
  index: number;
  config: LoadConfig;
  token: string;
  stderr: string;
  exitCode: number;
  request: Request;
}

function jobFor(index: number): Job {
  const config = CONFIGS[index % CONFIGS.length]!;
  const token = `t${index}-${randomBytes(8).toString('hex')}`;
  const variant = Math.floor(index / CONFIGS.length) % 4;
  const writesStderr = variant === 1 || variant === 3;
  const exitCode = variant >= 2 ? 1 + (index % 100) : 0;
  const command =
    config.runtime === 'python'
      ? ['python3', '-c', `import sys\nprint('${token}')\n${writesStderr ? `print('err-${token}', file=sys.stderr)\n` : ''}sys.exit(${exitCode})`]
      : ['node', '-e', `console.log('${token}');${writesStderr ? `console.error('err-${token}');` : ''}process.exitCode = ${exitCode};`];
  return { index, config, token, stderr: writesStderr ? `err-${token}\n` : '', exitCode, request: { ...config.base, command, timeoutSeconds: 60 } };
}

/** A full garbage collection, without --expose-gc on the command line (vitest starts the fork). */
function collectGarbage(): boolean {
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    if (typeof gc !== 'function') return false;
    (gc as () => void)();
    (gc as () => void)();
    return true;
  } catch {
    return false;
  }
}

const openFds = (): number => readdirSync('/proc/self/fd').length;

/** Open descriptors by kind (socket, pipe, anon_inode, file), for the report. */
function fdKinds(): string {
  const kinds = new Map<string, number>();
  for (const fd of readdirSync('/proc/self/fd')) {
    let target = 'gone';
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      // closed meanwhile
    }
    const kind = /^(\w+):/.exec(target)?.[1] ?? (target.startsWith('/') ? 'file' : target);
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  return [...kinds].map(([k, n]) => `${k} ${n}`).join(', ');
}

interface Sample {
  rssMb: number;
  heapMb: number;
}

function sample(): Sample {
  collectGarbage();
  const { rss, heapUsed } = process.memoryUsage();
  return { rssMb: rss / MB, heapMb: heapUsed / MB };
}

let executor: Executor | undefined;
const report: string[] = [];

beforeAll(async () => {
  await requireEngineAndImages();
});

afterAll(async () => {
  await executor?.close();
  if (report.length) console.log(`load test:\n  ${report.join('\n  ')}`);
});

/**
 * Runs a request; when it fails, says which container it was on and what the engine knows of
 * that container now (still running, exited with a code, OOM-killed, removed), so that a
 * failure caused from outside (another process removing containers, say) is recognisable.
 */
async function run(on: Executor, request: Request): Promise<ExecuteResponse> {
  let containerName = '';
  try {
    return await on.execute(request, {
      onEvent: (e) => {
        if (e.event.case === 'phase' && e.event.value.phase === Phase.CONTAINER) {
          const m = /^(?:warm|cold) (\S+)$/.exec(e.event.value.detail);
          if (m) containerName = m[1]!;
        }
      },
    });
  } catch (err) {
    let state = 'unknown container';
    if (containerName) {
      state = await docker
        .getContainer(containerName)
        .inspect()
        .then(
          (i) => `${i.State.Status}, exit ${i.State.ExitCode}, OOMKilled ${i.State.OOMKilled}, finished ${i.State.FinishedAt}`,
          (e: unknown) => `inspect failed: ${String(e)}`,
        );
    }
    if (err instanceof Error) err.message += ` [container ${containerName || '?'}: ${state}; at ${new Date().toISOString()}]`;
    throw err;
  }
}

/** Pre-warms `POOL` containers of a config and waits until each serves programs through its runner. */
async function warm(on: Executor, config: LoadConfig): Promise<void> {
  const probe: Request = { ...config.base, command: config.runtime === 'python' ? ['python3', '-c', 'import time; time.sleep(0.2)'] : ['node', '-e', 'setTimeout(() => {}, 200)'] };
  await on.prewarm(probe, POOL);
  await waitFor(
    `the ${POOL} runners of ${config.label}`,
    async () => {
      // POOL concurrent runs take POOL different containers.
      const rs = await Promise.all(Array.from({ length: POOL }, () => run(on, probe)));
      return rs.every((r) => r.usage?.via === 'runner') && new Set(rs.map((r) => r.containerId)).size === POOL;
    },
    60_000,
  );
}

describe('load', () => {
  it(`runs ${TOTAL} executions at concurrency ${CONCURRENCY} across ${CONFIGS.length} configs, each answered correctly, with flat memory and file descriptors`, async () => {
    const fdsAtStart = openFds();
    const kindsAtStart = fdKinds();
    const own = await createExecutor({ maxContainersPerKey: POOL });
    executor = own;
    const warmStarted = Date.now();
    await Promise.all(CONFIGS.map((c) => warm(own, c)));
    const warmMs = Date.now() - warmStarted;
    const fdsWarm = openFds();
    const kindsWarm = fdKinds();

    const jobs = Array.from({ length: TOTAL }, (_, i) => jobFor(i));
    const responses = new Array<ExecuteResponse | undefined>(TOTAL);
    const failures: string[] = [];
    let next = 0;
    let completed = 0;
    let after100: Sample | undefined;
    let fdsAfter100 = 0;
    const started = Date.now();
    const worker = async (): Promise<void> => {
      for (;;) {
        const job = jobs[next++];
        if (!job) return;
        try {
          responses[job.index] = await run(own, job.request);
        } catch (err) {
          failures.push(`#${job.index} (${job.config.label}): ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
        }
        if (++completed === 100) {
          after100 = sample();
          fdsAfter100 = openFds();
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, () => worker()));
    const loadMs = Date.now() - started;
    const afterAll1000 = sample();
    const fdsAfter = openFds();

    // Every response is its own request's: token, stderr, exit code; and each config's runs
    // stayed on that config's containers.
    expect(failures).toEqual([]);
    const containersOfConfig = new Map<string, Set<string>>(CONFIGS.map((c) => [c.label, new Set<string>()]));
    const via = { runner: 0, exec: 0 };
    let wrong = 0;
    for (const job of jobs) {
      const r = responses[job.index];
      expect(r, `#${job.index} has no response`).toBeDefined();
      if (!r) continue;
      const ok = text(r.stdout) === `${job.token}\n` && text(r.stderr) === job.stderr && r.exitCode === job.exitCode && !r.timedOut;
      if (!ok) {
        wrong++;
        expect.soft({ index: job.index, stdout: text(r.stdout), stderr: text(r.stderr), exitCode: r.exitCode, timedOut: r.timedOut }).toEqual({
          index: job.index,
          stdout: `${job.token}\n`,
          stderr: job.stderr,
          exitCode: job.exitCode,
          timedOut: false,
        });
      }
      containersOfConfig.get(job.config.label)!.add(r.containerId);
      if (r.usage?.via === 'runner') via.runner++;
      else via.exec++;
    }
    expect(wrong).toBe(0);
    const allIds = [...containersOfConfig.values()].flatMap((s) => [...s]);
    expect(new Set(allIds).size, 'a container served two configs').toBe(allIds.length);
    const nonZero = jobs.filter((j) => j.exitCode !== 0).length;
    const withStderr = jobs.filter((j) => j.stderr).length;

    await own.close();
    executor = undefined;
    const left = await containersOf(own.scheduler.owner.instance);
    // Sockets of the closed runners and agents are let go a moment after close().
    await waitFor('the file descriptors to be let go', async () => openFds() - fdsAtStart <= 10, 10_000).catch(() => undefined);
    const fdsClosed = openFds();
    const kindsClosed = fdKinds();

    const perSecond = (TOTAL / loadMs) * 1000;
    report.push(
      `${TOTAL} executions (${nonZero} with a non-zero exit, ${withStderr} writing stderr) at concurrency ${CONCURRENCY} on ${CONFIGS.length} configs x ${POOL} containers: ${(loadMs / 1000).toFixed(1)} s, ${perSecond.toFixed(0)}/s (pre-warm ${(warmMs / 1000).toFixed(1)} s); via runner ${via.runner}, via exec ${via.exec}`,
      `containers used per config: ${[...containersOfConfig].map(([label, ids]) => `${label} ${ids.size}`).join(', ')}`,
      `gc forced: ${collectGarbage()}; rss after 100 ${after100?.rssMb.toFixed(1)} MB, after ${TOTAL} ${afterAll1000.rssMb.toFixed(1)} MB; heapUsed after 100 ${after100?.heapMb.toFixed(1)} MB, after ${TOTAL} ${afterAll1000.heapMb.toFixed(1)} MB`,
      `open fds: at start ${fdsAtStart}, warm ${fdsWarm}, after 100 ${fdsAfter100}, after ${TOTAL} ${fdsAfter}, after close ${fdsClosed} (start: ${kindsAtStart}; warm: ${kindsWarm}; after close: ${kindsClosed})`,
      `managed containers of this executor after close: ${left.length}`,
    );

    expect(left).toEqual([]);
    expect(after100).toBeDefined();
    expect(afterAll1000.heapMb - after100!.heapMb).toBeLessThan(50);
    expect(afterAll1000.rssMb - after100!.rssMb).toBeLessThan(50);
    expect(fdsAfter - fdsWarm).toBeLessThanOrEqual(10);
    expect(fdsClosed - fdsAtStart).toBeLessThanOrEqual(10);
  }, 300_000);
});
