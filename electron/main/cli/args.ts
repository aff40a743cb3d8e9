// Command-line parsing on top of node:util parseArgs: where the options end and the program
// begins, option values that start with a dash (`--memory -5`), and strict number parsing.
// Every mistake becomes a UsageError (exit 2) whose message names the option.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

/** Bad command-line usage: exit status 2. `command` is for the "see --help" hint. */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    message: string,
    readonly option?: string,
  ) {
    super(message);
  }
}

export interface Split {
  /** The options (and, without stopAtPositional, the positionals), value options joined as `--name=value`. */
  options: string[];
  /** Everything after `--` or, with stopAtPositional, from the first positional on. */
  rest: string[];
}

/**
 * Finds where the options end. A value option always takes the next argument as its value,
 * even one starting with '-' (as getopt does), so `--memory -5` reaches the engine's
 * validation instead of being taken for an unknown option.
 */
export function splitArgs(argv: readonly string[], specs: OptionSpecs, stopAtPositional: boolean): Split {
  const valueOptions = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.type !== 'string') continue;
    valueOptions.set(`--${name}`, name);
    if (spec.short) valueOptions.set(`-${spec.short}`, name);
  }
  const options: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') return { options, rest: argv.slice(i + 1) };
    if (arg.startsWith('-') && arg !== '-') {
      const name = valueOptions.get(arg);
      if (name !== undefined && i + 1 < argv.length) {
        options.push(`--${name}=${argv[i + 1] ?? ''}`);
        i++;
      } else {
        options.push(arg);
      }
      continue;
    }
    if (stopAtPositional) return { options, rest: argv.slice(i) };
    options.push(arg);
  }
  return { options, rest: [] };
}

export type ParsedValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** parseArgs in strict mode, with its errors turned into UsageErrors. */
export function parseOptions(args: string[], specs: OptionSpecs, allowPositionals: boolean): { values: ParsedValues; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args, options: specs, strict: true, allowPositionals });
    return { values: values as ParsedValues, positionals };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code.startsWith('ERR_PARSE_ARGS')) {
      // Node's hint about '--' does not apply to options placed before it; keep the first sentence.
      const message = (err as Error).message.split('. To specify')[0] ?? '';
      throw new UsageError(message, /'(-[^' ]+)/.exec(message)?.[1]);
    }
    throw err;
  }
}

/** Parses the options of a command that takes a program after them: `OPTIONS [--] COMMAND...`. */
export function parseWithCommand(argv: readonly string[], specs: OptionSpecs): { values: ParsedValues; command: string[] } {
  const { options, rest } = splitArgs(argv, specs, true);
  return { values: parseOptions(options, specs, false).values, command: rest };
}

/** Parses a command's options and its positional arguments, in any order (`--` ends the options). */
export function parseWithPositionals(argv: readonly string[], specs: OptionSpecs): { values: ParsedValues; positionals: string[] } {
  const { options, rest } = splitArgs(argv, specs, false);
  const parsed = parseOptions(options, specs, true);
  return { values: parsed.values, positionals: [...parsed.positionals, ...rest] };
}

export function stringOption(values: ParsedValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function listOption(values: ParsedValues, name: string): string[] {
  const v = values[name];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return typeof v === 'string' ? [v] : [];
}

export function flag(values: ParsedValues, name: string): boolean {
  return values[name] === true;
}

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;

/**
 * A whole number, exactly as written: no units, no trailing garbage, no exponent. The sign
 * and range are left to the engine's validation (the one source of truth for limits).
 */
export function parseInteger(option: string, raw: string): number {
  if (!INTEGER.test(raw)) throw new UsageError(`--${option} expects a whole number, got '${raw}'`, `--${option}`);
  return Number(raw);
}

/** The same for int64 fields, kept exact. */
export function parseBigInteger(option: string, raw: string): bigint {
  if (!INTEGER.test(raw)) throw new UsageError(`--${option} expects a whole number, got '${raw}'`, `--${option}`);
  return BigInt(raw);
}

/** A decimal number like 2, 0.5 or .25. */
export function parseDecimal(option: string, raw: string): number {
  if (!DECIMAL.test(raw)) throw new UsageError(`--${option} expects a number like 2 or 0.5, got '${raw}'`, `--${option}`);
  return Number(raw);
}

export function parseChoice<T extends string>(option: string, raw: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(raw)) {
    throw new UsageError(`--${option} must be one of ${choices.join(', ')}, got '${raw}'`, `--${option}`);
  }
  return raw as T;
}

/** `K=V` pairs into a map; a pair without '=' is a usage error. Later pairs win. */
export function parseEnvPairs(option: string, pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 0) throw new UsageError(`--${option} expects NAME=VALUE, got '${pair}'`, `--${option}`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}
