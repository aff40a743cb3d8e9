// The API the preload script exposes to the renderer as `window.loom`. Kept free of Electron
// and Node imports so the renderer's type check can see its type without Node's globals.

/** The main process passes the app version to the preload as this command-line argument. */
export const VERSION_ARG_PREFIX = '--loom-version=';

export function createLoomPreloadApi(argv: readonly string[]) {
  const versionArg = argv.find((arg) => arg.startsWith(VERSION_ARG_PREFIX));
  return Object.freeze({
    /** The app's version (package.json), or null if the main process did not pass it. */
    version: versionArg === undefined ? null : versionArg.slice(VERSION_ARG_PREFIX.length),
  });
}
