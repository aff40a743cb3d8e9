// Runs resources/doctor/probe.py in one short-lived container made with the very options every
// Loom sandbox gets (createOptions), its resources volume included: the probe is read from that
// volume, as the runner and the agent are, so what it finds is what a sandbox has.
import type Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import { createOptions } from '../container/container';
import { AbortedError, describeCause } from '../errors';
import { runExec, type ExecResult } from '../container/exec';
import { currentOwner } from '../pool/labels';
import type { ContainerSpec, Isolation } from '../request/request';
import { RESOURCES_DIR, ResourcesVolume } from '../container/resources';
import { pullFix } from './engine-checks';
import { PROBE_ALLOC_MB, PROBE_LIMITS, PROBE_WRITE_MB } from './probe-checks';
import type { ProbeFacts, Verdict } from './types';

/** Set on the probe container (besides Loom's usual labels) so that it can be told apart. */
export const DOCTOR_LABEL = 'dev.loom.doctor';

/** Where the probe is in the container (resources.ts ships resources/doctor). */
const PROBE_PATH = `${RESOURCES_DIR}/doctor/probe.py`;

/** The probe's one argument, as JSON: what to try the limits with, and where the volume is. */
export const PROBE_CONFIG = { pids: PROBE_LIMITS.pidsLimit, allocMb: PROBE_ALLOC_MB, writeMb: PROBE_WRITE_MB, resourcesDir: RESOURCES_DIR } as const;

export type ProbeOutcome =
  /** The probe ran: its lines by check id, and why a check without a line has none. */
  | { ran: true; facts: ReadonlyMap<string, ProbeFacts>; missing: string }
  /** It could not run: the same verdict for every probe check. */
  | { ran: false; verdict: Verdict };

export interface ProbeOptions {
  /** The image to run it in (it needs python3), and whether the engine has it. */
  image: string;
  imagePresent: boolean;
  /** How long the probe may run before it is killed and its checks fail. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** The runtime to run it under (default runc). */
  isolation?: Isolation;
  /** Only these trials (check ids); default all. */
  only?: string[];
}

/** The probe's stdout, one JSON object per line, by the check id each names. */
export function parseProbeOutput(stdout: string): Map<string, ProbeFacts> {
  const facts = new Map<string, ProbeFacts>();
  for (const line of stdout.split('\n')) {
    if (!line.trim()) continue;
    try {
      const parsed = JSON.parse(line) as ProbeFacts;
      if (typeof parsed.check === 'string') facts.set(parsed.check, parsed);
    } catch {
      // Not one of ours: ignored, and the check it should have answered says so.
    }
  }
  return facts;
}

const interrupted = (): AbortedError => new AbortedError('loom doctor was interrupted');

export async function runProbe(docker: Docker, options: ProbeOptions): Promise<ProbeOutcome> {
  const { image, timeoutMs, signal } = options;
  if (!options.imagePresent) {
    // Pulling would take far longer than a doctor should, and fails offline: say how instead.
    return { ran: false, verdict: { status: 'warn', detail: `not tried: the probe runs in ${image}, which is not on the engine`, fix: pullFix(image) } };
  }
  if (signal?.aborted) throw interrupted();
  let volume: string;
  try {
    volume = await new ResourcesVolume().ensure(docker, image);
  } catch (err) {
    return { ran: false, verdict: { status: 'fail', detail: `could not prepare Loom's resources volume, which every sandbox mounts: ${describeCause(err)}` } };
  }
  const spec: ContainerSpec = {
    name: 'doctor',
    image,
    runtime: 'python',
    packages: [],
    cpuCores: PROBE_LIMITS.cpuCores,
    memoryMb: PROBE_LIMITS.memoryMb,
    storageMb: PROBE_LIMITS.storageMb,
    pidsLimit: PROBE_LIMITS.pidsLimit,
    network: 'none',
    env: {},
    mounts: [],
    isolation: options.isolation ?? 'runc',
  };
  const run = randomBytes(16).toString('hex');
  const create = createOptions({ spec, poolKey: run, owner: currentOwner(run), resourcesVolume: volume });
  // Loom's managed labels stay, so that `loom containers prune` removes a probe whose process died.
  create.Labels = { ...create.Labels, [DOCTOR_LABEL]: run };

  let container: Docker.Container | undefined;
  try {
    try {
      container = await docker.createContainer(create);
      await container.start();
    } catch (err) {
      // The engine refused Loom's own options: every sandbox would fail the same way.
      return {
        ran: false,
        verdict: {
          status: 'fail',
          detail: `could not start a sandbox container with Loom's options: ${describeCause(err)}`,
          fix: "see the engine's message; `docker info` shows its configuration",
        },
      };
    }
    const started = container;
    let result: ExecResult;
    try {
      result = await runExec(started, {
        argv: ['python3', PROBE_PATH, JSON.stringify(options.only ? { ...PROBE_CONFIG, only: options.only } : PROBE_CONFIG)],
        maxOutputBytes: 1 << 20,
        timeoutMs,
        signal,
        kill: async () => {
          await started.kill().catch(() => undefined);
        },
      });
    } catch (err) {
      if (signal?.aborted) throw interrupted();
      return { ran: false, verdict: { status: 'fail', detail: `the probe could not run in the sandbox container: ${describeCause(err)}` } };
    }
    if (result.aborted) throw interrupted();
    const stderr = result.stderr.toString('utf8').trim();
    const missing = result.timedOut
      ? `the probe did not finish within ${timeoutMs / 1000} s and was killed`
      : `the probe ended (exit ${result.exitCode}) without reporting it${stderr ? `: ${stderr.slice(-300)}` : ''}`;
    return { ran: true, facts: parseProbeOutput(result.stdout.toString('utf8')), missing };
  } finally {
    // Whatever happened above: the probe container must not outlive the doctor.
    if (container) await container.remove({ force: true, v: true }).catch(() => undefined);
  }
}
