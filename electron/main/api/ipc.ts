// The IPC transport: one invoke channel for every call and one push channel for events, bound to
// the one window. Kept thin: the routing is dispatch() (shared with the web host) and the trust
// decision is isTrustedSender() (a pure function, tested without Electron). Only Electron's
// types are imported, so nothing here loads Electron at run time.
import type { BrowserWindow, IpcMain, IpcMainInvokeEvent } from 'electron';
import type { LoomEvent } from '../../../shared/api';
import type { LoomBackend } from './backend';
import { dispatch } from './dispatch';
import { CALL_CHANNEL, EVENT_CHANNEL, type CallOutcome } from './protocol';
import { isTrustedSender, type TrustedRenderer } from './trusted-sender';

/**
 * Answers 'loom:call' from our window's top-level page and pushes backend events to it.
 * Returns the unbind (for a clean shutdown and for rebinding to a recreated window).
 */
export function bindIpc(
  ipcMain: IpcMain,
  backend: LoomBackend,
  getWindow: () => BrowserWindow | null,
  trusted: TrustedRenderer,
): () => void {
  ipcMain.handle(CALL_CHANNEL, async (event: IpcMainInvokeEvent, method: unknown, args: unknown): Promise<CallOutcome> => {
    if (!isOurPage(event, getWindow(), trusted)) {
      // Say no without detail: the caller is not our page.
      return { error: { name: 'ForbiddenError', message: 'This page may not call the Loom API.' } };
    }
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

function isOurPage(event: IpcMainInvokeEvent, window: BrowserWindow | null, trusted: TrustedRenderer): boolean {
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
