// The desktop app itself: the built Electron main process (out/main/index.js, from
// `npm run build`) with its window, preload bridge and IPC, running a program end to end.
// Where no Electron binary is installed this spec is skipped, saying why: since Electron 42
// the binary is downloaded from GitHub on first use, and machines without access to GitHub
// (this project's CI) test the same window as a page in Chromium instead (the other specs).
import { _electron as electron } from '@playwright/test';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, ROOT, test } from './fixtures';
import { saveScreenshot, typeProgram, waitForRunEnd } from './helpers';

/** The Electron binary the npm package points at, or null when it was never downloaded. */
function electronBinary(): string | null {
  try {
    const path = createRequire(import.meta.url)('electron') as unknown;
    return typeof path === 'string' && existsSync(path) ? path : null;
  } catch {
    // node_modules/electron throws "Electron failed to install correctly" without its binary.
    return null;
  }
}

const binary = electronBinary();

/** This process's environment, less a dev server address that would make the app load it instead of out/renderer. */
function electronEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'ELECTRON_RENDERER_URL') env[k] = v;
  return env;
}

test.skip(!binary, 'Electron binary not installed: it is downloaded from GitHub, unreachable here');

test('the desktop app opens its window and runs a program', async () => {
  const main = join(ROOT, 'out', 'main', 'index.js');
  expect(existsSync(main), `${main} is missing: run 'npm run build' first`).toBe(true);
  // A history of its own: on Linux, userData is under XDG_CONFIG_HOME.
  const home = mkdtempSync(join(tmpdir(), 'loom-e2e-electron-'));
  const app = await electron.launch({
    executablePath: binary ?? undefined,
    // As root (CI), Chromium insists on --no-sandbox; the page itself stays sandboxed by Electron.
    args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), main],
    env: { ...electronEnv(), XDG_CONFIG_HOME: home },
    timeout: 60_000,
  });
  try {
    const page = await app.firstWindow();
    await expect(page).toHaveTitle('Loom Sandbox');
    // The preload bridge, not a WebSocket: window.loom exists and the engine answers through it.
    expect(await page.evaluate(() => typeof (window as unknown as { loom?: unknown }).loom)).toBe('object');
    await expect(page.getByTestId('engine-status')).toHaveAttribute('data-state', 'ok', { timeout: 20_000 });
    await expect(page.locator('[data-testid="editor"] .monaco-editor')).toBeVisible({ timeout: 30_000 });

    await typeProgram(page, "print('hello from the desktop app')");
    await page.getByTestId('run-button').click();
    expect(await waitForRunEnd(page)).toBe('ok');
    await expect(page.getByTestId('output-lines')).toContainText('hello from the desktop app');
    await expect(page.getByTestId('exit-code')).toHaveAttribute('data-exit-code', '0');
    await saveScreenshot(page, 'electron-window');
  } finally {
    await app.close();
    rmSync(home, { recursive: true, force: true });
  }
});
