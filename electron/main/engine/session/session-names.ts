// A session's container carries its state in its name, as parked containers do (labels cannot
// change after creation): loom-session-<session id>-<expires, unix s>. Renamed as the session
// is used, so that any Loom process (the CLI's next call, another process's reaper) knows when
// an idle session has expired without asking the one that made it.

export const SESSION_ID_PATTERN = /^[0-9a-f]{16}$/;
const SESSION_NAME = /^loom-session-([0-9a-f]{16})-(\d+)$/;

export function sessionName(id: string, expiresAtMs: number): string {
  return `loom-session-${id}-${Math.ceil(expiresAtMs / 1000)}`;
}

export function parseSessionName(name: string): { id: string; expiresAtMs: number } | null {
  const m = SESSION_NAME.exec(name);
  return m ? { id: m[1]!, expiresAtMs: Number(m[2]) * 1000 } : null;
}

/** The name filter that finds one session's container. */
export const sessionNamePrefix = (id: string): string => `loom-session-${id}-`;
