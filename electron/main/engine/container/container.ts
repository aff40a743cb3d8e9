// How a sandbox container is made: the security defaults every container gets, and its labels.
import type Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import type { ContainerSpec } from '../request/request';
import { WRITABLE_DIR } from '../request/request';
import { LABEL, type Owner } from '../pool/labels';
import { gvisorHostPidsLimit, gvisorUlimits, ociRuntime } from './isolation';
import { NODE_LIB_DIR, PYTHON_LIB_DIR, RESOURCES_DIR, SHELL_LIB_DIR } from './resources';

export const SANDBOX_USER = '65534:65534';
/**
 * Bumped when what a pooled container is made of changes (its PID 1, its runner's protocol), so
 * that no Loom process claims a parked container an older one made (4: gVisor containers limit
 * their processes with RLIMIT_NPROC and pre-import nothing).
 */
export const SANDBOX_LAYOUT = 4;
/** Where installed packages live: in the derived image (package-cache.ts), read-only to programs. */
export const PACKAGES_DIR = '/opt/loom/packages';
export const PYTHON_PACKAGES_DIR = `${PACKAGES_DIR}/python`;
export const NODE_PACKAGES_DIR = `${PACKAGES_DIR}/node`;

export interface ExtraMount {
  hostPath: string;
  containerPath: string;
  writable: boolean;
}

export interface CreateInput {
  spec: ContainerSpec;
  poolKey: string;
  owner: Owner;
  /** Mounts the engine adds itself (package sources, CA bundle): not subject to allowHostMounts. */
  extraMounts?: ExtraMount[];
  extraEnv?: Record<string, string>;
  /** The volume holding the trace libraries and the agent (see resources.ts). */
  resourcesVolume?: string;
  /** The image's own environment, so that its PYTHONPATH/NODE_PATH are extended, not lost. */
  imageEnv?: string[];
  /** The image to start from when it is not spec.image (a derived image with packages). */
  image?: string;
  /**
   * The runner's command line, run as the container's main process with stdin open (see
   * runner/client.ts RunnerClient.attach). Without it the container idles and programs (and any
   * runner) start in it by docker exec.
   */
  runner?: string[];
  /**
   * loom-init in the container (resources.ts initPath): PID 1 of every pooled sandbox, which
   * runs the runner (or idles) and reaps, and which no program can read or change. Without it
   * (one-shot containers that run Loom's own code only: the doctor's probe) Docker's init is
   * PID 1 and the container idles on `sleep infinity`.
   */
  init?: string;
  /** A name of the caller's instead of containerName() (a session's: session/session-names.ts). */
  name?: string;
  /** Labels besides Loom's own (a session's owner and TTL). */
  labels?: Record<string, string>;
  /** The engine's name for gVisor's runtime (isolation.ts GVISOR_RUNTIME unless the engine calls it otherwise). */
  gvisorRuntime?: string;
}

/** Docker's PATH for an image that sets none. */
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Loom's module directories: installed packages first, then the trace libraries. */
const LOOM_MODULE_DIRS: Record<'PYTHONPATH' | 'NODE_PATH', readonly string[]> = {
  PYTHONPATH: [PYTHON_PACKAGES_DIR, PYTHON_LIB_DIR],
  NODE_PATH: [`${NODE_PACKAGES_DIR}/node_modules`, NODE_LIB_DIR],
};

/**
 * A user's env (config.env or the request's) with any PYTHONPATH or NODE_PATH of theirs extended
 * by Loom's module directories instead of replacing them: otherwise `loom_trace`,
 * `loom-trace.js` and the installed packages stop being importable. The user's entries come
 * first, so their own modules win a name clash (as PYTHONPATH/NODE_PATH win over site-packages
 * on their machine); Loom's come after, where only names the user does not define resolve to
 * them. Like any env var, the user's value replaces the image's.
 */
export function withLoomModuleDirs(env: Record<string, string>): Record<string, string> {
  const out = { ...env };
  for (const [name, dirs] of Object.entries(LOOM_MODULE_DIRS)) {
    const value = env[name];
    if (value === undefined) continue;
    const own = value.split(':').filter(Boolean);
    out[name] = [...own, ...dirs.filter((d) => !own.includes(d))].join(':');
  }
  return out;
}

/**
 * The CPU limit as a CFS quota per period. Docker's NanoCpus always uses a 100 ms period: a
 * sandbox that uses more than its share in a burst (a program and the runner's work for the next
 * one on two cores, or a multi-threaded program) is then stopped for the rest of the period, up to
 * ~30-90 ms at once (measured: every ~20th back-to-back hello took ~30 ms instead of 3). With a
 * 10 ms period the same limit holds on average and a stop lasts at most a few ms. The kernel
 * wants a quota of at least 1 ms, so very small limits get a longer period.
 */
export function cpuQuota(cpuCores: number): { CpuPeriod: number; CpuQuota: number } {
  const periodUs = Math.min(100_000, Math.max(10_000, Math.ceil(1000 / cpuCores)));
  return { CpuPeriod: periodUs, CpuQuota: Math.round(cpuCores * periodUs) };
}

/** The CPUs a container may use (HostConfig of either form), or undefined when unlimited. */
export function cpuLimit(host: { NanoCpus?: number; CpuPeriod?: number; CpuQuota?: number } | undefined): number | undefined {
  if (host?.NanoCpus) return host.NanoCpus / 1e9;
  if (host?.CpuQuota && host.CpuQuota > 0) return host.CpuQuota / (host.CpuPeriod || 100_000);
  return undefined;
}

export function containerName(spec: ContainerSpec, poolKey: string): string {
  const label = spec.name ? spec.name.toLowerCase().replace(/[^a-z0-9_.-]/g, '-') : spec.runtime;
  return `loom-${label}-${poolKey.slice(0, 8)}-${randomBytes(3).toString('hex')}`;
}

export function createOptions(input: CreateInput): Docker.ContainerCreateOptions {
  const { spec, poolKey, owner, extraMounts = [], extraEnv = {}, resourcesVolume, imageEnv = [], image = spec.image, runner, init, labels = {}, gvisorRuntime } = input;
  const fromImage = (name: string): string[] => {
    const entry = imageEnv.find((e) => e.startsWith(`${name}=`));
    return entry ? entry.slice(name.length + 1).split(':').filter(Boolean) : [];
  };
  const path = imageEnv.find((e) => e.startsWith('PATH='))?.slice(5) || DEFAULT_PATH;
  const env: Record<string, string> = {
    // The image's, then loom-span (after it: a program of the image's with that name wins).
    PATH: path.split(':').includes(SHELL_LIB_DIR) ? path : `${path}:${SHELL_LIB_DIR}`,
    HOME: WRITABLE_DIR,
    TMPDIR: WRITABLE_DIR,
    PYTHONPATH: [...LOOM_MODULE_DIRS.PYTHONPATH, ...fromImage('PYTHONPATH')].join(':'),
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONUNBUFFERED: '1',
    NODE_PATH: [...LOOM_MODULE_DIRS.NODE_PATH, ...fromImage('NODE_PATH')].join(':'),
    // The Python runner pre-imports nothing under gVisor, where every module's mappings make
    // each fork slower (resources/runner/loom_server.py says by how much).
    ...(spec.isolation === 'gvisor' ? { LOOM_PREIMPORT: '0' } : {}),
    ...extraEnv,
    ...withLoomModuleDirs(spec.env),
  };
  const mounts: Docker.MountSettings[] = [...spec.mounts, ...extraMounts].map((m) => ({
    Type: 'bind',
    Source: m.hostPath,
    Target: m.containerPath,
    ReadOnly: !m.writable,
  }));
  if (resourcesVolume) {
    mounts.push({ Type: 'volume', Source: resourcesVolume, Target: RESOURCES_DIR, ReadOnly: true });
  }
  return {
    name: input.name ?? containerName(spec, poolKey),
    Image: image,
    // The runner serves programs; without one the container only idles and programs run in it
    // by exec. PID 1 reaps orphaned processes, so that zombies do not fill the pids limit:
    // loom-init where given (see CreateInput.init), else docker-init. A runner's stdin stays
    // open across attaches (StdinOnce false): the next Loom process that claims the container
    // attaches again.
    Entrypoint: init ? [init, ...(runner ? ['--', ...runner] : ['--idle'])] : (runner ?? ['sleep']),
    Cmd: init || runner ? [] : ['infinity'],
    User: SANDBOX_USER,
    WorkingDir: WRITABLE_DIR,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Tty: false,
    OpenStdin: Boolean(runner),
    StdinOnce: false,
    AttachStdin: Boolean(runner),
    AttachStdout: Boolean(runner),
    AttachStderr: Boolean(runner),
    NetworkDisabled: spec.network === 'none',
    Labels: {
      ...labels,
      [LABEL.managed]: 'true',
      [LABEL.poolKey]: poolKey,
      [LABEL.runtime]: spec.runtime,
      [LABEL.configName]: spec.name,
      [LABEL.ownerPid]: String(owner.pid),
      [LABEL.ownerHost]: owner.host,
      [LABEL.ownerInstance]: owner.instance,
    },
    HostConfig: {
      // gVisor (runsc) for isolation gvisor; else the engine's default runtime (runc).
      Runtime: ociRuntime(spec.isolation, gvisorRuntime),
      Init: !init,
      NetworkMode: spec.network,
      // An IPC namespace of its own that no other container may join (SysV objects, /dev/shm).
      IpcMode: 'private',
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Privileged: false,
      Memory: spec.memoryMb * 1024 * 1024,
      // Equal to Memory: no swap on top of the limit.
      MemorySwap: spec.memoryMb * 1024 * 1024,
      ...cpuQuota(spec.cpuCores),
      PidsLimit: spec.isolation === 'gvisor' ? gvisorHostPidsLimit(spec.pidsLimit) : spec.pidsLimit,
      // The only writable place (besides /dev/shm): its size is how storage_mb is enforced,
      // since overlay2 on ext4 has no per-container quota.
      Tmpfs: { [WRITABLE_DIR]: `rw,nosuid,nodev,exec,size=${spec.storageMb}m,mode=1777` },
      ShmSize: Math.min(64, spec.storageMb) * 1024 * 1024,
      Mounts: mounts,
      Ulimits: [{ Name: 'core', Soft: 0, Hard: 0 }, ...(spec.isolation === 'gvisor' ? gvisorUlimits(spec.pidsLimit) : [])],
      LogConfig: { Type: 'none', Config: {} },
      AutoRemove: false,
      RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
    },
  };
}
