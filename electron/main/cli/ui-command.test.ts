// `loom ui` as a user runs it: the real command (node bin/loom.js ui) with the real service,
// serving a small renderer directory, reached over HTTP and by the renderer's WebSocket client,
// and stopped with Ctrl+C (SIGINT).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createWsClient } from '../../../renderer/src/api/ws-client';
import type { LoomApiError } from '../../../shared/api';
import { requireEngineAndImages, waitFor } from '../engine/testing/test-support';
import { DEFAULT_UI_PORT } from './ui-command';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = join(ROOT, 'bin', 'loom.js');
const PAGE = '<!doctype html><title>loom ui test</title>\n';

let work = '';
let rendererDir = '';
const children = new Set<ChildProcess>();

beforeAll(async () => {
  await requireEngineAndImages();
  work = await mkdtemp(join(tmpdir(), 'loom-ui-'));
  rendererDir = join(work, 'renderer');
  await mkdir(rendererDir);
  await writeFile(join(rendererDir, 'index.html'), PAGE);
});

afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

interface Ui {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  exit: Promise<number | null>;
}

/** Starts `loom ui ARGS` and waits for the address it prints on stdout. */
async function startUi(args: string[]): Promise<Ui> {
  const child = spawn(process.execPath, [BIN, 'ui', ...args], { env: { ...process.env, LOOM_HOME: join(work, 'home') }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exit = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  const url = await new Promise<string>((done, fail) => {
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      const line = stdout.split('\n')[0];
      if (stdout.includes('\n') && line) done(line);
    });
    void exit.then((code) => fail(new Error(`loom ui exited with ${code} before printing its address:\n${stderr}`)));
  });
  return { child, url, stderr: () => stderr, exit };
}

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, 'ui', ...args], { env: { ...process.env, LOOM_HOME: join(work, 'home') }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => done({ code, stdout, stderr }));
  });
}

describe('loom ui', () => {
  it('serves the page and the API on 127.0.0.1 until SIGINT, then exits 0', async () => {
    const ui = await startUi(['--port', '0', '--renderer', rendererDir]);
    const url = new URL(ui.url);
    expect(url.hostname).toBe('127.0.0.1');
    expect(url.searchParams.get('token')).toMatch(/^[0-9a-f]{64}$/);
    // stderr is another pipe: its note may trail the address.
    await waitFor('the Ctrl+C note', async () => ui.stderr().includes('Ctrl+C'), 5000);

    // The printed address swaps the token for the session cookie; the page and its socket then go by the cookie.
    const exchange = await fetch(ui.url);
    expect(exchange.status).toBe(200);
    const cookie = exchange.headers.getSetCookie()[0]?.split(';', 1)[0] ?? '';
    expect(cookie).toMatch(new RegExp(`^loom-session-${url.port}=[0-9a-f]{64}$`));
    const page = await fetch(`${url.origin}/`, { headers: { Cookie: cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toBe(PAGE);
    expect(page.headers.get('content-security-policy')).toContain(`connect-src 'self' ws://127.0.0.1:${url.port}`);
    expect((await fetch(`${url.origin}/`)).status).toBe(403);

    const client = createWsClient({
      url: `ws://${url.host}/api`,
      createSocket: (u) => new WebSocket(u, { origin: url.origin, headers: { Cookie: cookie } }),
    });
    try {
      expect((await client.engineStatus()).ok).toBe(true);
      expect(await client.listRuns()).toEqual([]);
    } finally {
      client.close();
    }

    ui.child.kill('SIGINT');
    expect(await ui.exit).toBe(0);
    expect(ui.stderr()).toContain('stopping');
  });

  it('takes local package files from its packages directory only: $LOOM_HOME/packages, or --packages-dir', async () => {
    const outside = join(work, 'secret-1.0.0.tgz');
    await writeFile(outside, 'not for pages');
    const refusal = async (args: string[]): Promise<LoomApiError> => {
      const ui = await startUi(['--port', '0', '--renderer', rendererDir, ...args]);
      const url = new URL(ui.url);
      const client = createWsClient({
        url: `ws://${url.host}/api?token=${url.searchParams.get('token') ?? ''}`,
        createSocket: (u) => new WebSocket(u, { origin: url.origin }),
      });
      try {
        return await client.startRun(randomUUID(), { runtimeType: 'RUNTIME_TYPE_NODE', command: ['node', '-e', '1'], config: { packages: [outside] } }).then(
          () => {
            throw new Error('the browser host accepted a package outside its packages directory');
          },
          (e: unknown) => e as LoomApiError,
        );
      } finally {
        client.close();
        ui.child.kill('SIGINT');
        await ui.exit;
      }
    };
    const byDefault = await refusal([]);
    expect(byDefault.name).toBe('ValidationError');
    expect(byDefault.fields['field']).toBe('config.packages[0]');
    expect(byDefault.message).toContain(`not in the packages directory ${join(work, 'home', 'packages')}`);
    expect((await stat(join(work, 'home', 'packages'))).isDirectory()).toBe(true);
    const chosen = join(work, 'chosen-packages');
    expect((await refusal(['--packages-dir', chosen])).message).toContain(`not in the packages directory ${chosen}`);
  });

  it(`falls back to a free port when ${DEFAULT_UI_PORT} is taken and no --port was given (and fails when it was)`, async () => {
    // Hold the default port ourselves (unless something else already does).
    const blocker: Server = createServer();
    await new Promise<void>((done) => {
      blocker.once('error', () => done());
      blocker.listen(DEFAULT_UI_PORT, '127.0.0.1', () => done());
    });
    try {
      const ui = await startUi(['--renderer', rendererDir]);
      expect(new URL(ui.url).port).not.toBe(String(DEFAULT_UI_PORT));
      await waitFor('the fallback note', async () => ui.stderr().includes(`port ${DEFAULT_UI_PORT} is taken`), 5000);
      ui.child.kill('SIGINT');
      expect(await ui.exit).toBe(0);

      // Asked for by name, a taken port is an error rather than a surprise address.
      const explicit = await run(['--port', String(DEFAULT_UI_PORT), '--renderer', rendererDir]);
      expect(explicit.code).toBe(125);
      expect(explicit.stderr).toContain(`port ${DEFAULT_UI_PORT} on 127.0.0.1 is already in use`);
    } finally {
      blocker.close();
    }
  });

  it('usage errors exit 2; a renderer directory without index.html exits 125 and says so', async () => {
    const bad = await run(['--port', 'http']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--port');
    const range = await run(['--port', '70000']);
    expect(range.code).toBe(2);
    const noDir = await run(['--packages-dir', '']);
    expect(noDir.code).toBe(2);
    expect(noDir.stderr).toContain('--packages-dir');
    const empty = await run(['--port', '0', '--renderer', work]);
    expect(empty.code).toBe(125);
    expect(empty.stderr).toContain('has no index.html');
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: loom ui/);
  });
});
