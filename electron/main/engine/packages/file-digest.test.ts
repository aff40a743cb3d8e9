// Digests of package archives: streamed, and read again only when the file changed.
import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileDigests } from './file-digest';

let dir = '';
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'loom-digest-'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('FileDigests', () => {
  it('reads an unchanged file once, also through a link to it and when asked twice at once', async () => {
    const file = join(dir, 'same-1.0.0.tgz');
    writeFileSync(file, 'archive one');
    symlinkSync(file, join(dir, 'link-1.0.0.tgz'));
    const digests = new FileDigests();
    const [a, b] = await Promise.all([digests.digest(file), digests.digest(file)]);
    expect(a).toBe(sha256('archive one'));
    expect(b).toBe(a);
    expect(await digests.digest(file)).toBe(a);
    expect(await digests.digest(join(dir, 'link-1.0.0.tgz'))).toBe(a);
    expect(digests.reads).toBe(1);
  });

  it('reads the file again after its content and mtime change, at the same size', async () => {
    const file = join(dir, 'mtime-1.0.0.tgz');
    writeFileSync(file, 'version 1');
    utimesSync(file, 1_000_000, 1_000_000);
    const digests = new FileDigests();
    expect(await digests.digest(file)).toBe(sha256('version 1'));
    writeFileSync(file, 'version 2');
    utimesSync(file, 2_000_000, 2_000_000);
    expect(await digests.digest(file)).toBe(sha256('version 2'));
    expect(digests.reads).toBe(2);
  });

  it('reads the file again after its size changes, even with the old mtime put back', async () => {
    const file = join(dir, 'size-1.0.0.tgz');
    writeFileSync(file, 'short');
    utimesSync(file, 1_000_000, 1_000_000);
    const digests = new FileDigests();
    expect(await digests.digest(file)).toBe(sha256('short'));
    appendFileSync(file, ' and longer');
    utimesSync(file, 1_000_000, 1_000_000);
    expect(statSync(file).mtimeMs).toBe(1_000_000_000);
    expect(await digests.digest(file)).toBe(sha256('short and longer'));
    expect(digests.reads).toBe(2);
  });

  it('forgets the least recently used files past its bound, and a failed read', async () => {
    const digests = new FileDigests(2);
    const files = ['a', 'b', 'c'].map((name) => {
      const file = join(dir, `lru-${name}.tgz`);
      writeFileSync(file, name);
      return file;
    });
    for (const file of files) await digests.digest(file);
    expect(digests.reads).toBe(3);
    await digests.digest(files[2]!);
    expect(digests.reads).toBe(3);
    await digests.digest(files[0]!);
    expect(digests.reads).toBe(4);
    await expect(digests.digest(join(dir, 'missing.tgz'))).rejects.toThrow(/ENOENT/);
  });
});
