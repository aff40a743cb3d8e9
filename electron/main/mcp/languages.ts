// The languages execute_code takes, and how each runs a piece of source: the runtimes of
// shared/runtimes.ts that have an interpreter in their default image ('custom' has none).
import type { Runtime } from '../../../shared/runtimes';

export interface Language {
  name: string;
  runtime: Exclude<Runtime, 'custom'>;
  /** Runs `code` given as an argument (no file needed). */
  inline(code: string): string[];
  version: string;
  packages: string;
}

export const LANGUAGES: readonly Language[] = [
  {
    name: 'python',
    runtime: 'python',
    inline: (code) => ['python3', '-c', code],
    version: 'Python 3.11',
    packages: 'pip requirement strings (e.g. "requests==2.32.3")',
  },
  {
    name: 'node',
    runtime: 'node',
    inline: (code) => ['node', '-e', code],
    version: 'Node.js 20 (CommonJS: use require)',
    packages: 'npm package specs (e.g. "lodash@4.17.21")',
  },
];

export const LANGUAGE_NAMES = LANGUAGES.map((l) => l.name) as [string, ...string[]];

export function languageOf(name: string): Language | undefined {
  return LANGUAGES.find((l) => l.name === name);
}
