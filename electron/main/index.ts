// The Electron main process: one locked-down window, and the Loom service behind it over IPC.
// The engine lives in ./engine and must not import 'electron' (it also runs from plain Node:
// tests, CLI, browser host).
import { join } from 'node:path';
import { app, BrowserWindow, dialog, ipcMain, session } from 'electron';
import { VERSION_ARG_PREFIX } from '../preload/api';
import { startHandoffHost, type HandoffHost } from './api/handoff-host';
import { bindIpc } from './api/ipc';
import { trustedRenderer } from './api/trusted-sender';
import { createLoomService, type LoomService } from './app/service';
import { tracesConfigFrom } from './traces/traces-config';
import { denyPermissionRequest, lockContents, mainWindowOptions } from './window-policy';

const RENDERER_INDEX = join(import.meta.dirname, '../renderer/index.html');
/** A service that hangs while removing its containers must not keep the app from quitting. */
const CLOSE_TIMEOUT_MS = 15_000;

let mainWindow: BrowserWindow | null = null;

function createWindow(): BrowserWindow {
  const window = new BrowserWindow(
    mainWindowOptions(join(import.meta.dirname, '../preload/index.cjs'), [`${VERSION_ARG_PREFIX}${app.getVersion()}`]),
  );
  window.once('ready-to-show', () => window.show());
  window.on('closed', () => {
    if (mainWindow === window) mainWindow = null;
  });

  const devServerUrl = process.env['ELECTRON_RENDERER_URL'];
  if (devServerUrl) {
    void window.loadURL(devServerUrl);
  } else {
    void window.loadFile(RENDERER_INDEX);
  }
  mainWindow = window;
  return window;
}

// The page never leaves the app: no navigation, no new windows, no webviews (window-policy.ts).
// Every web contents, not only our window's, so that nothing created later escapes the lock.
app.on('web-contents-created', (_event, contents) => lockContents(contents));

app.enableSandbox();

let service: LoomService | null = null;
let unbindIpc: (() => void) | null = null;
let handoff: HandoffHost | null = null;

void app.whenReady().then(async () => {
  session.defaultSession.setPermissionRequestHandler(denyPermissionRequest);
  try {
    service = await createLoomService({
      historyPath: join(app.getPath('userData'), 'history.sqlite'),
      // Local package files (config.packages paths) are taken from here only: the window must
      // not become a way to mount any file of the host into a container.
      packagesDir: join(app.getPath('userData'), 'packages'),
      // The files shipped into sandboxes: beside the app when packaged (electron-builder's
      // extraResources), in the project otherwise. The bundled main cannot find them by its
      // own path.
      executor: { resourcesRoot: app.isPackaged ? join(process.resourcesPath, 'resources') : join(app.getAppPath(), 'resources') },
      // The OTLP receiver on 127.0.0.1:4318 (LOOM_OTLP_PORT: another port, or 'off'); a taken
      // port does not stop the app: the Traces view says why nothing arrives.
      traces: tracesConfigFrom(process.env),
    });
    const receiver = await service.traceReceiverStatus();
    if (receiver.error) console.warn(receiver.error);
  } catch (err) {
    dialog.showErrorBox('Loom Sandbox cannot start', err instanceof Error ? err.message : String(err));
    app.exit(1);
    return;
  }
  // Bound before the window exists, so the page's first calls find a handler.
  unbindIpc = bindIpc(ipcMain, service, () => mainWindow, trustedRenderer(process.env['ELECTRON_RENDERER_URL'], RENDERER_INDEX));
  createWindow();
  // `loom exec` processes of this user hand their runs to the app (see api/handoff-host.ts).
  const running = service;
  handoff = await startHandoffHost({ executor: () => running.executor() }).catch((err: unknown) => {
    console.warn('loom exec processes cannot hand their runs to the app:', err);
    return null;
  });
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

// Closing the service removes this process's containers; the quit waits for it (bounded), then
// goes ahead. `loom containers prune` cleans up whatever a crash leaves behind.
let closing = false;
app.on('before-quit', (event) => {
  const open = service;
  if (!open || closing) return;
  closing = true;
  event.preventDefault();
  unbindIpc?.();
  void handoff?.close();
  const timeout = new Promise<void>((done) => setTimeout(done, CLOSE_TIMEOUT_MS));
  void Promise.race([open.close(), timeout])
    .catch((err: unknown) => console.error('Loom service did not close cleanly:', err))
    .finally(() => {
      service = null;
      app.quit();
    });
});
