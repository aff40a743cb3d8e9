// Warming a pool key until every one of its containers serves through its runner: shared by the
// bench's throughput phase and its pooled-memory process (bench/pooled-rss.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecuteRequestInput, Executor } from '../electron/main/engine/executor';
import type { ExecuteResponse } from '../shared/gen/loom/v1/docker_pb';

export interface RunnerWait {
  /** Untimed runs it took. */
  runs: number;
  /** The container of the last of them. */
  containerId: string;
  /** Whether the runner was up in the end (false: the deadline passed; the bench goes on). */
  ready: boolean;
}

/**
 * Batches of `batch` concurrent runs until a whole batch went by the runner and touched
 * `containers` distinct containers (so every container's runner is up; a new container's first
 * run goes by docker exec while its runner starts), or `waitMs` pass. Each response goes to
 * `check`.
 */
export async function warmPoolToRunner(
  executor: Executor,
  request: ExecuteRequestInput,
  batch: number,
  containers: number,
  waitMs: number,
  check: (response: ExecuteResponse) => void,
): Promise<RunnerWait> {
  const deadline = performance.now() + waitMs;
  for (let runs = 0; ; ) {
    const rs = await Promise.all(Array.from({ length: batch }, () => executor.execute(request)));
    runs += rs.length;
    rs.forEach(check);
    const containerId = rs[0]?.containerId ?? '';
    const ready = rs.every((r) => r.usage?.via === 'runner') && new Set(rs.map((r) => r.containerId)).size >= containers;
    if (ready || performance.now() > deadline) return { runs, ready, containerId };
    await sleep(50);
  }
}
