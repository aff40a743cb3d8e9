// Who may talk to the web host. Any web page the user opens can make their browser send
// requests to 127.0.0.1, so loopback alone proves nothing: the Host header stops DNS rebinding
// (evil.example resolving to 127.0.0.1), the Origin header stops other sites' pages from opening
// the WebSocket, and the per-start token stops everything else on the machine that did not get
// it from us (other users, other local programs, pages that guess the port).
//
// The token travels once, in the address `loom ui` prints. The host swaps it for a session
// cookie (see access-pages.ts for the page that does it) and from then on the browser proves
// itself with that cookie, so the token is not left in the address bar, the history, bookmarks
// or a Referer. The token still works in the query of any request, for the first exchange in
// another browser and for clients that are not browsers (scripts, tests): it opens this host
// for as long as it runs, as the cookie does.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
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

/** What a request may prove itself with. */
export interface HostSecrets {
  port: number;
  /** Printed in the address; accepted in the query of any request. */
  token: string;
  /**
   * The session cookie's value (sessionOf): derived from the token, not the token. It is worth as
   * much, but it is never in an address, so it is not what gets pasted, logged or bookmarked, and
   * the token itself is never sent back to the browser. Derived rather than random, so that a web
   * host started again with the same token (the page's WebSocket reconnecting to it) still knows
   * the page; a new token (a new `loom ui`) makes every earlier cookie stale.
   */
  session: string;
}

/** The session cookie's value for a token: an HMAC of a fixed label, keyed by the token. */
export function sessionOf(token: string): string {
  return createHmac('sha256', token).update('loom-session-cookie').digest('hex');
}

/**
 * Cookies are kept per host name, not per port: every `loom ui` on 127.0.0.1 shares one cookie
 * jar, so the name carries the port and two hosts never overwrite each other's session.
 */
export function sessionCookieName(port: number): string {
  return `loom-session-${port}`;
}

/**
 * The Set-Cookie value of the exchange. HttpOnly: no script, the page's own included, can read
 * it. SameSite=Strict: no request started by another site carries it. Path=/: the page and its
 * WebSocket both get it. No Max-Age: it goes when the browser session ends, and means nothing
 * once this host stops anyway. No Secure: the host speaks plain http (loopback never leaves the
 * machine), and a browser that does not count http://127.0.0.1 as secure refuses to store a
 * Secure cookie from it, while one that does would send it exactly as now.
 */
export function sessionCookie(secrets: HostSecrets): string {
  return `${sessionCookieName(secrets.port)}=${secrets.session}; Path=/; HttpOnly; SameSite=Strict`;
}

/** Why a request was not let in: it decides what the refusal page tells the user. */
export type AccessProblem = 'no token' | 'wrong token' | 'stale session';

export type Access = { ok: true; by: 'token' | 'cookie' } | { ok: false; problem: AccessProblem };

/**
 * A token in the query decides on its own (a wrong one is refused even next to a good cookie:
 * the address is wrong, and the user should hear so); otherwise the session cookie does.
 * Note that SameSite does not separate ports: a page of another server on 127.0.0.1 is the same
 * site, and its requests here carry this cookie. For the WebSocket the Origin check stops them
 * (checkUpgrade); the files are the app's code, which Cross-Origin-Resource-Policy keeps other
 * origins from loading.
 */
export function checkAccess(req: IncomingMessage, url: URL, secrets: HostSecrets): Access {
  const given = url.searchParams.get('token');
  if (given !== null) return tokensEqual(given, secrets.token) ? { ok: true, by: 'token' } : { ok: false, problem: 'wrong token' };
  const sessions = cookieValues(req.headers.cookie, sessionCookieName(secrets.port));
  if (sessions.length === 0) return { ok: false, problem: 'no token' };
  // Every value is compared, so a stray duplicate cannot shadow the good one.
  return sessions.map((s) => tokensEqual(s, secrets.session)).includes(true) ? { ok: true, by: 'cookie' } : { ok: false, problem: 'stale session' };
}

/** The values of every cookie called `name` in a Cookie header. */
function cookieValues(header: string | undefined, name: string): string[] {
  if (!header) return [];
  return header.split(';').flatMap((pair) => {
    const eq = pair.indexOf('=');
    return eq > 0 && pair.slice(0, eq).trim() === name ? [pair.slice(eq + 1).trim()] : [];
  });
}

export type UpgradeVerdict = { ok: true } | { ok: false; status: 403 | 404; reason: string };

const UPGRADE_REFUSALS: Record<AccessProblem, string> = {
  'no token': 'no session cookie and no token',
  'wrong token': 'wrong token',
  'stale session': 'session cookie from an earlier start of this host',
};

/** Decides a WebSocket upgrade before it happens, so a refused client never gets a socket. */
export function checkUpgrade(req: IncomingMessage, secrets: HostSecrets, path: string): UpgradeVerdict {
  const url = requestUrl(req);
  if (!url || url.pathname !== path) return { ok: false, status: 404, reason: 'no such endpoint' };
  if (!isAllowedHost(req.headers.host, secrets.port)) return { ok: false, status: 403, reason: 'Host not allowed' };
  const origin = req.headers.origin;
  if (origin === undefined || !allowedOrigins(secrets.port).has(origin)) return { ok: false, status: 403, reason: 'Origin not allowed' };
  const access = checkAccess(req, url, secrets);
  return access.ok ? { ok: true } : { ok: false, status: 403, reason: UPGRADE_REFUSALS[access.problem] };
}

/** The request's path and query as a URL, or null when it cannot be parsed. */
export function requestUrl(req: IncomingMessage): URL | null {
  try {
    return new URL(req.url ?? '/', 'http://127.0.0.1');
  } catch {
    return null;
  }
}
