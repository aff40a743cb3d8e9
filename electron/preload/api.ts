// The API the preload script exposes to the renderer as `window.loom`. Kept free of Electron
// and Node imports so the renderer's type check can see its type without Node's globals.
//
// Each call is a named function that resolves with a CallOutcome ({result} or {error}), not
// with the result itself: contextBridge copies a rejected Error without its name or fields and
// never as a LoomApiError instance, so the page's own code (renderer/src/api/client.ts) turns
// {error} into a LoomApiError on its side of the bridge.
import { LOOM_METHODS, type LoomApi, type LoomEvent, type LoomMethod } from '../../shared/api';
import type { CallOutcome } from '../main/api/protocol';

/** The main process passes the app version to the preload as this command-line argument. */
export const VERSION_ARG_PREFIX = '--loom-version=';

export type LoomBridgeCalls = {
  [M in LoomMethod]: (...args: Parameters<LoomApi[M]>) => Promise<CallOutcome<Awaited<ReturnType<LoomApi[M]>>>>;
};

/** How the preload reaches the main process; index.ts provides it with ipcRenderer. */
export interface LoomPreloadTransport {
  call(method: LoomMethod, args: unknown[]): Promise<CallOutcome>;
  /** Hears the main process's events; returns the unsubscribe. */
  subscribe(listener: (event: LoomEvent) => void): () => void;
}

export function createLoomPreloadApi(argv: readonly string[], transport: LoomPreloadTransport) {
  const versionArg = argv.find((arg) => arg.startsWith(VERSION_ARG_PREFIX));
  const calls = {} as Record<LoomMethod, (...args: unknown[]) => Promise<CallOutcome>>;
  // Only copies of the arguments cross (the page cannot hand the main process anything live).
  for (const method of LOOM_METHODS) calls[method] = (...args: unknown[]) => transport.call(method, args);
  return Object.freeze({
    /** The app's version (package.json), or null if the main process did not pass it. */
    version: versionArg === undefined ? null : versionArg.slice(VERSION_ARG_PREFIX.length),
    ...(calls as LoomBridgeCalls),
    /** Hears every LoomEvent; returns the unsubscribe. */
    onEvent(listener: (event: LoomEvent) => void): () => void {
      return transport.subscribe(listener);
    },
  });
}
