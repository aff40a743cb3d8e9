// "Copy as": the request the form describes, as a `loom exec` command line, as the JSON that
// startRun takes, and as TypeScript that calls the engine directly. Each takes the built
// request (not the form), so a run reopened from history copies exactly what it ran.
import type { ExecuteRequestJson } from '../../../shared/gen/loom/v1/docker_pb';
import { base64ToText } from './base64';
import { runtimeFromJson } from './request';
import { shellQuote } from './shell-words';

export type CopyFormat = 'cli' | 'json' | 'typescript';

export function copyAs(format: CopyFormat, request: ExecuteRequestJson): string {
  switch (format) {
    case 'cli':
      return toCliCommand(request);
    case 'json':
      return toJsonRequest(request);
    case 'typescript':
      return toTypeScript(request);
  }
}

const SOURCE_EXTENSIONS: Partial<Record<string, string>> = { python: 'py', node: 'js', bash: 'sh', go: 'go', rust: 'rs', ruby: 'rb', java: 'java' };

/** `npx loom exec [flags] -- argv`, every word shell-quoted; stdin is piped in with printf. */
export function toCliCommand(request: ExecuteRequestJson): string {
  const config = request.config ?? {};
  const limits = config.resourceLimits ?? {};
  const lifecycle = config.lifecycle ?? {};
  const runtime = runtimeFromJson(request.runtimeType) ?? runtimeFromJson(config.runtimeType) ?? 'python';
  const args: string[] = ['--runtime', runtime];
  const add = (flag: string, value: string | number | undefined): void => {
    if (value !== undefined && value !== '' && value !== 0 && value !== '0') args.push(flag, String(value));
  };
  add('--image', config.customImage ?? config.baseImage);
  for (const pkg of config.packages ?? []) add('--package', pkg);
  add('--cpus', typeof limits.cpuCores === 'number' ? limits.cpuCores : undefined);
  add('--memory', limits.memoryMb);
  add('--storage', limits.storageMb);
  add('--pids', limits.pidsLimit);
  add('--timeout', request.timeoutSeconds || limits.executionTimeoutSeconds);
  if (config.networkMode === 'NETWORK_MODE_BRIDGE') args.push('--network', 'bridge');
  if (config.isolation === 'ISOLATION_LEVEL_GVISOR') args.push('--isolation', 'gvisor');
  for (const [name, value] of Object.entries(request.env ?? {})) args.push('--env', `${name}=${value}`);
  add('--workdir', request.workingDir);
  add('--max-executions', lifecycle.maxExecutions);
  add('--rotation-hours', lifecycle.rotationIntervalHours);
  add('--name', config.name);

  const stdin = request.stdin ? base64ToText(request.stdin) : '';
  // A source program is read from a file (the editor's code, saved under the language's name).
  const source = request.source ? `main.${SOURCE_EXTENSIONS[runtime] ?? 'txt'}` : undefined;
  if (source) args.push('--code', source);
  if (request.compileTimeoutSeconds) args.push('--compile-timeout', String(request.compileTimeoutSeconds));
  if (stdin) args.push('--stdin', '-');
  const command = source ? [] : ['--', ...(request.command ?? [])];
  let line = ['npx', 'loom', 'exec', ...args, ...command].map(shellQuote).join(' ');
  if (stdin) line = `printf '%s' ${shellQuote(stdin)} | ${line}`;
  if (source) line = `# save the editor's code as ${source} first\n${line}`;

  // Said rather than silently dropped: the command would otherwise run something different.
  const missing: string[] = [];
  if (lifecycle.healthCheckIntervalSeconds) missing.push(`health check every ${lifecycle.healthCheckIntervalSeconds}s`);
  if (lifecycle.autoCleanup === false) missing.push('auto cleanup off');
  if (config.env && Object.keys(config.env).length > 0) missing.push('container env');
  if (config.mounts && config.mounts.length > 0) missing.push('mounts');
  if (request.maxOutputBytes) missing.push(`max output ${request.maxOutputBytes} bytes`);
  return missing.length > 0 ? `# loom exec has no flags for: ${missing.join(', ')}\n${line}` : line;
}

export function toJsonRequest(request: ExecuteRequestJson): string {
  return JSON.stringify(request, null, 2);
}

/** A script for the engine's own API (see README "Using the engine from code"). */
export function toTypeScript(request: ExecuteRequestJson): string {
  const config = request.config ?? {};
  const limits = config.resourceLimits ?? {};
  const lifecycle = config.lifecycle ?? {};
  const enums = new Set<string>();
  const enumValue = (type: 'RuntimeType' | 'NetworkMode' | 'IsolationLevel', json: string, prefix: string): string => {
    enums.add(type);
    return `${type}.${json.slice(prefix.length)}`;
  };
  const str = (s: string): string => JSON.stringify(s);

  const configLines: string[] = [];
  if (config.name) configLines.push(`name: ${str(config.name)},`);
  if (config.runtimeType) configLines.push(`runtimeType: ${enumValue('RuntimeType', config.runtimeType, 'RUNTIME_TYPE_')},`);
  if (config.customImage) configLines.push(`imageSource: { case: 'customImage', value: ${str(config.customImage)} },`);
  else if (config.baseImage) configLines.push(`imageSource: { case: 'baseImage', value: ${str(config.baseImage)} },`);
  if (config.packages?.length) configLines.push(`packages: [${config.packages.map(str).join(', ')}],`);
  const limitParts: string[] = [];
  if (typeof limits.cpuCores === 'number' && limits.cpuCores) limitParts.push(`cpuCores: ${limits.cpuCores}`);
  if (limits.memoryMb) limitParts.push(`memoryMb: ${limits.memoryMb}n`);
  if (limits.storageMb) limitParts.push(`storageMb: ${limits.storageMb}n`);
  if (limits.pidsLimit) limitParts.push(`pidsLimit: ${limits.pidsLimit}`);
  if (limits.executionTimeoutSeconds) limitParts.push(`executionTimeoutSeconds: ${limits.executionTimeoutSeconds}`);
  if (limitParts.length) configLines.push(`resourceLimits: { ${limitParts.join(', ')} },`);
  const lifecycleParts: string[] = [];
  if (lifecycle.maxExecutions) lifecycleParts.push(`maxExecutions: ${lifecycle.maxExecutions}`);
  if (lifecycle.rotationIntervalHours) lifecycleParts.push(`rotationIntervalHours: ${lifecycle.rotationIntervalHours}`);
  if (lifecycle.healthCheckIntervalSeconds) lifecycleParts.push(`healthCheckIntervalSeconds: ${lifecycle.healthCheckIntervalSeconds}`);
  if (lifecycle.autoCleanup !== undefined) lifecycleParts.push(`autoCleanup: ${lifecycle.autoCleanup}`);
  if (lifecycleParts.length) configLines.push(`lifecycle: { ${lifecycleParts.join(', ')} },`);
  if (config.networkMode && config.networkMode !== 'NETWORK_MODE_UNSPECIFIED') {
    configLines.push(`networkMode: ${enumValue('NetworkMode', config.networkMode, 'NETWORK_MODE_')},`);
  }
  if (config.isolation && config.isolation !== 'ISOLATION_LEVEL_UNSPECIFIED') {
    configLines.push(`isolation: ${enumValue('IsolationLevel', config.isolation, 'ISOLATION_LEVEL_')},`);
  }
  if (config.env && Object.keys(config.env).length) configLines.push(`env: ${objectLiteral(config.env)},`);
  if (config.mounts?.length) configLines.push(`mounts: ${JSON.stringify(config.mounts)},`);

  const lines: string[] = [];
  if (request.runtimeType) lines.push(`runtimeType: ${enumValue('RuntimeType', request.runtimeType, 'RUNTIME_TYPE_')},`);
  if (request.source) lines.push(`source: ${templateLiteral(request.source)},`);
  else lines.push(`command: [${(request.command ?? []).map((arg, i, all) => (i === all.length - 1 && arg.includes('\n') ? templateLiteral(arg) : str(arg))).join(', ')}],`);
  if (request.compileTimeoutSeconds) lines.push(`compileTimeoutSeconds: ${request.compileTimeoutSeconds},`);
  if (configLines.length) lines.push('config: {', ...configLines.map((l) => `  ${l}`), '},');
  if (request.env && Object.keys(request.env).length) lines.push(`env: ${objectLiteral(request.env)},`);
  if (request.stdin) lines.push(`stdin: new TextEncoder().encode(${str(base64ToText(request.stdin))}),`);
  if (request.timeoutSeconds) lines.push(`timeoutSeconds: ${request.timeoutSeconds},`);
  if (request.workingDir) lines.push(`workingDir: ${str(request.workingDir)},`);
  if (request.maxOutputBytes) lines.push(`maxOutputBytes: ${request.maxOutputBytes},`);

  const imports = [`import { createExecutor } from './electron/main/engine/executor';`];
  if (enums.size) imports.push(`import { ${[...enums].sort().join(', ')} } from './shared/gen/loom/v1/docker_pb';`);
  return [
    ...imports,
    '',
    'const executor = await createExecutor();',
    'try {',
    '  const res = await executor.execute({',
    ...lines.map((l) => `    ${l}`),
    '  });',
    '  const text = new TextDecoder();',
    '  console.log(res.exitCode, res.containerCreated ? "cold" : "warm", `${res.durationMs.toFixed(1)} ms`);',
    '  process.stdout.write(text.decode(res.stdout));',
    '  process.stderr.write(text.decode(res.stderr));',
    '} finally {',
    '  await executor.close();',
    '}',
    '',
  ].join('\n');
}

function objectLiteral(record: Record<string, string>): string {
  return `{ ${Object.entries(record)
    .map(([k, v]) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}: ${JSON.stringify(v)}`)
    .join(', ')} }`;
}

/** Multi-line program text reads best as a template literal; escape what would be interpreted. */
function templateLiteral(text: string): string {
  return `\`${text.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${')}\``;
}
