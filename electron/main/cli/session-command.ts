// `loom session new|run|ls|restart|rm` and `loom files put|get|ls|rm`: sessions for scripts and
// for checking by hand. Each call is its own process: a session outlives the one that made it
// (until its idle TTL), and the next call finds it by id (engine/session/manager.ts).
import { toJson } from '@bufbuild/protobuf';
import type Docker from 'dockerode';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SessionState, SpanSchema, type ExecuteResponse } from '../../../shared/gen/loom/v1/docker_pb';
import { runtimeOf } from '../../../shared/runtimes';
import { createExecutor, type Executor } from '../engine/executor';
import { DEFAULT_SESSION_TTL_S } from '../engine/session/manager';
import { UsageError, flag, parseInteger, stringOption } from './args';
import { EXEC_OPTIONS } from './exec-options';
import { planExec } from './exec-plan';
import { age, note, table, writeJson, type Io } from './format';
import { HELP_OPTION, HOST_OPTION, renderHelp, type OptionDoc } from './help';
import { runSubcommand, type Subcommand } from './subcommands';

/** The options of `loom exec` that shape a container (not those of one run). */
const CONFIG_OPTIONS = new Set(['runtime', 'image', 'package', 'cpus', 'memory', 'storage', 'pids', 'timeout', 'network', 'name', 'pip-index-url', 'pip-find-links', 'npm-registry', 'ca-file']);
const JSON_OPTION: OptionDoc = { name: 'json', help: 'print one JSON object instead of text' };
/** Binary MIME types: base64 in --json (text types are UTF-8 text). */
const BINARY_MIME = /^image\/(png|jpeg|gif|webp)$/;

async function withSessions<T>(docker: Docker, work: (executor: Executor) => Promise<T>): Promise<T> {
  // The sessions this process touches live on after it: that is what `session new` is for.
  const executor = await createExecutor({ docker, keepSessionsOnClose: true, minIdlePerConfig: 0, localPackages: 'anywhere' });
  try {
    return await work(executor);
  } finally {
    await executor.close();
  }
}

const one = (positionals: string[], what: string): string => {
  const [value, extra] = positionals;
  if (value === undefined) throw new UsageError(`missing ${what}`);
  if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
  return value;
};

/** What `loom session run --json` prints for a cell. */
export function cellJson(r: ExecuteResponse): Record<string, unknown> {
  return {
    exitCode: r.exitCode,
    stdout: Buffer.from(r.stdout).toString('utf8'),
    stderr: Buffer.from(r.stderr).toString('utf8'),
    outputs: r.outputs.flatMap((o, display) => o.items.map((i) => ({ display, mime: i.mime, data: Buffer.from(i.data).toString(BINARY_MIME.test(i.mime) ? 'base64' : 'utf8') }))),
    artifacts: r.artifacts.map((a) => ({ path: a.path, size: Number(a.size), mime: a.mime })),
    status: r.cell?.status ?? '',
    error: r.cell?.errorName ? { name: r.cell.errorName, message: r.cell.errorValue, traceback: r.cell.traceback } : null,
    executionCount: r.cell?.executionCount ?? 0,
    traceId: r.traceId,
    spans: r.spans.map((s) => toJson(SpanSchema, s, { alwaysEmitImplicit: true })),
  };
}

async function readCode(code: string, io: Io): Promise<string> {
  if (code !== '-') return code;
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

const SESSION_SUBCOMMANDS: Record<string, Subcommand> = {
  new: {
    help: {
      usage: ['loom session new [CONFIG OPTIONS] [--ttl SECONDS] [--json]'],
      summary:
        'Creates a session: its own container (never shared with runs or other sessions, with the same limits and\n' +
        'security defaults) and a fresh Python or Node interpreter that keeps its variables between cells.\n' +
        'Prints the session id. The session lives until it has been idle for its TTL, or `loom session rm`.',
      options: [
        ...EXEC_OPTIONS.filter((o) => CONFIG_OPTIONS.has(o.name)),
        { name: 'ttl', value: 'SECONDS', help: 'remove the session after it has been idle this long', default: DEFAULT_SESSION_TTL_S },
        JSON_OPTION,
        HOST_OPTION,
        HELP_OPTION,
      ],
    },
    async run(docker, values, positionals, io) {
      if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
      const plan = await planExec(values, ['true'], io, new AbortController().signal);
      const ttl = stringOption(values, 'ttl');
      const info = await withSessions(docker, (executor) =>
        executor.sessions.create(
          { config: plan.request.config, runtimeType: plan.request.runtimeType, idleTtlSeconds: ttl === undefined ? 0 : parseInteger('ttl', ttl) },
          { hooks: { onInstallLog: (line) => note(io, line) } },
        ),
      );
      if (flag(values, 'json')) writeJson(io, { sessionId: info.id });
      else io.stdout.write(`${info.id}\n`);
      return 0;
    },
  },
  run: {
    help: {
      usage: ['loom session run ID [--timeout SECONDS] [--json] CODE', 'loom session run ID - < cell.py'],
      summary:
        "Runs CODE (with '-': our stdin) as the session's next cell. stdout and stderr stream live; the value of a\n" +
        'final expression and display() outputs follow as text (images and tables: see --json). Exit status: 0,\n' +
        "1 the cell raised, 124 it timed out, 130 it was interrupted, 137 the interpreter had to be restarted.\n" +
        '--json prints {exitCode, stdout, stderr, outputs: [{display, mime, data}], artifacts, status, error,\n' +
        'executionCount, traceId, spans}, with data base64 for binary types (image/png).',
      options: [{ name: 'timeout', short: 't', value: 'SECONDS', help: "stop the cell after this long", default: "the session's" }, JSON_OPTION, HOST_OPTION, HELP_OPTION],
    },
    async run(docker, values, positionals, io) {
      const [id, code, extra] = positionals;
      if (id === undefined) throw new UsageError('missing ID: the session id that `loom session new` printed');
      if (code === undefined) throw new UsageError("missing CODE: the cell to run (or '-' to read it from stdin)");
      if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}' (quote the cell as one argument)`);
      const json = flag(values, 'json');
      const source = await readCode(code, io);
      const timeout = stringOption(values, 'timeout');
      const abort = new AbortController();
      const stop = (): void => abort.abort();
      process.once('SIGINT', stop);
      try {
        const r = await withSessions(docker, (executor) =>
          executor.sessions.run(
            { sessionId: id, code: source, timeoutSeconds: timeout === undefined ? 0 : parseInteger('timeout', timeout) },
            {
              signal: abort.signal,
              onEvent: (event) => {
                const e = event.event;
                if (!json && e.case === 'stdout') io.stdout.write(e.value);
                else if (!json && e.case === 'stderr') io.stderr.write(e.value);
              },
            },
          ),
        );
        if (json) writeJson(io, cellJson(r));
        else {
          for (const output of r.outputs) {
            const plain = output.items.find((i) => i.mime === 'text/plain');
            const rich = output.items.filter((i) => i.mime !== 'text/plain').map((i) => `${i.mime}, ${i.data.length} bytes`);
            if (plain) io.stdout.write(`${Buffer.from(plain.data).toString('utf8')}\n`);
            if (rich.length) note(io, `(also ${rich.join('; ')}: see --json)`);
          }
          for (const a of r.artifacts) note(io, `artifact ${a.path} (${a.size} bytes, ${a.mime}): loom files get ${id} ${a.path}`);
          if (r.cell?.status === 'restarted') note(io, r.cell.errorValue);
        }
        return r.exitCode;
      } finally {
        process.removeListener('SIGINT', stop);
      }
    },
  },
  ls: {
    help: { usage: ['loom session ls [--json]'], summary: "Lists your sessions: id, runtime, image, age, idle time, TTL and state.", options: [JSON_OPTION, HOST_OPTION, HELP_OPTION] },
    async run(docker, values, positionals, io) {
      if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
      const sessions = await withSessions(docker, (executor) => executor.sessions.list());
      if (flag(values, 'json')) {
        writeJson(
          io,
          sessions.map((s) => ({ sessionId: s.id, runtime: runtimeOf(s.runtimeType) ?? '', image: s.image, containerId: s.containerId, createdAtMs: s.createdAtMs, lastUsedAtMs: s.lastUsedAtMs, idleTtlSeconds: s.idleTtlSeconds, state: SessionState[s.state] })),
        );
        return 0;
      }
      const rows = sessions.map((s) => [s.id, runtimeOf(s.runtimeType) ?? '', s.image, age(s.createdAtMs), age(s.lastUsedAtMs), `${s.idleTtlSeconds}s`, SessionState[s.state].toLowerCase()]);
      io.stdout.write(table(['SESSION', 'RUNTIME', 'IMAGE', 'CREATED', 'IDLE', 'TTL', 'STATE'], rows));
      return 0;
    },
  },
  restart: {
    help: { usage: ['loom session restart ID'], summary: 'Starts a fresh interpreter in the session: its variables are gone, its files stay.', options: [HOST_OPTION, HELP_OPTION] },
    async run(docker, _values, positionals, io) {
      const id = one(positionals, 'ID: the session to restart');
      await withSessions(docker, (executor) => executor.sessions.restart(id));
      io.stdout.write(`${id}\n`);
      return 0;
    },
  },
  rm: {
    help: { usage: ['loom session rm ID'], summary: "Closes the session: removes its container, with its variables and files.", options: [HOST_OPTION, HELP_OPTION] },
    async run(docker, _values, positionals, io) {
      const id = one(positionals, 'ID: the session to close');
      await withSessions(docker, (executor) => executor.sessions.close(id));
      io.stdout.write(`${id}\n`);
      return 0;
    },
  },
};

const FILES_SUBCOMMANDS: Record<string, Subcommand> = {
  put: {
    help: {
      usage: ['loom files put ID LOCAL [PATH]'],
      summary: "Copies the local file LOCAL into the session's workspace (/tmp) as PATH (relative; default: its base name), streamed.",
      options: [HOST_OPTION, HELP_OPTION],
    },
    async run(docker, _values, positionals, io) {
      const [id, local, path, extra] = positionals;
      if (id === undefined || local === undefined) throw new UsageError('missing ID or LOCAL: loom files put ID LOCAL [PATH]');
      if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
      const size = await stat(local).then(
        (s) => (s.isFile() ? s.size : Promise.reject(new Error('not a regular file'))),
        (err: Error) => Promise.reject(err),
      ).catch((err: Error) => {
        throw new UsageError(`cannot read ${local}: ${err.message}`);
      });
      const entry = await withSessions(docker, (executor) => executor.sessions.files.put(id, path ?? basename(local), { size, stream: createReadStream(local) }));
      io.stdout.write(`${entry.path}\n`);
      return 0;
    },
  },
  get: {
    help: {
      usage: ['loom files get ID PATH [LOCAL]'],
      summary: "Copies the session's file PATH to LOCAL (default: its base name here; '-': stdout), streamed.",
      options: [HOST_OPTION, HELP_OPTION],
    },
    async run(docker, _values, positionals, io) {
      const [id, path, local, extra] = positionals;
      if (id === undefined || path === undefined) throw new UsageError('missing ID or PATH: loom files get ID PATH [LOCAL]');
      if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
      await withSessions(docker, async (executor) => {
        const { content } = await executor.sessions.files.get(id, path);
        if (local === '-') for await (const chunk of content) io.stdout.write(chunk);
        else await pipeline(Readable.from(content), createWriteStream(local ?? basename(path)));
      });
      return 0;
    },
  },
  ls: {
    help: { usage: ['loom files ls ID [PATH] [--json]'], summary: "Lists the files under PATH in the session's workspace (all of it by default).", options: [JSON_OPTION, HOST_OPTION, HELP_OPTION] },
    async run(docker, values, positionals, io) {
      const [id, path, extra] = positionals;
      if (id === undefined) throw new UsageError('missing ID');
      if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
      const entries = await withSessions(docker, (executor) => executor.sessions.files.list(id, path ?? ''));
      if (flag(values, 'json')) writeJson(io, entries.map((e) => ({ path: e.path, size: Number(e.size), isDir: e.isDir, modifiedAtMs: e.modifiedAtMs })));
      else io.stdout.write(table(['PATH', 'SIZE', 'MODIFIED'], entries.map((e) => [e.isDir ? `${e.path}/` : e.path, e.isDir ? '-' : String(e.size), age(e.modifiedAtMs)])));
      return 0;
    },
  },
  rm: {
    help: { usage: ['loom files rm ID PATH'], summary: "Deletes PATH (a file, or a directory with what it holds) from the session's workspace.", options: [HOST_OPTION, HELP_OPTION] },
    async run(docker, _values, positionals, io) {
      const [id, path, extra] = positionals;
      if (id === undefined || path === undefined) throw new UsageError('missing ID or PATH');
      if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
      await withSessions(docker, (executor) => executor.sessions.files.delete(id, path));
      io.stdout.write(`${path}\n`);
      return 0;
    },
  },
};

export const SESSION_HELP = renderHelp({
  usage: ['loom session new|run|ls|restart|rm ...'],
  summary: 'Sessions: a Python or Node interpreter in its own container that keeps state between cells.',
  options: [HELP_OPTION],
  after: `Subcommands:
  new       create a session (the config options of loom exec, --ttl) and print its id
  run       run a cell in it: loom session run ID CODE (CODE '-': stdin)
  ls        list your sessions
  restart   a fresh interpreter, same files
  rm        close a session (its container is removed)

Run 'loom session SUBCOMMAND --help' for its options.`,
});

export const FILES_HELP = renderHelp({
  usage: ['loom files put|get|ls|rm ID ...'],
  summary: "A session's files (its workspace is /tmp in the sandbox; paths are relative to it).",
  options: [HELP_OPTION],
  after: `Subcommands:
  put   loom files put ID LOCAL [PATH]
  get   loom files get ID PATH [LOCAL]
  ls    loom files ls ID [PATH] [--json]
  rm    loom files rm ID PATH

Run 'loom files SUBCOMMAND --help' for its options.`,
});

export const sessionCommand = (argv: readonly string[], io: Io): Promise<number> => runSubcommand('session', SESSION_SUBCOMMANDS, SESSION_HELP, argv, io);
export const filesCommand = (argv: readonly string[], io: Io): Promise<number> => runSubcommand('files', FILES_SUBCOMMANDS, FILES_HELP, argv, io);
