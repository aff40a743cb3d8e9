// Content digests of host files (package archives, the CA bundle) for the package cache's key.
// An archive may be hundreds of megabytes and the engine runs in the app's main process: it is
// read as a stream (the reads run on libuv's thread pool and the event loop turns between
// chunks), and remembered by real path, size and times, so an unchanged file is read once.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';

const CHUNK_BYTES = 1024 * 1024;
const DEFAULT_MAX_ENTRIES = 1024;

export class FileDigests {
  /** By real path: the stamp the digest belongs to, and the digest (pending while it is read). */
  private readonly known = new Map<string, { stamp: string; digest: Promise<string> }>();
  /** How many times a file was actually read (a digest not served from memory). */
  reads = 0;

  constructor(private readonly maxEntries = DEFAULT_MAX_ENTRIES) {}

  /** The SHA-256 of the file's content, hex. */
  async digest(path: string): Promise<string> {
    const real = await realpath(path);
    const st = await stat(real);
    // ctime too: a rewrite that restores the old mtime (cp -p, touch -r) still changes it.
    const stamp = `${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    const known = this.known.get(real);
    if (known?.stamp === stamp) {
      // Most recently used last: the first entry is the one to forget.
      this.known.delete(real);
      this.known.set(real, known);
      return known.digest;
    }
    const digest = this.read(real);
    this.known.delete(real);
    this.known.set(real, { stamp, digest });
    if (this.known.size > this.maxEntries) this.known.delete(this.known.keys().next().value!);
    // A failed read is not remembered: the next call tries again.
    digest.catch(() => {
      if (this.known.get(real)?.digest === digest) this.known.delete(real);
    });
    return digest;
  }

  private async read(path: string): Promise<string> {
    this.reads++;
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path, { highWaterMark: CHUNK_BYTES })) hash.update(chunk as Buffer);
    return hash.digest('hex');
  }
}
