// The `loom` command line: dispatch to the commands. bin/loom.js calls main() and exits with
// the status it returns.
import { readFileSync } from 'node:fs';
import { containersCommand } from './containers-command';
import { doctorCommand } from './doctor-command';
import { execCommand } from './exec-command';
import { imagesCommand } from './images-command';
import { EXIT, isBrokenPipe, note, processIo, type Io } from './format';
import { TOP_HELP } from './help';
import { uiCommand } from './ui-command';
import { filesCommand, sessionCommand } from './session-command';

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
      case 'exec':
        return await execCommand(rest, io);
      case 'containers':
        return await containersCommand(rest, io);
      case 'images':
        return await imagesCommand(rest, io);
      case 'session':
        return await sessionCommand(rest, io);
      case 'files':
        return await filesCommand(rest, io);
      case 'doctor':
        return await doctorCommand(rest, io);
      case 'ui':
        return await uiCommand(rest, io);
      default:
        io.stderr.write(
          `loom: unknown ${command.startsWith('-') ? 'option' : 'command'} '${command}' (expected exec, session, files, containers, images, doctor or ui)\nRun 'loom --help' for usage.\n`,
        );
        return EXIT.usage;
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
