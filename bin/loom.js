#!/usr/bin/env node
// The `loom` command. Runs the bundle made by scripts/build-cli.mjs (at `npm ci` and `npm run
// build`) when it is newer than every source it was made from; otherwise the TypeScript
// sources through tsx, so a fresh edit in a checkout is never shadowed by a stale bundle.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import Module from 'node:module';
import { fileURLToPath } from 'node:url';

// Node 22.1+ keeps what it compiled for the next start; Node 20 has no such cache (a no-op there).
Module.enableCompileCache?.();

const root = fileURLToPath(new URL('..', import.meta.url));
const bundle = `${root}out/cli/bundle/loom.mjs`;
// `loom exec`, run again and again by scripts and agents, from an entry of its own (the same
// build): main() with exec alone, compiled through V8's code cache (scripts/build-cli.mjs).
const execBundle = `${root}out/cli/bundle/exec.mjs`;
const argv = process.argv.slice(2);

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

function bundleIsFresh() {
  if (!existsSync(bundle)) return false;
  // Sources change only in a checkout: an installed copy skips the stat of every one of them
  // (5 ms on a 2-core VM).
  if (!existsSync(`${root}.git`)) return true;
  const built = statSync(bundle).mtimeMs;
  // exec's bundle against the sources it was made from (the build lists them), a third of all.
  const execSources = argv[0] === 'exec' ? readJson(`${root}out/cli/bundle/exec-sources.json`) : undefined;
  if (Array.isArray(execSources)) {
    return execSources.every((path) => (statSync(`${root}${path}`, { throwIfNoEntry: false })?.mtimeMs ?? Infinity) <= built);
  }
  return [`${root}electron/main`, `${root}shared`].every((dir) => newestSource(dir) <= built);
}

let main;
if (bundleIsFresh()) {
  ({ main } = await import(argv[0] === 'exec' ? execBundle : bundle));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../electron/main/cli/main.ts'));
}
process.exitCode = await main(argv);
// `loom exec` has finished all it started when main() returns (its container parked, its traces
// sent): it exits as soon as what it wrote is out, without the natural exit's teardown of the
// heap (7 ms on a 2-core VM). Other commands (servers among them) end as they always did.
if (argv[0] === 'exec') {
  await Promise.all([process.stdout, process.stderr].map((stream) => new Promise((resolve) => stream.write('', resolve))));
  process.exit();
}
