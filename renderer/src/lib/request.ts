// Between the form and the wire: the request the form describes (proto3 JSON, exactly what
// startRun and prewarm take) and, the other way, the form a stored request reopens as
// (history, examples). A reopened request must run again unchanged, so parts the form has no
// fields for are carried in `preserved`, and a command the editor cannot hold as "program
// + code" keeps all of its words in the command field.
import type {
  ContainerLifecycleConfigJson,
  DockerBackendConfigJson,
  ExecuteRequestJson,
  ResourceLimitsJson,
} from '../../../shared/gen/loom/v1/docker_pb';
import { RUNTIME_JSON, runtimeFromJson } from '../../../shared/runtimes';
import { DEFAULT_ISOLATION, ISOLATION_JSON, isolationFromJson } from '../../../shared/isolation';
import { base64ToText, textToBase64 } from './base64';
import { DEFAULT_COMMANDS, emptyForm, sendsSource, type EnvRow, type FormState, type Runtime } from './form-state';
import { shellQuote, splitShellWords } from './shell-words';
import { validatePackage } from './validate';

export interface Draft {
  runtime: Runtime;
  code: string;
  stdin: string;
  form: FormState;
}

export { RUNTIME_JSON, runtimeFromJson };

/** Flags after which the last word is the program text (python -c CODE, node -e CODE). */
const CODE_FLAGS = new Set(['-c', '-e', '--eval', '-p', '--print']);

/** The argv: the command field's words, then the editor's code (unless it is empty). */
export function buildCommand(command: string, code: string): string[] {
  const words = splitShellWords(command);
  return code === '' && !CODE_FLAGS.has(words[words.length - 1] ?? '') ? words : [...words, code];
}

/** The packages to install: the chips, plus a valid spec still being typed (not lost on Run). */
export function effectivePackages(form: FormState, runtime: Runtime): string[] {
  const draft = form.packageDraft.trim();
  const all = draft !== '' && validatePackage(draft, runtime) === undefined ? [...form.packages, draft] : form.packages;
  return [...new Set(all)];
}

/** The request for a valid form (call validateForm first: invalid numbers would be sent as-is). */
export function buildRequest(draft: Draft): ExecuteRequestJson {
  const { runtime, form } = draft;
  const runtimeType = RUNTIME_JSON[runtime];
  const config: DockerBackendConfigJson = { runtimeType };
  if (form.configName) config.name = form.configName;
  const image = form.image.trim();
  if (image) {
    if (runtime === 'custom') config.customImage = image;
    else config.baseImage = image;
  }
  const packages = effectivePackages(form, runtime);
  if (packages.length > 0) config.packages = packages;

  const limits: ResourceLimitsJson = {};
  const num = (raw: string): number | undefined => (raw.trim() === '' ? undefined : Number(raw.trim()));
  const cpu = num(form.cpuCores);
  if (cpu !== undefined) limits.cpuCores = cpu;
  if (form.memoryMb.trim()) limits.memoryMb = String(Number(form.memoryMb.trim()));
  if (form.storageMb.trim()) limits.storageMb = String(Number(form.storageMb.trim()));
  const pids = num(form.pidsLimit);
  if (pids !== undefined) limits.pidsLimit = pids;
  const timeout = num(form.timeoutSeconds);
  if (timeout !== undefined) limits.executionTimeoutSeconds = timeout;
  if (Object.keys(limits).length > 0) config.resourceLimits = limits;

  const lifecycle: ContainerLifecycleConfigJson = {};
  const maxExecutions = num(form.maxExecutions);
  if (maxExecutions !== undefined) lifecycle.maxExecutions = maxExecutions;
  const rotation = num(form.rotationHours);
  if (rotation !== undefined) lifecycle.rotationIntervalHours = rotation;
  const health = num(form.healthCheckSeconds);
  if (health !== undefined) lifecycle.healthCheckIntervalSeconds = health;
  if (!form.autoCleanup) lifecycle.autoCleanup = false;
  if (Object.keys(lifecycle).length > 0) config.lifecycle = lifecycle;

  if (form.network === 'bridge') config.networkMode = 'NETWORK_MODE_BRIDGE';
  if (form.isolation !== DEFAULT_ISOLATION) config.isolation = ISOLATION_JSON[form.isolation];
  if (form.preserved.configEnv && Object.keys(form.preserved.configEnv).length > 0) config.env = { ...form.preserved.configEnv };
  if (form.preserved.mounts && form.preserved.mounts.length > 0) config.mounts = [...form.preserved.mounts];

  // A language runtime with no command of the user's: the editor's code is the program's source.
  const asSource = sendsSource(runtime, form.command);
  const request: ExecuteRequestJson = asSource ? { runtimeType, source: draft.code, config } : { runtimeType, command: buildCommand(form.command, draft.code), config };
  const env = envObject(form.env);
  if (Object.keys(env).length > 0) request.env = env;
  if (draft.stdin !== '') request.stdin = textToBase64(draft.stdin);
  if (form.workingDir) request.workingDir = form.workingDir;
  if (form.outputDir) request.outputDir = form.outputDir;
  if (form.preserved.maxOutputBytes) request.maxOutputBytes = form.preserved.maxOutputBytes;
  return request;
}

function envObject(rows: readonly EnvRow[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const row of rows) if (row.name !== '') env[row.name] = row.value;
  return env;
}

/** The form, editor and stdin that a stored request reopens as. */
export function requestToDraft(request: ExecuteRequestJson): Draft {
  const config = request.config ?? {};
  const runtime = runtimeFromJson(request.runtimeType) ?? runtimeFromJson(config.runtimeType) ?? 'python';
  const form = emptyForm(runtime);
  const { command, code } = request.source ? { command: '', code: request.source } : splitCommand(request.command ?? [], runtime);
  form.command = command;
  form.image = config.customImage ?? config.baseImage ?? '';
  form.packages = [...(config.packages ?? [])];
  form.configName = config.name ?? '';
  const limits = config.resourceLimits ?? {};
  const text = (value: number | string | undefined): string =>
    value === undefined || value === 0 || value === '0' || typeof value === 'string' && !/^[\d.]+$/.test(value) ? '' : String(value);
  form.cpuCores = text(limits.cpuCores);
  form.memoryMb = text(limits.memoryMb);
  form.storageMb = text(limits.storageMb);
  form.pidsLimit = text(limits.pidsLimit);
  // A per-run timeout overrides the config's; the form has one timeout field.
  form.timeoutSeconds = text(request.timeoutSeconds || limits.executionTimeoutSeconds);
  const lifecycle = config.lifecycle ?? {};
  form.maxExecutions = text(lifecycle.maxExecutions);
  form.rotationHours = text(lifecycle.rotationIntervalHours);
  form.healthCheckSeconds = text(lifecycle.healthCheckIntervalSeconds);
  form.autoCleanup = lifecycle.autoCleanup ?? true;
  form.network = config.networkMode === 'NETWORK_MODE_BRIDGE' ? 'bridge' : 'none';
  form.isolation = isolationFromJson(config.isolation);
  form.env = Object.entries(request.env ?? {}).map(([name, value], i) => ({ id: i + 1, name, value }));
  form.workingDir = request.workingDir ?? '';
  form.outputDir = request.outputDir ?? '';
  if (config.env && Object.keys(config.env).length > 0) form.preserved.configEnv = { ...config.env };
  if (config.mounts && config.mounts.length > 0) form.preserved.mounts = [...config.mounts];
  if (request.maxOutputBytes) form.preserved.maxOutputBytes = request.maxOutputBytes;
  return { runtime, code, stdin: request.stdin ? base64ToText(request.stdin) : '', form };
}

/** ['python3', '-c', CODE] → "python3 -c" + CODE; anything else keeps every word in the command. */
export function splitCommand(argv: readonly string[], runtime: Runtime): { command: string; code: string } {
  if (argv.length === 0) return { command: DEFAULT_COMMANDS[runtime], code: '' };
  if (argv.length >= 2 && CODE_FLAGS.has(argv[argv.length - 2] as string)) {
    return { command: argv.slice(0, -1).map(shellQuote).join(' '), code: argv[argv.length - 1] as string };
  }
  return { command: argv.map(shellQuote).join(' '), code: '' };
}
