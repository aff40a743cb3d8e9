// Loom's containers as the engine sees them, across every Loom process: listing, removal and
// the clean-up of what a crashed process left behind.
import type Docker from 'dockerode';
import { hostname } from 'node:os';
import { LABEL, MANAGED_FILTER, processAlive } from './labels';
import { parseOwned, parseParked } from './parking';

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
  /** Set while the container is parked: free for any Loom process to claim until then. */
  parkedUntilMs?: number;
}

export async function listManaged(docker: Docker): Promise<ManagedContainer[]> {
  const found = await docker.listContainers({ all: true, filters: MANAGED_FILTER });
  return found.map((c) => {
    const name = (c.Names[0] ?? '').replace(/^\//, '');
    const host = c.Labels[LABEL.ownerHost] ?? '';
    // A claimed container names its owner; a parked one has none; else the creator's labels.
    const claimed = parseOwned(name);
    const parked = parseParked(name);
    const pid = claimed ? claimed.pid : parked ? 0 : Number(c.Labels[LABEL.ownerPid] ?? 0);
    return {
      id: c.Id,
      name,
      image: c.Image,
      runtime: c.Labels[LABEL.runtime] ?? '',
      poolKey: c.Labels[LABEL.poolKey] ?? '',
      configName: c.Labels[LABEL.configName] ?? '',
      engineState: c.State,
      createdAtMs: c.Created * 1000,
      ownerPid: pid,
      ownerHost: host,
      ownerInstance: claimed ? claimed.instance : parked ? '' : (c.Labels[LABEL.ownerInstance] ?? ''),
      ownerAlive: processAlive(pid, host),
      parkedUntilMs: parked?.expiresAtMs,
    };
  });
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

/**
 * Nobody will use it again: parked past its expiry, or owned by a process of this host that no
 * longer runs (another host's processes cannot be seen, so their containers are left alone).
 */
export function isOrphan(c: ManagedContainer, now = Date.now()): boolean {
  if (c.parkedUntilMs !== undefined) return c.parkedUntilMs <= now;
  return c.ownerHost === hostname() && !c.ownerAlive;
}

/**
 * Removes managed containers whose owning process is gone, and parked ones (or all of them
 * with `all`).
 * Returns the ids removed.
 */
export async function pruneManaged(docker: Docker, opts: { all?: boolean } = {}): Promise<string[]> {
  // Parked containers go too: pruning is the user asking for a clean slate now.
  const stale = (await listManaged(docker)).filter((c) => opts.all || c.parkedUntilMs !== undefined || isOrphan(c));
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
