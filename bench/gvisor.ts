// gVisor next to runc, in the same run: cold (every run creates its container) and warm (the same
// pooled container, its runner up) p50 of a Python hello through the executor, each isolation
// level's samples interleaved in blocks with the other's, so that the machine's drift hits both.
// Reported as ratios gVisor/runc; the target is warm gVisor p50 <= 5x warm runc p50.
import type Docker from 'dockerode';
import { createExecutor, type ExecuteRequestInput, type Executor } from '../electron/main/engine/executor';
import { IsolationLevel } from '../shared/gen/loom/v1/docker_pb';
import { percentile, ratio, summarize, type Summary } from './stats';

export const GVISOR_WARM_TARGET = 5;

export interface GvisorFigures {
  /** Whether the engine has runsc; without it nothing is measured. */
  available: boolean;
  runcCold: Summary;
  gvisorCold: Summary;
  runcWarm: Summary;
  gvisorWarm: Summary;
  coldRatio: number;
  warmRatio: number;
  /** Runs with the wrong output, or a warm run that made a container, or a warm run not by the runner. */
  wrong: number;
}

const HELLO = ['python3', '-c', "print('hello')"];
const BLOCK = 5;

const request = (isolation: IsolationLevel, cold: boolean): ExecuteRequestInput => ({
  command: HELLO,
  config: { name: `bench-${isolation === IsolationLevel.GVISOR ? 'gvisor' : 'runc'}${cold ? '-cold' : ''}`, isolation, lifecycle: cold ? { maxExecutions: 1 } : {} },
});

export async function measureGvisor(docker: Docker, nWarm: number, nCold: number, log: (line: string) => void, onError: (e: unknown) => void): Promise<GvisorFigures> {
  const runtimes = Object.keys(((await docker.info()) as { Runtimes?: Record<string, unknown> }).Runtimes ?? {});
  const empty = summarize([]);
  if (!runtimes.includes('runsc')) {
    log(`gvisor: the engine has no runsc runtime (it has ${runtimes.join(', ')}): not measured`);
    return { available: false, runcCold: empty, gvisorCold: empty, runcWarm: empty, gvisorWarm: empty, coldRatio: Number.NaN, warmRatio: Number.NaN, wrong: 0 };
  }
  const executor: Executor = await createExecutor({ docker, minIdlePerConfig: 0, reapOrphans: false, onError });
  const samples = { runcCold: [] as number[], gvisorCold: [] as number[], runcWarm: [] as number[], gvisorWarm: [] as number[] };
  let wrong = 0;
  const run = async (isolation: IsolationLevel, cold: boolean): Promise<number> => {
    const t0 = performance.now();
    const r = await executor.execute(request(isolation, cold));
    const ms = performance.now() - t0;
    if (r.exitCode !== 0 || Buffer.from(r.stdout).toString() !== 'hello\n' || r.containerCreated !== cold || (!cold && r.usage?.via !== 'runner')) wrong++;
    return ms;
  };
  try {
    const levels = [IsolationLevel.RUNC, IsolationLevel.GVISOR] as const;
    // Cold, one by one, the order alternating; each cold container is removed (untimed) by the pool.
    for (const level of levels) await run(level, true);
    for (let i = 0; i < nCold; i++) {
      for (const level of i % 2 ? [...levels].reverse() : levels) {
        (level === IsolationLevel.GVISOR ? samples.gvisorCold : samples.runcCold).push(await run(level, true));
      }
    }
    // Warm: a few untimed runs until each level's runner serves (their first makes the container), then blocks.
    const counted = wrong;
    for (const level of levels) for (let i = 0; i < 5; i++) await run(level, false);
    wrong = counted;
    for (let first = 0, block = 0; first < nWarm; first += BLOCK, block++) {
      for (const level of block % 2 ? [...levels].reverse() : levels) {
        for (let k = first; k < Math.min(first + BLOCK, nWarm); k++) (level === IsolationLevel.GVISOR ? samples.gvisorWarm : samples.runcWarm).push(await run(level, false));
      }
    }
  } finally {
    await executor.close();
  }
  const coldRatio = ratio(percentile(samples.gvisorCold, 50), percentile(samples.runcCold, 50));
  const warmRatio = ratio(percentile(samples.gvisorWarm, 50), percentile(samples.runcWarm, 50));
  log(
    `gvisor: cold p50 ${percentile(samples.gvisorCold, 50).toFixed(1)} ms vs runc ${percentile(samples.runcCold, 50).toFixed(1)} ms (x${coldRatio.toFixed(2)}); ` +
      `warm p50 ${percentile(samples.gvisorWarm, 50).toFixed(1)} ms vs runc ${percentile(samples.runcWarm, 50).toFixed(1)} ms (x${warmRatio.toFixed(2)})`,
  );
  return {
    available: true,
    runcCold: summarize(samples.runcCold),
    gvisorCold: summarize(samples.gvisorCold),
    runcWarm: summarize(samples.runcWarm),
    gvisorWarm: summarize(samples.gvisorWarm),
    coldRatio,
    warmRatio,
    wrong,
  };
}
