// Loads a CommonJS bundle of the CLI (scripts/build-cli.mjs: `loom exec`'s) with V8's code cache.
// Node 20 keeps nothing it compiled from one run to the next (module.enableCompileCache is Node
// 22's), and compiling exec's modules is a fifth of its start-up on a 2-core VM: here the bundle
// is compiled through vm.Script with the cache that an earlier run wrote beside it. The bundle's
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
  /** The level of the cache V8 compiled it from; undefined: none (there was none, or V8 refused it). */
  readonly fromCache: string | undefined;
  /**
   * Writes the cache of `level` (one of the loader's levels), unless this run compiled from a
   * cache of that level or a later one. Called after the code ran: the cache then holds every
   * function the run compiled, not only the top level. Never throws (a bundle in a folder this
   * user cannot write to simply runs without a cache).
   */
  saveCache(level: string): void;
}

/** The bundle's parameters: CommonJS's, and what the build puts for import.meta.url. */
const PARAMS = ['exports', 'require', 'module', '__filename', '__dirname', '__loomImportMetaUrl'] as const;

export const cacheFileOf = (file: string, level: string): string => `${file}.${level}.v8-cache`;

/**
 * `levels`: how much of the bundle a run may have compiled, least first (exec's: 'base', then
 * 'engine' once it ran a program itself). A first run that compiled little (a usage error, a run
 * handed off to a host) writes a small cache; the first run that goes further writes a fuller
 * one, which every later run prefers.
 */
export function loadWithCodeCache<T>(file: string, levels: readonly string[]): CachedBundle<T> {
  // ASCII (the build says so): latin1 makes the same string, a little faster than utf8.
  const source = readFileSync(file, 'latin1');
  let level: string | undefined;
  let cachedData: Buffer | undefined;
  for (const l of [...levels].reverse()) {
    try {
      cachedData = readFileSync(cacheFileOf(file, l));
      level = l;
      break;
    } catch {
      // none of this level
    }
  }
  // On the wrapper's first line, as Node's own CommonJS wrapper: line numbers stay the bundle's.
  const script = new vm.Script(`(function (${PARAMS.join(', ')}) {${source}\n})`, {
    filename: file,
    cachedData,
    // An import() in the bundle (none today) goes to Node's own loader (Node 20.12+).
    importModuleDynamically: vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const fromCache = cachedData !== undefined && !script.cachedDataRejected ? level : undefined;
  // Refused (another Node, other flags): removed, so that a later run does not read it again
  // before any it writes.
  if (level !== undefined && fromCache === undefined) removeQuietly(cacheFileOf(file, level));
  const module = { exports: {} as T };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run(module.exports, createRequire(file), module, file, dirname(file), pathToFileURL(file).href);
  let have = fromCache === undefined ? -1 : levels.indexOf(fromCache);
  return {
    exports: module.exports,
    fromCache,
    saveCache(want) {
      const rank = levels.indexOf(want);
      if (rank <= have) return;
      have = rank;
      // Written whole, then renamed: a concurrent run reads the old cache or the new one.
      const target = cacheFileOf(file, want);
      const tmp = `${target}.${process.pid}`;
      try {
        writeFileSync(tmp, script.createCachedData());
        renameSync(tmp, target);
      } catch {
        removeQuietly(tmp);
      }
    },
  };
}

function removeQuietly(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // nothing we may remove
  }
}
