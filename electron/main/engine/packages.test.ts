// Package installs from local sources (no network, as on an offline or locked-down machine):
// a pip index in a directory, an npm tarball, and the installers' own errors.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLocalIndex, type LocalIndex } from '../../../bench/wheels';
import { Phase, RuntimeType, type ExecuteEvent } from '../../../shared/gen/loom/v1/docker_pb';
import { PackageInstallError, ValidationError } from './errors';
import { createExecutor, type Executor } from './executor';
import { listPackageImages, prunePackageImages } from './package-cache';
import { docker, requireEngineAndImages, text } from './test-support';

let dir: string;
let executor: Executor;
let npmTarball: string;
let pipIndex: LocalIndex | undefined;

beforeAll(async () => {
  await requireEngineAndImages();
  dir = mkdtempSync(join(tmpdir(), 'loom-pkgs-'));
  // A PEP 503 index laid out in a directory, with one wheel (the bench's own builder).
  pipIndex = buildLocalIndex([{ name: 'loomdemo', version: '1.0', value: 'installed from the local index' }]);
  // An npm package packed to a tarball, as `npm pack` makes it.
  const pkg = join(dir, 'npm-pkg');
  mkdirSync(pkg);
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'loom-npm-demo', version: '1.2.3', main: 'index.js' }));
  writeFileSync(join(pkg, 'index.js'), "module.exports = { value: 'installed from a local tarball' };\n");
  const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: pkg }).toString().trim();
  npmTarball = join(dir, packed);
  executor = await createExecutor({ packageSources: { pipIndexUrl: pipIndex.index }, minIdlePerConfig: 0 });
});

afterAll(async () => {
  await executor?.close();
  // The derived images this file made (their containers are gone now, so none is in use).
  await prunePackageImages(docker);
  if (dir) rmSync(dir, { recursive: true, force: true });
  pipIndex?.remove();
});

describe('packages', () => {
  it('installs a pip package from a local index when the container is created, then reuses it', async () => {
    const events: ExecuteEvent[] = [];
    const r = await executor.execute(
      { command: ['python3', '-c', 'import loomdemo; print(loomdemo.VALUE)'], config: { packages: ['loomdemo==1.0'] } },
      { onEvent: (e) => events.push(e) },
    );
    expect(text(r.stderr)).toBe('');
    expect(text(r.stdout)).toBe('installed from the local index\n');
    expect(r.containerCreated).toBe(true);
    expect(r.timings?.packagesMs).toBeGreaterThan(0);
    expect(events.some((e) => e.event.case === 'phase' && e.event.value.phase === Phase.PACKAGES)).toBe(true);
    const logs = events.flatMap((e) => (e.event.case === 'installLog' ? [e.event.value] : []));
    expect(logs.join('\n')).toMatch(/Successfully installed loomdemo-1.0/);

    const again = await executor.execute({ command: ['python3', '-c', 'import loomdemo; print(1)'], config: { packages: ['loomdemo==1.0'] } });
    expect(again.containerCreated).toBe(false);
    expect(again.timings?.packagesMs).toBe(0);
  });

  it('caches installed packages as an image: a second container with the same set has no install step', async () => {
    const events: ExecuteEvent[] = [];
    // Another config name: another pool key, so a new container; the package set is the same.
    const r = await executor.execute(
      { command: ['python3', '-c', 'import loomdemo; print(loomdemo.VALUE)'], config: { name: 'second-config', packages: ['loomdemo==1.0'] } },
      { onEvent: (e) => events.push(e) },
    );
    expect(r.containerCreated).toBe(true);
    expect(text(r.stdout)).toBe('installed from the local index\n');
    expect(events.some((e) => e.event.case === 'installLog')).toBe(false);
    expect(events.some((e) => e.event.case === 'phase' && e.event.value.phase === Phase.PACKAGES)).toBe(false);
    const images = await listPackageImages(docker);
    const cached = images.find((i) => i.packages.includes('loomdemo==1.0'));
    expect(cached?.baseImage).toBe('python:3.11-slim');
    const info = await docker.getContainer(r.containerId).inspect();
    expect(info.Config.Image).toBe(cached?.tag);
    // Installed on the read-only root: the program cannot change them.
    const tamper = await executor.execute({
      command: ['python3', '-c', 'import loomdemo, os; open(os.path.join(os.path.dirname(loomdemo.__file__), "x"), "w")'],
      config: { name: 'second-config', packages: ['loomdemo==1.0'] },
    });
    expect(text(tamper.stderr)).toMatch(/Read-only file system/);
  });

  it("reports a failed pip install with pip's own message", async () => {
    const err = await executor
      .execute({ command: ['python3', '-c', 'pass'], config: { packages: ['no-such-package-loom'] } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PackageInstallError);
    const e = err as PackageInstallError;
    expect(e.installer).toBe('pip');
    expect(e.output).toMatch(/Could not find a version that satisfies the requirement no-such-package-loom/);
    expect(e.message).toContain('no-such-package-loom');
  });

  it('installs an npm package from a local tarball and requires it', async () => {
    const r = await executor.execute({
      runtimeType: RuntimeType.NODE,
      command: ['node', '-e', "console.log(require('loom-npm-demo').value)"],
      config: { packages: [npmTarball] },
    });
    expect(text(r.stdout)).toBe('installed from a local tarball\n');
  });

  it("reports a failed npm install with npm's own message", async () => {
    const broken = join(dir, 'broken-1.0.0.tgz');
    writeFileSync(broken, 'this is not a gzipped tarball');
    const err = await executor
      .execute({ runtimeType: RuntimeType.NODE, command: ['node', '-e', '1'], config: { packages: [broken] } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PackageInstallError);
    const e = err as PackageInstallError;
    expect(e.installer).toBe('npm');
    expect(e.output).toMatch(/npm error/);
    expect(e.output).toMatch(/TAR_BAD_ARCHIVE|ENOENT|EINVALIDTAR|not a valid|Unrecognized archive format/i);
    expect(e.exitCode).not.toBe(0);
  });

  it('refuses registry packages at once when the network mode gives no way to reach the registry', async () => {
    const started = Date.now();
    const err = await executor
      .execute({ runtimeType: RuntimeType.NODE, command: ['node', '-e', '1'], config: { packages: ['left-pad@1.3.0'] } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).field).toBe('config.packages');
    expect((err as Error).message).toMatch(/network mode is NONE.*BRIDGE/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('removes the container of a failed install', async () => {
    const before = executor.containers().length;
    await executor.execute({ command: ['python3', '-c', 'pass'], config: { name: 'fails', packages: ['also-missing-loom'] } }).catch(() => undefined);
    expect(executor.containers().length).toBe(before);
  });
});
