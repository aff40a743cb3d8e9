// `loom images ls|prune`: the images Loom derived to cache installed packages (see
// engine/package-cache.ts).
import { listPackageImages, prunePackageImages } from '../engine/packages/package-cache';
import { UsageError, flag } from './args';
import { age, table, writeJson, type Io } from './format';
import { HELP_OPTION, HOST_OPTION, IMAGES_HELP } from './help';
import { runSubcommand, type Subcommand } from './subcommands';

const SUBCOMMANDS: Record<string, Subcommand> = {
  ls: {
    help: {
      usage: ['loom images ls [--json] [--host ADDRESS]'],
      summary: 'Lists the package-cache images: a base image with a package set installed, used instead of installing again.',
      options: [{ name: 'json', help: 'print a JSON array of objects instead of a table' }, HOST_OPTION, HELP_OPTION],
    },
    async run(docker, values, positionals, io) {
      if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
      const images = (await listPackageImages(docker)).sort((a, b) => b.createdAtMs - a.createdAtMs);
      if (flag(values, 'json')) {
        writeJson(io, images);
        return 0;
      }
      const rows = images.map((i) => [i.tag, i.baseImage, i.packages.join(' '), `${(i.sizeBytes / 1e6).toFixed(0)} MB`, age(i.createdAtMs)]);
      io.stdout.write(table(['IMAGE', 'BASE', 'PACKAGES', 'SIZE', 'CREATED'], rows));
      return 0;
    },
  },
  prune: {
    help: {
      usage: ['loom images prune [--host ADDRESS]'],
      summary: 'Removes package-cache images that no container uses; the next container with that package set installs it again.',
      options: [HOST_OPTION, HELP_OPTION],
    },
    async run(docker, _values, positionals, io) {
      if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
      const removed = await prunePackageImages(docker);
      io.stdout.write(`removed ${removed.length} image${removed.length === 1 ? '' : 's'}\n`);
      for (const tag of removed) io.stdout.write(`  ${tag}\n`);
      return 0;
    },
  },
};

export function imagesCommand(argv: readonly string[], io: Io): Promise<number> {
  return runSubcommand('images', SUBCOMMANDS, IMAGES_HELP, argv, io);
}
