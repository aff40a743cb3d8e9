// A run's label in the history list: the first line of the program that says something, not
// the imports, shebangs and encoding lines many programs start with. A leading comment is kept
// (without its marker): it usually says what the program is for.
import type { ExecuteRequest } from '../../../shared/gen/loom/v1/docker_pb';

const MAX_TITLE = 80;
// The flags after which python3, node, sh and friends take the program text itself.
const CODE_FLAGS = new Set(['-c', '-e', '--eval', '-p', '--print']);
const BORING = [
  /^#!/,
  /^package\s/,
  /^use\s/,
  /^require\s/,
  /^(?:import\s*\(|\))$/,
  /^#.*coding[:=]/,
  /^(?:import|from)\s/,
  /^(?:const|let|var)\s.*=\s*require\(/,
  /^['"]use strict['"];?$/,
  /^(?:"""|''')/,
];

export function runTitle(request: Pick<ExecuteRequest, 'command' | 'source'>): string {
  const argv = request.command;
  const flag = argv.findIndex((a) => CODE_FLAGS.has(a));
  const code = request.source || (flag >= 0 ? argv[flag + 1] : undefined);
  if (code === undefined) return clip(argv.join(' '));
  const lines = code
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const meaningful = lines.find((l) => !BORING.some((re) => re.test(l)) && uncomment(l));
  return clip(meaningful ? uncomment(meaningful) : (lines[0] ?? argv.join(' ')));
}

function uncomment(line: string): string {
  return line.replace(/^(?:#+|\/\/+|\/\*+|\*+)\s*/, '').replace(/\s*\*\/$/, '');
}

function clip(text: string): string {
  return text.length > MAX_TITLE ? `${text.slice(0, MAX_TITLE - 1)}…` : text;
}
