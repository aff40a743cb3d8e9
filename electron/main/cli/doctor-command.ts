// `loom doctor`: one line per check of the engine, the runtime, the limits and the security
// defaults (see engine/doctor/), with what to do about each warning and failure.
import { connectDocker } from '../engine/engine-client/docker-client';
import { CHECKS, runDoctor, type DoctorCheck } from '../engine/doctor';
import { UsageError, flag, parseWithPositionals, splitArgs, stringOption, type ParsedValues } from './args';
import { EXIT, note, reportLoomError, reportUsage, writeJson, type Io } from './format';
import { HELP_OPTION, HOST_OPTION, renderHelp, toSpecs, wrap, type CommandHelp } from './help';

/** Some check failed: the sandbox is not what Loom promises on this engine. */
export const DOCTOR_FAILED = 1;

export const DOCTOR_HELP: CommandHelp = {
  usage: ['loom doctor [--json] [--host ADDRESS]'],
  summary:
    'Checks what you need to trust the sandbox on this engine: the engine and its API, the container\n' +
    'runtime against known container escapes, cgroups, and, from inside one short-lived container made\n' +
    "with Loom's own options, that the limits and the security defaults really hold. Also whether the\n" +
    'default images are present. Takes a few seconds.',
  options: [{ name: 'json', help: 'print one JSON object: {checks: [{id, title, status, detail, fix}], summary}' }, HOST_OPTION, HELP_OPTION],
  after: `Each line: ✓ ok, ! warning (works, but read the fix), ✗ failed.

Checks, in the order printed (the id in the JSON, the title on the line; runtime.gvisor lists the
engine's runtimes and, where runsc is registered, runs a probe under gVisor and gives its platform):
${listChecks()}

Exit status: 0 nothing failed (warnings allowed); 1 a check failed; 125 no engine answers;
130 interrupted; 2 bad usage.`,
};

function listChecks(): string {
  const width = Math.max(...CHECKS.map((c) => c.id.length)) + 3;
  return CHECKS.map((c) => `  ${c.id.padEnd(width)}${c.title}`).join('\n');
}

const SPECS = toSpecs(DOCTOR_HELP.options);

const MARK: Record<DoctorCheck['status'], string> = { ok: '✓', warn: '!', fail: '✗' };
const LINE_WIDTH = 100;

export async function doctorCommand(argv: readonly string[], io: Io): Promise<number> {
  // Known before parsing, so that even a usage error can answer in JSON.
  const wantsJson = splitArgs(argv, SPECS, false).options.includes('--json');
  let values: ParsedValues;
  try {
    const parsed = parseWithPositionals(argv, SPECS);
    values = parsed.values;
    if (flag(values, 'help')) {
      io.stdout.write(renderHelp(DOCTOR_HELP));
      return 0;
    }
    if (parsed.positionals.length) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`);
  } catch (err) {
    if (err instanceof UsageError) return reportUsage(io, err, 'loom doctor', wantsJson);
    throw err;
  }
  const json = flag(values, 'json');

  // Ctrl+C during the probe: stop it and remove its container before exiting.
  const controller = new AbortController();
  const onSignal = (): void => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const { docker, address } = connectDocker(stringOption(values, 'host'));
    const { checks } = await runDoctor(docker, address, { signal: controller.signal });
    const summary = { ok: count(checks, 'ok'), warn: count(checks, 'warn'), fail: count(checks, 'fail') };
    if (json) writeJson(io, { address, checks, summary });
    else io.stdout.write(render(checks, summary));
    return summary.fail ? DOCTOR_FAILED : 0;
  } catch (err) {
    if (controller.signal.aborted) {
      if (json) writeJson(io, { error: { name: 'AbortedError', message: 'interrupted: the probe container was removed' } });
      else note(io, 'interrupted: the probe container was removed');
      return EXIT.interrupted;
    }
    if (err instanceof UsageError) return reportUsage(io, err, 'loom doctor', json);
    return reportLoomError(io, err, json);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function count(checks: DoctorCheck[], status: DoctorCheck['status']): number {
  return checks.filter((c) => c.status === status).length;
}

/** "✓ Title   detail", details wrapped under themselves, a fix under the detail of warnings and failures. */
export function render(checks: DoctorCheck[], summary: { ok: number; warn: number; fail: number }): string {
  const titleWidth = Math.max(...checks.map((c) => c.title.length)) + 3;
  const indent = ' '.repeat(2 + titleWidth);
  const lines: string[] = [];
  for (const c of checks) {
    const detail = wrap(c.detail, LINE_WIDTH - indent.length, 30);
    lines.push(`${MARK[c.status]} ${c.title.padEnd(titleWidth)}${detail[0] ?? ''}`, ...detail.slice(1).map((l) => indent + l));
    if (c.fix && c.status !== 'ok') lines.push(...wrap(`fix: ${c.fix}`, LINE_WIDTH - indent.length, 30).map((l) => indent + l));
  }
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  const verdict = summary.fail
    ? 'Loom cannot promise its sandbox here until the failures are fixed.'
    : summary.warn
      ? 'The sandbox holds; the warnings say what would make it safer or faster.'
      : 'The sandbox holds.';
  lines.push('', `${summary.ok} ok, ${plural(summary.warn, 'warning')}, ${summary.fail} failed. ${verdict}`);
  return `${lines.join('\n')}\n`;
}
