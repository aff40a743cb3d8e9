// Who owns an MCP client's sessions. Each client is an owner of the engine's sessions
// (OwnerOptions.owner), so that one client can neither see nor use another's; when the client
// goes (its HTTP session ends, the stdio server exits) the sessions it made are closed.
import { randomBytes } from 'node:crypto';
import { SessionExpiredError, SessionNotFoundError } from '../engine/session/manager';
import type { SessionManager } from '../engine/session/types';

/** The owner for an MCP client: its streamable HTTP session id, or one per stdio server. */
export function mcpOwner(transportSessionId?: string): string {
  return transportSessionId ? `mcp-http:${transportSessionId}` : `mcp-stdio:${process.pid}:${randomBytes(6).toString('hex')}`;
}

/** Closes every session of an owner (their containers go); failures are reported, not thrown. */
export async function closeSessionsOf(sessions: SessionManager, owner: string, onError: (err: unknown) => void = () => undefined): Promise<number> {
  let listed;
  try {
    listed = await sessions.list({ owner });
  } catch (err) {
    onError(err);
    return 0;
  }
  const closed = await Promise.allSettled(listed.map((s) => sessions.close(s.id, { owner })));
  // An expired session's container is removed by the very call that finds it expired; one not
  // found was closed meanwhile: both are gone, as wanted.
  for (const r of closed) if (r.status === 'rejected' && !(r.reason instanceof SessionExpiredError || r.reason instanceof SessionNotFoundError)) onError(r.reason);
  return closed.filter((r) => r.status === 'fulfilled').length;
}
