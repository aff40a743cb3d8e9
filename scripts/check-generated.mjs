#!/usr/bin/env node
// Checks that the generated code is exactly what its sources make today:
// - shared/gen/ from proto/ (`buf generate`). It generates into a temporary directory (buf's
//   --output prefixes the template's `out: shared/gen`), so the work tree is never touched, then
//   compares the two trees byte for byte.
// - the runner and agent protocols' constants from their source (scripts/gen-protocol.mjs).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SOURCE as PROTOCOL_SOURCE, staleProtocolFiles } from './gen-protocol.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const genDir = 'shared/gen';
const bin = join(root, 'node_modules', '.bin');

function listFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath ?? entry.path, entry.name)))
    .sort();
}

function check(tmp) {
  // buf finds the local plugin protoc-gen-es on PATH; when this runs outside npm, add ours.
  const env = { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` };
  const buf = spawnSync(join(bin, 'buf'), ['generate', '--output', tmp], {
    cwd: root,
    env,
    encoding: 'utf8',
  });
  if (buf.error || buf.status !== 0) {
    console.error('gen:check: `buf generate` failed:');
    console.error(buf.error?.message ?? `${buf.stderr}${buf.stdout}`.trim());
    return 2;
  }

  const fresh = join(tmp, genDir);
  const committed = join(root, genDir);
  const freshFiles = listFiles(fresh);
  const committedFiles = listFiles(committed);
  if (freshFiles.length === 0) {
    console.error(`gen:check: buf generated nothing under ${genDir}; check buf.gen.yaml`);
    return 2;
  }

  const problems = [];
  for (const file of new Set([...freshFiles, ...committedFiles])) {
    if (!freshFiles.includes(file)) problems.push(`${file}: not generated from proto/ (stray file)`);
    else if (!committedFiles.includes(file)) problems.push(`${file}: missing`);
    else if (!readFileSync(join(fresh, file)).equals(readFileSync(join(committed, file))))
      problems.push(`${file}: differs from what proto/ generates`);
  }
  if (problems.length > 0) {
    console.error('generated code is stale: run npm run gen');
    for (const problem of problems) console.error(`  ${genDir}/${problem}`);
    return 1;
  }
  console.log(`gen:check: ${genDir} matches proto/ (${freshFiles.length} file(s))`);
  return 0;
}

function checkProtocol() {
  let problems;
  try {
    problems = staleProtocolFiles(root);
  } catch (err) {
    console.error(`gen:check: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
  if (problems.length > 0) {
    console.error('generated protocol code is stale: run npm run gen');
    for (const problem of problems) console.error(`  ${problem}`);
    return 1;
  }
  console.log(`gen:check: the protocol constants match ${PROTOCOL_SOURCE}`);
  return 0;
}

const tmp = mkdtempSync(join(tmpdir(), 'loom-gen-check-'));
try {
  process.exitCode = Math.max(check(tmp), checkProtocol());
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
