// The request form as the user edits it: numbers are kept as the text typed, so that a value
// like "abc" can be shown and explained instead of silently becoming NaN. An empty field means
// "the engine's default" (proto3 zero), which the form shows as a placeholder.
import type { MountJson } from '../../../shared/gen/loom/v1/docker_pb';
import type { Runtime } from '../../../shared/runtimes';
import { DEFAULT_ISOLATION, type Isolation } from '../../../shared/isolation';

export type { Runtime, Isolation };
export type NetworkChoice = 'none' | 'bridge';

export interface EnvRow {
  /** Stable key for React and for error messages; not sent anywhere. */
  id: number;
  name: string;
  value: string;
}

export interface FormState {
  image: string;
  packages: string[];
  /** The text in the package input that has not been turned into a chip yet. */
  packageDraft: string;
  cpuCores: string;
  memoryMb: string;
  storageMb: string;
  pidsLimit: string;
  timeoutSeconds: string;
  network: NetworkChoice;
  /** runc or gvisor (config.isolation): runc is the engine's default. */
  isolation: Isolation;
  maxExecutions: string;
  rotationHours: string;
  healthCheckSeconds: string;
  autoCleanup: boolean;
  env: EnvRow[];
  workingDir: string;
  /** Where artifacts come back from (relative to /tmp); empty: none are collected. */
  outputDir: string;
  configName: string;
  /**
   * The program the editor's code is handed to, as shell words: "python3 -c" runs
   * ['python3', '-c', code]. Shown for the custom runtime; an advanced field otherwise.
   */
  command: string;
  /** Parts of a reopened request that the form has no fields for, sent back unchanged. */
  preserved: PreservedRequestParts;
}

export interface PreservedRequestParts {
  configEnv?: Record<string, string>;
  mounts?: MountJson[];
  maxOutputBytes?: number;
}

/** Empty: the editor's code is sent as the program's source (ExecuteRequest.source). */
export const DEFAULT_COMMANDS: Record<Runtime, string> = {
  python: 'python3 -c',
  node: 'node -e',
  bash: '',
  go: '',
  rust: '',
  ruby: '',
  java: '',
  custom: 'python3 -c',
};

/** Whether the editor's code goes as the program's source: a language runtime with no command. */
export function sendsSource(runtime: Runtime, command: string): boolean {
  return DEFAULT_COMMANDS[runtime] === '' && runtime !== 'custom' && command.trim() === '';
}

export function emptyForm(runtime: Runtime = 'python'): FormState {
  return {
    image: '',
    packages: [],
    packageDraft: '',
    cpuCores: '',
    memoryMb: '',
    storageMb: '',
    pidsLimit: '',
    timeoutSeconds: '',
    network: 'none',
    isolation: DEFAULT_ISOLATION,
    maxExecutions: '',
    rotationHours: '',
    healthCheckSeconds: '',
    autoCleanup: true,
    env: [],
    workingDir: '',
    outputDir: '',
    configName: '',
    command: DEFAULT_COMMANDS[runtime],
    preserved: {},
  };
}

/** The numeric fields, for code that treats them alike (validation, placeholders). */
export const NUMBER_FIELDS = [
  'cpuCores',
  'memoryMb',
  'storageMb',
  'pidsLimit',
  'timeoutSeconds',
  'maxExecutions',
  'rotationHours',
  'healthCheckSeconds',
] as const satisfies readonly (keyof FormState)[];

export type NumberField = (typeof NUMBER_FIELDS)[number];
