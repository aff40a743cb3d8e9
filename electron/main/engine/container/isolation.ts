// How an isolation level becomes an OCI runtime of the engine, and the check that the engine has
// it: a gVisor request on an engine without runsc fails before anything is created.
import type Docker from 'dockerode';
import type { ContainerSpec, Isolation } from '../request/request';
import { RuntimeMissingError, ValidationError } from '../errors';

/** The runtime name gVisor is registered under (Debian's runsc package, gVisor's own docs). */
export const GVISOR_RUNTIME = 'runsc';

/**
 * The engine's pids limit for a gVisor sandbox with a given pids_limit. gVisor's kernel enforces
 * pids_limit itself there, as RLIMIT_NPROC (see gvisorUlimits), because the host's count says
 * little of the program's: on the ptrace platform every guest task costs several host tasks (a
 * stub process per address space, a tracing thread per task, the Go runtime's threads), and the
 * stubs are pooled rather than freed (measured with runsc 2022 on these VMs: 38 host tasks at
 * idle, about 320 for 64 busy guest tasks, 600 to 1,100 during a 5 to 20 s fork bomb held at 64).
 * So the host limit is only a backstop against the sandbox itself running away; at it, gVisor's
 * kernel cannot make a thread and the whole sandbox ends.
 */
export function gvisorHostPidsLimit(pidsLimit: number): number {
  return 512 + 16 * pidsLimit;
}

/**
 * RLIMIT_NPROC = pids_limit under gVisor: the sandbox's own kernel counts the tasks (threads
 * included) of the sandbox user, which is every process in the container (Loom's runs as that
 * user too, as runc's pids cgroup counts them), and a fork past it fails with EAGAIN as under
 * runc. Not under runc: there the count is per user across the whole host, shared with every
 * other container whose processes run as the same user.
 */
export function gvisorUlimits(pidsLimit: number): { Name: string; Soft: number; Hard: number }[] {
  return [{ Name: 'nproc', Soft: pidsLimit, Hard: pidsLimit }];
}

/** HostConfig.Runtime for an isolation level: undefined (the engine's default, runc) for runc. */
export function ociRuntime(isolation: Isolation, gvisorRuntime = GVISOR_RUNTIME): string | undefined {
  return isolation === 'gvisor' ? gvisorRuntime : undefined;
}

type EngineRuntimes = Record<string, { path?: string; runtimeArgs?: string[] } | undefined>;

/** The runtimes the engine has registered (GET /info Runtimes), by name. */
export async function engineRuntimes(docker: Docker): Promise<EngineRuntimes> {
  const info = (await docker.info()) as { Runtimes?: EngineRuntimes };
  return info.Runtimes ?? {};
}

/**
 * Checks that the engine can give what a spec asks of its runtime, asking the engine each time
 * until runsc is there: a runtime registered later (dockerd reloads daemon.json on SIGHUP) is
 * found without a restart of Loom.
 */
export function runtimeChecker(docker: Docker, gvisorRuntime = GVISOR_RUNTIME): (spec: Pick<ContainerSpec, 'isolation' | 'network'>) => Promise<void> {
  let runsc: { runtimeArgs?: string[] } | undefined;
  return async (spec) => {
    if (spec.isolation !== 'gvisor') return;
    if (!runsc) {
      const runtimes = await engineRuntimes(docker);
      runsc = runtimes[gvisorRuntime];
      if (!runsc) throw new RuntimeMissingError(gvisorRuntime, Object.keys(runtimes).sort());
    }
    // runsc given --network=none has loopback only, whatever Docker's network: a bridge request
    // would silently get no network. Said instead.
    if (spec.network === 'bridge' && runsc.runtimeArgs?.includes('--network=none')) {
      throw new ValidationError(
        'config.network_mode',
        `BRIDGE is not available under gVisor on this engine: its '${gvisorRuntime}' runtime is registered with --network=none (no network inside gVisor); use NONE, or isolation RUNC for a network`,
      );
    }
  };
}
