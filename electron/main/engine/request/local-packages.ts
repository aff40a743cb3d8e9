// Which host files a request may name as packages (config.packages entries that are absolute
// paths). Such a file is mounted into a package builder that may have a network, so a request
// that could come from a page (the app, the browser host) must not reach an arbitrary host file,
// nor learn from the error whether one exists. The CLI's user names their own files.
import { lstatSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, relative, sep } from 'node:path';
import { hasParentSegment, LOCAL_PACKAGE_FILE } from '../../../../shared/request-rules';
import { LoomError, ValidationError } from '../errors';

/**
 * 'anywhere': any existing file (the CLI). { dir }: only files whose real path lies under dir,
 * symbolic links resolved (the app and the browser host). 'nowhere': no host file at all.
 */
export type LocalPackagePolicy = 'anywhere' | 'nowhere' | { dir: string };

/** Refuses a policy that cannot be applied (a relative directory would depend on the cwd). */
export function checkLocalPackagePolicy(policy: LocalPackagePolicy): LocalPackagePolicy {
  if (typeof policy === 'object' && !isAbsolute(policy.dir)) {
    throw new LoomError(`the packages directory must be an absolute path, got '${policy.dir}'`);
  }
  return policy;
}

/**
 * The real path of the local package `path` (absolute, with a package file's extension), which
 * is what gets hashed and mounted; a ValidationError on `field` when the policy refuses it.
 */
export function resolveLocalPackage(path: string, field: string, runtime: 'python' | 'node', policy: LocalPackagePolicy): string {
  if (path.includes('\0')) throw new ValidationError(field, 'must not contain NUL bytes');
  if (hasParentSegment(path)) throw new ValidationError(field, `'..' is not allowed in a local package path`);
  if (policy === 'nowhere') {
    throw new ValidationError(field, 'local package files are not allowed by this executor (localPackages is nowhere); name a package from the index or registry');
  }
  const real = policy === 'anywhere' ? existingFile(path, field) : fileUnder(path, policy.dir, field);
  // npm tells a tarball from a directory by its name, pip a wheel from an sdist: the file that
  // is mounted (under its real name) must have a package file's name too.
  if (!LOCAL_PACKAGE_FILE[runtime].test(real)) {
    const names = runtime === 'python' ? '.whl, .tar.gz or .zip' : '.tgz or .tar.gz';
    throw new ValidationError(field, `${path} is a link to ${real}, whose name does not end in ${names} as a local package file's must`);
  }
  return real;
}

function existingFile(path: string, field: string): string {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    throw new ValidationError(field, `no such file: ${path}`);
  }
  if (!statSync(real).isFile()) throw new ValidationError(field, `not a file: ${path}`);
  return real;
}

/**
 * Decided on real paths, so a link inside the directory that leads out is refused. Whatever is
 * refused for being outside gets one message, whether or not a file is there: only inside the
 * directory may the answer say that a file is missing.
 */
function fileUnder(path: string, dir: string, field: string): string {
  const outside = (): ValidationError =>
    new ValidationError(field, `${path} is not in the packages directory ${dir}: local packages must be files there (links that lead out of it do not count)`);
  let dirReal: string;
  try {
    dirReal = realpathSync(dir);
  } catch {
    throw new ValidationError(field, `local packages must be files in the packages directory ${dir}, which does not exist`);
  }
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    if (missingInside(path, dirReal)) throw new ValidationError(field, `no such file in the packages directory ${dir}: ${path}`);
    throw outside();
  }
  if (!isUnder(real, dirReal)) throw outside();
  if (!statSync(real).isFile()) throw new ValidationError(field, `not a file: ${path}`);
  return real;
}

/**
 * Whether `path` is missing below a directory that really is inside `dirReal`: walking up from
 * it, nothing at all is there (not even a dangling link, which could point anywhere) until an
 * ancestor that exists and resolves inside.
 */
function missingInside(path: string, dirReal: string): boolean {
  for (let p = path; ; ) {
    try {
      lstatSync(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return false;
      const up = dirname(p);
      if (up === p) return false;
      p = up;
      continue;
    }
    if (p === path) return false;
    try {
      const real = realpathSync(p);
      return real === dirReal || isUnder(real, dirReal);
    } catch {
      return false;
    }
  }
}

function isUnder(real: string, dirReal: string): boolean {
  const rel = relative(dirReal, real);
  return rel !== '' && !isAbsolute(rel) && rel.split(sep)[0] !== '..';
}
