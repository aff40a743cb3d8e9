// Installed packages are cached as images: the first container with a given base image and
// package set has them installed in a short-lived builder, which is committed as a derived
// image (labelled, tagged by a hash of the exact set); every later container with that set
// starts from it, with no install step, and the packages sit on its read-only root.
import type Docker from 'dockerode';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { pack } from 'tar-stream';
import { cpuQuota, NODE_PACKAGES_DIR, PACKAGES_DIR, PYTHON_PACKAGES_DIR, SANDBOX_USER } from '../container/container';
import { ociRuntime } from '../container/isolation';
import { removeContainer } from '../pool/containers';
import { FileDigests } from './file-digest';
import { LABEL, type Owner } from '../pool/labels';
import { installPackages, type InstallPlan, type PackageSources } from './packages';
import type { ContainerSpec } from '../request/request';
import { WRITABLE_DIR } from '../request/request';

export const PACKAGE_IMAGE_REPO = 'loom-packages';
export const PACKAGE_CACHE_LABEL = 'dev.loom.package-cache';
export const BASE_IMAGE_LABEL = 'dev.loom.base-image';
export const PACKAGES_LABEL = 'dev.loom.packages';

export class PackageCache {
  private readonly building = new Map<string, Promise<string>>();
  private readonly digests = new FileDigests();

  constructor(
    private readonly docker: Docker,
    private readonly sources: PackageSources,
    private readonly owner: Owner,
    private readonly gvisorRuntime?: string,
  ) {}

  /**
   * The image to start containers of `spec` from, building it on first use. `built` says
   * whether this call installed the packages (the caller reports that as the packages phase).
   */
  async imageFor(spec: ContainerSpec, plan: InstallPlan, onBuild: () => void, onLog?: (line: string) => void): Promise<{ image: string; built: boolean }> {
    const baseId = (await this.docker.getImage(spec.image).inspect()).Id;
    const image = `${PACKAGE_IMAGE_REPO}:${await cacheKey(baseId, spec, this.sources, this.digests)}`;
    if (await this.exists(image)) return { image, built: false };
    let build = this.building.get(image);
    const builtHere = !build;
    if (!build) {
      onBuild();
      build = this.build(image, spec, plan, onLog).finally(() => this.building.delete(image));
      this.building.set(image, build);
    }
    await build;
    return { image, built: builtHere };
  }

  private async exists(image: string): Promise<boolean> {
    try {
      await this.docker.getImage(image).inspect();
      return true;
    } catch {
      return false;
    }
  }

  private async build(image: string, spec: ContainerSpec, plan: InstallPlan, onLog?: (line: string) => void): Promise<string> {
    const [repo, tag] = image.split(':') as [string, string];
    // Locked down like a sandbox, but with a writable root: what it installs is committed.
    const builder = await this.docker.createContainer({
      name: `loom-build-${tag.slice(0, 12)}-${randomBytes(3).toString('hex')}`,
      Image: spec.image,
      Entrypoint: ['sleep'],
      Cmd: ['infinity'],
      User: SANDBOX_USER,
      WorkingDir: WRITABLE_DIR,
      Env: [`HOME=${WRITABLE_DIR}`, `TMPDIR=${WRITABLE_DIR}`],
      NetworkDisabled: spec.network === 'none',
      Labels: {
        [LABEL.managed]: 'true',
        [LABEL.ownerPid]: String(this.owner.pid),
        [LABEL.ownerHost]: this.owner.host,
        [LABEL.ownerInstance]: this.owner.instance,
      },
      HostConfig: {
        // An install runs the packages' own code (setup.py, npm scripts): under the runtime the
        // sandbox will have.
        Runtime: ociRuntime(spec.isolation, this.gvisorRuntime),
        Init: true,
        NetworkMode: spec.network,
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges'],
        Memory: spec.memoryMb * 1024 * 1024,
        MemorySwap: spec.memoryMb * 1024 * 1024,
        ...cpuQuota(spec.cpuCores),
        PidsLimit: spec.pidsLimit,
        Tmpfs: { [WRITABLE_DIR]: `rw,nosuid,nodev,exec,size=${spec.storageMb}m,mode=1777` },
        Mounts: plan.mounts.map((m) => ({ Type: 'bind', Source: m.hostPath, Target: m.containerPath, ReadOnly: true })),
        LogConfig: { Type: 'none', Config: {} },
      },
    });
    try {
      await builder.start();
      // The install runs as nobody, so its target must belong to nobody (the root does not).
      const dirs = pack();
      for (const dir of [PACKAGES_DIR, PYTHON_PACKAGES_DIR, NODE_PACKAGES_DIR]) dirs.entry({ name: dir.slice(1), type: 'directory', mode: 0o755, uid: 65534, gid: 65534 });
      dirs.finalize();
      await builder.putArchive(dirs, { path: '/' });
      await installPackages(builder, spec, plan, onLog);
      await builder.commit({
        repo,
        tag,
        changes: [
          `LABEL ${PACKAGE_CACHE_LABEL}="true"`,
          `LABEL ${BASE_IMAGE_LABEL}=${JSON.stringify(spec.image)}`,
          `LABEL ${PACKAGES_LABEL}=${JSON.stringify(spec.packages.join(' '))}`,
        ],
      });
      return image;
    } finally {
      await removeContainer(this.docker, builder.id);
    }
  }
}

/**
 * Everything that decides what gets installed: the base image's content (by id, not name),
 * the packages (local files by their content), and where they come from. Local files are read
 * as streams, and not again while unchanged (`digests` remembers them).
 */
export async function cacheKey(baseImageId: string, spec: ContainerSpec, sources: PackageSources, digests: FileDigests): Promise<string> {
  const hash = createHash('sha256');
  const packages = await Promise.all(spec.packages.map(async (p) => (isAbsolute(p) ? `file:${await digests.digest(p)}` : p)));
  hash.update(JSON.stringify([
    baseImageId,
    spec.runtime,
    packages,
    sources.pipIndexUrl && isAbsolute(sources.pipIndexUrl) ? `dir:${listingDigest(sources.pipIndexUrl)}` : (sources.pipIndexUrl ?? ''),
    sources.pipFindLinks ? `dir:${listingDigest(sources.pipFindLinks)}` : '',
    sources.npmRegistry ?? '',
    sources.caFile ? await digests.digest(sources.caFile) : '',
  ]));
  return hash.digest('hex').slice(0, 16);
}

/** A directory's files by name, size and modification time: enough to see that it changed. */
function listingDigest(dir: string): string {
  const hash = createHash('sha256');
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const full = join(d, name);
      const st = statSync(full);
      if (st.isDirectory()) walk(full);
      else hash.update(`${full}\0${st.size}\0${st.mtimeMs}\0`);
    }
  };
  walk(dir);
  return hash.digest('hex');
}

export interface CachedPackageImage {
  id: string;
  tag: string;
  baseImage: string;
  packages: string[];
  sizeBytes: number;
  createdAtMs: number;
}

export async function listPackageImages(docker: Docker): Promise<CachedPackageImage[]> {
  const images = await docker.listImages({ filters: { label: [`${PACKAGE_CACHE_LABEL}=true`] } });
  return images.map((i) => ({
    id: i.Id,
    tag: (i.RepoTags ?? []).find((t) => t.startsWith(`${PACKAGE_IMAGE_REPO}:`)) ?? '<none>',
    baseImage: i.Labels?.[BASE_IMAGE_LABEL] ?? '',
    packages: (i.Labels?.[PACKAGES_LABEL] ?? '').split(' ').filter(Boolean),
    sizeBytes: i.Size,
    createdAtMs: i.Created * 1000,
  }));
}

/** Removes cached package images no container uses (the engine refuses those in use). */
export async function prunePackageImages(docker: Docker): Promise<string[]> {
  const removed: string[] = [];
  for (const image of await listPackageImages(docker)) {
    try {
      await docker.getImage(image.id).remove();
      removed.push(image.tag);
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 409) throw err;
    }
  }
  return removed;
}
