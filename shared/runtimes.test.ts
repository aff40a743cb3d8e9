import { enumToJson } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { RuntimeType, RuntimeTypeSchema } from './gen/loom/v1/docker_pb';
import { RUNTIME_JSON, RUNTIME_TYPES, RUNTIMES, isRuntime, runtimeFromJson, runtimeOf, runtimeTypeOf } from './runtimes';

describe('runtimes', () => {
  it('maps every runtime both ways, and its JSON name is the one protobuf-es writes', () => {
    for (const name of RUNTIMES) {
      expect(runtimeOf(RUNTIME_TYPES[name])).toBe(name);
      expect(runtimeTypeOf(name)).toBe(RUNTIME_TYPES[name]);
      expect(RUNTIME_JSON[name]).toBe(enumToJson(RuntimeTypeSchema, RUNTIME_TYPES[name]));
      expect(runtimeFromJson(RUNTIME_JSON[name])).toBe(name);
    }
  });

  it('covers every RuntimeType the proto has but UNSPECIFIED', () => {
    const named = RuntimeTypeSchema.values.map((v) => v.number).filter((n) => n !== RuntimeType.UNSPECIFIED);
    expect(RUNTIMES.map((r) => RUNTIME_TYPES[r]).sort()).toEqual(named.sort());
  });

  it('names nothing for UNSPECIFIED, unknown numbers and unknown names', () => {
    expect(runtimeOf(RuntimeType.UNSPECIFIED)).toBeUndefined();
    expect(runtimeOf(99 as RuntimeType)).toBeUndefined();
    expect(runtimeTypeOf('perl')).toBe(RuntimeType.UNSPECIFIED);
    expect(runtimeTypeOf('')).toBe(RuntimeType.UNSPECIFIED);
    expect(runtimeFromJson('RUNTIME_TYPE_UNSPECIFIED')).toBeUndefined();
    expect(runtimeFromJson(undefined)).toBeUndefined();
    expect(isRuntime('node')).toBe(true);
    expect(isRuntime('Node')).toBe(false);
  });
});
