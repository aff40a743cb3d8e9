// bindIpc without Electron (no Electron binary here): ipcMain, the window and the invoke events
// are plain objects with the members Electron's have; the routing behind them is the real
// dispatch() and a test backend. Each refused case is a forged sender: a page that is not ours.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { LoomEvent } from '../../../shared/api';
import { bindIpc, FORBIDDEN_OUTCOME, isOurPage, type IpcInvokeEvent, type IpcRegistry, type OurWindow, type PageContents } from './ipc';
import { CALL_CHANNEL, EVENT_CHANNEL, type CallOutcome } from './protocol';
import { createTestBackend, TEST_RUN, TEST_STATUS } from './test-backend';
import { trustedRenderer } from './trusted-sender';

const INDEX = join('/opt', 'Loom Sandbox', 'resources', 'app.asar', 'out', 'renderer', 'index.html');
const OUR_URL = pathToFileURL(INDEX).href;
const built = trustedRenderer(undefined, INDEX);

class FakeContents implements PageContents {
  destroyed = false;
  readonly sent: { channel: string; args: unknown[] }[] = [];
  constructor(public url: string) {}
  isDestroyed(): boolean {
    return this.destroyed;
  }
  getURL(): string {
    return this.url;
  }
  send(channel: string, ...args: unknown[]): void {
    this.sent.push({ channel, args });
  }
}

class FakeWindow implements OurWindow {
  destroyed = false;
  readonly webContents: FakeContents;
  constructor(url = OUR_URL) {
    this.webContents = new FakeContents(url);
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
}

class FakeIpcMain implements IpcRegistry {
  readonly handlers = new Map<string, (event: IpcInvokeEvent, ...args: unknown[]) => Promise<CallOutcome>>();
  handle(channel: string, listener: (event: IpcInvokeEvent, ...args: unknown[]) => Promise<CallOutcome>): void {
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  invoke(event: IpcInvokeEvent, ...args: unknown[]): Promise<CallOutcome> {
    const handler = this.handlers.get(CALL_CHANNEL);
    if (!handler) throw new Error(`No handler registered for '${CALL_CHANNEL}'`);
    return handler(event, ...args);
  }
}

/** A call from the top-level frame of `sender`, at `url`. */
const topFrameCall = (sender: unknown, url = OUR_URL): IpcInvokeEvent => ({ sender, senderFrame: { url, parent: null } });

function setup(window: FakeWindow | null = new FakeWindow()) {
  const ipcMain = new FakeIpcMain();
  const backend = createTestBackend();
  let current = window;
  const unbind = bindIpc(ipcMain, backend, () => current, built);
  return { ipcMain, backend, unbind, setWindow: (w: FakeWindow | null) => (current = w) };
}

const EVENT: LoomEvent = { type: 'run.finished', run: { ...TEST_RUN, status: 'ok' } };

describe('bindIpc: calls', () => {
  it("answers our window's top-level page through the real dispatch", async () => {
    const window = new FakeWindow();
    const { ipcMain, backend } = setup(window);
    expect(await ipcMain.invoke(topFrameCall(window.webContents), 'engineStatus', [])).toEqual({ result: TEST_STATUS });
    expect(await ipcMain.invoke(topFrameCall(window.webContents, `${OUR_URL}#/runs`), 'listRuns', [])).toMatchObject({ result: [TEST_RUN] });
    expect(backend.calls.map((c) => c.method)).toEqual(['engineStatus', 'listRuns']);
  });

  it.each<[string, (ours: FakeContents) => IpcInvokeEvent]>([
    ['another web contents, even at our URL', () => topFrameCall(new FakeContents(OUR_URL))],
    ['a frame inside our page', (ours) => ({ sender: ours, senderFrame: { url: OUR_URL, parent: { url: OUR_URL, parent: null } } })],
    ['a frame gone since it sent', (ours) => ({ sender: ours, senderFrame: null })],
    ['our contents navigated elsewhere', (ours) => topFrameCall(ours, 'https://evil.example/index.html')],
    ['another local file', (ours) => topFrameCall(ours, pathToFileURL('/tmp/index.html').href)],
    ['a data: URL', (ours) => topFrameCall(ours, 'data:text/html,<script>loom.listRuns()</script>')],
  ])('refuses a call from %s: ForbiddenError, and the backend never hears of it', async (_what, forge) => {
    const window = new FakeWindow();
    const { ipcMain, backend } = setup(window);
    expect(await ipcMain.invoke(forge(window.webContents), 'listRuns', [])).toEqual(FORBIDDEN_OUTCOME);
    expect(FORBIDDEN_OUTCOME.error).toEqual({ name: 'ForbiddenError', message: 'This page may not call the Loom API.' });
    expect(backend.calls).toEqual([]);
  });

  it('refuses everything while there is no live window', async () => {
    const window = new FakeWindow();
    const { ipcMain, backend, setWindow } = setup(window);
    window.destroyed = true;
    expect(await ipcMain.invoke(topFrameCall(window.webContents), 'engineStatus', [])).toEqual(FORBIDDEN_OUTCOME);
    setWindow(null);
    expect(await ipcMain.invoke(topFrameCall(window.webContents), 'engineStatus', [])).toEqual(FORBIDDEN_OUTCOME);
    // A recreated window (macOS 'activate') is ours; the old one's page is not.
    const next = new FakeWindow();
    setWindow(next);
    expect(await ipcMain.invoke(topFrameCall(window.webContents), 'engineStatus', [])).toEqual(FORBIDDEN_OUTCOME);
    expect(await ipcMain.invoke(topFrameCall(next.webContents), 'engineStatus', [])).toEqual({ result: TEST_STATUS });
    expect(backend.calls).toHaveLength(1);
  });

  it('a trusted page still gets dispatch errors for bad calls (the method is checked there)', async () => {
    const window = new FakeWindow();
    const { ipcMain, backend } = setup(window);
    const outcome = await ipcMain.invoke(topFrameCall(window.webContents), 'constructor', []);
    expect(outcome).toMatchObject({ error: { name: 'ValidationError' } });
    expect(backend.calls).toEqual([]);
  });
});

describe('bindIpc: events', () => {
  it('pushes backend events to our page on the event channel', () => {
    const window = new FakeWindow();
    const { backend } = setup(window);
    backend.emit(EVENT);
    expect(window.webContents.sent).toEqual([{ channel: EVENT_CHANNEL, args: [EVENT] }]);
  });

  it('never pushes to a page that is not ours, nor to a destroyed or missing window', () => {
    const window = new FakeWindow();
    const { backend, setWindow } = setup(window);
    window.webContents.url = 'https://evil.example/';
    backend.emit(EVENT);
    window.webContents.url = OUR_URL;
    window.webContents.destroyed = true;
    backend.emit(EVENT);
    window.webContents.destroyed = false;
    window.destroyed = true;
    backend.emit(EVENT);
    setWindow(null);
    backend.emit(EVENT);
    expect(window.webContents.sent).toEqual([]);
    // And the same window back at our URL gets the next one.
    window.destroyed = false;
    setWindow(window);
    backend.emit(EVENT);
    expect(window.webContents.sent).toHaveLength(1);
  });

  it('unbinding removes the call handler and stops the events', async () => {
    const window = new FakeWindow();
    const { ipcMain, backend, unbind } = setup(window);
    expect(backend.listenerCount()).toBe(1);
    unbind();
    expect(ipcMain.handlers.has(CALL_CHANNEL)).toBe(false);
    expect(backend.listenerCount()).toBe(0);
    backend.emit(EVENT);
    expect(window.webContents.sent).toEqual([]);
    // Bound again (a clean restart of the IPC), it answers as before.
    bindIpc(ipcMain, backend, () => window, built);
    expect(await ipcMain.invoke(topFrameCall(window.webContents), 'engineStatus', [])).toEqual({ result: TEST_STATUS });
  });
});

describe('isOurPage', () => {
  // With the dev server: any page of its origin in our window, top frame only.
  const dev = trustedRenderer('http://localhost:5173/', INDEX);
  it.each<[string, (ours: FakeContents) => IpcInvokeEvent, boolean, boolean]>([
    ['a page of its origin', (ours) => topFrameCall(ours, 'http://localhost:5173/#/pool'), true, true],
    ['another port', (ours) => topFrameCall(ours, 'http://localhost:5174/'), true, false],
    ['the built index.html', (ours) => topFrameCall(ours, OUR_URL), true, false],
    ['a frame inside the page', (ours) => ({ sender: ours, senderFrame: { url: 'http://localhost:5173/', parent: {} } }), true, false],
    ['a page of its origin with no window', (ours) => topFrameCall(ours, 'http://localhost:5173/'), false, false],
  ])('with the dev server: %s', (_what, call, hasWindow, expected) => {
    const window = new FakeWindow('http://localhost:5173/');
    expect(isOurPage(call(window.webContents), hasWindow ? window : null, dev)).toBe(expected);
  });
});
