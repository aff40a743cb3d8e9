import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildLocalIndex } from './wheels';

describe('buildLocalIndex', () => {
  it('lays out a PEP 503 index of importable wheels that another user can read', () => {
    const index = buildLocalIndex([
      { name: 'loomtesta', version: '1.0', value: 'a' },
      { name: 'loomtestb', version: '2.1', value: 'b' },
    ]);
    try {
      expect(index.requirements).toEqual(['loomtesta==1.0', 'loomtestb==2.1']);
      const wheel = join(index.index, 'loomtestb', 'loomtestb-2.1-py3-none-any.whl');
      expect(readFileSync(join(index.index, 'loomtestb', 'index.html'), 'utf8')).toContain('href="loomtestb-2.1-py3-none-any.whl"');
      expect(readFileSync(join(index.index, 'index.html'), 'utf8')).toContain('href="loomtesta/"');
      // Readable by uid 65534 (pip in the install container): 0755 directories, 0644 files.
      for (const dir of [index.root, index.index, join(index.index, 'loomtesta')]) expect(statSync(dir).mode & 0o777).toBe(0o755);
      expect(statSync(wheel).mode & 0o777).toBe(0o644);
      // A real wheel: the module inside it imports and holds its value.
      const value = execFileSync('python3', ['-c', 'import sys; sys.path.insert(0, sys.argv[1]); import loomtestb; print(loomtestb.VALUE)', wheel]);
      expect(value.toString()).toBe('b\n');
    } finally {
      index.remove();
    }
    expect(existsSync(index.root)).toBe(false);
  });

  it('refuses a project name that is not already normalized, and leaves nothing behind', () => {
    const ours = (): string[] => readdirSync(tmpdir()).filter((n) => n.startsWith('loom-bench-index-'));
    const before = ours();
    expect(() => buildLocalIndex([{ name: 'Not_Normal', version: '1.0', value: 'x' }])).toThrow(/lowercase/);
    expect(ours()).toEqual(before);
  });
});
