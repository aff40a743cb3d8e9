// A program that prints 200 MB, finished through `loom exec` and in the window (`loom ui`'s page
// in Chromium), and the page's longest main-thread task meanwhile (PerformanceObserver
// 'longtask'). A benchmark, not a test: it prints figures. Chromium is driven through its
// DevTools pipe with no Network domain (cdp-pipe.ts), not by Playwright: Playwright has Chromium
// copy every WebSocket frame to it, which the user's window never does, at a cost to the flood
// (on a 2-core VM: the window 6.2 s against 4.4 s, the machine's CPU for the whole flood bench
// 71 s against 48 s).
//
//   node bin/run-ts.js bench/ui-flood.ts [--mb N]     (needs `npm run build`: the renderer)
//
// Both sides run on a warm container (a warm-up run first), and time from the run's start to its
// exit: the CLI from spawn to exit, the window from Ctrl+Enter to the exit code on screen. Each
// side floods FLOODS times, the two alternating (a machine's drift hits both), and the figures
// are medians, the longest task the longest of all: one flood a side moved the ratio between
// 1.0x and 2.1x from run to run on a 2-core VM.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startWebHost } from '../electron/main/api/web-host';
import { createLoomService } from '../electron/main/app/service';
import { processIo } from '../electron/main/cli/format';
import { DEFAULT_RENDERER_DIR, ensureRenderer } from '../electron/main/cli/ui-command';
import { launchCdpChromium } from './cdp-pipe';
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

/** Resolves once `condition` (page code, an expression) holds, checked every 50 ms; rejects after `timeoutMs`. */
const waitInPage = (condition: string, timeoutMs: number, what: string): string =>
  `new Promise((resolve, reject) => {
    const t0 = performance.now();
    const check = () => {
      if (${condition}) resolve(true);
      else if (performance.now() - t0 > ${timeoutMs}) reject(new Error(${JSON.stringify(`timed out waiting for ${what}`)}));
      else setTimeout(check, 50);
    };
    check();
  })`;

/** The window: `loom ui`'s service and host in this process, its page in Chromium (cdp-pipe.ts: no DevTools copy of each frame). */
async function uiSide(): Promise<FloodSide> {
  const dir = mkdtempSync(join(tmpdir(), 'loom-flood-'));
  const service = await createLoomService({ historyPath: join(dir, 'history.sqlite') });
  const host = await startWebHost({ backend: service, rendererDir: DEFAULT_RENDERER_DIR, port: 0 });
  const browser = await launchCdpChromium(process.env['CHROMIUM_PATH'] || '/usr/bin/chromium');
  const close = async (): Promise<void> => {
    await browser.close();
    await host.close();
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const page = await browser.newPage(
      host.url,
      'window.loomLongTasks = []; new PerformanceObserver((l) => { for (const e of l.getEntries()) window.loomLongTasks.push(e.duration); }).observe({ type: "longtask", buffered: true });',
      { width: 1440, height: 900 },
      `document.querySelector('[data-testid="engine-status"][data-state="ok"]')`,
    );
    const editor = '[data-testid="editor"] .monaco-editor .view-lines';
    await page.evaluate(waitInPage(`document.querySelector('${editor}')`, 30_000, 'the editor'));
    const paneRunId = `(document.querySelector('[data-testid="output-pane"]')?.getAttribute('data-run-id') ?? null)`;
    const run = async (code: string): Promise<number> => {
      const box = await page.evaluate<{ x: number; y: number }>(`(() => { const r = document.querySelector('${editor}').getBoundingClientRect(); return { x: r.x + r.width / 2, y: r.y + 20 }; })()`);
      await page.click(box.x, box.y);
      await page.ctrlKey('a', 'KeyA', 65);
      await page.key('Delete', 'Delete', 46);
      // insertText, not typing: no auto-indent, no suggestions.
      await page.insertText(code);
      // The editor's own work on the text it was given (tokens from its worker, a render) is over
      // before the clock starts: the longest task is the output's, not the typing's.
      await page.evaluate('new Promise((resolve) => setTimeout(() => requestIdleCallback(() => resolve(), { timeout: 2000 }), 300))');
      const before = await page.evaluate<string | null>(paneRunId);
      await page.evaluate('window.loomLongTasks.length = 0');
      const t0 = performance.now();
      await page.ctrlKey('Enter', 'Enter', 13);
      // Ended: another run shown, no longer starting or running, its exit code on screen.
      await page.evaluate(
        waitInPage(
          `(() => {
            const p = document.querySelector('[data-testid="output-pane"]');
            const id = p && p.getAttribute('data-run-id');
            const status = p && p.getAttribute('data-status');
            return Boolean(id && id !== ${JSON.stringify(before)} && status && status !== 'starting' && status !== 'running' && document.querySelector('[data-testid="exit-code"]'));
          })()`,
          600_000,
          'the run to end',
        ),
      );
      return performance.now() - t0;
    };
    await run("print('warm')");
    return {
      async run(code) {
        const ms = await run(code);
        const exit = await page.evaluate<string | null>(`document.querySelector('[data-testid="exit-code"]').getAttribute('data-exit-code')`);
        if (exit !== '0') throw new Error(`the window's flood ended with exit ${exit}`);
        const stalls = await page.evaluate<number[]>('window.loomLongTasks');
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
