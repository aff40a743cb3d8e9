// Live figures for the Pool page, computed the way `docker stats` computes them, and a one-line
// summary of the config a container was made with, read back from the engine.
import type Docker from 'dockerode';
import { cpuLimit } from '../engine/container/container';

export interface LiveFigures {
  cpuPercent?: number;
  memoryBytes?: number;
  memoryLimitBytes?: number;
}

// Only what is read, all optional: engines leave fields out (cgroup v1 vs v2, a stopped
// container, Podman), whatever the typings claim.
interface CpuSample {
  cpu_usage?: { total_usage?: number; percpu_usage?: number[] };
  system_cpu_usage?: number;
  online_cpus?: number;
}
export interface RawStats {
  cpu_stats?: CpuSample;
  precpu_stats?: CpuSample;
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number | undefined> };
}

/** CPU use since the previous sample, in percent of one CPU (200 = two CPUs busy). */
export function cpuPercent(stats: RawStats): number | undefined {
  const now = stats.cpu_stats;
  const before = stats.precpu_stats;
  if (now?.system_cpu_usage === undefined || !before?.system_cpu_usage) return undefined;
  const cpuDelta = (now.cpu_usage?.total_usage ?? 0) - (before.cpu_usage?.total_usage ?? 0);
  const systemDelta = now.system_cpu_usage - before.system_cpu_usage;
  const cpus = now.online_cpus || now.cpu_usage?.percpu_usage?.length || 1;
  return systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * cpus * 100 : 0;
}

/**
 * Memory in use without the page cache the kernel can drop, as `docker stats` shows it:
 * inactive_file (total_inactive_file on cgroup v1), else cache on older engines.
 */
export function memoryBytes(stats: RawStats): number | undefined {
  const mem = stats.memory_stats;
  if (mem?.usage === undefined) return undefined;
  const s = mem.stats ?? {};
  const reclaimable = s.total_inactive_file ?? s.inactive_file ?? s.cache ?? 0;
  return reclaimable < mem.usage ? mem.usage - reclaimable : mem.usage;
}

/** The live figures of one container; {} when the engine does not answer within timeoutMs. */
export async function liveFigures(docker: Docker, id: string, timeoutMs: number): Promise<LiveFigures> {
  const stats = await withTimeout<RawStats>((signal) => {
    // Not a one-shot sample: the engine takes two, about a second apart, for the CPU delta.
    // abortSignal is honoured by dockerode but missing from its typings.
    const options: { stream: false; abortSignal: AbortSignal } = { stream: false, abortSignal: signal };
    return docker.getContainer(id).stats(options);
  }, timeoutMs);
  if (!stats) return {};
  const figures: LiveFigures = {};
  const cpu = cpuPercent(stats);
  const memory = memoryBytes(stats);
  if (cpu !== undefined) figures.cpuPercent = Math.round(cpu * 10) / 10;
  if (memory !== undefined) figures.memoryBytes = memory;
  if (stats.memory_stats?.limit) figures.memoryLimitBytes = stats.memory_stats.limit;
  return figures;
}

export function inspectContainer(docker: Docker, id: string, timeoutMs: number): Promise<Docker.ContainerInspectInfo | undefined> {
  return withTimeout((signal) => docker.getContainer(id).inspect({ abortSignal: signal }), timeoutMs);
}

/** "python:3.11-slim · 512 MB · 1 CPU · 1024 MB /tmp · 100 pids · network none · packages: requests" */
export function configSummary(inspect: Docker.ContainerInspectInfo | undefined, fallbackImage: string, packages?: readonly string[]): string {
  const parts = [inspect?.Config.Image || fallbackImage];
  const host = inspect?.HostConfig;
  if (host?.Memory) parts.push(`${Math.round(host.Memory / (1024 * 1024))} MB`);
  const cpus = cpuLimit(host);
  if (cpus !== undefined) parts.push(`${Math.round(cpus * 100) / 100} CPU${cpus === 1 ? '' : 's'}`);
  const tmpSize = /size=(\w+)/.exec(host?.Tmpfs?.['/tmp'] ?? '')?.[1];
  if (tmpSize) parts.push(`${tmpSize.replace(/m$/, ' MB')} /tmp`);
  if (host?.PidsLimit) parts.push(`${host.PidsLimit} pids`);
  if (host?.NetworkMode) parts.push(`network ${host.NetworkMode}`);
  if (packages?.length) parts.push(`packages: ${packages.join(', ')}`);
  return parts.join(' · ');
}

/** The value, or undefined when it fails or takes longer than timeoutMs (the request is aborted). */
async function withTimeout<T>(call: (signal: AbortSignal) => Promise<T>, timeoutMs: number): Promise<T | undefined> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    return await call(controller.signal);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}
