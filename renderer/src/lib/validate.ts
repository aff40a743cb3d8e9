// The request form's rules, checked as the user types, with the engine's own patterns
// (shared/request-rules.ts), so that a request the form lets through is one the engine
// accepts; the engine still validates everything, and its ValidationError is shown if the two
// ever disagree. Pure: no DOM, no store.
import { MAX_LIMITS, MAX_SOURCE_BYTES, MIN_MEMORY_MB } from '../../../shared/defaults';
import { NUMBER_FIELDS, sendsSource, type FormState, type NumberField, type Runtime } from './form-state';
import { ShellWordsError, splitShellWords } from './shell-words';
import { CONFIG_NAME, ENV_NAME, hasParentSegment, IMAGE_REF, LOCAL_PACKAGE_FILE, MAX_COMMAND_BYTES, MAX_PACKAGES, NPM_SPEC, PIP_REQUIREMENT } from '../../../shared/request-rules';

/** Field key → message. Env rows use `env.<id>.name`, chips `packages.<index>`. */
export type FormErrors = Partial<Record<string, string>>;

interface NumberRule {
  integer: boolean;
  min: number;
  max: number;
  unit: string;
}

export const NUMBER_RULES: Record<NumberField, NumberRule> = {
  cpuCores: { integer: false, min: 0.01, max: MAX_LIMITS.cpuCores, unit: 'cores' },
  memoryMb: { integer: true, min: MIN_MEMORY_MB, max: MAX_LIMITS.memoryMb, unit: 'MB' },
  storageMb: { integer: true, min: 1, max: MAX_LIMITS.storageMb, unit: 'MB' },
  pidsLimit: { integer: true, min: 1, max: MAX_LIMITS.pidsLimit, unit: 'processes' },
  timeoutSeconds: { integer: true, min: 1, max: MAX_LIMITS.executionTimeoutSeconds, unit: 's' },
  maxExecutions: { integer: true, min: 1, max: MAX_LIMITS.maxExecutions, unit: 'runs' },
  rotationHours: { integer: true, min: 1, max: MAX_LIMITS.rotationIntervalHours, unit: 'h' },
  healthCheckSeconds: { integer: true, min: 1, max: MAX_LIMITS.healthCheckIntervalSeconds, unit: 's' },
};

/** Checks one number field as typed; '' (the default) is always fine. */
export function validateNumber(field: NumberField, raw: string): string | undefined {
  const text = raw.trim();
  if (text === '') return undefined;
  const rule = NUMBER_RULES[field];
  const number = rule.integer ? /^[+-]?\d+$/ : /^[+-]?(?:\d+\.?\d*|\.\d+)$/;
  if (!number.test(text)) return rule.integer ? `Enter a whole number of ${rule.unit}` : `Enter a number of ${rule.unit}, like 0.5 or 2`;
  const value = Number(text);
  if (value < 0) return 'Must not be negative';
  if (value === 0) return `Must be at least ${rule.min} ${rule.unit} (leave empty for the default)`;
  if (value < rule.min) {
    return field === 'memoryMb' ? `Docker needs at least ${rule.min} MB` : `Must be at least ${rule.min} ${rule.unit}`;
  }
  if (value > rule.max) return `At most ${rule.max.toLocaleString('en-US')} ${rule.unit}`;
  return undefined;
}

/** A package spec as pip or npm would take it, refusing anything that looks like an option. */
export function validatePackage(raw: string, runtime: Runtime): string | undefined {
  const pkg = raw.trim();
  if (pkg === '') return 'Enter a package name';
  if (runtime !== 'python' && runtime !== 'node') return 'Packages are installed for Python and Node only; bake them into a custom image';
  if (pkg.startsWith('-')) return `'${pkg}' looks like an installer option, not a package`;
  if (/\s/.test(pkg)) return 'A package spec has no spaces';
  // A local file: the engine takes it only from Loom's packages directory (and its error names
  // that directory); what the form can tell alone is the name and a path that climbs out.
  if (pkg.startsWith('/')) {
    if (!LOCAL_PACKAGE_FILE[runtime].test(pkg)) {
      return `A local ${runtime === 'python' ? 'pip' : 'npm'} package must end in ${runtime === 'python' ? '.whl, .tar.gz or .zip' : '.tgz or .tar.gz'}`;
    }
    return hasParentSegment(pkg) ? "A local package is a file in Loom's packages directory: no '..' in its path" : undefined;
  }
  if (runtime === 'python') {
    return PIP_REQUIREMENT.test(pkg) ? undefined : `Not a pip requirement: use name, name==1.2 or name[extra]>=1,<2`;
  }
  return NPM_SPEC.test(pkg) ? undefined : 'Not an npm package: use name, @scope/name or name@^1.2';
}

export function validateEnvName(name: string): string | undefined {
  if (name === '') return 'Enter a name';
  if (!ENV_NAME.test(name)) return 'Letters, digits and _ only, not starting with a digit';
  if (name.toUpperCase().startsWith('LOOM_')) return 'Names starting with LOOM_ are reserved for Loom';
  return undefined;
}

export function validateImage(image: string, runtime: Runtime): string | undefined {
  const text = image.trim();
  if (text === '') return runtime === 'custom' ? 'A custom runtime needs an image' : undefined;
  return IMAGE_REF.test(text) ? undefined : 'Not an image reference like name:tag or registry/name:tag';
}

export function validateWorkingDir(dir: string): string | undefined {
  if (dir === '') return undefined;
  if (!dir.startsWith('/')) return 'Must be an absolute path, like /tmp/work';
  return undefined;
}

export function validateConfigName(name: string): string | undefined {
  if (name === '') return undefined;
  return CONFIG_NAME.test(name) ? undefined : "1-63 letters, digits, '_', '.' or '-', starting with a letter or digit";
}

export function validateCommand(command: string): string | undefined {
  try {
    const words = splitShellWords(command);
    if (words.length === 0 || words[0] === '') return 'Enter the program to run, like python3 -c';
    return undefined;
  } catch (err) {
    if (err instanceof ShellWordsError) return `Cannot read the command: ${err.message}`;
    throw err;
  }
}

export function validateCode(code: string): string | undefined {
  const bytes = new TextEncoder().encode(code).length;
  return bytes > MAX_COMMAND_BYTES ? `The program is ${bytes.toLocaleString('en-US')} bytes, over the 1 MiB command limit` : undefined;
}

export function validateSource(code: string): string | undefined {
  const bytes = new TextEncoder().encode(code).length;
  if (bytes === 0) return 'Write the program first';
  return bytes > MAX_SOURCE_BYTES ? `The program is ${bytes.toLocaleString('en-US')} bytes, over the 2 MiB source limit` : undefined;
}

/** Every message for the whole form; an empty object means the request can be sent. */
export function validateForm(form: FormState, runtime: Runtime, code = ''): FormErrors {
  const errors: FormErrors = {};
  const set = (key: string, message: string | undefined): void => {
    if (message) errors[key] = message;
  };
  set('image', validateImage(form.image, runtime));
  if (form.packageDraft.trim() !== '') set('packageDraft', validatePackage(form.packageDraft, runtime));
  form.packages.forEach((pkg, i) => set(`packages.${i}`, validatePackage(pkg, runtime)));
  if (form.packages.length > MAX_PACKAGES) set('packages', `At most ${MAX_PACKAGES} packages`);
  for (const field of NUMBER_FIELDS) set(field, validateNumber(field, form[field]));
  const seen = new Set<string>();
  for (const row of form.env) {
    if (row.name === '' && row.value === '') continue; // a blank row is just unused
    const message = validateEnvName(row.name) ?? (seen.has(row.name) ? `${row.name} is set twice` : undefined);
    set(`env.${row.id}.name`, message);
    seen.add(row.name);
  }
  set('workingDir', validateWorkingDir(form.workingDir));
  set('configName', validateConfigName(form.configName));
  // A language runtime with no command sends the code as its source (see buildRequest).
  const asSource = sendsSource(runtime, form.command);
  if (!asSource) set('command', validateCommand(form.command));
  set('code', asSource ? validateSource(code) : validateCode(code));
  return errors;
}

export function hasErrors(errors: FormErrors): boolean {
  return Object.values(errors).some((m) => m !== undefined);
}
