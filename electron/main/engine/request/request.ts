// Turns an ExecuteRequest into the validated, defaulted specs the engine works from.
// Every problem becomes a ValidationError naming the request field (its proto path).
import { createHash } from 'node:crypto';
import { isAbsolute, posix } from 'node:path';
import { IsolationLevel, NetworkMode, RuntimeType, type ExecuteRequest } from '../../../../shared/gen/loom/v1/docker_pb';
import {
  DEFAULT_COMPILE_TIMEOUT_SECONDS,
  defaultImage,
  DEFAULT_LIFECYCLE,
  DEFAULT_LIMITS,
  DEFAULT_MAX_OUTPUT_BYTES,
  MAX_LIMITS,
  MAX_SOURCE_BYTES,
  MIN_MEMORY_MB,
} from '../../../../shared/defaults';
import { ValidationError } from '../errors';
import { checkLocalPackagePolicy, resolveLocalPackage, type LocalPackagePolicy } from './local-packages';
import { CONFIG_NAME, ENV_NAME, IMAGE_REF, LOCAL_PACKAGE_FILE, MAX_COMMAND_BYTES, MAX_PACKAGES, NPM_SPEC, PIP_REQUIREMENT } from '../../../../shared/request-rules';
import { RUNTIMES, runtimeOf, type Language, type Runtime } from '../../../../shared/runtimes';
import { parseTraceParent, type TraceParent } from '../../../../shared/traces/traceparent';
import { isolationOf, type Isolation } from '../../../../shared/isolation';

export type { Isolation, Language, Runtime };
export type Network = 'none' | 'bridge';

export interface MountSpec {
  hostPath: string;
  containerPath: string;
  writable: boolean;
}

/** Everything that shapes a container. Two requests with equal specs can share containers. */
export interface ContainerSpec {
  name: string;
  image: string;
  runtime: Runtime;
  /** Sorted and de-duplicated; local files are their real (symlink-free) host paths. */
  packages: string[];
  cpuCores: number;
  memoryMb: number;
  storageMb: number;
  pidsLimit: number;
  network: Network;
  env: Record<string, string>;
  mounts: MountSpec[];
  /** runc (the engine's default runtime) or gvisor (runsc): never the same pool. */
  isolation: Isolation;
}

export interface LifecycleSpec {
  maxExecutions: number;
  rotationMs: number;
  healthCheckMs: number;
  autoCleanup: boolean;
}

/** A program given as source (ExecuteRequest.source), in its runtime's language. */
export interface SourceSpec {
  text: string;
  language: Language;
  compileTimeoutMs: number;
}

/** What one execution needs beyond its container. */
export interface RunSpec {
  /** The command; for a source program only a label (its language). */
  argv: string[];
  source?: SourceSpec;
  env: Record<string, string>;
  stdin: Uint8Array;
  timeoutMs: number;
  workingDir: string;
  maxOutputBytes: number;
}

export interface NormalizedRequest {
  container: ContainerSpec;
  lifecycle: LifecycleSpec;
  run: RunSpec;
  /** The caller's span the run's trace hangs under (ExecuteRequest.traceparent), if any. */
  traceParent?: TraceParent;
}

export type { LocalPackagePolicy };

/** What the embedding application lets requests reach on the host. One place decides. */
export interface RequestPolicy {
  /** Host directories may be mounted only when the embedding application allows it. */
  allowHostMounts: boolean;
  /** Which host files config.packages may name (they are mounted into a package builder). */
  localPackages: LocalPackagePolicy;
}

/** The policy of an executor made with these options: nothing on the host unless turned on. */
export function requestPolicyOf(options: { allowHostMounts?: boolean; localPackages?: LocalPackagePolicy }): RequestPolicy {
  return { allowHostMounts: options.allowHostMounts ?? false, localPackages: checkLocalPackagePolicy(options.localPackages ?? 'nowhere') };
}

/** Paths inside the container that belong to Loom itself. */
export const RESERVED_CONTAINER_PATHS = ['/opt/loom'];
export const WRITABLE_DIR = '/tmp';

const MAX_ENV_VALUE_BYTES = 128 * 1024;

export function normalizeRequest(req: ExecuteRequest, policy: RequestPolicy): NormalizedRequest {
  const config = req.config;
  const runtime = resolveRuntime(req.runtimeType, config?.runtimeType ?? RuntimeType.UNSPECIFIED);
  const limits = config?.resourceLimits;
  const timeoutSeconds =
    positiveInt(req.timeoutSeconds, 'timeout_seconds', 0, MAX_LIMITS.executionTimeoutSeconds) ||
    positiveInt(limits?.executionTimeoutSeconds ?? 0, 'config.resource_limits.execution_timeout_seconds', DEFAULT_LIMITS.executionTimeoutSeconds, MAX_LIMITS.executionTimeoutSeconds);

  const container: ContainerSpec = {
    name: configName(config?.name ?? ''),
    image: resolveImage(runtime, config?.imageSource),
    runtime,
    packages: normalizePackages(config?.packages ?? [], runtime, policy.localPackages),
    cpuCores: positiveNumber(limits?.cpuCores ?? 0, 'config.resource_limits.cpu_cores', DEFAULT_LIMITS.cpuCores, MAX_LIMITS.cpuCores),
    memoryMb: positiveInt(int64(limits?.memoryMb, 'config.resource_limits.memory_mb'), 'config.resource_limits.memory_mb', DEFAULT_LIMITS.memoryMb, MAX_LIMITS.memoryMb, MIN_MEMORY_MB),
    storageMb: positiveInt(int64(limits?.storageMb, 'config.resource_limits.storage_mb'), 'config.resource_limits.storage_mb', DEFAULT_LIMITS.storageMb, MAX_LIMITS.storageMb),
    pidsLimit: positiveInt(limits?.pidsLimit ?? 0, 'config.resource_limits.pids_limit', DEFAULT_LIMITS.pidsLimit, MAX_LIMITS.pidsLimit),
    network: resolveNetwork(config?.networkMode ?? NetworkMode.UNSPECIFIED),
    env: normalizeEnv(config?.env ?? {}, 'config.env'),
    mounts: normalizeMounts(config?.mounts ?? [], policy),
    isolation: resolveIsolation(config?.isolation ?? IsolationLevel.UNSPECIFIED),
  };

  const lc = config?.lifecycle;
  const lifecycle: LifecycleSpec = {
    maxExecutions: positiveInt(lc?.maxExecutions ?? 0, 'config.lifecycle.max_executions', DEFAULT_LIFECYCLE.maxExecutions, MAX_LIMITS.maxExecutions),
    rotationMs:
      positiveInt(lc?.rotationIntervalHours ?? 0, 'config.lifecycle.rotation_interval_hours', DEFAULT_LIFECYCLE.rotationIntervalHours, MAX_LIMITS.rotationIntervalHours) * 3_600_000,
    healthCheckMs:
      positiveInt(lc?.healthCheckIntervalSeconds ?? 0, 'config.lifecycle.health_check_interval_seconds', DEFAULT_LIFECYCLE.healthCheckIntervalSeconds, MAX_LIMITS.healthCheckIntervalSeconds) * 1000,
    autoCleanup: lc?.autoCleanup ?? DEFAULT_LIFECYCLE.autoCleanup,
  };

  const source = normalizeSource(req, runtime);
  const run: RunSpec = {
    argv: source ? [source.language] : normalizeCommand(req.command),
    source,
    env: normalizeEnv(req.env, 'env'),
    stdin: req.stdin,
    timeoutMs: timeoutSeconds * 1000,
    workingDir: req.workingDir ? absolutePath(req.workingDir, 'working_dir') : WRITABLE_DIR,
    maxOutputBytes: positiveInt(req.maxOutputBytes, 'max_output_bytes', DEFAULT_MAX_OUTPUT_BYTES, MAX_LIMITS.maxOutputBytes),
  };
  const traceParent = req.traceparent ? traceParentOf(req.traceparent) : undefined;
  return traceParent ? { container, lifecycle, run, traceParent } : { container, lifecycle, run };
}

/** A request's traceparent field, parsed: a ValidationError naming `traceparent` when it is not one. */
export function traceParentOf(value: string): TraceParent {
  const parsed = parseTraceParent(value);
  if ('problem' in parsed) throw new ValidationError('traceparent', parsed.problem);
  return parsed.parent;
}

/** A short, stable hash of everything that shapes a container (and of `extra`, e.g. package sources). */
export function poolKeyOf(spec: ContainerSpec, extra = ''): string {
  return createHash('sha256').update(JSON.stringify([spec, extra])).digest('hex').slice(0, 16);
}

function normalizeSource(req: ExecuteRequest, runtime: Runtime): SourceSpec | undefined {
  if (!req.source) {
    if (req.compileTimeoutSeconds) positiveInt(req.compileTimeoutSeconds, 'compile_timeout_seconds', 0, MAX_LIMITS.executionTimeoutSeconds);
    return undefined;
  }
  if (runtime === 'custom') throw new ValidationError('source', 'a custom image has no language to run source in: give a command, or a language runtime (its base_image may be yours)');
  if (req.command.length > 0) throw new ValidationError('command', 'give either a command or source, not both');
  const bytes = Buffer.byteLength(req.source);
  if (bytes > MAX_SOURCE_BYTES) throw new ValidationError('source', `${bytes} bytes is over the ${MAX_SOURCE_BYTES} byte limit`);
  const compileSeconds = positiveInt(req.compileTimeoutSeconds, 'compile_timeout_seconds', DEFAULT_COMPILE_TIMEOUT_SECONDS, MAX_LIMITS.executionTimeoutSeconds);
  return { text: req.source, language: runtime, compileTimeoutMs: compileSeconds * 1000 };
}

function resolveRuntime(fromRequest: RuntimeType, fromConfig: RuntimeType): Runtime {
  const check = (value: RuntimeType, field: string): Runtime | undefined => {
    if (value === RuntimeType.UNSPECIFIED) return undefined;
    const name = runtimeOf(value);
    if (!name) throw new ValidationError(field, `unknown runtime ${value} (expected one of ${RUNTIMES.map((r) => r.toUpperCase()).join(', ')})`);
    return name;
  };
  const a = check(fromRequest, 'runtime_type');
  const b = check(fromConfig, 'config.runtime_type');
  if (a && b && a !== b) throw new ValidationError('config.runtime_type', `${b} disagrees with runtime_type ${a}`);
  return a ?? b ?? 'python';
}

function resolveImage(runtime: Runtime, source: NonNullable<ExecuteRequest['config']>['imageSource'] | undefined): string {
  const field = source?.case === 'customImage' ? 'config.custom_image' : 'config.base_image';
  const image = source?.case ? source.value.trim() : '';
  if (!image) {
    if (runtime === 'custom') throw new ValidationError('config.custom_image', 'required for RUNTIME_TYPE_CUSTOM');
    return defaultImage(runtime);
  }
  if (!IMAGE_REF.test(image)) throw new ValidationError(field, `'${image}' is not a valid image reference`);
  return image;
}

function resolveNetwork(mode: NetworkMode): Network {
  switch (mode) {
    case NetworkMode.UNSPECIFIED:
    case NetworkMode.NONE:
      return 'none';
    case NetworkMode.BRIDGE:
      return 'bridge';
    default:
      throw new ValidationError('config.network_mode', `unknown network mode ${mode} (expected NONE or BRIDGE)`);
  }
}

function resolveIsolation(level: IsolationLevel): Isolation {
  const isolation = isolationOf(level);
  if (!isolation) throw new ValidationError('config.isolation', `unknown isolation level ${level} (expected RUNC or GVISOR)`);
  return isolation;
}

function configName(name: string): string {
  if (name === '') return '';
  if (!CONFIG_NAME.test(name)) {
    throw new ValidationError('config.name', `'${name}' must be 1-63 letters, digits, '_', '.' or '-', starting with a letter or digit`);
  }
  return name;
}

function normalizeCommand(command: string[]): string[] {
  if (command.length === 0) throw new ValidationError('command', 'must not be empty (or give source)');
  if (!command[0]) throw new ValidationError('command[0]', 'the program name must not be empty');
  let bytes = 0;
  command.forEach((arg, i) => {
    if (arg.includes('\0')) throw new ValidationError(`command[${i}]`, 'must not contain NUL bytes');
    bytes += Buffer.byteLength(arg);
  });
  if (bytes > MAX_COMMAND_BYTES) {
    throw new ValidationError('command', `${bytes} bytes is over the ${MAX_COMMAND_BYTES} byte limit; pass large programs on stdin`);
  }
  return [...command];
}

function normalizeEnv(env: Record<string, string>, field: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME.test(name)) {
      throw new ValidationError(`${field}.${name}`, 'an environment variable name must match [A-Za-z_][A-Za-z0-9_]*');
    }
    if (name.toUpperCase().startsWith('LOOM_')) {
      throw new ValidationError(`${field}.${name}`, 'names starting with LOOM_ are reserved for Loom itself');
    }
    if (value.includes('\0')) throw new ValidationError(`${field}.${name}`, 'the value must not contain NUL bytes');
    if (Buffer.byteLength(value) > MAX_ENV_VALUE_BYTES) {
      throw new ValidationError(`${field}.${name}`, `the value is over ${MAX_ENV_VALUE_BYTES} bytes`);
    }
    out[name] = value;
  }
  return out;
}

function normalizePackages(packages: string[], runtime: Runtime, localPackages: LocalPackagePolicy): string[] {
  if (packages.length === 0) return [];
  if (runtime !== 'python' && runtime !== 'node') {
    throw new ValidationError('config.packages', `packages are installed only for PYTHON and NODE; for ${runtime.toUpperCase()}, bake them into an image (config.base_image; see the README, "Languages")`);
  }
  if (packages.length > MAX_PACKAGES) throw new ValidationError('config.packages', `at most ${MAX_PACKAGES} packages`);
  const out = new Set<string>();
  packages.forEach((raw, i) => {
    const pkg = raw.trim();
    const field = `config.packages[${i}]`;
    if (!pkg) throw new ValidationError(field, 'must not be empty');
    if (pkg.startsWith('-')) throw new ValidationError(field, `'${pkg}' looks like an installer option, not a package`);
    if (isAbsolute(pkg)) {
      if (!LOCAL_PACKAGE_FILE[runtime].test(pkg)) {
        throw new ValidationError(field, `a local ${runtime === 'python' ? 'pip' : 'npm'} package must end in ${runtime === 'python' ? '.whl, .tar.gz or .zip' : '.tgz or .tar.gz'}`);
      }
      out.add(resolveLocalPackage(pkg, field, runtime, localPackages));
      return;
    }
    if (!(runtime === 'python' ? PIP_REQUIREMENT : NPM_SPEC).test(pkg)) {
      throw new ValidationError(
        field,
        runtime === 'python'
          ? `'${pkg}' is not a pip requirement like name, name==1.2 or name[extra]>=1,<2`
          : `'${pkg}' is not an npm package like name, @scope/name or name@^1.2`,
      );
    }
    out.add(pkg);
  });
  return [...out].sort();
}

function normalizeMounts(mounts: NonNullable<ExecuteRequest['config']>['mounts'], policy: RequestPolicy): MountSpec[] {
  if (mounts.length > 0 && !policy.allowHostMounts) {
    throw new ValidationError('config.mounts', 'host mounts are not allowed by this executor (allowHostMounts is off)');
  }
  return mounts.map((m, i) => {
    const field = `config.mounts[${i}]`;
    if (!isAbsolute(m.hostPath)) throw new ValidationError(`${field}.host_path`, 'must be an absolute path');
    const containerPath = absolutePath(m.containerPath, `${field}.container_path`);
    if (RESERVED_CONTAINER_PATHS.some((p) => containerPath === p || containerPath.startsWith(`${p}/`))) {
      throw new ValidationError(`${field}.container_path`, `${containerPath} is reserved for Loom`);
    }
    if (containerPath === '/') throw new ValidationError(`${field}.container_path`, 'cannot mount over /');
    // The writable places Loom empties after every run (mounts under /tmp are kept as they are).
    if (containerPath === WRITABLE_DIR || containerPath === '/dev' || containerPath.startsWith('/dev/')) {
      throw new ValidationError(`${field}.container_path`, `cannot mount over ${containerPath}: Loom cleans it after every run (mount below ${WRITABLE_DIR} instead)`);
    }
    return { hostPath: m.hostPath, containerPath, writable: m.writable };
  });
}

function absolutePath(path: string, field: string): string {
  if (!path.startsWith('/')) throw new ValidationError(field, `'${path}' must be an absolute path`);
  if (path.includes('\0')) throw new ValidationError(field, 'must not contain NUL bytes');
  const normal = posix.normalize(path);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

function int64(value: bigint | undefined, field: string): number {
  if (value === undefined) return 0;
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ValidationError(field, `${value} is out of range`);
  }
  return Number(value);
}

/** 0 means "not given": the default. Negative, fractional or absurd values are refused. */
function positiveInt(value: number, field: string, fallback: number, max: number, min = 1): number {
  if (value === 0) return fallback;
  if (!Number.isInteger(value)) throw new ValidationError(field, `${value} must be a whole number`);
  if (value < 0) throw new ValidationError(field, `${value} must not be negative`);
  if (value < min) throw new ValidationError(field, `${value} is below the minimum of ${min}`);
  if (value > max) throw new ValidationError(field, `${value} is over the maximum of ${max}`);
  return value;
}

function positiveNumber(value: number, field: string, fallback: number, max: number): number {
  if (value === 0) return fallback;
  if (!Number.isFinite(value)) throw new ValidationError(field, `${value} is not a number`);
  if (value < 0) throw new ValidationError(field, `${value} must not be negative`);
  if (value < 0.01) throw new ValidationError(field, `${value} is below the minimum of 0.01`);
  if (value > max) throw new ValidationError(field, `${value} is over the maximum of ${max}`);
  return value;
}
