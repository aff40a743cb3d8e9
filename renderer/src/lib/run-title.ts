// A provisional label for a run that has just started, shown in the history until the engine's
// own summary (run.finished) replaces it: the first line of the program that says something.
import type { ExecuteRequestJson } from '../../../shared/gen/loom/v1/docker_pb';
import { splitCommand } from './request';

const MAX_TITLE = 80;
const BORING = [/^#!/, /^#.*coding[:=]/, /^(?:import|from)\s/, /^(?:const|let|var)\s.*=\s*require\(/, /^['"]use strict['"];?$/];

export function provisionalTitle(request: ExecuteRequestJson): string {
  const { command, code } = splitCommand(request.command ?? [], 'python');
  const lines = code
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const line = lines.find((l) => !BORING.some((re) => re.test(l))) ?? lines[0] ?? command;
  const text = line.replace(/^(?:#+|\/\/+)\s*/, '');
  return text.length > MAX_TITLE ? `${text.slice(0, MAX_TITLE - 1)}…` : text;
}
