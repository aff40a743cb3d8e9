// How an isolation level becomes an OCI runtime of the engine, and the check that the engine has
// it: a gVisor request on an engine without runsc fails before anything is created.
import type Docker from 'dockerode';
import type { ContainerSpec, Isolation } from '../request/request';
import { RuntimeMissingError, ValidationError } from '../errors';

/** The runtime name gVisor is registered under (Debian's runsc package, gVisor's own docs). */
export const GVISOR_RUNTIME = 'runsc';

/**
 * Host tasks gVisor's own kernel needs in a sandbox besides the program's (its Go runtime's
 * threads, the gofer): the engine's pids limit counts them, so a gVisor container gets this much
 * more than pids_limit. Without it a small limit (tens) does not even leave room for the runner.
 */
export const GVISOR_PIDS_HEADROOM = 64;

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
