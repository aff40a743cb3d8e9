// The LoomClient of the Electron window, over the preload's `window.loom`. The preload's
// functions answer with {result} or {error}; the LoomApiError is built here, on the page's side
// of contextBridge, because an instance made in the preload would arrive as a plain Error
// without its name and fields. No DOM types here, so Node tests can drive it too.
import { LoomApiError, type LoomClient, type LoomMethod } from '../../../shared/api';
import type { createLoomPreloadApi } from '../../../electron/preload/api';
import type { CallOutcome } from '../../../electron/main/api/protocol';
import { loomApiOver, unwrapOutcome } from './calls';

export type LoomBridge = ReturnType<typeof createLoomPreloadApi>;

export function bridgeClient(bridge: LoomBridge): LoomClient {
  const call = async (method: LoomMethod, args: unknown[]): Promise<unknown> => {
    const fn = bridge[method] as (...callArgs: unknown[]) => Promise<CallOutcome>;
    let outcome: CallOutcome;
    try {
      outcome = await fn(...args);
    } catch (err) {
      // Only the IPC itself fails this way (no handler yet, arguments that cannot be cloned).
      throw new LoomApiError({ name: 'IpcError', message: err instanceof Error ? err.message : String(err) });
    }
    return unwrapOutcome(outcome);
  };
  return { ...loomApiOver(call), onEvent: (listener) => bridge.onEvent(listener) };
}
