// Warm containers outlive the process that made them: on close, an idle container is parked
// (renamed so that any Loom process can find it by pool key), and the next process claims it.
//
// Names carry the state, because labels cannot change after creation:
//   loom-idle-<pool key>-<expires, unix s>-<executions>-<id12>
//                                                   parked, free to claim until it expires; the
//                                                   executions it served go with it, so that
//                                                   max_executions holds across processes
//   loom-claim-<id12>                               being claimed: a name only one rename can
//                                                   produce, so two claimers never both win
//   loom-own-<pid>-<instance>-<id12>                claimed by that process
import type Docker from 'dockerode';
import { LABEL } from './labels';
import type { Owner } from './labels';

export const DEFAULT_IDLE_TTL_MS = 10 * 60 * 1000;

// The executions part is optional: containers parked before it existed have none.
const PARKED = /^loom-idle-([0-9a-f]{16})-(\d+)(?:-(\d+))?-([0-9a-f]{12})$/;
const OWNED = /^loom-own-(\d+)-([0-9a-f]{32})-([0-9a-f]{12})$/;

export function parkedName(key: string, expiresAtMs: number, id: string, executions = 0): string {
  return `loom-idle-${key}-${Math.floor(expiresAtMs / 1000)}-${executions}-${id.slice(0, 12)}`;
}

export function parseParked(name: string): { key: string; expiresAtMs: number; executions: number } | null {
  const m = PARKED.exec(name);
  return m ? { key: m[1]!, expiresAtMs: Number(m[2]) * 1000, executions: Number(m[3] ?? 0) } : null;
}

export function ownedName(owner: Owner, id: string): string {
  return `loom-own-${owner.pid}-${owner.instance}-${id.slice(0, 12)}`;
}

export function parseOwned(name: string): { pid: number; instance: string } | null {
  const m = OWNED.exec(name);
  return m ? { pid: Number(m[1]), instance: m[2]! } : null;
}

/**
 * Parks a container for `ttlMs`, with the number of executions it has served; false if the
 * engine refused (the caller then removes it).
 */
export async function park(docker: Docker, id: string, key: string, ttlMs = DEFAULT_IDLE_TTL_MS, executions = 0): Promise<boolean> {
  try {
    await docker.getContainer(id).rename({ name: parkedName(key, Date.now() + ttlMs, id, executions) });
    return true;
  } catch {
    return false;
  }
}

/**
 * Claims a parked, running, unexpired container of `key` for `owner`, freshest first.
 * Resolves to its id, new name, main command and the executions it has served, or null when
 * there is none to be had.
 */
export async function claimParked(
  docker: Docker,
  key: string,
  owner: Owner,
): Promise<{ id: string; name: string; createdAtMs: number; command: string; executions: number } | null> {
  const listed = await docker.listContainers({
    filters: { name: [`loom-idle-${key}-`], label: [`${LABEL.managed}=true`], status: ['running'] },
  });
  const now = Date.now();
  const candidates = listed
    .map((c) => ({ c, parked: parseParked((c.Names[0] ?? '').replace(/^\//, '')) }))
    .filter((x) => x.parked && x.parked.key === key && x.parked.expiresAtMs > now)
    .sort((a, b) => b.parked!.expiresAtMs - a.parked!.expiresAtMs);
  for (const { c, parked } of candidates) {
    // Addressed by its parked name: once someone has renamed it, that name no longer resolves;
    // and two renames racing inside the engine both target the claim name, which only the
    // first can take (the engine refuses to rename a container to the name it already has).
    try {
      await docker.getContainer((c.Names[0] ?? '').replace(/^\//, '')).rename({ name: `loom-claim-${c.Id.slice(0, 12)}` });
    } catch {
      continue; // another process won this one
    }
    const name = ownedName(owner, c.Id);
    await docker.getContainer(c.Id).rename({ name });
    return { id: c.Id, name, createdAtMs: c.Created * 1000, command: c.Command, executions: parked?.executions ?? 0 };
  }
  return null;
}
