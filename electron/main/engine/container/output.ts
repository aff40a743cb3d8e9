// Docker multiplexes an exec's stdout and stderr on one stream in frames:
// [stream type (1 byte), 0, 0, 0, payload length (uint32 big-endian)] then the payload.
// Frames can arrive split across reads, or several in one read; this reassembles them.

export type StreamKind = 'stdout' | 'stderr';

export class FrameDemuxer {
  // The bytes of frames not yet complete, as they arrived: a frame is joined once, when its
  // last piece is here, so a large frame sent in many small reads costs its size in copies
  // rather than (its size × its reads) — as FrameParser does for the runner's frames.
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly onFrame: (kind: StreamKind, payload: Buffer) => void) {}

  push(data: Buffer): void {
    if (!data.length) return;
    this.chunks.push(data);
    this.buffered += data.length;
    while (this.buffered >= 8) {
      const size = this.peek(8).readUInt32BE(4);
      if (this.buffered < 8 + size) return;
      const frame = this.take(8 + size);
      // 1 = stdout, 2 = stderr; 3 carries errors from the engine itself, shown as stderr.
      if (size) this.onFrame(frame[0] === 1 ? 'stdout' : 'stderr', frame.subarray(8));
    }
  }

  /** The first `n` bytes (n ≤ buffered), joining only the chunks they span. */
  private peek(n: number): Buffer {
    const first = this.chunks[0] as Buffer;
    if (first.length >= n) return first.subarray(0, n);
    let count = 1;
    for (let size = first.length; size < n; count++) size += (this.chunks[count] as Buffer).length;
    const joined = Buffer.concat(this.chunks.slice(0, count));
    this.chunks.splice(0, count, joined);
    return joined.subarray(0, n);
  }

  private take(n: number): Buffer {
    const bytes = this.peek(n);
    const first = this.chunks[0] as Buffer;
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return bytes;
  }
}

/** Keeps the first `limit` bytes of a stream and remembers whether anything was dropped. */
export class CappedBuffer {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    const room = this.limit - this.size;
    if (chunk.length > room) {
      this.truncated = true;
      if (room <= 0) return;
      chunk = chunk.subarray(0, room);
    }
    this.chunks.push(Buffer.from(chunk));
    this.size += chunk.length;
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks, this.size);
  }
}
