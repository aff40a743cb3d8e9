// gVisor next to runc, in the same run: cold (every run creates its container) and warm (the same
// pooled container, its runner up) p50 of a Python hello through the executor, each isolation
// level's samples interleaved in blocks with the other's, so that the machine's drift hits both.
// Reported as ratios gVisor/runc. Warm is measured twice: at an idle container (IDLE_PACE_MS
// between runs, as a person's or an agent's next step arrives, and as the warm Node figure is
// taken), which the target (warm gVisor p50 <= 5x warm runc p50) is read on, and back to back.
// They differ under gVisor: each run is served by a spare forked ahead, and under the ptrace
// platform preparing the next one (its fork, start and rehearsal) takes ~35-45 ms of the sentry's
// CPU, so a run that follows the last at once waits for it; runc's takes ~2 ms.
import type Docker from 'dockerode';
import { setTimeout as sleep } from 'node:timers/promises';
import { createExecutor, type ExecuteRequestInput, type Executor } from '../electron/main/engine/executor';
import { IsolationLevel } from '../shared/gen/loom/v1/docker_pb';
import { percentile, ratio, summarize, type Summary } from './stats';

export const GVISOR_WARM_TARGET = 5;
/** The pause before each warm run at an idle container. */
export const IDLE_PACE_MS = 100;

export interface GvisorFigures {
  /** Whether the engine has runsc; without it nothing is measured. */
  available: boolean;
  runcCold: Summary;
  gvisorCold: Summary;
  /** Back to back. */
  runcWarm: Summary;
  gvisorWarm: Summary;
  /** At an idle container: IDLE_PACE_MS after the last run. */
  runcIdleWarm: Summary;
  gvisorIdleWarm: Summary;
  coldRatio: number;
  /** Back to back. */
  warmRatio: number;
  /** At an idle container: the one the target is read on. */
  idleWarmRatio: number;
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
    return {
      available: false,
      runcCold: empty,
      gvisorCold: empty,
      runcWarm: empty,
      gvisorWarm: empty,
      runcIdleWarm: empty,
      gvisorIdleWarm: empty,
      coldRatio: Number.NaN,
      warmRatio: Number.NaN,
      idleWarmRatio: Number.NaN,
      wrong: 0,
    };
  }
  const executor: Executor = await createExecutor({ docker, minIdlePerConfig: 0, reapOrphans: false, onError });
  const samples = { runcCold: [] as number[], gvisorCold: [] as number[], runcWarm: [] as number[], gvisorWarm: [] as number[], runcIdleWarm: [] as number[], gvisorIdleWarm: [] as number[] };
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
        const gvisor = level === IsolationLevel.GVISOR;
        for (let k = first; k < Math.min(first + BLOCK, nWarm); k++) (gvisor ? samples.gvisorWarm : samples.runcWarm).push(await run(level, false));
        for (let k = first; k < Math.min(first + BLOCK, nWarm); k++) {
          await sleep(IDLE_PACE_MS);
          (gvisor ? samples.gvisorIdleWarm : samples.runcIdleWarm).push(await run(level, false));
        }
      }
    }
  } finally {
    await executor.close();
  }
  const coldRatio = ratio(percentile(samples.gvisorCold, 50), percentile(samples.runcCold, 50));
  const warmRatio = ratio(percentile(samples.gvisorWarm, 50), percentile(samples.runcWarm, 50));
  const idleWarmRatio = ratio(percentile(samples.gvisorIdleWarm, 50), percentile(samples.runcIdleWarm, 50));
  const p50 = (xs: number[]): string => `${percentile(xs, 50).toFixed(1)} ms`;
  log(
    `gvisor: cold p50 ${p50(samples.gvisorCold)} vs runc ${p50(samples.runcCold)} (x${coldRatio.toFixed(2)}); ` +
      `warm p50 at an idle container ${p50(samples.gvisorIdleWarm)} vs runc ${p50(samples.runcIdleWarm)} (x${idleWarmRatio.toFixed(2)}), ` +
      `back to back ${p50(samples.gvisorWarm)} vs runc ${p50(samples.runcWarm)} (x${warmRatio.toFixed(2)})`,
  );
  return {
    available: true,
    runcCold: summarize(samples.runcCold),
    gvisorCold: summarize(samples.gvisorCold),
    runcWarm: summarize(samples.runcWarm),
    gvisorWarm: summarize(samples.gvisorWarm),
    runcIdleWarm: summarize(samples.runcIdleWarm),
    gvisorIdleWarm: summarize(samples.gvisorIdleWarm),
    coldRatio,
    warmRatio,
    idleWarmRatio,
    wrong,
  };
}
