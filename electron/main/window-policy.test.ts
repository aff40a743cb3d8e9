// The window's security settings and locks, without Electron (no Electron binary here; the
// Electron spec in e2e/ checks the same things in the real app where one exists). The web
// contents is an EventEmitter standing in for Electron's: the locks are plain listeners on it.
import { EventEmitter } from 'node:events';
import type { WebContents } from 'electron';
import { describe, expect, it } from 'vitest';
import { denyPermissionRequest, denyWindowOpen, lockContents, mainWindowOptions, secureWebPreferences, WINDOW_TITLE, type LockableContents } from './window-policy';

// Compile-time: Electron's WebContents is what index.ts hands to lockContents.
const acceptsWebContents: (contents: WebContents) => LockableContents = (contents) => contents;
void acceptsWebContents;

class FakeContents extends EventEmitter implements LockableContents {
  openHandler: ((details: { url: string }) => { action: 'deny' }) | null = null;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void {
    this.openHandler = handler;
  }
  /** Emits `name` as Electron does; returns whether a listener prevented it. */
  fire(name: string): boolean {
    let prevented = false;
    this.emit(name, { preventDefault: () => (prevented = true) }, 'https://evil.example/');
    return prevented;
  }
}

describe('mainWindowOptions', () => {
  it('isolates and sandboxes the page, with no Node in it', () => {
    const options = mainWindowOptions('/app/out/preload/index.cjs', ['--loom-version=1.2.3']);
    expect(options).toMatchObject({ title: WINDOW_TITLE, show: false });
    expect(options.webPreferences).toEqual({
      preload: '/app/out/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      additionalArguments: ['--loom-version=1.2.3'],
    });
  });

  it('copies the extra arguments (a later change to the caller’s array does not reach the window)', () => {
    const args = ['--loom-version=1'];
    const prefs = secureWebPreferences('/p.cjs', args);
    args.push('--inspect');
    expect(prefs.additionalArguments).toEqual(['--loom-version=1']);
    expect(secureWebPreferences('/p.cjs').additionalArguments).toEqual([]);
  });
});

describe('lockContents', () => {
  it('prevents navigation of the page and of its frames, and webviews', () => {
    const contents = new FakeContents();
    expect(contents.fire('will-navigate')).toBe(false);
    lockContents(contents);
    expect(contents.fire('will-navigate')).toBe(true);
    expect(contents.fire('will-frame-navigate')).toBe(true);
    expect(contents.fire('will-attach-webview')).toBe(true);
    // Only these: the page's own events (load, in-page navigation) are left alone.
    expect(contents.eventNames().sort()).toEqual(['will-attach-webview', 'will-frame-navigate', 'will-navigate']);
    expect(contents.fire('did-navigate-in-page')).toBe(false);
  });

  it.each(['https://evil.example/', 'file:///app/out/renderer/index.html', 'about:blank', 'javascript:alert(1)'])('denies a new window at %s', (url) => {
    const contents = new FakeContents();
    lockContents(contents);
    const handler = contents.openHandler;
    expect(handler).not.toBeNull();
    expect(handler?.({ url })).toEqual({ action: 'deny' });
  });

  it('denies a new window without looking at it', () => {
    expect(denyWindowOpen()).toEqual({ action: 'deny' });
  });
});

describe('denyPermissionRequest', () => {
  it('refuses every permission, once per request', () => {
    const permissions = ['media', 'geolocation', 'notifications', 'clipboard-read', 'clipboard-sanitized-write', 'openExternal', 'fileSystem', 'unknown'];
    const answers: boolean[] = [];
    for (const permission of permissions) denyPermissionRequest(null, permission, (granted) => answers.push(granted));
    expect(answers).toEqual(permissions.map(() => false));
  });
});
