// Loads a CommonJS bundle of the CLI (scripts/build-cli.mjs: `loom exec`'s) with V8's code cache.
// Node 20 keeps nothing it compiled from one run to the next (module.enableCompileCache is Node
// 22's), and compiling exec's modules is a fifth of its start-up on a 2-core VM: here the bundle
// is compiled through vm.Script with the cache that a first run wrote beside it. The bundle's
// name carries a hash of its content, and so does the cache's: a cache never meets another
// build's bundle (V8 itself checks only the source's length, its own version and its flags).
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import vm from 'node:vm';

export interface CachedBundle<T> {
  /** What the bundle exports (module.exports). */
  readonly exports: T;
  /** Whether V8 compiled it from the cache (false: there was none, or V8 refused it). */
  readonly fromCache: boolean;
  /**
   * Writes the cache when this run had none to use. Called after the code ran: the cache then
   * holds every function the run compiled, not only the top level. Never throws (a bundle in a
   * folder this user cannot write to simply runs without a cache).
   */
  saveCache(): void;
}

/** The bundle's parameters: CommonJS's, and what the build puts for import.meta.url. */
const PARAMS = ['exports', 'require', 'module', '__filename', '__dirname', '__loomImportMetaUrl'] as const;

export const cacheFileOf = (file: string): string => `${file}.v8-cache`;

export function loadWithCodeCache<T>(file: string): CachedBundle<T> {
  const cacheFile = cacheFileOf(file);
  const source = readFileSync(file, 'utf8');
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  // On the wrapper's first line, as Node's own CommonJS wrapper: line numbers stay the bundle's.
  const script = new vm.Script(`(function (${PARAMS.join(', ')}) {${source}\n})`, {
    filename: file,
    cachedData,
    // An import() in the bundle (none today) goes to Node's own loader (Node 20.12+).
    importModuleDynamically: vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const fromCache = cachedData !== undefined && !script.cachedDataRejected;
  const module = { exports: {} as T };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run(module.exports, createRequire(file), module, file, dirname(file), pathToFileURL(file).href);
  let saved = fromCache;
  return {
    exports: module.exports,
    fromCache,
    saveCache() {
      if (saved) return;
      saved = true;
      // Written whole, then renamed: a concurrent run reads the old cache or the new one.
      const tmp = `${cacheFile}.${process.pid}`;
      try {
        writeFileSync(tmp, script.createCachedData());
        renameSync(tmp, cacheFile);
      } catch {
        try {
          rmSync(tmp, { force: true });
        } catch {
          // nothing written, or nothing we may remove
        }
      }
    },
  };
}
