// Who may drive the engine through the web host: only the page the host served, to a browser
// that opened the address it printed (the token in it is swapped for a session cookie). Checked
// from outside the way an attacker would try: a WebSocket without the token, one with the token
// from a foreign Origin, a real page of another local origin in the browser, and a DNS-rebinding
// style request with a foreign Host header. And that the token does not stay in the address.
import type { Page } from '@playwright/test';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket as NodeWebSocket } from 'ws';
import { expect, test } from './fixtures';
import { openApp, saveScreenshot } from './helpers';

type Attempt = { outcome: 'open'; reply: string } | { outcome: 'refused'; status: number } | { outcome: 'error'; message: string };

/** Opens a WebSocket from Node with the given Origin; resolves with what the host did. */
function tryWebSocket(url: string, origin: string): Promise<Attempt> {
  return new Promise((resolve) => {
    const ws = new NodeWebSocket(url, { origin, handshakeTimeout: 5000 });
    ws.on('unexpected-response', (_req, res) => {
      resolve({ outcome: 'refused', status: res.statusCode ?? 0 });
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => {
      ws.send(JSON.stringify({ id: 1, method: 'engineStatus', args: [] }));
      ws.once('message', (data: Buffer) => {
        resolve({ outcome: 'open', reply: data.toString('utf8') });
        ws.close();
      });
    });
    ws.on('error', (err) => resolve({ outcome: 'error', message: err.message }));
  });
}

/** A plain HTTP GET with the Host header (and cookie) of our choosing. */
function httpGet(port: number, path: string, host: string, cookie?: string): Promise<{ status: number; body: string; setCookie: string[] }> {
  return new Promise((resolve, reject) => {
    const headers = cookie === undefined ? { Host: host } : { Host: host, Cookie: cookie };
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, setCookie: res.headers['set-cookie'] ?? [] }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** What a WebSocket opened by the page's own script did: opened (and answered), or failed. */
async function browserWebSocket(page: Page, url: string): Promise<{ opened: boolean; closeCode: number | null; reply: string | null }> {
  return page.evaluate(
    (target) =>
      new Promise<{ opened: boolean; closeCode: number | null; reply: string | null }>((resolve) => {
        let opened = false;
        const ws = new WebSocket(target);
        const timer = setTimeout(() => resolve({ opened, closeCode: null, reply: null }), 10_000);
        ws.onopen = () => {
          opened = true;
          ws.send(JSON.stringify({ id: 7, method: 'engineStatus', args: [] }));
        };
        ws.onmessage = (event) => {
          clearTimeout(timer);
          resolve({ opened, closeCode: null, reply: String(event.data) });
          ws.close();
        };
        ws.onclose = (event) => {
          clearTimeout(timer);
          resolve({ opened, closeCode: event.code, reply: null });
        };
      }),
    url,
  );
}

test('the API socket needs the token and the host’s own Origin', async ({ loom }) => {
  const api = `ws://127.0.0.1:${loom.port}/api`;

  // Control: the token and the right Origin get an answer, so the refusals below are refusals.
  const good = await tryWebSocket(`${api}?token=${loom.token}`, loom.origin);
  expect(good.outcome).toBe('open');
  expect(good.outcome === 'open' && JSON.parse(good.reply)).toMatchObject({ id: 1, result: { ok: true } });

  expect(await tryWebSocket(api, loom.origin)).toEqual({ outcome: 'refused', status: 403 });
  expect(await tryWebSocket(`${api}?token=`, loom.origin)).toEqual({ outcome: 'refused', status: 403 });
  expect(await tryWebSocket(`${api}?token=${'0'.repeat(64)}`, loom.origin)).toEqual({ outcome: 'refused', status: 403 });
  expect(await tryWebSocket(`${api}?token=${loom.token}`, 'http://evil.example')).toEqual({ outcome: 'refused', status: 403 });
  expect(await tryWebSocket(`${api}?token=${loom.token}`, `http://127.0.0.1:${loom.port + 1}`)).toEqual({ outcome: 'refused', status: 403 });
  expect(await tryWebSocket(`${api}?token=${loom.token}`, 'null')).toEqual({ outcome: 'refused', status: 403 });
});

test('plain HTTP with a foreign Host header (DNS rebinding) gets 403', async ({ loom }) => {
  // Control: the printed address gives the cookie, and the cookie the page.
  const own = `127.0.0.1:${loom.port}`;
  const exchange = await httpGet(loom.port, `/?token=${loom.token}`, own);
  const cookie = exchange.setCookie[0]?.split(';', 1)[0] ?? '';
  expect(cookie).toMatch(new RegExp(`^${loom.cookieName}=`));
  const ok = await httpGet(loom.port, '/', own, cookie);
  expect(ok.status).toBe(200);
  expect(ok.body).toContain('<div id="root">');

  for (const host of [`evil.example:${loom.port}`, 'evil.example', `127.0.0.1:${loom.port + 1}`, `attacker.127.0.0.1.nip.io:${loom.port}`]) {
    const res = await httpGet(loom.port, '/', host, cookie);
    expect(res.status, `Host: ${host}`).toBe(403);
    expect(res.body).not.toContain('<div id="root">');
    expect((await httpGet(loom.port, `/?token=${loom.token}`, host)).setCookie, `no cookie for Host: ${host}`).toEqual([]);
  }
  expect((await httpGet(loom.port, '/index.html', `evil.example:${loom.port}`, cookie)).status).toBe(403);
  // /api is a WebSocket endpoint only.
  expect((await httpGet(loom.port, '/api', own, cookie)).status).toBe(426);
});

test('a page from another local origin cannot open the API socket, even holding the token', async ({ page, loom }) => {
  const target = `ws://127.0.0.1:${loom.port}/api?token=${loom.token}`;

  const byCookie = `ws://127.0.0.1:${loom.port}/api`;

  // Control: from the page the host served, the same script connects and gets an answer, with
  // the token or with the cookie alone (as the app does).
  await openApp(page, loom);
  for (const url of [target, byCookie]) {
    const own = await browserWebSocket(page, url);
    expect(own.opened, url).toBe(true);
    expect(JSON.parse(own.reply ?? '{}')).toMatchObject({ id: 7, result: { ok: true } });
  }

  // Another server on this machine, another port: another origin, as any local web page is.
  const evil: Server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>Not Loom</title><h1>A page from another origin</h1>');
  });
  await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = evil.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/`);
    await expect(page).toHaveTitle('Not Loom');
    // Another port of 127.0.0.1 is the same site: its handshake carries the session cookie too,
    // and only the Origin check stands in the way.
    for (const url of [target, byCookie]) {
      const foreign = await browserWebSocket(page, url);
      expect(foreign.opened, 'a foreign page must never get an open socket').toBe(false);
      expect(foreign.reply).toBeNull();
      // The handshake was refused: the browser reports an abnormal closure.
      expect(foreign.closeCode).toBe(1006);
    }
  } finally {
    await new Promise<void>((resolve) => evil.close(() => resolve()));
  }
});

test('the token is swapped for a cookie: gone from the address and the history, and a reload still works', async ({ page, loom }) => {
  await openApp(page, loom);
  expect(page.url()).toBe(`http://127.0.0.1:${loom.port}/`);

  const cookies = await page.context().cookies();
  expect(cookies.map((c) => c.name)).toEqual([loom.cookieName]);
  const [session] = cookies;
  expect(session).toMatchObject({ domain: '127.0.0.1', path: '/', httpOnly: true, secure: false, sameSite: 'Strict', expires: -1 });
  expect(session?.value).toMatch(/^[0-9a-f]{64}$/);
  expect(session?.value).not.toBe(loom.token);
  // HttpOnly: not even the page's own script sees it.
  expect(await page.evaluate(() => document.cookie)).toBe('');

  await page.reload();
  await expect(page.getByTestId('engine-status')).toHaveAttribute('data-state', 'ok', { timeout: 20_000 });
  expect(page.url()).toBe(`http://127.0.0.1:${loom.port}/`);

  // The address with the token was replaced in the session history, not stacked under the app.
  await page.goBack();
  expect(page.url()).not.toBe(`http://127.0.0.1:${loom.port}/`);
  expect(page.url()).not.toContain('token');
});

test('opened from a link on another site, the address still lets the browser in; a link without the token does not', async ({ page, loom }) => {
  // localhost is another site than 127.0.0.1 (127.0.0.1:OTHER would be the same site).
  const other: Server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>Chat</title><a id="link" href="${loom.url}">the Loom address</a> <a id="bare" href="http://127.0.0.1:${loom.port}/">Loom</a>`);
  });
  await new Promise<void>((resolve) => other.listen(0, 'localhost', resolve));
  try {
    const { port } = other.address() as AddressInfo;
    await page.goto(`http://localhost:${port}/`);
    await page.click('#link');
    await expect(page.getByTestId('engine-status')).toHaveAttribute('data-state', 'ok', { timeout: 20_000 });
    expect(page.url()).toBe(`http://127.0.0.1:${loom.port}/`);
    await page.reload();
    await expect(page.getByTestId('engine-status')).toHaveAttribute('data-state', 'ok', { timeout: 20_000 });

    // SameSite=Strict: a link from another site does not carry the cookie this browser holds...
    await page.goto(`http://localhost:${port}/`);
    await page.click('#bare');
    await expect(page.getByRole('heading', { name: 'Access token needed' })).toBeVisible();
    // ...and the refusal's own link, a navigation of this origin, does.
    await page.getByRole('link', { name: 'open Loom from here' }).click();
    await expect(page.getByTestId('engine-status')).toHaveAttribute('data-state', 'ok', { timeout: 20_000 });
  } finally {
    await new Promise<void>((resolve) => other.close(() => resolve()));
  }
});

test('the window opened without its token, or with a wrong one, says where the address is', async ({ page, loom }) => {
  const response = await page.goto(`http://127.0.0.1:${loom.port}/`);
  expect(response?.status()).toBe(403);
  await expect(page.getByRole('heading', { name: 'Access token needed' })).toBeVisible();
  await expect(page.locator('body')).toContainText('loom ui');
  await expect(page.locator('pre')).toHaveText(`http://127.0.0.1:${loom.port}/?token=…`);
  expect(await page.getByTestId('engine-status').count()).toBe(0);
  await saveScreenshot(page, 'no-token');

  const wrong = await page.goto(`http://127.0.0.1:${loom.port}/?token=${'0'.repeat(64)}`);
  expect(wrong?.status()).toBe(403);
  await expect(page.locator('body')).toContainText('not the one this Loom host printed');
  expect(await page.context().cookies()).toEqual([]);
});
