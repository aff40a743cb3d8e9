// The host's memory with 16 pooled containers (4 configs x 4, each container used until its
// runner is up), measured in a process of its own that holds nothing but an executor: this file,
// run as a child of the bench. Measured in the bench's own process it was the bench's memory
// (Playwright, the window flood's service, the samples of every earlier phase: 262-301 MB before
// the containers were pooled, which moved it by -5 to +1 MB), not what the target of issue 5 asks.
// The child also loads tsx, which a built host does not: its RSS after loading the engine, before
// any executor, is reported next to it.
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { connectDocker } from '../electron/main/engine/engine-client/docker-client';
import { createExecutor, type ExecuteRequestInput } from '../electron/main/engine/executor';
import { removeContainer } from '../electron/main/engine/pool/containers';
import { LABEL } from '../electron/main/engine/pool/labels';
import type { ExecuteResponse } from '../shared/gen/loom/v1/docker_pb';
import { warmPoolToRunner } from './warm-pool';

export const RSS_CONFIGS = 4;
export const RSS_PER_CONFIG = 4;
const RUNNER_WAIT_MS = 30_000;
const CHILD_TIMEOUT_MS = 180_000;
const MB = 1024 * 1024;
const HELLO = ['python3', '-c', "print('hello')"];

export interface PooledRss {
  /** With the containers pooled. */
  rssMb: number;
  heapUsedMb: number;
  /** The same process after loading the engine (and tsx), before any executor. */
  baselineRssMb: number;
  baselineHeapUsedMb: number;
  pooled: number;
  /** Configs whose every container had its runner up when memory was measured. */
  configsWithRunners: number;
  /** Runs with the wrong exit code or output. */
  wrong: string[];
}

/** Runs the measurement in a child process; removes whatever containers it left. */
export async function measurePooledRss(log: (line: string) => void): Promise<PooledRss> {
  const runTs = fileURLToPath(new URL('../bin/run-ts.js', import.meta.url));
  const child = spawn(process.execPath, [runTs, fileURLToPath(import.meta.url)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearTimeout(timer);
  const lines = out.split('\n');
  const instance = lines.find((l) => l.startsWith('instance '))?.slice('instance '.length);
  if (instance) {
    const { docker } = connectDocker();
    const left = await docker.listContainers({ all: true, filters: { label: [`${LABEL.ownerInstance}=${instance}`] } });
    await Promise.all(left.map((c) => removeContainer(docker, c.Id)));
    if (left.length) log(`rss: removed ${left.length} container(s) its process left`);
  }
  const result = lines.find((l) => l.startsWith('{'));
  if (code !== 0 || !result) throw new Error(`the pooled-RSS process ended with ${code ?? 'a signal'} and no result`);
  return JSON.parse(result) as PooledRss;
}

async function child(): Promise<void> {
  const before = process.memoryUsage();
  const { docker } = connectDocker();
  const wrong: string[] = [];
  const executor = await createExecutor({
    docker,
    maxContainersPerKey: RSS_PER_CONFIG,
    minIdlePerConfig: 0,
    reapOrphans: false,
    onError: (e) => process.stderr.write(`engine background error: ${String(e)}\n`),
  });
  process.stdout.write(`instance ${executor.scheduler.owner.instance}\n`);
  try {
    const requests: ExecuteRequestInput[] = Array.from({ length: RSS_CONFIGS }, (_, i) => ({
      command: HELLO,
      config: { name: `bench-rss-${process.pid}-${i}` },
    }));
    for (const request of requests) await executor.prewarm(request, RSS_PER_CONFIG);
    const check = (r: ExecuteResponse): void => {
      const stdout = Buffer.from(r.stdout).toString('utf8');
      if (r.exitCode !== 0 || stdout !== 'hello\n') wrong.push(`rss: exit ${r.exitCode}, stdout ${JSON.stringify(stdout.slice(0, 200))}`);
    };
    let configsWithRunners = 0;
    for (const request of requests) {
      if ((await warmPoolToRunner(executor, request, RSS_PER_CONFIG, RSS_PER_CONFIG, RUNNER_WAIT_MS, check)).ready) configsWithRunners++;
    }
    await sleep(200);
    const mem = process.memoryUsage();
    const result: PooledRss = {
      rssMb: mem.rss / MB,
      heapUsedMb: mem.heapUsed / MB,
      baselineRssMb: before.rss / MB,
      baselineHeapUsedMb: before.heapUsed / MB,
      pooled: executor.containers().length,
      configsWithRunners,
      wrong,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await executor.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await child();
