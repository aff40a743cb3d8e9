// The `loom` command line: dispatch to the commands. bin/loom.js calls main() and exits with
// the status it returns.
import { readFileSync } from 'node:fs';
import { EXIT, isBrokenPipe, note, processIo, type Io } from './format';
import { TOP_HELP } from './help';

type Command = (argv: readonly string[], io: Io) => Promise<number>;

/**
 * The commands, one line each. A command's module (and all it imports: the engine, dockerode,
 * protobuf...) is loaded only when that command runs: `loom --help` loads none of them, and
 * `loom exec` only what exec needs (the bundle is split the same way: scripts/build-cli.mjs).
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  exec: async () => (await import('./exec-command')).execCommand,
  session: async () => (await import('./session-command')).sessionCommand,
  files: async () => (await import('./session-command')).filesCommand,
  containers: async () => (await import('./containers-command')).containersCommand,
  images: async () => (await import('./images-command')).imagesCommand,
  doctor: async () => (await import('./doctor-command')).doctorCommand,
  ui: async () => (await import('./ui-command')).uiCommand,
  host: async () => (await import('./host-command')).hostCommand,
  traces: async () => (await import('./traces-command')).tracesCommand,
  mcp: async () => (await import('./mcp-command')).mcpCommand,
};

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  // A reader that goes away (`loom exec ... | head -1`) must not crash us with EPIPE.
  ignoreBrokenPipe(io.stdout);
  ignoreBrokenPipe(io.stderr);

  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
        io.stderr.write(TOP_HELP);
        return EXIT.usage;
      case '-h':
      case '--help':
      case 'help':
        io.stdout.write(TOP_HELP);
        return 0;
      case '-v':
      case '--version':
      case 'version':
        io.stdout.write(`loom ${version()}\n`);
        return 0;
      default: {
        const load = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
        if (load) return await (await load())(rest, io);
        const names = Object.keys(COMMANDS);
        io.stderr.write(
          `loom: unknown ${command.startsWith('-') ? 'option' : 'command'} '${command}' (expected ${names.slice(0, -1).join(', ')} or ${names.at(-1)})\nRun 'loom --help' for usage.\n`,
        );
        return EXIT.usage;
      }
    }
  } catch (err) {
    // Only bugs get here: the commands report what they expect themselves.
    note(io, `internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return EXIT.loomError;
  }
}

const guarded = new WeakSet<NodeJS.WritableStream>();

function ignoreBrokenPipe(stream: NodeJS.WritableStream): void {
  if (guarded.has(stream)) return;
  guarded.add(stream);
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (!isBrokenPipe(err)) throw err;
  });
}
