// `loom containers ls|rm|prune`: the managed containers of every Loom process, seen through the
// engine's labels. Only a docker client is needed (no executor, no pool, no orphan reaping).
import { hostname } from 'node:os';
import { listManaged, MIN_ID_PREFIX, pruneManaged, pruneVolumes, removeAndWait, resolveManaged, type ManagedContainer } from '../engine/pool/containers';
import { UsageError, flag } from './args';
import { CONTAINERS_HELP, HELP_OPTION, HOST_OPTION } from './help';
import { age, note, table, writeJson, type Io } from './format';
import { runSubcommand, type Subcommand } from './subcommands';

const SUBCOMMANDS: Record<string, Subcommand> = {
  ls: {
    help: {
      usage: ['loom containers ls [--json] [--host ADDRESS]'],
      summary:
        "Lists the containers Loom manages, whichever Loom process (app, CLI) created them. OWNER is the\n" +
        "creating process's pid, marked 'gone' when it no longer runs (prune removes those).",
      options: [{ name: 'json', help: 'print a JSON array of objects instead of a table' }, HOST_OPTION, HELP_OPTION],
    },
    async run(docker, values, positionals, io) {
      if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
      const containers = await listManaged(docker);
      if (flag(values, 'json')) {
        writeJson(io, containers);
        return 0;
      }
      const here = hostname();
      const rows = containers
        .sort((a, b) => b.createdAtMs - a.createdAtMs)
        .map((c) => [c.id.slice(0, 12), c.name, c.image, c.runtime, c.engineState, age(c.createdAtMs), owner(c, here)]);
      io.stdout.write(table(['ID', 'NAME', 'IMAGE', 'RUNTIME', 'STATE', 'CREATED', 'OWNER'], rows));
      return 0;
    },
  },
  rm: {
    help: {
      usage: ['loom containers rm [--host ADDRESS] ID...'],
      summary:
        'Removes managed containers (forcibly: a running program is killed), named by id, container name or a\n' +
        `prefix of one id (at least ${MIN_ID_PREFIX} characters). Containers Loom does not manage are refused. Exit\n` +
        'status 1 if any ID matched no container or several, or a removal did not finish.',
      options: [HOST_OPTION, HELP_OPTION],
    },
    async run(docker, _values, positionals, io) {
      if (positionals.length === 0) throw new UsageError('missing ID: name at least one container (id, id prefix or name)');
      const { found, problems } = await resolveManaged(docker, positionals);
      const failures: string[] = [];
      await Promise.all(
        found.map(async (c) => {
          try {
            await removeAndWait(docker, c.id);
            io.stdout.write(`${c.id.slice(0, 12)}\n`);
          } catch (err) {
            failures.push(`${c.id.slice(0, 12)}: ${err instanceof Error ? err.message : String(err)}`);
          }
        }),
      );
      for (const problem of problems) note(io, problem);
      for (const f of failures) note(io, `could not remove ${f}`);
      return problems.length || failures.length ? 1 : 0;
    },
  },
  prune: {
    help: {
      usage: ['loom containers prune [--all] [--host ADDRESS]'],
      summary:
        'Removes managed containers whose owning Loom process is gone (crashed, killed) and the idle ones kept\n' +
        'warm for the next loom exec (at once, not when their time is up). With --all, removes every managed\n' +
        'container, including those of running Loom processes.',
      options: [{ name: 'all', help: 'remove every managed container, not only orphans' }, HOST_OPTION, HELP_OPTION],
    },
    async run(docker, values, positionals, io) {
      if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
      const removed = await pruneManaged(docker, { all: flag(values, 'all') });
      io.stdout.write(`removed ${removed.length} container${removed.length === 1 ? '' : 's'}\n`);
      for (const id of removed) io.stdout.write(`  ${id.slice(0, 12)}\n`);
      // Resource volumes of older Loom versions (a volume in use is kept by the engine).
      const volumes = await pruneVolumes(docker);
      if (volumes.length) io.stdout.write(`removed ${volumes.length} unused resource volume${volumes.length === 1 ? '' : 's'}\n`);
      return 0;
    },
  },
};

function owner(c: ManagedContainer, here: string): string {
  if (!c.ownerPid) return '-';
  if (c.ownerHost && c.ownerHost !== here) return `${c.ownerPid}@${c.ownerHost}`;
  return c.ownerAlive ? String(c.ownerPid) : `${c.ownerPid} gone`;
}

export function containersCommand(argv: readonly string[], io: Io): Promise<number> {
  return runSubcommand('containers', SUBCOMMANDS, CONTAINERS_HELP, argv, io);
}
