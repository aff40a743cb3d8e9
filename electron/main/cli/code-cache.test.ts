// The code cache of the CLI's CommonJS bundle: what the first run writes, the next compiles from;
// a cache that does not fit is refused and replaced; a cache that cannot be written is no error.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { cacheFileOf, loadWithCodeCache } from './code-cache';

interface Bundle {
  greet(name: string): string;
  here: string;
  sep: string;
}

// As esbuild writes a bundle: CommonJS, with import.meta.url as __loomImportMetaUrl.
const BUNDLE = `"use strict";
const { sep } = require('node:path');
function greet(name) { return 'hello ' + name + ' from ' + __filename.split(sep).pop(); }
module.exports = { greet, here: __loomImportMetaUrl, sep };
`;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function bundleFile(source = BUNDLE): string {
  const dir = mkdtempSync(join(tmpdir(), 'loom-code-cache-'));
  dirs.push(dir);
  const file = join(dir, 'exec-command-ABC.cjs');
  writeFileSync(file, source);
  return file;
}

describe('loadWithCodeCache', () => {
  it('runs the bundle as CommonJS, then compiles the next load from the cache the first one wrote', () => {
    const file = bundleFile();
    const first = loadWithCodeCache<Bundle>(file);
    expect(first.fromCache).toBe(false);
    expect(first.exports.greet('you')).toBe('hello you from exec-command-ABC.cjs');
    expect(first.exports.here).toBe(pathToFileURL(file).href);
    expect(existsSync(cacheFileOf(file))).toBe(false);
    first.saveCache();
    expect(readFileSync(cacheFileOf(file)).length).toBeGreaterThan(0);

    const second = loadWithCodeCache<Bundle>(file);
    expect(second.fromCache).toBe(true);
    expect(second.exports.greet('again')).toBe('hello again from exec-command-ABC.cjs');
    // Nothing to write when the cache was used; nothing left behind either way.
    const before = readFileSync(cacheFileOf(file));
    second.saveCache();
    expect(readFileSync(cacheFileOf(file)).equals(before)).toBe(true);
    expect(readdirSync(join(file, '..')).sort()).toEqual(['exec-command-ABC.cjs', 'exec-command-ABC.cjs.v8-cache']);
  });

  it("refuses a cache made for other code, runs the bundle's own code, and replaces the cache", () => {
    const other = bundleFile(BUNDLE.replace("'hello '", "'bonjour '") + '\n// longer\n');
    const first = loadWithCodeCache<Bundle>(other);
    first.saveCache();
    const file = bundleFile();
    writeFileSync(cacheFileOf(file), readFileSync(cacheFileOf(other)));

    const loaded = loadWithCodeCache<Bundle>(file);
    expect(loaded.fromCache).toBe(false);
    expect(loaded.exports.greet('you')).toBe('hello you from exec-command-ABC.cjs');
    loaded.saveCache();
    expect(loadWithCodeCache<Bundle>(file).fromCache).toBe(true);
  });

  it('runs without a cache where none can be written, and says nothing', () => {
    const file = bundleFile();
    // A folder where the cache would go: it can be neither read nor replaced (even by root).
    mkdirSync(cacheFileOf(file));
    writeFileSync(join(cacheFileOf(file), 'keep'), '');
    const loaded = loadWithCodeCache<Bundle>(file);
    expect(loaded.fromCache).toBe(false);
    expect(() => loaded.saveCache()).not.toThrow();
    expect(loaded.exports.greet('you')).toBe('hello you from exec-command-ABC.cjs');
    expect(readdirSync(join(file, '..')).sort()).toEqual(['exec-command-ABC.cjs', 'exec-command-ABC.cjs.v8-cache']);
  });
});
