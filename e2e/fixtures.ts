// The fixtures of the browser tests. Per worker (one worker: see playwright.config.ts), the
// built renderer (built here when out/renderer is missing or older than its sources) and the
// real thing behind it: createLoomService on a history file of its own + startWebHost on a free
// port of 127.0.0.1, exactly what `loom ui` runs. Closing them at the end removes the
// containers the service created. No mocks anywhere: the page talks to the real engine.
import { test as base, expect } from '@playwright/test';
import type Docker from 'dockerode';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sessionCookieName } from '../electron/main/api/host-guard';
import { startWebHost, type WebHost } from '../electron/main/api/web-host';
import { createLoomService, type LoomService } from '../electron/main/app/service';
import { connectDocker } from '../electron/main/engine/engine-client/docker-client';

export const ROOT = resolve(import.meta.dirname, '..');

/** The renderer build the host serves; LOOM_E2E_RENDERER points elsewhere (a build of your own). */
const RENDERER_DIR = resolve(ROOT, process.env['LOOM_E2E_RENDERER'] || 'out/renderer');

/** The running host and service; restart() replaces both, keeping the history file. */
export class LoomHost {
  private host!: WebHost;
  private svc!: LoomService;
  /** Where the host listened, while stopHost has it down. */
  private stopped: { port: number; token: string } | undefined;
  readonly errors: unknown[] = [];

  private constructor(
    readonly historyPath: string,
    readonly rendererDir: string,
  ) {}

  static async start(historyPath: string, rendererDir: string): Promise<LoomHost> {
    const loom = new LoomHost(historyPath, rendererDir);
    await loom.open();
    return loom;
  }

  /** The page's address with its access token, as `loom ui` prints it (the page swaps the token for a cookie). */
  get url(): string {
    return this.host.url;
  }
  /** The session cookie the page gets for the token: one name per port. */
  get cookieName(): string {
    return sessionCookieName(this.host.port);
  }
  get port(): number {
    return this.host.port;
  }
  get token(): string {
    return this.host.token;
  }
  /** The one origin the host accepts WebSockets from (besides localhost:PORT). */
  get origin(): string {
    return `http://127.0.0.1:${this.host.port}`;
  }
  get service(): LoomService {
    return this.svc;
  }

  /** Closes the host and the service (its containers go), then starts both again on the same history file. */
  async restart(): Promise<void> {
    await this.close();
    await this.open();
  }

  /**
   * Stops only the web host: the page loses its connection (and the events sent meanwhile) while
   * the service and its runs go on. startHost brings it back at the same port and token.
   */
  async stopHost(): Promise<void> {
    this.stopped = { port: this.host.port, token: this.host.token };
    await this.host.close();
  }

  async startHost(): Promise<void> {
    if (!this.stopped) throw new Error('startHost: the host was not stopped with stopHost');
    this.host = await startWebHost({ backend: this.svc, rendererDir: this.rendererDir, ...this.stopped });
    this.stopped = undefined;
  }

  async close(): Promise<void> {
    if (!this.stopped) await this.host.close();
    this.stopped = undefined;
    await this.svc.close();
  }

  private async open(): Promise<void> {
    // The OTLP receiver on a free port, as the app's on 4318 (traces.spec sends to it).
    this.svc = await createLoomService({ historyPath: this.historyPath, onError: (err) => this.errors.push(err), traces: { receiver: { port: 0 } } });
    try {
      this.host = await startWebHost({ backend: this.svc, rendererDir: this.rendererDir, port: 0 });
    } catch (err) {
      await this.svc.close();
      throw err;
    }
  }
}

interface WorkerFixtures {
  /** The directory of the built renderer (built once if it is missing or stale). */
  rendererDir: string;
  loom: LoomHost;
  /** The engine, to check what the UI claims (containers gone, and so on). */
  docker: Docker;
}

export const test = base.extend<object, WorkerFixtures>({
  rendererDir: [
    // eslint-disable-next-line no-empty-pattern -- Playwright fixtures take their dependencies as a destructured object
    async ({}, use) => {
      ensureRendererBuilt(RENDERER_DIR);
      await use(RENDERER_DIR);
    },
    { scope: 'worker', timeout: 240_000 },
  ],

  loom: [
    async ({ rendererDir }, use) => {
      const dir = mkdtempSync(join(tmpdir(), 'loom-e2e-'));
      const loom = await LoomHost.start(join(dir, 'history.sqlite'), rendererDir);
      try {
        await use(loom);
      } finally {
        await loom.close();
        // Failures that reached no caller (a listener, a history write): not a test's to fail, but worth seeing.
        for (const err of loom.errors) console.warn('[e2e] the Loom service reported:', err);
        rmSync(dir, { recursive: true, force: true });
      }
    },
    { scope: 'worker', timeout: 120_000 },
  ],

  docker: [
    // eslint-disable-next-line no-empty-pattern -- as above
    async ({}, use) => {
      await use(connectDocker().docker);
    },
    { scope: 'worker' },
  ],
});

export { expect };

/**
 * Builds the renderer with the project's Vite when its index.html is missing, or older than a
 * file of renderer/ or shared/ (a test run after editing the UI tests the UI as edited).
 */
function ensureRendererBuilt(outDir: string): void {
  const index = join(outDir, 'index.html');
  const builtAt = existsSync(index) ? statSync(index).mtimeMs : 0;
  const sources = [join(ROOT, 'renderer'), join(ROOT, 'shared'), join(ROOT, 'vite.renderer.config.ts')];
  const newest = Math.max(...sources.map(newestMtime));
  if (builtAt > 0 && builtAt >= newest) return;
  console.log(`[e2e] ${builtAt === 0 ? 'building' : 'rebuilding (sources changed)'} the renderer into ${outDir}`);
  const vite = join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const result = spawnSync(process.execPath, [vite, 'build', '-c', 'vite.renderer.config.ts', '--outDir', outDir, '--logLevel', 'warn'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (result.status !== 0 || !existsSync(index)) {
    throw new Error(`building the renderer failed (vite exited with ${result.status ?? result.signal}): see the output above`);
  }
}

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const full = join(path, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}
