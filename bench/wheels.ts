// A local pip index for the bench's packages figure and the engine's package tests: tiny
// pure-Python wheels zipped by the host's python3 (a wheel is a zip with metadata), laid out
// as a PEP 503 "simple" index in a directory, so that no network is needed. The index is bind-mounted into the install
// container, where pip runs as nobody (65534): every directory is 0755 and every file 0644.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface WheelProject {
  /** Already normalized (lowercase letters and digits): the directory name PEP 503 wants. */
  name: string;
  version: string;
  /** What `<name>.VALUE` holds once installed. */
  value: string;
}

export interface LocalIndex {
  /** The temporary directory that holds everything (remove it with `remove`). */
  root: string;
  /** The index itself: pass it as packageSources.pipIndexUrl. */
  index: string;
  /** Requirement strings for the projects, `name==version`. */
  requirements: string[];
  remove(): void;
}

const WHEEL_SCRIPT = `
import sys, zipfile
name, version, value, path = sys.argv[1:5]
info = f"{name}-{version}.dist-info"
files = {
  f"{name}/__init__.py": f"VALUE = {value!r}\\n",
  f"{info}/METADATA": f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n",
  f"{info}/WHEEL": "Wheel-Version: 1.0\\nGenerator: loom-bench\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
files[f"{info}/RECORD"] = "".join(f"{p},,\\n" for p in list(files) + [f"{info}/RECORD"])
with zipfile.ZipFile(path, "w") as z:
  for p, body in files.items(): z.writestr(p, body)
`;

const NAME = /^[a-z0-9]+$/;

/** Builds the wheels and the index around them. Needs python3 on the host. */
export function buildLocalIndex(projects: readonly WheelProject[], python = 'python3'): LocalIndex {
  const root = mkdtempSync(join(tmpdir(), 'loom-bench-index-'));
  const remove = (): void => rmSync(root, { recursive: true, force: true });
  try {
    const index = join(root, 'simple');
    mkdirSync(index);
    const links: string[] = [];
    for (const p of projects) {
      if (!NAME.test(p.name)) throw new Error(`wheel project name '${p.name}' must be lowercase letters and digits`);
      const dir = join(index, p.name);
      mkdirSync(dir);
      const file = `${p.name}-${p.version}-py3-none-any.whl`;
      execFileSync(python, ['-c', WHEEL_SCRIPT, p.name, p.version, p.value, join(dir, file)], { stdio: ['ignore', 'ignore', 'pipe'] });
      writeFileSync(join(dir, 'index.html'), `<!DOCTYPE html>\n<html><body><a href="${file}">${file}</a></body></html>\n`);
      links.push(`<a href="${p.name}/">${p.name}</a>`);
    }
    writeFileSync(join(index, 'index.html'), `<!DOCTYPE html>\n<html><body>${links.join('\n')}</body></html>\n`);
    openUp(root);
    return { root, index, requirements: projects.map((p) => `${p.name}==${p.version}`), remove };
  } catch (err) {
    remove();
    throw err;
  }
}

/** Directories 0755, files 0644, recursively (mkdtemp makes its directory 0700). */
function openUp(path: string): void {
  if (statSync(path).isDirectory()) {
    chmodSync(path, 0o755);
    for (const name of readdirSync(path)) openUp(join(path, name));
  } else {
    chmodSync(path, 0o644);
  }
}
