// The IPC transport: one invoke channel for every call and one push channel for events, bound to
// the one window. Kept thin: the routing is dispatch() (shared with the web host) and the trust
// decision is isOurPage() over isTrustedSender() (pure functions, tested without Electron).
// Electron's objects are described below by the few members used, which ipcMain, BrowserWindow
// and the invoke event have, so that the tests can hand in plain objects; nothing here loads
// Electron at run time.
import type { LoomEvent } from '../../../shared/api';
import type { LoomBackend } from './backend';
import { dispatch } from './dispatch';
import { CALL_CHANNEL, EVENT_CHANNEL, type CallOutcome } from './protocol';
import { isTrustedSender, type TrustedRenderer } from './trusted-sender';

/** A frame that sent a call (Electron's WebFrameMain). */
export interface IpcSenderFrame {
  readonly url: string;
  /** null for a top-level frame. */
  readonly parent: unknown;
}

/** An invoke event (Electron's IpcMainInvokeEvent). */
export interface IpcInvokeEvent {
  /** The web contents that sent the call. */
  readonly sender: unknown;
  /** null when the frame navigated or was destroyed after sending. */
  readonly senderFrame: IpcSenderFrame | null;
}

/** Where calls arrive (Electron's ipcMain). */
export interface IpcRegistry {
  handle(channel: string, listener: (event: IpcInvokeEvent, ...args: unknown[]) => Promise<CallOutcome>): void;
  removeHandler(channel: string): void;
}

/** The window's page (Electron's WebContents). */
export interface PageContents {
  isDestroyed(): boolean;
  getURL(): string;
  send(channel: string, ...args: unknown[]): void;
}

/** Our window (Electron's BrowserWindow). */
export interface OurWindow {
  isDestroyed(): boolean;
  readonly webContents: PageContents;
}

export const FORBIDDEN_OUTCOME: CallOutcome = { error: { name: 'ForbiddenError', message: 'This page may not call the Loom API.' } };

/**
 * Answers 'loom:call' from our window's top-level page and pushes backend events to it.
 * Returns the unbind (for a clean shutdown and for rebinding to a recreated window).
 */
export function bindIpc(ipcMain: IpcRegistry, backend: LoomBackend, getWindow: () => OurWindow | null, trusted: TrustedRenderer): () => void {
  ipcMain.handle(CALL_CHANNEL, async (event, method, args): Promise<CallOutcome> => {
    // Say no without detail: the caller is not our page. The backend is never reached.
    if (!isOurPage(event, getWindow(), trusted)) return FORBIDDEN_OUTCOME;
    return dispatch(backend, method, args);
  });

  const unsubscribe = backend.onEvent((event: LoomEvent) => {
    const window = getWindow();
    if (!window || window.isDestroyed()) return;
    const contents = window.webContents;
    // Navigation is blocked in index.ts; this is the second lock, so that events (run output)
    // never reach a page that is not ours.
    if (contents.isDestroyed() || !isTrustedSender(contents.getURL(), trusted)) return;
    contents.send(EVENT_CHANNEL, event);
  });

  return () => {
    ipcMain.removeHandler(CALL_CHANNEL);
    unsubscribe();
  };
}

/** Whether a call comes from our window's top-level page, at our renderer's URL. */
export function isOurPage(event: IpcInvokeEvent, window: OurWindow | null, trusted: TrustedRenderer): boolean {
  const frame = event.senderFrame;
  // senderFrame is null when the frame navigated or was destroyed after sending; an iframe has a
  // parent (our CSP allows none, but a trusted URL in a frame is still not our top-level page).
  return (
    window !== null &&
    !window.isDestroyed() &&
    event.sender === window.webContents &&
    frame !== null &&
    frame.parent === null &&
    isTrustedSender(frame.url, trusted)
  );
}
