// Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe), with nothing
// enabled but what a benchmark asks for. Playwright enables the Network domain on every page it
// drives, so Chromium copies every WebSocket frame the page receives into a DevTools event
// (base64, through the browser process, to Playwright, which parses it): during a 200 MB flood
// that cost the machine more CPU than the page itself, which a user's window never pays. The
// flood bench drives its window through this instead.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

interface Pending {
  resolve: (result: Record<string, unknown>) => void;
  reject: (err: Error) => void;
  method: string;
}

/** One page (a target attached in flat mode): its protocol calls and its keyboard and mouse. */
export interface CdpPage {
  /** The value of an expression, awaited if it is a promise; an exception in it is thrown here. */
  evaluate<T>(expression: string): Promise<T>;
  click(x: number, y: number): Promise<void>;
  /** A key with Ctrl held (the app's shortcuts, Monaco's select-all). */
  ctrlKey(key: string, code: string, keyCode: number): Promise<void>;
  key(key: string, code: string, keyCode: number): Promise<void>;
  insertText(text: string): Promise<void>;
}

export interface CdpBrowser {
  /** A page at `url`, `initScript` run in every document before its own scripts; resolves once `ready` (an expression) holds. */
  newPage(url: string, initScript: string, viewport: { width: number; height: number }, ready: string): Promise<CdpPage>;
  close(): Promise<void>;
}

const CTRL = 2;

/** Starts headless Chromium at `executablePath` with its DevTools on fds 3 (in) and 4 (out). */
export async function launchCdpChromium(executablePath: string): Promise<CdpBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'loom-cdp-'));
  const child: ChildProcess = spawn(
    executablePath,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      // A window in front, as the user's is: no throttled timers or backgrounded renderer.
      '--disable-background-timer-throttling',
      '--disable-backgrounding-occluded-windows',
      '--disable-renderer-backgrounding',
      `--user-data-dir=${profile}`,
      '--remote-debugging-pipe',
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] },
  );
  const toBrowser = child.stdio[3] as Writable;
  const fromBrowser = child.stdio[4] as Readable;
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let gone: Error | undefined;
  const failAll = (err: Error): void => {
    gone = err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  child.once('exit', (code, signal) => failAll(new Error(`chromium exited (${signal ?? code}) before answering`)));
  child.once('error', (err) => failAll(err));
  // Messages are JSON, each ended by a NUL byte.
  let partial: Buffer[] = [];
  fromBrowser.on('data', (chunk: Buffer) => {
    let start = 0;
    for (let end = chunk.indexOf(0, start); end >= 0; end = chunk.indexOf(0, start)) {
      partial.push(chunk.subarray(start, end));
      const message = JSON.parse(Buffer.concat(partial).toString('utf8')) as { id?: number; result?: Record<string, unknown>; error?: { message: string } };
      partial = [];
      start = end + 1;
      // (An event has no id: the few the Page domain sends are of no use here.)
      const waiting = message.id === undefined ? undefined : pending.get(message.id);
      if (!waiting || message.id === undefined) continue;
      pending.delete(message.id);
      if (message.error) waiting.reject(new Error(`${waiting.method}: ${message.error.message}`));
      else waiting.resolve(message.result ?? {});
    }
    if (start < chunk.length) partial.push(chunk.subarray(start));
  });

  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> => {
    if (gone) return Promise.reject(gone);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject, method });
      toBrowser.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  };

  return {
    async newPage(url, initScript, viewport, ready) {
      const { targetId } = (await send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
      const { sessionId } = (await send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
      const call = (method: string, params?: Record<string, unknown>): Promise<Record<string, unknown>> => send(method, params, sessionId);
      await call('Emulation.setDeviceMetricsOverride', { ...viewport, deviceScaleFactor: 1, mobile: false });
      // The Page domain (its events are about navigation, not traffic) runs scripts on new documents only when enabled.
      await call('Page.enable');
      await call('Page.addScriptToEvaluateOnNewDocument', { source: initScript });
      await call('Page.navigate', { url });
      // Asked again until it holds: an evaluation in a document that is being replaced (the first
      // one, or one that hops to another address) fails with it.
      for (const deadline = performance.now() + 30_000; ; ) {
        const r = await call('Runtime.evaluate', { expression: `Boolean(${ready})`, returnByValue: true }).catch(() => undefined);
        if ((r as { result?: { value?: unknown } } | undefined)?.result?.value === true) break;
        if (performance.now() > deadline) throw new Error(`${url}: not ready within 30 s (${ready})`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const keyEvent = async (key: string, code: string, keyCode: number, modifiers: number): Promise<void> => {
        const base = { key, code, windowsVirtualKeyCode: keyCode, nativeVirtualKeyCode: keyCode, modifiers };
        await call('Input.dispatchKeyEvent', { type: 'rawKeyDown', ...base });
        await call('Input.dispatchKeyEvent', { type: 'keyUp', ...base });
      };
      return {
        async evaluate<T>(expression: string): Promise<T> {
          const r = (await call('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true })) as {
            result: { value?: unknown };
            exceptionDetails?: { text: string; exception?: { description?: string } };
          };
          if (r.exceptionDetails) throw new Error(`in the page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
          return r.result.value as T;
        },
        async click(x, y) {
          for (const type of ['mousePressed', 'mouseReleased']) await call('Input.dispatchMouseEvent', { type, x, y, button: 'left', clickCount: 1 });
        },
        ctrlKey: (key, code, keyCode) => keyEvent(key, code, keyCode, CTRL),
        key: (key, code, keyCode) => keyEvent(key, code, keyCode, 0),
        async insertText(text) {
          await call('Input.insertText', { text });
        },
      };
    },
    async close() {
      if (!gone) {
        await send('Browser.close').catch(() => undefined);
        if (child.exitCode === null && child.signalCode === null) await new Promise((resolve) => child.once('exit', resolve));
      }
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
