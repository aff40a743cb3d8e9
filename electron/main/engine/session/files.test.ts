// Files in and out of sessions and runs against the real engine: streaming both ways, every
// limit (per file, total, count) failing loudly with nothing written, every path refusal
// (.., absolute, a symbolic link out, the kernel's own files), artifacts of cells and of runs.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Artifact } from '../../../../shared/gen/loom/v1/docker_pb';
import { ValidationError } from '../errors';
import { createExecutor, type Executor } from '../executor';
import { requireEngineAndImages, text } from '../testing/test-support';
import { FileError, FileLimitError } from './workspace-files';

let executor: Executor;
let id: string;

beforeAll(async () => {
  await requireEngineAndImages();
  executor = await createExecutor({ minIdlePerConfig: 0, reapOrphans: false, fileLimits: { maxFileBytes: 64 * 1024, maxTotalBytes: 100 * 1024, maxFiles: 3 } });
  id = (await executor.sessions.create({ config: { name: 'files-test' }, fileLimits: { maxFileBytes: 64n * 1024n * 1024n, maxTotalBytes: 80n * 1024n * 1024n, maxFiles: 20 } })).id;
}, 60_000);

afterAll(async () => {
  await executor?.close();
});

async function collect(content: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of content) parts.push(chunk);
  return Buffer.concat(parts);
}

async function* chunks(total: number, size = 1 << 20): AsyncIterable<Uint8Array> {
  for (let at = 0; at < total; at += size) yield Buffer.alloc(Math.min(size, total - at), at % 251);
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('session files', () => {
  it('puts, lists, reads in a cell, gets and deletes a file', async () => {
    await executor.sessions.files.put(id, 'data/input.csv', Buffer.from('a,b\n1,2\n3,4\n'));
    const listed = await executor.sessions.files.list(id);
    expect(listed.map((e) => [e.path, e.isDir])).toEqual(expect.arrayContaining([['data', true], ['data/input.csv', false]]));
    const r = await executor.sessions.run({ sessionId: id, code: 'import csv\nrows = list(csv.reader(open("data/input.csv")))\nlen(rows)' });
    expect(text(r.outputs[0]!.items.find((i) => i.mime === 'text/plain')!.data)).toBe('3');
    const got = await executor.sessions.files.get(id, 'data/input.csv');
    expect(Number(got.entry.size)).toBe(12);
    expect((await collect(got.content)).toString()).toBe('a,b\n1,2\n3,4\n');
    await executor.sessions.files.delete(id, 'data/input.csv');
    await expect(executor.sessions.files.get(id, 'data/input.csv')).rejects.toThrow(FileError);
  }, 60_000);

  it('streams a 40 MB file in and out intact', async () => {
    const size = 40 * 1024 * 1024;
    const expected = createHash('sha256');
    for await (const c of chunks(size)) expected.update(c);
    await executor.sessions.files.put(id, 'big.bin', { size, stream: chunks(size) });
    const got = await executor.sessions.files.get(id, 'big.bin');
    const actual = createHash('sha256');
    let n = 0;
    for await (const c of got.content) {
      actual.update(c);
      n += c.length;
    }
    expect(n).toBe(size);
    expect(actual.digest('hex')).toBe(expected.digest('hex'));
    await executor.sessions.files.delete(id, 'big.bin');
  }, 120_000);

  it('refuses a file over each limit, naming the file and the limit, and writes nothing', async () => {
    const small = await executor.sessions.create({ config: { name: 'files-test' }, fileLimits: { maxFileBytes: 1000n, maxTotalBytes: 1500n, maxFiles: 2 } });
    const files = executor.sessions.files;
    await expect(files.put(small.id, 'too-big.bin', Buffer.alloc(1001))).rejects.toThrow(/too-big\.bin.*file_limits\.max_file_bytes is 1000 bytes/);
    await files.put(small.id, 'one.bin', Buffer.alloc(900));
    await expect(files.put(small.id, 'two.bin', Buffer.alloc(700))).rejects.toThrow(/two\.bin.*file_limits\.max_total_bytes/);
    await files.put(small.id, 'two.bin', Buffer.alloc(100));
    const third = files.put(small.id, 'three.bin', Buffer.alloc(1));
    await expect(third).rejects.toThrow(FileLimitError);
    await expect(third).rejects.toThrow(/three\.bin.*file_limits\.max_files is 2/);
    // A stream that ends short of the size it announced leaves no file behind.
    await expect(files.put(small.id, 'one.bin', { size: 500, stream: chunks(100) })).rejects.toThrow(/ended after 100 of the 500 bytes/);
    const left = (await files.list(small.id)).map((e) => [e.path, Number(e.size)]);
    expect(left).toEqual([['one.bin', 900], ['two.bin', 100]]);
    await executor.sessions.close(small.id);
  }, 60_000);

  it('refuses paths out of the workspace: .., absolute, a symbolic link out, the kernel\'s files', async () => {
    const files = executor.sessions.files;
    await expect(files.put(id, '../escape.txt', Buffer.from('x'))).rejects.toThrow(ValidationError);
    await expect(files.get(id, '/etc/passwd')).rejects.toThrow(/absolute/);
    await expect(files.get(id, '.loom-kernel/kernel.sock')).rejects.toThrow(/kernel's own/);
    await executor.sessions.run({ sessionId: id, code: 'import os\nos.symlink("/etc", "etc-link")\nos.symlink("/etc/hostname", "host-link")' });
    await expect(files.get(id, 'etc-link/passwd')).rejects.toThrow(/leads out of the workspace/);
    await expect(files.get(id, 'host-link')).rejects.toThrow(/leads out of the workspace/);
    await expect(files.put(id, 'etc-link/planted', Buffer.from('x'))).rejects.toThrow(/leads out of the workspace/);
    await expect(files.list(id, 'etc-link')).rejects.toThrow(/leads out of the workspace/);
    // Deleting the link removes the link, never what it points to.
    await files.delete(id, 'etc-link');
    expect((await files.list(id)).map((e) => e.path)).not.toContain('etc-link');
  }, 60_000);

  it('returns the files a cell wrote or changed under outputs/ as artifacts', async () => {
    const first = await executor.sessions.run({ sessionId: id, code: 'import os\nos.makedirs("outputs", exist_ok=True)\nopen("outputs/a.txt", "w").write("hello")\nopen("outputs/b.json", "w").write("{}")' });
    expect(first.artifacts.map((a) => [a.path, Number(a.size), a.mime])).toEqual([
      ['outputs/a.txt', 5, 'text/plain'],
      ['outputs/b.json', 2, 'application/json'],
    ]);
    const second = await executor.sessions.run({ sessionId: id, code: 'open("outputs/a.txt", "a").write("!")' });
    expect(second.artifacts.map((a) => a.path)).toEqual(['outputs/a.txt']);
    const got = await executor.sessions.files.get(id, 'outputs/a.txt');
    expect((await collect(got.content)).toString()).toBe('hello!');
  }, 60_000);
});

describe('run files', () => {
  it('brings files into a stateless run and takes its artifacts out before the clean-up', async () => {
    const seen: { artifact: Artifact; hash: string }[] = [];
    const r = await executor.execute(
      {
        command: ['python3', '-c', 'import os; d = open("in/data.txt").read(); os.makedirs("outputs"); open("outputs/upper.txt", "w").write(d.upper()); print(d)'],
        files: [{ path: 'in/data.txt', content: Buffer.from('abc') }],
        outputDir: 'outputs',
      },
      { onArtifact: async (artifact, content) => void seen.push({ artifact, hash: sha(await collect(content)) }) },
    );
    expect(text(r.stdout)).toBe('abc\n');
    expect(r.artifacts.map((a) => [a.path, Number(a.size), a.mime])).toEqual([['outputs/upper.txt', 3, 'text/plain']]);
    expect(seen.map((s) => [s.artifact.path, s.hash])).toEqual([['outputs/upper.txt', sha(Buffer.from('ABC'))]]);
    // The next run on the same container starts clean.
    const next = await executor.execute({ command: ['python3', '-c', 'import os; print(os.path.exists("in/data.txt"), os.path.exists("outputs"))'] });
    expect(text(next.stdout)).toBe('False False\n');
  }, 60_000);

  it('refuses run files over the executor\'s limits before running anything', async () => {
    await expect(executor.execute({ command: ['true'], files: [{ path: 'x.bin', content: Buffer.alloc(65 * 1024) }] })).rejects.toThrow(/x\.bin.*max_file_bytes/);
    const four = Array.from({ length: 4 }, (_, i) => ({ path: `f${i}`, content: Buffer.from('x') }));
    await expect(executor.execute({ command: ['true'], files: four })).rejects.toThrow(/max_files/);
    await expect(executor.execute({ command: ['true'], files: [{ path: '../x', content: Buffer.from('x') }] })).rejects.toThrow(/files\[0\]\.path/);
  });

  it('fails a run whose artifacts are over a limit, naming the file', async () => {
    const r = executor.execute({
      command: ['python3', '-c', 'import os; os.makedirs("outputs"); open("outputs/huge.bin", "wb").write(b"x" * 70000)'],
      outputDir: 'outputs',
    });
    await expect(r).rejects.toThrow(/outputs\/huge\.bin.*max_file_bytes/);
  }, 60_000);
});
