import { create, toJson } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { ExecuteEventSchema } from '../../../shared/gen/loom/v1/docker_pb';
import { executeEventJson, outputBytesOf } from './proto-json';

describe('proto-json', () => {
  it('output chunks: the JSON toJson makes, and their bytes kept for a transport that sends bytes', () => {
    const bytes = new Uint8Array([0, 1, 2, 250, 255, 10]);
    for (const stream of ['stdout', 'stderr'] as const) {
      const event = create(ExecuteEventSchema, { event: { case: stream, value: bytes } });
      const json = executeEventJson(event);
      expect(json).toEqual(toJson(ExecuteEventSchema, event));
      expect(outputBytesOf(json)).toBe(bytes);
    }
    const empty = create(ExecuteEventSchema, { event: { case: 'stdout', value: new Uint8Array() } });
    expect(executeEventJson(empty)).toEqual({ stdout: '' });
  });

  it('other events have no bytes, and JSON made elsewhere is not mistaken for output made here', () => {
    const json = executeEventJson(create(ExecuteEventSchema, { event: { case: 'phase', value: {} } }));
    expect(outputBytesOf(json)).toBeUndefined();
    expect(outputBytesOf({ stdout: 'AAEC' })).toBeUndefined();
  });
});
