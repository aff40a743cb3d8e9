// Docker multiplexes an exec's stdout and stderr on one stream in frames:
// [stream type (1 byte), 0, 0, 0, payload length (uint32 big-endian)] then the payload.
// Frames can arrive split across reads, or several in one read; this reassembles them.

export type StreamKind = 'stdout' | 'stderr';

export class FrameDemuxer {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (kind: StreamKind, payload: Buffer) => void) {}

  push(data: Buffer): void {
    let buf = this.pending.length ? Buffer.concat([this.pending, data]) : data;
    while (buf.length >= 8) {
      const size = buf.readUInt32BE(4);
      if (buf.length < 8 + size) break;
      const type = buf[0];
      const payload = buf.subarray(8, 8 + size);
      // 1 = stdout, 2 = stderr; 3 carries errors from the engine itself, shown as stderr.
      if (payload.length) this.onFrame(type === 1 ? 'stdout' : 'stderr', payload);
      buf = buf.subarray(8 + size);
    }
    this.pending = buf.length ? Buffer.from(buf) : Buffer.alloc(0);
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
