// The files Loom ships into every sandbox (trace libraries, the in-container agent) live in a
// read-only volume named after a hash of their content. A volume rather than a bind mount:
// it works with remote engines (tcp, ssh) and Podman, and the sandbox cannot change it.
import type Docker from 'dockerode';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LABEL } from './labels';
import { tarOf } from './tar';

/** Where the volume appears in each sandbox. */
export const RESOURCES_DIR = '/opt/loom/lib';
export const PYTHON_LIB_DIR = `${RESOURCES_DIR}/trace/python`;
export const NODE_LIB_DIR = `${RESOURCES_DIR}/trace/node`;
export const AGENT_PY = `${RESOURCES_DIR}/agent/loom_agent.py`;
export const AGENT_JS = `${RESOURCES_DIR}/agent/loom-agent.js`;

/** The shipped subtrees of resources/ (tests and recipes stay behind). */
const SHIPPED = ['trace/python', 'trace/node', 'agent', 'runner'];
const SHIPPED_FILE = /\.(py|js)$/;

export function defaultResourcesRoot(): string {
  // electron/main/engine → the project root's resources/ (also next to a packaged app's main).
  return process.env.LOOM_RESOURCES_DIR ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../../resources');
}

interface ShippedFile {
  path: string;
  body: Buffer;
}

function shippedFiles(root: string): ShippedFile[] {
  const files: ShippedFile[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (SHIPPED_FILE.test(name) && !name.includes('.test.')) files.push({ path: relative(root, full), body: readFileSync(full) });
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
    for (const f of this.files) hash.update(f.path).update('\0').update(f.body).update('\0');
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
