// What the machine's own costs are, printed next to the figures so that runs on two machines can
// be compared: a page fault, a fork + exit, a `node -e 0`. Where the containers run is what counts
// (with Docker Desktop, a VM, not the host), so the first two are measured inside one.
// Also the page faults of a run, as the runner counts them (the one cause of warm-path time that
// does not depend on the machine), and the CPU a run costs inside its container.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { ExecuteResponse } from '../shared/gen/loom/v1/docker_pb';
import { median } from './stats';

/**
 * The probe run in a container (python3, standard library): first writes to 2,000 fresh pages,
 * less the same loop over pages already there (the loop's own cost), in µs per page; and fork +
 * exit + wait of the process itself, in ms. Medians of a few trials; one JSON line.
 */
export const MACHINE_PROBE = `
import json, mmap, os, time
P, N = 4096, 2000
def fault_us():
    m = mmap.mmap(-1, N * P)
    t0 = time.perf_counter()
    for i in range(0, N * P, P):
        m[i] = 1
    t1 = time.perf_counter()
    for i in range(0, N * P, P):
        m[i] = 2
    t2 = time.perf_counter()
    m.close()
    return ((t1 - t0) - (t2 - t1)) / N * 1e6
def fork_ms():
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return (time.perf_counter() - t0) * 1e3
med = lambda xs: sorted(xs)[len(xs) // 2]
print(json.dumps({"pageFaultUs": med([fault_us() for _ in range(7)]), "forkExitMs": med([fork_ms() for _ in range(21)])}))
`;

export interface MachineFigures {
  /** One first write to a fresh page, inside a container (µs). */
  pageFaultUs: number;
  /** fork + exit + wait of a small python3, inside a container (ms). */
  forkExitMs: number;
}

export function parseMachineProbe(stdout: string): MachineFigures {
  const v = JSON.parse(stdout) as Partial<MachineFigures>;
  if (typeof v.pageFaultUs !== 'number' || typeof v.forkExitMs !== 'number') throw new Error(`the machine probe printed ${JSON.stringify(stdout.slice(0, 200))}`);
  return { pageFaultUs: v.pageFaultUs, forkExitMs: v.forkExitMs };
}

/** Wall time of one process from spawn to exit (ms); rejects when it fails. */
export function timeProcess(file: string, args: readonly string[], cwd?: string, env?: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(file, args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve(performance.now() - t0);
      else reject(new Error(`${file} ${args.join(' ')}: exit ${code}: ${err.slice(0, 300)}`));
    });
  });
}

/** Median wall time of `n` runs of a process, one after another. */
export async function medianProcessMs(n: number, file: string, args: readonly string[], cwd?: string, env?: NodeJS.ProcessEnv): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) samples.push(await timeProcess(file, args, cwd, env));
  return median(samples);
}

/** The page faults of a run (the runner's count, from RUN to EXIT), from its run span; null when not counted. */
export function runFaults(response: ExecuteResponse): { program: number; runner: number } | null {
  for (const span of response.spans) {
    const a = span.attributes;
    const program = a?.['loom.page_faults'];
    const runner = a?.['loom.runner_page_faults'];
    if (typeof program === 'number' && typeof runner === 'number') return { program, runner };
  }
  return null;
}

/**
 * CPU time (ms) a container's cgroup has used so far (cgroup v2, then v1), read on the host; null
 * where the engine's cgroups are not visible here (Docker Desktop: they are inside its VM).
 */
export function containerCpuMs(containerId: string): number | null {
  const paths = [
    `/sys/fs/cgroup/system.slice/docker-${containerId}.scope/cpu.stat`,
    `/sys/fs/cgroup/docker/${containerId}/cpu.stat`,
    `/sys/fs/cgroup/cpuacct/docker/${containerId}/cpuacct.usage`,
  ];
  for (const path of paths) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      continue;
    }
    const usec = /^usage_usec (\d+)$/m.exec(text);
    if (usec) return Number(usec[1]) / 1000;
    const ns = Number(text.trim());
    if (Number.isFinite(ns)) return ns / 1e6;
  }
  return null;
}

/**
 * The whole machine's CPU time used so far (ms, all CPUs: /proc/stat less idle, iowait and the
 * time a hypervisor gave to others, steal), and its elapsed CPU time; null where /proc/stat is not
 * this machine's (macOS: Docker Desktop's VM has its own). Two readings give what a stretch of
 * work cost in all processes together, and how busy the CPUs were: a throughput figure whose CPUs
 * were full is bound by CPU per run.
 */
export function machineCpuMs(): { busyMs: number; totalMs: number } | null {
  let line: string | undefined;
  try {
    line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  } catch {
    return null;
  }
  const ticks = (line ?? '').split(/\s+/).slice(1, 9).map(Number);
  if (ticks.length < 5 || ticks.some((t) => !Number.isFinite(t))) return null;
  const total = ticks.reduce((a, b) => a + b, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0) + (ticks[7] ?? 0);
  // USER_HZ is 100 on every Linux the engine runs on: a tick is 10 ms.
  return { busyMs: (total - idle) * 10, totalMs: total * 10 };
}

/**
 * Page faults taken so far by the whole machine, all processes (/proc/vmstat pgfault: minor and
 * major), or null where that is not this machine's (macOS). Two readings give the cause of much
 * of a run's CPU on a VM, counted where the time is not: the faults of the runner, the forker,
 * the program, the engine and this process together.
 */
export function machinePageFaults(): number | null {
  try {
    const m = /^pgfault (\d+)$/m.exec(readFileSync('/proc/vmstat', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
