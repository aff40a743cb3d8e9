// Which page may call the API over IPC: ours, and only ours. Pure (URL strings in, boolean out)
// so it can be tested without Electron.
import { pathToFileURL } from 'node:url';

/** Where the window's page legitimately comes from. */
export type TrustedRenderer =
  /** The built renderer: this index.html on disk. */
  | { kind: 'file'; indexHtml: string }
  /** electron-vite's dev server (ELECTRON_RENDERER_URL): any page of its origin. */
  | { kind: 'dev-server'; origin: string };

/** The renderer the window loads, decided the same way index.ts decides what to load. */
export function trustedRenderer(devServerUrl: string | undefined, indexHtml: string): TrustedRenderer {
  return devServerUrl ? { kind: 'dev-server', origin: new URL(devServerUrl).origin } : { kind: 'file', indexHtml };
}

/**
 * Whether a frame at `url` is our renderer. For file:// the document must be our index.html
 * exactly (any other local file is not ours, even next to it); the hash and query are ignored so
 * that in-page routing keeps working.
 */
export function isTrustedSender(url: string, trusted: TrustedRenderer): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (trusted.kind === 'dev-server') {
    // An opaque origin ('null': data:, blob: of another origin, sandboxed frames) never matches.
    return parsed.origin !== 'null' && parsed.origin === trusted.origin;
  }
  const expected = pathToFileURL(trusted.indexHtml);
  return parsed.protocol === 'file:' && parsed.host === expected.host && parsed.pathname === expected.pathname;
}
