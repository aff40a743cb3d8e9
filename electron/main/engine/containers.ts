// Loom's containers as the engine sees them, across every Loom process: listing, removal and
// the clean-up of what a crashed process left behind.
import type Docker from 'dockerode';
import { hostname } from 'node:os';
import { LABEL, MANAGED_FILTER, ownerAlive } from './labels';

export interface ManagedContainer {
  id: string;
  name: string;
  image: string;
  runtime: string;
  poolKey: string;
  configName: string;
  /** The engine's view: running, exited, paused, ... */
  engineState: string;
  createdAtMs: number;
  ownerPid: number;
  ownerHost: string;
  ownerInstance: string;
  ownerAlive: boolean;
}

export async function listManaged(docker: Docker): Promise<ManagedContainer[]> {
  const found = await docker.listContainers({ all: true, filters: MANAGED_FILTER });
  return found.map((c) => ({
    id: c.Id,
    name: (c.Names[0] ?? '').replace(/^\//, ''),
    image: c.Image,
    runtime: c.Labels[LABEL.runtime] ?? '',
    poolKey: c.Labels[LABEL.poolKey] ?? '',
    configName: c.Labels[LABEL.configName] ?? '',
    engineState: c.State,
    createdAtMs: c.Created * 1000,
    ownerPid: Number(c.Labels[LABEL.ownerPid] ?? 0),
    ownerHost: c.Labels[LABEL.ownerHost] ?? '',
    ownerInstance: c.Labels[LABEL.ownerInstance] ?? '',
    ownerAlive: ownerAlive(c.Labels),
  }));
}

/** Force-removes a container; one that is already gone counts as removed. */
export async function removeContainer(docker: Docker, id: string): Promise<void> {
  try {
    await docker.getContainer(id).remove({ force: true, v: true });
  } catch (err) {
    const status = (err as { statusCode?: number }).statusCode;
    // 404: already gone; 409: removal already in progress.
    if (status !== 404 && status !== 409) throw err;
  }
}

/** Made by a process of this host that no longer runs (another host's processes cannot be seen). */
export function isOrphan(c: ManagedContainer): boolean {
  return c.ownerHost === hostname() && !c.ownerAlive;
}

/**
 * Removes managed containers whose owning process is gone (or all of them with `all`).
 * Returns the ids removed.
 */
export async function pruneManaged(docker: Docker, opts: { all?: boolean } = {}): Promise<string[]> {
  const stale = (await listManaged(docker)).filter((c) => opts.all || isOrphan(c));
  await Promise.all(stale.map((c) => removeContainer(docker, c.id)));
  return stale.map((c) => c.id);
}

/** Resolves ids or names (or unique id prefixes) to managed containers; refuses others. */
export async function resolveManaged(docker: Docker, refs: string[]): Promise<{ found: ManagedContainer[]; missing: string[] }> {
  const all = await listManaged(docker);
  const found: ManagedContainer[] = [];
  const missing: string[] = [];
  for (const ref of refs) {
    const matches = all.filter((c) => c.name === ref || c.id.startsWith(ref));
    if (matches.length === 1 && matches[0]) found.push(matches[0]);
    else missing.push(ref);
  }
  return { found, missing };
}

/**
 * Removes Loom's resource volumes that no container uses (left by older versions of the
 * shipped files). A volume in use is refused by the engine and kept. Returns the names removed.
 */
export async function pruneVolumes(docker: Docker): Promise<string[]> {
  const { Volumes } = await docker.listVolumes({ filters: { label: [`${LABEL.managed}=true`] } });
  const removed: string[] = [];
  for (const v of Volumes ?? []) {
    try {
      await docker.getVolume(v.Name).remove();
      removed.push(v.Name);
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 409) throw err;
    }
  }
  return removed;
}
