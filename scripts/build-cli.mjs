// Bundles the `loom` command into one ES module, so that it starts in a fraction of the time
// tsx needs to compile the TypeScript sources on every run. bin/loom.js uses the bundle when
// it is newer than every source file, and the sources through tsx otherwise.
//
// The bundle sits three folders deep (out/cli/bundle/) like its entry (electron/main/cli/),
// so the paths the code resolves from its own location (../../../package.json, resources/)
// stay right; its chunks sit beside it for the same reason.
//
// Split: each command's module is imported when the command runs (see main.ts), and becomes a
// chunk of its own here, so `loom --help` reads and compiles a few kilobytes, and `loom exec`
// only what exec needs.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

// Chunk names carry a hash: the last build's must not pile up.
rmSync('out/cli/bundle', { recursive: true, force: true });
await build({
  entryPoints: { loom: 'electron/main/cli/main.ts' },
  outdir: 'out/cli/bundle',
  outExtension: { '.js': '.mjs' },
  splitting: true,
  chunkNames: '[name]-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
});
