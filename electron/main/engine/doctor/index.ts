// `loom doctor`: what a user needs to know before trusting the sandbox with untrusted code. The
// engine's own claims (versions, security options) are read and judged; the limits and the
// security defaults are not taken on trust but tried, from inside one short-lived container made
// with the very options every Loom sandbox gets (probe.ts), so an engine that silently ignores a
// setting (rootless cgroup v1, a runtime without pids support) shows up as a failure.
import type Docker from 'dockerode';
import { DEFAULT_IMAGES } from '../../../../shared/defaults';
import { pingEngine } from '../engine-client/docker-client';
import { CHECKS, type DoctorCheck } from './checks';
import { runProbe, type ProbeOutcome } from './probe';
import { gvisorRuntime } from './engine-checks';
import { KERNEL } from './probe-checks';
import type { EngineFacts, EngineInfoResponse, ProbeCheck, Verdict } from './types';

export { CHECKS, PROBE_CHECKS, type CheckId, type DoctorCheck } from './checks';
export { DOCTOR_LABEL } from './probe';
export type { CheckStatus } from './types';

export interface DoctorReport {
  checks: DoctorCheck[];
}

export interface DoctorOptions {
  /** Aborting stops the probe; its container is removed before runDoctor rejects (AbortedError). */
  signal?: AbortSignal;
  /** How long the probe program may run before it is killed and its checks fail. */
  probeTimeoutMs?: number;
  /** The image the probe runs in (it needs python3); Loom's default Python image unless given. */
  probeImage?: string;
}

export async function runDoctor(docker: Docker, address: string, options: DoctorOptions = {}): Promise<DoctorReport> {
  // pingEngine turns "nothing answers" into EngineUnavailableError, which callers report as such.
  await pingEngine(docker, address);
  const [version, info, sizes] = await Promise.all([
    docker.version(),
    docker.info() as Promise<EngineInfoResponse>,
    Promise.all(Object.entries(DEFAULT_IMAGES).map(async ([runtime, image]) => [runtime, await imageSize(docker, image)] as const)),
  ]);
  const engine: EngineFacts = { address, version, info, imageSizes: Object.fromEntries(sizes) };

  const image = options.probeImage ?? DEFAULT_IMAGES.python;
  const defaultRuntime = Object.entries(DEFAULT_IMAGES).find(([, i]) => i === image)?.[0];
  const imagePresent = (defaultRuntime ? engine.imageSizes[defaultRuntime] : await imageSize(docker, image)) !== undefined;
  const timeoutMs = options.probeTimeoutMs ?? 20_000;
  const probe = await runProbe(docker, { image, imagePresent, timeoutMs, signal: options.signal });
  if (gvisorRuntime(info)) engine.gvisor = await tryGvisor(docker, { image, imagePresent, timeoutMs, signal: options.signal });

  const checks: DoctorCheck[] = [];
  for (const check of CHECKS) {
    const verdict = check.source === 'engine' ? check.judge(engine) : probeVerdict(check, probe);
    if (verdict) checks.push({ id: check.id, title: check.title, ...verdict });
  }
  return { checks };
}

/** A sandbox under gVisor that reports the kernel it sees: whether runsc works here, not only whether it is registered. */
async function tryGvisor(docker: Docker, options: { image: string; imagePresent: boolean; timeoutMs: number; signal?: AbortSignal }): Promise<NonNullable<EngineFacts['gvisor']>> {
  const outcome = await runProbe(docker, { ...options, isolation: 'gvisor', only: [KERNEL.id] });
  if (!outcome.ran) return { error: outcome.verdict.detail };
  const facts = outcome.facts.get(KERNEL.id);
  return facts && !facts.error ? { facts } : { error: facts?.error ?? outcome.missing };
}

function probeVerdict(check: ProbeCheck, probe: ProbeOutcome): Verdict {
  if (!probe.ran) return probe.verdict;
  const facts = probe.facts.get(check.id);
  if (!facts) return { status: 'fail', detail: probe.missing };
  if (facts.error) return { status: 'fail', detail: `the trial failed: ${facts.error}` };
  return check.judge(facts);
}

async function imageSize(docker: Docker, image: string): Promise<number | undefined> {
  try {
    return (await docker.getImage(image).inspect()).Size;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
}
