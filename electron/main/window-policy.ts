// What the window may do, kept apart from index.ts so that it is tested without Electron: the
// window's options (Electron's security checklist: isolated, sandboxed, no Node in the page) and
// the locks put on every web contents (no navigation, no new windows, no webviews, no
// permissions). Only Electron's types are imported, so nothing here loads Electron at run time.
// The CSP itself is a meta tag in renderer/index.html, so that it also holds when the page is
// served without Electron (browser mode).
import type { BrowserWindowConstructorOptions, WebPreferences } from 'electron';

export const WINDOW_TITLE = 'Loom Sandbox';

/** The settings the page runs under; the preload is the page's only way to the main process. */
export function secureWebPreferences(preload: string, extraArguments: readonly string[] = []): WebPreferences {
  return {
    preload,
    // The page's scripts and the preload's run in separate JavaScript worlds: the page sees only
    // what contextBridge exposes, never ipcRenderer or the preload's own objects.
    contextIsolation: true,
    // Chromium's OS-level sandbox for the renderer process (the preload too runs in it).
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    // Same-origin policy on, and no http content inside the page.
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    additionalArguments: [...extraArguments],
  };
}

export function mainWindowOptions(preload: string, extraArguments: readonly string[] = []): BrowserWindowConstructorOptions {
  return {
    width: 1280,
    height: 800,
    // Shown on 'ready-to-show', so the user never sees an empty frame.
    show: false,
    title: WINDOW_TITLE,
    webPreferences: secureWebPreferences(preload, extraArguments),
  };
}

/** The part of an Electron event the locks use. */
export interface PreventableEvent {
  preventDefault(): void;
}

/** The part of a WebContents the locks need (Electron's WebContents has it). */
export interface LockableContents {
  on(event: 'will-navigate', listener: (event: PreventableEvent) => void): unknown;
  on(event: 'will-frame-navigate', listener: (event: PreventableEvent) => void): unknown;
  on(event: 'will-attach-webview', listener: (event: PreventableEvent) => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
}

/** The page is loaded once by the main process (loadFile/loadURL, which emit no will-navigate) and never leaves. */
export function lockContents(contents: LockableContents): void {
  // will-navigate covers the top frame (links, location changes, form posts); will-frame-navigate
  // also covers frames inside it. In-page (hash) navigation emits neither and keeps working.
  contents.on('will-navigate', preventIt);
  contents.on('will-frame-navigate', preventIt);
  contents.on('will-attach-webview', preventIt);
  // window.open and target=_blank links: no new windows, whatever the URL (ours included).
  contents.setWindowOpenHandler(denyWindowOpen);
}

function preventIt(event: PreventableEvent): void {
  event.preventDefault();
}

export function denyWindowOpen(): { action: 'deny' } {
  return { action: 'deny' };
}

/**
 * The session's permission request handler: every request (camera, notifications, geolocation,
 * clipboard reads, opening external links...) is refused. The page needs none of them; copying
 * text falls back to execCommand (renderer/src/lib/clipboard.ts).
 */
export function denyPermissionRequest(_contents: unknown, _permission: string, callback: (granted: boolean) => void): void {
  callback(false);
}
