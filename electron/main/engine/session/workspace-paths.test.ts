// The shape of workspace paths: what is refused before anything reaches a container.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors';
import { fileLimitsOf, mimeOf, workspacePath, DEFAULT_FILE_LIMITS } from './workspace-paths';

describe('workspacePath', () => {
  it('normalises relative paths', () => {
    expect(workspacePath('a/./b//c.txt')).toBe('a/b/c.txt');
    expect(workspacePath('', 'path', true)).toBe('');
    expect(workspacePath('.', 'path', true)).toBe('');
  });

  it.each([
    ['../etc/passwd', /leaves the workspace/],
    ['a/../../b', /leaves the workspace/],
    ['/etc/passwd', /absolute/],
    ['a\\b', /backslash/],
    ['a\0b', /NUL/],
    ['.loom-kernel/kernel.sock', /kernel's own/],
    ['', /must name a file/],
  ])('refuses %j', (path, message) => {
    expect(() => workspacePath(path, 'path')).toThrow(ValidationError);
    expect(() => workspacePath(path, 'path')).toThrow(message);
  });
});

describe('fileLimitsOf', () => {
  it('takes zero as the default and refuses negatives, naming the field', () => {
    expect(fileLimitsOf(undefined)).toEqual(DEFAULT_FILE_LIMITS);
    expect(fileLimitsOf({ maxFileBytes: 10n, maxFiles: 0 })).toEqual({ ...DEFAULT_FILE_LIMITS, maxFileBytes: 10 });
    expect(() => fileLimitsOf({ maxFiles: -1 })).toThrow(/file_limits.max_files/);
  });
});

describe('mimeOf', () => {
  it('knows the common types and falls back to octet-stream', () => {
    expect(mimeOf('outputs/plot.PNG')).toBe('image/png');
    expect(mimeOf('data.csv')).toBe('text/csv');
    expect(mimeOf('blob')).toBe('application/octet-stream');
  });
});
