// What the Pool page shows: this process's pool plus the containers other Loom processes (the
// CLI, another window) manage, each with live CPU and memory and a summary of its config.
import { create, toJson } from '@bufbuild/protobuf';
import type { PoolContainer } from '../../../shared/api';
import { ContainerInfoSchema, ContainerState, SessionInfoSchema, type ContainerInfo } from '../../../shared/gen/loom/v1/docker_pb';
import { runtimeTypeOf } from '../../../shared/runtimes';
import { listManaged, type ManagedContainer } from '../engine/pool/containers';
import type { Executor } from '../engine/executor';
import { configSummary, inspectContainer, liveFigures } from './container-stats';

/** Per container and call: a slow engine leaves the figures empty rather than the page waiting. */
export const STATS_TIMEOUT_MS = 2_500;

export async function poolContainers(executor: Executor, packagesOf: (poolKey: string) => readonly string[] | undefined): Promise<PoolContainer[]> {
  const docker = executor.docker;
  const own = executor.containers();
  const ownIds = new Set(own.map((c) => c.id));
  const mine = executor.owner.instance;
  // Containers of this process outside the pool are kept ones (auto_cleanup off) or on their
  // way out; either way the engine's view is the truth for them.
  const others = (await listManaged(docker)).filter((c) => !ownIds.has(c.id));
  const sessions = new Map((await executor.sessions.list().catch(() => [])).map((s) => [s.containerId, s]));
  const rows = [
    ...own.map((info) => ({ info, external: false, running: info.state !== ContainerState.STOPPED })),
    ...others.map((c) => ({ info: infoOf(c), external: c.ownerInstance !== mine, running: c.engineState === 'running' })),
  ];
  return Promise.all(
    rows.map(async ({ info, external, running }): Promise<PoolContainer> => {
      const [inspect, figures] = await Promise.all([
        inspectContainer(docker, info.id, STATS_TIMEOUT_MS),
        running ? liveFigures(docker, info.id, STATS_TIMEOUT_MS) : Promise.resolve({}),
      ]);
      const session = sessions.get(info.id);
      return {
        info: toJson(ContainerInfoSchema, info),
        config: configSummary(inspect, info.image, packagesOf(info.poolKey)),
        ...figures,
        external,
        ...(session ? { session: toJson(SessionInfoSchema, session) } : {}),
      };
    }),
  );
}

function infoOf(c: ManagedContainer): ContainerInfo {
  return create(ContainerInfoSchema, {
    id: c.id,
    name: c.name,
    image: c.image,
    runtimeType: runtimeTypeOf(c.runtime),
    poolKey: c.poolKey,
    state: stateOf(c),
    createdAtMs: c.createdAtMs,
    ownerPid: c.ownerPid,
    ownerAlive: c.ownerAlive,
    configName: c.configName,
  });
}

/** Whether another process's container is idle or busy cannot be seen from here: UNSPECIFIED. */
function stateOf(c: ManagedContainer): ContainerState {
  if (c.parkedUntilMs !== undefined && c.engineState === 'running') return ContainerState.IDLE;
  switch (c.engineState) {
    case 'created':
      return ContainerState.CREATING;
    case 'running':
      return ContainerState.UNSPECIFIED;
    default:
      return ContainerState.STOPPED;
  }
}

