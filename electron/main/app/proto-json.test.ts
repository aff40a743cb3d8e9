import { create, toJson } from '@bufbuild/protobuf';
import { deserialize, serialize } from 'node:v8';
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

  it("an output chunk's JSON reads as plain JSON through every way it leaves: JSON text, Electron's IPC serializer, structuredClone", () => {
    const bytes = new Uint8Array([104, 105, 10, 0, 255]);
    const json = executeEventJson(create(ExecuteEventSchema, { event: { case: 'stderr', value: bytes } }));
    const plain = { stderr: Buffer.from(bytes).toString('base64') };
    expect(JSON.parse(JSON.stringify(json))).toEqual(plain);
    // Electron's webContents.send serializes with V8's ValueSerializer, as v8.serialize does.
    expect(deserialize(serialize(json))).toEqual(plain);
    expect(structuredClone(json)).toEqual(plain);
    expect({ ...json }).toEqual(plain);
    expect(Object.keys(json)).toEqual(['stderr']);
  });

  it('other events have no bytes, and JSON made elsewhere is not mistaken for output made here', () => {
    const json = executeEventJson(create(ExecuteEventSchema, { event: { case: 'phase', value: {} } }));
    expect(outputBytesOf(json)).toBeUndefined();
    expect(outputBytesOf({ stdout: 'AAEC' })).toBeUndefined();
  });
});
