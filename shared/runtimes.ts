// The runtimes by name, as the CLI, the request form and container labels spell them, and as the
// proto's RuntimeType: its number in messages and its name in proto3 JSON. The one map of them.
import { RuntimeType, type RuntimeTypeJson } from './gen/loom/v1/docker_pb';

export const RUNTIMES = ['python', 'node', 'bash', 'go', 'rust', 'ruby', 'java', 'custom'] as const;
export type Runtime = (typeof RUNTIMES)[number];
/** The runtimes with a language: their programs may come as source (ExecuteRequest.source). */
export type Language = Exclude<Runtime, 'custom'>;
/** The languages whose source is compiled in the container before it runs (PHASE_COMPILE). */
export const COMPILED_LANGUAGES: readonly Language[] = ['go', 'rust', 'java'];

export const RUNTIME_TYPES: Readonly<Record<Runtime, RuntimeType>> = {
  python: RuntimeType.PYTHON,
  node: RuntimeType.NODE,
  bash: RuntimeType.BASH,
  go: RuntimeType.GO,
  rust: RuntimeType.RUST,
  ruby: RuntimeType.RUBY,
  java: RuntimeType.JAVA,
  custom: RuntimeType.CUSTOM,
};

export const RUNTIME_JSON: Readonly<Record<Runtime, RuntimeTypeJson>> = {
  python: 'RUNTIME_TYPE_PYTHON',
  node: 'RUNTIME_TYPE_NODE',
  bash: 'RUNTIME_TYPE_BASH',
  go: 'RUNTIME_TYPE_GO',
  rust: 'RUNTIME_TYPE_RUST',
  ruby: 'RUNTIME_TYPE_RUBY',
  java: 'RUNTIME_TYPE_JAVA',
  custom: 'RUNTIME_TYPE_CUSTOM',
};

/** Whether a runtime's source is compiled before it runs. */
export function isCompiled(runtime: Runtime): boolean {
  return (COMPILED_LANGUAGES as readonly string[]).includes(runtime);
}

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
