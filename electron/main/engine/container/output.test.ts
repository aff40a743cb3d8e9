import { afterEach, describe, expect, it, vi } from 'vitest';
import { CappedBuffer, FrameDemuxer, type StreamKind } from './output';

const frameHead = (type: number, size: number): Buffer => {
  const head = Buffer.alloc(8);
  head[0] = type;
  head.writeUInt32BE(size, 4);
  return head;
};
const frame = (type: number, payload: string): Buffer => Buffer.concat([frameHead(type, Buffer.byteLength(payload)), Buffer.from(payload)]);

describe('FrameDemuxer', () => {
  it('reassembles frames split at every byte boundary and keeps streams apart', () => {
    const wire = Buffer.concat([frame(1, 'hello '), frame(2, 'oops'), frame(1, 'world'), frame(3, 'engine says no')]);
    for (const step of [1, 3, 7, 8, 9, wire.length]) {
      const got: Record<StreamKind, string> = { stdout: '', stderr: '' };
      const d = new FrameDemuxer((kind, p) => (got[kind] += p.toString()));
      for (let i = 0; i < wire.length; i += step) d.push(wire.subarray(i, i + step));
      expect(got).toEqual({ stdout: 'hello world', stderr: 'oopsengine says no' });
    }
  });

  afterEach(() => vi.restoreAllMocks());

  it('copies a large frame sent in many small reads about once, not once per read', () => {
    const payload = Buffer.alloc(1 << 20, 7);
    // The frame, then the start of the next one's header: 1 KiB reads straddle both ends.
    const wire = Buffer.concat([frameHead(1, payload.length), payload, frameHead(2, 5).subarray(0, 4)]);
    // Counted, not timed: the demuxer copies bytes only through Buffer.concat and Buffer.from.
    const copies = [vi.spyOn(Buffer, 'concat'), vi.spyOn(Buffer, 'from')];
    const frames: Buffer[] = [];
    const d = new FrameDemuxer((_kind, p) => frames.push(p));
    for (let i = 0; i < wire.length; i += 1024) d.push(wire.subarray(i, i + 1024));
    const copied = copies.flatMap((spy) => spy.mock.results).reduce((sum, r) => sum + (r.value as Buffer).length, 0);
    expect(frames).toHaveLength(1);
    expect(frames[0]!.equals(payload)).toBe(true);
    // One join of the reads the frame spans; re-joining on every read copies a gigabyte here.
    expect(copied).toBeLessThanOrEqual(wire.length);
  });
});

describe('CappedBuffer', () => {
  it('keeps the first bytes up to the cap and flags truncation', () => {
    const b = new CappedBuffer(5);
    b.push(Buffer.from('abc'));
    expect(b.truncated).toBe(false);
    b.push(Buffer.from('defgh'));
    b.push(Buffer.from('ij'));
    expect(b.bytes().toString()).toBe('abcde');
    expect(b.truncated).toBe(true);
  });
});
