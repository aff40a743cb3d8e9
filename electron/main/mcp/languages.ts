// The languages execute_code takes, and how each runs a piece of source: Python and Node, whose
// default images carry an interpreter and whose packages Loom installs.

export interface Language {
  name: string;
  runtime: 'python' | 'node';
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
