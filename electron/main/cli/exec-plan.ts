// `loom exec`'s parsed options turned into what the run needs: the ExecuteRequest, the executor's
// options (engine, package sources, keep-warm, OTLP) and how to report. Values are parsed
// strictly here but range-checked by the engine, the one source of truth for limits.
import { create } from '@bufbuild/protobuf';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { DEFAULT_LIMITS } from '../../../shared/defaults';
import { ExecuteRequestSchema, InputFileSchema, IsolationLevel, NetworkMode, type ExecuteRequest } from '../../../shared/gen/loom/v1/docker_pb';
import { ISOLATION_LEVELS, ISOLATIONS } from '../../../shared/isolation';
import { RUNTIME_TYPES, RUNTIMES } from '../../../shared/runtimes';
import { parseTraceParent } from '../../../shared/traces/traceparent';
import type { PackageSources } from '../engine/packages/packages';
import { tracesUrl } from '../engine/tracing/otlp-url';
import {
  UsageError,
  flag,
  listOption,
  parseBigInteger,
  parseChoice,
  parseDecimal,
  parseEnvPairs,
  parseInteger,
  stringOption,
  type ParsedValues,
} from './args';
import type { Io } from './format';
import { keepWarmFromEnv, NETWORKS } from './exec-options';

const NETWORK_MODES: Record<(typeof NETWORKS)[number], NetworkMode> = { none: NetworkMode.NONE, bridge: NetworkMode.BRIDGE };

export interface ExecPlan {
  request: ExecuteRequest;
  dockerHost?: string;
  packageSources: PackageSources;
  json: boolean;
  quiet: boolean;
  /** Print the span tree on stderr after the run. */
  trace: boolean;
  /** Undefined: the environment's default. */
  otlpEndpoint?: string;
  /** For the notes after the run: the timeout and memory limit in force. */
  timeoutSeconds: number;
  memoryMb: string;
  /** Park the container for the next process this long; 0 removes it at exit. */
  keepWarmSeconds: number;
  /** Where the run's artifacts go (--artifacts), if anywhere. */
  artifactsDir?: string;
}

/**
 * `signal` stops the wait for `--stdin -` (an interrupted run must not hang on our stdin); `env`
 * is where TRACEPARENT and LOOM_KEEP_WARM come from (a native client's, when a host plans for it).
 */
export async function planExec(values: ParsedValues, command: string[], io: Io, signal: AbortSignal, env: NodeJS.ProcessEnv = process.env): Promise<ExecPlan> {
  const str = (name: string): string | undefined => stringOption(values, name);
  const int = (name: string): number => {
    const raw = str(name);
    return raw === undefined ? 0 : parseInteger(name, raw);
  };
  const int64 = (name: string): bigint => {
    const raw = str(name);
    return raw === undefined ? 0n : parseBigInteger(name, raw);
  };

  const runtime = parseChoice('runtime', str('runtime') ?? 'python', RUNTIMES);
  const network = str('network');
  const isolation = str('isolation');
  const image = str('image');
  const cpuRaw = str('cpus');
  const timeoutSeconds = int('timeout');
  const memoryMb = int64('memory');
  const code = str('code');
  if (code === '-' && str('stdin') === '-') throw new UsageError("--code - and --stdin - both want our stdin: give one of them a file", '--code');
  const request = create(ExecuteRequestSchema, {
    runtimeType: RUNTIME_TYPES[runtime],
    command,
    source: code === undefined ? '' : (await readInput('code', code, io, signal)).toString('utf8'),
    compileTimeoutSeconds: int('compile-timeout'),
    env: parseEnvPairs('env', listOption(values, 'env')),
    stdin: new Uint8Array(await readInput('stdin', str('stdin'), io, signal)),
    workingDir: str('workdir') ?? '',
    traceparent: traceParentOption(str('traceparent'), env),
    config: {
      name: str('name') ?? '',
      runtimeType: RUNTIME_TYPES[runtime],
      imageSource: image === undefined ? { case: undefined } : { case: runtime === 'custom' ? 'customImage' : 'baseImage', value: image },
      packages: listOption(values, 'package').map(localPackagePath),
      networkMode: network === undefined ? NetworkMode.UNSPECIFIED : NETWORK_MODES[parseChoice('network', network, NETWORKS)],
      isolation: isolation === undefined ? IsolationLevel.UNSPECIFIED : ISOLATION_LEVELS[parseChoice('isolation', isolation, ISOLATIONS)],
      resourceLimits: {
        cpuCores: cpuRaw === undefined ? 0 : parseDecimal('cpus', cpuRaw),
        memoryMb,
        storageMb: int64('storage'),
        pidsLimit: int('pids'),
        executionTimeoutSeconds: timeoutSeconds,
      },
      lifecycle: { maxExecutions: int('max-executions'), rotationIntervalHours: int('rotation-hours') },
    },
  });

  request.files = (await Promise.all(listOption(values, 'file').map(readInputFile))).map((f) => create(InputFileSchema, f));
  const artifactsDir = str('artifacts');
  if (artifactsDir !== undefined) {
    if (!artifactsDir) throw new UsageError('--artifacts: give a directory', '--artifacts');
    request.outputDir = 'outputs';
  }

  const packageSources: PackageSources = {};
  const pipIndex = str('pip-index-url');
  if (pipIndex !== undefined) packageSources.pipIndexUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(pipIndex) ? pipIndex : hostPath('pip-index-url', pipIndex);
  const findLinks = str('pip-find-links');
  if (findLinks !== undefined) packageSources.pipFindLinks = hostPath('pip-find-links', findLinks);
  const registry = str('npm-registry');
  if (registry !== undefined) packageSources.npmRegistry = registry;
  const ca = str('ca-file');
  if (ca !== undefined) packageSources.caFile = hostPath('ca-file', ca);

  const otlpEndpoint = str('otlp');
  if (otlpEndpoint) {
    try {
      tracesUrl(otlpEndpoint);
    } catch {
      throw new UsageError(`--otlp expects an http:// or https:// URL, got '${otlpEndpoint}'`, '--otlp');
    }
  }

  const json = flag(values, 'json');
  return {
    request,
    dockerHost: str('host'),
    packageSources,
    json,
    quiet: flag(values, 'quiet') || json,
    trace: flag(values, 'trace') && !json,
    otlpEndpoint,
    timeoutSeconds: timeoutSeconds || DEFAULT_LIMITS.executionTimeoutSeconds,
    memoryMb: memoryMb ? memoryMb.toString() : String(DEFAULT_LIMITS.memoryMb),
    keepWarmSeconds: values['keep-warm'] !== undefined ? int('keep-warm') : keepWarmFromEnv(env),
    artifactsDir: artifactsDir === undefined ? undefined : resolve(artifactsDir),
  };
}

/** --traceparent, else TRACEPARENT from our environment (an instrumented parent process sets it). */
function traceParentOption(option: string | undefined, env: NodeJS.ProcessEnv): string {
  const [value, source] = option !== undefined ? [option, '--traceparent'] : [env['TRACEPARENT'] ?? '', 'TRACEPARENT'];
  if (value === '') return '';
  const parsed = parseTraceParent(value);
  if ('problem' in parsed) throw new UsageError(`${source}: ${parsed.problem}`, source);
  return value.trim();
}

/**
 * --file LOCAL[:PATH]: the last ':' separates PATH when what comes before it is a file here
 * (so that a local name with a colon still works alone).
 */
async function readInputFile(spec: string): Promise<{ path: string; content: Uint8Array }> {
  const colon = spec.lastIndexOf(':');
  const split = colon > 0 && existsSync(spec.slice(0, colon)) && !existsSync(spec);
  const local = split ? spec.slice(0, colon) : spec;
  const path = split ? spec.slice(colon + 1) : basename(local);
  try {
    return { path, content: await readFile(local) };
  } catch (err) {
    throw new UsageError(`--file: cannot read ${local}: ${(err as Error).message}`, '--file');
  }
}

/** A host path for a package source, made absolute (it is mounted into the container). */
function hostPath(option: string, path: string): string {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new UsageError(`--${option}: no such file or directory: ${path}`, `--${option}`);
  return abs;
}

/** `./pkg.whl` and `../x.tgz` are local files: the engine wants them absolute. */
function localPackagePath(pkg: string): string {
  return pkg.startsWith('./') || pkg.startsWith('../') ? resolve(pkg) : pkg;
}

/** A file, or with '-' all of our own stdin, for --stdin and --code. */
async function readInput(option: string, source: string | undefined, io: Io, signal: AbortSignal): Promise<Buffer> {
  if (source === undefined) return Buffer.alloc(0);
  if (source !== '-') {
    try {
      return await readFile(source);
    } catch (err) {
      throw new UsageError(`--${option}: cannot read ${source}: ${(err as Error).message}`, `--${option}`);
    }
  }
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of io.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  })();
  const aborted = new Promise<void>((res) => signal.addEventListener('abort', () => res(), { once: true }));
  await Promise.race([done, aborted]);
  return Buffer.concat(chunks);
}
