// Which host files a request may name as packages, decided by normalizeRequest's policy. Pure
// (the file system only): the install itself is in packages.test.ts.
import { create } from '@bufbuild/protobuf';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecuteRequestSchema, RuntimeType } from '../../../../shared/gen/loom/v1/docker_pb';
import { LoomError, ValidationError } from '../errors';
import { normalizeRequest, requestPolicyOf, type LocalPackagePolicy } from './request';

let root = '';
/** The packages directory, as configured, and other places on the "host". */
let pkgDir = '';
let outside = '';

beforeAll(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'loom-local-pkgs-')));
  pkgDir = join(root, 'packages');
  outside = join(root, 'elsewhere');
  mkdirSync(pkgDir);
  mkdirSync(outside);
  writeFileSync(join(pkgDir, 'demo-1.0-py3-none-any.whl'), 'wheel');
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

function packagesOf(packages: string[], localPackages: LocalPackagePolicy, runtimeType = RuntimeType.PYTHON): string[] {
  const request = create(ExecuteRequestSchema, { runtimeType, command: ['true'], config: { packages } });
  return normalizeRequest(request, { allowHostMounts: false, localPackages }).container.packages;
}

/** The ValidationError a package list gets from the packages-directory policy. */
function refusal(packages: string[], dir = pkgDir): ValidationError {
  try {
    packagesOf(packages, { dir });
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error(`${packages.join(', ')} was accepted`);
}

/** The problem for `path` while it is missing, and again once a file is there. */
function beforeAndAfterCreating(path: string, create: () => void = () => writeFileSync(path, 'secret')): [ValidationError, ValidationError] {
  const missing = refusal([path]);
  create();
  return [missing, refusal([path])];
}

describe('local packages under a packages directory (the app, the browser host)', () => {
  it('accepts a file inside it, by its real path', () => {
    const wheel = join(pkgDir, 'demo-1.0-py3-none-any.whl');
    expect(packagesOf([wheel], { dir: pkgDir })).toEqual([wheel]);
    // A link inside that stays inside is followed: what is hashed and mounted is the file itself.
    symlinkSync(wheel, join(pkgDir, 'alias-1.0-py3-none-any.whl'));
    expect(packagesOf([join(pkgDir, 'alias-1.0-py3-none-any.whl')], { dir: pkgDir })).toEqual([wheel]);
    // The directory may itself be configured through a link.
    symlinkSync(pkgDir, join(root, 'packages-link'));
    expect(packagesOf([join(root, 'packages-link', 'demo-1.0-py3-none-any.whl')], { dir: join(root, 'packages-link') })).toEqual([wheel]);
  });

  it('refuses a path outside it with one message, whether or not a file is there', () => {
    const [missing, present] = beforeAndAfterCreating(join(outside, 'secret-1.0-py3-none-any.whl'));
    expect(present.field).toBe('config.packages[0]');
    expect(present.problem).toBe(missing.problem);
    expect(present.problem).toContain(`not in the packages directory ${pkgDir}`);
    expect(present.problem).not.toMatch(/no such file|exist/i);
    // The field names the entry that is refused.
    expect(refusal([join(pkgDir, 'demo-1.0-py3-none-any.whl'), join(outside, 'secret-1.0-py3-none-any.whl')]).field).toBe('config.packages[1]');
  });

  it('refuses a link inside it that points out, whether or not its target is there', () => {
    const target = join(outside, 'target-1.0-py3-none-any.whl');
    const link = join(pkgDir, 'innocent-1.0-py3-none-any.whl');
    symlinkSync(target, link);
    const [dangling, resolving] = beforeAndAfterCreating(link, () => writeFileSync(target, 'secret'));
    expect(resolving.problem).toBe(dangling.problem);
    expect(resolving.problem).toContain(`not in the packages directory ${pkgDir}`);
    // A linked directory inside leads out just the same.
    symlinkSync(outside, join(pkgDir, 'linked-dir'));
    const [absent, present] = beforeAndAfterCreating(join(pkgDir, 'linked-dir', 'other-1.0-py3-none-any.whl'));
    expect(present.problem).toBe(absent.problem);
    expect(present.problem).toContain('not in the packages directory');
  });

  it.each([
    ['to a file outside', '../elsewhere/up-1.0-py3-none-any.whl'],
    ['to no file outside', '../elsewhere/missing-1.0-py3-none-any.whl'],
    ['back inside', 'sub/../demo-1.0-py3-none-any.whl'],
  ])("refuses '..' in the path, even where it would lead back inside: %s", (_where, relative) => {
    writeFileSync(join(outside, 'up-1.0-py3-none-any.whl'), 'secret');
    mkdirSync(join(pkgDir, 'sub'), { recursive: true });
    const err = refusal([`${pkgDir}/${relative}`]);
    expect(err.field).toBe('config.packages[0]');
    expect(err.problem).toMatch(/'\.\.' is not allowed/);
  });

  it('says that a file inside it is missing, or is not a file', () => {
    expect(refusal([join(pkgDir, 'missing-1.0-py3-none-any.whl')]).problem).toBe(
      `no such file in the packages directory ${pkgDir}: ${join(pkgDir, 'missing-1.0-py3-none-any.whl')}`,
    );
    mkdirSync(join(pkgDir, 'dir-1.0-py3-none-any.whl'));
    expect(refusal([join(pkgDir, 'dir-1.0-py3-none-any.whl')]).problem).toMatch(/^not a file/);
  });

  it('refuses a link inside to a file inside whose name is no package file', () => {
    writeFileSync(join(pkgDir, 'notes.txt'), 'x');
    symlinkSync(join(pkgDir, 'notes.txt'), join(pkgDir, 'notes-1.0.tgz'));
    const err = (() => {
      try {
        packagesOf([join(pkgDir, 'notes-1.0.tgz')], { dir: pkgDir }, RuntimeType.NODE);
      } catch (e) {
        return e as ValidationError;
      }
      throw new Error('accepted');
    })();
    expect(err.problem).toMatch(/is a link to .*notes\.txt/);
  });
});

describe('local packages by policy', () => {
  it("'anywhere' (the CLI) takes any existing file, by its real path", () => {
    const file = join(outside, 'cli-1.0.0.tgz');
    writeFileSync(file, 'tarball');
    symlinkSync(file, join(root, 'cli-link-1.0.0.tgz'));
    expect(packagesOf([file], 'anywhere', RuntimeType.NODE)).toEqual([file]);
    expect(packagesOf([join(root, 'cli-link-1.0.0.tgz')], 'anywhere', RuntimeType.NODE)).toEqual([file]);
    expect(() => packagesOf([join(outside, 'missing-1.0.0.tgz')], 'anywhere', RuntimeType.NODE)).toThrow(/no such file/);
  });

  it("an executor's default takes no host file at all, as it mounts no host directory", () => {
    const policy = requestPolicyOf({});
    expect(policy).toEqual({ allowHostMounts: false, localPackages: 'nowhere' });
    const request = create(ExecuteRequestSchema, { command: ['true'], config: { packages: [join(pkgDir, 'demo-1.0-py3-none-any.whl')] } });
    expect(() => normalizeRequest(request, policy)).toThrow(/config\.packages\[0\]: local package files are not allowed/);
    expect(() => requestPolicyOf({ localPackages: { dir: 'relative/packages' } })).toThrow(LoomError);
  });
});
