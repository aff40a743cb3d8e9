// The files Loom ships into every sandbox (trace libraries, the in-container agent) live in a
// read-only volume named after a hash of their content. A volume rather than a bind mount:
// it works with remote engines (tcp, ssh) and Podman, and the sandbox cannot change it.
import type Docker from 'dockerode';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pack } from 'tar-stream';
import { removeContainer } from '../pool/containers';
import { describeCause, LoomError } from '../errors';
import { LABEL, processAlive } from '../pool/labels';
import type { Isolation } from '../../../../shared/isolation';

/** Where the volume appears in each sandbox. */
export const RESOURCES_DIR = '/opt/loom/lib';
export const PYTHON_LIB_DIR = `${RESOURCES_DIR}/trace/python`;
export const NODE_LIB_DIR = `${RESOURCES_DIR}/trace/node`;
/** loom-span, the shell scripts' trace helper: on every sandbox's PATH (last). */
export const SHELL_LIB_DIR = `${RESOURCES_DIR}/trace/sh`;
export const AGENT_PY = `${RESOURCES_DIR}/agent/loom_agent.py`;
export const AGENT_JS = `${RESOURCES_DIR}/agent/loom-agent.js`;
/** Loom's native helpers (resources/native), one build per architecture. */
export const NATIVE_DIR = `${RESOURCES_DIR}/native/bin`;

/** The kernel's names (resources/native/bin) for the engine's image architectures. */
const NATIVE_ARCH: Record<string, string> = { amd64: 'x86_64', x86_64: 'x86_64', arm64: 'aarch64', aarch64: 'aarch64' };

/** loom-init (resources/native/loom-init.c) for an image's architecture (as `docker image inspect` names it). */
export function initPath(imageArch: string): string {
  const arch = NATIVE_ARCH[imageArch];
  if (!arch) throw new LoomError(`images for ${imageArch || 'an unknown architecture'} cannot run Loom's sandbox: it is built for amd64 and arm64`);
  return `${NATIVE_DIR}/loom-init-${arch}`;
}

/**
 * The shipped subtrees of resources/ (tests, sources and recipes stay behind). doctor: `loom
 * doctor`'s probe, which runs from the volume so that its container is made like any sandbox's.
 */
const SHIPPED = ['trace/python', 'trace/node', 'trace/sh', 'agent', 'runner', 'kernel', 'native/bin', 'doctor'];
const SHIPPED_FILE = /\.(py|js)$|^loom-init-|^nodump-|^forker-|^loom-span$/;
/**
 * loom-init may be run and not read by the sandbox user: the kernel makes a process undumpable
 * from the first instruction of a program it cannot read, so no program can attach to a
 * loom-init that has just started, before its own prctl. nodump.so and forker.so must be read to be loaded.
 */
const modeOf = (path: string, isolation: Isolation): number => (/^native\/bin\/loom-init-/.test(path) ? INIT_MODE[isolation] : path === 'trace/sh/loom-span' ? 0o755 : 0o644);
/**
 * gVisor loads a program itself, as the user who runs it, and so cannot run one it cannot read
 * (EACCES): its sandboxes get a readable loom-init, in a volume of their own. The window that
 * execute-only closes under runc stays closed there by gVisor's own rule: a program may ptrace
 * only its own descendants (Yama ptrace_scope 1, gVisor's default), which loom-init never is.
 */
const INIT_MODE: Record<Isolation, number> = { runc: 0o711, gvisor: 0o755 };

/**
 * The project's resources/: found by walking up from this module to the folder that holds it,
 * so that it is found from the sources and from the CLI's bundle alike (which sit at different
 * depths). The packaged app passes its own (SchedulerOptions.resourcesRoot).
 */
export function defaultResourcesRoot(): string {
  if (process.env.LOOM_RESOURCES_DIR) return process.env.LOOM_RESOURCES_DIR;
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'resources', 'runner')) && existsSync(join(dir, 'package.json'))) return join(dir, 'resources');
    if (dirname(dir) === dir) throw new LoomError(`Loom's resources/ folder was not found above ${here}: set LOOM_RESOURCES_DIR`);
  }
}

export interface ShippedFile {
  path: string;
  body: Buffer;
  mode: number;
}

/** The files of resources/ that sandboxes get, with their modes. */
export function shippedFiles(root = defaultResourcesRoot(), isolation: Isolation = 'runc'): ShippedFile[] {
  const files: ShippedFile[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (SHIPPED_FILE.test(name) && !name.includes('.test.')) {
        const path = relative(root, full);
        files.push({ path, body: readFileSync(full), mode: modeOf(path, isolation) });
      }
    }
  };
  for (const sub of SHIPPED) if (existsSync(join(root, sub))) walk(join(root, sub));
  return files;
}

/**
 * Written into the volume after every other file: a volume without it is not ready (its fill is
 * under way, or died half-way) and is never mounted as it is.
 */
export const COMPLETE_MARKER = '.loom-complete';
/**
 * What makes a volume ready (the marker, written last) is part of its name: a volume that an
 * older Loom filled without one is never mistaken for a ready one.
 */
const VOLUME_LAYOUT = 'marked-v1';
/** A label with a value of each volume's own: a volume removed and made again is told apart. */
const GENERATION_LABEL = 'dev.loom.resources-generation';
/**
 * How long a fill lock may stand before another process takes it over (its holder hung or is
 * gone: a fill takes well under a second). Counted on this host's clock, from when it first saw
 * the lock, not from the engine's creation time: a remote engine's clock may differ.
 */
const FILL_STALE_MS = 60_000;
const LOCK_POLL_MS = 100;

/**
 * The volume of the current resources. `ensure` is cheap once this process has seen the volume
 * complete (one inspect), and is asked before every container is created: `loom containers
 * prune` may have removed an unused volume meanwhile, and the engine would silently create an
 * empty one in its place.
 *
 * Several Loom processes may find the volume missing at once. Filling it, and checking that a
 * volume this process has not seen yet is complete, happen under a lock that the engine keeps:
 * a never-started container with a name of its own (`<volume>-fill`), which mounts the volume.
 * The engine lets one process create it; the others wait until it is gone, then look again.
 * While it stands, nobody can remove the volume. A fill that fails removes the volume.
 */
export class ResourcesVolume {
  readonly name: string;
  private readonly files: ShippedFile[];
  /** The volume (by creation time and generation) this process saw complete. */
  private verified?: string;
  private inflight?: Promise<string>;

  /** `isolation`: the volume of the containers of that level (they differ in loom-init's mode). */
  constructor(root = defaultResourcesRoot(), isolation: Isolation = 'runc') {
    this.files = shippedFiles(root, isolation);
    const hash = createHash('sha256').update(`${VOLUME_LAYOUT}\0`);
    for (const f of this.files) hash.update(f.path).update('\0').update(f.body).update(`\0${f.mode}\0`);
    this.name = `loom-resources-${hash.digest('hex').slice(0, 16)}`;
  }

  /** The name of the fill lock's container. */
  get lockName(): string {
    return `${this.name}-fill`;
  }

  /** Makes sure the volume is complete (filling it if needed, using `image` for a never-started filler). */
  ensure(docker: Docker, image: string): Promise<string> {
    // Concurrent cold starts share one check (and one fill).
    this.inflight ??= this.check(docker, image).finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async check(docker: Docker, image: string): Promise<string> {
    for (;;) {
      const seen = await inspectVolume(docker, this.name);
      if (seen && this.verified !== undefined && identity(seen) === this.verified) return this.name;
      const lock = await this.lock(docker, image);
      if (!lock) continue; // Another process held it: look again now that it is gone.
      try {
        // The lock mounts the volume: it cannot be removed (and made again) from here on.
        const held = await inspectVolume(docker, this.name);
        if (!(await hasMarker(lock))) await this.fill(docker, lock);
        this.verified = held ? identity(held) : undefined;
        return this.name;
      } finally {
        await removeContainer(docker, lock.id);
      }
    }
  }

  /** The lock's container, or null after waiting for another process's lock to go. */
  private async lock(docker: Docker, image: string): Promise<Docker.Container | null> {
    // Made before the lock mounts it: the engine would make a missing volume without labels.
    await docker.createVolume({ Name: this.name, Labels: { [LABEL.managed]: 'true', [GENERATION_LABEL]: randomUUID() } });
    try {
      // A container that is created but never started is enough to copy files into a volume.
      return await docker.createContainer({
        name: this.lockName,
        Image: image,
        Entrypoint: ['true'],
        // A lock of a process that died is an orphan: its waiters, and the reaper, remove it.
        Labels: { [LABEL.managed]: 'true', [LABEL.ownerPid]: String(process.pid), [LABEL.ownerHost]: hostname() },
        NetworkDisabled: true,
        HostConfig: { Mounts: [{ Type: 'volume', Source: this.name, Target: RESOURCES_DIR }], NetworkMode: 'none' },
      });
    } catch (err) {
      if (statusOf(err) !== 409) throw err;
    }
    await this.waitForLock(docker);
    return null;
  }

  private async waitForLock(docker: Docker): Promise<void> {
    const firstSeen = new Map<string, number>();
    for (;;) {
      let lock: Docker.ContainerInspectInfo;
      try {
        lock = await docker.getContainer(this.lockName).inspect();
      } catch (err) {
        if (statusOf(err) === 404) return;
        throw err;
      }
      const since = firstSeen.get(lock.Id) ?? Date.now();
      firstSeen.set(lock.Id, since);
      const labels = lock.Config.Labels ?? {};
      const host = labels[LABEL.ownerHost] ?? '';
      const holderGone = host === hostname() && !processAlive(Number(labels[LABEL.ownerPid]), host);
      if (holderGone || Date.now() - since > FILL_STALE_MS) {
        await removeContainer(docker, lock.Id);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    }
  }

  /** Copies the files, then the marker; on failure the volume goes (unless in use: then it stays unmarked). */
  private async fill(docker: Docker, lock: Docker.Container): Promise<void> {
    try {
      const files = pack();
      for (const f of this.files) files.entry({ name: f.path, mode: f.mode, uid: 0, gid: 0 }, f.body);
      files.finalize();
      await lock.putArchive(files, { path: RESOURCES_DIR });
      const marker = pack();
      marker.entry({ name: COMPLETE_MARKER, mode: 0o644, uid: 0, gid: 0 }, `${this.name}\n`);
      marker.finalize();
      await lock.putArchive(marker, { path: RESOURCES_DIR });
    } catch (err) {
      await removeContainer(docker, lock.id).catch(() => undefined);
      await docker
        .getVolume(this.name)
        .remove()
        .catch(() => undefined);
      throw new LoomError(`Could not fill Loom's resources volume ${this.name}: ${describeCause(err)}`, { cause: err });
    }
  }
}

async function inspectVolume(docker: Docker, name: string): Promise<Docker.VolumeInspectInfo | undefined> {
  try {
    return await docker.getVolume(name).inspect();
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
}

/** Which volume of that name this is; undefined where the engine does not say when it made it (never trusted then). */
function identity(volume: Docker.VolumeInspectInfo & { CreatedAt?: string }): string | undefined {
  return volume.CreatedAt ? `${volume.CreatedAt} ${volume.Labels?.[GENERATION_LABEL] ?? ''}` : undefined;
}

async function hasMarker(container: Docker.Container): Promise<boolean> {
  try {
    const head = (await container.infoArchive({ path: `${RESOURCES_DIR}/${COMPLETE_MARKER}` })) as NodeJS.ReadableStream;
    head.resume();
    return true;
  } catch (err) {
    // The container exists (the caller holds it): 404 is the file.
    if (statusOf(err) === 404) return false;
    throw err;
  }
}

const statusOf = (err: unknown): number | undefined => (err as { statusCode?: number }).statusCode;
