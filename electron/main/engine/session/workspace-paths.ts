// Where a session's files live and which paths may name them: the workspace is the sandbox's
// writable /tmp, and a path is relative to it. Checked here on the host (the shape of a path)
// and again in the container (where symbolic links are resolved: see workspace-files.ts).
import { ValidationError } from '../errors';
import { WRITABLE_DIR } from '../request/request';

export const WORKSPACE_DIR = WRITABLE_DIR;
/** The kernel's own files (its socket, its span file): no file call reaches them. */
export const KERNEL_DIR_NAME = '.loom-kernel';
export const DEFAULT_OUTPUT_DIR = 'outputs';

export interface FileLimitsSpec {
  maxFileBytes: number;
  maxTotalBytes: number;
  maxFiles: number;
}

export const DEFAULT_FILE_LIMITS: FileLimitsSpec = {
  maxFileBytes: 100 * 1024 * 1024,
  maxTotalBytes: 500 * 1024 * 1024,
  maxFiles: 1000,
};

/** The request's limits with zero meaning the default; negative ones are refused. */
export function fileLimitsOf(limits: { maxFileBytes?: bigint | number; maxTotalBytes?: bigint | number; maxFiles?: number } | undefined, field = 'file_limits'): FileLimitsSpec {
  const pick = (value: bigint | number | undefined, name: string, fallback: number): number => {
    const n = Number(value ?? 0);
    if (!Number.isSafeInteger(n) || n < 0) throw new ValidationError(`${field}.${name}`, `must be a whole number of 0 or more (0: the default), got ${String(value)}`);
    return n || fallback;
  };
  return {
    maxFileBytes: pick(limits?.maxFileBytes, 'max_file_bytes', DEFAULT_FILE_LIMITS.maxFileBytes),
    maxTotalBytes: pick(limits?.maxTotalBytes, 'max_total_bytes', DEFAULT_FILE_LIMITS.maxTotalBytes),
    maxFiles: pick(limits?.maxFiles, 'max_files', DEFAULT_FILE_LIMITS.maxFiles),
  };
}

/**
 * A workspace path, normalised (no empty or `.` segments): refused when absolute, when a
 * segment is `..`, when it holds a NUL or a backslash, or when it names the kernel's files.
 * `allowRoot` lets '' (or '.') name the workspace itself, for listings.
 */
export function workspacePath(path: string, field = 'path', allowRoot = false): string {
  if (typeof path !== 'string') throw new ValidationError(field, 'must be a string');
  if (path.includes('\0')) throw new ValidationError(field, 'must not contain a NUL character');
  if (path.startsWith('/')) throw new ValidationError(field, `'${path}' is absolute: give a path relative to the workspace (${WORKSPACE_DIR})`);
  if (path.includes('\\')) throw new ValidationError(field, `'${path}' contains a backslash: use '/' between directories`);
  if (path.length > 4096) throw new ValidationError(field, 'is longer than 4096 characters');
  const segments = path.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw new ValidationError(field, `'${path}' leaves the workspace ('..' is not allowed)`);
  if (segments[0] === KERNEL_DIR_NAME) throw new ValidationError(field, `'${path}' is the kernel's own directory`);
  if (!segments.length && !allowRoot) throw new ValidationError(field, 'must name a file in the workspace');
  return segments.join('/');
}

/** The absolute path in the container of a checked workspace path. */
export function containerPath(relative: string): string {
  return relative ? `${WORKSPACE_DIR}/${relative}` : WORKSPACE_DIR;
}

/** The MIME type of a file by its name, for artifacts and previews. */
export function mimeOf(path: string): string {
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase() ?? '';
  return MIME_BY_EXT[ext] ?? 'application/octet-stream';
}

const MIME_BY_EXT: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  svg: 'image/svg+xml',
  html: 'text/html',
  htm: 'text/html',
  json: 'application/json',
  csv: 'text/csv',
  txt: 'text/plain',
  md: 'text/markdown',
  py: 'text/x-python',
  js: 'text/javascript',
  pdf: 'application/pdf',
};
