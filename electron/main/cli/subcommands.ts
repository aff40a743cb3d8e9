// Command groups with subcommands (`loom containers ls`, `loom images prune`): parsing, help
// and the engine connection, done once for all of them. Only a docker client is needed.
import type Docker from 'dockerode';
import { connectDocker, pingEngine } from '../engine/engine-client/docker-client';
import { UsageError, flag, parseWithPositionals, stringOption, type ParsedValues } from './args';
import { reportLoomError, reportUsage, type Io } from './format';
import { renderHelp, toSpecs, type CommandHelp } from './help';

export interface Subcommand {
  help: CommandHelp;
  run(docker: Docker, values: ParsedValues, positionals: string[], io: Io): Promise<number>;
}

export async function runSubcommand(
  group: string,
  subcommands: Record<string, Subcommand>,
  groupHelp: string,
  argv: readonly string[],
  io: Io,
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout).write(groupHelp);
    return name === undefined ? 2 : 0;
  }
  const sub = subcommands[name];
  const label = `loom ${group} ${name}`;
  if (!sub) {
    const names = Object.keys(subcommands);
    io.stderr.write(
      `loom ${group}: unknown subcommand '${name}' (expected ${names.slice(0, -1).join(', ')} or ${names.at(-1)})\nRun 'loom ${group} --help' for usage.\n`,
    );
    return 2;
  }
  let values: ParsedValues;
  let positionals: string[];
  try {
    ({ values, positionals } = parseWithPositionals(rest, toSpecs(sub.help.options)));
  } catch (err) {
    if (err instanceof UsageError) return reportUsage(io, err, label, false);
    throw err;
  }
  if (flag(values, 'help')) {
    io.stdout.write(renderHelp(sub.help));
    return 0;
  }
  try {
    const { docker, address } = connectDocker(stringOption(values, 'host'));
    await pingEngine(docker, address);
    return await sub.run(docker, values, positionals, io);
  } catch (err) {
    if (err instanceof UsageError) return reportUsage(io, err, label, false);
    // --json answers an engine failure in JSON too.
    return reportLoomError(io, err, flag(values, 'json'));
  }
}
