// The scheduler owns the engine connection and the warm pool: it makes containers (image,
// create, start, packages), hands them out, and cleans up after itself and after crashes.
import type Docker from 'dockerode';
import { randomUUID } from 'node:crypto';
import { ContainerState, type ContainerInfo } from '../../../../shared/gen/loom/v1/docker_pb';
import { RUNTIME_TYPES } from '../../../../shared/runtimes';
import { create } from '@bufbuild/protobuf';
import { ContainerInfoSchema } from '../../../../shared/gen/loom/v1/docker_pb';
import { answerWithinMsFor, parseMainCommand, RunnerClient, runnerCommand } from '../runner/client';
import { createOptions, SANDBOX_LAYOUT } from '../container/container';
import { isOrphan, listManaged, pruneManaged, removeContainer } from './containers';
import { NO_ANSWER, within } from '../deadline';
import { connectDocker, reachEngine, type EngineAddress } from '../engine-client/docker-client';
import { ClosedError, LoomError, ValidationError, describeCause } from '../errors';
import { ensureImage } from '../engine-client/images';
import { currentOwner, type Owner } from './labels';
import { PackageCache } from '../packages/package-cache';
import { planInstall, type PackageSources } from '../packages/packages';
import { claimParked, DEFAULT_IDLE_TTL_MS, park } from './parking';
import { Pool, type Acquired, type MadeContainer, type PoolEntry, type PrepareHooks } from './pool';

export type { PrepareHooks };
import { poolKeyOf, requestPolicyOf, type ContainerSpec, type LifecycleSpec, type LocalPackagePolicy, type RequestPolicy } from '../request/request';
import { defaultResourcesRoot, initPath, ResourcesVolume } from '../container/resources';
import type { Isolation } from '../../../../shared/isolation';
import { runtimeChecker } from '../container/isolation';

export interface SchedulerOptions {
  /** An engine address in DOCKER_HOST syntax; default: DOCKER_HOST, then the usual sockets. */
  dockerHost?: string;
  /** A ready dockerode client (tests, embedding); overrides dockerHost. */
  docker?: Docker;
  /** Containers per pool key; requests beyond it wait in line. Default 4. */
  maxContainersPerKey?: number;
  /** Whether requests may mount host directories (config.mounts). Default false. */
  allowHostMounts?: boolean;
  /**
   * Which host files requests may name as packages (config.packages entries that are paths):
   * 'anywhere' (the CLI), only those under a directory ({ dir }, symbolic links resolved: the app
   * and the browser host), or 'nowhere'. Default 'nowhere'.
   */
  localPackages?: LocalPackagePolicy;
  packageSources?: PackageSources;
  /**
   * Remove containers left by Loom processes of this host that no longer run, and parked ones
   * whose time is up: at start, then every reapIntervalMs while this process runs. Default true.
   */
  reapOrphans?: boolean;
  /** How often a running process looks again for what reapOrphans removes. Default 1 min. */
  reapIntervalMs?: number;
  /**
   * On close, park idle containers for later Loom processes (which claim them instead of
   * creating new ones) rather than removing them. Default false: close() removes everything.
   */
  parkOnClose?: boolean;
  /** How long a parked container waits to be claimed before anyone may remove it. Default 10 min. */
  idleTtlMs?: number;
  /**
   * Idle containers kept ready, in the background, for each config used in the last hour, so
   * that the next request is warm. Default 1; 0 turns it off.
   */
  minIdlePerConfig?: number;
  /** The resources/ folder to ship into sandboxes (default: the project's own). */
  resourcesRoot?: string;
  /**
   * Whether programs start from the in-container runner (default true). false: every program
   * by docker exec, as in an image with neither python3 nor node (for tests and comparisons).
   */
  runner?: boolean;
  /**
   * How much CPU time the clean-up after each run may take (loom-init --clean; wall time: 10 s
   * more); a container whose clean-up fails or takes longer is retired. Default 2 s.
   */
  cleanupTimeoutMs?: number;
  /** Called with background failures (removals, health checks) that reach no caller. */
  onError?: (err: unknown) => void;
  /** The engine's name for gVisor's runtime (config.isolation GVISOR). Default 'runsc'. */
  gvisorRuntime?: string;
}

export interface Scheduler {
  readonly docker: Docker;
  /** The engine it runs on (its version: pingEngine, which takes longer to answer). */
  readonly engine: EngineAddress;
  readonly owner: Owner;
  /** What requests may reach on the host (mounts, local package files). */
  readonly policy: RequestPolicy;
  poolKey(spec: ContainerSpec, lifecycle: LifecycleSpec): string;
  /**
   * Refuses a spec the engine cannot give (more CPUs than it has; gVisor without runsc), before
   * anything is pulled or created. acquire and prewarm check too.
   */
  check(spec: ContainerSpec): Promise<void>;
  ensureImage(image: string, hooks?: PrepareHooks): Promise<{ pulled: boolean }>;
  acquire(spec: ContainerSpec, lifecycle: LifecycleSpec, hooks?: PrepareHooks): Promise<Acquired>;
  release(entry: PoolEntry, healthy: boolean): void;
  prewarm(spec: ContainerSpec, lifecycle: LifecycleSpec, count: number, hooks?: PrepareHooks): Promise<void>;
  /**
   * A container of `spec` that is never pooled, parked nor handed to any run: a session's, which
   * one caller owns. It has no runner (a runner's start would delay the session's own interpreter
   * and hold memory): it idles, and its processes start by docker exec. The caller removes it.
   */
  createDedicated(spec: ContainerSpec, opts: DedicatedOptions, hooks?: PrepareHooks): Promise<MadeContainer>;
  /** This scheduler's pooled containers. */
  containers(): ContainerInfo[];
  removeContainer(id: string): Promise<boolean>;
  healthCheck(): Promise<number>;
  close(): Promise<void>;
}

export interface DedicatedOptions {
  name: string;
  /** Its own key (the pool and parking never look it up). */
  poolKey: string;
  labels: Record<string, string>;
}

/** How long start-up waits for the removal of what crashed Loom processes left behind. */
const REAP_WAIT_MS = 5_000;
const REAP_INTERVAL_MS = 60_000;

/** How long a config counts as in use for background top-ups, and how often they run. */
const RECENT_MS = 3_600_000;
const TOP_UP_INTERVAL_MS = 15_000;

const STATES: Record<PoolEntry['state'], ContainerState> = {
  creating: ContainerState.CREATING,
  idle: ContainerState.IDLE,
  busy: ContainerState.BUSY,
  removing: ContainerState.STOPPED,
};

export async function createScheduler(options: SchedulerOptions = {}): Promise<Scheduler> {
  const { docker, address } = options.docker
    ? { docker: options.docker, address: options.dockerHost ?? 'the configured client' }
    : connectDocker(options.dockerHost);
  const policy = requestPolicyOf(options);
  const engine = await reachEngine(docker, address);
  const owner = currentOwner(randomUUID().replace(/-/g, ''));
  const sources = options.packageSources ?? {};
  // Read by the runners and loom-init (and by no program: request env may not name LOOM_ variables).
  const extraEnv: Record<string, string> = options.cleanupTimeoutMs ? { LOOM_CLEAN_MS: String(options.cleanupTimeoutMs) } : {};
  // Besides the spec: what the engine adds (package sources) and how long containers live, so
  // that a one-shot config never takes (and retires) a long-lived config's warm container.
  // And how containers are made (SANDBOX_LAYOUT, the clean-up's bound): a parked container of
  // another Loom version or setting is never claimed.
  const keyOf = (spec: ContainerSpec, lifecycle: LifecycleSpec): string => poolKeyOf(spec, JSON.stringify([sources, lifecycle, extraEnv, SANDBOX_LAYOUT]));
  const onError = options.onError ?? (() => undefined);
  const presentImages = new Set<string>();
  // What containers of an image are made with: its environment (extended, not replaced) and the
  // loom-init of its architecture.
  const imageFacts = new Map<string, { env: string[]; init: string }>();
  // Read (every shipped file, hashed) when the first container of an isolation level is made,
  // not here: a run that claims a parked container never needs them (12 ms of a `loom exec`).
  const resourcesRoot = options.resourcesRoot ?? defaultResourcesRoot();
  const volumes: Partial<Record<Isolation, ResourcesVolume>> = {};
  const volumeOf = (isolation: Isolation): ResourcesVolume => (volumes[isolation] ??= new ResourcesVolume(resourcesRoot, isolation));
  const packageCache = new PackageCache(docker, sources, owner, options.gvisorRuntime);
  const checkRuntime = runtimeChecker(docker, options.gvisorRuntime);

  // Whatever crashed Loom processes left, and parked containers nobody claimed in time. Not
  // only at start: a long-running app would otherwise keep those of CLI runs until it restarts.
  let reaping: Promise<unknown> | undefined;
  const reap = (): Promise<unknown> => {
    reaping ??= listManaged(docker)
      .then((all) => Promise.all(all.filter((c) => isOrphan(c)).map((c) => removeContainer(docker, c.id).catch(onError))))
      .catch(onError)
      .finally(() => (reaping = undefined));
    return reaping;
  };
  let reapTimer: NodeJS.Timeout | undefined;
  if (options.reapOrphans ?? true) {
    // A stuck container (paused mid-exec, say) can make the engine sit on a removal: finish
    // the clean-up in the background rather than never start.
    if ((await within(reap(), REAP_WAIT_MS)) === NO_ANSWER) {
      onError(new LoomError(`removing what ended Loom processes left got no answer from the engine within ${REAP_WAIT_MS / 1000} s; it goes on in the background`));
    }
    reapTimer = setInterval(() => void reap(), options.reapIntervalMs ?? REAP_INTERVAL_MS);
    reapTimer.unref();
  }

  const imageOf = async (image: string, hooks?: PrepareHooks): Promise<{ pulled: boolean }> => {
    if (presentImages.has(image)) return { pulled: false };
    hooks?.onPhase?.('image', image);
    const result = await ensureImage(docker, image, hooks?.onPull, hooks?.signal);
    presentImages.add(image);
    return result;
  };

  // The engine's CPUs, asked once. A CPU limit is a CFS quota (container.ts cpuQuota), which the
  // engine accepts beyond its CPUs (as no limit at all), unlike NanoCpus: the request is refused here.
  let engineCpus: Promise<number | undefined> | undefined;
  const checkCpus = async (spec: ContainerSpec): Promise<void> => {
    // Every engine has a CPU: no need to ask (/info takes 20 ms on a 2-core VM).
    if (spec.cpuCores <= 1) return;
    engineCpus ??= docker.info().then((i: { NCPU?: number }) => i.NCPU, () => undefined);
    const cpus = await engineCpus;
    if (cpus && spec.cpuCores > cpus) {
      throw new ValidationError('config.resource_limits.cpu_cores', `${spec.cpuCores} is more than the engine has: ${cpus} CPU${cpus === 1 ? '' : 's'}`);
    }
  };
  const check = async (spec: ContainerSpec): Promise<void> => {
    await checkRuntime(spec);
    await checkCpus(spec);
  };

  // Images that lack the interpreter of a runner as the main process: their containers idle on
  // sleep and start programs (and any runner) by docker exec.
  const noRunnerMain = new Set<string>();

  /** Creates and starts a container of `image`; its runner is its main process when `runner`. */
  const createStarted = async (
    spec: ContainerSpec,
    key: string,
    image: string,
    runner: string[] | undefined,
    hooks: PrepareHooks,
    dedicated?: DedicatedOptions,
  ): Promise<MadeContainer | null> => {
    let name = '';
    let init = '';
    let container: Docker.Container | undefined;
    for (let attempt = 0; !container; attempt++) {
      try {
        const volume = await volumeOf(spec.isolation).ensure(docker, spec.image);
        let facts = imageFacts.get(image);
        if (!facts) {
          const inspected = await docker.getImage(image).inspect();
          facts = { env: inspected.Config.Env ?? [], init: initPath(inspected.Architecture) };
          imageFacts.set(image, facts);
        }
        init = facts.init;
        const createOpts = createOptions({
          spec,
          image,
          poolKey: key,
          owner,
          resourcesVolume: volume,
          imageEnv: facts.env,
          runner,
          init,
          extraEnv,
          name: dedicated?.name,
          labels: dedicated?.labels,
          gvisorRuntime: options.gvisorRuntime,
        });
        name = createOpts.name ?? '';
        container = await docker.createContainer(createOpts);
      } catch (err) {
        // The image may have been removed since we last saw it.
        presentImages.delete(spec.image);
        imageFacts.delete(image);
        // Then get it back as a first use would (a pull), or fail as that would: ImagePullError.
        if (attempt === 0 && image === spec.image && isNoSuchImage(err)) {
          await imageOf(spec.image, hooks);
          continue;
        }
        throw explainCreateError(err, spec);
      }
    }
    const made = container;
    try {
      let client: Promise<RunnerClient | null>;
      if (runner) {
        // Attached before it starts: the runner's READY is the container's first word.
        const attached = serving(await RunnerClient.attach(made, () => made.start()));
        if (!attached) {
          const exit = await made.inspect().then((i) => i.State.ExitCode, () => undefined);
          await removeContainer(docker, made.id).catch(onError);
          // 126/127: no such interpreter in the image. Anything else (too little memory for
          // the runner, say) concerns this container only.
          if (exit === 126 || exit === 127) noRunnerMain.add(image);
          return null;
        }
        client = Promise.resolve(attached);
      } else {
        await made.start();
        client = dedicated ? Promise.resolve(null) : startRunner(made, spec.runtime);
      }
      return { id: made.id, name: name || made.id, container: made, runner: client, init };
    } catch (err) {
      await removeContainer(docker, made.id).catch(onError);
      throw err;
    }
  };
  const startRunner = (container: Docker.Container, runtime: ContainerSpec['runtime']): Promise<RunnerClient | null> =>
    options.runner === false ? Promise.resolve(null) : RunnerClient.start(container, runtime).then(serving, () => null);
  // A runner is taken for wedged after answering nothing for longer than its clean-ups may take.
  const answerWithinMs = answerWithinMsFor(options.cleanupTimeoutMs);
  function serving(client: RunnerClient | null): RunnerClient | null {
    if (client) client.answerWithinMs = answerWithinMs;
    return client;
  }

  /** Image (with packages, from the cache) and a started container: shared by the pool and sessions. */
  const makeContainer = async (spec: ContainerSpec, key: string, hooks: PrepareHooks, dedicated?: DedicatedOptions): Promise<MadeContainer> => {
    const plan = planInstall(spec, sources);
    const image = plan
      ? (await packageCache.imageFor(spec, plan, () => hooks.onPhase?.('packages', spec.packages.join(' ')), hooks.onInstallLog)).image
      : spec.image;
    // The runner as the main process: no docker exec to start it (~50 ms less to a first
    // program). Where it does not come up, an idling container instead.
    const runner = options.runner === false || dedicated || noRunnerMain.has(image) ? undefined : runnerCommand(spec.runtime);
    const made = await createStarted(spec, key, image, runner, hooks, dedicated);
    return made ?? (await createStarted(spec, key, image, undefined, hooks, dedicated))!;
  };

  const pool = new Pool({
    maxPerKey: options.maxContainersPerKey ?? 4,
    onError,
    remove: (container) => removeContainer(docker, container.id),
    create: async (spec, key, hooks) => {
      // A warm container another Loom process left parked beats a cold start.
      const claimed = await claimParked(docker, key, owner).catch(() => null);
      if (claimed) {
        const container = docker.getContainer(claimed.id);
        const main = parseMainCommand(claimed.command);
        const runner = main.runner ? RunnerClient.attach(container).then(serving, () => null) : startRunner(container, spec.runtime);
        return { ...claimed, container, runner, init: main.init, reused: true };
      }
      hooks.onPhase?.('container', 'creating');
      return makeContainer(spec, key, hooks);
    },
  });

  // Configs used lately, kept topped up with idle containers.
  const minIdle = options.minIdlePerConfig ?? 1;
  const recent = new Map<string, { spec: ContainerSpec; lifecycle: LifecycleSpec; usedAt: number }>();
  const topUp = (key: string): void => {
    const used = recent.get(key);
    if (!used || minIdle <= 0) return;
    pool.topUp(key, used.spec, used.lifecycle, minIdle).catch((err: unknown) => {
      if (!(err instanceof ClosedError)) onError(err);
    });
  };
  const topUpTimer = setInterval(() => {
    for (const [key, used] of recent) {
      if (Date.now() - used.usedAt > RECENT_MS) recent.delete(key);
      else topUp(key);
    }
  }, TOP_UP_INTERVAL_MS);
  topUpTimer.unref();

  return {
    docker,
    engine,
    owner,
    policy,
    poolKey: keyOf,
    check,
    ensureImage: imageOf,
    async acquire(spec, lifecycle, hooks) {
      await check(spec);
      await imageOf(spec.image, hooks);
      hooks?.onPhase?.('container', 'acquiring');
      const key = keyOf(spec, lifecycle);
      const acquired = await pool.acquire(key, spec, lifecycle, hooks);
      recent.set(key, { spec, lifecycle, usedAt: Date.now() });
      topUp(key);
      return acquired;
    },
    release: (entry, healthy) => pool.release(entry, healthy),
    async prewarm(spec, lifecycle, count, hooks) {
      await check(spec);
      await imageOf(spec.image, hooks);
      await pool.prewarm(keyOf(spec, lifecycle), spec, lifecycle, count, hooks);
    },
    async createDedicated(spec, opts, hooks = {}) {
      await checkCpus(spec);
      await imageOf(spec.image, hooks);
      hooks.onPhase?.('container', 'creating');
      return makeContainer(spec, opts.poolKey, hooks, opts);
    },
    containers: () =>
      pool.entries().map((e) =>
        create(ContainerInfoSchema, {
          id: e.id,
          name: e.name,
          image: e.spec.image,
          runtimeType: RUNTIME_TYPES[e.spec.runtime],
          poolKey: e.key,
          state: STATES[e.state],
          createdAtMs: e.createdAt,
          executions: e.executions,
          ownerPid: owner.pid,
          ownerAlive: true,
          configName: e.spec.name,
        }),
      ),
    removeContainer: async (id) => pool.remove(id),
    healthCheck: () => pool.healthCheck(),
    close: () => {
      clearInterval(topUpTimer);
      clearInterval(reapTimer);
      return pool.close(options.parkOnClose ? (entry) => park(docker, entry.id, entry.key, options.idleTtlMs ?? DEFAULT_IDLE_TTL_MS, entry.executions) : undefined);
    },
  };
}

function isNoSuchImage(err: unknown): boolean {
  return (err as { statusCode?: number }).statusCode === 404 && /no such image/i.test(describeCause(err));
}

/** Turns the engine's refusals of a create into errors that name what to change. */
function explainCreateError(err: unknown, spec: ContainerSpec): Error {
  const message = describeCause(err);
  // NanoCpus' refusals, and the quota's ("CPU cfs quota can not be less than 1ms ...").
  if (/NanoCPUs|CPUs available|Range of CPUs|cfs (quota|period)/i.test(message)) {
    return new ValidationError('config.resource_limits.cpu_cores', `${spec.cpuCores} is more than the engine allows: ${message}`);
  }
  if (/Minimum memory limit/i.test(message)) {
    return new ValidationError('config.resource_limits.memory_mb', message);
  }
  return new LoomError(`Could not create a container from ${spec.image}: ${message}`, { cause: err });
}

export { pruneManaged };
