// Who may talk to the web host. Any web page the user opens can make their browser send
// requests to 127.0.0.1, so loopback alone proves nothing: the Host header stops DNS rebinding
// (evil.example resolving to 127.0.0.1), the Origin header stops other sites' pages from opening
// the WebSocket, and the per-start token stops everything else on the machine that did not get
// it from us (other users, other local programs, pages that guess the port).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The names the host answers to: the address it is bound to, and localhost. */
export function allowedHosts(port: number): Set<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
}

export function allowedOrigins(port: number): Set<string> {
  return new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);
}

export function isAllowedHost(host: string | undefined, port: number): boolean {
  return host !== undefined && allowedHosts(port).has(host.toLowerCase());
}

/** Constant-time whatever the lengths: both sides are hashed to the same size first. */
export function tokensEqual(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

export type UpgradeVerdict = { ok: true } | { ok: false; status: 403 | 404; reason: string };

/** Decides a WebSocket upgrade before it happens, so a refused client never gets a socket. */
export function checkUpgrade(req: IncomingMessage, port: number, token: string, path: string): UpgradeVerdict {
  const url = requestUrl(req);
  if (!url || url.pathname !== path) return { ok: false, status: 404, reason: 'no such endpoint' };
  if (!isAllowedHost(req.headers.host, port)) return { ok: false, status: 403, reason: 'Host not allowed' };
  const origin = req.headers.origin;
  if (origin === undefined || !allowedOrigins(port).has(origin)) return { ok: false, status: 403, reason: 'Origin not allowed' };
  const given = url.searchParams.get('token');
  if (given === null || !tokensEqual(given, token)) return { ok: false, status: 403, reason: 'missing or wrong token' };
  return { ok: true };
}

/** The request's path and query as a URL, or null when it cannot be parsed. */
export function requestUrl(req: IncomingMessage): URL | null {
  try {
    return new URL(req.url ?? '/', 'http://127.0.0.1');
  } catch {
    return null;
  }
}
