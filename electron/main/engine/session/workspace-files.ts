// Files in and out of a sandbox's workspace (/tmp), through `docker exec` of POSIX tools
// (sh, realpath, stat, head, find: in every Debian-based image). The root filesystem is
// read-only, so the engine's putArchive is refused: bytes go in on an exec's stdin and come out
// on its stdout, streamed both ways (nothing is held whole in this process).
//
// Every path is checked twice: its shape here (workspace-paths.ts), and in the container after
// symbolic links are resolved (`realpath`), so that a link a program made cannot lead a file
// call out of the workspace.
import type Docker from 'dockerode';
import type { Duplex } from 'node:stream';
import { create } from '@bufbuild/protobuf';
import { FileEntrySchema, type FileEntry } from '../../../../shared/gen/loom/v1/docker_pb';
import { SANDBOX_USER } from '../container/container';
import { openExec, runExec } from '../container/exec';
import { FrameDemuxer } from '../container/output';
import { LoomError, ValidationError } from '../errors';
import { containerPath, KERNEL_DIR_NAME, WORKSPACE_DIR, workspacePath, type FileLimitsSpec } from './workspace-paths';

/** A file over one of the limits: names the file, the limit and its size. Nothing was written. */
export class FileLimitError extends LoomError {
  override name = 'FileLimitError';
  constructor(
    readonly path: string,
    readonly limit: 'max_file_bytes' | 'max_total_bytes' | 'max_files',
    readonly limitValue: number,
    detail: string,
  ) {
    super(`${path}: ${detail} (file_limits.${limit} is ${limit === 'max_files' ? limitValue : formatBytes(limitValue)}); nothing was written`);
  }
}

/** A file call that the container refused or could not do (no such file, a directory, ...). */
export class FileError extends LoomError {
  override name = 'FileError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${+(n / 1024 / 1024).toFixed(1)} MiB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/** What a file is written from: bytes in memory, or a stream of a known size. */
export type FileContent = Uint8Array | { size: number; stream: AsyncIterable<Uint8Array> };

// $1 is the path in the container. The checks print one status line first, which the host
// reads before anything else: "LOOM_OK ..." or "LOOM_ERR <why>".
const RESOLVE_INSIDE = `
inside() { case "$1" in ${WORKSPACE_DIR}/${KERNEL_DIR_NAME}|${WORKSPACE_DIR}/${KERNEL_DIR_NAME}/*) return 1;; ${WORKSPACE_DIR}|${WORKSPACE_DIR}/*) return 0;; esac; return 1; }
`;

const PUT = `${RESOLVE_INSIDE}
p=$(realpath -m -- "$1") || { echo "LOOM_ERR cannot resolve"; exit 0; }
inside "$p" && [ "$p" != ${WORKSPACE_DIR} ] || { echo "LOOM_ERR outside"; exit 0; }
[ -d "$p" ] && { echo "LOOM_ERR directory"; exit 0; }
mkdir -p -- "$(dirname -- "$p")" 2>/dev/null || { echo "LOOM_ERR cannot create its directory"; exit 0; }
part="$p.loom-part-$$"
echo "LOOM_OK"
# Only a whole file takes the name: a stream cut short leaves nothing behind.
head -c "$2" > "$part" || { rm -f -- "$part"; exit 3; }
[ "$(stat -c %s -- "$part")" = "$2" ] || { rm -f -- "$part"; exit 4; }
mv -f -- "$part" "$p"
`;

const GET = `${RESOLVE_INSIDE}
p=$(realpath -e -- "$1" 2>/dev/null) || { echo "LOOM_ERR missing"; exit 0; }
inside "$p" || { echo "LOOM_ERR outside"; exit 0; }
[ -f "$p" ] || { echo "LOOM_ERR notfile"; exit 0; }
echo "LOOM_OK $(stat -c '%s %Y' -- "$p")"
exec cat -- "$p"
`;

const LIST = `${RESOLVE_INSIDE}
p=$(realpath -e -- "$1" 2>/dev/null) || { echo "LOOM_ERR missing"; exit 0; }
inside "$p" || { echo "LOOM_ERR outside"; exit 0; }
echo "LOOM_OK"
find "$p" -mindepth 1 \\( -path ${WORKSPACE_DIR}/${KERNEL_DIR_NAME} -prune \\) -o -printf '%y %s %T@ %p\\0'
`;

// The link itself goes, not what it points to: only its directory is resolved.
const DELETE = `${RESOLVE_INSIDE}
d=$(realpath -e -- "$(dirname -- "$1")" 2>/dev/null) || { echo "LOOM_ERR missing"; exit 0; }
t="$d/$(basename -- "$1")"
inside "$d" && inside "$t" || { echo "LOOM_ERR outside"; exit 0; }
[ -e "$t" ] || [ -L "$t" ] || { echo "LOOM_ERR missing"; exit 0; }
rm -rf -- "$t" && echo "LOOM_OK"
`;

const shArgv = (script: string, ...args: string[]): string[] => ['sh', '-c', script, 'sh', ...args];

function refusal(path: string, why: string): Error {
  switch (why) {
    case 'outside':
      return new ValidationError('path', `'${path}' leads out of the workspace (${WORKSPACE_DIR}) through a symbolic link`);
    case 'missing':
      return new FileError(path, `${path}: no such file or directory in the workspace`);
    case 'notfile':
      return new FileError(path, `${path}: not a regular file`);
    case 'directory':
      return new FileError(path, `${path}: is a directory`);
    default:
      return new FileError(path, `${path}: ${why}`);
  }
}

/** Runs a check script, returns what followed "LOOM_OK" on its status line and the rest of stdout. */
async function runChecked(container: Docker.Container, path: string, script: string, args: string[]): Promise<{ status: string; rest: Buffer }> {
  const result = await runExec(container, { argv: shArgv(script, ...args), user: SANDBOX_USER, maxOutputBytes: 64 * 1024 * 1024, timeoutMs: 60_000 });
  const out = result.stdout;
  const nl = out.indexOf(0x0a);
  const line = (nl >= 0 ? out.subarray(0, nl) : out).toString('utf8');
  if (line.startsWith('LOOM_ERR ')) throw refusal(path, line.slice('LOOM_ERR '.length));
  if (!line.startsWith('LOOM_OK') || result.exitCode !== 0) {
    throw new FileError(path, `${path}: the file call failed in the container (exit ${result.exitCode}): ${result.stderr.toString('utf8').trim() || line}`);
  }
  return { status: line.slice('LOOM_OK'.length).trim(), rest: out.subarray(nl + 1) };
}

/** Every file and directory under `path` (the workspace when ''), kernel files left out. */
export async function listFiles(container: Docker.Container, path = ''): Promise<FileEntry[]> {
  const rel = workspacePath(path, 'path', true);
  const { rest } = await runChecked(container, rel || '.', LIST, [containerPath(rel)]);
  const entries: FileEntry[] = [];
  for (const record of rest.toString('utf8').split('\0')) {
    if (!record) continue;
    const [type, size, mtime, ...name] = record.split(' ');
    const full = name.join(' ');
    if (!full.startsWith(`${WORKSPACE_DIR}/`)) continue;
    entries.push(create(FileEntrySchema, { path: full.slice(WORKSPACE_DIR.length + 1), size: BigInt(size ?? 0), isDir: type === 'd', modifiedAtMs: Math.round(Number(mtime) * 1000) }));
  }
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Writes a file (its directories are made): refused over the limits, before a byte is sent.
 * The workspace's current files count towards the total and the count (a file replaced, minus itself).
 */
export async function putFile(container: Docker.Container, path: string, content: FileContent, limits: FileLimitsSpec): Promise<FileEntry> {
  const rel = workspacePath(path);
  const size = content instanceof Uint8Array ? content.length : content.size;
  if (!Number.isSafeInteger(size) || size < 0) throw new ValidationError('size', `must be a whole number of bytes, got ${size}`);
  if (size > limits.maxFileBytes) throw new FileLimitError(rel, 'max_file_bytes', limits.maxFileBytes, `${formatBytes(size)} is over the limit per file`);
  const existing = await listFiles(container);
  const files = existing.filter((e) => !e.isDir);
  const replaced = files.find((e) => e.path === rel);
  const total = files.reduce((sum, e) => sum + Number(e.size), 0) - Number(replaced?.size ?? 0) + size;
  if (total > limits.maxTotalBytes) {
    throw new FileLimitError(rel, 'max_total_bytes', limits.maxTotalBytes, `the workspace would hold ${formatBytes(total)}, over the total limit`);
  }
  const count = files.length + (replaced ? 0 : 1);
  if (count > limits.maxFiles) throw new FileLimitError(rel, 'max_files', limits.maxFiles, `the workspace would hold ${count} files, over the limit on their number`);
  await streamIn(container, rel, size, content);
  return create(FileEntrySchema, { path: rel, size: BigInt(size), isDir: false, modifiedAtMs: Date.now() });
}

/** Checks the files of one run against the limits (all of them, before any is written). */
export function checkRunFiles(files: { path: string; content: Uint8Array }[], limits: FileLimitsSpec): void {
  if (files.length > limits.maxFiles) throw new FileLimitError(`files (${files.length})`, 'max_files', limits.maxFiles, `${files.length} files are over the limit on their number`);
  let total = 0;
  files.forEach((f, i) => {
    const rel = workspacePath(f.path, `files[${i}].path`);
    if (f.content.length > limits.maxFileBytes) throw new FileLimitError(rel, 'max_file_bytes', limits.maxFileBytes, `${formatBytes(f.content.length)} is over the limit per file`);
    total += f.content.length;
    if (total > limits.maxTotalBytes) throw new FileLimitError(rel, 'max_total_bytes', limits.maxTotalBytes, `the files come to ${formatBytes(total)} with this one, over the total limit`);
  });
}

/** Writes one file's bytes through an exec's stdin, with backpressure; throws unless all landed. */
export async function streamIn(container: Docker.Container, rel: string, size: number, content: FileContent): Promise<void> {
  const { exec, stream } = await openExec(container, { argv: shArgv(PUT, containerPath(rel), String(size)), user: SANDBOX_USER });
  const status = statusLine(stream);
  const first = await status.line;
  if (first.startsWith('LOOM_ERR ')) {
    stream.destroy();
    throw refusal(rel, first.slice('LOOM_ERR '.length));
  }
  let sent = 0;
  try {
    const chunks = content instanceof Uint8Array ? [content] : content.stream;
    for await (const chunk of chunks) {
      sent += chunk.length;
      if (sent > size) throw new FileError(rel, `${rel}: the stream carried more than the ${size} bytes announced`);
      if (!stream.write(chunk)) await new Promise((resolve) => stream.once('drain', resolve));
    }
    if (sent < size) throw new FileError(rel, `${rel}: the stream ended after ${sent} of the ${size} bytes announced`);
  } catch (err) {
    stream.destroy();
    throw err;
  }
  stream.end();
  await status.ended;
  let info = await exec.inspect();
  for (let i = 0; info.Running && i < 100; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    info = await exec.inspect();
  }
  if (info.ExitCode !== 0) throw new FileError(rel, `${rel}: writing the file failed in the container (exit ${info.ExitCode}): ${status.stderr().trim() || 'the workspace may be full (storage_mb)'}`);
}

/** A file's bytes as a stream (with its size), read through an exec's stdout as they come. */
export async function getFile(container: Docker.Container, path: string): Promise<{ entry: FileEntry; content: AsyncIterable<Buffer> }> {
  const rel = workspacePath(path);
  const { stream } = await openExec(container, { argv: shArgv(GET, containerPath(rel)), user: SANDBOX_USER });
  stream.end();
  const status = statusLine(stream);
  const first = await status.line;
  if (!first.startsWith('LOOM_OK ')) {
    stream.destroy();
    throw first.startsWith('LOOM_ERR ') ? refusal(rel, first.slice('LOOM_ERR '.length)) : new FileError(rel, `${rel}: the container did not answer: ${status.stderr().trim()}`);
  }
  const [size, mtime] = first.slice('LOOM_OK '.length).split(' ').map(Number);
  const entry = create(FileEntrySchema, { path: rel, size: BigInt(size ?? 0), isDir: false, modifiedAtMs: (mtime ?? 0) * 1000 });
  // A read cut short (the container stopped, say) is an error, never a shorter file.
  async function* content(): AsyncIterable<Buffer> {
    let got = 0;
    try {
      for await (const chunk of status.rest) {
        got += chunk.length;
        yield chunk;
      }
    } finally {
      stream.destroy();
    }
    if (got !== size) throw new FileError(rel, `${rel}: the read ended after ${got} of its ${size} bytes`);
  }
  return { entry, content: content() };
}

export async function deleteFile(container: Docker.Container, path: string): Promise<void> {
  const rel = workspacePath(path);
  await runChecked(container, rel, DELETE, [containerPath(rel)]);
}

/**
 * Reads an exec's multiplexed stream: its first stdout line, then the rest of stdout as an
 * async iterable that pauses the stream while the consumer is behind.
 */
function statusLine(stream: Duplex): { line: Promise<string>; rest: AsyncIterable<Buffer>; ended: Promise<void>; stderr: () => string } {
  let head = Buffer.alloc(0);
  let gotLine: ((line: string) => void) | undefined;
  const line = new Promise<string>((resolve) => (gotLine = resolve));
  const queue: Buffer[] = [];
  let done = false;
  let wake: (() => void) | undefined;
  let stderr = '';
  const deliver = (chunk: Buffer): void => {
    queue.push(chunk);
    if (queue.length > 16) stream.pause();
    wake?.();
  };
  const demux = new FrameDemuxer((kind, payload) => {
    if (kind === 'stderr') {
      stderr = (stderr + payload.toString('utf8')).slice(-4096);
      return;
    }
    if (gotLine) {
      head = Buffer.concat([head, payload]);
      const nl = head.indexOf(0x0a);
      if (nl < 0) return;
      const resolve = gotLine;
      gotLine = undefined;
      resolve(head.subarray(0, nl).toString('utf8'));
      if (nl + 1 < head.length) deliver(head.subarray(nl + 1));
      return;
    }
    deliver(payload);
  });
  const ended = new Promise<void>((resolve) => {
    const end = (): void => {
      done = true;
      gotLine?.('LOOM_ERR the container ended the call early');
      wake?.();
      resolve();
    };
    stream.on('data', (chunk: Buffer) => demux.push(chunk));
    stream.once('end', end);
    stream.once('close', end);
    stream.on('error', end);
  });
  const rest: AsyncIterable<Buffer> = {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const next = queue.shift();
        if (next) {
          if (queue.length <= 4) stream.resume();
          yield next;
          continue;
        }
        if (done) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    },
  };
  return { line, rest, ended, stderr: () => stderr };
}
