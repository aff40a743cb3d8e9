/// <reference types="vite/client" />
// The type of `window.loom` comes from the preload's api.ts rather than its index.ts (whose
// `LoomPreloadApi` is the same type) so that 'electron' and Node's types stay out of the
// renderer's type check.
import type { createLoomPreloadApi } from '../../electron/preload/api';

declare global {
  interface Window {
    /** Exposed by the preload script; absent when the page runs in a plain browser. */
    loom?: ReturnType<typeof createLoomPreloadApi>;
  }
}
