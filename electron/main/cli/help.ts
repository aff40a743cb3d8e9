// Option tables that drive both parsing and help text, so that the two cannot drift apart,
// and the help of the commands that have no options of their own.
import type { OptionSpecs } from './args';

export interface OptionDoc {
  name: string;
  short?: string;
  /** The value's placeholder (e.g. 'MB'); absent for a flag. */
  value?: string;
  multiple?: boolean;
  help: string;
  /** Shown as "(default: ...)". */
  default?: string | number;
}

export function toSpecs(docs: readonly OptionDoc[]): OptionSpecs {
  const specs: OptionSpecs = {};
  for (const d of docs) {
    specs[d.name] = {
      type: d.value ? 'string' : 'boolean',
      ...(d.short ? { short: d.short } : {}),
      ...(d.multiple ? { multiple: true } : {}),
    };
  }
  return specs;
}

export function renderOptions(docs: readonly OptionDoc[]): string {
  const lefts = docs.map((d) => `${d.short ? `-${d.short}, ` : '    '}--${d.name}${d.value ? ` ${d.value}` : ''}`);
  const width = Math.max(...lefts.map((l) => l.length)) + 2;
  return docs
    .map((d, i) => {
      const notes = [d.multiple ? 'repeatable' : '', d.default !== undefined ? `default: ${d.default}` : ''].filter(Boolean);
      const text = notes.length ? `${d.help} (${notes.join('; ')})` : d.help;
      return `  ${(lefts[i] ?? '').padEnd(width)}${wrap(text, LINE_WIDTH - width - 2).join(`\n${' '.repeat(width + 2)}`)}`;
    })
    .join('\n');
}

const LINE_WIDTH = 100;

/**
 * Splits text into lines of at most `width` (never under `minWidth`) characters at spaces
 * (a longer word gets its own line).
 */
export function wrap(text: string, width: number, minWidth = 20): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > Math.max(width, minWidth)) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

export interface CommandHelp {
  usage: string[];
  summary: string;
  options: readonly OptionDoc[];
  /** Free text after the options: notes, exit statuses, examples. */
  after?: string;
}

export function renderHelp(h: CommandHelp): string {
  const parts = [`Usage: ${h.usage.join('\n       ')}`, '', h.summary, '', 'Options:', renderOptions(h.options)];
  if (h.after) parts.push('', h.after.trimEnd());
  return `${parts.join('\n')}\n`;
}

export const HELP_OPTION: OptionDoc = { name: 'help', short: 'h', help: 'show this help and exit' };

export const HOST_OPTION: OptionDoc = {
  name: 'host',
  short: 'H',
  value: 'ADDRESS',
  help: 'Docker engine address in DOCKER_HOST syntax (unix:///var/run/docker.sock, tcp://host:2375, ssh://user@host)',
  default: '$DOCKER_HOST, else the local Docker or Podman socket',
};

export const TOP_OPTIONS: readonly OptionDoc[] = [HELP_OPTION, { name: 'version', short: 'v', help: 'print the version and exit' }];

export const TOP_HELP = renderHelp({
  usage: ['loom [--help | --version]', 'loom COMMAND [OPTIONS]'],
  summary: 'Run untrusted code in pooled, locked-down Docker containers.',
  options: TOP_OPTIONS,
  after: `Commands:
  exec [OPTIONS] [--] COMMAND...   run one program in a sandbox container and stream its output
  session new|run|ls|restart|rm    sessions: an interpreter that keeps state between cells
  files put|get|ls|rm ID ...       a session's files
  containers ls                    list the containers Loom manages (every Loom process)
  containers rm ID...              remove managed containers by id, id prefix or name
  containers prune [--all]         remove containers whose owning process is gone, and parked ones
  images ls                        list the images that cache installed packages
  images prune                     remove package-cache images no container uses
  doctor [--json]                  check the engine, runtime, limits and security defaults really hold
  ui [--port N]                    serve the Loom window to a browser on 127.0.0.1 until Ctrl+C
  host [--idle SECONDS]            serve this user's loom exec runs from a warm engine client, no window
  traces ls|show|export|import     the traces the window shows: received over OTLP, imported, and runs'
  mcp [--http] [--print-config]    serve Loom to AI agents over MCP (stdio, or HTTP on 127.0.0.1)

Run 'loom COMMAND --help' for a command's options.

Exit status: the program's own for exec; 124 exec timed out; 125 Loom could not run it
(invalid request, engine unavailable, image pull or package install failed); 130 interrupted;
2 bad command-line usage; 1 containers rm could not find every container named, or a doctor
check failed.`,
});

export const IMAGES_HELP = renderHelp({
  usage: ['loom images ls [--json] [--host ADDRESS]', 'loom images prune [--host ADDRESS]'],
  summary: 'The images Loom derives to cache installed packages: the first container with a package set\ninstalls it and commits an image; later ones start from it without installing.',
  options: [HELP_OPTION],
  after: `Subcommands:
  ls       list package-cache images: tag, base image, packages, size, age
  prune    remove those no container uses

Run 'loom images SUBCOMMAND --help' for its options.`,
});

export const CONTAINERS_HELP = renderHelp({
  usage: ['loom containers ls [--json] [--host ADDRESS]', 'loom containers rm ID... [--host ADDRESS]', 'loom containers prune [--all] [--host ADDRESS]'],
  summary: 'Inspect and clean up the containers Loom manages (labelled dev.loom.managed=true), whichever Loom\nprocess created them.',
  options: [HELP_OPTION],
  after: `Subcommands:
  ls       list managed containers: id, name, image, runtime, state, age and owning process
  rm       remove managed containers by id, unique id prefix or name
  prune    remove containers whose owning process is gone (--all: every managed container)
           and resource volumes no container uses

Run 'loom containers SUBCOMMAND --help' for its options.`,
});
