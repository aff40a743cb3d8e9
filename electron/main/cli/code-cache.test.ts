// The code cache of the CLI's CommonJS bundle: what the first run writes, the next compiles from;
// a run that went further writes a fuller cache once; a cache that does not fit is refused and
// replaced; a cache that cannot be written is no error.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { cacheFileOf, loadWithCodeCache } from './code-cache';

interface Bundle {
  greet(name: string): string;
  further(): string;
  here: string;
  sep: string;
}

// As esbuild writes a bundle: CommonJS, with import.meta.url as __loomImportMetaUrl.
const BUNDLE = `"use strict";
const { sep } = require('node:path');
function greet(name) { return 'hello ' + name + ' from ' + __filename.split(sep).pop(); }
function further() { return [1, 2, 3].map((n) => n * 2).join(); }
module.exports = { greet, further, here: __loomImportMetaUrl, sep };
`;
const LEVELS = ['base', 'engine'];

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
    const first = loadWithCodeCache<Bundle>(file, LEVELS);
    expect(first.fromCache).toBeUndefined();
    expect(first.exports.greet('you')).toBe('hello you from exec-command-ABC.cjs');
    expect(first.exports.here).toBe(pathToFileURL(file).href);
    expect(existsSync(cacheFileOf(file, 'base'))).toBe(false);
    first.saveCache('base');
    expect(readFileSync(cacheFileOf(file, 'base')).length).toBeGreaterThan(0);

    const second = loadWithCodeCache<Bundle>(file, LEVELS);
    expect(second.fromCache).toBe('base');
    expect(second.exports.greet('again')).toBe('hello again from exec-command-ABC.cjs');
    // Nothing to write for a run that went no further than the cache's; nothing left behind.
    const before = readFileSync(cacheFileOf(file, 'base'));
    second.saveCache('base');
    expect(readFileSync(cacheFileOf(file, 'base')).equals(before)).toBe(true);
    expect(readdirSync(join(file, '..')).sort()).toEqual(['exec-command-ABC.cjs', 'exec-command-ABC.cjs.base.v8-cache']);
  });

  it('writes the fuller cache once a run goes further, and later runs prefer it', () => {
    const file = bundleFile();
    loadWithCodeCache<Bundle>(file, LEVELS).saveCache('base');
    const further = loadWithCodeCache<Bundle>(file, LEVELS);
    expect(further.fromCache).toBe('base');
    expect(further.exports.further()).toBe('2,4,6');
    further.saveCache('engine');
    expect(existsSync(cacheFileOf(file, 'engine'))).toBe(true);

    const next = loadWithCodeCache<Bundle>(file, LEVELS);
    expect(next.fromCache).toBe('engine');
    expect(next.exports.further()).toBe('2,4,6');
    // A run that stopped early does not replace it with less.
    const engineCache = readFileSync(cacheFileOf(file, 'engine'));
    next.saveCache('base');
    next.saveCache('engine');
    expect(readFileSync(cacheFileOf(file, 'engine')).equals(engineCache)).toBe(true);
  });

  it("refuses a cache made for other code, runs the bundle's own code, and replaces the cache", () => {
    const other = bundleFile(BUNDLE.replace("'hello '", "'bonjour '") + '\n// longer\n');
    loadWithCodeCache<Bundle>(other, LEVELS).saveCache('engine');
    const file = bundleFile();
    writeFileSync(cacheFileOf(file, 'engine'), readFileSync(cacheFileOf(other, 'engine')));

    const loaded = loadWithCodeCache<Bundle>(file, LEVELS);
    expect(loaded.fromCache).toBeUndefined();
    expect(loaded.exports.greet('you')).toBe('hello you from exec-command-ABC.cjs');
    // The refused cache is gone: a run that stops early writes its own, which the next one uses.
    expect(existsSync(cacheFileOf(file, 'engine'))).toBe(false);
    loaded.saveCache('base');
    expect(loadWithCodeCache<Bundle>(file, LEVELS).fromCache).toBe('base');
  });

  it('runs without a cache where none can be written, and says nothing', () => {
    const file = bundleFile();
    // A folder where the cache would go: it can be neither read nor replaced (even by root).
    mkdirSync(cacheFileOf(file, 'base'));
    writeFileSync(join(cacheFileOf(file, 'base'), 'keep'), '');
    const loaded = loadWithCodeCache<Bundle>(file, LEVELS);
    expect(loaded.fromCache).toBeUndefined();
    expect(() => loaded.saveCache('base')).not.toThrow();
    expect(loaded.exports.greet('you')).toBe('hello you from exec-command-ABC.cjs');
    expect(readdirSync(join(file, '..')).sort()).toEqual(['exec-command-ABC.cjs', 'exec-command-ABC.cjs.base.v8-cache']);
  });
});
