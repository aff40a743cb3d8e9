import { describe, expect, it } from 'vitest';
import { outputFrameHeader, readOutputFrame } from './output-frame';

const frameOf = (runId: string, stream: 'stdout' | 'stderr', bytes: Uint8Array): Uint8Array => {
  const header = outputFrameHeader(runId, stream);
  const frame = new Uint8Array(header.length + bytes.length);
  frame.set(header);
  frame.set(bytes, header.length);
  return frame;
};

describe('output frames', () => {
  it('carry the run, the stream and the bytes as they were', () => {
    const bytes = new Uint8Array([0, 10, 255, 0xe2, 0x82, 0xac]);
    const runId = '3f2a6c1e-0b1d-4a7e-9c1f-2d3e4f5a6b7c';
    expect(readOutputFrame(frameOf(runId, 'stderr', bytes))).toEqual({ runId, stream: 'stderr', bytes });
    expect(readOutputFrame(frameOf(runId, 'stdout', new Uint8Array()))).toEqual({ runId, stream: 'stdout', bytes: new Uint8Array() });
  });

  it('refuse what is not one, and run ids they cannot carry', () => {
    expect(readOutputFrame(new Uint8Array([3, 0]))).toBeNull();
    expect(readOutputFrame(new Uint8Array([1, 5, 97]))).toBeNull();
    expect(readOutputFrame(new Uint8Array())).toBeNull();
    expect(() => outputFrameHeader('x'.repeat(256), 'stdout')).toThrow(/does not fit/);
    expect(() => outputFrameHeader('é', 'stdout')).toThrow(/ASCII/);
  });
});
