// The files Loom ships into every sandbox (trace libraries, the in-container agent) live in a
// read-only volume named after a hash of their content. A volume rather than a bind mount:
// it works with remote engines (tcp, ssh) and Podman, and the sandbox cannot change it.
import type Docker from 'dockerode';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LABEL } from './labels';
import { LoomError } from './errors';
import { tarOf } from './tar';

/** Where the volume appears in each sandbox. */
export const RESOURCES_DIR = '/opt/loom/lib';
export const PYTHON_LIB_DIR = `${RESOURCES_DIR}/trace/python`;
export const NODE_LIB_DIR = `${RESOURCES_DIR}/trace/node`;
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
const SHIPPED = ['trace/python', 'trace/node', 'agent', 'runner', 'native/bin', 'doctor'];
const SHIPPED_FILE = /\.(py|js)$|^loom-init-|^nodump-/;
/**
 * loom-init may be run and not read by the sandbox user: the kernel makes a process undumpable
 * from the first instruction of a program it cannot read, so no program can attach to a
 * loom-init that has just started, before its own prctl. nodump.so must be read to be loaded.
 */
const modeOf = (path: string): number => (/^native\/bin\/loom-init-/.test(path) ? 0o711 : 0o644);

export function defaultResourcesRoot(): string {
  // electron/main/engine → the project root's resources/ (also next to a packaged app's main).
  return process.env.LOOM_RESOURCES_DIR ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../../resources');
}

export interface ShippedFile {
  path: string;
  body: Buffer;
  mode: number;
}

/** The files of resources/ that sandboxes get, with their modes. */
export function shippedFiles(root = defaultResourcesRoot()): ShippedFile[] {
  const files: ShippedFile[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (SHIPPED_FILE.test(name) && !name.includes('.test.')) {
        const path = relative(root, full);
        files.push({ path, body: readFileSync(full), mode: modeOf(path) });
      }
    }
  };
  for (const sub of SHIPPED) if (existsSync(join(root, sub))) walk(join(root, sub));
  return files;
}

/**
 * The volume of the current resources. `ensure` is cheap once the volume exists (one inspect),
 * and is asked before every container is created: `loom containers prune` may have removed an
 * unused volume meanwhile, and the engine would silently create an empty one in its place.
 */
export class ResourcesVolume {
  readonly name: string;
  private readonly files: ShippedFile[];

  constructor(root = defaultResourcesRoot()) {
    this.files = shippedFiles(root);
    const hash = createHash('sha256');
    for (const f of this.files) hash.update(f.path).update('\0').update(f.body).update(`\0${f.mode}\0`);
    this.name = `loom-resources-${hash.digest('hex').slice(0, 16)}`;
  }

  private inflight?: Promise<string>;

  /** Creates and fills the volume if it is missing, using `image` for a never-started filler. */
  ensure(docker: Docker, image: string): Promise<string> {
    // Concurrent cold starts share one check (and one fill).
    this.inflight ??= this.check(docker, image).finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async check(docker: Docker, image: string): Promise<string> {
    try {
      await docker.getVolume(this.name).inspect();
      return this.name;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) throw err;
    }
    await docker.createVolume({ Name: this.name, Labels: { [LABEL.managed]: 'true' } });
    // A container that is created but never started is enough to copy files into a volume.
    const filler = await docker.createContainer({
      Image: image,
      Entrypoint: ['true'],
      Labels: { [LABEL.managed]: 'true' },
      NetworkDisabled: true,
      HostConfig: { Mounts: [{ Type: 'volume', Source: this.name, Target: RESOURCES_DIR }], NetworkMode: 'none' },
    });
    try {
      await filler.putArchive(tarOf(this.files), { path: RESOURCES_DIR });
    } finally {
      await filler.remove({ force: true });
    }
    return this.name;
  }
}
