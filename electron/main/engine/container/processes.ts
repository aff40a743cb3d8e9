// What a container's processes are doing, for an error about a runner that stopped answering:
// "stopped" (T) names a SIGSTOP, "running" a busy loop, and no answer at all a sandbox that is
// itself stuck. Read by one docker exec as the sandbox user (/proc/PID/stat is readable to all).
import type Docker from 'dockerode';
import { NO_ANSWER, within } from '../deadline';
import { SANDBOX_USER } from './container';
import { runExec, type ExecResult } from './exec';

/** How long the look may take: a wedged sandbox may not answer an exec either. */
const LOOK_MS = 5_000;

const STATES: Record<string, string> = { R: 'running', S: 'sleeping', D: 'in I/O', T: 'stopped', t: 'traced', Z: 'zombie' };

/** "1 loom-init sleeping, 7 python3 stopped, …", or why the processes could not be listed. */
export async function describeProcesses(container: Docker.Container): Promise<string> {
  const look = runExec(container, { argv: ['sh', '-c', 'cat /proc/[0-9]*/stat 2>/dev/null'], user: SANDBOX_USER, maxOutputBytes: 1 << 16, timeoutMs: LOOK_MS });
  look.catch(() => undefined); // a failure after the bound is nobody's
  let result: ExecResult | typeof NO_ANSWER;
  try {
    result = await within(look, LOOK_MS + 1_000);
  } catch (err) {
    return `not listed (${err instanceof Error ? err.message : String(err)})`;
  }
  if (result === NO_ANSWER || result.timedOut) return `no answer from the container within ${LOOK_MS / 1000} s`;
  return parseStats(result.stdout.toString('latin1')).join(', ') || 'none listed';
}

/** "PID NAME STATE" of each /proc/PID/stat line, by pid; the name may hold spaces and parentheses. */
export function parseStats(text: string): string[] {
  const found: [number, string][] = [];
  for (const line of text.split('\n')) {
    const open = line.indexOf(' (');
    const close = line.lastIndexOf(') ');
    if (open < 0 || close < open) continue;
    const state = line.charAt(close + 2);
    const pid = line.slice(0, open);
    found.push([Number(pid), `${pid} ${line.slice(open + 2, close)} ${STATES[state] ?? state}`]);
  }
  return found.sort((a, b) => a[0] - b[0]).map(([, said]) => said);
}
