// Loom's containers as the engine sees them, across every Loom process: listing, removal and
// the clean-up of what a crashed process left behind.
import type Docker from 'dockerode';
import { hostname } from 'node:os';
import { within } from '../deadline';
import { LoomError } from '../errors';
import { LABEL, MANAGED_FILTER, processAlive } from './labels';
import { parseOwned, parseParked } from './parking';
import { parseSessionName } from '../session/session-names';

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
  /** Set for a session's container: when it expires unless used again (session/session-names.ts). */
  sessionExpiresAtMs?: number;
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
      sessionExpiresAtMs: parseSessionName(name)?.expiresAtMs,
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
  // A session outlives the process that made it (the CLI's `loom session new`) until idle past its TTL.
  if (c.sessionExpiresAtMs !== undefined) return c.sessionExpiresAtMs <= now;
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

/** The shortest id prefix that may name a container: as many characters as `docker ps` shows. */
export const MIN_ID_PREFIX = 12;

/** What a reference to a container names: the one container, or why it names none. */
export type Resolution<T> = { found: T; problem?: undefined } | { found?: undefined; problem: string };

/**
 * The one way Loom reads a container reference (the CLI, the app, the pool): an exact id or
 * name, else a prefix of at least MIN_ID_PREFIX characters of exactly one container's id. A
 * shorter prefix would pick an arbitrary container among a few; an ambiguous one, any of them.
 */
export function resolveRef<T extends { id: string; name: string }>(ref: string, candidates: readonly T[], what = 'container'): Resolution<T> {
  if (!ref) return { problem: 'must not be empty: give a container id, id prefix or name' };
  const exact = candidates.find((c) => c.id === ref) ?? candidates.find((c) => c.name === ref);
  if (exact) return { found: exact };
  if (ref.length < MIN_ID_PREFIX) {
    return { problem: `no ${what} has the id or name '${ref}' (an id prefix needs at least ${MIN_ID_PREFIX} characters)` };
  }
  const matches = candidates.filter((c) => c.id.startsWith(ref));
  const [only] = matches;
  if (matches.length === 1 && only) return { found: only };
  if (matches.length === 0) return { problem: `no ${what} has the id or name '${ref}', or an id that starts with it` };
  const ids = matches.map((c) => c.id.slice(0, ref.length + 4)).join(', ');
  return { problem: `'${ref}' starts the ids of ${matches.length} ${what}s (${ids}): give more of the id` };
}

/** Resolves each reference among the managed containers (resolveRef); others are refused. */
export async function resolveManaged(docker: Docker, refs: string[]): Promise<{ found: ManagedContainer[]; problems: string[] }> {
  const all = await listManaged(docker);
  const found: ManagedContainer[] = [];
  const problems: string[] = [];
  for (const ref of refs) {
    const r = resolveRef(ref, all, 'container managed by Loom');
    if (r.found) found.push(r.found);
    else problems.push(r.problem);
  }
  return { found, problems };
}

/** How long a removal may take the engine before Loom gives up waiting and says so. */
export const REMOVAL_WAIT_MS = 15_000;

/** The engine did not finish removing a container in time (it may still, later). */
export class RemovalTimeoutError extends LoomError {
  override name = 'RemovalTimeoutError';
  constructor(
    readonly id: string,
    readonly timeoutMs: number,
  ) {
    super(`the engine did not finish removing container ${id.slice(0, 12)} within ${timeoutMs / 1000} s; it may still go, or need \`docker rm -f ${id.slice(0, 12)}\``);
  }
}

/**
 * Force-removes a container and waits until the engine no longer has it, RemovalTimeoutError
 * past `timeoutMs` (the engine can sit on a removal: a container paused mid-exec, a wedged
 * daemon). A removal already under way (409: the pool's own) is waited for the same way.
 */
export async function removeAndWait(docker: Docker, id: string, timeoutMs = REMOVAL_WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const gone = async (): Promise<boolean> => {
    await removeContainer(docker, id);
    while (Date.now() < deadline) {
      try {
        await docker.getContainer(id).inspect();
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) return true;
        throw err;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return false;
  };
  if ((await within(gone(), timeoutMs)) !== true) throw new RemovalTimeoutError(id, timeoutMs);
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
