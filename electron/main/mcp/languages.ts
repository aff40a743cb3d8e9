// The languages execute_code takes, and how each runs a piece of source. Python and Node run it
// as an interpreter argument (the warm path, also by docker exec when artifacts are collected)
// and have packages installed; the other languages send it as ExecuteRequest.source, which the
// runner writes, compiles where the language is compiled, and runs (README "Languages").
import type { Language as Runtime } from '../../../shared/runtimes';

export interface Language {
  name: string;
  runtime: Runtime;
  /** The request's program: a command for python and node, the source for the others. */
  program(code: string): { command: string[] } | { source: string };
  version: string;
  packages: string;
}

const NO_PACKAGES = 'none: the standard library only (packages are installed for python and node)';

export const LANGUAGES: readonly Language[] = [
  {
    name: 'python',
    runtime: 'python',
    program: (code) => ({ command: ['python3', '-c', code] }),
    version: 'Python 3.11',
    packages: 'pip requirement strings (e.g. "requests==2.32.3")',
  },
  {
    name: 'node',
    runtime: 'node',
    program: (code) => ({ command: ['node', '-e', code] }),
    version: 'Node.js 20 (CommonJS: use require)',
    packages: 'npm package specs (e.g. "lodash@4.17.21")',
  },
  { name: 'bash', runtime: 'bash', program: (source) => ({ source }), version: 'Bash 5.2', packages: NO_PACKAGES },
  { name: 'go', runtime: 'go', program: (source) => ({ source }), version: 'Go 1.19 (package main; compiled, the build cached)', packages: NO_PACKAGES },
  { name: 'rust', runtime: 'rust', program: (source) => ({ source }), version: 'Rust 1.63, edition 2021 (compiled, the build cached)', packages: NO_PACKAGES },
  { name: 'ruby', runtime: 'ruby', program: (source) => ({ source }), version: 'Ruby 3.1', packages: NO_PACKAGES },
  {
    name: 'java',
    runtime: 'java',
    program: (source) => ({ source }),
    version: 'Java 17 (the public class, else Main; compiled, the build cached)',
    packages: NO_PACKAGES,
  },
];

export const LANGUAGE_NAMES = LANGUAGES.map((l) => l.name) as [string, ...string[]];

export function languageOf(name: string): Language | undefined {
  return LANGUAGES.find((l) => l.name === name);
}

/** Whether Loom installs packages for the language and can run it by docker exec (artifacts). */
export function hasPackages(language: Language): boolean {
  return language.runtime === 'python' || language.runtime === 'node';
}
