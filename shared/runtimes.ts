// The runtimes by name, as the CLI, the request form and container labels spell them, and as the
// proto's RuntimeType: its number in messages and its name in proto3 JSON. The one map of them.
import { RuntimeType, type RuntimeTypeJson } from './gen/loom/v1/docker_pb';

export const RUNTIMES = ['python', 'node', 'custom'] as const;
export type Runtime = (typeof RUNTIMES)[number];

export const RUNTIME_TYPES: Readonly<Record<Runtime, RuntimeType>> = {
  python: RuntimeType.PYTHON,
  node: RuntimeType.NODE,
  custom: RuntimeType.CUSTOM,
};

export const RUNTIME_JSON: Readonly<Record<Runtime, RuntimeTypeJson>> = {
  python: 'RUNTIME_TYPE_PYTHON',
  node: 'RUNTIME_TYPE_NODE',
  custom: 'RUNTIME_TYPE_CUSTOM',
};

export function isRuntime(name: unknown): name is Runtime {
  return (RUNTIMES as readonly unknown[]).includes(name);
}

/** The runtime a RuntimeType names; undefined for UNSPECIFIED and for numbers the proto lacks. */
export function runtimeOf(type: RuntimeType): Runtime | undefined {
  return RUNTIMES.find((r) => RUNTIME_TYPES[r] === type);
}

/** A runtime's name (a container label, say) as a RuntimeType: UNSPECIFIED when it names none. */
export function runtimeTypeOf(name: string): RuntimeType {
  return isRuntime(name) ? RUNTIME_TYPES[name] : RuntimeType.UNSPECIFIED;
}

/** The runtime a proto3 JSON RuntimeType names; undefined for UNSPECIFIED or none. */
export function runtimeFromJson(value: RuntimeTypeJson | undefined): Runtime | undefined {
  return RUNTIMES.find((r) => RUNTIME_JSON[r] === value);
}
