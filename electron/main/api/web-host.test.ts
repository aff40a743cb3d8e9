// The browser-mode transport end to end: a real web host on 127.0.0.1 in front of a small
// in-test backend, reached by the renderer's own WebSocket client (run in Node with the `ws`
// package) and by raw HTTP requests for everything a browser would not let us forge.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { LoomApiError, OUTPUT_FRAME_PROTOCOL, type LoomEvent } from '../../../shared/api';
import { readOutputFrame } from '../../../shared/output-frame';
import { createWsClient, type WsLoomClient } from '../../../renderer/src/api/ws-client';
import { RENDERER_CSP } from './static-files';
import { createTestBackend, TEST_RUN, TEST_STATUS, type TestBackend } from './test-backend';
import { startWebHost, type WebHost, type WebHostOptions } from './web-host';

const INDEX_HTML = '<!doctype html><html><head><title>Loom test page</title></head><body><div id="root"></div></body></html>\n';
const APP_JS = 'console.log("loom");\n';
const SECRET = 'the project package.json: must never be served';

let work = '';
let rendererDir = '';

beforeAll(async () => {
  // work/package.json sits right above the served directory: the traversal target.
  work = await mkdtemp(join(tmpdir(), 'loom-web-host-'));
  rendererDir = join(work, 'renderer');
  await mkdir(join(rendererDir, 'assets'), { recursive: true });
  await writeFile(join(work, 'package.json'), SECRET);
  await writeFile(join(rendererDir, 'index.html'), INDEX_HTML);
  await writeFile(join(rendererDir, 'assets', 'app-1234.js'), APP_JS);
  await writeFile(join(rendererDir, 'assets', 'style.css'), 'body{}');
  await writeFile(join(rendererDir, '.env'), 'SECRET=1');
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Everything a test opened, closed after it whatever happened. */
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function host(options: Partial<WebHostOptions> = {}): Promise<{ host: WebHost; backend: TestBackend }> {
  const backend = (options.backend as TestBackend | undefined) ?? createTestBackend();
  const h = await startWebHost({ rendererDir, ...options, backend });
  cleanups.push(() => h.close());
  return { host: h, backend };
}

const origin = (h: WebHost) => `http://127.0.0.1:${h.port}`;
const apiUrl = (h: WebHost, token = h.token) => `ws://127.0.0.1:${h.port}/api?token=${token}`;

/** The renderer's client, with the Origin header a browser would send for our page. */
function client(h: WebHost, originHeader = origin(h), url = apiUrl(h)): WsLoomClient {
  const c = createWsClient({ url, createSocket: (u) => new WebSocket(u, { origin: originHeader }), reconnectDelayMs: { initial: 50, max: 200 } });
  cleanups.push(() => c.close());
  return c;
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A raw HTTP request: the path goes out exactly as written (no normalisation of '..'). */
function http(port: number, path: string, headers: OutgoingHttpHeaders = {}, method = 'GET'): Promise<Answer> {
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', fail);
    req.end();
  });
}

/** A WebSocket upgrade with headers of our choosing: 101 when accepted, else the refusal's status. */
function upgrade(port: number, path: string, headers: OutgoingHttpHeaders): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path,
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': randomBytes(16).toString('base64'), ...headers },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      done({ status: res.statusCode ?? 0, body: '' });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', fail);
    req.end();
  });
}

/** The exchange a browser makes with the printed address; returns the Cookie header it then sends. */
async function session(h: WebHost): Promise<string> {
  const res = await http(h.port, `/?token=${h.token}`);
  const cookie = res.headers['set-cookie']?.[0]?.split(';', 1)[0];
  if (res.status !== 200 || !cookie) throw new Error(`the exchange answered ${res.status} without a cookie`);
  return cookie;
}

/** A raw socket to /api, open once the host accepted it. */
async function rawSocket(h: WebHost, protocols: string[] = []): Promise<WebSocket> {
  const ws = new WebSocket(apiUrl(h), protocols, { origin: origin(h) });
  cleanups.push(() => ws.terminate());
  await new Promise<void>((done, fail) => {
    ws.once('open', () => done());
    ws.once('error', fail);
  });
  return ws;
}

function nextMessage(ws: WebSocket): Promise<Record<string, unknown>> {
  return new Promise((done) => ws.once('message', (data: Buffer) => done(JSON.parse(data.toString('utf8')) as Record<string, unknown>)));
}

function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((done) => ws.once('close', (code: number, reason: Buffer) => done({ code, reason: reason.toString() })));
}

async function rejection(promise: Promise<unknown>): Promise<LoomApiError> {
  const err = await promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LoomApiError);
  return err as LoomApiError;
}

/** Polls until check() is true: for things that happen on the other side of a socket. */
async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 10));
  }
}

/**
 * A socket that did not read got one run.skipped event, and around it the output, in order, as
 * the program wrote it: what came, the count of what did not, then the newest, up to `held`
 * bytes (less up to 3: what is kept starts with a whole UTF-8 character). `bytesOf` reads one
 * event's output bytes (undefined for an event that carries none).
 */
function expectSkipAccounted(events: LoomEvent[], sent: Buffer, held: number, bytesOf: (e: LoomEvent) => Buffer | undefined): { skip: Extract<LoomEvent, { type: 'run.skipped' }>; before: Buffer } {
  const skips = events.filter((e) => e.type === 'run.skipped');
  expect(skips).toHaveLength(1);
  const skip = skips[0] as Extract<LoomEvent, { type: 'run.skipped' }>;
  const at = events.indexOf(skip);
  const joined = (list: LoomEvent[]): Buffer => Buffer.concat(list.flatMap((e) => bytesOf(e) ?? []));
  const before = joined(events.slice(0, at));
  const after = joined(events.slice(at + 1));
  expect(before.length + skip.stdoutBytes + after.length).toBe(sent.length);
  expect(before.equals(sent.subarray(0, before.length))).toBe(true);
  expect(after.equals(sent.subarray(before.length + skip.stdoutBytes))).toBe(true);
  expect(after.length).toBeLessThanOrEqual(held);
  expect(after.length).toBeGreaterThanOrEqual(held - 3);
  return { skip, before };
}

describe('web host: listening', () => {
  it('listens on 127.0.0.1 only, on a random port by default, with a fresh 64-hex-digit token', async () => {
    const { host: a } = await host();
    const { host: b } = await host();
    expect(a.address).toMatchObject({ address: '127.0.0.1', family: 'IPv4' });
    expect(a.port).toBeGreaterThan(0);
    expect(a.port).not.toBe(b.port);
    expect(a.token).toMatch(/^[0-9a-f]{64}$/);
    expect(a.token).not.toBe(b.token);
    expect(a.url).toBe(`http://127.0.0.1:${a.port}/?token=${a.token}`);

    // Not reachable on another address of this machine.
    const other = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    if (other) {
      const err = await new Promise<NodeJS.ErrnoException>((done) => {
        const req = request({ host: other.address, port: a.port, path: '/' }, () => done(new Error('answered') as NodeJS.ErrnoException));
        req.on('error', (e) => done(e));
        req.end();
      });
      expect(err.code).toBe('ECONNREFUSED');
    }
  });

  it('refuses a token shorter than 32 characters', async () => {
    await expect(startWebHost({ backend: createTestBackend(), token: 'short' })).rejects.toThrow(/at least 32/);
  });

  it('a port in use is an EADDRINUSE rejection (loom ui falls back on it)', async () => {
    const { host: a } = await host();
    await expect(startWebHost({ backend: createTestBackend(), port: a.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});

describe('web host: static files', () => {
  it('serves index.html with the CSP header, the page CSP plus its WebSocket', async () => {
    const { host: h } = await host();
    const Cookie = await session(h);
    const res = await http(h.port, '/', { Cookie });
    expect(res.status).toBe(200);
    expect(res.body).toBe(INDEX_HTML);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toBe(`${RENDERER_CSP}; connect-src 'self' ws://127.0.0.1:${h.port}`);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect((await http(h.port, '/index.html', { Cookie })).body).toBe(INDEX_HTML);
  });

  it('the header CSP starts from exactly the meta CSP of renderer/index.html', () => {
    const html = readFileSync(resolve(import.meta.dirname, '../../../renderer/index.html'), 'utf8');
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]*)"/.exec(html);
    expect(meta?.[1]).toBe(RENDERER_CSP);
  });

  it('serves assets with their content types, HEAD without a body', async () => {
    const { host: h } = await host();
    const Cookie = await session(h);
    const js = await http(h.port, '/assets/app-1234.js', { Cookie });
    expect(js).toMatchObject({ status: 200, body: APP_JS });
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await http(h.port, '/assets/style.css', { Cookie })).headers['content-type']).toBe('text/css; charset=utf-8');
    const head = await http(h.port, '/assets/app-1234.js', { Cookie }, 'HEAD');
    expect(head).toMatchObject({ status: 200, body: '' });
    expect(head.headers['content-length']).toBe(String(APP_JS.length));
  });

  it.each([
    '/../package.json',
    '/%2e%2e/package.json',
    '/%2E%2E/package.json',
    '/assets/../../package.json',
    '/assets/%2e%2e/%2e%2e/package.json',
    '/..%2fpackage.json',
    '/%2e%2e%2fpackage.json',
    '/..%5cpackage.json',
    '/assets/..%5c..%5cpackage.json',
    '/%00index.html',
    '/%zz',
  ])('refuses path traversal: %s', async (path) => {
    const { host: h } = await host();
    // With the session: the refusal must come from the file lookup, not from the access check.
    const res = await http(h.port, path, { Cookie: await session(h) });
    expect([400, 403]).toContain(res.status);
    expect(res.body).not.toContain(SECRET);
  });

  it('missing files and dotfiles are 404; other methods 405; GET /api 426', async () => {
    const { host: h } = await host();
    const Cookie = await session(h);
    expect((await http(h.port, '/nope.js', { Cookie })).status).toBe(404);
    expect((await http(h.port, '/.env', { Cookie })).status).toBe(404);
    expect((await http(h.port, '/', { Cookie }, 'POST')).status).toBe(405);
    expect((await http(h.port, '/api', { Cookie })).status).toBe(426);
  });

  it('refuses a foreign Host header (DNS rebinding), also for files', async () => {
    const { host: h } = await host();
    const Cookie = await session(h);
    const res = await http(h.port, '/', { Host: 'evil.example', Cookie });
    expect(res.status).toBe(403);
    expect(res.body).not.toContain('Loom test page');
    expect((await http(h.port, '/', { Host: `evil.example:${h.port}`, Cookie })).status).toBe(403);
    // Not even the exchange: a rebinding page that somehow had the token gets no cookie.
    const exchange = await http(h.port, `/?token=${h.token}`, { Host: `evil.example:${h.port}` });
    expect(exchange.status).toBe(403);
    expect(exchange.headers['set-cookie']).toBeUndefined();
    expect((await http(h.port, '/', { Host: `localhost:${h.port}`, Cookie })).status).toBe(200);
  });

  it('without a renderer directory only /api answers', async () => {
    const { host: h } = await host({ rendererDir: undefined });
    expect((await http(h.port, '/', { Cookie: await session(h) })).status).toBe(404);
  });
});

describe('web host: the token is swapped for a session cookie', () => {
  /** The address a page's refresh goes to, unescaped. */
  const refreshTarget = (html: string): string | undefined =>
    /<meta http-equiv="refresh" content="0; url=([^"]*)">/.exec(html)?.[1]?.replace(/&#(\d+);/g, (_m, code: string) => String.fromCharCode(Number(code)));

  it('the printed address sets an HttpOnly, SameSite=Strict cookie named after the port, and sends the page on without the token', async () => {
    const { host: h } = await host();
    const res = await http(h.port, `/?token=${h.token}`);
    expect(res.status).toBe(200);
    const cookies = res.headers['set-cookie'] ?? [];
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatch(new RegExp(`^loom-session-${h.port}=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Strict$`));
    // The cookie is a session secret of its own: the token never comes back from the host.
    expect(cookies[0]).not.toContain(h.token);
    expect(res.body).not.toContain(h.token);
    // Not the app: an address with the token never becomes the page's address.
    expect(res.body).not.toContain('Loom test page');
    expect(refreshTarget(res.body)).toBe(`http://127.0.0.1:${h.port}/`);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
  });

  it('keeps the rest of the address, on this host whatever the path looks like', async () => {
    const { host: h } = await host();
    const target = async (path: string, hostHeader = `127.0.0.1:${h.port}`) => refreshTarget((await http(h.port, path, { Host: hostHeader })).body);
    expect(await target(`/assets/app-1234.js?a=1&token=${h.token}&b=%3Cx%3E`)).toBe(`http://127.0.0.1:${h.port}/assets/app-1234.js?a=1&b=%3Cx%3E`);
    expect(await target(`/?token=${h.token}`, `LOCALHOST:${h.port}`)).toBe(`http://localhost:${h.port}/`);
    expect(await target(`//evil.example/?token=${h.token}`)).toBe(`http://127.0.0.1:${h.port}/`);
    expect(await target(`/.//evil.example/?token=${h.token}`)).toBe(`http://127.0.0.1:${h.port}//evil.example/`);
  });

  it('the cookie alone then opens every file; a host started again with the token knows it, one with a new token does not', async () => {
    const { host: a } = await host();
    const Cookie = await session(a);
    expect(await http(a.port, '/', { Cookie })).toMatchObject({ status: 200, body: INDEX_HTML });
    expect(await http(a.port, '/assets/app-1234.js', { Cookie })).toMatchObject({ status: 200, body: APP_JS });
    // The same again on exchange: one session per token, whichever browser swaps it.
    expect(await session(a)).toBe(Cookie);
    expect(Cookie).not.toContain(a.token);

    // The same token (a web host started again, as a page's WebSocket reconnects): the same session.
    const { host: b } = await host({ token: a.token });
    const sameOnB = Cookie.replace(`${a.port}=`, `${b.port}=`);
    expect(await session(b)).toBe(sameOnB);
    expect(await http(b.port, '/', { Cookie: sameOnB })).toMatchObject({ status: 200, body: INDEX_HTML });
    // A new token (a new `loom ui`): an earlier session is stale.
    const { host: c } = await host();
    expect((await http(c.port, '/', { Cookie: Cookie.replace(`${a.port}=`, `${c.port}=`) })).status).toBe(403);
  });

  it.each([
    ['neither token nor cookie', (_h: WebHost, _cookie: string) => ({ path: '/', headers: {} }), 'has not been given access'],
    ['a wrong token, even with the right cookie', (_h: WebHost, Cookie: string) => ({ path: `/?token=${'0'.repeat(64)}`, headers: { Cookie } }), 'not the one this Loom host printed'],
    ['an empty token', (_h: WebHost, _cookie: string) => ({ path: '/?token=', headers: {} }), 'not the one this Loom host printed'],
    ['a cookie of another value', (h: WebHost, _cookie: string) => ({ path: '/', headers: { Cookie: `loom-session-${h.port}=${'0'.repeat(64)}` } }), 'earlier start'],
    ['the right value under another port\'s name', (h: WebHost, Cookie: string) => ({ path: '/', headers: { Cookie: Cookie.replace(`${h.port}=`, `${h.port + 1}=`) } }), 'has not been given access'],
    ['the token as the cookie', (h: WebHost, _cookie: string) => ({ path: '/', headers: { Cookie: `loom-session-${h.port}=${h.token}` } }), 'earlier start'],
  ])('refuses %s with a 403 page that says where the address is', async (_what, make, why) => {
    const { host: h } = await host();
    const { path, headers } = make(h, await session(h));
    for (const file of [path, path.replace('/', '/assets/app-1234.js')]) {
      const res = await http(h.port, file, headers);
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(res.body).toContain(why);
      expect(res.body).toContain(`http://127.0.0.1:${h.port}/?token=…`);
      expect(res.body).toContain('<code>loom ui</code>');
      expect(res.body).not.toContain(h.token);
      expect(res.body).not.toContain('Loom test page');
      expect(res.body).not.toContain(APP_JS);
    }
  });

  it('each host reads only the cookie named after its port, with others in the same header (one browser, two loom ui)', async () => {
    const { host: a } = await host();
    const { host: b } = await host();
    const both = `${await session(a)}; ${await session(b)}`;
    expect(both).toContain(`loom-session-${a.port}=`);
    expect(both).toContain(`loom-session-${b.port}=`);
    expect((await http(a.port, '/', { Cookie: both })).status).toBe(200);
    expect((await http(b.port, '/', { Cookie: both })).status).toBe(200);
    // A stale duplicate next to the good one does not shadow it.
    expect((await http(a.port, '/', { Cookie: `loom-session-${a.port}=stale; ${both}` })).status).toBe(200);
  });
});

describe('web host: who may open the WebSocket', () => {
  it('accepts the right token from our own origin (127.0.0.1 or localhost)', async () => {
    const { host: h } = await host();
    expect((await upgrade(h.port, `/api?token=${h.token}`, { Origin: origin(h) })).status).toBe(101);
    expect((await upgrade(h.port, `/api?token=${h.token}`, { Origin: `http://localhost:${h.port}`, Host: `localhost:${h.port}` })).status).toBe(101);
  });

  it('accepts the session cookie alone, from our own origin only', async () => {
    const { host: h } = await host();
    const Cookie = await session(h);
    expect((await upgrade(h.port, '/api', { Origin: origin(h), Cookie })).status).toBe(101);
    // SameSite does not separate ports: another local server's page sends this cookie too. The Origin check stops it.
    expect((await upgrade(h.port, '/api', { Origin: `http://127.0.0.1:${h.port + 1}`, Cookie })).status).toBe(403);
    expect((await upgrade(h.port, '/api', { Origin: 'http://evil.example', Cookie })).status).toBe(403);
    expect((await upgrade(h.port, '/api', { Cookie })).status).toBe(403);
  });

  it('the renderer client over the cookie, as the page connects: no token in its address', async () => {
    const { host: h } = await host();
    const Cookie = await session(h);
    const c = createWsClient({ url: `ws://127.0.0.1:${h.port}/api`, createSocket: (u) => new WebSocket(u, { origin: origin(h), headers: { Cookie } }) });
    cleanups.push(() => c.close());
    expect(await c.engineStatus()).toEqual(TEST_STATUS);
  });

  it.each([
    ['no token', (h: WebHost) => ({ path: '/api', headers: { Origin: origin(h) } })],
    ['an empty token', (h: WebHost) => ({ path: '/api?token=', headers: { Origin: origin(h) } })],
    ['a wrong token', (h: WebHost) => ({ path: `/api?token=${'0'.repeat(64)}`, headers: { Origin: origin(h) } })],
    ['a token one character short', (h: WebHost) => ({ path: `/api?token=${h.token.slice(1)}`, headers: { Origin: origin(h) } })],
    ['an Origin of http://evil.example', (h: WebHost) => ({ path: `/api?token=${h.token}`, headers: { Origin: 'http://evil.example' } })],
    ['an Origin on another port', (h: WebHost) => ({ path: `/api?token=${h.token}`, headers: { Origin: `http://127.0.0.1:${h.port + 1}` } })],
    ['an https Origin', (h: WebHost) => ({ path: `/api?token=${h.token}`, headers: { Origin: `https://127.0.0.1:${h.port}` } })],
    ['the string "null" as Origin', (h: WebHost) => ({ path: `/api?token=${h.token}`, headers: { Origin: 'null' } })],
    ['no Origin', (h: WebHost) => ({ path: `/api?token=${h.token}`, headers: {} })],
    ['a Host of evil.example', (h: WebHost) => ({ path: `/api?token=${h.token}`, headers: { Origin: origin(h), Host: 'evil.example' } })],
    ['a session cookie of another value', (h: WebHost) => ({ path: '/api', headers: { Origin: origin(h), Cookie: `loom-session-${h.port}=${'0'.repeat(64)}` } })],
    ['the token as the session cookie', (h: WebHost) => ({ path: '/api', headers: { Origin: origin(h), Cookie: `loom-session-${h.port}=${h.token}` } })],
  ])('refuses %s with 403 before the upgrade', async (_what, make) => {
    const { host: h, backend } = await host();
    const { path, headers } = make(h);
    const res = await upgrade(h.port, path, headers);
    expect(res.status).toBe(403);
    expect(res.body).not.toContain(h.token);
    // And the backend never heard of it.
    expect(backend.calls).toEqual([]);
  });

  it.each<[string, (h: WebHost) => [string, string]]>([
    ['a wrong token', (h) => [apiUrl(h, 'f'.repeat(64)), origin(h)]],
    ['a wrong origin', (h) => [apiUrl(h), 'http://evil.example']],
  ])('a ws client with %s never opens', async (_what, attempt) => {
    const { host: h } = await host();
    const [url, from] = attempt(h);
    const ws = new WebSocket(url, { origin: from });
    const outcome = await new Promise<string>((done) => {
      ws.once('open', () => done('open'));
      ws.once('error', (err) => done(err.message));
    });
    expect(outcome).toBe('Unexpected server response: 403');
  });

  it('another path than /api is 404', async () => {
    const { host: h } = await host();
    expect((await upgrade(h.port, `/ws?token=${h.token}`, { Origin: origin(h) })).status).toBe(404);
  });

  it('the renderer client says what is wrong when it cannot connect (token kept out of the message)', async () => {
    const { host: h } = await host();
    const c = client(h, origin(h), apiUrl(h, 'a'.repeat(64)));
    const err = await rejection(c.engineStatus());
    expect(err.name).toBe('ConnectionError');
    expect(err.message).toContain(`ws://127.0.0.1:${h.port}/api`);
    expect(err.message).not.toContain('a'.repeat(64));
  });
});

describe('web host: calls and events through the renderer client', () => {
  it('a call gets its result', async () => {
    const { host: h, backend } = await host();
    const c = client(h);
    expect(await c.engineStatus()).toEqual(TEST_STATUS);
    expect(await c.listRuns()).toEqual([TEST_RUN]);
    const runId = '0b5f1c1e-5d8a-4a39-9a41-3f4f2b8c6d10';
    expect(await c.startRun(runId, { command: ['python3', '-c', 'print(1)'] })).toEqual({ ...TEST_RUN, id: runId });
    expect(await c.cancelRun('run-1')).toBeUndefined();
    expect(await c.getRun('missing')).toBeNull();
    expect(backend.calls.map((x) => x.method)).toEqual(['engineStatus', 'listRuns', 'startRun', 'cancelRun', 'getRun']);
    expect(backend.calls[2]?.args).toEqual([runId, { command: ['python3', '-c', 'print(1)'] }]);
  });

  it('concurrent calls are matched to their replies', async () => {
    const { host: h } = await host();
    const c = client(h);
    const [slow, status, pruned] = await Promise.all([c.getRun('slow'), c.engineStatus(), c.pruneContainers()]);
    expect(slow).toBeNull();
    expect(status).toEqual(TEST_STATUS);
    expect(pruned).toEqual({ removed: 2 });
  });

  it('a ValidationError arrives as a LoomApiError with the same name, message and fields', async () => {
    const { host: h } = await host();
    const c = client(h);
    const err = await rejection(c.startRun(TEST_RUN.id, { command: ['true'], config: { resourceLimits: { memoryMb: '-1' } } }));
    expect(err.name).toBe('ValidationError');
    expect(err.message).toBe('config.resource_limits.memory_mb: must be positive');
    expect(err.fields).toEqual({ field: 'config.resource_limits.memory_mb', problem: 'must be positive' });
    // A plain Error too.
    const plain = await rejection(c.removeContainer('abc'));
    expect(plain).toMatchObject({ name: 'Error', message: 'no container abc', fields: {} });
  });

  it('events pushed by the backend arrive, in order, at every connected client', async () => {
    const { host: h, backend } = await host();
    const [a, b] = [client(h), client(h)];
    const seenA: LoomEvent[] = [];
    const seenB: LoomEvent[] = [];
    a.onEvent((e) => seenA.push(e));
    const off = b.onEvent((e) => seenB.push(e));
    await Promise.all([a.engineStatus(), b.engineStatus()]);
    const events: LoomEvent[] = [
      { type: 'run.event', runId: 'run-1', event: { stdout: 'aGk=' } },
      { type: 'pool.changed' },
      { type: 'run.finished', run: { ...TEST_RUN, status: 'ok', exitCode: 0 } },
      { type: 'run.finished', run: { ...TEST_RUN, status: 'cancelled' }, error: { name: 'AbortedError', message: 'the run was cancelled' } },
    ];
    for (const e of events) backend.emit(e);
    await until(() => seenA.length === 4 && seenB.length === 4, 'the events');
    expect(seenA).toEqual(events);
    expect(seenB).toEqual(events);

    off();
    backend.emit({ type: 'pool.changed' });
    await until(() => seenA.length === 5, 'the fifth event');
    expect(seenB).toHaveLength(4);
  });

  it('an unknown method is an error naming "method"; args that are not an array name "args"', async () => {
    const { host: h, backend } = await host();
    const ws = await rawSocket(h);
    ws.send(JSON.stringify({ id: 7, method: 'close', args: [] }));
    expect(await nextMessage(ws)).toMatchObject({ id: 7, error: { name: 'ValidationError', field: 'method' } });
    ws.send(JSON.stringify({ id: 8, method: 'listRuns', args: 'x' }));
    expect(await nextMessage(ws)).toMatchObject({ id: 8, error: { name: 'ValidationError', field: 'args' } });
    ws.send(JSON.stringify({ id: 9, method: 'listRuns', args: [] }));
    expect(await nextMessage(ws)).toEqual({ id: 9, result: [TEST_RUN] });
    expect(backend.calls.map((c) => c.method)).toEqual(['listRuns']);
  });

  it.each<[string, string | Buffer, number]>([
    ['not JSON', 'not json', 1008],
    ['without an id', JSON.stringify({ method: 'listRuns', args: [] }), 1008],
    ['an array', JSON.stringify([1, 'listRuns', []]), 1008],
    ['binary', Buffer.from('{"id":1}'), 1003],
  ])('a frame that is %s closes with %i (1008: no numeric id, or not JSON; 1003: binary)', async (_what, frame, code) => {
    const { host: h } = await host();
    const ws = await rawSocket(h);
    const closed = closeOf(ws);
    ws.send(frame);
    expect((await closed).code).toBe(code);
  });

  it('a frame over the size limit closes the socket (1009)', async () => {
    const { host: h } = await host({ limits: { maxFrameBytes: 1024 } });
    const ws = await rawSocket(h);
    const closed = closeOf(ws);
    ws.send(JSON.stringify({ id: 1, method: 'startRun', args: [TEST_RUN.id, { command: ['x'.repeat(2000)] }] }));
    expect((await closed).code).toBe(1009);
  });

  it('calls past the per-connection limit are answered at once with TooManyCallsError', async () => {
    const { host: h } = await host({ limits: { maxCallsPerConnection: 2 } });
    const c = client(h);
    const results = await Promise.allSettled([c.getRun('slow'), c.getRun('slow'), c.getRun('slow')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    const third = results[2];
    expect(third?.status === 'rejected' && third.reason).toMatchObject({ name: 'TooManyCallsError', fields: { limit: 2 } });
    // The limit is on calls in flight, not in total.
    expect(await c.getRun('slow')).toBeNull();
  });

  it('a socket that does not read gets the newest output after a count of what was left out, in order, then the state changes', async () => {
    const held = 1024 * 1024;
    const { host: h, backend } = await host({ limits: { eventBufferBytes: 64 * 1024, heldOutputBytes: held } });
    const ws = await rawSocket(h);
    const frames: Record<string, unknown>[] = [];
    ws.on('message', (data: Buffer) => frames.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>));
    ws.pause();
    const chunks = Array.from({ length: 300 }, () => randomBytes(96 * 1024)); // ~28 MB: far past what loopback socket buffers hold
    for (const chunk of chunks) backend.emit({ type: 'run.event', runId: 'run-1', event: { stdout: chunk.toString('base64') } });
    backend.emit({ type: 'pool.changed' });
    backend.emit({ type: 'run.finished', run: { ...TEST_RUN, status: 'ok' } });
    ws.send(JSON.stringify({ id: 1, method: 'engineStatus', args: [] }));
    ws.resume();
    await until(() => frames.some((f) => (f['event'] as LoomEvent | undefined)?.type === 'run.finished'), 'the end of the run', 20_000);
    await until(() => frames.some((f) => f['id'] === 1), 'the reply', 20_000);
    expect(frames.find((f) => f['id'] === 1)).toEqual({ id: 1, result: TEST_STATUS });

    const events = frames.flatMap((f) => (f['event'] ? [f['event'] as LoomEvent] : []));
    // The state changes come after all the output, as they were emitted.
    expect(events.slice(-2).map((e) => e.type)).toEqual(['pool.changed', 'run.finished']);
    const sent = Buffer.concat(chunks);
    const { skip, before } = expectSkipAccounted(events, sent, held, (e) => (e.type === 'run.event' ? Buffer.from(e.event.stdout ?? '', 'base64') : undefined));
    expect(skip).toMatchObject({ runId: 'run-1', stderrBytes: 0 });
    let lines = 0;
    for (const byte of sent.subarray(before.length, before.length + skip.stdoutBytes)) if (byte === 10) lines++;
    expect(skip.lines).toBe(lines);
    // Sent as pieces a page parses in one short task.
    const outputs = events.filter((e) => e.type === 'run.event');
    expect(Math.max(...outputs.slice(outputs.length - 4).map((e) => (e.type === 'run.event' ? Buffer.from(e.event.stdout ?? '', 'base64').length : 0)))).toBeLessThanOrEqual(256 * 1024);
  });

  it('a socket that keeps up gets every output event as it was emitted', async () => {
    const { host: h, backend } = await host();
    const c = client(h);
    const seen: LoomEvent[] = [];
    c.onEvent((e) => seen.push(e));
    await c.engineStatus();
    const emitted: LoomEvent[] = [];
    for (let i = 0; i < 200; i++) emitted.push({ type: 'run.event', runId: 'run-1', event: i % 3 ? { stdout: randomBytes(1000).toString('base64') } : { stderr: randomBytes(10).toString('base64') } });
    emitted.push({ type: 'run.finished', run: { ...TEST_RUN, status: 'ok' } });
    for (const e of emitted) backend.emit(e);
    await until(() => seen.length === emitted.length, 'every event');
    expect(seen).toEqual(emitted);
  });
});

describe('web host: output as binary frames (OUTPUT_FRAME_PROTOCOL)', () => {
  /** Every frame as the event it stands for: a binary one as its 'run.output'. */
  function eventsOf(ws: WebSocket): { events: LoomEvent[]; replies: Record<string, unknown>[]; binaryBytes: number[] } {
    const seen = { events: [] as LoomEvent[], replies: [] as Record<string, unknown>[], binaryBytes: [] as number[] };
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) {
        const output = readOutputFrame(data);
        if (!output) throw new Error('a binary frame that is not an output frame');
        seen.binaryBytes.push(output.bytes.length);
        seen.events.push({ type: 'run.output', ...output, bytes: Buffer.from(output.bytes) });
        return;
      }
      const frame = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
      if (frame['event']) seen.events.push(frame['event'] as LoomEvent);
      else seen.replies.push(frame);
    });
    return seen;
  }

  it('a client that names it gets each output event as bytes in a binary frame, in order with the JSON events; others get JSON', async () => {
    const { host: h, backend } = await host();
    const binary = await rawSocket(h, [OUTPUT_FRAME_PROTOCOL]);
    const plain = await rawSocket(h);
    expect(binary.protocol).toBe(OUTPUT_FRAME_PROTOCOL);
    expect(plain.protocol).toBe('');
    const fromBinary = eventsOf(binary);
    const fromPlain = eventsOf(plain);
    const runId = '3f2a6c1e-0b1d-4a7e-9c1f-2d3e4f5a6b7c';
    const emitted: LoomEvent[] = [];
    for (let i = 0; i < 50; i++) {
      const bytes = randomBytes(i % 7 === 0 ? 0 : 1000 + i);
      emitted.push({ type: 'run.event', runId, event: i % 3 ? { stdout: bytes.toString('base64') } : { stderr: bytes.toString('base64') } });
      if (i % 10 === 0) emitted.push({ type: 'pool.changed' });
    }
    emitted.push({ type: 'run.event', runId, event: { phase: { phase: 'PHASE_RUNNING' } } } as LoomEvent);
    emitted.push({ type: 'run.finished', run: { ...TEST_RUN, id: runId, status: 'ok' } });
    for (const e of emitted) backend.emit(e);
    await until(() => fromBinary.events.length === emitted.length && fromPlain.events.length === emitted.length, 'every event on both sockets');
    expect(fromPlain.events).toEqual(emitted);
    expect(fromPlain.binaryBytes).toEqual([]);
    const asBytes = emitted.map((e): LoomEvent => {
      if (e.type !== 'run.event' || (e.event.stdout === undefined && e.event.stderr === undefined)) return e;
      const stream = e.event.stdout !== undefined ? 'stdout' : 'stderr';
      return { type: 'run.output', runId, stream, bytes: Buffer.from(e.event[stream] ?? '', 'base64') };
    });
    expect(fromBinary.events).toEqual(asBytes);
    expect(fromBinary.binaryBytes).toHaveLength(50);
  });

  it('the renderer client that names it hears run.output events with the bytes', async () => {
    const { host: h, backend } = await host();
    const c = createWsClient({ url: apiUrl(h), createSocket: (u) => new WebSocket(u, [OUTPUT_FRAME_PROTOCOL], { origin: origin(h) }) });
    cleanups.push(() => c.close());
    const seen: LoomEvent[] = [];
    c.onEvent((e) => seen.push(e));
    await c.engineStatus();
    const bytes = randomBytes(5000);
    backend.emit({ type: 'run.event', runId: 'run-1', event: { stdout: bytes.toString('base64') } });
    backend.emit({ type: 'pool.changed' });
    await until(() => seen.length === 2, 'both events');
    expect(seen[0]).toMatchObject({ type: 'run.output', runId: 'run-1', stream: 'stdout' });
    expect(Buffer.from((seen[0] as Extract<LoomEvent, { type: 'run.output' }>).bytes).equals(bytes)).toBe(true);
    expect(seen[1]).toEqual({ type: 'pool.changed' });
  });

  it('a socket that does not read gets the newest output as binary frames after a count of what was left out', async () => {
    const held = 1024 * 1024;
    const { host: h, backend } = await host({ limits: { eventBufferBytes: 64 * 1024, heldOutputBytes: held } });
    const ws = await rawSocket(h, [OUTPUT_FRAME_PROTOCOL]);
    const seen = eventsOf(ws);
    ws.pause();
    const chunks = Array.from({ length: 300 }, () => randomBytes(96 * 1024)); // ~28 MB
    for (const chunk of chunks) backend.emit({ type: 'run.event', runId: 'run-1', event: { stdout: chunk.toString('base64') } });
    backend.emit({ type: 'pool.changed' });
    backend.emit({ type: 'run.finished', run: { ...TEST_RUN, status: 'ok' } });
    ws.resume();
    await until(() => seen.events.some((e) => e.type === 'run.finished'), 'the end of the run', 20_000);
    const { events } = seen;
    expect(events.slice(-2).map((e) => e.type)).toEqual(['pool.changed', 'run.finished']);
    expect(events.filter((e) => e.type === 'run.event')).toEqual([]);
    expectSkipAccounted(events, Buffer.concat(chunks), held, (e) => (e.type === 'run.output' ? Buffer.from(e.bytes) : undefined));
    // What waited went in pieces of at most 256 KB, more than one chunk to a piece.
    const waited = seen.binaryBytes.slice(-4);
    expect(Math.max(...waited)).toBeLessThanOrEqual(256 * 1024);
    expect(Math.max(...waited)).toBeGreaterThan(96 * 1024);
  });
});

describe('web host: connection loss and shutdown', () => {
  it('close() disconnects clients: calls in flight fail, and the client reconnects to a new host on the same port', async () => {
    const backend = createTestBackend();
    const token = randomBytes(32).toString('hex');
    const first = await startWebHost({ backend, token });
    const c = client(first);
    const changes: boolean[] = [];
    c.onConnectionChange((up) => changes.push(up));
    expect(await c.engineStatus()).toEqual(TEST_STATUS);
    expect(backend.listenerCount()).toBe(1);

    const inFlight = rejection(c.getRun('slow'));
    await until(() => backend.calls.some((x) => x.args[0] === 'slow'), 'the slow call to arrive');
    await first.close();
    const lost = await inFlight;
    expect(lost.name).toBe('ConnectionLostError');
    expect(backend.listenerCount()).toBe(0);
    expect(changes).toEqual([true, false]);

    const second = await startWebHost({ backend, token, port: first.port });
    cleanups.push(() => second.close());
    await until(() => changes.length === 3, 'the reconnect');
    expect(changes).toEqual([true, false, true]);
    expect(await c.listRuns()).toEqual([TEST_RUN]);

    // Events flow again on the new connection.
    const seen: LoomEvent[] = [];
    c.onEvent((e) => seen.push(e));
    backend.emit({ type: 'pool.changed' });
    await until(() => seen.length === 1, 'an event after the reconnect');
  });

  it('a closed client rejects calls with ClosedError and stops reconnecting', async () => {
    const { host: h } = await host();
    const c = client(h);
    expect(await c.engineStatus()).toEqual(TEST_STATUS);
    c.close();
    expect((await rejection(c.engineStatus())).name).toBe('ClosedError');
  });
});
