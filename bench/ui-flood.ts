// A program that prints 200 MB, finished through `loom exec` and in the window (`loom ui`'s page
// in Chromium, driven by Playwright as the e2e tests do), and the page's longest main-thread task
// meanwhile (PerformanceObserver 'longtask'). A benchmark, not a test: it prints figures.
//
//   node bin/run-ts.js bench/ui-flood.ts [--mb N]     (needs `npm run build`: the renderer)
//
// Both sides run on a warm container (a warm-up run first), and time from the run's start to its
// exit: the CLI from spawn to exit, the window from Ctrl+Enter to the exit code on screen. Each
// side floods FLOODS times, the two alternating (a machine's drift hits both), and the figures
// are medians, the longest task the longest of all: one flood a side moved the ratio between
// 1.0x and 2.1x from run to run on a 2-core VM.
import { chromium } from '@playwright/test';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startWebHost } from '../electron/main/api/web-host';
import { createLoomService } from '../electron/main/app/service';
import { processIo } from '../electron/main/cli/format';
import { DEFAULT_RENDERER_DIR, ensureRenderer } from '../electron/main/cli/ui-command';
import { median } from './stats';

export interface FloodFigures {
  uiFlood200MbMs: number;
  cliFlood200MbMs: number;
  uiWorstStallMs: number;
  /** Why a figure is missing, or what to know about it. */
  note: string;
}

const NOT_MEASURED: FloodFigures = { uiFlood200MbMs: Number.NaN, cliFlood200MbMs: Number.NaN, uiWorstStallMs: Number.NaN, note: '' };

/** Prints `mb` MB in 100-byte lines, then a last line that says it is the last. */
export function floodProgram(mb: number): string {
  const lines = Math.round((mb * 1_000_000) / 100);
  // One line a statement: typed into the editor, an indented block could be indented again.
  return ['import sys', "line = 'x' * 99 + '\\n'", `for _ in range(${lines}): sys.stdout.write(line)`, "print('the end')"].join('\n');
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Floods per side. */
const FLOODS = 3;

/** A side of the comparison: `run` times one flood (ms); `close` ends what it started. */
interface FloodSide {
  run(code: string): Promise<{ ms: number; worstStallMs: number }>;
  close(): Promise<void>;
}

/** `loom exec` of the flood, its output read and dropped; spawn to exit (ms), after a warm-up. */
async function cliSide(configName: string): Promise<FloodSide> {
  const args = ['bin/loom.js', 'exec', '--keep-warm', '120', '--name', configName, '--', 'python3', '-c'];
  const once = (code: string): Promise<{ ms: number; tail: string; code: number | null }> =>
    new Promise((resolve, reject) => {
      const t0 = performance.now();
      const child = spawn(process.execPath, [...args, code], { cwd: ROOT, env: { ...process.env, LOOM_NO_HANDOFF: '1' }, stdio: ['ignore', 'pipe', 'inherit'] });
      let tail = '';
      child.stdout.on('data', (c: Buffer) => (tail = (tail + c.toString('latin1')).slice(-64)));
      child.once('error', reject);
      child.once('close', (exit) => resolve({ ms: performance.now() - t0, tail, code: exit }));
    });
  await once("print('warm')");
  return {
    async run(code) {
      const r = await once(code);
      if (r.code !== 0 || !r.tail.endsWith('the end\n')) throw new Error(`loom exec of the flood: exit ${r.code}, output ending ${JSON.stringify(r.tail)}`);
      return { ms: r.ms, worstStallMs: Number.NaN };
    },
    close: async () => undefined,
  };
}

/** The window: `loom ui`'s service and host in this process, its page in Chromium. */
async function uiSide(): Promise<FloodSide> {
  const dir = mkdtempSync(join(tmpdir(), 'loom-flood-'));
  const service = await createLoomService({ historyPath: join(dir, 'history.sqlite') });
  const host = await startWebHost({ backend: service, rendererDir: DEFAULT_RENDERER_DIR, port: 0 });
  const browser = await chromium.launch({
    executablePath: process.env['CHROMIUM_PATH'] || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
  const close = async (): Promise<void> => {
    await browser.close();
    await host.close();
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // bypassCSP: the app's CSP forbids eval, which waitForFunction's text predicate needs.
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, bypassCSP: true });
    // (Page code as text: it runs in the browser, not here.)
    await page.addInitScript(
      'window.loomLongTasks = []; new PerformanceObserver((l) => { for (const e of l.getEntries()) window.loomLongTasks.push(e.duration); }).observe({ type: "longtask", buffered: true });',
    );
    await page.goto(host.url);
    await page.locator('[data-testid="engine-status"][data-state="ok"]').waitFor({ timeout: 30_000 });
    const editor = page.locator('[data-testid="editor"] .monaco-editor .view-lines');
    await editor.waitFor({ timeout: 30_000 });
    const pane = page.getByTestId('output-pane');
    const run = async (code: string): Promise<number> => {
      await editor.click();
      await page.keyboard.press('ControlOrMeta+A');
      await page.keyboard.press('Delete');
      // insertText, not typing: no auto-indent, no suggestions.
      await page.keyboard.insertText(code);
      // The editor's own work on the text it was given (tokens from its worker, a render) is over
      // before the clock starts: the longest task is the output's, not the typing's.
      await page.waitForTimeout(300);
      await page.evaluate('new Promise((resolve) => requestIdleCallback(() => resolve(), { timeout: 2000 }))');
      const before = (await pane.count()) ? await pane.getAttribute('data-run-id') : null;
      await page.evaluate('window.loomLongTasks.length = 0');
      const t0 = performance.now();
      await page.keyboard.press('ControlOrMeta+Enter');
      // Ended: another run shown, no longer starting or running, its exit code on screen.
      await page.waitForFunction(
        `(() => {
          const p = document.querySelector('[data-testid="output-pane"]');
          const id = p && p.getAttribute('data-run-id');
          const status = p && p.getAttribute('data-status');
          return Boolean(id && id !== ${JSON.stringify(before)} && status && status !== 'starting' && status !== 'running' && document.querySelector('[data-testid="exit-code"]'));
        })()`,
        undefined,
        { timeout: 600_000, polling: 50 },
      );
      return performance.now() - t0;
    };
    await run("print('warm')");
    return {
      async run(code) {
        const ms = await run(code);
        const exit = await page.getByTestId('exit-code').getAttribute('data-exit-code');
        if (exit !== '0') throw new Error(`the window's flood ended with exit ${exit}`);
        const stalls = (await page.evaluate('window.loomLongTasks')) as number[];
        return { ms, worstStallMs: Math.max(0, ...stalls) };
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

export async function measureFlood(mb: number, configName: string, log: (line: string) => void): Promise<FloodFigures> {
  const out = { ...NOT_MEASURED };
  const sides: { cli?: FloodSide; ui?: FloodSide } = {};
  try {
    sides.cli = await cliSide(configName);
  } catch (err) {
    out.note = `loom exec: ${err instanceof Error ? err.message : String(err)}`;
  }
  // A fresh clone has no built renderer: built as `loom ui` does (its progress on stderr).
  const built = await ensureRenderer({ ...processIo(), stdout: process.stderr });
  try {
    if (!built) throw new Error('not measured: the renderer could not be built (npm run build)');
    sides.ui = await uiSide();
  } catch (err) {
    out.note = `window: ${err instanceof Error ? err.message : String(err)}`;
  }
  const samples = { cli: [] as number[], ui: [] as number[], stall: [] as number[] };
  try {
    for (let i = 0; i < FLOODS; i++) {
      for (const name of i % 2 ? (['ui', 'cli'] as const) : (['cli', 'ui'] as const)) {
        const side = sides[name];
        if (!side) continue;
        const r = await side.run(floodProgram(mb)).catch((err: unknown) => {
          out.note = `${name === 'ui' ? 'window' : 'loom exec'}: ${err instanceof Error ? err.message : String(err)}`;
          return null;
        });
        if (!r) continue;
        samples[name].push(r.ms);
        if (name === 'ui') samples.stall.push(r.worstStallMs);
      }
    }
  } finally {
    await Promise.all([sides.cli?.close(), sides.ui?.close()]);
  }
  out.cliFlood200MbMs = median(samples.cli);
  out.uiFlood200MbMs = median(samples.ui);
  // The longest of all: the target is that none is ever over it.
  out.uiWorstStallMs = samples.stall.length ? Math.max(...samples.stall) : Number.NaN;
  const each = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join(', ');
  log(
    `flood (${mb} MB, medians of ${FLOODS}): window ${out.uiFlood200MbMs.toFixed(0)} ms (${each(samples.ui)}), loom exec ${out.cliFlood200MbMs.toFixed(0)} ms (${each(samples.cli)}), ` +
      `longest task ${out.uiWorstStallMs.toFixed(0)} ms (of each: ${each(samples.stall)}) ${out.note}`,
  );
  return out;
}

// Run on its own: `node bin/run-ts.js bench/ui-flood.ts [--mb N]`.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const at = process.argv.indexOf('--mb');
  const mb = at > 0 ? Number(process.argv[at + 1]) : 200;
  const figures = await measureFlood(mb, `bench-flood-${process.pid}`, (line) => process.stderr.write(`[flood] ${line}\n`));
  process.stdout.write(`${JSON.stringify({ mb, ...figures }, null, 2)}\n`);
}
