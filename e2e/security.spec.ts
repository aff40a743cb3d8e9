// Who may drive the engine through the web host: only the page the host served, holding the
// token it printed. Checked from outside the way an attacker would try: a WebSocket without the
// token, one with the token from a foreign Origin, a real page of another local origin in the
// browser, and a DNS-rebinding style request with a foreign Host header.
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

/** A plain HTTP GET with the Host header of our choosing. */
function httpGet(port: number, path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', headers: { Host: host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
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
  const ok = await httpGet(loom.port, '/', `127.0.0.1:${loom.port}`);
  expect(ok.status).toBe(200);
  expect(ok.body).toContain('<div id="root">');

  for (const host of [`evil.example:${loom.port}`, 'evil.example', `127.0.0.1:${loom.port + 1}`, `attacker.127.0.0.1.nip.io:${loom.port}`]) {
    const res = await httpGet(loom.port, '/', host);
    expect(res.status, `Host: ${host}`).toBe(403);
    expect(res.body).not.toContain('<div id="root">');
  }
  expect((await httpGet(loom.port, '/index.html', `evil.example:${loom.port}`)).status).toBe(403);
  // /api is a WebSocket endpoint only.
  expect((await httpGet(loom.port, '/api', `127.0.0.1:${loom.port}`)).status).toBe(426);
});

test('a page from another local origin cannot open the API socket, even holding the token', async ({ page, loom }) => {
  const target = `ws://127.0.0.1:${loom.port}/api?token=${loom.token}`;

  // Control: from the page the host served, the same script connects and gets an answer.
  await openApp(page, loom);
  const own = await browserWebSocket(page, target);
  expect(own.opened).toBe(true);
  expect(JSON.parse(own.reply ?? '{}')).toMatchObject({ id: 7, result: { ok: true } });

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
    const foreign = await browserWebSocket(page, target);
    expect(foreign.opened, 'a foreign page must never get an open socket').toBe(false);
    expect(foreign.reply).toBeNull();
    // The handshake was refused: the browser reports an abnormal closure.
    expect(foreign.closeCode).toBe(1006);
  } finally {
    await new Promise<void>((resolve) => evil.close(() => resolve()));
  }
});

test('the window opened without its token says so instead of reaching the engine', async ({ page, loom }) => {
  await page.goto(`http://127.0.0.1:${loom.port}/`);
  await expect(page).toHaveTitle(/Loom/);
  await expect(page.getByTestId('engine-status')).toHaveAttribute('data-state', 'down', { timeout: 20_000 });
  await expect(page.getByTestId('engine-banner')).toContainText('without its access token');
  await saveScreenshot(page, 'no-token');
});
