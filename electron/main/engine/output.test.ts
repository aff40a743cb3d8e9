import { describe, expect, it } from 'vitest';
import { CappedBuffer, FrameDemuxer, type StreamKind } from './output';

const frame = (type: number, payload: string): Buffer => {
  const body = Buffer.from(payload);
  const head = Buffer.alloc(8);
  head[0] = type;
  head.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, body]);
};

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
