// Every container Loom creates carries these labels, so that any Loom process (the app, the CLI,
// a later start after a crash) can find, attribute and clean up what it owns.
import { hostname } from 'node:os';

export const LABEL = {
  managed: 'dev.loom.managed',
  poolKey: 'dev.loom.pool-key',
  runtime: 'dev.loom.runtime',
  configName: 'dev.loom.config-name',
  ownerPid: 'dev.loom.owner-pid',
  ownerHost: 'dev.loom.owner-host',
  ownerInstance: 'dev.loom.owner-instance',
  /** A session's container (see session/): its owner, TTL and settings, as JSON. */
  session: 'dev.loom.session',
} as const;

export const MANAGED_FILTER = { label: [`${LABEL.managed}=true`] };

export interface Owner {
  pid: number;
  host: string;
  instance: string;
}

/** `instance` is 32 hex digits (a UUID without dashes): it also appears in container names. */
export function currentOwner(instance: string): Owner {
  return { pid: process.pid, host: hostname(), instance };
}

/** Whether a process of this host still runs (other hosts' processes cannot be seen). */
export function processAlive(pid: number, host: string): boolean {
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
