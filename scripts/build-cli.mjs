// Bundles the `loom` command into one ES module, so that it starts in a fraction of the time
// tsx needs to compile the TypeScript sources on every run. bin/loom.js uses the bundle when
// it is newer than every source file, and the sources through tsx otherwise.
//
// The bundle sits three folders deep (out/cli/bundle/) like its entry (electron/main/cli/),
// so the paths the code resolves from its own location (../../../package.json, resources/)
// stay right.
import { build } from 'esbuild';

await build({
  entryPoints: ['electron/main/cli/main.ts'],
  outfile: 'out/cli/bundle/loom.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
});
